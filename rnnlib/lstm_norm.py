"""Normalised LSTMs: batch norm per time step, batch norm on the input only, layer norm.

Three ways to normalise inside an LSTM cell, each a registered cell
(:mod:`rnnlib.cells`); the gate equations of :mod:`rnnlib.lstm` stay, only
the two linear terms of the pre-activations (and the cell before its
output tanh) are normalised:

.. math::

    z_t &= N_x(U x_t) + N_h(W h_{t-1}) + b, \\\\
    (i, f, o) &= \\sigma(z_{i,f,o}), \\quad g = \\tanh z_g, \\\\
    c_t &= f \\odot c_{t-1} + i \\odot g, \\\\
    h_t &= o \\odot \\tanh N_c(c_t)

======================  ==================================  ====================
``norm``                N_x, N_h, N_c                       paper
======================  ==================================  ====================
``"batch"``             batch norm, statistics per step     Cooijmans et al. 2016
``"batch_input"``       batch norm on U x only (N_h, N_c    Laurent et al. 2016
                        are the identity), one set of
                        statistics over all steps
``"layer"``             layer norm over the features of     Ba et al. 2016
                        each row (no batch statistics)
======================  ==================================  ====================

Parameters: the LSTM's ``U`` (4H, D), ``W`` (4H, H), ``b`` (4H,) plus the
normalisations' gains ``gx`` (4H,) (and ``gh`` (4H,), ``gc`` (H,) with the
cell's shift ``bc`` (H,) for "batch" and "layer"). ``N_x`` and ``N_h`` have
no shift of their own: ``b`` is their shift (Cooijmans et al. set those
betas to zero for the same reason). The gains start at 0.1 for batch norm,
as Cooijmans et al. recommend (a gain of 1 saturates the tanh and sigmoid
at the start and the gradients vanish), and at 1 for layer norm.

Training and inference (batch norm). In ``mode="train"`` each step is
normalised with the statistics of the batch at that step (over the valid
sequences only, with a mask), and running estimates per step are updated
and returned in ``cache["stats"]``; ``mode="eval"`` normalises with given
running estimates ``stats``, and a step beyond the longest training length
reuses the last step's statistics, as Cooijmans et al. do. Nothing is kept
between calls: pass ``cache["stats"]`` of one call as ``stats`` of the next.
Layer norm has no statistics to keep and is the same in both modes.

As registered cells (used by :mod:`rnnlib.model` and the other code that
takes any cell) the batch-norm cells run in training mode with batch
statistics; their ``couples_batch`` flag says that a sequence's output
depends on the other sequences of its batch, and ``lstm_bn_input``, whose
statistics span all steps, is not ``stepwise`` (it cannot be unrolled one
step at a time). Inference with running
statistics calls :func:`lstm_norm_forward` with ``mode="eval"``.

Full BPTT only (``truncate`` is refused); masks carry the states over at
padding, as in :mod:`rnnlib.sequence`.
"""

from __future__ import annotations

import numpy as np

from ._validate import (check_choice, check_float_array, check_params, check_sequence,
                        check_width)
from .activations import sigmoid
from .cells import Cell, register_cell
from .init import init_lstm
from .normalization import (batchnorm_backward, batchnorm_forward, layernorm_backward,
                            layernorm_forward, temporal_batchnorm_backward,
                            temporal_batchnorm_forward)
from .sequence import (batch_first, carry, check_state, check_upstream, hidden_size,
                       mask_time_major, readonly_view, time_major)

__all__ = ["init_lstm_norm", "lstm_norm_forward", "lstm_norm_backward",
           "lstm_norm_step_forward", "lstm_norm_step_backward", "NORMS"]

#: the normalisations, and the gains/shifts each adds to the LSTM's U, W, b
NORMS = {"batch": ("gx", "gh", "gc", "bc"), "batch_input": ("gx",),
         "layer": ("gx", "gh", "gc", "bc")}


