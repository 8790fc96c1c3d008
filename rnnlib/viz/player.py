"""Kernel-free animation widgets: a Play button and a slider over PNG frames.

Everything a reader clicks is linked in the browser (``jslink``), so the
widgets work in the static HTML book with no kernel, as well as in Jupyter
and on Binder. The frames are rendered once, in Python, by
:func:`rnnlib.viz.render_frames`.

Byte budget: a widget built here embeds its frames in the page (base64,
4/3 of the PNG bytes). :data:`MAX_WIDGET_BYTES` (1 MB) is the budget per
widget; :func:`frame_player` refuses frames whose encoded size exceeds it,
and the tests check that whole pages stay under 3 MB.
"""

from __future__ import annotations

import html as _html
import json
import textwrap

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from rnnlib._validate import check_float_array
from rnnlib.viz.draw import KEY_NAMES, draw_heatmap_image, cmap_for_key
from rnnlib.viz.render import DEFAULT_DENSITY, check_render_args, render_layers, frame_density, png_size

__all__ = ["frame_player", "animate_trace", "widget_payload_bytes",
           "MAX_WIDGET_BYTES", "TRACE_KEYS", "FONT_SIZES"]

#: Byte budget of one widget's embedded state (frames base64-encoded).
MAX_WIDGET_BYTES = 1_000_000

#: The keys :func:`animate_trace` shows by default, by cell type, in order.
TRACE_KEYS = {
    "lstm": ("i", "f", "g", "o", "c", "h"),
    "gru": ("r", "z", "n", "h"),
    "rnn": ("h",),
}


def check_frames(frames) -> list[bytes]:
    if isinstance(frames, (bytes, bytearray)) or not isinstance(frames, (list, tuple)):
        raise TypeError(f"frames: expected a list of PNG bytes, got {type(frames).__name__}")
    if len(frames) == 0:
        raise ValueError("frames: expected at least one frame, got an empty list")
    for k, frame in enumerate(frames):
        if not isinstance(frame, (bytes, bytearray)) or len(frame) == 0:
            raise TypeError(f"frames[{k}]: expected non-empty PNG bytes, got {type(frame).__name__}")
    return [bytes(f) for f in frames]


