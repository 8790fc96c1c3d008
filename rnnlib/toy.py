"""Chapter 1 helpers: the all-ones toy network, memory probes and diagrams.

The toy network is the small linear RNN that the source notes use to show
that a recurrent network has memory: ``D = 2`` inputs, ``H = 2`` hidden
units, ``K = 2`` outputs, every weight 1, no bias, linear units, started
from ``h_0 = 0``:

.. math::

    h_t = U x_t + W h_{t-1}, \\qquad o_t = V h_t .

Two wirings of the recurrent matrix ``W`` (H, H) are compared:

* ``"full"``: every hidden unit reads *both* stored values,
  ``W = ones((2, 2))`` (the usual fully connected recurrence);
* ``"own"``: every hidden unit reads only its own stored value, ``W = I``.

All numerics go through :func:`rnnlib.rnn.rnn_forward` (``activation=
"linear"``) and :func:`rnnlib.affine.affine_forward`; this module only
builds the parameters and draws pictures of the results. The drawing
functions take precomputed arrays and ``ax=None`` and return the axes; they
import matplotlib lazily and change no global settings.
"""

from __future__ import annotations

import numpy as np

from rnnlib import _validate as V
from rnnlib.affine import affine_forward
from rnnlib.rnn import rnn_forward

__all__ = [
    "WIRINGS",
    "IO_PATTERNS",
    "toy_params",
    "toy_forward",
    "all_ones_example",
    "input_influence",
    "linear_jordan_delay_mse",
    "draw_unrolling",
    "draw_io_pattern",
    "draw_unrolled_toy",
]

#: cross weight (off-diagonal entry of ``W``) for each wiring of the toy net
WIRINGS = {"full": 1.0, "own": 0.0}

#: the four input/output patterns drawn by :func:`draw_io_pattern`
IO_PATTERNS = ("one-to-many", "many-to-one", "many-to-many", "synced many-to-many")


# --------------------------------------------------------------------------
# numerics
# --------------------------------------------------------------------------

def toy_params(u: float = 1.0, w_self: float = 1.0, w_cross: float = 1.0,
               v: float = 1.0, D: int = 2, H: int = 2, K: int = 2,
               dtype=np.float64) -> tuple[dict, dict]:
    """Parameters of the toy linear RNN with one value per weight group.

    .. math::

        U = u \\mathbf{1}_{H \\times D}, \\quad
        W = w_\\text{self} I_H + w_\\text{cross} (\\mathbf{1}_{H \\times H} - I_H),
        \\quad V = v \\mathbf{1}_{K \\times H}, \\quad b = 0, \\quad c = 0.

    ``u = w_self = w_cross = v = 1`` is the all-ones network with the fully
    connected recurrence; ``w_cross = 0`` lets each hidden unit read only its
    own stored value.

    Parameters
    ----------
    u, w_self, w_cross, v : float
        Input-to-hidden weight, recurrent weight of a unit onto itself,
        recurrent weight between different units, hidden-to-output weight.
    D, H, K : int
        Input, hidden and output sizes (2, 2, 2 in the source's example).
    dtype : float32 or float64

    Returns
    -------
    params_rnn : dict
        ``{"U": (H, D), "W": (H, H), "b": (H,)}`` for ``rnn_forward``.
    params_out : dict
        ``{"V": (K, H), "c": (K,)}`` for ``affine_forward``.
    """
    for name, value in (("u", u), ("w_self", w_self), ("w_cross", w_cross), ("v", v)):
        V.check_real(name, value)
    D = V.check_positive_int("D", D)
    H = V.check_positive_int("H", H)
    K = V.check_positive_int("K", K)
    dtype = np.dtype(dtype)
    if dtype.type not in V.FLOAT_DTYPES:
        raise TypeError(f"dtype: expected float32 or float64, got {dtype}")
    eye = np.eye(H, dtype=dtype)
    params_rnn = {
        "U": np.full((H, D), u, dtype=dtype),
        "W": (w_self * eye + w_cross * (1.0 - eye)).astype(dtype),
        "b": np.zeros(H, dtype=dtype),
    }
    params_out = {
        "V": np.full((K, H), v, dtype=dtype),
        "c": np.zeros(K, dtype=dtype),
    }
    return params_rnn, params_out


