"""Drawings of LSTM gates for chapter 4: one step stage by stage, forced gates, connectivity.

Each ``*_drawer`` function takes precomputed arrays and returns a
``draw(fig, i)`` for ``rnnlib.viz.render_frames`` (frame ``i``); the
frames then go to ``rnnlib.viz.frame_player`` or
``rnnlib.viz.precomputed_explorer``. Nothing here runs a model.

* ``lstm_step_drawer``: the vectors of one LSTM step as columns of
  numbered cells, one stage per frame (inputs, forget, input and
  candidate, cell update, output), the current stage outlined.
* ``forced_gate_drawer``: the cell state over a sequence as a heat map,
  one frame per forced forget-gate value, beside the task error of each.
* ``connectivity_drawer``: two maps ``||dh_t/dx_s||`` (for example an
  RNN beside an LSTM) with row ``t`` outlined, and that row as curves.
* ``step_stage_labels``: the numbers of each frame of the step
  animation as text (shown under the frames; the chapter checks them).
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LogNorm, Normalize
from matplotlib.patches import Rectangle

from rnnlib._validate import check_float_array

__all__ = ["STEP_COLUMNS", "STEP_STAGES", "lstm_step_drawer", "step_stage_labels", "read_stage_labels",
           "forced_gate_drawer", "connectivity_drawer"]

#: The stages of one step: (title, equation, columns shown from this stage on).
STEP_STAGES = (
    ("inputs", r"the step reads $c_{t-1}$, $h_{t-1}$ and $x_t$",
     ("c_prev", "h_prev", "x")),
    ("forget", r"forget: $f = \sigma(W_f [h_{t-1}, x_t] + b_f)$, keep $f \odot c_{t-1}$",
     ("f", "fc")),
    ("input", r"input: $i = \sigma(\cdot)$, candidate $g = \tanh(\cdot)$, add $i \odot g$",
     ("i", "g", "ig")),
    ("cell", r"cell update: $c_t = f \odot c_{t-1} + i \odot g$",
     ("c",)),
    ("output", r"output: $o = \sigma(\cdot)$, $h_t = o \odot \tanh(c_t)$",
     ("o", "tanh_c", "h")),
)

#: Column keys and their labels, left to right.
STEP_COLUMNS = {
    "c_prev": r"$c_{t-1}$", "h_prev": r"$h_{t-1}$", "x": r"$x_t$",
    "f": r"$f$", "fc": r"$f\odot c_{t-1}$",
    "i": r"$i$", "g": r"$g$", "ig": r"$i\odot g$",
    "c": r"$c_t$",
    "o": r"$o$", "tanh_c": r"$\tanh c_t$", "h": r"$h_t$",
}

_GATES = ("f", "i", "o")
_COLORS = ("C0", "C2")

#: Plain-text names of the columns in the labels under the frames.
LABEL_NAMES = {"c_prev": "c_{t-1}", "h_prev": "h_{t-1}", "x": "x_t", "f": "f",
               "fc": "f*c_{t-1}", "i": "i", "g": "g", "ig": "i*g", "c": "c_t",
               "o": "o", "tanh_c": "tanh(c_t)", "h": "h_t"}


def _fmt(v, digits=2):
    s = f"{v:.{digits}f}"
    if float(s) == 0:
        s = f"{0:.{digits}f}"          # no "-0.00"
    return s.replace("-", "\u2212")


def step_stage_labels(stages: dict, digits: int = 2) -> list:
    """One HTML line per frame: the numbers of that frame's new columns.

    Parameters
    ----------
    stages : dict from ``rnnlib.chapters.ch04_lstm.lstm_step_stages``.
    digits : decimals printed.

    Returns
    -------
    list of str, one per stage of ``STEP_STAGES``, e.g.
    ``"<b>2/5 forget</b>: f = [0.91, 0.12]; f*c_{t-1} = [...]"`` (names
    in ``LABEL_NAMES``).
    """
    out = []
    n = len(STEP_STAGES)
    for k, (name, _, cols) in enumerate(STEP_STAGES):
        parts = []
        for key in cols:
            vals = ", ".join(_fmt(v, digits) for v in np.asarray(stages[key]).ravel())
            parts.append(f"{LABEL_NAMES[key]} = [{vals}]")
        out.append(f"<b>{k + 1}/{n} {name}</b>: " + "; ".join(parts))
    return out


def lstm_step_drawer(stages: dict, fontsize: float = 10.0):
    """A ``draw(fig, k)`` that shows stage ``k`` of one LSTM step.

    Every vector is a column of cells, one per unit (``x_t`` has D cells),
    coloured (gates on [0, 1], viridis; the rest on a symmetric range,
    RdBu) and numbered with two decimals. Frame ``k`` fills the columns of
    stages 0..k, outlines the columns of stage ``k`` and writes its
    equation as the title; later columns are empty.

    Parameters
    ----------
    stages : dict of 1-d arrays, the keys of ``STEP_COLUMNS`` (from
        ``rnnlib.chapters.ch04_lstm.lstm_step_stages``).
    fontsize : points for the numbers (labels are 1 pt larger).

    Returns
    -------
    draw : callable ``draw(fig, k)`` for ``k`` in ``0 .. len(STEP_STAGES) - 1``.
    """
    cols = list(STEP_COLUMNS)
    vals = {k: check_float_array(f"stages[{k!r}]", np.asarray(stages[k], dtype=float), ndim=1)
            for k in cols}
    rows = max(v.size for v in vals.values())
    lim = max(1.0, max(float(np.abs(vals[k]).max()) for k in cols if k not in _GATES))
    gate_norm, value_norm = Normalize(0, 1), Normalize(-lim, lim)
    gate_cmap, value_cmap = colormaps["viridis"], colormaps["RdBu_r"]
    stage_of = {key: k for k, (_, _, cs) in enumerate(STEP_STAGES) for key in cs}
    # x positions: a gap between stages
    xpos, x = {}, 0.0
    for k, (_, _, cs) in enumerate(STEP_STAGES):
        for key in cs:
            xpos[key] = x
            x += 1.0
        x += 0.25
    width = x - 0.25

    def draw(fig, k):
        fig.clear()
        ax = fig.add_axes((0.005, 0.01, 0.99, 0.82))
        ax.set_xlim(-0.1, width + 0.1)
        ax.set_ylim(rows + 0.05, -0.95)
        ax.axis("off")
        for key in cols:
            s = stage_of[key]
            v = vals[key]
            x0 = xpos[key]
            ax.text(x0 + 0.5, -0.35, STEP_COLUMNS[key], ha="center", va="center",
                    fontsize=fontsize, color="black" if s <= k else "0.6")
            for j in range(v.size):
                if s <= k:
                    norm, cmap = (gate_norm, gate_cmap) if key in _GATES else (value_norm, value_cmap)
                    rgba = cmap(norm(v[j]))
                    lum = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]
                    ax.add_patch(Rectangle((x0 + 0.04, j + 0.04), 0.92, 0.92, facecolor=rgba,
                                           edgecolor="white", linewidth=0.5))
                    ax.text(x0 + 0.5, j + 0.5, _fmt(v[j]), ha="center", va="center",
                            fontsize=fontsize, color="white" if lum < 0.5 else "black")
                else:
                    ax.add_patch(Rectangle((x0 + 0.04, j + 0.04), 0.92, 0.92, facecolor="0.95",
                                           edgecolor="0.85", linewidth=0.5))
        cs = STEP_STAGES[k][2]
        x_left = xpos[cs[0]]
        n_rows = max(vals[c].size for c in cs)
        ax.add_patch(Rectangle((x_left - 0.02, -0.75), len(cs) + 0.04, n_rows + 0.8,
                               fill=False, edgecolor="black", linewidth=2.0, snap=False))
        fig.text(0.01, 0.93, f"{k + 1}/{len(STEP_STAGES)}  {STEP_STAGES[k][1]}",
                 fontsize=fontsize + 1, ha="left", va="center")
        return None

    return draw


def forced_gate_drawer(cells, errors, names, markers=None, chance=None, error_label="MSE",
                       fontsize: float = 10.0, vlim: float | None = None):
    """A ``draw(fig, k)``: the cell state of one sequence under forcing ``k``, and every error.

    Parameters
    ----------
    cells : (K, H, T) array, the cell state (units x time) under each of K forcings.
    errors : (K,) task errors, one per forcing.
    names : K strings, the forcing of each frame (e.g. "f = 0.5", "learned").
    markers : optional steps (0-based) to mark under the heat map (the inputs that matter).
    chance : optional error of chance level, drawn as a dashed line.
    error_label : the error axis label.
    vlim : colour range ``[-vlim, vlim]`` of the heat map (values beyond are
        drawn in the end colours); by default the 99th percentile of ``|c|``.

    Returns
    -------
    draw : callable ``draw(fig, k)``; draws the whole figure each frame.
    """
    cells = check_float_array("cells", np.asarray(cells, dtype=float), ndim=3,
                              shape_doc="(K, H, T)")
    errors = np.asarray(errors, dtype=float)
    K, H, T = cells.shape
    if errors.shape != (K,) or len(names) != K:
        raise ValueError(f"errors, names: expected {K} of each (one per forcing), "
                         f"got {errors.shape} and {len(names)}")
    lim = float(vlim) if vlim is not None else (float(np.quantile(np.abs(cells), 0.99)) or 1.0)

    def draw(fig, k):
        fig.clear()
        ax = fig.add_axes((0.09, 0.19, 0.44, 0.66))
        cax = fig.add_axes((0.545, 0.19, 0.015, 0.66))
        ex = fig.add_axes((0.76, 0.19, 0.22, 0.66))
        im = ax.imshow(cells[k], aspect="auto", interpolation="nearest", cmap="RdBu_r",
                       vmin=-lim, vmax=lim, extent=(0.5, T + 0.5, H - 0.5, -0.5))
        cb = fig.colorbar(im, cax=cax)
        cb.ax.tick_params(labelsize=fontsize)
        if markers is not None:
            for m in markers:
                ax.axvline(m + 1, color="black", lw=1.2, ls=":")
        ax.set_xlabel("step (dotted: marked)", fontsize=fontsize)
        ax.set_ylabel("unit", fontsize=fontsize)
        ax.tick_params(labelsize=fontsize)
        ax.set_title(f"cell state, {names[k]}", fontsize=fontsize)
        colors = ["0.75"] * K
        colors[k] = "C3"
        ex.barh(np.arange(K), errors, color=colors)
        ex.set_yticks(np.arange(K), names, fontsize=fontsize)
        ex.invert_yaxis()
        ex.set_xscale("log")
        if chance is not None:
            ex.axvline(chance, color="0.3", ls="--", lw=1)
        ex.set_xlabel(f"test {error_label} (log)", fontsize=fontsize)
        ex.tick_params(labelsize=fontsize)
        ex.set_title(f"{error_label} = {errors[k]:.3g}", fontsize=fontsize)
        return None

    return draw


def connectivity_drawer(maps, titles, fontsize: float = 10.0, floor: float = 1e-8):
    """A ``draw(fig, t)``: maps ``||dh_t/dx_s||`` over (t, s) with row ``t`` outlined.

    Parameters
    ----------
    maps : list of (T, T) arrays (rows t, columns s, zero above the diagonal),
        e.g. an RNN's and an LSTM's.
    titles : one title per map.
    floor : smallest value shown on the log colour scale.

    Returns
    -------
    draw : callable ``draw(fig, t)`` (t = 0 .. T-1, step t + 1); blits the
        outline boxes and the curves, so frames are cheap.
    """
    maps = [check_float_array("maps[i]", np.asarray(m, dtype=float), ndim=2) for m in maps]
    T = maps[0].shape[0]
    top = max(float(m.max()) for m in maps)
    norm = LogNorm(vmin=floor, vmax=top)
    state = {}

    def draw(fig, t):
        if t == 0 or not state:
            fig.clear()
            n = len(maps)
            w = 0.78 / n
            axes = [fig.add_axes((0.12 + j * (w + 0.01), 0.5, w - 0.05, 0.37)) for j in range(n)]
            cax = fig.add_axes((0.12 + n * (w + 0.01) - 0.045, 0.5, 0.015, 0.37))
            line_ax = fig.add_axes((0.12, 0.1, 0.84, 0.25))
            boxes, lines = [], []
            for j, (ax, m, title) in enumerate(zip(axes, maps, titles)):
                shown = np.where(m > 0, np.maximum(m, floor), np.nan)
                im = ax.imshow(shown, cmap="magma", norm=norm, interpolation="nearest",
                               extent=(0.5, T + 0.5, T + 0.5, 0.5))
                ax.set_title(title, fontsize=fontsize)
                ax.set_xlabel("input step s", fontsize=fontsize)
                if j == 0:
                    ax.set_ylabel("state step t", fontsize=fontsize)
                ax.tick_params(labelsize=fontsize)
                box = Rectangle((0.5, 0.5), T, 1.0, fill=False, edgecolor=_COLORS[j % 2],
                                linewidth=2.0, snap=False)
                ax.add_patch(box)
                boxes.append(box)
            cb = fig.colorbar(im, cax=cax)
            cb.ax.tick_params(labelsize=fontsize)
            for j, (m, title) in enumerate(zip(maps, titles)):
                (ln,) = line_ax.semilogy([], [], "o-", ms=3, color=_COLORS[j % 2], label=title)
                lines.append(ln)
            line_ax.set_xlim(0.5, T + 0.5)
            line_ax.set_ylim(floor, top * 2)
            line_ax.set_xlabel("input step s", fontsize=fontsize, labelpad=1)
            line_ax.set_ylabel("row t", fontsize=fontsize)
            line_ax.tick_params(labelsize=fontsize)
            line_ax.legend(fontsize=fontsize, frameon=False, loc="lower right", ncol=2)
            line_ax.grid(alpha=0.3)
            title = fig.text(0.5, 0.965, "", ha="center", va="center", fontsize=fontsize)
            state.update(boxes=boxes, lines=lines, title=title)
        for box in state["boxes"]:
            box.set_y(t + 0.5)
        for m, ln in zip(maps, state["lines"]):
            s = np.arange(1, t + 2)
            ln.set_data(s, np.maximum(m[t, :t + 1], floor))
        state["title"].set_text(f"t = {t + 1}: ||dh_t/dx_s|| for every input step s <= t")
        return state["boxes"] + state["lines"] + [state["title"]]

    return draw


def read_stage_labels(labels) -> dict:
    """The numbers written in ``step_stage_labels``'s lines, read back.

    Returns
    -------
    dict column key (``"f"``, ``"fc"``, ...) -> 1-d float array, as
    printed (two decimals by default).
    """
    import re

    keys = {name: key for key, name in LABEL_NAMES.items()}
    out = {}
    for line in labels:
        for name, body in re.findall(r"([^\s;:>]+) = \[([^\]]*)\]", line):
            out[keys[name]] = np.array([float(v.replace("\u2212", "-")) for v in body.split(",")])
    return out
