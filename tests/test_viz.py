"""Tests of rnnlib.viz: drawing functions, frame rendering and the kernel-free widgets."""

from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from rnnlib.viz import (MAX_WIDGET_BYTES, animate_trace, frame_density, frame_player,
                        live_interact, plot_heatmap, plot_series, plot_values, png_size,
                        precomputed_explorer, render_frames, widget_payload_bytes)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def synthetic_trace(keys, N=2, T=7, H=5, seed=0):
    """A trace with the value ranges of the real cells (gates in (0, 1))."""
    rng = np.random.default_rng(seed)
    out = {}
    for k in keys:
        a = rng.standard_normal((N, T, H))
        out[k] = _sigmoid(a) if k in "ifozr" else np.tanh(a)
    return out


def _real_trace(cell, rng):
    """A forward trace from rnnlib's own cells (small sizes, seeded)."""
    import importlib

    mod = importlib.import_module(f"rnnlib.{cell}")
    init = importlib.import_module("rnnlib.init")
    N, T, D, H = 2, 6, 3, 4
    x = rng.standard_normal((N, T, D))
    params = getattr(init, f"init_{cell}")(D, H, rng=rng)
    h0 = np.zeros((N, H))
    if cell == "lstm":
        out = mod.lstm_forward(x, h0, np.zeros((N, H)), params)
    else:
        out = getattr(mod, f"{cell}_forward")(x, h0, params)
    return out[-1]["trace"]


def _frame_pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


# --- render_frames ---------------------------------------------------------

def test_render_frames_full_redraw_gives_distinct_pngs():
    def draw(fig, i):
        if i == 0:
            draw.ax = fig.add_subplot()
            draw.line, = draw.ax.plot([0, 1], [0, 0])
            draw.ax.set_ylim(-1, 3)
        draw.line.set_ydata([0, i])

    frames = render_frames(draw, 3, figsize=(2, 1.5), dpi=50)
    assert len(frames) == 3
    assert all(f.startswith(PNG_MAGIC) for f in frames)
    # drawn for 2x screens by default: twice figsize * dpi pixels
    assert _frame_pixels(frames[0]).shape == (150, 200, 3)
    assert len({bytes(f) for f in frames}) == 3
    one = render_frames(draw, 1, figsize=(2, 1.5), dpi=50, density=1)
    assert _frame_pixels(one[0]).shape == (75, 100, 3)


def test_frames_record_resolution_and_density():
    frames = render_frames(lambda fig, i: None, 1, figsize=(2, 1), dpi=60)
    png = frames[0]
    assert png_size(png) == (240, 120) and frame_density(png) == 2.0
    assert frames.density == 2.0
    dpi = Image.open(io.BytesIO(png)).info["dpi"]
    assert np.allclose(dpi, (120, 120), atol=0.1)   # real pixels per inch (pHYs)
    assert frame_density(_tiny_frames(1, density=1)[0]) == 1.0
    with pytest.raises(ValueError, match="density"):
        render_frames(lambda fig, i: None, 1, density=0.5)


def _composite(background, overlay):
    bg = Image.open(io.BytesIO(background)).convert("RGBA")
    bg.alpha_composite(Image.open(io.BytesIO(overlay)).convert("RGBA"))
    return np.asarray(bg.convert("RGB"))


@pytest.mark.parametrize("blit", [False, True])
def test_render_frames_layers_rebuild_every_frame(blit):
    # few colours, so that palette quantization is exact and the frames
    # must equal background + overlay pixel for pixel
    values = np.repeat(np.linspace(-1, 1, 4), 3).reshape(3, 4)

    def draw(fig, i):
        if i == 0:
            ax = fig.add_subplot()
            ax.imshow(values, vmin=-1, vmax=1, cmap="RdBu_r", interpolation="nearest")
            ax.set_axis_off()
            draw.marker, = ax.plot([0], [0], "ks", antialiased=False)
        draw.marker.set_data([i], [1])
        return [draw.marker] if blit else None

    frames = render_frames(draw, 4, figsize=(2, 2), dpi=40, colors=0)
    back, overlays = frames.layers
    assert len(overlays) == 4
    for full, over in zip(frames, overlays):
        np.testing.assert_array_equal(_composite(back, over), _frame_pixels(full))


