"""Elman RNN over whole sequences, with exact (or truncated) BPTT.

.. math::

    a_t = U x_t + W h_{t-1} + b, \\qquad h_t = \\phi(a_t)

with :math:`\\phi` one of ``"tanh"``, ``"relu"``, ``"linear"``. ``U`` is
(H, D), ``W`` is (H, H), ``b`` is (H,); code computes ``x @ U.T``.

How the sequence functions are organised (the LSTM, GRU and Jordan modules
follow the same plan):

* Public arrays are batch-first, (N, T, ·). Internally the forward pass
  works time-major, (T, N, ·), so that every per-step slice ``A[t]`` is one
  contiguous block.
* The input projection ``U x_t + b`` of *all* steps is one matrix product
  before the time loop; only the recurrent product ``h_{t-1} @ W.T`` stays
  inside it. The backward pass mirrors this: the loop only carries the
  gradient through the recurrence and stores ``dL/da_t`` for every step;
  ``dU``, ``dW``, ``db`` and ``dx`` are each one product after the loop.
* ``cache["trace"]`` holds batch-first, read-only views of every per-step
  value, for plots and widgets.

Masks (variable-length batches)
-------------------------------
``mask`` (N, T) holds 1 at real steps and 0 at padding. At a masked step
the state is carried over unchanged, ``h_t = h_{t-1}``, so ``h[:, -1]`` is
every sequence's final state, and the step contributes no gradient: the
upstream ``dh`` at masked steps is ignored and no parameter receives
anything from them. (The trace still holds the values the cell computed at
masked steps, which were then discarded.)

Truncated BPTT
--------------
``truncate=k`` is Williams & Peng's BPTT(k) with every step a loss step:
the gradient entering at step t (from ``dh[:, t]``) is carried back through
at most k - 1 earlier transitions, so it reaches steps t-k+1 .. t and no
earlier. It reaches the initial state ``h0`` only if it reaches step 0
(t <= k - 1). ``truncate=None`` or ``k >= T`` is the full gradient, computed
by the O(T) recursion; ``k < T`` runs all the gradient streams that are
still alive at once, O(T k) work.
"""

from __future__ import annotations

import numpy as np

from ._validate import (check_choice, check_float_array, check_mask,
                        check_params, check_positive_int, check_sequence,
                        check_shape)

__all__ = ["rnn_forward", "rnn_backward", "rnn_step_forward", "rnn_step_backward"]

RNN_ACTIVATIONS = ("tanh", "relu", "linear")


# --------------------------------------------------------------------------
# shared helpers (also used by lstm.py, gru.py, jordan.py, bidirectional.py)
# --------------------------------------------------------------------------

def _dim(params, key, axis):
    """Read one dimension from params[key] if it is there and well-formed, else None."""
    if isinstance(params, dict):
        v = params.get(key)
        if isinstance(v, np.ndarray) and v.ndim == 2:
            return v.shape[axis]
    return None


def _check_state(name, value, N, H, dtype, doc="(N, H)"):
    """Check an initial state (N, H); None means zeros."""
    if value is None:
        return np.zeros((N, H), dtype=dtype)
    value = check_float_array(name, value, ndim=2, shape_doc=doc, dtype=dtype)
    check_shape(name, value, (N, H), doc)
    return value


def _check_upstream(name, value, shape, doc, dtype):
    """Check an upstream gradient: a float array of ``shape`` and ``dtype``."""
    value = check_float_array(name, value, ndim=len(shape), shape_doc=doc, dtype=dtype)
    check_shape(name, value, shape, doc)
    return value


def _check_truncate(truncate):
    return check_positive_int("truncate", truncate, allow_none=True)


def _time_major(a):
    """(N, T, F) -> contiguous (T, N, F)."""
    return np.ascontiguousarray(a.transpose(1, 0, 2))


def _batch_first(a):
    """(T, N, F) -> contiguous (N, T, F)."""
    return np.ascontiguousarray(a.transpose(1, 0, 2))


def _readonly_view(a):
    """A batch-first, read-only view of a time-major (T, N, F) buffer."""
    v = a.transpose(1, 0, 2)
    v.flags.writeable = False
    return v


def _mask_time_major(mask, N, T, dtype):
    """Validated (N, T) mask -> (T, N, 1) array of ``dtype``, or None."""
    m = check_mask(mask, N, T, dtype)
    if m is None:
        return None
    return np.ascontiguousarray(m.T)[:, :, None]