def init_lstm_norm(D, H, rng, dtype=np.float64, norm="batch", forget_bias=1.0,
                   gamma=None):
    """Parameters of a normalised LSTM: :func:`rnnlib.init.init_lstm` plus the gains.

    Parameters
    ----------
    D, H : int
    rng : np.random.Generator
    dtype : float32 or float64
    norm : "batch", "batch_input" or "layer"
    forget_bias : float, added to the forget block of ``b``
    gamma : initial gain, or None: 0.1 for batch norm (Cooijmans et al.
        2016), 1.0 for layer norm.

    Returns
    -------
    dict with ``U`` (4H, D), ``W`` (4H, H), ``b`` (4H,), ``gx`` (4H,) and,
    for "batch" and "layer", ``gh`` (4H,), ``gc`` (H,), ``bc`` (H,) (zeros).
    """
    check_choice("norm", norm, tuple(NORMS))
    p = init_lstm(D, H, rng, dtype, forget_bias=forget_bias)
    dt = p["U"].dtype
    g = (1.0 if norm == "layer" else 0.1) if gamma is None else float(gamma)
    for key in NORMS[norm]:
        size = 4 * H if key in ("gx", "gh") else H
        p[key] = np.full(size, g if key != "bc" else 0.0, dtype=dt)
    return p


def _check(params, D, dtype, norm, x_name):
    check_choice("norm", norm, tuple(NORMS))
    check_width(x_name, D, params)
    H = hidden_size(params, "W", axis=1)
    expected = {"U": ((4 * H, D), "(4H, D)"), "W": ((4 * H, H), "(4H, H)"),
                "b": ((4 * H,), "(4H,)")}
    for key in NORMS[norm]:
        expected[key] = ((4 * H,), "(4H,)") if key in ("gx", "gh") else ((H,), "(H,)")
    check_params(params, expected, dtype)
    return H


# --------------------------------------------------------------------------
# one normalisation of one step's (N, F) term

def _norm_step(kind, v, gain, shift, stats_t, m_t, mode, momentum, eps):
    """Normalise v (N, F) of one step: "batch" (over the valid rows) or "layer".

    stats_t: {"mean": (1, F), "var": (1, F)} or None; m_t: (N, 1) or None.
    Returns y (N, F), the new stats_t (batch) or None, and the cache.
    """
    params = {"gamma": gain, "beta": np.zeros_like(gain) if shift is None else shift}
    if kind == "layer":
        y, cache = layernorm_forward(v, params, eps=eps)
        return y, None, ("layer", cache)
    y, st, cache = temporal_batchnorm_forward(v[:, None, :], params, stats_t, mode=mode,
                                              momentum=momentum, eps=eps, mask=m_t)
    return y[:, 0, :], st, ("batch", cache)


def _norm_step_backward(dy, cache):
    """dx (..., N, F) and {"gamma", "beta"} of :func:`_norm_step`."""
    kind, c = cache
    if kind == "layer":
        return layernorm_backward(dy, c)
    dx, grads = temporal_batchnorm_backward(dy[:, None, :], c)
    return dx[:, 0, :], grads


def _row(stats, key, t, F, dtype, mode):
    """Step t's running statistics {"mean": (1, F), "var": (1, F)} (or None to start)."""
    if stats is None or key not in stats:
        if mode == "eval":
            raise ValueError(f"stats: eval mode needs the running statistics of "
                             f"training (cache['stats'] of a train-mode call), got none "
                             f"for {key!r}")
        return None
    st = stats[key]
    Tmax = st["mean"].shape[0]
    if t >= Tmax:
        if mode == "train":
            return None                                     # a new step starts at 0, 1
        t = Tmax - 1                                        # beyond training: the last step
    return {"mean": st["mean"][t:t + 1], "var": st["var"][t:t + 1]}