def test_render_frames_blitting_matches_full_redraw():
    values = np.linspace(-1, 1, 12).reshape(3, 4)

    def make(blit):
        def draw(fig, i):
            if i == 0:
                ax = fig.add_subplot()
                ax.imshow(values, vmin=-1, vmax=1, cmap="RdBu_r")
                draw.marker, = ax.plot([0], [0], "ks")
            draw.marker.set_data([i], [1])
            return [draw.marker] if blit else None
        return draw

    full = render_frames(make(False), 4, figsize=(2, 2), dpi=40, colors=0)
    blit = render_frames(make(True), 4, figsize=(2, 2), dpi=40, colors=0)
    for a, b in zip(full, blit):
        np.testing.assert_array_equal(_frame_pixels(a), _frame_pixels(b))


def test_render_frames_uses_no_pyplot_state():
    import matplotlib

    before = dict(matplotlib.rcParams)
    seen = []

    def draw(fig, i):
        seen.append(fig)
        if i == 0:
            fig.add_subplot().plot([0, 1])

    render_frames(draw, 2, figsize=(1, 1), dpi=30)
    assert isinstance(seen[0], Figure) and seen[0] is seen[1]
    assert dict(matplotlib.rcParams) == before
    import sys
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


@pytest.mark.parametrize("n_frames", [0, -1, 2.5, True])
def test_render_frames_rejects_bad_counts(n_frames):
    with pytest.raises(ValueError, match="n_frames"):
        render_frames(lambda fig, i: None, n_frames)


def test_render_frames_rejects_changing_blit_artists():
    def draw(fig, i):
        if i == 0:
            draw.ax = fig.add_subplot()
        return [draw.ax.plot([0, i])[0]]

    with pytest.raises(ValueError, match="same artists"):
        render_frames(draw, 2, figsize=(1, 1), dpi=30)


# --- frame_player ----------------------------------------------------------

def _tiny_frames(n, density=2):
    return render_frames(lambda fig, i: fig.set_facecolor((i / n, 0.2, 0.5)), n,
                         figsize=(0.5, 0.5), dpi=20, density=density)


def _links(box):
    """Set of ((source model, trait), (target model, trait)) of a widget's jslinks."""
    return {((w.source[0].model_id, w.source[1]), (w.target[0].model_id, w.target[1]))
            for w in box.links}


def test_frame_player_structure_and_links():
    frames = _tiny_frames(4)
    p = frame_player(frames, labels=[f"<b>{i}</b>" for i in range(4)], description="step",
                     interval=100)
    assert isinstance(p, widgets.VBox)
    assert isinstance(p.play, widgets.Play) and isinstance(p.slider, widgets.IntSlider)
    assert (p.play.min, p.play.max, p.slider.max, p.play.interval) == (0, 3, 3, 100)
    assert p.slider.description == "step"
    assert [bytes(c.value) for c in p.stack.children] == frames
    # drawn for 2x (20 px), shown at half size, never wider than the column
    assert {(c.layout.width, c.layout.max_width) for c in p.frames} == {("10px", "100%")}
    assert p.background is None  # every pixel changes: layers would not be smaller
    assert p.stack.selected_index == 0 and p.label_stack.selected_index == 0
    assert p.label_stack.children[2].value == "<b>2</b>"
    links = _links(p)
    assert ((p.play.model_id, "value"), (p.slider.model_id, "value")) in links
    assert ((p.slider.model_id, "value"), (p.stack.model_id, "selected_index")) in links
    assert ((p.slider.model_id, "value"), (p.label_stack.model_id, "selected_index")) in links