def check_budget(frames, max_bytes):
    encoded = sum(4 * ((len(f) + 2) // 3) for f in frames)  # base64 in the page
    if encoded > max_bytes:
        raise ValueError(
            f"frames: {len(frames)} frames take {encoded / 1e6:.2f} MB in the page "
            f"(base64), over the widget budget of {max_bytes / 1e6:.2f} MB; use fewer "
            "frames, a lower dpi, or a smaller figure")


def _check_labels(labels, n):
    if labels is None:
        return None
    if isinstance(labels, str) or len(labels) != n:
        raise ValueError(f"labels: expected a list of {n} strings (one per frame), got {labels!r:.80}")
    return [str(lab) for lab in labels]


def _css_width(png):
    """CSS pixels a frame is meant to be shown at: its width over its density."""
    return png_size(png)[0] / frame_density(png)


def _frame_image(png):
    # the frame's own width (pixels / density), never wider than the column
    return widgets.Image(value=png, format="png",
                         layout=widgets.Layout(width=f"{_css_width(png):g}px",
                                               max_width="100%", height="auto"))


def _use_layers(frames):
    """``(background, overlays)`` when showing layers takes fewer bytes, else None."""
    layers = getattr(frames, "layers", None)
    if not layers:
        return None
    back, overlays = layers
    if len(overlays) != len(frames):
        return None
    if len(back) + sum(map(len, overlays)) < 0.9 * sum(map(len, frames)):
        return layers
    return None


def image_stack(frames, labels, first=0, layers=None):
    """The frames as a Stack of Image widgets (and a Stack of HTML labels).

    With ``first > 0`` the stacks start with ``first`` empty placeholders,
    so that a slider running from ``first`` selects frame 0 (``jslink`` can
    only copy a value, not shift it).

    With ``layers = (background, overlays)`` the Stack holds the overlays
    and sits on the background image in one CSS grid cell (a ``GridBox``),
    so each frame is the background with its overlay drawn over it.

    Returns ``(view, stack, label_stack, frame_images, background_image)``;
    ``view`` is what the widget shows (the Stack, or the GridBox).
    """
    pad = [widgets.HTML() for _ in range(first)]
    shown = layers[1] if layers else frames
    images = [_frame_image(f) for f in shown]
    stack = widgets.Stack(pad + images, selected_index=first)
    view, background = stack, None
    if layers:
        background = _frame_image(layers[0])
        background.layout.grid_area = "frame"
        stack.layout.grid_area = "frame"
        stack.add_class("rnnlib-overlays")
        view = widgets.GridBox([background, stack], layout=widgets.Layout(
            grid_template_areas='"frame"', grid_template_columns="minmax(0, 1fr)",
            width="100%"))
        view.add_class("rnnlib-layers")
    label_stack = None
    if labels is not None:
        label_stack = widgets.Stack(pad + [widgets.HTML(value=lab) for lab in labels],
                                    selected_index=first)
    return view, stack, label_stack, images, background


def frame_player(frames, labels=None, description="t", interval=700, *,
                 max_bytes=MAX_WIDGET_BYTES, first=0, layers=None):
    """Play a list of PNG frames with a Play button and a slider, no kernel needed.

    ``Play.value``, ``IntSlider.value`` and ``Stack.selected_index`` are
    joined with ``jslink``, so the browser alone steps through the frames.

    Parameters
    ----------
    frames : list of bytes
        PNG images, e.g. from :func:`render_frames`; at least one.
    labels : list of str, optional
        One HTML snippet per frame, shown under the image.
    description : str
        The slider's label.
    interval : int
        Milliseconds between frames when playing.
    max_bytes : int
        Byte budget of the embedded frames (base64); 1 MB by default.
    first : int
        The number the slider shows for the first frame: 0 (default) or,
        e.g., 1 to count time steps 1..T as the book does. The stacks then
        start with ``first`` empty placeholders (frame ``k`` is
        ``player.stack.children[first + k]``).
    layers : (bytes, list of bytes), optional
        A background PNG and one overlay PNG per frame, shown stacked
        (see :class:`rnnlib.viz.render.Frames`). By default the layers of
        frames made by :func:`render_frames` are used when they take fewer
        bytes than the full frames.

    Each image is shown at its own width divided by its density (frames
    drawn for 2x screens at half their pixel size), at most the column
    width.

    Returns
    -------
    player : ipywidgets.VBox
        Children: ``HBox([Play, IntSlider])``, the image ``Stack`` and, with
        labels, the label ``Stack``. Also reachable as ``player.play``,
        ``player.slider``, ``player.stack``, ``player.label_stack``,
        ``player.links`` (the ``jslink`` objects), ``player.frames``
        (the frame Image widgets, without placeholders: the overlays when
        layered) and ``player.background`` (the background Image or None).
    """
    raw = frames
    frames = check_frames(frames)
    labels = _check_labels(labels, len(frames))
    if layers is None:
        layers = _use_layers(raw)
    if layers is not None:
        back, overlays = layers
        overlays = check_frames(list(overlays))
        if len(overlays) != len(frames):
            raise ValueError(f"layers: expected one overlay per frame ({len(frames)}), "
                             f"got {len(overlays)}")
        layers = (check_frames([back])[0], overlays)
        check_budget([layers[0]] + overlays, max_bytes)
    else:
        check_budget(frames, max_bytes)
    if not isinstance(interval, (int, np.integer)) or interval < 1:
        raise ValueError(f"interval: expected a positive number of milliseconds, got {interval!r}")
    if isinstance(first, bool) or not isinstance(first, (int, np.integer)) or not 0 <= first <= 1000:
        raise ValueError(f"first: expected an integer in [0, 1000] (the slider's first value), got {first!r}")
    n, first = len(frames), int(first)
    play = widgets.Play(value=first, min=first, max=first + n - 1, step=1,
                        interval=int(interval), description="Play", show_repeat=False)
    slider = widgets.IntSlider(value=first, min=first, max=first + n - 1, step=1,
                               description=str(description), continuous_update=True)
    view, stack, label_stack, images, background = image_stack(frames, labels, first, layers)
    links = [widgets.jslink((play, "value"), (slider, "value")),
             widgets.jslink((slider, "value"), (stack, "selected_index"))]
    children = [widgets.HBox([play, slider]), view]
    if label_stack is not None:
        links.append(widgets.jslink((slider, "value"), (label_stack, "selected_index")))
        children.append(label_stack)
    box = widgets.VBox(children)
    box.add_class("rnnlib-player")
    box.play, box.slider, box.stack, box.label_stack = play, slider, stack, label_stack
    box.links = links
    box.frames, box.background = images, background
    return box


def _check_trace(trace, sample, keys, inputs):
    if not isinstance(trace, dict):
        raise TypeError(f"trace: expected a dict of (N, T, H) arrays, got {type(trace).__name__}")
    if not trace:
        raise ValueError("trace: expected a dict of (N, T, H) arrays, got an empty dict")
    if keys is None:
        for ordered in TRACE_KEYS.values():
            if set(ordered) <= set(trace):
                keys = list(ordered)
                break
        else:
            keys = list(trace)
    keys = [keys] if isinstance(keys, str) else list(keys)
    if not keys:
        raise ValueError("keys: expected at least one trace key, got an empty list")
    arrays, NT = {}, None
    for key in keys:
        if key not in trace:
            raise ValueError(f"keys: {key!r} is not in the trace (it has {sorted(trace)})")
        arr = check_float_array(f"trace[{key!r}]", trace[key], ndim=3, shape_doc="(N, T, H)")
        if NT is None:
            NT = arr.shape[:2]
        elif arr.shape[:2] != NT:
            raise ValueError(
                f"trace[{key!r}]: expected the same (N, T) = {NT} as trace[{keys[0]!r}], "
                f"got shape {arr.shape}")
        arrays[key] = arr
    N, T = NT
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or not 0 <= sample < N:
        raise ValueError(f"sample: expected an integer in [0, {N - 1}] (the trace has N = {N}), got {sample!r}")
    x = None
    if inputs is not None:
        x = check_float_array("inputs", inputs, shape_doc="(N, T, D) or (T, D)")
        if x.ndim == 3:
            if x.shape[:2] != (N, T):
                raise ValueError(f"inputs: expected shape (N, T, D) with (N, T) = {(N, T)}, got {x.shape}")
            x = x[sample]
        elif x.ndim != 2 or x.shape[0] != T:
            raise ValueError(f"inputs: expected shape (N, T, D) or (T, D) with T = {T}, got {x.shape}")
    return keys, {k: a[sample] for k, a in arrays.items()}, x, T


def _bar_verts(values, height=0.8):
    """Corners of horizontal bars from 0 to each value, one per row: (H, 4, 2)."""
    H = values.shape[0]
    verts = np.empty((H, 4, 2))
    y = np.arange(H, dtype=float)
    verts[:, :, 1] = y[:, None] + np.array([-1, -1, 1, 1]) * (height / 2)
    verts[:, [0, 3], 0] = 0.0
    verts[:, [1, 2], 0] = values[:, None]
    return verts


def _signed(v, digits):
    """``v`` with its sign and ``digits`` decimals; a value that rounds to zero
    prints as ``+0.00`` (never ``-0.00``)."""
    r = round(float(v), digits) + 0.0                      # -0.0 + 0.0 is +0.0
    return f"{r:+.{digits}f}"


def _value_label(t, T, panels, digits, first=1):
    rows = []
    for key, values in panels:
        nums = " ".join(_signed(v, digits) for v in values[t])
        rows.append(f"<tr><td style='padding-right:0.6em'><b>{_html.escape(key)}</b></td>"
                    f"<td><code>{nums}</code></td></tr>")
    return (f"<div class='rnnlib-frame-label'>t = {t + first} of {first}..{T - 1 + first}"
            f"<table>{''.join(rows)}</table></div>")


#: Font sizes of :func:`animate_trace`, in points. None is below 10 pt (the
#: book's smallest figure text): at the default size (5.8 in drawn for
#: 120 CSS px per inch, 696 px) the frame fills the 688 px text column at
#: 1280 px, where a point is 688 / (5.8 * 72) = 1.65 CSS px, so 10 pt text
#: is 16.5 px, as large as the book's footnotes (16 px).
FONT_SIZES = {"title": 12.0, "key": 12.0, "axis": 10.0, "ticks": 10.0,
              "key_name": 10.0, "numbers": 10.0}

_WIDTH_IN = 5.8          # default frame width
_NUMBER_WIDTH_IN = 0.5   # room right of the bars for "+0.00" at FONT_SIZES["numbers"]
_UNIT_HEIGHT_IN = 0.19   # heat map height per unit when the numbers are written
_COLORBAR_GAP_IN = 0.62  # between a heat map and its bars: colour bar and its ticks


def _trace_drawer(rows, annotated, row_heights, figsize, right, title, first,
                  value_ranges):
    """The ``draw(fig, t)`` of :func:`animate_trace` (for :func:`render_frames`).

    ``draw.state[key]`` holds ``(cursor, bars, texts, values)`` per row,
    ``draw.state["_axes"][key]`` its ``(heat map axes, bar axes)`` and
    ``draw.state["_colorbars"][key]`` the heat map's colour bar, so tests
    can check where each artist sits.
    """
    W_in, H_in = figsize
    fs = FONT_SIZES
    state = {}
    left_in = 0.65
    avail = max(1.0, (right * W_in) - left_in)
    gap = min(_COLORBAR_GAP_IN, 0.3 * avail)
    wspace = 2 * gap / max(1e-6, avail - gap)  # wspace is relative to the mean column

    def draw(fig, t):
        if t == 0:
            grid = fig.add_gridspec(len(rows), 2, width_ratios=(4.2, 1.0),
                                    height_ratios=row_heights,
                                    left=left_in / W_in, right=right, bottom=0.5 / H_in,
                                    top=1 - (0.4 + _title_height(title)) / H_in,
                                    hspace=0.45, wspace=wspace)
            animated = []
            for r, (key, values) in enumerate(rows):
                cmap, vmin, vmax = cmap_for_key(key, values)
                if key != "x" and key in value_ranges:
                    vmin, vmax = value_ranges[key]
                if key == "x":
                    lim = max(1e-12, float(np.max(np.abs(values))))
                    cmap, vmin, vmax = "PuOr_r", -lim, lim
                ax = fig.add_subplot(grid[r, 0])
                image, cursor = draw_heatmap_image(ax, values.T, 0, cmap, vmin, vmax, first=first)
                ax.set_ylabel(key, rotation=0, ha="right", va="center", fontsize=fs["key"])
                ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True,
                                                       steps=[1, 2, 5, 10]))
                ax.tick_params(labelsize=fs["ticks"])
                ax.set_yticks([])
                if r < len(rows) - 1:
                    ax.set_xticklabels([])
                else:
                    ax.set_xlabel("time step t", fontsize=fs["axis"])
                ax.text(1.0, 1.03, KEY_NAMES.get(key, key), transform=ax.transAxes,
                        ha="right", va="bottom", fontsize=fs["key_name"], color="0.3")
                # the colour scale of this heat map, right beside it
                cax = ax.inset_axes((1.0 + 0.06 / (ax.get_position().width * W_in), 0.0,
                                     0.08 / (ax.get_position().width * W_in), 1.0))
                bar = _colorbar(fig, image, cax, vmin, vmax, fs["ticks"])
                state.setdefault("_colorbars", {})[key] = bar
                animated.append(cursor)
                side = fig.add_subplot(grid[r, 1])
                H = values.shape[1]
                # one PolyCollection of H bars: one artist to blit, not H patches
                bars = PolyCollection(_bar_verts(values[0]), closed=True,
                                      facecolors="0.45" if key == "x" else "tab:blue",
                                      edgecolors="none")
                side.add_collection(bars)
                side.axvline(0.0, color="0.3", linewidth=0.6)
                side.set_xlim(vmin, vmax)
                side.set_ylim(H - 0.5, -0.5)
                side.set_yticks([])
                side.xaxis.set_major_locator(MaxNLocator(nbins=2, symmetric=vmin < 0))
                side.tick_params(labelsize=fs["ticks"])
                if r < len(rows) - 1:
                    side.set_xticklabels([])
                texts = []
                if annotated[r]:
                    # x in axes coordinates (right of the bars), y in data
                    # coordinates: unit h's number sits at its bar's y = h
                    at_bar = blended_transform_factory(side.transAxes, side.transData)
                    texts = [side.text(1.04, h, "", transform=at_bar, ha="left",
                                       va="center", fontsize=fs["numbers"],
                                       family="monospace", clip_on=False)
                             for h in range(H)]
                animated.append(bars)
                animated.extend(texts)
                state[key] = (cursor, bars, texts, values)
                state.setdefault("_axes", {})[key] = (ax, side)
            state["_title"] = fig.suptitle("", fontsize=fs["title"], x=left_in / W_in,
                                           ha="left")
            animated.append(state["_title"])
            state["_animated"] = animated
        for key, _ in rows:
            cursor, bars, texts, values = state[key]
            cursor.set_x(first + t - 0.5)
            bars.set_verts(_bar_verts(values[t]))
            for text, v in zip(texts, values[t]):
                text.set_text(_signed(v, 2))
        head = f"{title}   " if title else ""   # title: already wrapped to the width
        state["_title"].set_text(f"{head}t = {first + t}")
        return state["_animated"]

    draw.state = state
    return draw