def _grow(rows, old, F, dtype):
    """Per-step statistics (L, F) from the rows of this run and the old estimates."""
    T = len(rows)
    L = max(T, 0 if old is None else old["mean"].shape[0])
    mean = np.zeros((L, F), dtype=dtype)
    var = np.ones((L, F), dtype=dtype)
    if old is not None:
        Tm = old["mean"].shape[0]
        mean[:Tm], var[:Tm] = old["mean"], old["var"]
    for t, st in enumerate(rows):
        mean[t], var[t] = st["mean"][0], st["var"][0]
    return {"mean": mean, "var": var}


# --------------------------------------------------------------------------
# the cell's gates (standard LSTM) around the normalised terms

def _gates(z, c_prev, H):
    i = sigmoid(z[:, :H])                                  # input gate
    f = sigmoid(z[:, H:2 * H])                             # forget gate
    g = np.tanh(z[:, 2 * H:3 * H])                         # candidate
    o = sigmoid(z[:, 3 * H:])                              # output gate
    return i, f, g, o, f * c_prev + i * g                  # ..., new cell


def lstm_norm_step_forward(x_t, h_prev, c_prev, params, norm="layer", mode="train",
                           stats=None, t=0, momentum=0.1, eps=1e-5):
    """One step of a normalised LSTM (module docstring).

    Parameters
    ----------
    x_t : ndarray (N, D)
    h_prev, c_prev : ndarray (N, H) or None (zeros)
    params : from :func:`init_lstm_norm`
    norm, mode, momentum, eps : as for :func:`lstm_norm_forward`
    stats : running statistics (as ``cache["stats"]``) or None
    t : int, the step (which row of the per-step statistics to use)

    Returns
    -------
    h_t, c_t : ndarray (N, H)
    cache : dict for :func:`lstm_norm_step_backward` (``cache["gates"]``
        holds ``"i"``, ``"f"``, ``"g"``, ``"o"``, each (N, H))
    """
    x_t = check_float_array("x_t", x_t, ndim=2, shape_doc="(N, D)")
    h, c, cache = lstm_norm_forward(x_t[:, None, :], h_prev, c_prev, params, norm=norm,
                                    mode=mode, stats=_shift_stats(stats, t, norm),
                                    momentum=momentum, eps=eps)
    tr = cache["trace"]
    cache["gates"] = {k: tr[k][:, 0] for k in "ifgo"}
    return h[:, 0], c[:, 0], cache


def _shift_stats(stats, t, norm):
    """The statistics of step t as those of a one-step sequence."""
    if stats is None or norm == "layer":
        return stats
    out = {}
    for key, st in stats.items():
        if st["mean"].ndim == 1:                            # batch_input: one set for all
            out[key] = st
        else:
            r = min(t, st["mean"].shape[0] - 1)
            out[key] = {"mean": st["mean"][r:r + 1], "var": st["var"][r:r + 1]}
    return out


def lstm_norm_step_backward(dh_t, dc_t, cache):
    """Backward pass of :func:`lstm_norm_step_forward`.

    Returns
    -------
    dx_t : ndarray (N, D)
    dh_prev, dc_prev : ndarray (N, H)
    grads : dict with the keys of ``params``
    """
    N, H = cache["Hs"].shape[1:]
    dh_t = check_upstream("dh_t", dh_t, (N, H), "(N, H)", cache["Hs"].dtype)
    dc = None if dc_t is None else check_upstream("dc_t", dc_t, (N, H), "(N, H)",
                                                  cache["Hs"].dtype)[:, None]
    dx, dh0, dc0, grads = lstm_norm_backward(dh_t[:, None], cache, dc=dc)
    return dx[:, 0], dh0, dc0, grads


