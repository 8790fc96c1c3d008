"""Padding, masking and bucketing, measured (chapter 8, section 1).

Sequences of different lengths share a batch by padding them to one length
``T``; a mask (N, T) marks the real steps. The library's model
(:func:`rnnlib.model.model_loss`) uses the mask twice:

* in the recurrence, ``h_t = m_t cell(x_t, h_{t-1}) + (1 - m_t) h_{t-1}``
  (:func:`rnnlib.sequence.carry`): a padded step holds the state;
* in the loss, the mean over the valid steps V only,

.. math::

    L = -\\frac{1}{|V|} \\sum_{(n,t) \\in V} \\log \\hat y_{n,t}[y_{n,t}].

This module writes out the *wrong* versions as counter-examples
(:func:`loss_with_padding`), and holds the chapter's task helpers: padding a
chosen batch, batches in random or length-sorted order, an epoch's time,
the model's running answer along a sequence. Numerics only.
"""

from __future__ import annotations

import time

import numpy as np

from rnnlib._validate import check_choice, check_positive_int, check_rng, describe
from rnnlib.activations import log_softmax
from rnnlib.data.batching import bucket_batches, minibatches, pad_sequences
from rnnlib.model import model_backward, model_forward, output_loss

__all__ = ["loss_with_padding", "pad_batch", "batches", "batch_stream", "epoch_time",
           "running_answer", "accuracy", "accuracy_by_length", "same_grads"]


def loss_with_padding(params: dict, inputs: np.ndarray, targets: np.ndarray, spec,
                      mask: np.ndarray, *, in_recurrence: bool = True,
                      average: str = "valid") -> tuple[float, dict]:
    """Per-step cross-entropy of a padded batch, right or wrong, and its gradient.

    .. math::

        L &= -\\sum_{n,t} w_{n,t} \\log \\hat y_{n,t}[y_{n,t}], \\\\
        w_{n,t} &= m_{n,t} / |V| \\quad (\\text{valid}), \\\\
        w_{n,t} &= 1 / (N T) \\quad (\\text{all})

    for ``average="valid"`` and ``average="all"``.

    ``average="valid"`` with ``in_recurrence=True`` is the right loss and
    equals :func:`rnnlib.model.model_loss` with the mask. ``average="all"``
    is the bug of many tutorials: every one of the N T positions counts,
    padded ones included (their targets are whatever the padding holds),
    so the loss depends on how much padding the batch has.
    ``in_recurrence=False`` runs the recurrence without the mask, through
    the padding tokens. (With the mask in the recurrence and
    ``average="all"``, a padded step's output copies the output of the
    last real step before it, and its gradient is sent there.)

    Parameters
    ----------
    params : nested dict from :func:`rnnlib.model.init_model`.
    inputs : (N, T) int token ids or (N, T, D) floats.
    targets : (N, T) int classes in [0, K) (padded steps hold the padding value).
    spec : ModelSpec with ``output="every"`` and ``loss="xent"``.
    mask : (N, T) of 0/1, 1 at real steps.
    in_recurrence : bool, carry the state at padded steps.
    average : "valid" or "all".

    Returns
    -------
    loss : float.
    grads : nested dict like ``params``.
    """
    check_choice("average", average, ("valid", "all"))
    if spec.output != "every" or spec.loss != "xent":
        raise ValueError(f"spec: expected output='every' and loss='xent', got "
                         f"output={spec.output!r}, loss={spec.loss!r}")
    if not isinstance(mask, np.ndarray) or mask.ndim != 2:
        raise ValueError(f"mask: expected an (N, T) array of 0/1, got {describe(mask)}")
    outputs, cache = model_forward(params, inputs, spec,
                                   mask=mask if in_recurrence else None)   # (N, T, K)
    N, T, K = outputs.shape
    if not isinstance(targets, np.ndarray) or targets.shape != (N, T) \
            or targets.dtype.kind not in "iu":
        raise ValueError(f"targets: expected integer classes of shape (N, T) = {(N, T)}, "
                         f"got {describe(targets)}")
    if targets.min() < 0 or targets.max() >= K:
        raise ValueError(f"targets: expected classes in [0, {K - 1}], got "
                         f"{int(targets.min() if targets.min() < 0 else targets.max())}")
    m = mask.astype(outputs.dtype)
    if average == "valid":
        w = m / m.sum()                                          # (N, T), sums to 1
    else:
        w = np.full((N, T), 1.0 / (N * T), dtype=outputs.dtype)   # padding counts too
    logp = log_softmax(outputs, axis=-1)                         # (N, T, K)
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]   # (N, T)
    loss = -float(np.sum(w * picked))
    # dL/do = w (softmax - onehot)
    doutputs = np.exp(logp)
    np.put_along_axis(doutputs, targets[..., None],
                      np.take_along_axis(doutputs, targets[..., None], axis=-1) - 1, axis=-1)
    doutputs *= w[..., None]
    if in_recurrence and average == "all":
        doutputs = _to_held_steps(doutputs, mask != 0)
    return loss, model_backward(doutputs, cache)


