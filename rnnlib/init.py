"""Parameter initialisation for every rnnlib cell, with an explicit ``rng``.

Default scale (the same as PyTorch's ``nn.RNN``/``nn.LSTM``/``nn.GRU``):
every weight and bias is drawn from uniform(-1/sqrt(H), 1/sqrt(H)), where H
is the hidden size (for the output layer ``V``, H is its input size). Biases
are small but not zero, so a gradient check cannot pass by accident because
a bias term vanishes.

One deliberate difference, documented in :func:`init_lstm`: the LSTM forget
gate bias is shifted by ``forget_bias = 1.0`` by default, so that a fresh
LSTM starts by remembering (f = sigmoid(1) ~ 0.73) rather than half
forgetting (Gers et al. 2000; Jozefowicz et al. 2015). Pass
``forget_bias=0.0`` for PyTorch's distribution.

Shapes use the letters of the package docstring (D input, H hidden,
K output). Gate blocks are stacked in PyTorch's order: LSTM (i, f, g, o),
GRU (r, z, n).
"""

from __future__ import annotations

import numpy as np

from ._validate import check_choice, check_positive_int, check_rng

__all__ = ["init_rnn", "init_lstm", "init_gru", "init_jordan", "init_affine", "LSTM_BLOCKS",
           "set_spectral_radius"]


def _dtype(dtype):
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype: expected float32 or float64, got {dt}")
    return dt


def _uniform(rng, shape, scale, dtype):
    return rng.uniform(-scale, scale, size=shape).astype(dtype)


def init_rnn(D, H, rng, dtype=np.float64):
    """Parameters of an Elman RNN, ``h_t = act(U x_t + W h_{t-1} + b)``.

    Parameters
    ----------
    D, H : int
        Input and hidden sizes.
    rng : np.random.Generator
    dtype : float32 or float64

    Returns
    -------
    dict with ``U`` (H, D), ``W`` (H, H), ``b`` (H,), each uniform(-1/sqrt(H), 1/sqrt(H)).
    """
    D = check_positive_int("D", D)
    H = check_positive_int("H", H)
    rng = check_rng(rng)
    dt = _dtype(dtype)
    s = 1.0 / np.sqrt(H)
    return {"U": _uniform(rng, (H, D), s, dt),
            "W": _uniform(rng, (H, H), s, dt),
            "b": _uniform(rng, (H,), s, dt)}


#: the gate blocks each LSTM variant stacks in U, W, b, in this order
#: (rnnlib.lstm documents the variants and re-exports this as LSTM_VARIANTS)
LSTM_BLOCKS = {
    "standard": ("i", "f", "g", "o"),
    "no_forget": ("i", "g", "o"),
    "coupled": ("i", "g", "o"),
    "no_output": ("i", "f", "g"),
}


def init_lstm(D, H, rng, dtype=np.float64, forget_bias=1.0, variant="standard",
              peephole=False):
    """Parameters of an LSTM, gate blocks stacked (i, f, g, o) as in PyTorch.

    Everything is uniform(-1/sqrt(H), 1/sqrt(H)); then ``forget_bias`` is
    added to the forget block ``b[H:2H]`` (default 1.0, so a new cell keeps
    about 73% of its memory per step; 0.0 gives PyTorch's distribution).

    Parameters
    ----------
    D, H : int
    rng : np.random.Generator
    dtype : float32 or float64
    forget_bias : float (ignored by variants without a forget block)
    variant : "standard", "no_forget", "coupled" or "no_output"
        (:mod:`rnnlib.lstm`); the variants stack three blocks, not four.
    peephole : bool, also draw the peephole vectors ``p_*`` (H,)

    Returns
    -------
    dict with ``U`` (nH, D), ``W`` (nH, H), ``b`` (nH,), n = 4 for the
    standard LSTM and 3 for the variants; with ``peephole``, ``p_i``,
    ``p_f``, ``p_o`` (H,) for the sigmoid gates the variant has.
    """
    D = check_positive_int("D", D)
    H = check_positive_int("H", H)
    rng = check_rng(rng)
    check_choice("variant", variant, tuple(LSTM_BLOCKS))
    if not isinstance(peephole, bool):
        raise TypeError(f"peephole: expected True or False, got {peephole!r}")
    blocks = LSTM_BLOCKS[variant]
    n = len(blocks)
    dt = _dtype(dtype)
    s = 1.0 / np.sqrt(H)
    p = {"U": _uniform(rng, (n * H, D), s, dt),
         "W": _uniform(rng, (n * H, H), s, dt),
         "b": _uniform(rng, (n * H,), s, dt)}
    if "f" in blocks:
        j = blocks.index("f")
        p["b"][j * H:(j + 1) * H] += dt.type(forget_bias)
    if peephole:
        for k in blocks:
            if k in ("i", "f", "o"):
                p[f"p_{k}"] = _uniform(rng, (H,), s, dt)
    return p