def _as_sequence(inputs, D: int | None = None) -> np.ndarray:
    """Turn a (T, D) list/array of numbers into a float64 array (1, T, D)."""
    try:
        arr = np.asarray(inputs, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"inputs: expected a (T, D) array or nested list of numbers, got "
            f"{V._describe(inputs)}") from err
    if arr.ndim != 2:
        raise ValueError(f"inputs: expected a 2-d array of shape (T, D), got shape {arr.shape}")
    if D is not None and arr.shape[1] != D:
        raise ValueError(f"inputs: expected shape (T, D) with D = {D}, got {arr.shape}")
    V.check_sequence("inputs", arr[None])
    return arr[None]


def toy_forward(inputs, params_rnn: dict, params_out: dict,
                h0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run one sequence through a linear RNN and its output layer.

    .. math::

        h_t = U x_t + W h_{t-1} + b, \\qquad o_t = V h_t + c

    computed with ``rnn_forward(activation="linear")`` and ``affine_forward``.

    Parameters
    ----------
    inputs : array_like (T, D)
        One sequence (numbers, lists accepted; converted to float64).
    params_rnn : dict
        ``{"U": (H, D), "W": (H, H), "b": (H,)}`` in float64.
    params_out : dict
        ``{"V": (K, H), "c": (K,)}`` in float64.
    h0 : ndarray (H,), optional
        Initial state; zeros when omitted.

    Returns
    -------
    hidden : ndarray (T, H)
    outputs : ndarray (T, K)
    """
    if not isinstance(params_rnn, dict) or "U" not in params_rnn:
        raise TypeError(f"params_rnn: expected a dict with 'U', 'W', 'b', got "
                        f"{V._describe(params_rnn)}")
    H, D = np.shape(params_rnn["U"])
    x = _as_sequence(inputs, D)
    if h0 is None:
        h0 = np.zeros((1, H))
    else:
        h0 = V.check_float_array("h0", h0, ndim=1, shape_doc="(H,)", dtype=np.float64)
        V.check_shape("h0", h0, (H,), "(H,)")
        h0 = h0[None]
    h, _ = rnn_forward(x, h0, params_rnn, activation="linear")   # (1, T, H)
    o, _ = affine_forward(h, params_out)                          # (1, T, K)
    return h[0], o[0]


def all_ones_example(inputs=((1, 1), (1, 1), (2, 2)), wiring: str = "full"
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The all-ones linear RNN of the source notes under one wiring.

    Every weight is 1, there is no bias, the units are linear and
    ``h_0 = 0``; ``wiring`` chooses the recurrent matrix:
    ``"full"`` is ``W = ones((2, 2))`` (each hidden unit reads both stored
    values), ``"own"`` is ``W = I`` (each reads only its own). Each output is
    the sum of the two hidden units.

    Parameters
    ----------
    inputs : array_like (T, 2)
        The input sequence; default ``[1, 1], [1, 1], [2, 2]``.
    wiring : {"full", "own"}

    Returns
    -------
    hidden : ndarray (T, 2)
        ``[[2, 2], [6, 6], [16, 16]]`` (full) or ``[[2, 2], [4, 4], [8, 8]]``
        (own) for the default inputs.
    outputs : ndarray (T, 2)
        ``4, 12, 32`` (full) or ``4, 8, 16`` (own) in both columns.
    """
    V.check_choice("wiring", wiring, WIRINGS)
    params_rnn, params_out = toy_params(w_cross=WIRINGS[wiring])
    return toy_forward(inputs, params_rnn, params_out)


def input_influence(x: np.ndarray, h0: np.ndarray, params: dict,
                    perturbation: np.ndarray, step: int = 0,
                    activation: str = "tanh") -> np.ndarray:
    """How far every later hidden state moves when one input is nudged.

    .. math::

        d_t = \\lVert h_t(x + \\delta e_s) - h_t(x) \\rVert_2, \\qquad t = 0, \\dots, T-1

    where ``e_s`` marks time step ``s = step`` and ``delta`` is
    ``perturbation``. Because ``h_t`` is also the last state of the prefix
    ``x[:, :t+1]``, one run of length ``T`` gives the effect on ``h_T`` for
    every sequence length at once. ``d_t = 0`` for ``t < step``.

    Parameters
    ----------
    x : ndarray (N, T, D)
    h0 : ndarray (N, H)
    params : dict
        ``{"U": (H, D), "W": (H, H), "b": (H,)}``.
    perturbation : ndarray (N, D)
        Added to ``x[:, step]``.
    step : int
        The perturbed time step (0-based).
    activation : {"tanh", "relu", "linear"}

    Returns
    -------
    d : ndarray (N, T)
        Euclidean distance between the two hidden-state trajectories.
    """
    x = V.check_sequence("x", x)
    N, T, D = x.shape
    perturbation = V.check_float_array("perturbation", perturbation, ndim=2,
                                       shape_doc="(N, D)", dtype=x.dtype)
    V.check_shape("perturbation", perturbation, (N, D), "(N, D)")
    step = V.check_positive_int("step", step, minimum=0)
    if step >= T:
        raise ValueError(f"step: expected an integer in [0, T-1] = [0, {T - 1}], got {step}")
    x_moved = x.copy()
    x_moved[:, step] += perturbation
    h, _ = rnn_forward(x, h0, params, activation=activation)          # (N, T, H)
    h_moved, _ = rnn_forward(x_moved, h0, params, activation=activation)
    return np.linalg.norm(h_moved - h, axis=-1)                        # (N, T)


def linear_jordan_delay_mse(a, beta, delay: int = 1):
    """Stationary MSE of a scalar linear recursion asked to repeat a past input.

    A linear Jordan network with one output, ``y_t = V(U x_t + W y_{t-1} + b) + c``,
    collapses (whatever its hidden size) to ``y_t = a x_t + beta y_{t-1} + d``
    with ``a = V U`` and ``beta = V W``. Its impulse response is geometric,
    ``y_t = sum_k a beta^k x_{t-k}`` (plus a constant, zero at the optimum),
    so for i.i.d. inputs of zero mean and unit variance the error against the
    target ``x_{t - delay}`` is

    .. math::

        \\mathbb{E}(y_t - x_{t-\\text{delay}})^2
        = \\sum_k (a \\beta^k - [k = \\text{delay}])^2
        = \\frac{a^2}{1 - \\beta^2} - 2 a \\beta^{\\text{delay}} + 1,
        \\qquad |\\beta| < 1 .

    Its minimum over ``a, beta`` is
    ``1 - (delay/(delay+1))**delay / (delay+1)`` (3/4 for delay 1), never 0.

    Parameters
    ----------
    a, beta : float or ndarray (broadcastable)
        ``|beta| < 1`` (otherwise the recursion has no stationary error).
    delay : int, >= 1

    Returns
    -------
    mse : float or ndarray
    """
    delay = V.check_positive_int("delay", delay)
    a = np.asarray(a, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    if not np.all(np.isfinite(a)) or not np.all(np.isfinite(beta)):
        raise ValueError("a, beta: expected finite values")
    if np.any(np.abs(beta) >= 1):
        raise ValueError(f"beta: expected |beta| < 1, got max |beta| = {np.abs(beta).max()}")
    mse = a ** 2 / (1.0 - beta ** 2) - 2.0 * a * beta ** delay + 1.0
    return float(mse) if mse.ndim == 0 else mse


# --------------------------------------------------------------------------
# drawing (takes precomputed arrays, returns the axes)
# --------------------------------------------------------------------------

_COLORS = {"x": "#d9ead3", "h": "#cfe2f3", "o": "#f4cccc", "edge": "#333333",
           "ctx": "#fff2cc"}


def _box(ax, xy, text, color, w=0.7, h=0.5, fontsize=10, alpha=1.0, bold=False):
    from matplotlib.patches import FancyBboxPatch
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=color, edgecolor=_COLORS["edge"],
                                linewidth=1.2, alpha=alpha))
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize,
                alpha=alpha, fontweight="bold" if bold else "normal")


