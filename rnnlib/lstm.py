"""Long short-term memory (LSTM) over whole sequences, with exact or truncated BPTT.

.. math::

    i_t &= \\sigma(U_i x_t + W_i h_{t-1} + b_i) \\quad &\\text{input gate}\\\\
    f_t &= \\sigma(U_f x_t + W_f h_{t-1} + b_f) \\quad &\\text{forget gate}\\\\
    g_t &= \\tanh(U_g x_t + W_g h_{t-1} + b_g) \\quad &\\text{candidate}\\\\
    o_t &= \\sigma(U_o x_t + W_o h_{t-1} + b_o) \\quad &\\text{output gate}\\\\
    c_t &= f_t \\odot c_{t-1} + i_t \\odot g_t \\quad &\\text{cell state}\\\\
    h_t &= o_t \\odot \\tanh(c_t) \\quad &\\text{hidden state}

The four gate blocks are stacked in PyTorch's order (i, f, g, o):
``U`` (4H, D), ``W`` (4H, H), ``b`` (4H,), so one product ``x @ U.T`` gives
all four pre-activations. ``b`` is PyTorch's ``bias_ih + bias_hh``.

Masks and ``truncate`` work as in :mod:`rnnlib.rnn`: at a masked step both
the hidden state and the cell are carried over unchanged; BPTT(k) carries
the gradients that enter at step t (from ``dh[:, t]`` and ``dc[:, t]``)
back to steps t-k+1 .. t only.

Inside the cell the sigmoid is computed as ``0.5 * tanh(x / 2) + 0.5``
(the same function, one transcendental call per element and no branch);
it agrees with :func:`rnnlib.activations.sigmoid` to about 1e-16 absolute.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_float_array, check_params, check_sequence
from .rnn import (_batch_first, _bptt_loop, _check_state, _check_truncate,
                  _check_upstream, _dim, _mask_time_major, _readonly_view,
                  _time_major)

__all__ = ["lstm_forward", "lstm_backward", "lstm_step_forward", "lstm_step_backward"]


def _sigmoid_(z):
    """Sigmoid in place: z <- 0.5 * tanh(0.5 z) + 0.5 (stable everywhere)."""
    z *= 0.5
    np.tanh(z, out=z)
    z *= 0.5
    z += 0.5
    return z


def _lstm_expected(D, H):
    return {"U": ((4 * H, D), "(4H, D)"), "W": ((4 * H, H), "(4H, H)"),
            "b": ((4 * H,), "(4H,)")}


def _check_lstm_params(params, D, dtype):
    H = _dim(params, "W", 1)
    H = 1 if H is None else H
    check_params(params, _lstm_expected(D, H), dtype)
    return H


def _gates_forward(z, c_prev, H):
    """Turn pre-activations z (N, 4H) into gates in place; return (c, tanh c)."""
    _sigmoid_(z[:, :2 * H])                      # i, f
    np.tanh(z[:, 2 * H:3 * H], out=z[:, 2 * H:3 * H])   # g
    _sigmoid_(z[:, 3 * H:])                      # o
    i, f, g = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H]
    c = f * c_prev + i * g
    return c, np.tanh(c)


def _gates_backward(gh, gc, gates, tc, c_prev, H):
    """Gradients on the four pre-activations (..., N, 4H) and on c_{t-1}.

    gh, gc: gradients on h_t and c_t; gates: (N, 4H) = [i, f, g, o];
    tc = tanh(c_t).
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