def _to_held_steps(doutputs, valid):
    """Move the gradient of each padded step to the real step whose state it holds.

    With the mask in the recurrence a padded step's state is a copy of the
    state after the last real step before it, so its output is a copy of
    that step's output. The library's backward ignores gradients at masked
    steps (a correct loss puts none there), so the share of a loss that
    does score padded positions is added to the step it copies. Steps
    before any real step hold the constant initial state: their gradient
    reaches only the output bias, which the output layer already gives it.

    doutputs : (N, T, K); valid : (N, T) bool. Returns a new (N, T, K) array.
    """
    out = doutputs.copy()
    N, T = valid.shape
    for n in range(N):
        src = -1                                              # last real step so far
        for t in range(T):
            if valid[n, t]:
                src = t
            elif src >= 0:
                out[n, src] += doutputs[n, t]                 # into the step it copies
                out[n, t] = 0.0
    return out


def pad_batch(seqs, idx=None, targets=None, maxlen: int | None = None, value: int = 0,
              padding: str = "post"):
    """Pad the sequences ``seqs[i]`` for ``i`` in ``idx`` to one length.

    Parameters
    ----------
    seqs : list of (L_n,) int arrays.
    idx : (B,) int indices, or None for all.
    targets : None, (N,) labels (one per sequence) or a list of (L_n,)
        per-step labels (padded with ``value`` too).
    maxlen : the padded length T, or None for the longest chosen sequence.
    value : the padding id.
    padding : "post" (after the data) or "pre" (before it).

    Returns
    -------
    x : (B, T) int64; y : (B,) or (B, T) int64 (only with ``targets``);
    mask : (B, T) float64.
    """
    if idx is None:
        idx = np.arange(len(seqs))
    chosen = [seqs[i] for i in idx]
    T = maxlen if maxlen is not None else max(len(s) for s in chosen)
    x, mask = pad_sequences(chosen, maxlen=T, value=value, padding=padding)
    if targets is None:
        return x, mask
    if isinstance(targets, np.ndarray):
        return x, targets[np.asarray(idx)], mask
    y, _ = pad_sequences([targets[i] for i in idx], maxlen=T, value=value,
                         padding=padding)
    return x, y, mask


def batches(lengths, batch_size: int, rng: np.random.Generator, bucket: bool):
    """One epoch of index batches: random (``bucket=False``) or length-sorted.

    Returns a list of (B,) int64 index arrays
    (:func:`rnnlib.data.batching.minibatches` or
    :func:`rnnlib.data.batching.bucket_batches`).
    """
    if bucket:
        return bucket_batches(lengths, batch_size, rng)
    return list(minibatches(len(lengths), batch_size, rng))