def test_frame_player_embed_state_includes_links_and_buffers():
    p = frame_player(_tiny_frames(3))
    size = widget_payload_bytes(p)
    from ipywidgets.embed import add_resolved_links, dependency_state

    state = dependency_state(p)
    add_resolved_links(state, drop_defaults=True)
    names = [m["model_name"] for m in state.values()]
    assert names.count("LinkModel") == 2
    assert names.count("ImageModel") == 3
    assert size > sum(len(c.value) for c in p.stack.children)


def test_frame_player_validation():
    with pytest.raises(ValueError, match="frames: expected at least one frame"):
        frame_player([])
    with pytest.raises(TypeError, match=r"frames\[1\]"):
        frame_player([b"\x89PNG", "not bytes"])
    with pytest.raises(ValueError, match="labels: expected a list of 2"):
        frame_player(_tiny_frames(2), labels=["only one"])
    with pytest.raises(ValueError, match="budget"):
        frame_player([b"x" * 400_000] * 2)
    with pytest.raises(ValueError, match="interval"):
        frame_player(_tiny_frames(1), interval=0)
    with pytest.raises(ValueError, match="one overlay per frame"):
        frame_player(_tiny_frames(2), layers=(_tiny_frames(1)[0], _tiny_frames(1)))


def test_frame_player_shows_layers_when_smaller():
    def draw(fig, i):
        if i == 0:
            ax = fig.add_subplot()
            ax.imshow(np.random.default_rng(0).random((20, 30)), cmap="viridis")
            draw.dot, = ax.plot([0], [0], "wo")
        draw.dot.set_data([i], [i])
        return [draw.dot]

    frames = render_frames(draw, 5, figsize=(3, 2), dpi=50)
    p = frame_player(frames)
    assert p.background is not None and "rnnlib-layers" in p.children[1]._dom_classes
    grid = p.children[1]
    assert isinstance(grid, widgets.GridBox) and list(grid.children) == [p.background, p.stack]
    assert p.background.layout.grid_area == p.stack.layout.grid_area == "frame"
    assert [bytes(c.value) for c in p.frames] == frames.layers[1]
    assert p.background.layout.width == p.frames[0].layout.width == "150px"
    assert widget_payload_bytes(p) < widget_payload_bytes(frame_player(list(frames)))


# --- animate_trace ---------------------------------------------------------

@pytest.mark.parametrize("cell, keys", [("rnn", ["h"]), ("lstm", ["i", "f", "g", "o", "c", "h"]),
                                        ("gru", ["r", "z", "n", "h"])])
def test_animate_trace_frames_for_each_cell(cell, keys):
    rng = np.random.default_rng(3)
    trace = _real_trace(cell, rng)
    assert set(keys) <= set(trace)
    p = animate_trace(trace, sample=1, title=cell)
    T = trace["h"].shape[1]
    # steps are numbered 1..T: the slider starts at 1 and selects frame 0
    assert (p.slider.min, p.slider.max, p.play.min, p.play.max) == (1, T, 1, T)
    assert len(p.frames) == T and p.stack.children[1:] == tuple(p.frames)
    assert p.stack.selected_index == p.slider.value == 1
    pngs = [bytes(c.value) for c in p.frames]
    assert all(f.startswith(PNG_MAGIC) for f in pngs)
    # consecutive frames differ (the cursor moves) but have one size
    shapes = {_frame_pixels(f).shape for f in pngs}
    assert len(shapes) == 1
    assert all(pngs[t] != pngs[t + 1] for t in range(T - 1))
    # the default keys are the cell's keys, in order, and the label lists them
    label = p.label_stack.children[1 + 2].value  # frame 2 = step t = 3
    for k in keys:
        assert f"<b>{k}</b>" in label
    assert f"t = 3 of 1..{T}" in label
    h = trace["h"][1, 2]
    assert " ".join(f"{v:+.2f}" for v in h) in label