def _wrap_title(title, width_in):
    """The title in lines that fit ``width_in`` at the title size (with "   t = 30")."""
    if not title:
        return None
    # ~0.58 em per character of DejaVu Sans: characters per line at 12 pt,
    # less the room of "   t = 100" that follows the last line
    chars = max(12, int((width_in - 0.8) * 72 / (0.58 * FONT_SIZES["title"])) - 10)
    return "\n".join(textwrap.wrap(str(title), width=chars))


def _title_height(title):
    """Inches above the first heat map for the (wrapped) title."""
    return 0.3 + 0.2 * str(title).count("\n") if title else 0.0


def _trace_layout(rows, annotate_max, title, figsize):
    """``(annotated, row_heights, figsize, right)`` of :func:`animate_trace`'s figure.

    ``title`` is the already wrapped title (:func:`_wrap_title`).
    """
    annotated = [v.shape[1] <= annotate_max for _, v in rows]
    row_heights = [max(1.15, 0.3 + _UNIT_HEIGHT_IN * v.shape[1]) if a else 1.15
                   for (_, v), a in zip(rows, annotated)]
    if figsize is None:
        figsize = (_WIDTH_IN, 0.6 + sum(row_heights) + _title_height(title))
    if np.ndim(figsize) != 1 or len(figsize) != 2 or min(figsize) <= 0:
        raise ValueError(f"figsize: expected two positive numbers (width, height), got {figsize!r}")
    right = 1 - ((_NUMBER_WIDTH_IN if any(annotated) else 0.0) + 0.15) / figsize[0]
    return annotated, row_heights, tuple(float(v) for v in figsize), right