def lstm_norm_forward(x, h0, c0, params, mask=None, *, norm="layer", mode="train",
                      stats=None, momentum=0.1, eps=1e-5):
    """Run a normalised LSTM over whole sequences (module docstring).

    Parameters
    ----------
    x : ndarray (N, T, D)
    h0, c0 : ndarray (N, H) or None (zeros)
    params : from :func:`init_lstm_norm` (the keys ``norm`` needs)
    mask : ndarray (N, T) of 0/1, optional; batch statistics count only
        the valid sequences of each step
    norm : "batch", "batch_input" or "layer"
    mode : "train" (batch statistics) or "eval" (running statistics ``stats``)
    stats : the running statistics of earlier train-mode calls
        (``cache["stats"]``), or None to start from mean 0, variance 1
    momentum, eps : of the batch norms (:mod:`rnnlib.normalization`)

    Returns
    -------
    h, c : ndarray (N, T, H)
    cache : dict for :func:`lstm_norm_backward`; ``cache["trace"]`` holds
        ``"i"``, ``"f"``, ``"g"``, ``"o"``, ``"c"``, ``"h"`` (N, T, H) and
        ``cache["stats"]`` the new running statistics (batch norm; {} for
        layer norm): ``{"x", "h", "c": {"mean": (T_max, F), "var": ...}}``
        for "batch", ``{"x": {"mean": (4H,), "var": (4H,)}}`` for
        "batch_input".
    """
    x = check_sequence("x", x)
    N, T, D = x.shape
    H = _check(params, D, x.dtype, norm, "x")
    check_choice("mode", mode, ("train", "eval"))
    h0 = check_state("h0", h0, N, H, x.dtype)
    c0 = check_state("c0", c0, N, H, x.dtype)
    M = mask_time_major(mask, N, T, x.dtype)                       # (T, N, 1) or None
    U, W, b = params["U"], params["W"], params["b"]
    stats = {} if stats is None else stats
    if not isinstance(stats, dict):
        raise TypeError(f"stats: expected None or the dict cache['stats'] of a train-mode "
                        f"call, got {type(stats).__name__}")
    need = {"batch": ("x", "h", "c"), "batch_input": ("x",), "layer": ()}[norm]
    if mode == "eval" and any(k not in stats for k in need):
        raise ValueError(f"stats: eval mode needs the running statistics {list(need)} of "
                         f"train-mode calls (their cache['stats']), got {sorted(stats)}")

    # the input term of every step at once: U x_t, normalised
    ZX = (x.reshape(N * T, D) @ U.T).reshape(N, T, 4 * H)         # (N, T, 4H)
    gx = {"gamma": params["gx"], "beta": np.zeros_like(params["gx"])}
    new_stats = {}
    if norm == "batch":
        ZXn, new_stats["x"], cache_x = temporal_batchnorm_forward(
            ZX, gx, stats.get("x"), mode=mode, momentum=momentum, eps=eps, mask=mask)
    elif norm == "batch_input":
        ZXn, new_stats["x"], cache_x = batchnorm_forward(
            ZX, gx, stats.get("x"), mode=mode, momentum=momentum, eps=eps, mask=mask)
    else:
        ZXn, cache_x = layernorm_forward(ZX, gx, eps=eps)
    ZXn = time_major(ZXn)                                          # (T, N, 4H)

    step_norm = None if norm == "batch_input" else norm            # what N_h and N_c are
    Hs = np.empty((T + 1, N, H), dtype=x.dtype)
    Cs = np.empty((T + 1, N, H), dtype=x.dtype)
    Hs[0], Cs[0] = h0, c0
    gate_buf = {k: np.empty((T, N, H), dtype=x.dtype) for k in "ifgo"}
    Cnew = np.empty((T, N, H), dtype=x.dtype)                      # the raw new cell
    CN = np.empty((T, N, H), dtype=x.dtype)                        # its normalised form
    caches_h, caches_c, rows_h, rows_c = [], [], [], []
    for t in range(T):
        m = None if M is None else M[t]
        zh = Hs[t] @ W.T                                           # (N, 4H) recurrent term
        if step_norm is not None:
            zh, st_h, ch = _norm_step(step_norm, zh, params["gh"], None,
                                      _row(stats, "h", t, 4 * H, x.dtype, mode) if
                                      step_norm == "batch" else None, m, mode, momentum, eps)
            caches_h.append(ch)
            rows_h.append(st_h)
        i, f, g, o, c = _gates(ZXn[t] + zh + b, Cs[t], H)
        cn = c
        if step_norm is not None:
            cn, st_c, cc = _norm_step(step_norm, c, params["gc"], params["bc"],
                                      _row(stats, "c", t, H, x.dtype, mode) if
                                      step_norm == "batch" else None, m, mode, momentum, eps)
            caches_c.append(cc)
            rows_c.append(st_c)
        h = o * np.tanh(cn)                                        # h = o tanh(N_c(c))
        for k, v in zip("ifgo", (i, f, g, o)):
            gate_buf[k][t] = v
        Cnew[t], CN[t] = c, cn
        Cs[t + 1] = carry(m, c, Cs[t])                             # carry both states at padding
        Hs[t + 1] = carry(m, h, Hs[t])
    if norm == "batch":
        if mode == "train":
            new_stats["h"] = _grow(rows_h, stats.get("h"), 4 * H, x.dtype)
            new_stats["c"] = _grow(rows_c, stats.get("c"), H, x.dtype)
        else:
            new_stats = {k: {s: v.copy() for s, v in stats[k].items()} for k in stats}
    for a in (Hs, Cs, Cnew, CN, *gate_buf.values()):
        a.flags.writeable = False
    trace = {k: readonly_view(gate_buf[k]) for k in "ifgo"}
    trace["c"] = readonly_view(Cs[1:])
    trace["h"] = readonly_view(Hs[1:])
    cache = {"X": time_major(x), "Hs": Hs, "Cs": Cs, "Cnew": Cnew, "CN": CN, "M": M,
             "gate_buf": gate_buf, "norm": norm, "params": params, "cache_x": cache_x,
             "caches_h": caches_h, "caches_c": caches_c, "stats": new_stats, "trace": trace}
    return batch_first(Hs[1:]), batch_first(Cs[1:]), cache


