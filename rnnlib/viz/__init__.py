"""Drawing functions and kernel-free widgets for the book (``rnnlib.viz``).

Kept apart from the numerics: everything here takes precomputed arrays
(a forward pass's ``cache["trace"]``, gradient norms, ...) and never runs
a model or computes a gradient.

* :mod:`rnnlib.viz.draw`: ``plot_heatmap``, ``plot_values``,
  ``plot_series`` (arrays and ``ax=None`` in, axes out).
* :mod:`rnnlib.viz.render`: ``render_frames``, one persistent Agg figure
  drawn frame by frame into PNG bytes (blitting when possible).
* :mod:`rnnlib.viz.player`: ``frame_player`` (Play + slider over frames)
  and ``animate_trace`` (heat maps of a trace with a moving cursor).
* :mod:`rnnlib.viz.explorer`: ``precomputed_explorer`` (a slider over
  images precomputed for a list of parameter values).
* ``rnnlib.viz.live``: ``live_interact`` (``ipywidgets.interactive``
  whose controls are disabled, with a note saying where they run, in the
  static book, where no kernel is behind them).
* ``rnnlib.viz.beam``: ``draw_beam_tree`` (the tree of a beam search).
* :mod:`rnnlib.viz.text`: ``colored_text_html`` (each character on a
  background coloured by a value, e.g. a hidden unit) and ``spans_html``
  (chosen spans marked), as HTML that wraps at the column width.
* :mod:`rnnlib.viz.diagrams`: network diagrams (folded and unrolled,
  input/output patterns, the chapter-1 toy network with its values).

The players and explorers are linked in the browser (``jslink``) and need
no kernel: they work in the static HTML book, in Jupyter and on Binder.
Frames are drawn for 2x screens (``density=2``) and shown at half their
pixel size. Byte budget: 1 MB of embedded state per widget
(``MAX_WIDGET_BYTES``), 3 MB per page.
"""

from rnnlib.viz.beam import beam_tree_layout, draw_beam_tree
from rnnlib.viz.diagrams import (IO_PATTERNS, draw_io_pattern, draw_unrolled_toy,
                                   draw_unrolling)
from rnnlib.viz.draw import cmap_for_key, plot_heatmap, plot_series, plot_values
from rnnlib.viz.explorer import precomputed_explorer
from rnnlib.viz.gates import (connectivity_drawer, forced_gate_drawer, lstm_step_drawer,
                              read_stage_labels, step_stage_labels)
from rnnlib.viz.live import live_interact
from rnnlib.viz.player import (MAX_WIDGET_BYTES, TRACE_KEYS, animate_trace,
                               frame_player, widget_payload_bytes)
from rnnlib.viz.render import (DEFAULT_DENSITY, Frames, encode_png, frame_density, png_size,
                               render_frames)
from rnnlib.viz.text import (colored_text_html, plain_text_html, snippets_html, spans_html,
                             text_legend_html)

__all__ = [
    "plot_heatmap", "plot_values", "plot_series", "cmap_for_key",
    "render_frames", "encode_png", "frame_density", "png_size", "Frames", "DEFAULT_DENSITY",
    "frame_player", "animate_trace", "precomputed_explorer", "live_interact",
    "widget_payload_bytes", "MAX_WIDGET_BYTES", "TRACE_KEYS",
    "draw_unrolling", "draw_io_pattern", "draw_unrolled_toy", "IO_PATTERNS",
    "draw_beam_tree", "beam_tree_layout",
    "lstm_step_drawer", "step_stage_labels", "read_stage_labels", "forced_gate_drawer",
    "connectivity_drawer",
    "colored_text_html", "plain_text_html", "snippets_html", "spans_html", "text_legend_html",
]