def _arrow(ax, start, end, color=None, alpha=1.0, rad=0.0, lw=1.2):
    ax.annotate("", xy=end, xytext=start,
                arrowprops=dict(arrowstyle="-|>", color=color or _COLORS["edge"],
                                lw=lw, alpha=alpha, shrinkA=0, shrinkB=0,
                                connectionstyle=f"arc3,rad={rad}"))


def draw_unrolling(ax=None, T: int = 4):
    """Draw a recurrent network folded (one cell with a loop) and unrolled.

    Left: the cell, with ``U`` from the input, ``V`` to the output and the
    loop ``W`` from the hidden state back to itself. Right: the same network
    unrolled over ``T`` steps, starting from ``h0``; every copy carries the
    same labels ``U``, ``W``, ``V`` because every step uses the same weights.

    Parameters
    ----------
    ax : matplotlib Axes, optional
    T : int
        Number of unrolled steps drawn (1 to 8).

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt

    T = V.check_positive_int("T", T)
    if T > 8:
        raise ValueError(f"T: expected at most 8 steps (the drawing gets too small), got {T}")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.6))
    label = dict(fontsize=10, color="#1f4e9c", style="italic")

    # folded
    _box(ax, (0, 0), "$x_t$", _COLORS["x"])
    _box(ax, (0, 1.2), "$h_t$", _COLORS["h"])
    _box(ax, (0, 2.4), "$o_t$", _COLORS["o"])
    _arrow(ax, (0, 0.25), (0, 0.95))
    _arrow(ax, (0, 1.45), (0, 2.15))
    ax.text(0.08, 0.6, "U", ha="left", va="center", **label)
    ax.text(0.08, 1.8, "V", ha="left", va="center", **label)
    ax.annotate("", xy=(0.35, 1.08), xytext=(0.35, 1.32),          # the loop W
                arrowprops=dict(arrowstyle="-|>", color=_COLORS["edge"], lw=1.2,
                                shrinkA=0, shrinkB=0,
                                connectionstyle="arc,angleA=0,angleB=0,armA=28,armB=28,rad=6"))
    ax.text(0.78, 1.2, "W", ha="left", va="center", **label)
    ax.text(1.75, 1.2, "unroll", ha="center", va="bottom", fontsize=10)
    _arrow(ax, (1.35, 1.12), (2.15, 1.12))

    # unrolled
    x0 = 3.0
    _box(ax, (x0, 1.2), "$h_0$", "white")
    for t in range(1, T + 1):
        cx = x0 + 1.3 * t
        _box(ax, (cx, 0), f"$x_{t}$", _COLORS["x"])
        _box(ax, (cx, 1.2), f"$h_{t}$", _COLORS["h"])
        _box(ax, (cx, 2.4), f"$o_{t}$", _COLORS["o"])
        _arrow(ax, (cx, 0.25), (cx, 0.95))
        _arrow(ax, (cx, 1.45), (cx, 2.15))
        _arrow(ax, (cx - 1.3 + 0.35, 1.2), (cx - 0.35, 1.2))
        ax.text(cx + 0.08, 0.6, "U", ha="left", va="center", **label)
        ax.text(cx + 0.08, 1.8, "V", ha="left", va="center", **label)
        ax.text(cx - 0.65, 1.3, "W", ha="center", va="bottom", **label)
    ax.set_xlim(-0.6, x0 + 1.3 * T + 0.6)
    ax.set_ylim(-0.4, 2.8)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def draw_io_pattern(pattern: str, ax=None, n_in: int | None = None,
                    n_out: int | None = None):
    """Draw one input/output pattern of a recurrent network, unrolled.

    Inputs are green boxes at the bottom, hidden states blue in the middle
    (linked left to right by the recurrence), outputs red at the top.

    Parameters
    ----------
    pattern : {"one-to-many", "many-to-one", "many-to-many", "synced many-to-many"}
        ``"many-to-many"`` is the encoder-decoder: read all inputs, then write
        all outputs (lengths may differ); ``"synced many-to-many"`` emits one
        output per input step.
    ax : matplotlib Axes, optional
    n_in, n_out : int, optional
        Number of input and output steps drawn (defaults depend on the pattern).

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt

    V.check_choice("pattern", pattern, IO_PATTERNS)
    defaults = {"one-to-many": (1, 4), "many-to-one": (4, 1),
                "many-to-many": (3, 3), "synced many-to-many": (4, 4)}
    d_in, d_out = defaults[pattern]
    n_in = d_in if n_in is None else V.check_positive_int("n_in", n_in)
    n_out = d_out if n_out is None else V.check_positive_int("n_out", n_out)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 2.6))

    if pattern == "many-to-many":
        n_steps = n_in + n_out
        in_steps = range(n_in)
        out_steps = range(n_in, n_steps)
    elif pattern == "synced many-to-many":
        if n_in != n_out:
            raise ValueError(f"n_out: a synced pattern needs n_out == n_in = {n_in}, got {n_out}")
        n_steps = n_in
        in_steps = out_steps = range(n_steps)
    elif pattern == "one-to-many":
        if n_in != 1:
            raise ValueError(f"n_in: one-to-many reads one input, got n_in = {n_in}")
        n_steps = n_out
        in_steps, out_steps = range(1), range(n_steps)
    else:  # many-to-one
        if n_out != 1:
            raise ValueError(f"n_out: many-to-one writes one output, got n_out = {n_out}")
        n_steps = n_in
        in_steps, out_steps = range(n_steps), range(n_steps - 1, n_steps)

    for t in range(n_steps):
        color = _COLORS["h"]
        if pattern == "many-to-many" and t == n_in - 1:
            color = _COLORS["ctx"]          # the context vector
        _box(ax, (t, 1.0), "h", color)
        if t > 0:
            _arrow(ax, (t - 1 + 0.35, 1.0), (t - 0.35, 1.0))
    for k, t in enumerate(in_steps):
        _box(ax, (t, 0.0), f"x{k + 1}", _COLORS["x"])
        _arrow(ax, (t, 0.25), (t, 0.75))
    for k, t in enumerate(out_steps):
        _box(ax, (t, 2.0), f"y{k + 1}", _COLORS["o"])
        _arrow(ax, (t, 1.25), (t, 1.75))
    if pattern == "many-to-many":
        ax.text(n_in - 1, 1.42, "context", ha="center",
                va="bottom", fontsize=9, style="italic")
        ax.axvline(n_in - 0.5, color="0.6", lw=1, ls=":")
    ax.set_xlim(-0.6, max(n_steps, 3) - 0.4)
    ax.set_ylim(-0.45, 2.45)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(pattern, fontsize=11)
    return ax


