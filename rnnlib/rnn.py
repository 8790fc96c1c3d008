"""Elman RNN over whole sequences, with exact (or truncated) BPTT.

.. math::

    a_t = U x_t + W h_{t-1} + b, \\qquad h_t = \\phi(a_t)

with :math:`\\phi` one of ``"tanh"``, ``"relu"``, ``"linear"``. ``U`` is
(H, D), ``W`` is (H, H), ``b`` is (H,); code computes ``x @ U.T``.

The sequence function computes the input projection ``U x_t + b`` of
*all* steps as one matrix product before the time loop; only the recurrent
product ``h_{t-1} @ W.T`` stays inside it. The backward pass mirrors this:
the loop (:func:`rnnlib.sequence.bptt_loop`) only carries the gradient
through the recurrence and stores ``dL/da_t`` for every step; ``dU``,
``dW``, ``db`` and ``dx`` are each one product after the loop. The step
function :func:`rnn_step_forward` computes the same ``a_t`` and ``h_t``
(a test holds the two to 1e-12 on every step, with and without masks).

Masks (padding carries the state over) and ``truncate`` (BPTT(k)) are
described in :mod:`rnnlib.sequence`. The activations come from
``rnnlib.activations.ACTIVATIONS``.

Registered as the cell ``"rnn"`` (option ``activation``) in
:mod:`rnnlib.cells`.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_choice, check_width, check_float_array, check_params, check_sequence
from .activations import activation_backward, apply_activation
from .cells import Cell, register_cell
from .init import init_rnn
from .sequence import (batch_first, bptt_loop, check_state, check_truncate, check_upstream,
                       hidden_size, mask_time_major, readonly_view, time_major)

__all__ = ["rnn_forward", "rnn_backward", "rnn_step_forward", "rnn_step_backward",
           "RNN_ACTIVATIONS"]

#: the nonlinearities an Elman RNN may use (keys of rnnlib.activations.ACTIVATIONS)
RNN_ACTIVATIONS = ("tanh", "relu", "linear")


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------

def _rnn_expected(D, H):
    return {"U": ((H, D), "(H, D)"), "W": ((H, H), "(H, H)"), "b": ((H,), "(H,)")}


def _check_rnn_params(params, D, dtype, x_name="x"):
    check_width(x_name, D, params)                                # names both on a mismatch
    H = hidden_size(params, "W", axis=0)                          # W is (H, H)
    check_params(params, _rnn_expected(D, H), dtype)
    return H


# --------------------------------------------------------------------------
# one step
# --------------------------------------------------------------------------

def rnn_step_forward(x_t, h_prev, params, activation="tanh"):
    """One step of an Elman RNN.

    .. math::

        a_t &= U x_t + W h_{t-1} + b, \\\\
        h_t &= \\phi(a_t)

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
    H = _check_rnn_params(params, D, x_t.dtype, x_name="x_t")
    h_prev = check_state("h_prev", h_prev, N, H, x_t.dtype)
    a = x_t @ params["U"].T + h_prev @ params["W"].T + params["b"]   # (N, H)
    h_t = apply_activation(activation, a)
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
    dh_t = check_upstream("dh_t", dh_t, h.shape, "(N, H)", h.dtype)
    da = activation_backward(cache["activation"], dh_t, a, h)       # through phi
    dx = da @ p["U"]                                       # into the input
    dh_prev = da @ p["W"]                                  # into the previous state
    grads = {"U": da.T @ x, "W": da.T @ h_prev, "b": da.sum(axis=0)}
    return dx, dh_prev, grads


# --------------------------------------------------------------------------
# whole sequences
# --------------------------------------------------------------------------

