"""Sequence machinery shared by every recurrent cell.

The cells (:mod:`rnnlib.rnn`, :mod:`rnnlib.lstm`, :mod:`rnnlib.gru`,
:mod:`rnnlib.jordan`) describe one step; this module holds what a whole
sequence adds to a step, the same for every cell:

* **Layouts.** Public arrays are batch-first, (N, T, ·). Inside a sequence
  function the forward pass works time-major, (T, N, ·), so that every
  per-step slice ``A[t]`` is one contiguous block: :func:`time_major`,
  :func:`batch_first`, and :func:`readonly_view` (the batch-first,
  read-only views that ``cache["trace"]`` holds for plots and widgets).
* **Masks** (variable-length batches). ``mask`` (N, T) holds 1 at real
  steps and 0 at padding. At a masked step every state is carried over
  unchanged, ``h_t = h_{t-1}`` (and ``c_t = c_{t-1}``), so ``h[:, -1]`` is
  every sequence's final state, and the step contributes no gradient: the
  upstream gradient at masked steps is ignored and no parameter receives
  anything from them. (The trace still holds the values the cell computed
  at masked steps, which were then discarded.) :func:`mask_time_major`,
  :func:`carry`.
* **BPTT, full or truncated**: :func:`bptt_loop` runs any cell's step
  backward over the sequence. ``truncate=k`` is Williams & Peng's BPTT(k)
  with every step a loss step: the gradient entering at step t is carried
  back through at most k - 1 earlier transitions, so it reaches steps
  t-k+1 .. t and no earlier; it reaches the initial state only if it
  reaches step 0 (t <= k - 1). ``truncate=None`` or ``k >= T`` is the full
  gradient, computed by the O(T) recursion; ``k < T`` runs all the gradient
  streams that are still alive at once, O(T k) work.
* **Checks** of initial states and upstream gradients, with messages that
  name the argument: :func:`check_state`, :func:`check_upstream`,
  :func:`check_truncate`, :func:`hidden_size`.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_float_array, check_mask, check_positive_int, check_shape

__all__ = ["time_major", "batch_first", "readonly_view", "mask_time_major", "carry",
           "check_state", "check_upstream", "check_truncate", "hidden_size", "bptt_loop"]


def hidden_size(params, key: str = "W", axis: int = 1, rows: int = 1) -> int:
    """H read from ``params[key].shape[axis]`` (divided by ``rows``), or 1 if absent.

    Used before the full parameter check, so that a malformed dict still gets
    a message about the key that is wrong rather than a KeyError here.
    """
    if isinstance(params, dict):
        v = params.get(key)
        if isinstance(v, np.ndarray) and v.ndim == 2 and v.shape[axis] % rows == 0:
            return max(v.shape[axis] // rows, 1)
    return 1


def check_state(name: str, value, N: int, H: int, dtype, doc: str = "(N, H)") -> np.ndarray:
    """An initial state (N, H) of ``dtype``; None means zeros."""
    if value is None:
        return np.zeros((N, H), dtype=dtype)
    value = check_float_array(name, value, ndim=2, shape_doc=doc, dtype=dtype)
    check_shape(name, value, (N, H), doc)
    return value


def check_upstream(name: str, value, shape: tuple, doc: str, dtype) -> np.ndarray:
    """An upstream gradient: a float array of ``shape`` and ``dtype``."""
    value = check_float_array(name, value, ndim=len(shape), shape_doc=doc, dtype=dtype)
    check_shape(name, value, shape, doc)
    return value


def check_truncate(truncate) -> int | None:
    """``truncate``: None (full BPTT) or an int k >= 1."""
    return check_positive_int("truncate", truncate, allow_none=True)


def time_major(a: np.ndarray) -> np.ndarray:
    """(N, T, F) -> contiguous (T, N, F)."""
    return np.ascontiguousarray(a.transpose(1, 0, 2))


def batch_first(a: np.ndarray) -> np.ndarray:
    """(T, N, F) -> contiguous (N, T, F)."""
    return np.ascontiguousarray(a.transpose(1, 0, 2))


def readonly_view(a: np.ndarray) -> np.ndarray:
    """A batch-first, read-only view (N, T, F) of a time-major (T, N, F) buffer."""
    v = a.transpose(1, 0, 2)
    v.flags.writeable = False
    return v


def mask_time_major(mask, N: int, T: int, dtype) -> np.ndarray | None:
    """Validated (N, T) mask -> (T, N, 1) array of ``dtype``, or None."""
    m = check_mask(mask, N, T, dtype)
    if m is None:
        return None
    return np.ascontiguousarray(m.T)[:, :, None]


def carry(m_t, new, old):
    """State after a possibly masked step: ``m new + (1 - m) old`` (m (N, 1) or None)."""
    if m_t is None:
        return new
    return m_t * new + (1 - m_t) * old


def bptt_loop(T: int, step_back, upstream: tuple, state_shapes: tuple, locals_out: tuple,
              truncate: int | None, dtype) -> tuple:
    """Run a backward pass through time, full or truncated (module docstring).

    Parameters
    ----------
    T : int
    step_back : callable(s, gs) -> (locs, gprev)
        One step of the backward recursion. ``gs`` is a tuple of gradients
        on the states after step s, each (..., N, S_i) (a leading stream
        axis when truncating); returns the local gradients of step s (a
        tuple, each (..., N, F_j)) and the gradients on the states before
        step s (same shapes as ``gs``). Must be linear in ``gs``.
    upstream : tuple of (T, N, S_i) arrays
        Gradient entering at every step (already zero at masked steps).
    state_shapes : tuple of (N, S_i)
    locals_out : tuple of (T, N, F_j) buffers, filled with the local
        gradients summed over streams.
    truncate : int or None
    dtype : the float dtype of the gradients

    Returns
    -------
    tuple of (N, S_i): gradients on the initial states.
    """
    if truncate is None or truncate >= T:
        # full BPTT: one gradient per state, O(T) products
        gs = tuple(np.zeros(shape, dtype=dtype) for shape in state_shapes)
        for s in range(T - 1, -1, -1):
            gs = tuple(g + u[s] for g, u in zip(gs, upstream))
            locs, gs = step_back(s, gs)
            for out, loc in zip(locals_out, locs):
                out[s] = loc
        return gs
    k = truncate
    # streams[i][j] is the gradient that entered at step s + j (j < k)
    streams = tuple(np.zeros((0,) + shape, dtype=dtype) for shape in state_shapes)
    for s in range(T - 1, -1, -1):
        # a new stream enters at step s; the stream from step s + k - 1 dies
        streams = tuple(np.concatenate([u[s][None], g[:k - 1]], axis=0)
                        for g, u in zip(streams, upstream))
        locs, streams = step_back(s, streams)
        for out, loc in zip(locals_out, locs):
            out[s] = loc.sum(axis=0)
    return tuple(g.sum(axis=0) for g in streams)