def _bptt_loop(T, step_back, upstream, state_shapes, locals_out, truncate, dtype):
    """Run a backward pass through time, full or truncated.

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


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------

def _rnn_expected(D, H):
    return {"U": ((H, D), "(H, D)"), "W": ((H, H), "(H, H)"), "b": ((H,), "(H,)")}


def _check_rnn_params(params, D, dtype):
    H = _dim(params, "W", 0)                                      # W is (H, H)
    H = 1 if H is None else H
    check_params(params, _rnn_expected(D, H), dtype)
    return H


# --------------------------------------------------------------------------
# one step
# --------------------------------------------------------------------------

def _act(a, activation, out=None):
    if activation == "tanh":
        return np.tanh(a, out=out)
    if activation == "relu":
        return np.maximum(a, 0, out=out)
    if out is None:
        return a.copy()
    out[...] = a
    return out


def _act_grad(g, a, h, activation):
    """g * phi'(a), using the stored output h where it is cheaper (tanh)."""
    if activation == "tanh":
        return g * (1 - h * h)
    if activation == "relu":
        return g * (a > 0)
    return np.array(g, copy=True)


def rnn_step_forward(x_t, h_prev, params, activation="tanh"):
    """One step of an Elman RNN.

    .. math:: a_t = U x_t + W h_{t-1} + b, \\qquad h_t = \\phi(a_t)

    Parameters
    ----------
    x_t : ndarray (N, D)
    h_prev : ndarray (N, H)
    params : dict with ``U`` (H, D), ``W`` (H, H), ``b`` (H,)
    activation : "tanh", "relu" or "linear"

    Returns
    -------
    h_t : ndarray (N, H)
    cache : dict for :func:`rnn_step_backward`
    """
    check_choice("activation", activation, RNN_ACTIVATIONS)
    x_t = check_float_array("x_t", x_t, ndim=2, shape_doc="(N, D)")
    N, D = x_t.shape
    H = _check_rnn_params(params, D, x_t.dtype)
    h_prev = _check_state("h_prev", h_prev, N, H, x_t.dtype)
    a = x_t @ params["U"].T + h_prev @ params["W"].T + params["b"]   # (N, H)
    h_t = _act(a, activation)
    cache = {"x": x_t, "h_prev": h_prev, "a": a, "h": h_t,
             "params": params, "activation": activation}
    return h_t, cache


def rnn_step_backward(dh_t, cache):
    """Backward pass of :func:`rnn_step_forward`.

    Parameters
    ----------
    dh_t : ndarray (N, H), gradient of the loss with respect to ``h_t``
    cache : dict from :func:`rnn_step_forward`

    Returns
    -------
    dx_t : ndarray (N, D)
    dh_prev : ndarray (N, H)
    grads : dict ``U`` (H, D), ``W`` (H, H), ``b`` (H,)
    """
    x, h_prev, a, h = cache["x"], cache["h_prev"], cache["a"], cache["h"]
    p = cache["params"]
    dh_t = _check_upstream("dh_t", dh_t, h.shape, "(N, H)", h.dtype)
    da = _act_grad(dh_t, a, h, cache["activation"])       # through phi
    dx = da @ p["U"]                                       # into the input
    dh_prev = da @ p["W"]                                  # into the previous state
    grads = {"U": da.T @ x, "W": da.T @ h_prev, "b": da.sum(axis=0)}
    return dx, dh_prev, grads


# --------------------------------------------------------------------------
# whole sequences
# --------------------------------------------------------------------------

