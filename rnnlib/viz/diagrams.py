"""Diagrams of recurrent networks (chapter 1): folded and unrolled networks,
input/output patterns, and the all-ones toy network with its values.

Drawing only: every function takes precomputed arrays (the numbers come
from :mod:`rnnlib.chapters.ch01_rnn`) and ``ax=None``, returns the axes,
imports matplotlib lazily and changes no global settings.
"""

from __future__ import annotations

import numpy as np

from rnnlib import _validate as V

__all__ = ["IO_PATTERNS", "WIRINGS", "draw_unrolling", "draw_io_pattern", "draw_unrolled_toy"]

#: the five input/output patterns drawn by :func:`draw_io_pattern`
IO_PATTERNS = ("one-to-one", "one-to-many", "many-to-one", "many-to-many",
               "synced many-to-many")

#: the two wirings of the toy network's recurrent matrix (see rnnlib.chapters.ch01_rnn)
WIRINGS = ("full", "own")

_COLORS = {"x": "#d9ead3", "h": "#cfe2f3", "o": "#f4cccc", "edge": "#333333",
           "ctx": "#fff2cc", "dec": "#e6e6e6"}


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
    (linked left to right by the recurrence), predictions red at the top,
    labelled :math:`\\hat y_k` (the book keeps :math:`y_k` for targets).

    Parameters
    ----------
    pattern : {"one-to-one", "one-to-many", "many-to-one", "many-to-many", \
"synced many-to-many"}
        ``"one-to-one"`` is one input, one state, one output (no
        recurrence is used). ``"many-to-many"`` is the encoder-decoder:
        read all inputs, then write all outputs (lengths may differ); the
        encoder's last state (yellow) is the context vector, and each
        decoder step reads the previous target :math:`y_{k-1}` (grey,
        :math:`y_0` a start symbol), as the decoder is fed in training.
        ``"synced many-to-many"`` emits one output per input step.
    ax : matplotlib Axes, optional
    n_in, n_out : int, optional
        Number of input and output steps drawn (defaults depend on the pattern).

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt

    V.check_choice("pattern", pattern, IO_PATTERNS)
    defaults = {"one-to-one": (1, 1), "one-to-many": (1, 4), "many-to-one": (4, 1),
                "many-to-many": (3, 3), "synced many-to-many": (4, 4)}
    d_in, d_out = defaults[pattern]
    n_in = d_in if n_in is None else V.check_positive_int("n_in", n_in)
    n_out = d_out if n_out is None else V.check_positive_int("n_out", n_out)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 2.6))

    dec_steps = range(0)
    if pattern == "many-to-many":
        n_steps = n_in + n_out
        in_steps = range(n_in)
        out_steps = dec_steps = range(n_in, n_steps)
    elif pattern == "synced many-to-many":
        if n_in != n_out:
            raise ValueError(f"n_out: a synced pattern needs n_out == n_in = {n_in}, got {n_out}")
        n_steps = n_in
        in_steps = out_steps = range(n_steps)
    elif pattern == "one-to-one":
        if (n_in, n_out) != (1, 1):
            raise ValueError(f"n_in, n_out: one-to-one has one input and one output, "
                             f"got {(n_in, n_out)}")
        n_steps = 1
        in_steps = out_steps = range(1)
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
        _box(ax, (t, 1.0), "$h$", color)
        if t > 0:
            _arrow(ax, (t - 1 + 0.35, 1.0), (t - 0.35, 1.0))
    for k, t in enumerate(in_steps):
        _box(ax, (t, 0.0), f"$x_{k + 1}$", _COLORS["x"])
        _arrow(ax, (t, 0.25), (t, 0.75))
    for k, t in enumerate(dec_steps):       # decoder inputs: the previous targets
        _box(ax, (t, 0.0), f"$y_{k}$", _COLORS["dec"])
        _arrow(ax, (t, 0.25), (t, 0.75))
    for k, t in enumerate(out_steps):
        _box(ax, (t, 2.0), f"$\\hat y_{k + 1}$", _COLORS["o"])
        _arrow(ax, (t, 1.25), (t, 1.75))
    if pattern == "many-to-many":
        ax.text(n_in - 1, 1.42, "context", ha="center",
                va="bottom", fontsize=10, style="italic")
        ax.axvline(n_in - 0.5, color="0.6", lw=1, ls=":")
        ax.text((n_in - 1) / 2, -0.42, "encoder", ha="center", va="top", fontsize=10)
        ax.text(n_in + (n_out - 1) / 2, -0.42, "decoder", ha="center", va="top",
                fontsize=10)
    spare = max(3 - n_steps, 0) / 2            # centre patterns narrower than 3
    ax.set_xlim(-0.6 - spare, n_steps - 0.4 + spare)
    ax.set_ylim(-0.8 if pattern == "many-to-many" else -0.45, 2.45)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(pattern, fontsize=11)
    return ax


def draw_unrolled_toy(inputs, hidden, outputs, upto: int, wiring: str = "full",
                      ax=None, weights: dict | None = None):
    """Draw the unrolled toy network with the values known after step ``upto``.

    Each time step is one column: the input pair (green), the two hidden
    units stacked in a dashed frame (blue; the input reaches both) and one
    predicted output (red, the row :math:`\\hat y`: the first output unit;
    in the all-ones net both outputs are equal). Values of steps after ``upto`` are shown as "?";
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
        Text labels for the weights, e.g. ``{"u": "1", "w_self": "0.5"}``,
        written as the title instead of the wiring's description.

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
    ax.text(-1.25, y_x, "$x$", ha="right", va="center", fontsize=12)
    ax.text(-1.25, sum(y_unit) / 2, "$h$", ha="right", va="center", fontsize=12)
    ax.text(-1.25, y_o, "$\\hat y$", ha="right", va="center", fontsize=12)
    ax.set_xlim(-1.6, (T - 1) * dx + 1.1)
    ax.set_ylim(-1.1, 3.8)
    ax.axis("off")
    if weights:
        label = ", ".join(f"{k} = {v}" for k, v in weights.items())
    elif wiring == "full":
        label = "each unit reads both memory cells (W = ones)"
    else:
        label = "each unit reads its own memory cell (W = I)"
    ax.set_title(label, fontsize=10)
    return ax