def test_animate_trace_written_values_and_inputs():
    trace = synthetic_trace(["h"], N=1, T=5, H=3)
    x = np.random.default_rng(1).standard_normal((1, 5, 2))
    p = animate_trace(trace, inputs=x, keys=["h"])
    assert "<b>x</b>" in p.label_stack.children[1].value
    q = animate_trace(trace, keys="h", labels=False)
    assert q.label_stack is None


def test_animate_trace_lstm_h16_t30_within_budget():
    trace = synthetic_trace(list("ifgoch"), N=1, T=30, H=16, seed=4)
    x = np.random.default_rng(4).standard_normal((1, 30, 3))
    p = animate_trace(trace, inputs=x, title="LSTM")
    size = widget_payload_bytes(p)
    assert size < MAX_WIDGET_BYTES, size
    # documented as about 0.7 MB embedded (2x, layers, 256 colours)
    assert size < 800_000, size
    # 5.8 in at 120 px per inch, drawn at 2x: 1392 pixels shown 696 px wide
    assert png_size(bytes(p.background.value))[0] == 1392
    assert {png_size(bytes(f.value))[0] for f in p.frames} == {1392}
    assert p.background.layout.width == "696px"
    assert frame_density(bytes(p.frames[3].value)) == 2.0


def test_animate_trace_wraps_a_long_title_inside_the_frame():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from rnnlib.viz.player import _title_height, _wrap_title

    title = "An Elman RNN reading a random sequence of eight steps (sequence 0)"
    wrapped = _wrap_title(title, 5.8)
    assert wrapped.count("\n") == 1 and wrapped.replace("\n", " ") == title
    rows = [("h", np.tanh(np.random.default_rng(0).standard_normal((8, 3))))]
    fig, state = _drawn(rows, t=7, title=wrapped)
    text = state["_title"]
    assert text.get_text().endswith("t = 8")
    box = text.get_window_extent(renderer=fig.canvas.get_renderer())
    assert box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1   # nothing cut off
    ax, _ = state["_axes"]["h"]
    assert box.y0 > ax.get_window_extent().y1                 # above the heat map
    assert _title_height(wrapped) == 0.5 and _wrap_title(None, 5.8) is None


def test_animate_trace_text_and_colour_bars():
    # every text at least 10 pt: at 696 px shown in the 688 px column that
    # is 16.5 CSS px, the book's footnote size (see tests/test_browser.py)
    from rnnlib.viz.player import FONT_SIZES

    assert min(FONT_SIZES.values()) >= 10
    rows = [("x", np.tanh(np.random.default_rng(1).standard_normal((6, 2)))),
            ("f", np.random.default_rng(2).random((6, 3))),
            ("h", np.tanh(np.random.default_rng(3).standard_normal((6, 3))))]
    fig, state = _drawn(rows, t=2)
    sizes = [t.get_fontsize() for t in fig.findobj(lambda a: hasattr(a, "get_fontsize"))
             if getattr(t, "get_text", lambda: "")() and t.get_visible()]
    assert sizes and min(sizes) >= 10, sorted(set(sizes))
    bars = state["_colorbars"]
    assert set(bars) == {"x", "f", "h"}
    assert tuple(bars["f"].mappable.get_clim()) == (0.0, 1.0)         # gates on [0, 1]
    assert tuple(bars["h"].mappable.get_clim()) == (-1.0, 1.0)        # symmetric
    for key, (ax, side) in state["_axes"].items():
        cax = bars[key].ax.get_window_extent()
        # beside its own heat map, left of the bars, overlapping neither
        assert ax.get_window_extent().x1 < cax.x0 and cax.x1 < side.get_window_extent().x0
        labels = [t.get_window_extent() for t in bars[key].ax.get_yticklabels()]
        assert max(b.x1 for b in labels) < side.get_window_extent().x0, key


