"""A continual stream with no resets: segments that each start a new sum.

Gers, Schmidhuber and Cummins (2000) introduced the forget gate because an
LSTM fed one long stream, with no reset of its state between the
sequences in it, lets its cell state grow without bound. Their stream was
the embedded Reber grammar; this module makes a smaller one of the same
kind from the adding problem: a **segmented running sum**.

The stream is a concatenation of segments of random lengths ``L`` in
``[min_len, max_len]``. Each step carries three numbers

* ``x[..., 0]``: a value ``u_t ~ U[0, 1]``;
* ``x[..., 1]``: a marker, 1 at exactly two steps of every segment;
* ``x[..., 2]``: a start flag, 1 at the first step of every segment.

The target at every step is the sum of the marked values seen so far *in
the current segment*,

.. math::  y_t = \\sum_{s = \\text{start}(t)}^{t} m_s u_s,

so at each start flag the network must drop what it added up before.
Lengths and marker positions are the same for the whole batch (one stream
layout, n independent value draws) so that position ``t`` means the same
thing in every row.

Chance level: the best prediction that ignores the values (it may still
count markers and read the flags) is ``E[y_t | k markers so far] = k/2``;
its mean squared error is returned as ``baseline`` (``k/12`` per step,
averaged over the stream).
"""

from __future__ import annotations

import numpy as np

from .._validate import check_positive_int, check_rng

__all__ = ["segmented_sum_stream"]


def segmented_sum_stream(n: int, n_segments: int, rng: np.random.Generator,
                         min_len: int = 6, max_len: int = 10):
    """A continual stream of segments, each with its own running sum of two marked values.

    .. math::  y_t = \\sum_{s = \\text{start}(t)}^{t} m_s u_s

    Parameters
    ----------
    n : int >= 1, number of streams (rows).
    n_segments : int >= 1, segments per stream.
    rng : np.random.Generator.
    min_len, max_len : int, segment lengths are drawn uniformly in
        ``[min_len, max_len]`` (``min_len >= 2``: two markers per segment).

    Returns
    -------
    x : (n, T, 3) float64: values, markers, start flags (T = sum of lengths).
    y : (n, T, 1) float64: the running sum within the current segment.
    starts : (n_segments,) int64, the index of each segment's first step.
    baseline : float, the MSE of the best value-blind prediction (k/2
        after k markers).
    """
    n = check_positive_int("n", n)
    n_segments = check_positive_int("n_segments", n_segments)
    min_len = check_positive_int("min_len", min_len, minimum=2)
    max_len = check_positive_int("max_len", max_len, minimum=min_len)
    rng = check_rng(rng)
    lengths = rng.integers(min_len, max_len + 1, size=n_segments)     # (S,)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    T = int(lengths.sum())
    x = np.zeros((n, T, 3))
    x[..., 0] = rng.random((n, T))                                     # values
    y = np.zeros((n, T, 1))
    marks_so_far = np.zeros(T)                                         # k per step
    for start, L in zip(starts, lengths):
        x[:, start, 2] = 1.0                                           # start flag
        a, b = np.sort(rng.choice(L, size=2, replace=False)) + start   # two markers
        x[:, [a, b], 1] = 1.0
        seg = slice(start, start + L)
        y[:, seg, 0] = np.cumsum(x[:, seg, 0] * x[:, seg, 1], axis=1)
        marks_so_far[seg] = np.cumsum(x[0, seg, 1])
    baseline = float(np.mean(marks_so_far / 12.0))                     # Var(sum of k U[0,1])
    return x, y, starts, baseline