def _tick(v):
    """A colour-bar tick label: integers as such, else two significant digits."""
    text = f"{v:.0f}" if float(v).is_integer() else f"{v:.2g}"
    return text.replace("-", "\u2212")  # a real minus sign, as Matplotlib's own ticks


def _colorbar(fig, image, cax, vmin, vmax, fontsize):
    """A slim colour bar with at most three ticks (ends and 0, or 0 and 1)."""
    bar = fig.colorbar(image, cax=cax)
    bar.outline.set_linewidth(0.5)
    if vmin < 0 < vmax:
        ticks = [vmin, 0.0, vmax]
    else:
        ticks = [vmin, vmax]
    bar.set_ticks(ticks, labels=[_tick(v) for v in ticks])
    cax.tick_params(labelsize=fontsize, length=2, pad=1.5)
    return bar


def animate_trace(trace, sample=0, keys=None, inputs=None, title=None, *,
                  figsize=None, dpi=120, interval=700, annotate_max=8,
                  value_ranges=None, labels=True, max_bytes=MAX_WIDGET_BYTES,
                  first_step=1, density=DEFAULT_DENSITY):
    """Animate a forward trace: heat maps of units x time with a moving cursor.

    One row per trace key (RNN ``h``; LSTM ``i f g o c h``; GRU ``r z n h``):
    on the left the whole sequence as a heat map (units down, time across)
    with a box around the current step ``t``; on the right the current
    values as bars (unit 0 at the top, as in the heat map), each written as
    a number beside its bar when ``H <= annotate_max``. Under the image every
    value at ``t`` is printed, units in order. Gates use a [0, 1] colour
    scale, the other keys a symmetric one; each heat map has its colour bar. Steps are numbered
    ``first_step .. first_step + T - 1`` (1..T, as in the book) in the
    title, the ticks, the slider and the printed values; frame ``k`` shows
    array index ``trace[key][sample, k]``.

    Built like :func:`render_frames` (blitting: only the cursor, bars and
    numbers are redrawn per frame) and :func:`frame_player`, so it needs no
    kernel. Frames are drawn for 2x screens (``density``) as layers: the
    heat maps, axes and colour bars once as a background image, and per
    step only a transparent overlay with the cursor, bars, numbers and
    title. Byte budget: at most ``max_bytes`` (1 MB) of embedded frames;
    an LSTM with H = 16, T = 30 with the defaults embeds about 0.5 MB
    (``benchmarks/widget_frame.py``).

    Parameters
    ----------
    trace : dict of str -> ndarray, shape (N, T, H)
        ``cache["trace"]`` of a forward pass (or any such dict).
    sample : int
        Which sequence of the batch to show, in [0, N).
    keys : list of str, optional
        Keys to show, top to bottom; by default the LSTM, GRU or RNN keys
        found in the trace, else all keys.
    inputs : ndarray, shape (N, T, D) or (T, D), optional
        Inputs to show as an extra heat map on top.
    title : str, optional
        Figure title.
    figsize : (float, float), optional
        Defaults to 5.8 inches wide and about 1.15 inches per row (more when
        numbers are written beside many bars).
    dpi : float
        CSS pixels per inch of the frame. The default, 120, makes the
        5.8 in frame 696 px wide, so it fills the 688 px text column at
        1280 px with its smallest text (10 pt, ``FONT_SIZES``) 16.5 px tall.
    density : float
        Device pixels per CSS pixel the frames are drawn for (2: sharp on
        high-density screens; 1 halves the bytes).
    interval : int
        Milliseconds between frames when playing.
    annotate_max : int
        Write the numbers on the frame when H is at most this.
    value_ranges : dict of str -> (vmin, vmax), optional
        Colour ranges overriding the defaults per key.
    labels : bool
        Print every value at ``t`` under the image.
    max_bytes : int
        Byte budget of the embedded frames.
    first_step : int
        The number of the first step (1 by default; 0 counts from 0).

    Returns
    -------
    player : ipywidgets.VBox
        See :func:`frame_player` (``first=first_step``: frame ``k`` is
        ``player.frames[k]``).
    """
    keys, series, x, T = _check_trace(trace, sample, keys, inputs)
    if isinstance(first_step, bool) or not isinstance(first_step, (int, np.integer)) \
            or not 0 <= first_step <= 1000:
        raise ValueError(f"first_step: expected an integer in [0, 1000], got {first_step!r}")
    first = int(first_step)
    value_ranges = dict(value_ranges or {})
    panels = [(k, series[k]) for k in keys]  # each (T, H)
    rows = ([("x", x)] if x is not None else []) + panels
    title = _wrap_title(title, figsize[0] if figsize is not None else _WIDTH_IN)
    annotated, row_heights, figsize, right = _trace_layout(rows, annotate_max, title, figsize)
    draw = _trace_drawer(rows, annotated, row_heights, figsize, right, title, first,
                         value_ranges)

    # 256 palette colours: with 64, the quantizer shared entries between the
    # viridis and RdBu maps and painted some RdBu cells green (error up to
    # 56 levels); 256 keeps every pixel within 15 levels for ~18% more bytes
    check_render_args(draw, T, figsize, dpi, density)
    _, background, overlays = render_layers(draw, T, figsize, dpi, 256, density,
                                      full=False, layers=True)
    frame_labels = None
    if labels:
        digits = 2
        frame_labels = [_value_label(t, T, rows, digits, first) for t in range(T)]
    return frame_player(overlays, labels=frame_labels, description="t",
                        interval=interval, max_bytes=max_bytes, first=first,
                        layers=(background, overlays))


def widget_payload_bytes(widget) -> int:
    """Bytes of JSON that embedding ``widget`` (and its links) adds to a page.

    Counts the widget state as ``ipywidgets.embed`` writes it: every model
    the widget depends on, jslinks included, buffers base64-encoded.
    """
    from ipywidgets.embed import add_resolved_links, dependency_state

    state = dependency_state(widget, drop_defaults=True)
    add_resolved_links(state, drop_defaults=True)
    return len(json.dumps({"version_major": 2, "version_minor": 0, "state": state}))
