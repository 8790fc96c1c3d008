"""Text coloured by a value per character, as HTML that wraps (``rnnlib.viz.text``).

Karpathy, Johnson and Fei-Fei showed what a hidden unit of a character
model tracks by colouring each character of a text by the unit's value
after reading it. :func:`colored_text_html` does that as a ``<div>`` of
``<span>`` elements, so the text wraps at the column width (readable on a
phone) and works in the static book with no kernel; :func:`spans_html`
marks chosen spans of a text (matches of a state explorer). Both return a
string; show it with ``IPython.display.HTML``. Nothing here computes
anything about a model.
"""

from __future__ import annotations

import html as _html

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_hex

from rnnlib._validate import check_float_array, describe

__all__ = ["colored_text_html", "spans_html", "snippets_html", "plain_text_html",
           "text_legend_html"]

#: The box every coloured text sits in: monospace, wraps anywhere, no scrolling.
BOX_STYLE = ("font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; "
             "font-size: 13px; line-height: 1.55; white-space: pre-wrap; "
             "overflow-wrap: anywhere; max-width: 100%; "
             "margin: 0.3em 0 0.8em 0;")
NEWLINE_MARK = "\u21b5"          # the arrow shown where a line ends


def _check_text(text):
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {describe(text)}")
    if not text:
        raise ValueError("text: expected a non-empty string, got ''")
    return text


def _char_html(ch, newlines):
    if ch == "\n":
        return (NEWLINE_MARK + "\n") if newlines else "\n"
    return _html.escape(ch)


def _ink(rgb):
    """Black or white, whichever reads better on the background ``rgb``."""
    lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
    return "#000" if lum > 0.45 else "#fff"


def colored_text_html(text: str, values, *, vmin: float | None = None,
                      vmax: float | None = None, cmap: str = "RdBu_r",
                      title: str | None = None, newlines: bool = True) -> str:
    """Each character of ``text`` on a background coloured by its value.

    The colour of character ``t`` is ``cmap((values[t] - vmin) / (vmax -
    vmin))``, clipped to the ends of the map; the text colour is black or
    white for contrast. Runs of characters with the same colour share one
    ``<span>`` (fewer bytes).

    Parameters
    ----------
    text : str of length L.
    values : (L,) finite floats, e.g. one hidden unit after each character.
    vmin, vmax : the values at the two ends of the colour map (default:
        symmetric about 0, ``-max|values|`` and ``max|values|``).
    cmap : a matplotlib colour-map name (a diverging one for signed values).
    title : optional HTML-escaped line above the text.
    newlines : show each line end as an arrow before breaking the line.

    Returns
    -------
    html : str, one ``<div>``.
    """
    text = _check_text(text)
    values = check_float_array("values", values, ndim=1)
    if values.shape != (len(text),):
        raise ValueError(f"values: expected shape ({len(text)},), one value per character "
                         f"of text, got {values.shape}")
    if vmin is None or vmax is None:
        top = float(np.abs(values).max()) or 1.0
        vmin = -top if vmin is None else vmin
        vmax = top if vmax is None else vmax
    if not vmax > vmin:
        raise ValueError(f"vmax: expected vmax > vmin = {vmin}, got {vmax}")
    colors = colormaps[cmap](Normalize(vmin, vmax, clip=True)(values))     # (L, 4)
    parts, run, run_color = [], [], None
    for ch, rgba in zip(text, colors):
        color = to_hex(rgba[:3])
        if color != run_color and run:
            parts.append(_span(run, run_color))
            run = []
        run_color = color
        run.append(_char_html(ch, newlines))
    parts.append(_span(run, run_color))
    head = (f'<div style="font-size: 0.9em; margin-top: 0.6em;">{_html.escape(title)}</div>'
            if title else "")
    return f'{head}<div class="rnnlib-colored-text" style="{BOX_STYLE}">{"".join(parts)}</div>'


def _span(chars, color):
    from matplotlib.colors import to_rgb
    return (f'<span style="background:{color};color:{_ink(to_rgb(color))}">'
            f'{"".join(chars)}</span>')