def lstm_norm_backward(dh, cache, dc=None, truncate=None):
    """Backpropagation through time for :func:`lstm_norm_forward` (full BPTT).

    Per step, with ``n = N_c(c_t)``: ``do = dh tanh n``, the cell gets
    ``c̄ = dc + N_c'(dh o (1 - tanh^2 n)) + f_{t+1} c̄_{t+1}``, the gates as in
    :func:`rnnlib.lstm.lstm_gates_backward`, and the gradient on the
    pre-activations goes through ``N_h`` into ``W`` and ``h_{t-1}``, and
    (after the loop, for all steps at once) through ``N_x`` into ``U`` and
    ``x``. Batch statistics are differentiated through, as in
    :func:`rnnlib.normalization.batchnorm_backward`.

    Parameters
    ----------
    dh : ndarray (N, T, H)
    cache : dict from :func:`lstm_norm_forward`
    dc : ndarray (N, T, H) or None
    truncate : None only (the normalised cells do full BPTT)

    Returns
    -------
    dx : ndarray (N, T, D)
    dh0, dc0 : ndarray (N, H)
    grads : dict with the keys of ``params``
    """
    if truncate is not None:
        raise ValueError(f"truncate: the normalised LSTMs support full BPTT only "
                         f"(truncate=None), got {truncate!r}")
    X, Hs, Cs, M = cache["X"], cache["Hs"], cache["Cs"], cache["M"]
    T, N, D = X.shape
    H = Hs.shape[2]
    dh = check_upstream("dh", dh, (N, T, H), "(N, T, H)", X.dtype)
    dH = time_major(dh)
    dC = np.zeros_like(dH) if dc is None else \
        time_major(check_upstream("dc", dc, (N, T, H), "(N, T, H)", X.dtype))
    if M is not None:
        dH *= M                                                    # padding sends nothing
        dC *= M
    p, norm = cache["params"], cache["norm"]
    W = p["W"]
    step_norm = norm != "batch_input"
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    dZXn = np.empty((T, N, 4 * H), dtype=X.dtype)
    gh_next = np.zeros((N, H), dtype=X.dtype)
    gc_next = np.zeros((N, H), dtype=X.dtype)
    for s in range(T - 1, -1, -1):
        m = 1.0 if M is None else M[s]
        gh_total, gc_total = dH[s] + gh_next, dC[s] + gc_next     # on h_s, c_s
        gh, gc = gh_total * m, gc_total * m                        # this step's share
        i, f, g, o = (cache["gate_buf"][k][s] for k in "ifgo")
        tn = np.tanh(cache["CN"][s])
        do = gh * tn                                               # through h = o tanh(n)
        dn = gh * o * (1 - tn * tn)
        if step_norm:                                              # through N_c
            dn, gnc = _norm_step_backward(dn, cache["caches_c"][s])
            grads["gc"] += gnc["gamma"]
            grads["bc"] += gnc["beta"]
        dcell = gc + dn                                            # total gradient on c_t
        dz = np.concatenate([dcell * g * i * (1 - i),              # through sigma of i
                             dcell * Cs[s] * f * (1 - f),          # through sigma of f
                             dcell * i * (1 - g * g),              # through tanh of g
                             do * o * (1 - o)], axis=1)            # through sigma of o
        dZXn[s] = dz
        dzh = dz
        if step_norm:                                              # through N_h
            dzh, gnh = _norm_step_backward(dz, cache["caches_h"][s])
            grads["gh"] += gnh["gamma"]
        grads["W"] += dzh.T @ Hs[s]
        keep = 1.0 - m                                             # carried at padding
        gh_next = dzh @ W + gh_total * keep                        # into h_{s-1}
        gc_next = dcell * f + gc_total * keep                      # into c_{s-1}
    grads["b"] = dZXn.reshape(T * N, 4 * H).sum(axis=0)
    dZXn_bf = batch_first(dZXn)                                    # (N, T, 4H)
    if norm == "batch":
        dZX, gnx = temporal_batchnorm_backward(dZXn_bf, cache["cache_x"])
    elif norm == "batch_input":
        dZX, gnx = batchnorm_backward(dZXn_bf, cache["cache_x"])
    else:
        dZX, gnx = layernorm_backward(dZXn_bf, cache["cache_x"])
    grads["gx"] = gnx["gamma"]
    dZX2 = dZX.reshape(N * T, 4 * H)
    grads["U"] = dZX2.T @ batch_first(X).reshape(N * T, D)
    dx = (dZX2 @ p["U"]).reshape(N, T, D)
    return dx, gh_next, gc_next, grads


