"""Render animation frames to PNG bytes with one persistent Agg figure.

The figure is a :class:`matplotlib.figure.Figure` on its own Agg canvas: no
pyplot, no global ``rcParams``, nothing shown in the notebook. Frames are
encoded by Pillow as palette PNGs (a few dozen colours are plenty for heat
maps and text), which keeps the embedded widgets small.

Sharp on high-density screens: frames are drawn at ``dpi * density``
pixels per inch (``density=2`` by default) and shown at ``1 / density`` of
their pixel size, like IPython's ``retina`` figures. Each PNG records its
resolution (``pHYs``, the real pixels per inch) and its density (a
``rnnlib-density`` text chunk), which :func:`frame_density` reads back; the
widgets size each image from it, and the browser test computes the on-screen
size of a figure's text from it.

Layers: :func:`render_frames` also keeps, on the returned :class:`Frames`
list, the frames split into one opaque *background* (what every frame
shares) and one mostly transparent *overlay* per frame (only the pixels that
differ from the background). A player shows the overlays stacked on the
background when that takes fewer bytes, which is what keeps 2x animations
inside the 1 MB widget budget.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterable

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from PIL.PngImagePlugin import PngInfo

__all__ = ["render_frames", "encode_png", "frame_density", "png_size", "Frames",
           "DEFAULT_DENSITY"]

#: Device pixels per CSS pixel that frames are drawn for (2: "retina").
DEFAULT_DENSITY = 2

_DENSITY_KEY = "rnnlib-density"


def encode_png(rgba: np.ndarray, colors: int = 64, *, dpi: float | None = None,
               density: float | None = None) -> bytes:
    """Encode an (rows, cols, 4) uint8 RGBA buffer as a palette PNG.

    ``colors`` is the palette size (2..256); ``0`` keeps full colour. An
    opaque buffer is encoded as RGB; one with transparent pixels keeps its
    alpha (palette entries with alpha). ``dpi`` is written as the PNG's
    resolution (``pHYs``) and ``density`` as a ``rnnlib-density`` text
    chunk (see :func:`frame_density`).
    """
    arr = np.asarray(rgba)
    opaque = int(arr[..., 3].min()) == 255
    img = Image.fromarray(arr[..., :3] if opaque else arr, "RGB" if opaque else "RGBA")
    if colors:
        img = img.quantize(colors=int(colors), method=Image.Quantize.FASTOCTREE,
                           dither=Image.Dither.NONE)
    return _save(img, dpi, density)


def _save(img, dpi, density, **kwargs):
    if dpi:
        kwargs["dpi"] = (float(dpi), float(dpi))
    if density:
        info = PngInfo()
        info.add_text(_DENSITY_KEY, f"{float(density):g}")
        kwargs["pnginfo"] = info
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=6, **kwargs)
    return buf.getvalue()


def _encode_overlay(rgba: np.ndarray, base: np.ndarray, colors: int, dpi, density) -> bytes:
    """PNG of the pixels of ``rgba`` that differ from ``base``, transparent elsewhere.

    Only the changed pixels are quantized (palette entry 0 is transparent),
    which is what makes an overlay cheap: most of a frame is unchanged.
    """
    rows, cols = rgba.shape[:2]
    flat = np.ascontiguousarray(rgba).view(np.uint32).reshape(-1)
    changed = np.flatnonzero(flat != base.view(np.uint32).reshape(-1))
    index = np.zeros(rows * cols, dtype=np.uint8)
    palette = [0, 0, 0]
    if changed.size:
        px = rgba.reshape(-1, 4)[changed, :3]
        n_colors = max(2, min(255, int(colors) - 1 if colors else 255))
        small = Image.fromarray(np.ascontiguousarray(px[None]), "RGB").quantize(
            colors=n_colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        index[changed] = np.asarray(small).reshape(-1) + 1
        palette += small.getpalette()[:3 * n_colors]
    img = Image.fromarray(index.reshape(rows, cols), "P")
    img.putpalette(palette)
    return _save(img, dpi, density, transparency=0)


def png_size(png: bytes) -> tuple[int, int]:
    """``(width, height)`` in pixels of a PNG, read from its header."""
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("png: expected PNG bytes")
    return struct.unpack(">II", png[16:24])


def frame_density(png: bytes) -> float:
    """The density a PNG was drawn for (its ``rnnlib-density`` chunk; 1 if none).

    A frame of ``density`` 2 that is ``w`` pixels wide is meant to be shown
    ``w / 2`` CSS pixels wide.
    """
    pos = 8
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"tEXt":
            key, _, value = png[pos + 8:pos + 8 + length].partition(b"\0")
            if key.decode("latin-1") == _DENSITY_KEY:
                try:
                    return float(value.decode("latin-1"))
                except ValueError:
                    return 1.0
        if kind in (b"IDAT", b"IEND"):
            break
        pos += 12 + length
    return 1.0


class Frames(list):
    """A list of PNG frames (bytes), as :func:`render_frames` returns it.

    Behaves as a plain list of full frames. ``frames.layers`` is ``None``
    or ``(background, overlays)``: one opaque PNG that every frame shares
    and one PNG per frame, transparent except where the frame differs from
    the background; drawn over the background, overlay ``k`` gives frame
    ``k`` exactly. ``frames.density`` is the density they were drawn for.
    """

    layers: tuple[bytes, list[bytes]] | None = None
    density: float = 1.0


def render_layers(draw, n_frames, figsize, dpi, colors, density, *, full=True, layers=True):
    """Shared loop of :func:`render_frames`: full frames and/or layers."""
    px_dpi = float(dpi) * float(density)
    fig = Figure(figsize=figsize, dpi=px_dpi)
    canvas = FigureCanvasAgg(fig)
    frames, overlays = [], []
    background = None      # Agg region to restore (blitting)
    base = None            # RGBA the overlays are taken against
    blit_ids: set[int] = set()
    meta = {"dpi": px_dpi, "density": density}
    for i in range(int(n_frames)):
        changed = draw(fig, i)
        if changed is not None and not isinstance(changed, Iterable):
            changed = [changed]
        if changed is None:
            canvas.draw()
        else:
            changed = list(changed)
            if background is None:
                for artist in changed:
                    artist.set_animated(True)
                blit_ids = {id(a) for a in changed}
                canvas.draw()  # everything but the animated artists
                background = canvas.copy_from_bbox(fig.bbox)
                if layers:
                    base = np.array(canvas.buffer_rgba())
            else:
                canvas.restore_region(background)
            renderer = canvas.get_renderer()
            for artist in changed:
                if id(artist) not in blit_ids:
                    raise ValueError(
                        "draw: returned an artist at frame "
                        f"{i} that it did not return at frame 0; blitting "
                        "needs the same artists every frame")
                artist.draw(renderer)
        rgba = np.asarray(canvas.buffer_rgba())
        if full:
            frames.append(encode_png(rgba, colors=colors, **meta))
        if layers:
            if base is None:          # full redraws: frame 0 is the background
                base = np.array(rgba)
            overlays.append(_encode_overlay(rgba, base, colors, px_dpi, density))
    back = encode_png(base, colors=colors, **meta) if layers else None
    return frames, back, overlays


def check_render_args(draw, n_frames, figsize, dpi, density):
    if not callable(draw):
        raise TypeError(f"draw: expected a callable draw(fig, i), got {type(draw).__name__}")
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 1:
        raise ValueError(f"n_frames: expected an integer >= 1, got {n_frames!r}")
    if len(figsize) != 2 or min(figsize) <= 0:
        raise ValueError(f"figsize: expected two positive numbers (width, height), got {figsize!r}")
    if not dpi > 0:
        raise ValueError(f"dpi: expected a positive number, got {dpi!r}")
    if isinstance(density, bool) or not isinstance(density, (int, float)) or not 1 <= density <= 4:
        raise ValueError(f"density: expected a number in [1, 4] (2 for high-density screens), "
                         f"got {density!r}")


def render_frames(draw: Callable, n_frames: int, figsize=(6, 4), dpi=100,
                  *, colors: int = 64, density: float = DEFAULT_DENSITY,
                  layers: bool = True) -> Frames:
    """Render ``n_frames`` frames of one persistent figure to PNG bytes.

    ``draw(fig, i)`` updates the figure for frame ``i`` (``fig`` is the same
    :class:`~matplotlib.figure.Figure` every time: build the axes when
    ``i == 0`` and update artists with ``set_data``/``set_text`` after).

    Two modes, chosen by what ``draw`` returns:

    * ``None``: the whole figure is drawn for every frame.
    * a sequence of artists: *blitting*. After frame 0 the figure is drawn
      once without these artists (they are marked animated) and kept as a
      background; each frame then restores the background and draws only
      these artists. Everything else must stay unchanged from frame 0 on,
      and ``draw`` must return the same artists every frame. This is what
      makes a frame cost ~10 ms instead of ~100 ms.

    Parameters
    ----------
    draw : callable ``draw(fig, i) -> None | sequence of Artist``
    n_frames : int
        Number of frames, at least 1.
    figsize : (float, float)
        Figure size in inches.
    dpi : float
        CSS pixels per inch the frame is shown at: a frame is shown
        ``figsize * dpi`` CSS pixels large (at most the column width).
    colors : int
        PNG palette size (0 for full colour).
    density : float
        Device pixels per CSS pixel (2 by default: sharp on high-density
        screens). Frames are ``figsize * dpi * density`` pixels.
    layers : bool
        Also split the frames into a background and overlays
        (``frames.layers``); costs one more PNG encoding per frame.

    Returns
    -------
    frames : Frames (a list of bytes), length n_frames
        PNG-encoded full frames; ``frames.layers`` and ``frames.density``
        as described in :class:`Frames`.
    """
    check_render_args(draw, n_frames, figsize, dpi, density)
    full, back, overlays = render_layers(draw, n_frames, figsize, dpi, colors, density,
                                   full=True, layers=layers)
    out = Frames(full)
    out.density = float(density)
    out.layers = (back, overlays) if layers else None
    return out
