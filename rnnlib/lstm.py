"""Long short-term memory (LSTM): one step, whole sequences, variants.

.. math::

    i_t &= \\sigma(U_i x_t + W_i h_{t-1} + b_i), \\\\
    f_t &= \\sigma(U_f x_t + W_f h_{t-1} + b_f), \\\\
    g_t &= \\tanh(U_g x_t + W_g h_{t-1} + b_g), \\\\
    o_t &= \\sigma(U_o x_t + W_o h_{t-1} + b_o), \\\\
    c_t &= f_t \\odot c_{t-1} + i_t \\odot g_t, \\\\
    h_t &= o_t \\odot \\tanh(c_t),

with the input gate ``i_t``, forget gate ``f_t``, candidate ``g_t``, output
gate ``o_t``, cell state ``c_t`` and hidden state ``h_t``. The gate blocks are stacked in PyTorch's order (i, f, g, o): ``U`` (4H, D),
``W`` (4H, H), ``b`` (4H,), so one product ``x @ U.T`` gives all four
pre-activations. ``b`` is PyTorch's ``bias_ih + bias_hh``.

Variants (Greff et al. 2017, "LSTM: A Search Space Odyssey")
------------------------------------------------------------
``variant`` removes or ties one gate; the removed block has no rows in
``U``, ``W``, ``b`` (so the parameter count is the variant's own):

=============  ===================  =================  ================
variant        blocks in U, W, b    rule               Greff et al.
=============  ===================  =================  ================
``standard``   (i, f, g, o), 4H     as above           vanilla
``no_forget``  (i, g, o), 3H        f = 1              NFG
``coupled``    (i, g, o), 3H        f = 1 - i          CIFG
``no_output``  (i, f, g), 3H        o = 1              NOG
=============  ===================  =================  ================

``peephole=True`` adds diagonal peephole weights (Gers and Schmidhuber
2000), one (H,) vector per sigmoid gate that has its own block: ``p_i`` and
``p_f`` read the old cell, ``p_o`` the new one,

.. math::

    i_t &= \\sigma(\\dots + p_i \\odot c_{t-1}), \\\\
    f_t &= \\sigma(\\dots + p_f \\odot c_{t-1}), \\\\
    o_t &= \\sigma(\\dots + p_o \\odot c_t).

Each variant is registered as a cell of its own (:mod:`rnnlib.cells`):
``"lstm"``, ``"lstm_no_forget"``, ``"lstm_coupled"``, ``"lstm_no_output"``,
each with the option ``peephole``.

Forcing gates
-------------
``force={"f": 1.0}`` (or ``{"f": array}``, (N, T, H) for a sequence,
(N, H) for one step) replaces a gate's value by the one given, after the
gate would have been computed; the backward pass treats a forced gate as a
constant (no gradient reaches its block). Gates that can be forced:
``"i"``, ``"f"``, ``"o"``. With ``coupled``, a forced ``f`` is used as is
and ``f = 1 - i`` otherwise uses the (possibly forced) ``i``.

Two paths, one function
-----------------------
The **readable path** is the documentation: :func:`lstm_step_forward`
computes the pre-activations, then the gates one by one by name
(:func:`lstm_gates_forward`), and a sequence is that step in a loop; its
backward walks the same steps in reverse (:func:`lstm_gates_backward`).
The **fast path** (used by :func:`lstm_forward` for the standard LSTM
with no peepholes and no forced gates) computes the input projection of
all steps before the loop and writes every step into preallocated
buffers; ``tests/test_lstm.py`` proves the two equal on every gate, cell
and hidden value and on every gradient, with and without masks and
truncation. ``path="readable"`` runs the readable path for any LSTM.

Where normalization goes
------------------------
The pre-activations are the sum of two linear terms, ``U x_t`` and
``W h_{t-1}``, plus ``b``; everything non-linear happens in
:func:`lstm_gates_forward`, which takes those pre-activations and the old
cell. A normalised LSTM normalises the two terms (batch norm with
statistics per time step, Cooijmans et al. 2016; layer norm, Ba et al.
2016), and the cell before its output tanh: :mod:`rnnlib.lstm_norm` does
that in a module of its own and registers the normalised LSTMs as cells;
nothing here changed for them.

Masks and ``truncate`` work as in :mod:`rnnlib.sequence`: at a masked step
both the hidden state and the cell are carried over unchanged; BPTT(k)
carries the gradients that enter at step t (from ``dh[:, t]`` and
``dc[:, t]``) back to steps t-k+1 .. t only.

On the fast path the sigmoid is computed as ``0.5 * tanh(x / 2) + 0.5``
(the same function, one transcendental call per element and no branch);
it agrees with :func:`rnnlib.activations.sigmoid` to about 1e-16 absolute.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_choice, check_width, check_float_array, check_params, check_sequence
from .activations import sigmoid
from .cells import Cell, check_force, register_cell
from .init import LSTM_BLOCKS, init_lstm
from .sequence import (batch_first, bptt_loop, carry, check_state, check_truncate,
                       check_upstream, hidden_size, mask_time_major, readonly_view,
                       time_major)

__all__ = ["lstm_forward", "lstm_backward", "lstm_step_forward", "lstm_step_backward",
           "lstm_gates_forward", "lstm_gates_backward", "lstm_blocks", "LSTM_VARIANTS",
           "LSTM_GATES"]

#: the blocks each variant stacks in U, W, b (in this order)
LSTM_VARIANTS = LSTM_BLOCKS

#: the gates that ``force=`` may set
LSTM_GATES = ("i", "f", "o")


def lstm_blocks(variant: str = "standard") -> tuple:
    """The blocks stacked in ``U``, ``W``, ``b`` for ``variant`` (e.g. ("i", "g", "o"))."""
    check_choice("variant", variant, tuple(LSTM_VARIANTS))
    return LSTM_VARIANTS[variant]


def _peephole_keys(variant):
    """Peephole vectors of a variant: one per sigmoid gate with its own block."""
    return tuple(f"p_{k}" for k in LSTM_VARIANTS[variant] if k in ("i", "f", "o"))


def _expected(D, H, variant, peephole):
    n = len(LSTM_VARIANTS[variant])
    e = {"U": ((n * H, D), f"({n}H, D)"), "W": ((n * H, H), f"({n}H, H)"),
         "b": ((n * H,), f"({n}H,)")}
    if peephole:
        for key in _peephole_keys(variant):
            e[key] = ((H,), "(H,)")
    return e


def _check_lstm_params(params, D, dtype, variant, peephole, x_name="x"):
    check_width(x_name, D, params)                                # names both on a mismatch
    check_choice("variant", variant, tuple(LSTM_VARIANTS))
    if not isinstance(peephole, bool):
        raise TypeError(f"peephole: expected True or False, got {peephole!r}")
    H = hidden_size(params, "W", axis=1)
    check_params(params, _expected(D, H, variant, peephole), dtype)
    return H


# --------------------------------------------------------------------------
# the readable path: gates by name
# --------------------------------------------------------------------------

def lstm_gates_forward(z, c_prev, params, variant="standard", peephole=False, force=None):
    """From pre-activations to gates, cell and hidden state (the non-linear part of a step).

    .. math::

        i &= \\sigma(z_i + p_i c_{t-1}), \\\\
        f &= \\sigma(z_f + p_f c_{t-1}), \\\\
        g &= \\tanh z_g, \\\\
        c_t &= f c_{t-1} + i g, \\\\
        o &= \\sigma(z_o + p_o c_t), \\\\
        h_t &= o \\tanh c_t

    (peephole terms only with ``peephole=True``; variants as in the module
    docstring).

    Parameters
    ----------
    z : ndarray (N, nH), the pre-activations ``U x_t + W h_{t-1} + b`` of
        the variant's blocks (n = 4 or 3).
    c_prev : ndarray (N, H)
    params : dict; only the peephole vectors ``p_*`` (H,) are read.
    variant, peephole : as for :func:`lstm_forward`.
    force : dict {gate: constant or (N, H) array}, already validated.

    Returns
    -------
    gates : dict of (N, H) arrays ``"i"``, ``"f"``, ``"g"``, ``"o"``
        (the fixed gates of a variant included: ones, or 1 - i).
    c_t, h_t : ndarrays (N, H)
    """
    force = force or {}
    blocks = LSTM_VARIANTS[variant]
    H = c_prev.shape[-1]
    zb = {k: z[..., j * H:(j + 1) * H] for j, k in enumerate(blocks)}   # named blocks, (N, H)

    def gate(key, pre):
        if key in force:
            return np.broadcast_to(force[key], c_prev.shape)
        return sigmoid(pre)

    peep = (lambda k, c: params[f"p_{k}"] * c) if peephole else (lambda k, c: 0)
    i = gate("i", zb["i"] + peep("i", c_prev))                         # input gate
    if "f" in blocks:
        f = gate("f", zb["f"] + peep("f", c_prev))                     # forget gate
    elif "f" in force:
        f = np.broadcast_to(force["f"], c_prev.shape)
    else:
        f = 1 - i if variant == "coupled" else np.ones_like(c_prev)    # CIFG / NFG
    g = np.tanh(zb["g"])                                               # candidate
    c = f * c_prev + i * g                                             # new cell
    if "o" in blocks:
        o = gate("o", zb["o"] + peep("o", c))                          # output gate
    elif "o" in force:
        o = np.broadcast_to(force["o"], c_prev.shape)
    else:
        o = np.ones_like(c_prev)                                       # NOG
    h = o * np.tanh(c)                                                 # new hidden state
    return {"i": i, "f": f, "g": g, "o": o}, c, h


def lstm_gates_backward(dh, dc, gates, c_prev, c, params, variant="standard",
                        peephole=False, forced=()):
    """Backward pass of :func:`lstm_gates_forward`.

    With ``c̄`` the total gradient on the new cell,
    ``c̄ = dc + dh o (1 - tanh^2 c) (+ p_o dz_o)``, the blocks get
    ``dz_i = c̄ g i (1 - i)``, ``dz_f = c̄ c_{t-1} f (1 - f)``,
    ``dz_g = c̄ i (1 - g^2)``, ``dz_o = dh tanh(c) o (1 - o)``; a forced or
    fixed gate sends nothing into its block (with ``coupled``, f = 1 - i
    sends ``-c̄ c_{t-1}`` into i).

    Parameters
    ----------
    dh, dc : ndarrays (..., N, H), gradients on h_t and c_t (a leading
        stream axis is allowed: truncated BPTT runs several at once).
    gates : dict from :func:`lstm_gates_forward`.
    c_prev, c : ndarrays (N, H), the old and new cell.
    params, variant, peephole : as for :func:`lstm_gates_forward`.
    forced : the gates that were forced.

    Returns
    -------
    dz : ndarray (..., N, nH), gradient on the variant's pre-activations.
    dc_prev : ndarray (..., N, H)
    """
    blocks = LSTM_VARIANTS[variant]
    i, f, g, o = gates["i"], gates["f"], gates["g"], gates["o"]
    tc = np.tanh(c)
    d = {}
    # through h = o tanh(c)
    do = dh * tc
    dc_total = dc + dh * o * (1 - tc * tc)
    if "o" in blocks and "o" not in forced:
        d["o"] = do * o * (1 - o)                                      # through sigma of o
        if peephole:
            dc_total = dc_total + params["p_o"] * d["o"]               # o reads the new cell
    # through c = f c_prev + i g
    di = dc_total * g
    df = dc_total * c_prev
    dg = dc_total * i
    dc_prev = dc_total * f                                             # along the cell
    if variant == "coupled" and "f" not in forced:
        di = di - df                                                   # f = 1 - i
    d["g"] = dg * (1 - g * g)                                          # through tanh of g
    if "i" not in forced:
        d["i"] = di * i * (1 - i)                                      # through sigma of i
    if "f" in blocks and "f" not in forced:
        d["f"] = df * f * (1 - f)                                      # through sigma of f
    if peephole:                                                       # i, f read the old cell
        for k in ("i", "f"):
            if k in d and k in blocks:
                dc_prev = dc_prev + params[f"p_{k}"] * d[k]
    shape = np.broadcast_shapes(np.shape(dh), np.shape(c))
    zero = np.zeros(shape, dtype=c.dtype)
    dz = np.concatenate([d.get(k, zero) for k in blocks], axis=-1)     # (..., N, nH)
    return dz, dc_prev


def _peephole_grads(dZ, C_prev, C, variant, H):
    """dp_i, dp_f (from the old cell) and dp_o (from the new one), each (H,)."""
    grads = {}
    for j, k in enumerate(LSTM_VARIANTS[variant]):
        if k in ("i", "f", "o"):
            cell = C if k == "o" else C_prev
            grads[f"p_{k}"] = (dZ[..., j * H:(j + 1) * H] * cell).reshape(-1, H).sum(axis=0)
    return grads


def lstm_step_forward(x_t, h_prev, c_prev, params, variant="standard", peephole=False,
                      force=None):
    """One LSTM step (equations in the module docstring), gates named.

    .. math::

        z &= U x_t + W h_{t-1} + b, \\\\
        (i, f, g, o, c_t, h_t) &= \\text{gates}(z, c_{t-1})

    Parameters
    ----------
    x_t : ndarray (N, D)
    h_prev, c_prev : ndarray (N, H), or None (zeros)
    params : dict with ``U`` (nH, D), ``W`` (nH, H), ``b`` (nH,) (n = 4
        for the standard LSTM, 3 for the other variants), and ``p_*`` (H,)
        with ``peephole=True``
    variant : "standard", "no_forget", "coupled" or "no_output"
    peephole : bool
    force : dict {gate: constant in [0, 1] or (N, H) array}, optional

    Returns
    -------
    h_t, c_t : ndarray (N, H)
    cache : dict for :func:`lstm_step_backward`; ``cache["gates"]`` holds
        the named gates ``"i"``, ``"f"``, ``"g"``, ``"o"``, each (N, H)
    """
    x_t = check_float_array("x_t", x_t, ndim=2, shape_doc="(N, D)")
    N, D = x_t.shape
    H = _check_lstm_params(params, D, x_t.dtype, variant, peephole, x_name="x_t")
    h_prev = check_state("h_prev", h_prev, N, H, x_t.dtype)
    c_prev = check_state("c_prev", c_prev, N, H, x_t.dtype)
    force = check_force(force, (N, H), "(N, H)", x_t.dtype, LSTM_GATES)
    z = x_t @ params["U"].T + h_prev @ params["W"].T + params["b"]    # (N, nH) pre-activations
    gates, c_t, h_t = lstm_gates_forward(z, c_prev, params, variant, peephole, force)
    cache = {"x": x_t, "h_prev": h_prev, "c_prev": c_prev, "z": z, "gates": gates,
             "c": c_t, "h": h_t, "params": params, "variant": variant,
             "peephole": peephole, "forced": tuple(force)}
    return h_t, c_t, cache


def lstm_step_backward(dh_t, dc_t, cache):
    """Backward pass of :func:`lstm_step_forward`.

    Parameters
    ----------
    dh_t : ndarray (N, H)
    dc_t : ndarray (N, H) or None (zeros)
    cache : dict from :func:`lstm_step_forward`

    Returns
    -------
    dx_t : ndarray (N, D)
    dh_prev, dc_prev : ndarray (N, H)
    grads : dict with the keys of ``params``
    """
    h = cache["h"]
    N, H = h.shape
    p = cache["params"]
    dh_t = check_upstream("dh_t", dh_t, (N, H), "(N, H)", h.dtype)
    dc_t = np.zeros_like(h) if dc_t is None else \
        check_upstream("dc_t", dc_t, (N, H), "(N, H)", h.dtype)
    dz, dc_prev = lstm_gates_backward(dh_t, dc_t, cache["gates"], cache["c_prev"], cache["c"],
                                      p, cache["variant"], cache["peephole"], cache["forced"])
    grads = {"U": dz.T @ cache["x"], "W": dz.T @ cache["h_prev"], "b": dz.sum(axis=0)}
    if cache["peephole"]:
        grads.update(_peephole_grads(dz, cache["c_prev"], cache["c"], cache["variant"], H))
    return dz @ p["U"], dz @ p["W"], dc_prev, grads


def _forward_readable(x, h0, c0, params, M, variant, peephole, force):
    """The step function in a loop; fills per-step buffers (time-major)."""
    N, T, D = x.shape
    H = h0.shape[1]
    X = time_major(x)                                              # (T, N, D)
    Hs = np.empty((T + 1, N, H), dtype=x.dtype)                    # Hs[t + 1] = h_t
    Cs = np.empty((T + 1, N, H), dtype=x.dtype)                    # Cs[t + 1] = c_t
    Hs[0], Cs[0] = h0, c0
    gate_buf = {k: np.empty((T, N, H), dtype=x.dtype) for k in "ifgo"}
    Cnew = np.empty((T, N, H), dtype=x.dtype)                      # the cell each step computed
    U, W, b = params["U"], params["W"], params["b"]
    for t in range(T):
        step_force = {k: (v if np.ndim(v) == 0 else v[:, t]) for k, v in force.items()}
        z = X[t] @ U.T + Hs[t] @ W.T + b                           # (N, nH) pre-activations
        gates, c, h = lstm_gates_forward(z, Cs[t], params, variant, peephole, step_force)
        for k in "ifgo":
            gate_buf[k][t] = gates[k]
        Cnew[t] = c
        m = None if M is None else M[t]
        Cs[t + 1] = carry(m, c, Cs[t])                             # carry both states at padding
        Hs[t + 1] = carry(m, h, Hs[t])
    return X, Hs, Cs, gate_buf, Cnew


def _backward_readable(dH, dC, cache, truncate):
    X, Hs, Cs, M = cache["X"], cache["Hs"], cache["Cs"], cache["M"]
    gate_buf, Cnew = cache["gate_buf"], cache["Cnew"]
    variant, peephole, forced = cache["variant"], cache["peephole"], cache["forced"]
    p = cache["params"]
    T, N, D = X.shape
    H = Hs.shape[2]
    W = p["W"]
    n = len(LSTM_VARIANTS[variant])

    def step_back(s, gs):
        gh, gc = gs
        gates = {k: gate_buf[k][s] for k in "ifgo"}
        m = 1 if M is None else M[s]
        dz, gc_prev = lstm_gates_backward(gh * m, gc * m, gates, Cs[s], Cnew[s], p,
                                          variant, peephole, forced)
        gh_prev = dz @ W                                           # into h_{s-1}
        if M is not None:                                          # plus the carried states
            gh_prev = gh_prev + gh * (1 - m)
            gc_prev = gc_prev + gc * (1 - m)
        return (dz,), (gh_prev, gc_prev)

    dZ = np.empty((T, N, n * H), dtype=X.dtype)
    dh0, dc0 = bptt_loop(T, step_back, (dH, dC), ((N, H), (N, H)), (dZ,), truncate, X.dtype)
    dZ2 = dZ.reshape(T * N, n * H)
    grads = {"U": dZ2.T @ X.reshape(T * N, D),                     # (nH, D)
             "W": dZ2.T @ Hs[:-1].reshape(T * N, H),               # (nH, H)
             "b": dZ2.sum(axis=0)}                                 # (nH,)
    if peephole:
        grads.update(_peephole_grads(dZ, Cs[:-1], Cnew, variant, H))
    dx = batch_first((dZ2 @ p["U"]).reshape(T, N, D))              # (N, T, D)
    return dx, dh0, dc0, grads


# --------------------------------------------------------------------------
# the fast path: standard LSTM, no peepholes, no forced gates
# --------------------------------------------------------------------------

def _forward_fast(x, h0, c0, params, M):
    """Input projection before the loop, ``out=`` buffers inside it."""
    N, T, D = x.shape
    H = h0.shape[1]
    U, W, b = params["U"], params["W"], params["b"]
    # Every gate is computed from one tanh over the contiguous (N, 4H) row:
    # sigma(z) = 0.5 tanh(z / 2) + 0.5, so the i, f, o rows of U, W, b are
    # halved once here (exact: scaling by a power of 2 commutes with floating
    # point) and after the tanh i, f, o get "* 0.5 + 0.5" while g is the tanh.
    half = np.ones(4 * H, dtype=x.dtype)
    half[:2 * H] = 0.5
    half[3 * H:] = 0.5
    Us, WsT, bs = U * half[:, None], (W * half[:, None]).T, b * half   # (4H, D), (H, 4H), (4H,)

    X = time_major(x)                                              # (T, N, D)
    G = (X.reshape(T * N, D) @ Us.T).reshape(T, N, 4 * H)          # input projection, all steps
    G += bs
    Hs = np.empty((T + 1, N, H), dtype=x.dtype)                    # Hs[t + 1] = h_t
    Cs = np.empty((T + 1, N, H), dtype=x.dtype)                    # Cs[t + 1] = c_t
    TC = np.empty((T, N, H), dtype=x.dtype)                        # tanh of the new cell
    Hs[0], Cs[0] = h0, c0
    rec = np.empty((N, 4 * H), dtype=x.dtype)                      # recurrent product buffer
    ig = np.empty((N, H), dtype=x.dtype)
    for t in range(T):
        z = G[t]
        np.matmul(Hs[t], WsT, out=rec)                             # recurrent product
        z += rec
        np.tanh(z, out=z)                                          # all four gates at once
        z[:, :2 * H] *= 0.5                                        # i, f = sigma
        z[:, :2 * H] += 0.5
        z[:, 3 * H:] *= 0.5                                        # o = sigma
        z[:, 3 * H:] += 0.5
        i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
        np.multiply(f, Cs[t], out=Cs[t + 1])                       # c = f c_prev + i g
        np.multiply(i, g, out=ig)
        Cs[t + 1] += ig
        np.tanh(Cs[t + 1], out=TC[t])
        np.multiply(o, TC[t], out=Hs[t + 1])                       # h = o tanh(c)
        if M is not None:                                          # carry both states at padding
            Cs[t + 1] = M[t] * Cs[t + 1] + (1 - M[t]) * Cs[t]
            Hs[t + 1] = M[t] * Hs[t + 1] + (1 - M[t]) * Hs[t]
    return X, G, Hs, Cs, TC


def _stacked_gates_backward(gh, gc, gates, tc, c_prev, H):
    """Gradients on the four stacked pre-activations (..., N, 4H) and on c_{t-1}.

    The fast path's form of :func:`lstm_gates_backward` (standard LSTM):
    gates (N, 4H) = [i, f, g, o], tc = tanh(c_t).
    """
    i, f, g, o = (gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H],
                  gates[:, 3 * H:])
    do = gh * tc                                       # through h = o tanh(c)
    gct = gc + gh * o * (1 - tc * tc)                  # total gradient on c_t
    dz = np.concatenate([gct * g * i * (1 - i),        # through sigma of i
                         gct * c_prev * f * (1 - f),   # through sigma of f
                         gct * i * (1 - g * g),        # through tanh of g
                         do * o * (1 - o)], axis=-1)   # through sigma of o
    return dz, gct * f                                 # dc_{t-1} along the cell


def _full_backward_fast(dH, dC, G, Cs, TC, W, dZ):
    """Full BPTT without a mask, with preallocated buffers.

    Same arithmetic as :func:`_stacked_gates_backward` step by step, written
    with ``out=`` so that the loop allocates nothing; fills dZ (T, N, 4H)
    and returns (dh0, dc0).
    """
    T, N, H = TC.shape
    gh = np.empty((N, H), dtype=G.dtype)                   # total gradient on h_t
    gh_next = np.zeros((N, H), dtype=G.dtype)              # W^T dz_{t+1}
    gc = np.zeros((N, H), dtype=G.dtype)                   # gradient on c_t from later steps
    gct = np.empty((N, H), dtype=G.dtype)                  # total gradient on c_t
    for s in range(T - 1, -1, -1):
        np.add(dH[s], gh_next, out=gh)
        if dC is not None:
            gc += dC[s]
        gates, tc, dz = G[s], TC[s], dZ[s]
        i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
        dzi, dzf, dzg, dzo = dz[:, :H], dz[:, H:2 * H], dz[:, 2 * H:3 * H], dz[:, 3 * H:]
        # through h = o tanh(c): gct = gc + gh o (1 - tanh^2 c)
        np.multiply(tc, tc, out=gct)
        np.subtract(1, gct, out=gct)
        gct *= o
        gct *= gh
        gct += gc
        # output gate: dzo = gh tanh(c) o (1 - o)
        np.subtract(1, o, out=dzo)
        dzo *= o
        dzo *= tc
        dzo *= gh
        # input gate: dzi = gct g i (1 - i)
        np.subtract(1, i, out=dzi)
        dzi *= i
        dzi *= g
        dzi *= gct
        # forget gate: dzf = gct c_{t-1} f (1 - f)
        np.subtract(1, f, out=dzf)
        dzf *= f
        dzf *= Cs[s]
        dzf *= gct
        # candidate: dzg = gct i (1 - g^2)
        np.multiply(g, g, out=dzg)
        np.subtract(1, dzg, out=dzg)
        dzg *= i
        dzg *= gct
        # into the previous cell and hidden state
        np.multiply(gct, f, out=gc)
        np.matmul(dz, W, out=gh_next)
    return gh_next.copy(), gc.copy()


def _backward_fast(dH, dC, dc_given, cache, truncate):
    X, G, Hs, Cs, TC, M = (cache[k] for k in ("X", "G", "Hs", "Cs", "TC", "M"))
    T, N, D = X.shape
    H = Hs.shape[2]
    U, W = cache["params"]["U"], cache["params"]["W"]
    dZ = np.empty(G.shape, dtype=G.dtype)                          # (T, N, 4H)
    if M is None and (truncate is None or truncate >= T):
        dh0, dc0 = _full_backward_fast(dH, dC if dc_given else None, G, Cs, TC, W, dZ)
    else:
        def step_back(s, gs):
            gh, gc = gs
            if M is None:
                dz, gc_prev = _stacked_gates_backward(gh, gc, G[s], TC[s], Cs[s], H)
                return (dz,), (dz @ W, gc_prev)                    # into h_{s-1}, c_{s-1}
            dz, gc_prev = _stacked_gates_backward(gh * M[s], gc * M[s], G[s], TC[s], Cs[s], H)
            keep = 1 - M[s]                                        # carried states
            return (dz,), (dz @ W + gh * keep, gc_prev + gc * keep)

        dh0, dc0 = bptt_loop(T, step_back, (dH, dC), ((N, H), (N, H)), (dZ,),
                             truncate, X.dtype)
    dZ2 = dZ.reshape(T * N, 4 * H)
    grads = {"U": dZ2.T @ X.reshape(T * N, D),                     # (4H, D)
             "W": dZ2.T @ Hs[:-1].reshape(T * N, H),               # (4H, H)
             "b": dZ2.sum(axis=0)}                                 # (4H,)
    dx = batch_first((dZ2 @ U).reshape(T, N, D))                   # (N, T, D)
    return dx, dh0, dc0, grads


# --------------------------------------------------------------------------
# whole sequences
# --------------------------------------------------------------------------

def lstm_forward(x, h0, c0, params, mask=None, *, variant="standard", peephole=False,
                 force=None, path="auto"):
    """Run an LSTM over whole sequences (equations in the module docstring).

    Parameters
    ----------
    x : ndarray (N, T, D), float32 or float64
    h0, c0 : ndarray (N, H) or None (zeros)
    params : dict with ``U`` (nH, D), ``W`` (nH, H), ``b`` (nH,) (n = 4
        for the standard LSTM, 3 for the other variants), and ``p_*`` (H,)
        with ``peephole=True``
    mask : ndarray (N, T) of 0/1, optional
    variant : "standard", "no_forget", "coupled" or "no_output"
    peephole : bool, diagonal peephole connections
    force : dict {gate: constant in [0, 1] or (N, T, H) array}, optional;
        gates ``"i"``, ``"f"``, ``"o"``, treated as constants by the backward
    path : "auto" (the fast path where it applies), "readable" or "fast"

    Returns
    -------
    h : ndarray (N, T, H), hidden states
    c : ndarray (N, T, H), cell states
    cache : dict for :func:`lstm_backward`; ``cache["trace"]`` holds
        ``"i"``, ``"f"``, ``"g"``, ``"o"``, ``"c"``, ``"h"``, each (N, T, H).
    """
    x = check_sequence("x", x)
    N, T, D = x.shape
    H = _check_lstm_params(params, D, x.dtype, variant, peephole)
    h0 = check_state("h0", h0, N, H, x.dtype)
    c0 = check_state("c0", c0, N, H, x.dtype)
    M = mask_time_major(mask, N, T, x.dtype)                       # (T, N, 1) or None
    force = check_force(force, (N, T, H), "(N, T, H)", x.dtype, LSTM_GATES)
    check_choice("path", path, ("auto", "readable", "fast"))
    plain = variant == "standard" and not peephole and not force
    if path == "fast" and not plain:
        raise ValueError("path: 'fast' runs the standard LSTM without peepholes or forced "
                         f"gates only, got variant={variant!r}, peephole={peephole}, "
                         f"force={sorted(force)}")
    use_fast = plain and path != "readable"
    cache = {"M": M, "params": params, "variant": variant, "peephole": peephole,
             "forced": tuple(force), "path": "fast" if use_fast else "readable"}
    if use_fast:
        X, G, Hs, Cs, TC = _forward_fast(x, h0, c0, params, M)
        cache.update(X=X, G=G, Hs=Hs, Cs=Cs, TC=TC)
        buffers = (G, Hs, Cs, TC)
        trace = {k: readonly_view(G[:, :, j * H:(j + 1) * H]) for j, k in enumerate("ifgo")}
    else:
        X, Hs, Cs, gate_buf, Cnew = _forward_readable(x, h0, c0, params, M, variant,
                                                      peephole, force)
        cache.update(X=X, Hs=Hs, Cs=Cs, gate_buf=gate_buf, Cnew=Cnew)
        buffers = (Hs, Cs, Cnew, *gate_buf.values())
        trace = {k: readonly_view(gate_buf[k]) for k in "ifgo"}
    for a in buffers:
        a.flags.writeable = False
    trace["c"] = readonly_view(Cs[1:])
    trace["h"] = readonly_view(Hs[1:])
    cache["trace"] = trace
    return batch_first(Hs[1:]), batch_first(Cs[1:]), cache


def lstm_backward(dh, cache, dc=None, truncate=None):
    """Backpropagation through time for :func:`lstm_forward`.

    With ``\\bar c_t`` the total gradient on the cell,

    .. math::

        \\bar c_t &= \\partial L/\\partial c_t + f_{t+1} \\odot \\bar c_{t+1} \\\\
        &\\quad {} + \\bar h_t \\odot o_t \\odot (1 - \\tanh^2 c_t),

    the gate gradients are ``di = c̄ g``, ``df = c̄ c_{t-1}``, ``dg = c̄ i``,
    ``do = h̄ tanh c_t``, each times its activation's derivative, and the
    hidden gradient is ``h̄_{t-1} = ∂L/∂h_{t-1} + W^T dz_t``.

    Parameters
    ----------
    dh : ndarray (N, T, H), upstream gradient on every ``h[:, t]``
    cache : dict from :func:`lstm_forward`
    dc : ndarray (N, T, H) or None, upstream gradient on every ``c[:, t]``
    truncate : int >= 1 or None, BPTT(k) (see :mod:`rnnlib.sequence`)

    Returns
    -------
    dx : ndarray (N, T, D)
    dh0, dc0 : ndarray (N, H)
    grads : dict with the keys of ``params``
    """
    X, Hs, M = cache["X"], cache["Hs"], cache["M"]
    T, N, D = X.shape
    H = Hs.shape[2]
    dh = check_upstream("dh", dh, (N, T, H), "(N, T, H)", X.dtype)
    if dc is not None:
        dc = check_upstream("dc", dc, (N, T, H), "(N, T, H)", X.dtype)
    truncate = check_truncate(truncate)
    dH = time_major(dh)                                            # (T, N, H)
    dC = np.zeros_like(dH) if dc is None else time_major(dc)
    if M is not None:
        dH *= M                                                    # padding sends nothing
        dC *= M
    if cache["path"] == "fast":
        return _backward_fast(dH, dC, dc is not None, cache, truncate)
    return _backward_readable(dH, dC, cache, truncate)


# --------------------------------------------------------------------------
# registration: one cell per variant
# --------------------------------------------------------------------------

def _register(name, variant, summary):
    def init(D, H, rng, dtype=np.float64, peephole=False):
        return init_lstm(D, H, rng, dtype, variant=variant, peephole=peephole)

    def step_forward(x_t, state, params, force=None, peephole=False):
        h, c, cache = lstm_step_forward(x_t, state[0], state[1], params, variant=variant,
                                        peephole=peephole, force=force)
        return h, (h, c), cache

    def step_backward(dstate, cache):
        dx, dh_prev, dc_prev, grads = lstm_step_backward(dstate[0], dstate[1], cache)
        return dx, (dh_prev, dc_prev), grads

    def forward(x, state0, params, mask=None, force=None, peephole=False):
        h, c, cache = lstm_forward(x, state0[0], state0[1], params, mask=mask,
                                   variant=variant, peephole=peephole, force=force)
        return (h, c), cache

    def backward(dstates, cache, truncate=None):
        dx, dh0, dc0, grads = lstm_backward(dstates[0], cache, dc=dstates[1], truncate=truncate)
        return dx, (dh0, dc0), grads

    register_cell(Cell(
        name=name, summary=summary, state=("h", "c"), gates=LSTM_GATES,
        trace=("i", "f", "g", "o", "c", "h"), options={"peephole": (False, True)},
        init=init, step_forward=step_forward, step_backward=step_backward,
        forward=forward, backward=backward, module=__name__))


_register("lstm", "standard", "LSTM with forget gate (Gers et al. 2000), gates (i, f, g, o)")
_register("lstm_no_forget", "no_forget", "LSTM without forget gate, f = 1 (1997 LSTM; NFG)")
_register("lstm_coupled", "coupled", "LSTM with coupled input and forget gates, f = 1 - i (CIFG)")
_register("lstm_no_output", "no_output", "LSTM without output gate, o = 1 (NOG)")