def rnn_forward(x, h0, params, activation="tanh", mask=None):
    """Run an Elman RNN over whole sequences.

    .. math:: a_t = U x_t + W h_{t-1} + b, \\qquad h_t = \\phi(a_t),
              \\qquad t = 0, \\dots, T-1

    With a mask, ``h_t = m_t \\phi(a_t) + (1 - m_t) h_{t-1}`` (see the
    module docstring).

    Parameters
    ----------
    x : ndarray (N, T, D), float32 or float64
    h0 : ndarray (N, H) or None (zeros)
    params : dict with ``U`` (H, D), ``W`` (H, H), ``b`` (H,), dtype of ``x``
    activation : "tanh", "relu" or "linear"
    mask : ndarray (N, T) of 0/1, optional

    Returns
    -------
    h : ndarray (N, T, H), hidden state after every step
    cache : dict for :func:`rnn_backward`; ``cache["trace"]`` holds
        ``"a"`` (pre-activations) and ``"h"``, each (N, T, H), read-only.
    """
    check_choice("activation", activation, RNN_ACTIVATIONS)
    x = check_sequence("x", x)
    N, T, D = x.shape
    H = _check_rnn_params(params, D, x.dtype)
    h0 = _check_state("h0", h0, N, H, x.dtype)
    M = _mask_time_major(mask, N, T, x.dtype)                     # (T, N, 1) or None
    U, W, b = params["U"], params["W"], params["b"]

    X = _time_major(x)                                            # (T, N, D)
    A = (X.reshape(T * N, D) @ U.T).reshape(T, N, H)              # input projection, all steps
    A += b
    Hs = np.empty((T + 1, N, H), dtype=x.dtype)                   # Hs[t + 1] = h_t, Hs[0] = h0
    Hs[0] = h0
    for t in range(T):
        A[t] += Hs[t] @ W.T                                        # recurrent product
        _act(A[t], activation, out=Hs[t + 1])
        if M is not None:                                          # carry the state at padding
            Hs[t + 1] = M[t] * Hs[t + 1] + (1 - M[t]) * Hs[t]
    A.flags.writeable = False
    Hs.flags.writeable = False
    cache = {"X": X, "A": A, "Hs": Hs, "M": M, "params": params,
             "activation": activation,
             "trace": {"a": _readonly_view(A), "h": _readonly_view(Hs[1:])}}
    return _batch_first(Hs[1:]), cache


def rnn_backward(dh, cache, truncate=None):
    """Backpropagation through time for :func:`rnn_forward`.

    .. math::

        g_t = \\partial L/\\partial h_t + W^\\top \\delta_{t+1}, \\qquad
        \\delta_t = g_t \\odot \\phi'(a_t),

        \\partial L/\\partial U = \\sum_t \\delta_t x_t^\\top, \\quad
        \\partial L/\\partial W = \\sum_t \\delta_t h_{t-1}^\\top, \\quad
        \\partial L/\\partial b = \\sum_t \\delta_t

    Parameters
    ----------
    dh : ndarray (N, T, H)
        Upstream gradient on every ``h[:, t]`` (ignored at masked steps).
    cache : dict from :func:`rnn_forward`
    truncate : int >= 1 or None
        BPTT(k): the gradient entering at step t reaches steps t-k+1 .. t
        only (module docstring). None is the full gradient.

    Returns
    -------
    dx : ndarray (N, T, D)
    dh0 : ndarray (N, H)
    grads : dict ``U`` (H, D), ``W`` (H, H), ``b`` (H,)
    """
    X, A, Hs, M = cache["X"], cache["A"], cache["Hs"], cache["M"]
    T, N, D = X.shape
    H = A.shape[2]
    dh = _check_upstream("dh", dh, (N, T, H), "(N, T, H)", X.dtype)
    truncate = _check_truncate(truncate)
    W, U = cache["params"]["W"], cache["params"]["U"]
    activation = cache["activation"]

    dH = _time_major(dh)                                          # (T, N, H)
    if M is not None:
        dH *= M                                                   # padding sends nothing

    def step_back(s, gs):
        g, = gs
        if M is None:
            da = _act_grad(g, A[s], Hs[s + 1], activation)        # through phi
            return (da,), (da @ W,)                               # into h_{s-1}
        da = _act_grad(g * M[s], A[s], Hs[s + 1], activation)
        return (da,), (da @ W + g * (1 - M[s]),)                  # plus the carried state

    dA = np.empty(A.shape, dtype=A.dtype)                         # dL/da_t, (T, N, H)
    dh0, = _bptt_loop(T, step_back, (dH,), ((N, H),), (dA,), truncate, X.dtype)

    dA2 = dA.reshape(T * N, H)
    grads = {"U": dA2.T @ X.reshape(T * N, D),                    # (H, D)
             "W": dA2.T @ Hs[:-1].reshape(T * N, H),              # (H, H)
             "b": dA2.sum(axis=0)}                                # (H,)
    dx = _batch_first((dA2 @ U).reshape(T, N, D))                 # (N, T, D)
    return dx, dh0, grads