# --------------------------------------------------------------------------
# registration

def _register(name, norm, summary):
    def init(D, H, rng, dtype=np.float64):
        return init_lstm_norm(D, H, rng, dtype, norm=norm)

    def step_forward(x_t, state, params):
        h, c, cache = lstm_norm_step_forward(x_t, state[0], state[1], params, norm=norm)
        return h, (h, c), cache

    def step_backward(dstate, cache):
        dx, dh_prev, dc_prev, grads = lstm_norm_step_backward(dstate[0], dstate[1], cache)
        return dx, (dh_prev, dc_prev), grads

    def forward(x, state0, params, mask=None):
        h, c, cache = lstm_norm_forward(x, state0[0], state0[1], params, mask=mask, norm=norm)
        return (h, c), cache

    def backward(dstates, cache, truncate=None):
        dx, dh0, dc0, grads = lstm_norm_backward(dstates[0], cache, dc=dstates[1],
                                                 truncate=truncate)
        return dx, (dh0, dc0), grads

    register_cell(Cell(
        name=name, summary=summary, state=("h", "c"), gates=(),
        trace=("i", "f", "g", "o", "c", "h"), options={}, init=init,
        step_forward=step_forward, step_backward=step_backward, forward=forward,
        backward=backward, module=__name__, couples_batch=norm != "layer",
        truncates=False, stepwise=norm != "batch_input"))


_register("lstm_bn", "batch", "LSTM with batch norm per step (Cooijmans et al. 2016)")
_register("lstm_bn_input", "batch_input", "LSTM with batch norm on U x only (Laurent et al. 2016)")
_register("lstm_ln", "layer", "LSTM with layer norm (Ba et al. 2016)")
