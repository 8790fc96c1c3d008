"""Drawing functions: precomputed arrays in, matplotlib axes out.

Nothing here computes a model or a gradient, and nothing changes global
matplotlib state (no ``rcParams``, no style sheets). Every function takes
``ax=None``; when it is ``None`` a new figure is made with
``matplotlib.pyplot.subplots`` so the plot shows inline in a notebook.
Shape letters as in :mod:`rnnlib`: ``T`` time steps, ``H`` hidden units.
"""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from rnnlib._validate import check_float_array

__all__ = ["plot_heatmap", "plot_values", "plot_series", "cmap_for_key",
           "GATE_KEYS"]

#: Trace keys whose values are sigmoid outputs in (0, 1) (gates).
GATE_KEYS = frozenset({"i", "f", "o", "r", "z"})

#: Long names of the trace keys, for panel labels.
KEY_NAMES = {
    "a": "pre-activation a",
    "h": "hidden state h",
    "i": "input gate i",
    "f": "forget gate f",
    "g": "candidate g",
    "o": "output gate o",
    "c": "cell state c",
    "r": "reset gate r",
    "z": "update gate z",
    "n": "candidate n",
    "x": "input x",
}


def _new_ax(figsize=(6, 3)):
    import matplotlib.pyplot as plt  # only when the caller gave no axes

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def cmap_for_key(key: str, values: np.ndarray | None = None):
    """Return ``(cmap, vmin, vmax)`` for a trace key.

    Gates (``i f o r z``) live in (0, 1) and get a sequential map on [0, 1];
    every other key gets the diverging ``RdBu_r`` on a symmetric range,
    [-1, 1] unless ``values`` reach further (the LSTM cell state can).
    """
    if key in GATE_KEYS:
        return "viridis", 0.0, 1.0
    lim = 1.0
    if values is not None and values.size:
        lim = max(1.0, float(np.max(np.abs(values))))
    return "RdBu_r", -lim, lim


def draw_heatmap_image(ax, values, cursor, cmap, vmin, vmax, first=0):
    """Draw a units x time heat map; return (image, cursor_patch or None).

    Column ``t`` of ``values`` is drawn at x = ``first + t`` (``first = 1``
    numbers the steps 1..T); ``cursor`` is a column index, 0..T-1.
    """
    H, T = values.shape
    image = ax.imshow(values, aspect="auto", interpolation="nearest",
                      cmap=cmap, vmin=vmin, vmax=vmax,
                      extent=(first - 0.5, first + T - 0.5, H - 0.5, -0.5))
    patch = None
    if cursor is not None:
        # One black box centred on the column's edges. No white halo: a halo
        # stroke is snapped to the pixel grid differently from the thinner
        # black stroke, so it showed as a white sliver inside one edge and
        # outside the other. snap=False keeps both edges on the column
        # boundaries at any dpi (antialiased, symmetric).
        patch = Rectangle((first + cursor - 0.5, -0.5), 1.0, H, fill=False,
                          edgecolor="black", linewidth=2.0, snap=False)
        ax.add_patch(patch)
    ax.set_xlim(first - 0.5, first + T - 0.5)
    ax.set_ylim(H - 0.5, -0.5)
    return image, patch


def plot_heatmap(values, ax=None, cursor=None, title=None, cmap="RdBu_r",
                 vmin=-1.0, vmax=1.0, colorbar=True, colorbar_label=None):
    """Draw per-unit values over time as a heat map (rows units, columns time).

    With ``colorbar=True`` (the default) a colour scale is drawn beside the
    heat map, so a reader can read a value off a colour; it is
    ``ax.images[0].colorbar``. Pass ``colorbar=False`` when several heat
    maps share one scale and draw a single bar yourself
    (``fig.colorbar(ax.images[0], ax=axes)``).

    Parameters
    ----------
    values : ndarray, shape (H, T)
        One value per hidden unit and time step, e.g. ``trace["h"][n].T``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made when ``None``.
    cursor : int, optional
        A time step to outline with a black box (the "current" step).
    title : str, optional
        Axes title.
    cmap, vmin, vmax
        Colour map and the value range it spans.
    colorbar : bool
        Draw the colour scale beside the heat map.
    colorbar_label : str, optional
        Label of the colour scale (e.g. ``"h"``).

    Returns
    -------
    ax : matplotlib Axes
    """
    values = check_float_array("values", np.asarray(values, dtype=float)
                               if isinstance(values, (list, tuple)) else values,
                               ndim=2, shape_doc="(H, T)")
    H, T = values.shape
    if cursor is not None and not 0 <= int(cursor) < T:
        raise ValueError(f"cursor: expected a time step in [0, {T - 1}], got {cursor!r}")
    if not isinstance(colorbar, (bool, np.bool_)):
        raise TypeError(f"colorbar: expected True or False, got {colorbar!r}")
    if ax is None:
        ax = _new_ax()
    image, _ = draw_heatmap_image(ax, values, cursor, cmap, vmin, vmax)
    if colorbar:
        bar = ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
        if colorbar_label is not None:
            bar.set_label(colorbar_label)
    ax.set_xlabel("time step t")
    ax.set_ylabel("unit")
    if title is not None:
        ax.set_title(title)
    return ax


def plot_values(values, ax=None, title=None, vmin=-1.0, vmax=1.0,
                color="tab:blue"):
    """Draw one value per unit as horizontal bars (unit 0 at the top).

    Parameters
    ----------
    values : ndarray, shape (H,)
        E.g. the hidden state at one time step, ``trace["h"][n, t]``.
    ax : matplotlib Axes, optional
    title : str, optional
    vmin, vmax : float
        The x range (the bars' value axis).
    color : matplotlib colour

    Returns
    -------
    ax : matplotlib Axes
    """
    values = check_float_array("values", values, ndim=1, shape_doc="(H,)")
    if ax is None:
        ax = _new_ax((3, 3))
    H = values.shape[0]
    ax.barh(np.arange(H), values, height=0.8, color=color)
    ax.axvline(0.0, color="0.3", linewidth=0.8)
    ax.set_xlim(vmin, vmax)
    ax.set_ylim(H - 0.5, -0.5)
    ax.set_ylabel("unit")
    if title is not None:
        ax.set_title(title)
    return ax


def plot_series(values, ax=None, labels=None, title=None, xlabel="time step t",
                ylabel=None, logy=False, x=None):
    """Draw one or several series against time (or against ``x``).

    Parameters
    ----------
    values : ndarray, shape (T,) or (T, M)
        One series, or ``M`` series as columns.
    ax : matplotlib Axes, optional
    labels : list of str, optional
        One legend entry per series.
    title, xlabel, ylabel : str, optional
    logy : bool
        Logarithmic y axis (for gradient norms against lag).
    x : ndarray, shape (T,), optional
        The abscissa; ``0 .. T-1`` when omitted.

    Returns
    -------
    ax : matplotlib Axes
    """
    values = check_float_array("values", values, shape_doc="(T,) or (T, M)")
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(f"values: expected shape (T,) or (T, M), got {values.shape}")
    T, M = values.shape
    if labels is not None and len(labels) != M:
        raise ValueError(f"labels: expected {M} labels (one per series), got {len(labels)}")
    if x is None:
        x = np.arange(T)
    elif np.shape(x) != (T,):
        raise ValueError(f"x: expected shape (T,) = ({T},), got {np.shape(x)}")
    if ax is None:
        ax = _new_ax()
    for m in range(M):
        ax.plot(x, values[:, m], label=None if labels is None else labels[m])
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    if labels is not None:
        ax.legend()
    return ax