def _drawn(rows, t, first=1, annotate=True, title="x"):
    """Run animate_trace's drawer on a Figure up to step index t."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from rnnlib.viz.player import _trace_drawer

    from rnnlib.viz.player import _trace_layout

    annotated, heights, figsize, right = _trace_layout(rows, 8 if annotate else 0, title, None)
    draw = _trace_drawer(rows, annotated, heights, figsize, right, title, first, {})
    fig = Figure(figsize=figsize, dpi=100)
    FigureCanvasAgg(fig)
    fig.canvas.get_renderer()
    for k in range(t + 1):
        draw(fig, k)
    fig.canvas.draw()
    return fig, draw.state


@pytest.mark.parametrize("H", [3, 5, 8])
def test_animate_trace_numbers_sit_beside_their_bars(H):
    # regression: numbers were placed bottom-up while the bars run top-down,
    # so unit 0's number was printed beside unit H-1's bar
    rng = np.random.default_rng(H)
    values = np.tanh(rng.standard_normal((4, H)))
    values[2] = np.linspace(-0.9, 0.9, H)  # distinct, ordered values at t = 2
    fig, state = _drawn([("h", values)], t=2)
    cursor, bars, texts, _ = state["h"]
    ax, side = state["_axes"]["h"]
    assert [tx.get_text() for tx in texts] == [f"{v:+.2f}" for v in values[2]]
    bar_y = [side.transData.transform(p.vertices[:4].mean(axis=0))[1] for p in bars.get_paths()]
    text_y = [tx.get_transform().transform(tx.get_position())[1] for tx in texts]
    np.testing.assert_allclose(text_y, bar_y, atol=0.5)  # same row, in pixels
    assert np.all(np.diff(bar_y) < 0)  # unit 0 at the top, as in the heat map
    # each bar's length is its own unit's value
    ends = [p.vertices[1, 0] for p in bars.get_paths()]
    np.testing.assert_allclose(ends, values[2])
    # the numbers are right of the bar axes, not on top of the bars
    x0 = texts[0].get_window_extent().x0
    assert x0 > side.get_window_extent().x1


def test_animate_trace_counts_steps_from_one():
    values = np.tanh(np.random.default_rng(0).standard_normal((12, 4)))
    fig, state = _drawn([("h", values)], t=4, title="demo")
    assert state["_title"].get_text().endswith("t = 5")
    cursor = state["h"][0]
    assert cursor.get_x() == 4.5 and cursor.get_width() == 1.0  # column of step 5
    ax, _ = state["_axes"]["h"]
    assert ax.get_xlim() == (0.5, 12.5)
    # column k of the array is centred at x = k + 1, so a tick reads its step
    assert tuple(ax.get_images()[0].get_extent()[:2]) == (0.5, 12.5)
    shown = [v for v in ax.get_xticks() if 0.5 <= v <= 12.5]
    assert set(shown) <= set(range(1, 13)) and 12 in shown and len(shown) >= 4
    fig0, state0 = _drawn([("h", values)], t=4, first=0, title="demo")
    assert state0["_title"].get_text().endswith("t = 4")
    p = animate_trace({"h": values[None]}, first_step=0)
    assert (p.slider.min, p.slider.max, len(p.stack.children)) == (0, 11, 12)
    assert "t = 0 of 0..11" in p.label_stack.children[0].value


def test_heatmap_cursor_has_no_white_slivers():
    # regression: the cursor box had a white halo stroke, snapped to the pixel
    # grid apart from the thinner black stroke, which left a white column
    # inside one edge of the box and outside the other. Checked at several
    # sub-pixel positions of the axes and two dpis, on colours that are
    # never white (viridis on [0.2, 0.8]).
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from rnnlib.viz.draw import draw_heatmap_image

    T, H = 8, 5
    values = 0.2 + 0.6 * np.random.default_rng(5).random((H, T))
    for dpi in (72, 110):
        for k in range(8):
            fig = Figure(figsize=(3, 1.5), dpi=dpi)
            FigureCanvasAgg(fig)
            ax = fig.add_axes((0.1 + k / 8 / (3 * dpi), 0.1, 0.8, 0.8))
            _, cursor = draw_heatmap_image(ax, values, 3, "viridis", 0.0, 1.0, first=1)
            assert cursor.get_x() == 3.5  # column 3 is step 4, at x = 4
            fig.canvas.draw()
            px = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
            for edge in (3.5, 4.5):
                x, y_bottom = ax.transData.transform((edge, 4.0))
                _, y_top = ax.transData.transform((edge, 0.0))
                rows = slice(int(px.shape[0] - y_top), int(px.shape[0] - y_bottom))
                near = px[rows, int(x) - 4:int(x) + 5]
                assert near.shape[0] > 10
                assert not (near.min(axis=2) > 235).any(), (dpi, k, edge)


def test_animate_trace_validation():
    good = synthetic_trace(["h"], N=2, T=4, H=3)
    with pytest.raises(ValueError, match="empty dict"):
        animate_trace({})
    with pytest.raises(TypeError, match="trace: expected a dict"):
        animate_trace(good["h"])
    with pytest.raises(ValueError, match=r"trace\['h'\]: expected a 3-d array"):
        animate_trace({"h": good["h"][0]})
    with pytest.raises(ValueError, match=r"sample: expected an integer in \[0, 1\]"):
        animate_trace(good, sample=2)
    with pytest.raises(ValueError, match="sample"):
        animate_trace(good, sample=-1)
    with pytest.raises(ValueError, match="'q' is not in the trace"):
        animate_trace(good, keys=["q"])
    with pytest.raises(ValueError, match="same"):
        animate_trace({"h": good["h"], "c": good["h"][:, :3]}, keys=["h", "c"])
    with pytest.raises(ValueError, match="inputs"):
        animate_trace(good, inputs=np.zeros((2, 5, 1)))
    with pytest.raises(ValueError, match="finite"):
        animate_trace({"h": np.full((1, 2, 2), np.nan)})
    with pytest.raises(ValueError, match="first_step"):
        animate_trace(good, first_step=-1)
    with pytest.raises(ValueError, match="first"):
        frame_player(_tiny_frames(2), first=1.5)
    with pytest.raises(ValueError, match="T >= 1|non-empty"):
        animate_trace({"h": np.zeros((1, 0, 2))})


# --- precomputed_explorer ---------------------------------------------------

def test_precomputed_explorer_links_index_to_stack():
    frames = _tiny_frames(3)
    e = precomputed_explorer([0.5, 1.0, 1.5], frames, description="radius")
    assert isinstance(e.slider, widgets.SelectionSlider)
    assert [lab for lab, _ in e.slider.options] == ["0.50", "1.00", "1.50"]
    assert e.slider.description == "radius"
    assert [bytes(c.value) for c in e.stack.children] == frames
    assert ((e.slider.model_id, "index"), (e.stack.model_id, "selected_index")) in _links(e)
    assert e.frames[0].layout.width == "10px"  # 2x frames shown at half size


def test_precomputed_explorer_validation():
    frames = _tiny_frames(2)
    with pytest.raises(ValueError, match="one value per frame"):
        precomputed_explorer([1.0], frames)
    with pytest.raises(ValueError, match="read the same"):
        precomputed_explorer([1.001, 1.002], frames)
    with pytest.raises(ValueError, match="at least one frame"):
        precomputed_explorer([], [])
    e = precomputed_explorer(["tanh", "relu"], frames)
    assert [lab for lab, _ in e.slider.options] == ["tanh", "relu"]


# --- drawing functions ------------------------------------------------------

def _ax():
    return Figure().add_subplot()


def test_plot_heatmap_draws_units_by_time_and_cursor():
    values = np.arange(12.0).reshape(3, 4) / 12
    ax = plot_heatmap(values, ax=_ax(), cursor=2, title="h")
    (im,) = ax.get_images()
    np.testing.assert_array_equal(im.get_array(), values)
    assert ax.get_title() == "h"
    (patch,) = ax.patches
    assert patch.get_x() == 1.5
    with pytest.raises(ValueError, match="cursor"):
        plot_heatmap(values, ax=_ax(), cursor=4)
    with pytest.raises(ValueError, match=r"values: expected a 2-d array of shape \(H, T\)"):
        plot_heatmap(values[0], ax=_ax())


def test_plot_heatmap_colour_bar_by_default():
    values = np.linspace(-0.5, 0.5, 12).reshape(3, 4)
    ax = plot_heatmap(values, ax=_ax(), cmap="viridis", vmin=-0.5, vmax=0.5,
                      colorbar_label="h")
    bar = ax.images[0].colorbar
    assert bar is not None and bar.ax in ax.figure.axes
    assert tuple(bar.mappable.get_clim()) == (-0.5, 0.5)
    assert bar.ax.get_ylabel() == "h"
    ax2 = plot_heatmap(values, ax=_ax(), colorbar=False)
    assert ax2.images[0].colorbar is None and len(ax2.figure.axes) == 1
    with pytest.raises(TypeError, match="colorbar"):
        plot_heatmap(values, ax=_ax(), colorbar="yes")


# --- live_interact ------------------------------------------------------------

def test_live_interact_is_interactive_marked_live_only():
    calls = []

    def f(u=1.0, name="a"):
        calls.append((u, name))
        print(f"u = {u}")

    box = live_interact(f, u=widgets.FloatSlider(value=1.0, min=-2, max=2), name=["a", "b"])
    assert isinstance(box, widgets.interactive)
    assert "rnnbook-live-only" in box._dom_classes
    # it runs like interactive: once at creation, again when a control moves
    assert calls == [(1.0, "a")]
    slider, dropdown, note, out = box.children
    assert isinstance(slider, widgets.FloatSlider) and isinstance(dropdown, widgets.Dropdown)
    slider.value = 2.0
    assert calls[-1] == (2.0, "a") and box.out is out
    # the note sits between the controls and the output, hidden unless the
    # book's script (no kernel) shows it
    assert note is box.note and "rnnbook-live-note" in note._dom_classes
    assert note.layout.display == "none"
    for words in ("kernel", "Binder", "rocket", "jupyter lab", "rnnbook-nb-path"):
        assert words in note.value
    # embeddable: the class travels in the saved state the html-manager reads
    from ipywidgets.embed import dependency_state

    state = dependency_state(box)
    assert any("rnnbook-live-only" in m["state"].get("_dom_classes", ())
               for m in state.values())
    manual = live_interact(f, {"manual": True}, u=(0.0, 1.0))
    assert any(isinstance(c, widgets.Button) for c in manual.children)
    with pytest.raises(TypeError, match="callable"):
        live_interact("f", u=1.0)
    with pytest.raises(TypeError, match="options dict"):
        live_interact(f, 3, u=1.0)


def test_plot_values_and_series():
    ax = plot_values(np.array([0.5, -0.25]), ax=_ax())
    assert [p.get_width() for p in ax.patches] == [0.5, -0.25]
    ax = plot_series(np.array([[1.0, 2.0], [0.1, 0.2], [0.01, 0.02]]), ax=_ax(),
                     labels=["a", "b"], logy=True)
    assert len(ax.get_lines()) == 2 and ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="labels"):
        plot_series(np.ones((3, 2)), ax=_ax(), labels=["a"])


def test_frame_values_never_print_minus_zero():
    from rnnlib.viz.player import _signed
    assert [_signed(v, 2) for v in (-0.001, 0.0, 0.004, -0.006, 1.234)] == \
        ["+0.00", "+0.00", "+0.00", "-0.01", "+1.23"]