def draw_unrolled_toy(inputs, hidden, outputs, upto: int, wiring: str = "full",
                      ax=None, weights: dict | None = None):
    """Draw the unrolled toy network with the values known after step ``upto``.

    Each time step is one column: the input pair (green), the two hidden
    units stacked in a dashed frame (blue; the input reaches both) and one
    output value (red, the first output unit; in the all-ones net both
    outputs are equal). Values of steps after ``upto`` are shown as "?";
    the column of step ``upto`` is highlighted. Recurrent arrows go from
    each hidden unit to the next column's hidden units: to both
    (``"full"``) or to its own twin only (``"own"``).

    Parameters
    ----------
    inputs : ndarray (T, 2)
    hidden : ndarray (T, 2)
    outputs : ndarray (T, K)
    upto : int
        Last time step (0-based) whose values are written in; ``-1`` shows
        the empty network.
    wiring : {"full", "own"}
    ax : matplotlib Axes, optional
    weights : dict, optional
        Text labels for the weights, e.g. ``{"U": "1", "W": "1", "V": "1"}``,
        written in a legend line under the title.

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt

    V.check_choice("wiring", wiring, WIRINGS)
    inputs = np.asarray(inputs, dtype=np.float64)
    hidden = np.asarray(hidden, dtype=np.float64)
    outputs = np.asarray(outputs, dtype=np.float64)
    if inputs.ndim != 2 or inputs.shape[1] != 2:
        raise ValueError(f"inputs: expected shape (T, 2), got {inputs.shape}")
    T = inputs.shape[0]
    if hidden.shape != (T, 2):
        raise ValueError(f"hidden: expected shape (T, 2) = {(T, 2)}, got {hidden.shape}")
    if outputs.ndim != 2 or outputs.shape[0] != T:
        raise ValueError(f"outputs: expected shape (T, K) with T = {T}, got {outputs.shape}")
    if isinstance(upto, bool) or not isinstance(upto, (int, np.integer)) or not -1 <= upto < T:
        raise ValueError(f"upto: expected an integer in [-1, {T - 1}], got {upto!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.2))

    def fmt(value):
        return f"{value:g}" if abs(value) < 1e5 else f"{value:.3g}"

    dx = 2.6                                    # column spacing
    y_x, y_o = 0.0, 3.3
    y_unit = (2.1, 1.2)                         # hidden unit 1 above unit 2
    for t in range(T):
        known = t <= upto
        cx = t * dx
        alpha = 1.0 if known else 0.45
        if t == upto:
            ax.add_patch(plt.Rectangle((cx - 0.95, -0.5), 1.9, 4.15, facecolor="#fffbe6",
                                       edgecolor="#e6b800", lw=1.5, zorder=0))
        # the hidden layer as a frame around its two units
        ax.add_patch(plt.Rectangle((cx - 0.55, 0.8), 1.1, 1.7, facecolor="none",
                                   edgecolor="0.55", lw=1.0, ls="--", alpha=alpha))
        x_text = ", ".join(fmt(v) for v in inputs[t]) if known else "?, ?"
        _box(ax, (cx, y_x), x_text, _COLORS["x"], w=1.3, h=0.5, alpha=alpha)
        for j in range(2):
            _box(ax, (cx, y_unit[j]), fmt(hidden[t, j]) if known else "?", _COLORS["h"],
                 w=0.8, h=0.5, alpha=alpha, bold=known)
        _box(ax, (cx, y_o), fmt(outputs[t, 0]) if known else "?", _COLORS["o"],
             w=0.9, h=0.5, alpha=alpha, bold=known)
        _arrow(ax, (cx, y_x + 0.25), (cx, 0.8), alpha=0.7 * alpha)          # U
        _arrow(ax, (cx, 2.5), (cx, y_o - 0.25), alpha=0.7 * alpha)          # V
        ax.text(cx, -0.7, f"t = {t + 1}", ha="center", va="top", fontsize=10)
        if t > 0:                                                          # recurrence (W)
            for j in range(2):
                for i in range(2):
                    if wiring == "own" and i != j:
                        continue
                    _arrow(ax, ((t - 1) * dx + 0.42, y_unit[j]), (cx - 0.42, y_unit[i]),
                           color="#1f4e9c", alpha=1.0 if known else 0.35, lw=1.4)
    ax.text(-1.25, y_x, "x", ha="right", va="center", fontsize=11)
    ax.text(-1.25, sum(y_unit) / 2, "h", ha="right", va="center", fontsize=11)
    ax.text(-1.25, y_o, "y", ha="right", va="center", fontsize=11)
    ax.set_xlim(-1.6, (T - 1) * dx + 1.1)
    ax.set_ylim(-1.1, 3.8)
    ax.axis("off")
    label = "each unit reads both memory cells (W = ones)" if wiring == "full" \
        else "each unit reads its own memory cell (W = I)"
    if weights:
        label += "   " + ", ".join(f"{k} = {v}" for k, v in weights.items())
    ax.set_title(label, fontsize=10)
    return ax