def init_gru(D, H, rng, dtype=np.float64, reset="after"):
    """Parameters of a GRU, gate blocks stacked (r, z, n) as in PyTorch.

    Parameters
    ----------
    D, H : int
    rng : np.random.Generator
    dtype : float32 or float64
    reset : "after" or "before"
        "after" (PyTorch, the book's choice) adds ``bhn`` (H,), the bias of
        the recurrent product of the candidate, which sits inside the reset
        gate's product; "before" (Cho et al. 2014) has no such bias.

    Returns
    -------
    dict with ``U`` (3H, D), ``W`` (3H, H), ``b`` (3H,) and, for
    reset="after", ``bhn`` (H,).
    """
    D = check_positive_int("D", D)
    H = check_positive_int("H", H)
    rng = check_rng(rng)
    check_choice("reset", reset, {"after", "before"})
    dt = _dtype(dtype)
    s = 1.0 / np.sqrt(H)
    p = {"U": _uniform(rng, (3 * H, D), s, dt),
         "W": _uniform(rng, (3 * H, H), s, dt),
         "b": _uniform(rng, (3 * H,), s, dt)}
    if reset == "after":
        p["bhn"] = _uniform(rng, (H,), s, dt)
    return p


def init_jordan(D, H, K, rng, dtype=np.float64):
    """Parameters of a Jordan network, ``h_t = act(U x_t + W y_{t-1} + b)``, ``y_t = V h_t + c``.

    Returns
    -------
    dict with ``U`` (H, D), ``W`` (H, K), ``b`` (H,), ``V`` (K, H), ``c`` (K,);
    U, W, b uniform(-1/sqrt(H), 1/sqrt(H)), V and c as in :func:`init_affine`.
    """
    D = check_positive_int("D", D)
    H = check_positive_int("H", H)
    K = check_positive_int("K", K)
    rng = check_rng(rng)
    dt = _dtype(dtype)
    s = 1.0 / np.sqrt(H)
    p = {"U": _uniform(rng, (H, D), s, dt),
         "W": _uniform(rng, (H, K), s, dt),
         "b": _uniform(rng, (H,), s, dt)}
    p.update(init_affine(H, K, rng, dt))
    return p


def init_affine(H, K, rng, dtype=np.float64):
    """Parameters of the output layer ``o_t = V h_t + c``.

    Returns
    -------
    dict with ``V`` (K, H) and ``c`` (K,), uniform(-1/sqrt(H), 1/sqrt(H))
    (PyTorch's ``nn.Linear`` default).
    """
    H = check_positive_int("H", H)
    K = check_positive_int("K", K)
    rng = check_rng(rng)
    dt = _dtype(dtype)
    s = 1.0 / np.sqrt(H)
    return {"V": _uniform(rng, (K, H), s, dt), "c": _uniform(rng, (K,), s, dt)}


def set_spectral_radius(W, rho):
    """Return a copy of the square matrix ``W`` rescaled to spectral radius ``rho``.

    .. math:: W' = \\rho \\, W / \\max_i |\\lambda_i(W)|

    Parameters
    ----------
    W : ndarray (H, H), float
    rho : float >= 0

    Returns
    -------
    ndarray (H, H), same dtype as ``W``.
    """
    from ._validate import check_float_array
    W = check_float_array("W", W, ndim=2, shape_doc="(H, H)")
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W: expected a square matrix (H, H), got shape {W.shape}")
    if isinstance(rho, bool) or not isinstance(rho, (int, float, np.integer, np.floating)) \
            or not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho: expected a finite number >= 0, got {rho!r}")
    radius = np.max(np.abs(np.linalg.eigvals(W.astype(np.float64))))
    if radius == 0:
        raise ValueError("W: expected a matrix with a non-zero eigenvalue "
                         "(spectral radius 0 cannot be rescaled), got a nilpotent matrix")
    return (W * (float(rho) / radius)).astype(W.dtype)