def batch_stream(seqs, y, batch_size: int, rng: np.random.Generator, bucket: bool = True):
    """Endless (x (B, T), y (B,), mask (B, T)) batches, a new epoch after each.

    Every batch is padded to its own longest sequence. ``rl.train`` takes
    the stream as its ``data``.
    """
    lengths = np.array([len(s) for s in seqs])
    rng = check_rng(rng)
    while True:
        for idx in batches(lengths, batch_size, rng, bucket):
            yield pad_batch(seqs, idx, y)


def epoch_time(params: dict, spec, padded_batches, repeats: int = 3) -> float:
    """Shortest time (s) of ``repeats`` passes of forward + backward over the batches.

    Parameters
    ----------
    params : nested dict; spec : ModelSpec.
    padded_batches : list of (x, y, mask) batches.
    repeats : int >= 1.

    Returns
    -------
    seconds : float, the best of the runs (the least disturbed by other work).
    """
    repeats = check_positive_int("repeats", repeats)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for x, y, m in padded_batches:
            outputs, cache = model_forward(params, x, spec, mask=m)
            _, doutputs = output_loss(outputs, y, spec, m)
            model_backward(doutputs, cache)
        best = min(best, time.perf_counter() - start)
    return float(best)


def running_answer(params: dict, inputs: np.ndarray, spec, mask=None) -> np.ndarray:
    """The two-class model's answer after every step: a logit difference (N, T).

    .. math::  a_t = (V_1 - V_0)\\, h_t + (c_1 - c_0)

    which is the logit difference of ``output="last"`` at each step: at the
    last valid step it is the answer itself; with the mask, padded steps
    repeat it.

    Parameters
    ----------
    params : nested dict of a unidirectional two-class model.
    inputs : (N, T) ids or (N, T, D) floats.
    spec : ModelSpec with ``K=2``.
    mask : (N, T) of 0/1 or None (then the padding is read like data).

    Returns
    -------
    a : (N, T) float array.
    """
    if spec.K != 2 or spec.bidirectional or spec.norm is not None:
        raise ValueError("spec: expected a unidirectional two-class model without norm "
                         f"(K=2), got K={spec.K}, bidirectional={spec.bidirectional}")
    _, cache = model_forward(params, inputs, spec, mask=mask)
    h = cache["h"]                                               # (N, T, H)
    V, c = params["out"]["V"], params["out"]["c"]
    return h @ (V[1] - V[0]) + (c[1] - c[0])                     # (N, T)


def accuracy(params: dict, spec, seqs, y, batch_size: int = 256) -> float:
    """Share of sequences whose masked many-to-one prediction is ``y``."""
    right = 0
    for start in range(0, len(seqs), batch_size):
        idx = np.arange(start, min(start + batch_size, len(seqs)))
        x, yb, m = pad_batch(seqs, idx, y)
        logits, _ = model_forward(params, x, spec, mask=m)       # (B, K)
        right += int(np.sum(logits.argmax(axis=1) == yb))
    return right / len(seqs)


def accuracy_by_length(params: dict, spec, seqs, y, edges) -> np.ndarray:
    """Accuracy of the sequences with ``edges[i] <= L < edges[i+1]``: (len(edges) - 1,)."""
    lengths = np.array([len(s) for s in seqs])
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        idx = np.flatnonzero((lengths >= lo) & (lengths < hi))
        out.append(accuracy(params, spec, [seqs[i] for i in idx], y[idx]))
    return np.array(out)


def same_grads(a: dict, b: dict) -> float:
    """Largest relative difference between two nested gradient dicts (one number)."""
    worst = 0.0
    for key, value in a.items():
        if isinstance(value, dict):
            worst = max(worst, same_grads(value, b[key]))
        else:
            scale = max(np.max(np.abs(value)), np.max(np.abs(b[key])), 1e-300)
            worst = max(worst, float(np.max(np.abs(value - b[key])) / scale))
    return worst