def spans_html(text: str, spans, *, colors=("#fdd49e", "#9ecae1"), kinds=None,
               newlines: bool = True) -> str:
    """``text`` with the half-open character ranges ``spans`` highlighted.

    Parameters
    ----------
    text : str of length L.
    spans : list of (start, stop) with ``0 <= start < stop <= L``, not overlapping.
    colors : background colours, one per kind of span.
    kinds : optional list of ints (index into ``colors``), one per span
        (default: all 0).
    newlines : show each line end as an arrow before breaking the line.

    Returns
    -------
    html : str, one ``<div>``.
    """
    text = _check_text(text)
    spans = [tuple(int(v) for v in s) for s in spans]
    kinds = [0] * len(spans) if kinds is None else [int(k) for k in kinds]
    if len(kinds) != len(spans):
        raise ValueError(f"kinds: expected one kind per span ({len(spans)}), got {len(kinds)}")
    order = sorted(range(len(spans)), key=lambda i: spans[i])
    parts, pos = [], 0
    for i in order:
        start, stop = spans[i]
        if not 0 <= start < stop <= len(text):
            raise ValueError(f"spans: expected 0 <= start < stop <= {len(text)}, "
                             f"got {spans[i]}")
        if start < pos:
            raise ValueError(f"spans: expected spans that do not overlap, got {spans[i]} "
                             f"after one ending at {pos}")
        if not 0 <= kinds[i] < len(colors):
            raise ValueError(f"kinds: expected indices into {len(colors)} colors, got {kinds[i]}")
        parts.append("".join(_char_html(c, newlines) for c in text[pos:start]))
        inner = "".join(_char_html(c, newlines) for c in text[start:stop])
        parts.append(f'<span style="background:{colors[kinds[i]]};color:#000;'
                     f'border-bottom:2px solid #555">{inner}</span>')
        pos = stop
    parts.append("".join(_char_html(c, newlines) for c in text[pos:]))
    return f'<div class="rnnlib-colored-text" style="{BOX_STYLE}">{"".join(parts)}</div>'


def text_legend_html(items) -> str:
    """A one-line legend: ``items`` is a list of (css colour, label)."""
    cells = "".join(f'<span style="background:{c};color:#000;padding:0 0.3em;'
                    f'margin-right:0.6em">{_html.escape(str(lab))}</span>' for c, lab in items)
    return f'<div style="font-size: 0.85em; margin: 0.2em 0;">{cells}</div>'


def plain_text_html(text: str, title: str | None = None) -> str:
    """``text`` in the same wrapping monospace box, uncoloured (a sample, say)."""
    text = _check_text(text)
    head = (f'<div style="font-size: 0.9em; margin-top: 0.6em;">{_html.escape(title)}</div>'
            if title else "")
    body = "".join(_char_html(c, True) for c in text)
    return (f'{head}<div class="rnnlib-colored-text" style="{BOX_STYLE} '
            f'background: #f6f6f6; padding: 0.3em 0.5em;">{body}</div>')


def snippets_html(text: str, spans, *, context: int = 18, color: str = "#9ecae1",
                  numbered: bool = True) -> str:
    """One line per span: the span highlighted with ``context`` characters either side.

    Line ends inside a snippet are shown as arrows (no break), so each
    snippet stays one short line that wraps only on narrow screens.

    Parameters
    ----------
    text : str of length L.
    spans : list of (start, stop), ``0 <= start < stop <= L``.
    context : int >= 0, characters shown before and after.
    color : background of the span.
    numbered : put the rank (1, 2, ...) in front of each line.

    Returns
    -------
    html : str, one ``<div>``.
    """
    text = _check_text(text)
    if isinstance(context, bool) or not isinstance(context, (int, np.integer)) or context < 0:
        raise ValueError(f"context: expected an int >= 0, got {context!r}")

    def show(s):
        return _html.escape(s.replace("\n", NEWLINE_MARK))

    lines = []
    for k, span in enumerate(spans):
        start, stop = (int(v) for v in span)
        if not 0 <= start < stop <= len(text):
            raise ValueError(f"spans: expected 0 <= start < stop <= {len(text)}, got {span}")
        left = text[max(0, start - context):start]
        right = text[stop:stop + context]
        rank = f"{k + 1:>2}. " if numbered else ""
        lines.append(f'{rank}{"…" if start > context else ""}{show(left)}'
                     f'<span style="background:{color};color:#000;border-bottom:2px solid #555">'
                     f'{show(text[start:stop])}</span>{show(right)}'
                     f'{"…" if stop + context < len(text) else ""}')
    return f'<div class="rnnlib-colored-text" style="{BOX_STYLE}">' + "\n".join(lines) + "</div>"