def rnn_forward(x, h0, params, activation="tanh", mask=None):
    """Run an Elman RNN over whole sequences.

    .. math::

        a_t &= U x_t + W h_{t-1} + b, \\\\
        h_t &= \\phi(a_t)

    for ``t = 0, ..., T-1``. With a mask, ``h_t = m_t \\phi(a_t) + (1 - m_t) h_{t-1}`` (see the
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
    h0 = check_state("h0", h0, N, H, x.dtype)
    M = mask_time_major(mask, N, T, x.dtype)                     # (T, N, 1) or None
    U, W, b = params["U"], params["W"], params["b"]

    X = time_major(x)                                            # (T, N, D)
    A = (X.reshape(T * N, D) @ U.T).reshape(T, N, H)              # input projection, all steps
    A += b
    Hs = np.empty((T + 1, N, H), dtype=x.dtype)                   # Hs[t + 1] = h_t, Hs[0] = h0
    Hs[0] = h0
    for t in range(T):
        A[t] += Hs[t] @ W.T                                        # recurrent product
        apply_activation(activation, A[t], out=Hs[t + 1])
        if M is not None:                                          # carry the state at padding
            Hs[t + 1] = M[t] * Hs[t + 1] + (1 - M[t]) * Hs[t]
    A.flags.writeable = False
    Hs.flags.writeable = False
    cache = {"X": X, "A": A, "Hs": Hs, "M": M, "params": params,
             "activation": activation,
             "trace": {"a": readonly_view(A), "h": readonly_view(Hs[1:])}}
    return batch_first(Hs[1:]), cache


def rnn_backward(dh, cache, truncate=None):
    """Backpropagation through time for :func:`rnn_forward`.

    .. math::

        g_t &= \\partial L/\\partial h_t + W^\\top \\delta_{t+1}, \\\\
        \\delta_t &= g_t \\odot \\phi'(a_t), \\\\
        \\partial L/\\partial U &= \\sum_t \\delta_t x_t^\\top, \\\\
        \\partial L/\\partial W &= \\sum_t \\delta_t h_{t-1}^\\top, \\\\
        \\partial L/\\partial b &= \\sum_t \\delta_t

    Parameters
    ----------
    dh : ndarray (N, T, H)
        Upstream gradient on every ``h[:, t]`` (ignored at masked steps).
    cache : dict from :func:`rnn_forward`
    truncate : int >= 1 or None
        BPTT(k): the gradient entering at step t reaches steps t-k+1 .. t
        only (:mod:`rnnlib.sequence`). None is the full gradient.

    Returns
    -------
    dx : ndarray (N, T, D)
    dh0 : ndarray (N, H)
    grads : dict ``U`` (H, D), ``W`` (H, H), ``b`` (H,)
    """
    X, A, Hs, M = cache["X"], cache["A"], cache["Hs"], cache["M"]
    T, N, D = X.shape
    H = A.shape[2]
    dh = check_upstream("dh", dh, (N, T, H), "(N, T, H)", X.dtype)
    truncate = check_truncate(truncate)
    W, U = cache["params"]["W"], cache["params"]["U"]
    activation = cache["activation"]

    dH = time_major(dh)                                          # (T, N, H)
    if M is not None:
        dH *= M                                                   # padding sends nothing

    def step_back(s, gs):
        g, = gs
        if M is None:
            da = activation_backward(activation, g, A[s], Hs[s + 1])        # through phi
            return (da,), (da @ W,)                               # into h_{s-1}
        da = activation_backward(activation, g * M[s], A[s], Hs[s + 1])
        return (da,), (da @ W + g * (1 - M[s]),)                  # plus the carried state

    dA = np.empty(A.shape, dtype=A.dtype)                         # dL/da_t, (T, N, H)
    dh0, = bptt_loop(T, step_back, (dH,), ((N, H),), (dA,), truncate, X.dtype)

    dA2 = dA.reshape(T * N, H)
    grads = {"U": dA2.T @ X.reshape(T * N, D),                    # (H, D)
             "W": dA2.T @ Hs[:-1].reshape(T * N, H),              # (H, H)
             "b": dA2.sum(axis=0)}                                # (H,)
    dx = batch_first((dA2 @ U).reshape(T, N, D))                 # (N, T, D)
    return dx, dh0, grads


# --------------------------------------------------------------------------
# registration
# --------------------------------------------------------------------------

def _step_forward(x_t, state, params, activation="tanh"):
    h, cache = rnn_step_forward(x_t, state[0], params, activation=activation)
    return h, (h,), cache


def _step_backward(dstate, cache):
    dx, dh_prev, grads = rnn_step_backward(dstate[0], cache)
    return dx, (dh_prev,), grads


def _forward(x, state0, params, mask=None, activation="tanh"):
    h, cache = rnn_forward(x, state0[0], params, activation=activation, mask=mask)
    return (h,), cache


def _backward(dstates, cache, truncate=None):
    dx, dh0, grads = rnn_backward(dstates[0], cache, truncate=truncate)
    return dx, (dh0,), grads


def _init(D, H, rng, dtype=np.float64, activation="tanh"):
    return init_rnn(D, H, rng, dtype)


register_cell(Cell(
    name="rnn", summary="Elman RNN, h_t = phi(U x_t + W h_{t-1} + b)", state=("h",), gates=(),
    trace=("a", "h"), options={"activation": RNN_ACTIVATIONS}, init=_init,
    step_forward=_step_forward, step_backward=_step_backward, forward=_forward,
    backward=_backward, module=__name__))