def _full_backward(dH, dC, G, Cs, TC, W, dZ):
    """Full BPTT without a mask, with preallocated buffers (the fast path).

    Same arithmetic as :func:`_gates_backward` step by step, written with
    ``out=`` so that the loop allocates nothing; fills dZ (T, N, 4H) and
    returns (dh0, dc0).
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


def lstm_step_forward(x_t, h_prev, c_prev, params):
    """One LSTM step (equations in the module docstring).

    Parameters
    ----------
    x_t : ndarray (N, D)
    h_prev, c_prev : ndarray (N, H)
    params : dict with ``U`` (4H, D), ``W`` (4H, H), ``b`` (4H,)

    Returns
    -------
    h_t, c_t : ndarray (N, H)
    cache : dict for :func:`lstm_step_backward` (``cache["gates"]`` is
        (N, 4H) = [i, f, g, o])
    """
    x_t = check_float_array("x_t", x_t, ndim=2, shape_doc="(N, D)")
    N, D = x_t.shape
    H = _check_lstm_params(params, D, x_t.dtype)
    h_prev = _check_state("h_prev", h_prev, N, H, x_t.dtype)
    c_prev = _check_state("c_prev", c_prev, N, H, x_t.dtype)
    z = x_t @ params["U"].T + h_prev @ params["W"].T + params["b"]   # (N, 4H)
    c_t, tc = _gates_forward(z, c_prev, H)                           # z now holds the gates
    h_t = z[:, 3 * H:] * tc
    cache = {"x": x_t, "h_prev": h_prev, "c_prev": c_prev, "gates": z,
             "tc": tc, "h": h_t, "c": c_t, "params": params}
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
    grads : dict ``U`` (4H, D), ``W`` (4H, H), ``b`` (4H,)
    """
    h = cache["h"]
    N, H = h.shape
    p = cache["params"]
    dh_t = _check_upstream("dh_t", dh_t, (N, H), "(N, H)", h.dtype)
    dc_t = np.zeros_like(h) if dc_t is None else \
        _check_upstream("dc_t", dc_t, (N, H), "(N, H)", h.dtype)
    dz, dc_prev = _gates_backward(dh_t, dc_t, cache["gates"], cache["tc"],
                                  cache["c_prev"], H)
    grads = {"U": dz.T @ cache["x"], "W": dz.T @ cache["h_prev"], "b": dz.sum(axis=0)}
    return dz @ p["U"], dz @ p["W"], dc_prev, grads


def lstm_forward(x, h0, c0, params, mask=None):
    """Run an LSTM over whole sequences (equations in the module docstring).

    Parameters
    ----------
    x : ndarray (N, T, D), float32 or float64
    h0, c0 : ndarray (N, H) or None (zeros)
    params : dict with ``U`` (4H, D), ``W`` (4H, H), ``b`` (4H,)
    mask : ndarray (N, T) of 0/1, optional

    Returns
    -------
    h : ndarray (N, T, H), hidden states
    c : ndarray (N, T, H), cell states
    cache : dict for :func:`lstm_backward`; ``cache["trace"]`` holds
        ``"i"``, ``"f"``, ``"g"``, ``"o"``, ``"c"``, ``"h"``, each (N, T, H).
    """
    x = check_sequence("x", x)
    N, T, D = x.shape
    H = _check_lstm_params(params, D, x.dtype)
    h0 = _check_state("h0", h0, N, H, x.dtype)
    c0 = _check_state("c0", c0, N, H, x.dtype)
    M = _mask_time_major(mask, N, T, x.dtype)                      # (T, N, 1) or None
    U, W, b = params["U"], params["W"], params["b"]

    # Every gate is computed from one tanh over the contiguous (N, 4H) row:
    # sigma(z) = 0.5 tanh(z / 2) + 0.5, so the i, f, o rows of U, W, b are
    # halved once here (exact: scaling by a power of 2 commutes with floating
    # point) and after the tanh i, f, o get "* 0.5 + 0.5" while g is the tanh.
    half = np.ones(4 * H, dtype=x.dtype)
    half[:2 * H] = 0.5
    half[3 * H:] = 0.5
    Us, WsT, bs = U * half[:, None], (W * half[:, None]).T, b * half   # (4H, D), (H, 4H), (4H,)

    X = _time_major(x)                                             # (T, N, D)
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
    for a in (G, Hs, Cs, TC):
        a.flags.writeable = False
    trace = {k: _readonly_view(G[:, :, j * H:(j + 1) * H]) for j, k in enumerate("ifgo")}
    trace["c"] = _readonly_view(Cs[1:])
    trace["h"] = _readonly_view(Hs[1:])
    cache = {"X": X, "G": G, "Hs": Hs, "Cs": Cs, "TC": TC, "M": M,
             "params": params, "trace": trace}
    return _batch_first(Hs[1:]), _batch_first(Cs[1:]), cache


