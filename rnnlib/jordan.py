"""Jordan network: the recurrence goes from the previous *output* to the hidden layer.

.. math::

    a_t &= U x_t + W \\hat y_{t-1} + b, \\\\
    h_t &= \\phi(a_t), \\\\
    \\hat y_t &= V h_t + c

``U`` (H, D), ``W`` (H, K), ``b`` (H,), ``V`` (K, H), ``c`` (K,); the output
is linear (identity). As everywhere in the book, :math:`\\hat y_t` is the
network's output and :math:`y_t` the target; the code calls the outputs ``y``
(``y0`` (N, K) is the output "before" step 0).

Compared with an Elman network (``W h_{t-1}``), the only memory is the
K-dimensional output, which training pushes towards the targets, so the
network can only remember what it is asked to output: weaker, but with one
big practical advantage.

Teacher forcing makes the steps independent
-------------------------------------------
With ``y_teacher`` (N, T, K) given, step t is fed the *true* previous
output, the target :math:`y_{t-1}` = ``y_teacher[:, t-1]`` (``y0`` at
t = 0), instead of the model's own :math:`\\hat y_{t-1}`. Then nothing in
step t depends on step t-1 and all steps are
computed at once::

    Yin = concat([y0[:, None], y_teacher[:, :-1]], axis=1)   # (N, T, K), fed inputs
    A = x @ U.T + Yin @ W.T + b                              # (N, T, H), all steps
    h = phi(A);  y = h @ V.T + c                             # no time loop

which is exactly what :func:`jordan_forward` does in that case (and the
backward pass then has no gradient through time: the fed outputs are data).
Free-running (``y_teacher=None``), step t needs its own output of step
t - 1 and the loop is sequential, as in any RNN.

The Jordan network is not a registered cell (:mod:`rnnlib.cells`): its
recurrence runs through its own output layer, so a readout cannot be put
on it as on the other cells.

Masks carry both ``y`` and ``h`` over at padded steps (``h`` before the
first step counts as zeros) and ``truncate`` is BPTT(k) as in
:mod:`rnnlib.sequence`, with the output ``y`` as the recurrent state.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_choice, check_params, check_width, check_sequence, check_shape
from .activations import activation_backward, apply_activation
from .rnn import RNN_ACTIVATIONS
from .sequence import (batch_first, bptt_loop, check_state, check_truncate, check_upstream,
                       hidden_size, mask_time_major, readonly_view, time_major)

__all__ = ["jordan_forward", "jordan_backward"]


def _jordan_expected(D, H, K):
    return {"U": ((H, D), "(H, D)"), "W": ((H, K), "(H, K)"), "b": ((H,), "(H,)"),
            "V": ((K, H), "(K, H)"), "c": ((K,), "(K,)")}


def jordan_forward(x, y0, params, activation="tanh", mask=None, y_teacher=None):
    """Run a Jordan network over whole sequences (equations in the module docstring).

    Parameters
    ----------
    x : ndarray (N, T, D)
    y0 : ndarray (N, K) or None (zeros), the output fed to step 0
    params : dict ``U`` (H, D), ``W`` (H, K), ``b`` (H,), ``V`` (K, H), ``c`` (K,)
    activation : "tanh", "relu" or "linear"
    mask : ndarray (N, T) of 0/1, optional
    y_teacher : ndarray (N, T, K), optional. Teacher forcing: step t is fed
        ``y_teacher[:, t-1]`` (``y0`` at step 0) instead of the model's own
        previous output, and all steps are computed in parallel.

    Returns
    -------
    h : ndarray (N, T, H), hidden states
    y : ndarray (N, T, K), outputs
    cache : dict for :func:`jordan_backward`; ``cache["trace"]`` holds
        ``"a"``, ``"h"`` (N, T, H), ``"y"`` and ``"y_in"`` (the output fed
        to each step) (N, T, K).
    """
    check_choice("activation", activation, RNN_ACTIVATIONS)
    x = check_sequence("x", x)
    N, T, D = x.shape
    H = hidden_size(params, "U", axis=0)
    K = hidden_size(params, "V", axis=0)
    check_width("x", D, params)                                  # names both on a mismatch
    check_params(params, _jordan_expected(D, H, K), x.dtype)
    y0 = check_state("y0", y0, N, K, x.dtype, doc="(N, K)")
    if y_teacher is not None:
        y_teacher = check_sequence("y_teacher", y_teacher, last_doc="K")
        check_shape("y_teacher", y_teacher, (N, T, K), "(N, T, K)")
        if y_teacher.dtype != x.dtype:
            raise TypeError(f"y_teacher: expected dtype {x.dtype} (the dtype of x), "
                            f"got dtype {y_teacher.dtype}")
    M = mask_time_major(mask, N, T, x.dtype)
    U, W, b, V, c = (params[k] for k in ("U", "W", "b", "V", "c"))

    X = time_major(x)                                             # (T, N, D)
    A = (X.reshape(T * N, D) @ U.T).reshape(T, N, H)               # input projection, all steps
    A += b
    Hs = np.zeros((T + 1, N, H), dtype=x.dtype)                    # Hs[t + 1] = h_t, Hs[0] = 0
    Ys = np.empty((T + 1, N, K), dtype=x.dtype)                    # Ys[t + 1] = y_t, Ys[0] = y0
    Ys[0] = y0
    if y_teacher is not None:
        # teacher forcing: every fed output is known, so all steps at once
        Yin = np.concatenate([y0[None], time_major(y_teacher)[:-1]], axis=0)   # (T, N, K)
        A += (Yin.reshape(T * N, K) @ W.T).reshape(T, N, H)
        apply_activation(activation, A, out=Hs[1:])
        Ys[1:] = (Hs[1:].reshape(T * N, H) @ V.T).reshape(T, N, K) + c
        if M is not None:                                          # carry at padding (cheap)
            for t in range(T):
                Hs[t + 1] = M[t] * Hs[t + 1] + (1 - M[t]) * Hs[t]
                Ys[t + 1] = M[t] * Ys[t + 1] + (1 - M[t]) * Ys[t]
    else:
        Yin = np.empty((T, N, K), dtype=x.dtype)
        for t in range(T):
            Yin[t] = Ys[t]                                         # the model's own output
            A[t] += Ys[t] @ W.T                                    # output-to-hidden product
            apply_activation(activation, A[t], out=Hs[t + 1])
            Ys[t + 1] = Hs[t + 1] @ V.T + c
            if M is not None:
                Hs[t + 1] = M[t] * Hs[t + 1] + (1 - M[t]) * Hs[t]
                Ys[t + 1] = M[t] * Ys[t + 1] + (1 - M[t]) * Ys[t]
    for a in (A, Hs, Ys, Yin):
        a.flags.writeable = False
    trace = {"a": readonly_view(A), "h": readonly_view(Hs[1:]),
             "y": readonly_view(Ys[1:]), "y_in": readonly_view(Yin)}
    cache = {"X": X, "A": A, "Hs": Hs, "Ys": Ys, "Yin": Yin, "M": M,
             "params": params, "activation": activation,
             "teacher": y_teacher is not None, "trace": trace}
    return batch_first(Hs[1:]), batch_first(Ys[1:]), cache


def jordan_backward(dy, cache, dh=None, truncate=None):
    """Backpropagation through time for :func:`jordan_forward`.

    Per step, with ``ȳ_t`` the total gradient on y_t:
    ``h̄_t = ∂L/∂h_t + V^T ȳ_t``, ``δ_t = h̄_t ⊙ φ'(a_t)``, and the gradient
    on the previous output is ``ȳ_{t-1} = ∂L/∂y_{t-1} + W^T δ_t``
    (free-running only; under teacher forcing the fed outputs are data and
    only step 0 sends a gradient, into ``y0``).

    Parameters
    ----------
    dy : ndarray (N, T, K), upstream gradient on every output ``y[:, t]``
    cache : dict from :func:`jordan_forward`
    dh : ndarray (N, T, H) or None, upstream gradient on every ``h[:, t]``
    truncate : int >= 1 or None, BPTT(k) (see :mod:`rnnlib.sequence`)

    Returns
    -------
    dx : ndarray (N, T, D)
    dy0 : ndarray (N, K)
    grads : dict ``U``, ``W``, ``b``, ``V``, ``c`` (shapes of params)
    """
    X, A, Hs, Ys, Yin, M = (cache[k] for k in ("X", "A", "Hs", "Ys", "Yin", "M"))
    T, N, D = X.shape
    H, K = Hs.shape[2], Ys.shape[2]
    dy = check_upstream("dy", dy, (N, T, K), "(N, T, K)", X.dtype)
    dh = np.zeros((N, T, H), dtype=X.dtype) if dh is None else \
        check_upstream("dh", dh, (N, T, H), "(N, T, H)", X.dtype)
    truncate = check_truncate(truncate)
    p, activation, teacher = cache["params"], cache["activation"], cache["teacher"]
    W, V = p["W"], p["V"]

    dY, dH = time_major(dy), time_major(dh)
    if M is not None:
        dY *= M                                                    # padding sends nothing
        dH *= M

    def step_back(s, gs):
        gy, gh = gs                                                # on y_s and h_s
        m = 1 if M is None else M[s]
        gyv = gy * m                                               # on this step's new output
        ghv = gh * m + gyv @ V                                     # into h through y = V h + c
        da = activation_backward(activation, ghv, A[s], Hs[s + 1])           # through phi
        gy_prev = gy * (1 - m)                                     # carried output
        if not teacher or s == 0:
            gy_prev = gy_prev + da @ W                             # into the fed output
        return (da, gyv), (gy_prev, gh * (1 - m))

    dA = np.empty((T, N, H), dtype=X.dtype)
    dYv = np.empty((T, N, K), dtype=X.dtype)
    dy0, _ = bptt_loop(T, step_back, (dY, dH), ((N, K), (N, H)), (dA, dYv),
                        truncate, X.dtype)

    dA2, dYv2 = dA.reshape(T * N, H), dYv.reshape(T * N, K)
    grads = {"U": dA2.T @ X.reshape(T * N, D),                     # (H, D)
             "W": dA2.T @ Yin.reshape(T * N, K),                   # (H, K)
             "b": dA2.sum(axis=0),                                 # (H,)
             "V": dYv2.T @ Hs[1:].reshape(T * N, H),               # (K, H)
             "c": dYv2.sum(axis=0)}                                # (K,)
    dx = batch_first((dA2 @ p["U"]).reshape(T, N, D))
    return dx, dy0, grads
