"""A kernel-free parameter explorer: a slider over precomputed figures.

The reader moves a :class:`ipywidgets.SelectionSlider` over a list of
parameter values; its ``index`` is ``jslink``-ed to a ``Stack`` of images
rendered beforehand, one per value, so it works in the static HTML book.
Byte budget as for the player: 1 MB of embedded images per widget.
"""

from __future__ import annotations

import ipywidgets as widgets

from rnnlib.viz.player import MAX_WIDGET_BYTES, check_budget, check_frames, image_stack

__all__ = ["precomputed_explorer"]


def _format(value, readout_format):
    try:
        return format(value, readout_format)
    except (TypeError, ValueError):
        return str(value)


def precomputed_explorer(values, frames, description="value", readout_format=".2f", *,
                         labels=None, max_bytes=MAX_WIDGET_BYTES):
    """Show one precomputed image per parameter value, chosen with a slider.

    Parameters
    ----------
    values : list
        The parameter values, in slider order (numbers or strings).
    frames : list of bytes
        One PNG per value (``len(frames) == len(values)``), e.g. from
        :func:`rnnlib.viz.render_frames` (drawn for 2x screens by default;
        each image is shown at its width over its density, at most the
        column width).
    description : str
        The slider's label, e.g. ``"spectral radius"``.
    readout_format : str
        Format spec for numeric values on the slider (``".2f"``); values
        that do not take it are shown with ``str``.
    labels : list of str, optional
        One HTML snippet per value, shown under the image.
    max_bytes : int
        Byte budget of the embedded images (base64); 1 MB by default.

    Returns
    -------
    explorer : ipywidgets.VBox
        ``SelectionSlider`` then the image ``Stack`` (then the labels);
        also ``explorer.slider``, ``explorer.stack``, ``explorer.label_stack``,
        ``explorer.links``, ``explorer.frames`` (the Image widgets).
    """
    frames = check_frames(frames)
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"values: expected a list of parameter values, got {type(values).__name__}")
    values = list(values)
    if len(values) != len(frames):
        raise ValueError(f"values: expected one value per frame ({len(frames)}), got {len(values)}")
    if labels is not None and (isinstance(labels, str) or len(labels) != len(frames)):
        raise ValueError(f"labels: expected a list of {len(frames)} strings, got {labels!r:.80}")
    names = [_format(v, readout_format) for v in values]
    if len(set(names)) != len(names):
        raise ValueError(
            f"values: two values read the same with readout_format {readout_format!r} "
            f"({names}); use a format with more digits")
    check_budget(frames, max_bytes)
    slider = widgets.SelectionSlider(options=list(zip(names, range(len(names)))),
                                     index=0, description=str(description),
                                     continuous_update=True,
                                     style={"description_width": "initial"},
                                     layout=widgets.Layout(width="100%", max_width="28em"))
    view, stack, label_stack, images, _ = image_stack(
        frames, None if labels is None else [str(x) for x in labels])
    links = [widgets.jslink((slider, "index"), (stack, "selected_index"))]
    children = [slider, view]
    if label_stack is not None:
        links.append(widgets.jslink((slider, "index"), (label_stack, "selected_index")))
        children.append(label_stack)
    box = widgets.VBox(children)
    box.add_class("rnnlib-explorer")
    box.slider, box.stack, box.label_stack = slider, stack, label_stack
    box.links, box.frames = links, images
    return box