def lstm_backward(dh, cache, dc=None, truncate=None):
    """Backpropagation through time for :func:`lstm_forward`.

    With ``\\bar c_t`` the total gradient on the cell,

    .. math::

        \\bar c_t = \\partial L/\\partial c_t + f_{t+1} \\odot \\bar c_{t+1}
                    + \\bar h_t \\odot o_t \\odot (1 - \\tanh^2 c_t),

    the gate gradients are ``di = c̄ g``, ``df = c̄ c_{t-1}``, ``dg = c̄ i``,
    ``do = h̄ tanh c_t``, each times its activation's derivative, and the
    hidden gradient is ``h̄_{t-1} = ∂L/∂h_{t-1} + W^T dz_t``.

    Parameters
    ----------
    dh : ndarray (N, T, H), upstream gradient on every ``h[:, t]``
    cache : dict from :func:`lstm_forward`
    dc : ndarray (N, T, H) or None, upstream gradient on every ``c[:, t]``
    truncate : int >= 1 or None, BPTT(k) (see :mod:`rnnlib.rnn`)

    Returns
    -------
    dx : ndarray (N, T, D)
    dh0, dc0 : ndarray (N, H)
    grads : dict ``U`` (4H, D), ``W`` (4H, H), ``b`` (4H,)
    """
    X, G, Hs, Cs, TC, M = (cache[k] for k in ("X", "G", "Hs", "Cs", "TC", "M"))
    T, N, D = X.shape
    H = Hs.shape[2]
    dh = _check_upstream("dh", dh, (N, T, H), "(N, T, H)", X.dtype)
    if dc is not None:
        dc = _check_upstream("dc", dc, (N, T, H), "(N, T, H)", X.dtype)
    truncate = _check_truncate(truncate)
    U, W = cache["params"]["U"], cache["params"]["W"]

    dH = _time_major(dh)                                           # (T, N, H)
    dC = np.zeros_like(dH) if dc is None else _time_major(dc)
    if M is not None:
        dH *= M                                                    # padding sends nothing
        dC *= M

    dZ = np.empty(G.shape, dtype=G.dtype)                          # (T, N, 4H)
    if M is None and (truncate is None or truncate >= T):
        dh0, dc0 = _full_backward(dH, None if dc is None else dC, G, Cs, TC, W, dZ)
    else:
        def step_back(s, gs):
            gh, gc = gs
            if M is None:
                dz, gc_prev = _gates_backward(gh, gc, G[s], TC[s], Cs[s], H)
                return (dz,), (dz @ W, gc_prev)                    # into h_{s-1}, c_{s-1}
            dz, gc_prev = _gates_backward(gh * M[s], gc * M[s], G[s], TC[s], Cs[s], H)
            keep = 1 - M[s]                                        # carried states
            return (dz,), (dz @ W + gh * keep, gc_prev + gc * keep)

        dh0, dc0 = _bptt_loop(T, step_back, (dH, dC), ((N, H), (N, H)), (dZ,),
                              truncate, X.dtype)

    dZ2 = dZ.reshape(T * N, 4 * H)
    grads = {"U": dZ2.T @ X.reshape(T * N, D),                     # (4H, D)
             "W": dZ2.T @ Hs[:-1].reshape(T * N, H),               # (4H, H)
             "b": dZ2.sum(axis=0)}                                 # (4H,)
    dx = _batch_first((dZ2 @ U).reshape(T, N, D))                  # (N, T, D)
    return dx, dh0, dc0, grads
