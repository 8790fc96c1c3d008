"""Live controls that say so: ``live_interact``, ``ipywidgets.interactive`` for the book.

A control made with ``ipywidgets.interact`` recomputes its figure in the
kernel. In the static HTML book there is no kernel: the saved widget state
still draws the sliders, and a reader can drag them while the figure stays
as it was built. :func:`live_interact` makes the same widget and marks it:

* the box carries the DOM class ``rnnbook-live-only`` (``_dom_classes``,
  which the html-manager renders as a class of the box's element);
* a note (``rnnbook-live-note``) sits between the controls and the output.
  It is hidden (``layout.display = "none"``), so in Jupyter and on Binder,
  where the controls are live, nothing changes.

In the built book, ``book/_ext/static/rnnbook-widgets.js`` (loaded on every
page with widgets) finds ``.rnnbook-live-only`` boxes, disables their
controls (inputs, buttons, sliders, editable read-outs), greys them and
shows the note, completed with this page's notebook (``jupyter lab
book/NN_name.ipynb``) and a link to the page's Binder launch button. The
browser test checks both halves.

Kernel-free alternatives that work everywhere: :func:`rnnlib.viz.precomputed_explorer`
(a slider over precomputed figures) and :func:`rnnlib.viz.frame_player`.
"""

from __future__ import annotations

import ipywidgets as widgets

__all__ = ["live_interact", "LIVE_ONLY_CLASS", "LIVE_NOTE_CLASS", "LIVE_NOTE"]

#: DOM class of a box whose controls need a kernel.
LIVE_ONLY_CLASS = "rnnbook-live-only"
#: DOM class of the note that says so (shown only in the static book).
LIVE_NOTE_CLASS = "rnnbook-live-note"

#: The note's text. The book's script replaces the ``rnnbook-nb-path`` code
#: with this page's notebook and links "Binder" to the page's launch button.
LIVE_NOTE = (
    "<span class='rnnbook-live-note-text'><b>Live control:</b> it runs only with "
    "a Python kernel, so it is switched off in this page. Run it on "
    "<span class='rnnbook-binder'>Binder</span> (the rocket icon at the top of "
    "the page) or in Jupyter: <code class='rnnbook-nb-path'>jupyter lab "
    "book/NN_name.ipynb</code>.</span>")


def live_interact(f, /, *args, **controls):
    """``ipywidgets.interactive(f, **controls)``, marked as needing a kernel.

    Called like :class:`ipywidgets.interactive` (the same abbreviations:
    a ``(min, max, step)`` tuple, a list of options, a widget, ...; an
    options dict such as ``{"manual": True}`` may come second). Live in
    Jupyter and on Binder it *is* that widget; in the static book its
    controls are disabled and a note beside them says where it runs.

    Make it the last expression of its cell, or ``display()`` it::

        viz.live_interact(show_norm_vs_lag,
                          rho=widgets.FloatSlider(value=1.0, min=0.3, max=2.5),
                          activation=["tanh", "relu"])

    Parameters
    ----------
    f : callable
        Called with the controls' values; what it prints or shows goes to
        the widget's output area.
    *args
        At most one: the options dict of ``interactive`` (``manual``, ...).
    **controls
        One control (or abbreviation) per argument of ``f``.

    Returns
    -------
    box : ipywidgets.interactive
        A VBox: the controls, the note (``box.note``), the output
        (``box.out``); with the DOM class ``rnnbook-live-only``.
    """
    if not callable(f):
        raise TypeError(f"f: expected a callable, got {type(f).__name__}")
    if len(args) > 1 or (args and not isinstance(args[0], dict)):
        raise TypeError("live_interact: expected f, at most one options dict "
                        f"({{'manual': True}}) and keyword controls, got {args!r:.80}")
    box = widgets.interactive(f, *args, **controls)
    box.add_class(LIVE_ONLY_CLASS)
    note = widgets.HTML(value=LIVE_NOTE, layout=widgets.Layout(display="none"))
    note.add_class(LIVE_NOTE_CLASS)
    children = list(box.children)
    out_at = children.index(box.out) if box.out in children else len(children)
    box.children = tuple(children[:out_at] + [note] + children[out_at:])
    box.note = note
    return box
