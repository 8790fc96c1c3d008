"""Gated recurrent unit (GRU) over whole sequences, with exact or truncated BPTT.

.. math::

    r_t &= \\sigma(U_r x_t + W_r h_{t-1} + b_r), \\\\
    z_t &= \\sigma(U_z x_t + W_z h_{t-1} + b_z), \\\\
    n_t &= \\tanh\\big(U_n x_t + b_n \\\\
        &\\qquad {} + r_t \\odot (W_n h_{t-1} + b_{hn})\\big), \\\\
    h_t &= (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}

with the reset gate ``r_t``, update gate ``z_t`` and candidate ``n_t`` of
``reset="after"``; with ``reset="before"`` the candidate is

.. math::

    n_t = \\tanh(U_n x_t + b_n + W_n (r_t \\odot h_{t-1})).

Gate blocks are stacked in PyTorch's order (r, z, n): ``U`` (3H, D),
``W`` (3H, H), ``b`` (3H,). ``b`` holds the summed input and hidden biases
of r and z (PyTorch's ``b_ir + b_hr``, ``b_iz + b_hz``) and the input bias
of n (``b_in``); with reset="after" the hidden bias of n, ``b_hn``, cannot
be merged (it sits inside the product with r) and is kept as ``bhn`` (H,).

The update rule ``h_t = (1 - z_t) n_t + z_t h_{t-1}`` is PyTorch's and
Cho et al.'s (2014): z_t is the fraction of the old state that is *kept*.
So with z_t = 0 and r_t = 1 the GRU is the plain tanh RNN
``h_t = tanh(U_n x_t + W_n h_{t-1} + b_n + b_hn)``. (Some texts write the
update the other way round, ``z n + (1 - z) h``; then the plain RNN is at
z = 1.)

Which reset convention the book uses: ``reset="after"`` (the default), the
one of PyTorch and Keras ``reset_after=True``, because (1) rnnlib must agree
with PyTorch to 1e-10, weight for weight, and (2) the reset gate then
multiplies the *result* of the recurrent product, so the recurrent products
of all three blocks are one matrix product ``h_{t-1} @ W.T`` per step; with
``reset="before"`` (Cho et al. 2014) the candidate's product has to wait
for r_t, which costs a second, dependent product per step. The two are
different functions of the same weights, not two ways of computing one.

Forcing gates: ``force={"z": 0.0, "r": 1.0}`` (constants, or (N, T, H)
arrays for a sequence, (N, H) for one step) replaces a gate's value after
it would have been computed, and the backward pass treats it as a constant.
With z = 0 and r = 1 forced the GRU is the tanh RNN above, exactly.

The sequence function calls the same step core as :func:`gru_step_forward`
(with the input projection of all steps computed before the loop); a test
holds the two equal on every gate to 1e-12. Masks and ``truncate`` work as
in :mod:`rnnlib.sequence`. Registered as the cell ``"gru"`` (option
``reset``) in :mod:`rnnlib.cells`.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_choice, check_width, check_float_array, check_params, check_sequence
from .activations import apply_activation
from .cells import Cell, check_force, register_cell
from .init import init_gru
from .sequence import (batch_first, bptt_loop, check_state, check_truncate, check_upstream,
                       hidden_size, mask_time_major, readonly_view, time_major)

__all__ = ["gru_forward", "gru_backward", "gru_step_forward", "gru_step_backward",
           "RESETS", "GRU_GATES"]

#: the two conventions for where the reset gate acts
RESETS = ("after", "before")

#: the gates that ``force=`` may set
GRU_GATES = ("r", "z")


def _sigmoid_(z):
    return apply_activation("sigmoid", z, out=z)


def _gru_expected(D, H, reset):
    e = {"U": ((3 * H, D), "(3H, D)"), "W": ((3 * H, H), "(3H, H)"),
         "b": ((3 * H,), "(3H,)")}
    if reset == "after":
        e["bhn"] = ((H,), "(H,)")
    return e


def _check_gru_params(params, D, dtype, reset, x_name="x"):
    check_width(x_name, D, params)                                # names both on a mismatch
    check_choice("reset", reset, RESETS)
    H = hidden_size(params, "W", axis=1)
    if isinstance(params, dict) and reset == "before" and "bhn" in params:
        raise ValueError("params: got a 'bhn' entry with reset='before'; 'bhn' belongs "
                         "to the reset='after' (PyTorch) convention, expected keys "
                         "['U', 'W', 'b']")
    if isinstance(params, dict) and reset == "after" and "bhn" not in params \
            and {"U", "W", "b"} <= set(params):
        raise ValueError("params: expected keys ['U', 'W', 'b', 'bhn'] for reset='after' "
                         "(PyTorch convention), got ['U', 'W', 'b'] (missing ['bhn']); "
                         "pass reset='before' for Cho et al.'s GRU")
    check_params(params, _gru_expected(D, H, reset), dtype)
    return H


def _force_gates(gates, force, H):
    """Overwrite the forced gates r, z in ``gates`` (N, 3H)."""
    for j, key in enumerate(GRU_GATES):
        if key in force:
            gates[:, j * H:(j + 1) * H] = force[key]


def _step_forward(zx, h_prev, W, bhn, H, reset, gates, force=None):
    """One GRU step given the input projection zx (N, 3H).

    Writes [r, z, n] into ``gates`` (N, 3H) and returns (h_t, extra) where
    extra is W_n h + b_hn (reset="after") or r * h_prev (reset="before").
    ``force`` ({"r" or "z": constant or (N, H)}) replaces gates by value.
    """
    if reset == "after":
        zh = h_prev @ W.T                                     # all three recurrent products
        gates[:, :2 * H] = zx[:, :2 * H] + zh[:, :2 * H]
        _sigmoid_(gates[:, :2 * H])                           # r, z
        if force:
            _force_gates(gates, force, H)
        extra = zh[:, 2 * H:] + bhn                           # W_n h + b_hn
        r = gates[:, :H]
        np.tanh(zx[:, 2 * H:] + r * extra, out=gates[:, 2 * H:])
    else:
        gates[:, :2 * H] = zx[:, :2 * H] + h_prev @ W[:2 * H].T
        _sigmoid_(gates[:, :2 * H])                           # r, z
        if force:
            _force_gates(gates, force, H)
        extra = gates[:, :H] * h_prev                         # r * h
        np.tanh(zx[:, 2 * H:] + extra @ W[2 * H:].T, out=gates[:, 2 * H:])
    z, n = gates[:, H:2 * H], gates[:, 2 * H:]
    return n + z * (h_prev - n), extra                        # (1 - z) n + z h


def _step_backward(gh, gates, h_prev, extra, W, H, reset, forced=()):
    """Gradients on the input projection (..., N, 3H) and on h_{t-1}.

    A forced gate (in ``forced``) is a constant: its block gets zero.
    """
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    dn = gh * (1 - z)                                         # through (1 - z) n
    dz = gh * (h_prev - n)                                    # through z (h - n)
    dan = dn * (1 - n * n)                                    # through tanh
    daz = dz * z * (1 - z) if "z" not in forced else np.zeros_like(dz)   # through sigma
    if reset == "after":
        dar = dan * extra * r * (1 - r)                       # through r (W_n h + b_hn), sigma
        if "r" in forced:
            dar = np.zeros_like(dar)
        dzh = np.concatenate([dar, daz, dan * r], axis=-1)    # grads on h @ W.T
        dh_prev = gh * z + dzh @ W                            # direct path + recurrence
    else:
        drh = dan @ W[2 * H:]                                 # into r * h
        dar = drh * h_prev * r * (1 - r) if "r" not in forced else np.zeros_like(drh)
        dh_prev = gh * z + drh * r + np.concatenate([dar, daz], axis=-1) @ W[:2 * H]
    return np.concatenate([dar, daz, dan], axis=-1), dh_prev


def _param_grads(dZX, X2, Hprev2, R, extra2, reset, H):
    """dU, dW, db (, dbhn) from the gradients on the input projections."""
    grads = {"U": dZX.T @ X2, "b": dZX.sum(axis=0)}
    if reset == "after":
        dZH = dZX.copy()
        dZH[:, 2 * H:] *= R                                   # n block of h @ W.T is r-gated
        grads["W"] = dZH.T @ Hprev2
        grads["bhn"] = dZH[:, 2 * H:].sum(axis=0)
    else:
        grads["W"] = np.concatenate([dZX[:, :2 * H].T @ Hprev2,
                                     dZX[:, 2 * H:].T @ extra2], axis=0)
    return grads


def gru_step_forward(x_t, h_prev, params, reset="after", force=None):
    """One GRU step (equations in the module docstring).

    Parameters
    ----------
    x_t : ndarray (N, D)
    h_prev : ndarray (N, H)
    params : dict ``U`` (3H, D), ``W`` (3H, H), ``b`` (3H,) [, ``bhn`` (H,)]
    reset : "after" (PyTorch, default) or "before" (Cho et al. 2014)
    force : dict {"r" or "z": constant in [0, 1] or (N, H) array}, optional

    Returns
    -------
    h_t : ndarray (N, H)
    cache : dict for :func:`gru_step_backward`; ``cache["gates"]`` is
        (N, 3H) = [r, z, n]
    """
    x_t = check_float_array("x_t", x_t, ndim=2, shape_doc="(N, D)")
    N, D = x_t.shape
    H = _check_gru_params(params, D, x_t.dtype, reset, x_name="x_t")
    h_prev = check_state("h_prev", h_prev, N, H, x_t.dtype)
    force = check_force(force, (N, H), "(N, H)", x_t.dtype, allowed=GRU_GATES)
    zx = x_t @ params["U"].T + params["b"]
    gates = np.empty((N, 3 * H), dtype=x_t.dtype)
    h_t, extra = _step_forward(zx, h_prev, params["W"], params.get("bhn"), H, reset, gates,
                               force)
    cache = {"x": x_t, "h_prev": h_prev, "gates": gates, "extra": extra,
             "h": h_t, "params": params, "reset": reset, "forced": tuple(force)}
    return h_t, cache


def gru_step_backward(dh_t, cache):
    """Backward pass of :func:`gru_step_forward`.

    Returns
    -------
    dx_t : ndarray (N, D)
    dh_prev : ndarray (N, H)
    grads : dict with the keys of ``params``
    """
    h = cache["h"]
    N, H = h.shape
    p, reset = cache["params"], cache["reset"]
    dh_t = check_upstream("dh_t", dh_t, (N, H), "(N, H)", h.dtype)
    dzx, dh_prev = _step_backward(dh_t, cache["gates"], cache["h_prev"],
                                  cache["extra"], p["W"], H, reset, cache["forced"])
    grads = _param_grads(dzx, cache["x"], cache["h_prev"], cache["gates"][:, :H],
                         cache["extra"], reset, H)
    return dzx @ p["U"], dh_prev, grads


def gru_forward(x, h0, params, mask=None, reset="after", *, force=None):
    """Run a GRU over whole sequences (equations in the module docstring).

    Parameters
    ----------
    x : ndarray (N, T, D), float32 or float64
    h0 : ndarray (N, H) or None (zeros)
    params : dict ``U`` (3H, D), ``W`` (3H, H), ``b`` (3H,), and ``bhn`` (H,)
        for reset="after" (what :func:`rnnlib.interop.params_from_torch` returns)
    mask : ndarray (N, T) of 0/1, optional
    reset : "after" (PyTorch, Keras reset_after=True; the book's choice) or
        "before" (Cho et al. 2014)
    force : dict {"r" or "z": constant in [0, 1] or (N, T, H) array}, optional

    Returns
    -------
    h : ndarray (N, T, H)
    cache : dict for :func:`gru_backward`; ``cache["trace"]`` holds
        ``"r"``, ``"z"``, ``"n"``, ``"h"``, each (N, T, H).
    """
    x = check_sequence("x", x)
    N, T, D = x.shape
    H = _check_gru_params(params, D, x.dtype, reset)
    h0 = check_state("h0", h0, N, H, x.dtype)
    M = mask_time_major(mask, N, T, x.dtype)
    force = check_force(force, (N, T, H), "(N, T, H)", x.dtype, allowed=GRU_GATES)
    U, W, b, bhn = params["U"], params["W"], params["b"], params.get("bhn")

    X = time_major(x)                                             # (T, N, D)
    ZX = (X.reshape(T * N, D) @ U.T).reshape(T, N, 3 * H)          # input projection, all steps
    ZX += b
    Gt = np.empty((T, N, 3 * H), dtype=x.dtype)                    # [r, z, n] per step
    E = np.empty((T, N, H), dtype=x.dtype)                         # W_n h + b_hn, or r * h
    Hs = np.empty((T + 1, N, H), dtype=x.dtype)
    Hs[0] = h0
    for t in range(T):
        step_force = {k: (v if np.ndim(v) == 0 else v[:, t]) for k, v in force.items()}
        Hs[t + 1], E[t] = _step_forward(ZX[t], Hs[t], W, bhn, H, reset, Gt[t], step_force)
        if M is not None:                                          # carry the state at padding
            Hs[t + 1] = M[t] * Hs[t + 1] + (1 - M[t]) * Hs[t]
    for a in (Gt, E, Hs):
        a.flags.writeable = False
    trace = {k: readonly_view(Gt[:, :, j * H:(j + 1) * H]) for j, k in enumerate("rzn")}
    trace["h"] = readonly_view(Hs[1:])
    cache = {"X": X, "Gt": Gt, "E": E, "Hs": Hs, "M": M, "params": params,
             "reset": reset, "forced": tuple(force), "trace": trace}
    return batch_first(Hs[1:]), cache


def gru_backward(dh, cache, truncate=None):
    """Backpropagation through time for :func:`gru_forward`.

    Per step, with ``h̄`` the total gradient on h_t:
    ``dn = h̄ (1 - z)``, ``dz = h̄ (h_{t-1} - n)``, each through its
    activation; with reset="after" ``dr = dn' (W_n h_{t-1} + b_hn)`` and
    the recurrent gradient is ``h̄ z + W^T [dr', dz', dn' r]``.

    Parameters
    ----------
    dh : ndarray (N, T, H), upstream gradient on every ``h[:, t]``
    cache : dict from :func:`gru_forward`
    truncate : int >= 1 or None, BPTT(k) (see :mod:`rnnlib.sequence`)

    Returns
    -------
    dx : ndarray (N, T, D)
    dh0 : ndarray (N, H)
    grads : dict with the keys of ``params``
    """
    X, Gt, E, Hs, M = (cache[k] for k in ("X", "Gt", "E", "Hs", "M"))
    reset, forced = cache["reset"], cache["forced"]
    T, N, D = X.shape
    H = Hs.shape[2]
    dh = check_upstream("dh", dh, (N, T, H), "(N, T, H)", X.dtype)
    truncate = check_truncate(truncate)
    U, W = cache["params"]["U"], cache["params"]["W"]

    dH = time_major(dh)
    if M is not None:
        dH *= M                                                    # padding sends nothing

    def step_back(s, gs):
        g, = gs
        if M is None:
            dzx, gprev = _step_backward(g, Gt[s], Hs[s], E[s], W, H, reset, forced)
            return (dzx,), (gprev,)
        dzx, gprev = _step_backward(g * M[s], Gt[s], Hs[s], E[s], W, H, reset, forced)
        return (dzx,), (gprev + g * (1 - M[s]),)                   # plus the carried state

    dZX = np.empty((T, N, 3 * H), dtype=X.dtype)
    dh0, = bptt_loop(T, step_back, (dH,), ((N, H),), (dZX,), truncate, X.dtype)

    TN = T * N
    grads = _param_grads(dZX.reshape(TN, 3 * H), X.reshape(TN, D),
                         Hs[:-1].reshape(TN, H), Gt[:, :, :H].reshape(TN, H),
                         E.reshape(TN, H), reset, H)
    dx = batch_first((dZX.reshape(TN, 3 * H) @ U).reshape(T, N, D))
    return dx, dh0, grads


# --------------------------------------------------------------------------
# registration
# --------------------------------------------------------------------------

def _init(D, H, rng, dtype=np.float64, reset="after"):
    return init_gru(D, H, rng, dtype, reset=reset)


def _cell_step_forward(x_t, state, params, force=None, reset="after"):
    h, cache = gru_step_forward(x_t, state[0], params, reset=reset, force=force)
    return h, (h,), cache


def _cell_step_backward(dstate, cache):
    dx, dh_prev, grads = gru_step_backward(dstate[0], cache)
    return dx, (dh_prev,), grads


def _cell_forward(x, state0, params, mask=None, force=None, reset="after"):
    h, cache = gru_forward(x, state0[0], params, mask=mask, reset=reset, force=force)
    return (h,), cache


def _cell_backward(dstates, cache, truncate=None):
    dx, dh0, grads = gru_backward(dstates[0], cache, truncate=truncate)
    return dx, (dh0,), grads


register_cell(Cell(
    name="gru", summary="GRU (Cho et al. 2014), gates (r, z, n)", state=("h",), gates=GRU_GATES,
    trace=("r", "z", "n", "h"), options={"reset": RESETS}, init=_init,
    step_forward=_cell_step_forward, step_backward=_cell_step_backward,
    forward=_cell_forward, backward=_cell_backward, module=__name__))
