"""The built HTML book in a real browser (Debian chromium driven by playwright).

Run after the build (``bash scripts/test.sh`` always builds first). The pages
are found by globbing the build (every chapter to come is tested), served
from ``_build/html`` on 127.0.0.1; every request to any other host is
blocked and counted, so the test also proves the book works offline.

Every page is opened at two widths, **1280 px** (a laptop) and **390 px**
(a phone), and checked for what a reader sees. Each check collects every
offending element of the page and asserts once, so one run lists them all
(also written, for every page, to ``<build>/browser-report.txt``). Failure
messages name the page, the width, the element and the measured against
the allowed value.

* loads: HTTP 200, no console error outside ``ALLOWED_CONSOLE``, MathJax has
  typeset every formula, every image has loaded, no request left the host;
  a full-page screenshot goes to ``<build>/screenshots/<page>@<width>.png``.
* equations: a display equation (MathJax CHTML ``mjx-container[display]``)
  must not be wider than the room it has: the text column, less the
  equation number beside it. Measured: the width of its ``mjx-math``.
* tables: no table wider than the text column.
* code blocks: at most ``MAX_SCROLLING_SHARE`` = 10 % of a page's code-input
  and output blocks (``div.cell_input pre``, ``div.cell_output pre``,
  hidden cells opened) may need horizontal scrolling, i.e. have a line
  longer than the column (at 1280 px the column shows 77 characters of the
  theme's 14 px monospace). One block in ten is what a reader can be asked
  to scroll, e.g. a table printed on purpose; a chapter where half the
  blocks scroll hides its numbers. On phones the book's CSS wraps code and
  output (``book/_ext/static/rnnbook.css``), so the same share applies.
* controls: a widget control outside an ``rnnlib.viz`` player or explorer
  (those are tested below) either changes what it shows when it moves (its
  figure or text), or is live-only (``rnnlib.viz.live_interact``): then it
  must be disabled, must not move when clicked or keyed, and a visible note
  beside it must say that it runs only with a kernel (Binder, Jupyter).
* glyphs: every CJK character on a page (the glossary's Chinese terms)
  must render with a real glyph: drawn on a canvas in the element's own
  font it must not look like a code point that no font has (U+0378), i.e.
  not the empty box of a missing glyph. ``test_missing_glyph_check_sees_tofu``
  proves the check fails on a browser without a CJK font.
* images: an image's smallest text, on screen, must be at least
  ``min text`` CSS px: the page's footnote text size at 1280 px (16 px in
  this theme; measured on each page), and half of it (8 px) at 390 px,
  where a reader zooms into a figure. The image's text size is computed,
  not seen: its resolution (PNG ``pHYs``, which Matplotlib and
  ``rnnlib.viz`` write; 96 px per inch if absent, SVG as CSS) gives the
  CSS px of one point of the figure at the size shown, ``shown width /
  natural width * dpi / 72``, and the book's figures use no text smaller
  than ``FIGURE_MIN_FONT_PT`` = 10 pt (Matplotlib's default size). Example:
  a figure made at 100 dpi, shown at its 1x width, has 10 pt text 13.9 px
  tall, so at 1280 px it must be shown at >= 115 % of its 1x width
  (figure.dpi >= 116, or a column-wide figure at most 5.97 in wide).
  And sharp: at least ``SHARP_DENSITY`` = 2 image pixels per CSS px shown
  (a 2x screen gets one image pixel per device pixel: IPython's
  ``retina`` format, ``rnnlib.viz`` frames). Images under 48 px (icons) are
  not checked.
* labels: no hidden cell keeps MyST-NB's default label "Show code cell
  content": solutions say "Solution", claim-check cells (``# claim: ...``)
  say "Check".

For every animation (``rnnlib.viz`` players and explorers), at 1280 px: Play
and the slider change the frame shown. Byte budgets: each page's HTML under
3 MB, each widget's embedded state under 1 MB (the slide decks too).

Lecture mode (``book/_ext/rnnbook_slides.py``; the last section of this file):
the decks in ``slides/`` are not pages; each chapter must have one of 10 to
25 slides and an exercise sheet in ``exercises/``, linked from its pages; each
slide's words, TeX, figures, widgets and printed output must come from the
cells it names; a sheet has the prompts and no solution code. In the browser,
at both widths: a deck loads offline with no console error, its math is
typeset (the notes' math as MathML), End and Home reach the last and first
slide, no slide overflows 1280 x 720, an animation on it plays, and no
live-only control is on a slide; ``S`` opens the speaker view offline.
Screenshots: ``<build>/screenshots/slides__<deck>-<slide>@<width>.png``.

``RNNBOOK_HTML`` may point at another built book (default ``_build/html``).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("RNNBOOK_HTML", ROOT / "_build" / "html")).resolve()
SCREENSHOTS = HTML.parent / "screenshots"
REPORT = HTML.parent / "browser-report.txt"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

PAGE_BUDGET = 3_000_000      # bytes of HTML per page (widget state included)
WIDGET_BUDGET = 1_000_000    # bytes of embedded state per widget

#: The two widths every page is read at (CSS px) and their viewports.
WIDTHS = (1280, 390)
VIEWPORTS = {1280: {"width": 1280, "height": 900}, 390: {"width": 390, "height": 844}}

#: Share of a page's code and output blocks that may need horizontal scrolling.
MAX_SCROLLING_SHARE = 0.10
#: The smallest text the book's figures use (points); Matplotlib's default size.
FIGURE_MIN_FONT_PT = 10.0
#: At 390 px the minimum on-screen text is this share of the footnote size.
PHONE_TEXT_SHARE = 0.5
#: Image pixels per CSS px an image needs to be sharp on a 2x screen.
SHARP_DENSITY = 2.0
#: Slack for rounding (px) and for the sharpness ratio.
PX_SLACK, DENSITY_SLACK = 1.0, 0.97

# Console errors that are not the book's fault. Each entry: (regex, reason).
ALLOWED_CONSOLE = [
    # Chromium asks every site for /favicon.ico; the book sets no favicon.
    (r"favicon\.ico.*404|404.*favicon\.ico",
     "Chromium requests /favicon.ico on its own; the book has no favicon"),
]

WIDGET_STATE = 'script[type="application/vnd.jupyter.widget-state+json"]'


def _is_redirect(path):
    """Pages that only send the reader on (the build's index.html -> the preface)."""
    head = path.read_text(encoding="utf-8", errors="replace")[:2000].lower()
    return 'http-equiv="refresh"' in head


#: top-level folders of the build that are not book pages: the lecture slides
#: (reveal.js decks, tested by the deck tests below; the exercise sheets in
#: exercises/ are ordinary pages and get every page check)
NOT_PAGES = ("slides",)


def _pages():
    if not HTML.is_dir():
        return []
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if not p.relative_to(HTML).parts[0].startswith("_")
                  and p.relative_to(HTML).parts[0] not in NOT_PAGES and not _is_redirect(p))


PAGES = _pages()
NO_BUILD = pytest.mark.skipif(
    not PAGES, reason=f"no built book at {HTML}: run `bash scripts/book.sh` first "
                      "(scripts/test.sh always builds before testing)")
PAGE_PARAMS = PAGES or ["(no build)"]
PAGE_WIDTHS = [pytest.param(rel, w, id=f"{rel}@{w}") for rel in PAGE_PARAMS for w in WIDTHS]


# --- fixtures ----------------------------------------------------------------

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site():
    """Serve the built book on 127.0.0.1 (an ephemeral port) for the session."""
    handler = functools.partial(_Quiet, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _launch(pw, **kwargs):
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                              headless=True, **kwargs)


@pytest.fixture(scope="session")
def playwright_api():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install -y chromium` "
                    "(scripts/test.sh does it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    pw = sync_api.sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def browser(playwright_api):
    chromium = _launch(playwright_api)
    yield chromium
    chromium.close()


class Visit:
    """One page opened in a fresh context, with its console and blocked requests."""

    def __init__(self, browser, site, rel, width=1280):
        self.rel, self.width = rel, width
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.context = browser.new_context(viewport=VIEWPORTS[width])
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"console: {m.text} @ {m.location.get('url', '')}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("requestfailed", lambda r: urlparse(r.url).hostname == "127.0.0.1"
                     and self.errors.append(f"requestfailed: {r.url} {r.failure}"))
        self.response = self.page.goto(f"{site}/{rel}", wait_until="load")

    def _route(self, route):
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", None):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def unexpected_errors(self):
        return [e for e in self.errors
                if not any(re.search(rx, e) for rx, _ in ALLOWED_CONSOLE)]

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, site):
    opened = []

    def open_page(rel, width=1280):
        v = Visit(browser, site, rel, width)
        opened.append(v)
        return v

    yield open_page
    for v in opened:
        v.close()


def _wait_widgets(page, timeout=20_000):
    """Wait until the html-manager has rendered every widget view on the page."""
    n_views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    if n_views:
        page.wait_for_function(
            "n => document.querySelectorAll('.jupyter-widgets.widget-container,"
            " .jupyter-widgets.widget-inline-hbox, .jupyter-widgets.widget-box').length > 0"
            " && document.querySelectorAll('.widget-image').length > 0 || n === 0",
            arg=n_views, timeout=timeout)
    return n_views


def _wait_images(page, timeout=20_000):
    page.wait_for_function(
        "() => Array.from(document.images).every(i => i.complete)", timeout=timeout)


def _wait_math(page, timeout=20_000):
    """Wait for MathJax; return (math elements, typeset containers, TeX errors)."""
    if page.locator(".math").count() == 0:
        return 0, 0, 0
    page.wait_for_function(
        "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
        " && document.querySelectorAll('mjx-container').length > 0", timeout=timeout)
    page.evaluate("() => MathJax.startup.promise")
    return (page.locator(".math").count(), page.locator("mjx-container").count(),
            page.locator("mjx-merror").count())


# --- what a reader sees: one visit per page and width, every check ----------------

# Everything measured in one pass, before anything is opened or moved.
MEASURE_JS = r"""
async ({minFontPt}) => {
  const art = document.querySelector('article.bd-article') || document.querySelector('main')
              || document.body;
  const cs = getComputedStyle(art);
  const column = art.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  const probe = document.createElement('aside');
  probe.className = 'footnote-list brackets';
  probe.innerHTML = '<aside class="footnote brackets"><span class="label">1</span><p>x</p></aside>';
  art.appendChild(probe);
  const footnotePx = parseFloat(getComputedStyle(probe.querySelector('p')).fontSize);
  probe.remove();
  const clip = (t, n) => (t || '').replace(/[\s\u00b6#]+/g, ' ').trim().slice(0, n || 60);
  const section = el => {
    const sec = el.closest('section');
    const h = sec && sec.querySelector('h1, h2, h3, h4, h5');
    return h ? clip(h.textContent, 50) : '';
  };
  const shown = el => el.getClientRects().length > 0 && el.getBoundingClientRect().width > 0;

  const equations = Array.from(art.querySelectorAll('mjx-container[display]'))
    .filter(shown).map((m, k) => {
      const math = m.querySelector('mjx-math');
      const box = m.closest('div.math');
      const eqno = box && box.querySelector('.eqno');
      const mml = m.querySelector('mjx-assistive-mml');
      return {k, eqno: eqno ? clip(eqno.textContent, 12) : null,
              content: math ? math.getBoundingClientRect().width : m.scrollWidth,
              allowed: Math.min(m.clientWidth || column, column), column,
              section: section(m), text: clip(mml ? mml.textContent : m.textContent, 40)};
    });

  const tables = Array.from(art.querySelectorAll('table')).filter(shown).map((t, k) => {
    const cap = t.querySelector('caption'), row = t.querySelector('tr');
    return {k, width: Math.max(t.getBoundingClientRect().width, t.scrollWidth), column,
            name: clip(cap ? cap.textContent : (row ? row.textContent : ''), 50),
            section: section(t), widget: !!t.closest('.jupyter-widgets')};
  });

  async function resolution(src) {
    try {
      const buf = new Uint8Array(await (await fetch(src)).arrayBuffer());
      const sig = [137, 80, 78, 71, 13, 10, 26, 10];
      if (!sig.every((b, i) => buf[i] === b)) {
        const head = new TextDecoder().decode(buf.slice(0, 512));
        return {dpi: 96, kind: /<svg/i.test(head) ? 'svg' : 'other', known: false};
      }
      const dv = new DataView(buf.buffer);
      let pos = 8, dpi = null, density = null;
      while (pos + 8 <= buf.length) {
        const len = dv.getUint32(pos), type = String.fromCharCode(...buf.slice(pos + 4, pos + 8));
        if (type === 'pHYs' && buf[pos + 16] === 1) dpi = dv.getUint32(pos + 8) * 0.0254;
        if (type === 'tEXt') {
          const txt = new TextDecoder('latin1').decode(buf.slice(pos + 8, pos + 8 + len));
          if (txt.startsWith('rnnlib-density\0')) density = parseFloat(txt.split('\0')[1]);
        }
        if (type === 'IDAT' || type === 'IEND') break;
        pos += 12 + len;
      }
      return {dpi: dpi || 96, kind: 'png', known: !!dpi, density};
    } catch (e) { return {dpi: 96, kind: 'unreadable', known: false}; }
  }
  const images = [];
  const imgs = Array.from(art.querySelectorAll('img')).filter(i => shown(i) && i.naturalWidth > 0
      && i.getBoundingClientRect().width >= 48 && !i.closest('.rnnlib-overlays'));
  for (const [k, i] of imgs.entries()) {
    const r = i.getBoundingClientRect(), src = i.currentSrc || i.src;
    const res = await resolution(src);
    const widget = i.closest('.rnnlib-player') ? 'player frame'
                 : i.closest('.rnnlib-explorer') ? 'explorer frame'
                 : i.closest('.jupyter-widgets') ? 'widget image' : 'image';
    const fig = i.closest('figure'), cap = fig && fig.querySelector('figcaption');
    const name = src.startsWith('blob:') || src.startsWith('data:') ? '' : src.split('/').pop();
    images.push({k, widget, name: clip(name, 24), caption: clip(cap ? cap.textContent : i.alt, 40),
                 section: section(i), natural: i.naturalWidth, shown: r.width, ...res});
  }

  const labels = Array.from(art.querySelectorAll('details')).map(d => {
    const sum = d.querySelector('summary');
    const collapsed = sum && sum.querySelector('.collapsed');
    const label = clip(collapsed ? collapsed.textContent : (sum ? sum.textContent : ''), 40);
    const cell = d.closest('.cell');
    const code = cell && cell.querySelector('.cell_input pre');
    const first = code ? code.textContent.split('\n')[0].trim() : '';
    return {label, section: section(d), first: clip(first, 60),
            hideCell: !!(cell && cell.classList.contains('tag_hide-cell')),
            claim: /^#\s*claim:/.test(first)};
  });

  // glyphs: every CJK character, drawn in its element's font, against a
  // code point no font has (the missing-glyph box)
  const CJK = /[\u2E80-\u2FFF\u3000-\u303F\u3040-\u30FF\u3100-\u312F\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\uFF00-\uFFEF]/g;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 96;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const key = (font, ch) => {
    ctx.clearRect(0, 0, 96, 96); ctx.font = font; ctx.textBaseline = 'top';
    ctx.fillStyle = '#000'; ctx.fillText(ch, 8, 8);
    const d = ctx.getImageData(0, 0, 96, 96).data;
    let h = 0, ink = 0;
    for (let p = 3; p < d.length; p += 4) { h = (h * 31 + d[p]) >>> 0; if (d[p]) ink++; }
    return ink ? ctx.measureText(ch).width.toFixed(2) + ':' + h : 'no ink';
  };
  const glyphs = [], refs = {}, seen = new Set();
  const walker = document.createTreeWalker(art, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const chars = node.nodeValue.match(CJK);
    if (!chars || !node.parentElement || !shown(node.parentElement)) continue;
    const c = getComputedStyle(node.parentElement);
    const font = `${c.fontStyle} ${c.fontWeight} 48px ${c.fontFamily}`;
    if (!(font in refs)) refs[font] = new Set([key(font, '\u0378'), key(font, '\u0379')]);
    for (const ch of chars) {
      if (seen.has(font + ch)) continue;
      seen.add(font + ch);
      const k = key(font, ch);
      if (k === 'no ink' || refs[font].has(k)) {
        const owner = node.parentElement.closest('dt, dd, li, p, td, th') || node.parentElement;
        glyphs.push({ch, code: 'U+' + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, '0'),
                     text: clip(owner.textContent, 50), font: c.fontFamily.slice(0, 60)});
      }
    }
  }
  const cjkCount = seen.size;

  // code blocks, hidden cells opened
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const blocks = Array.from(art.querySelectorAll('div.cell_input pre, div.cell_output pre'))
    .filter(shown).map((p, k) => {
      const lines = p.textContent.split('\n');
      const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
      return {k, kind: p.closest('.cell_input') ? 'code' : 'output',
              scrolls: p.scrollWidth > p.clientWidth + 1, content: p.scrollWidth,
              visible: p.clientWidth, chars: longest.length, line: clip(longest, 60),
              section: section(p)};
    });
  document.querySelectorAll('details').forEach(d => { d.open = false; });
  return {column, footnotePx, equations, tables, images, labels, glyphs, cjkCount, blocks};
}
"""

# What a control shows and how to describe it. ``el`` is the control's
# widget element (.widget-slider, .widget-dropdown, ...).
CONTROL_SELECTOR = (".widget-slider, .widget-text, .widget-textarea, .widget-dropdown, "
                    ".widget-checkbox, .widget-toggle-button, .widget-toggle-buttons, "
                    ".widget-button, .widget-radio, .widget-select, .widget-combobox, "
                    ".widget-play, .widget-colorpicker, .widget-datepicker")

CONTROL_STATE_JS = r"""el => {
  const label = el.querySelector('.widget-label');
  const kind = (el.className.match(/widget-(slider|textarea|text|dropdown|checkbox|toggle-buttons|toggle-button|button|radio|select|combobox|play|colorpicker|datepicker)/) || [, 'control'])[1];
  const input = el.querySelector('input, select, textarea, button');
  const readout = el.querySelector('.widget-readout');
  const value = readout ? readout.textContent.trim()
              : input ? (input.type === 'checkbox' ? String(input.checked) : (input.value || input.textContent || '').trim())
              : el.textContent.trim();
  const slider = el.querySelector('.noUi-target');
  const disabled = !!((input && input.disabled) || (slider && slider.hasAttribute('disabled'))
                      || (el.matches('button') && el.disabled));
  const live = el.closest('.rnnbook-live-only');
  let note = null;
  if (live) {
    const n = live.querySelector('.rnnbook-live-note');
    note = n && n.getClientRects().length && getComputedStyle(n).display !== 'none'
           ? n.textContent.replace(/\s+/g, ' ').trim() : '';
  }
  const inPlayer = !!el.closest('.rnnlib-player, .rnnlib-explorer');
  return {name: (label && label.textContent.trim()) || (el.textContent || '').trim().slice(0, 30) || kind,
          kind, value, disabled, liveOnly: !!live, note, inPlayer};
}"""

# A fingerprint of what a control's widget shows besides the control itself:
# the pixels of its visible images and its visible text.
OUTPUT_PRINT_JS = r"""el => {
  const root = el.closest('.widget-interact') || el.closest('.cell_output') || el.closest('.cell')
               || document.body;
  let h = 0;
  for (const i of root.querySelectorAll('img')) {
    if (!i.getClientRects().length || !i.complete || !i.naturalWidth) continue;
    const c = document.createElement('canvas');
    c.width = i.naturalWidth; c.height = i.naturalHeight;
    const x = c.getContext('2d'); x.drawImage(i, 0, 0);
    const d = x.getImageData(0, 0, c.width, c.height).data;
    for (let k = 0; k < d.length; k += 16) h = (h * 31 + d[k] + 7 * d[k + 1] + 13 * d[k + 2]) >>> 0;
  }
  const text = Array.from(root.querySelectorAll('.widget-output, .output, pre'))
    .filter(e => !e.contains(el)).map(e => e.innerText).join('|');
  return h + ':' + text.length + ':' + text.slice(0, 2000);
}"""


def _move(page, control, kind):
    """Try to change a control the way a reader would (keyboard, click, typing)."""
    try:
        if kind == "slider":
            handle = control.locator(".noUi-handle").first
            box = control.locator(".noUi-base").first.bounding_box()
            if box:  # a click on the track, 85 % along, moves the handle there
                page.mouse.click(box["x"] + 0.85 * box["width"], box["y"] + box["height"] / 2)
            handle.focus(timeout=500)
            page.keyboard.press("End")
        elif kind in ("dropdown", "select"):
            sel = control.locator("select").first
            options = sel.locator("option").all_inner_texts()
            current = sel.evaluate("s => s.selectedIndex")
            if len(options) > 1:
                sel.select_option(index=(current + 1) % len(options), timeout=1000, force=True)
        elif kind in ("text", "textarea", "combobox"):
            box = control.locator("input, textarea").first
            box.fill("2", timeout=1000, force=True)
            box.press("Enter", timeout=1000)
        elif kind == "radio":
            control.locator("input").last.click(timeout=1000, force=True)
        else:
            control.locator("input, button").first.click(timeout=1000, force=True)
    except Exception:  # a disabled control refuses: that is what it should do
        pass
    page.wait_for_timeout(600)


def _check_controls(page):
    """Offenders among the controls outside players and explorers (see module docstring)."""
    out = []
    controls = page.locator("article").locator(CONTROL_SELECTOR)
    for k in range(controls.count()):
        control = controls.nth(k)
        try:
            state = control.evaluate(CONTROL_STATE_JS)
        except Exception:
            continue
        if state["inPlayer"] or control.evaluate("el => !el.getClientRects().length"):
            continue
        name = f"{state['kind']} {state['name']!r}"
        control.scroll_into_view_if_needed()
        before_print = control.evaluate(OUTPUT_PRINT_JS)
        _move(page, control, state["kind"])
        after = control.evaluate(CONTROL_STATE_JS)
        moved = after["value"] != state["value"]
        if state["liveOnly"]:
            problems = []
            if not state["disabled"]:
                problems.append("is not disabled")
            if moved:
                problems.append(f"moved ({state['value']} -> {after['value']})")
            note = state["note"] or ""
            if not ("kernel" in note and "Binder" in note and "jupyter lab" in note):
                problems.append("has no visible note saying it needs a kernel (Binder, "
                                f"jupyter lab); note: {note[:60]!r}")
            if problems:
                out.append(f"live-only {name}: " + "; ".join(problems))
        elif moved and control.evaluate(OUTPUT_PRINT_JS) == before_print:
            out.append(f"{name} moves ({state['value']} -> {after['value']}) and nothing else "
                       "changes: make it a precomputed explorer or viz.live_interact")
    return out


def _check_equations(m, width):
    return [f"equation {e['eqno'] or '#' + str(e['k'] + 1)} in {e['section']!r} "
            f"({e['text']!r}): {e['content']:.0f} px wide, room {e['allowed']:.0f} px "
            f"(column {e['column']:.0f} px"
            + (", less the equation number)" if e["eqno"] else ", less its indentation)"
               if e["allowed"] < e["column"] - PX_SLACK else ")")
            for e in m["equations"] if e["content"] > e["allowed"] + PX_SLACK]


def _check_tables(m, width):
    return [f"table #{t['k'] + 1} in {t['section']!r} ({t['name']!r}"
            f"{', in a widget' if t['widget'] else ''}): {t['width']:.0f} px wide, "
            f"column {t['column']:.0f} px"
            for t in m["tables"] if t["width"] > t["column"] + PX_SLACK]


def _check_blocks(m, width):
    blocks = m["blocks"]
    scrolling = [b for b in blocks if b["scrolls"]]
    if not blocks or len(scrolling) <= MAX_SCROLLING_SHARE * len(blocks):
        return []
    head = (f"{len(scrolling)} of {len(blocks)} code/output blocks need horizontal scrolling "
            f"({len(scrolling) / len(blocks):.0%}; allowed {MAX_SCROLLING_SHARE:.0%}, "
            f"i.e. {int(MAX_SCROLLING_SHARE * len(blocks))}):")
    return [head] + [f"  {b['kind']} in {b['section']!r}: longest line {b['chars']} chars, "
                     f"{b['content']} px in {b['visible']} px: {b['line']!r}" for b in scrolling]


def _min_text_px(m, width):
    return m["footnotePx"] * (1.0 if width >= 1000 else PHONE_TEXT_SHARE)


def _check_images(m, width):
    out, need = [], _min_text_px(m, width)
    for i in m["images"]:
        where = (f"{i['widget']} #{i['k'] + 1} in {i['section']!r}"
                 + (f" ({i['caption']!r})" if i["caption"] else "")
                 + (f" [{i['name']}]" if i["name"] else ""))
        px_per_pt = i["shown"] / i["natural"] * i["dpi"] / 72.0
        text = FIGURE_MIN_FONT_PT * px_per_pt
        density = i["natural"] / i["shown"]
        if text < need - 0.05:
            inches = i["natural"] / i["dpi"]
            out.append(f"{where}: {FIGURE_MIN_FONT_PT:g} pt text shows {text:.1f} px, "
                       f"allowed >= {need:.1f} px (a {inches:.2f} in figure: {i['natural']} px "
                       f"at {i['dpi']:.0f} dpi{'' if i['known'] else ' (assumed)'}, shown "
                       f"{i['shown']:.0f} px wide, {i['shown'] / inches:.0f} px per inch; "
                       f"needs >= {need * 72 / FIGURE_MIN_FONT_PT:.0f})")
        if density < SHARP_DENSITY * DENSITY_SLACK:
            out.append(f"{where}: not sharp on a 2x screen: {density:.2f} image px per CSS px, "
                       f"need >= {SHARP_DENSITY:g} (image {i['natural']} px shown "
                       f"{i['shown']:.0f} px wide; use the retina format)")
    return out


def _check_glyphs(m, width):
    return [f"{g['code']} {g['ch']!r} in {g['text']!r} renders as a missing glyph "
            f"(font {g['font']!r}): install a CJK font (fonts-noto-cjk)" for g in m["glyphs"]]


def _check_labels(m, width):
    out = []
    for lab in m["labels"]:
        where = f"hidden cell in {lab['section']!r} ({lab['first']!r})"
        if re.search(r"show code cell content", lab["label"], re.I):
            want = "Check" if lab["claim"] else "Solution"
            out.append(f"{where} is labelled {lab['label']!r}: label it {want!r}")
        elif lab["claim"] and "check" not in lab["label"].lower():
            out.append(f"{where} checks a claim but is labelled {lab['label']!r}: label it 'Check'")
        elif (lab["hideCell"] and re.search(r"exercise|solution", lab["section"], re.I)
              and not lab["claim"] and "solution" not in lab["label"].lower()):
            out.append(f"{where} is a solution labelled {lab['label']!r}: label it 'Solution'")
    return out


CHECKS = {"equations": _check_equations, "tables": _check_tables, "code blocks": _check_blocks,
          "images": _check_images, "glyphs": _check_glyphs, "labels": _check_labels}

_READ: dict = {}      # (rel, width) -> {"load": [...], "controls": [...], check: [...], "m": ...}


def _read_page(browser, site, rel, width):
    """Open ``rel`` at ``width`` once per session; every check's offenders."""
    if (rel, width) in _READ:
        return _READ[(rel, width)]
    found = {"load": []}
    v = Visit(browser, site, rel, width)
    try:
        page, load = v.page, found["load"]
        if v.response is None or not v.response.ok:
            load.append(f"HTTP {v.response and v.response.status}")
        n_math, n_typeset, n_err = _wait_math(page)
        if n_typeset < n_math:
            load.append(f"{n_math} math elements, {n_typeset} typeset")
        if n_err:
            load.append(f"MathJax reported {n_err} TeX errors")
        _wait_widgets(page)
        _wait_images(page)
        broken = page.evaluate(
            "() => Array.from(document.images).filter(i => !(i.naturalWidth > 0))"
            ".map(i => i.currentSrc || i.src || i.outerHTML.slice(0, 120))")
        if broken:
            load.append(f"images that did not load: {broken}")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{rel.replace('/', '__')[:-5]}@{width}.png"),
                        full_page=True)
        m = page.evaluate(MEASURE_JS, {"minFontPt": FIGURE_MIN_FONT_PT})
        found["m"] = m
        for name, check in CHECKS.items():
            found[name] = check(m, width)
        found["controls"] = _check_controls(page)
        if v.blocked:
            load.append(f"{len(v.blocked)} non-local requests blocked: {v.blocked[:5]}")
        if v.unexpected_errors():
            load.append(f"console errors: {v.unexpected_errors()}")
    except Exception as err:  # the page could not be read: every check says so
        found["error"] = f"{type(err).__name__}: {err}"
    finally:
        v.close()
    _READ[(rel, width)] = found
    return found


@pytest.fixture(scope="module", autouse=True)
def _report():
    """Write every offender of the run, page by page, to <build>/browser-report.txt."""
    yield
    if not _READ:
        return
    lines = [f"Browser report: {len(_READ)} page visits ({', '.join(map(str, WIDTHS))} px). "
             f"Screenshots: {SCREENSHOTS}", ""]
    counts: dict = {}
    for (rel, width), found in sorted(_READ.items()):
        for check, items in found.items():
            if check == "m" or not items:
                continue
            items = [items] if isinstance(items, str) else items
            counts[check] = counts.get(check, 0) + 1
            lines.append(f"== {rel} @ {width} px: {check}")
            lines.extend(f"   {it}" for it in items)
    lines.insert(1, "Failing (page, width) per check: " + (", ".join(
        f"{c} {n}" for c, n in sorted(counts.items())) or "none"))
    try:
        REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError:
        pass


def _assert_check(browser, site, rel, width, check):
    found = _read_page(browser, site, rel, width)
    if "error" in found:
        pytest.fail(f"{rel} @ {width} px: could not read the page: {found['error']}", pytrace=False)
    items = found.get(check, [])
    if items:
        pytest.fail(f"{rel} @ {width} px, {check}: {len(items)} offending:\n  "
                    + "\n  ".join(items), pytrace=False)


@pytest.mark.browser
@NO_BUILD
@pytest.mark.parametrize("rel, width", PAGE_WIDTHS)
def test_page_loads_offline_with_math_images_and_no_errors(browser, site, rel, width):
    _assert_check(browser, site, rel, width, "load")


@pytest.mark.browser
@NO_BUILD
@pytest.mark.parametrize("rel, width", PAGE_WIDTHS)
def test_display_equations_fit_the_column(browser, site, rel, width):
    _assert_check(browser, site, rel, width, "equations")


@pytest.mark.browser
@NO_BUILD
@pytest.mark.parametrize("rel, width", PAGE_WIDTHS)
def test_tables_fit_the_column(browser, site, rel, width):
    _assert_check(browser, site, rel, width, "tables")


@pytest.mark.browser
@NO_BUILD
@pytest.mark.parametrize("rel, width", PAGE_WIDTHS)
def test_few_code_blocks_scroll_sideways(browser, site, rel, width):
    _assert_check(browser, site, rel, width, "code blocks")


@pytest.mark.browser
@NO_BUILD
@pytest.mark.parametrize("rel, width", PAGE_WIDTHS)
def test_controls_work_or_say_they_need_a_kernel(browser, site, rel, width):
    _assert_check(browser, site, rel, width, "controls")


@pytest.mark.browser
@NO_BUILD
@pytest.mark.parametrize("rel, width", PAGE_WIDTHS)
def test_cjk_terms_render_with_real_glyphs(browser, site, rel, width):
    _assert_check(browser, site, rel, width, "glyphs")


@pytest.mark.browser
@NO_BUILD
@pytest.mark.parametrize("rel, width", PAGE_WIDTHS)
def test_image_text_large_enough_and_sharp(browser, site, rel, width):
    _assert_check(browser, site, rel, width, "images")


@pytest.mark.browser
@NO_BUILD
@pytest.mark.parametrize("rel, width", PAGE_WIDTHS)
def test_hidden_cells_are_labelled_solution_or_check(browser, site, rel, width):
    _assert_check(browser, site, rel, width, "labels")


def _widget_page(*boxes):
    """A page that embeds ``boxes`` the way the book does (vendored scripts, in order)."""
    from ipywidgets.embed import add_resolved_links, dependency_state

    state = {}
    for box in boxes:
        state.update(dependency_state(box, drop_defaults=True))
    add_resolved_links(state, drop_defaults=True)
    views = "".join(
        '<script type="application/vnd.jupyter.widget-view+json">'
        + json.dumps({"version_major": 2, "version_minor": 0, "model_id": b.model_id})
        + "</script>" for b in boxes)
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            "<script src='/_static/widgets/require.js'></script>"
            "<script src='/_static/rnnbook-widgets.js'></script>"
            "<script src='/_static/widgets/embed-amd.js'></script>"
            '<script type="application/vnd.jupyter.widget-state+json">'
            + json.dumps({"version_major": 2, "version_minor": 0, "state": state})
            + "</script></head><body><article class='bd-article'><section><h2>self-test</h2>"
            + views + "</section></article></body></html>")


@pytest.mark.browser
@NO_BUILD
@pytest.mark.skipif(not (HTML / "_static" / "rnnbook-widgets.js").exists(),
                    reason="the build has no rnnbook-widgets.js")
def test_live_only_rule_disables_live_interact_and_flags_plain_interact(browser, site):
    """The static-book rule, on a page made here: ``viz.live_interact``'s controls
    are disabled with their note (no offender); a plain ``ipywidgets.interactive``
    is reported as controls that move without changing anything."""
    widgets = pytest.importorskip("ipywidgets")
    from rnnlib.viz import live_interact

    def f(u=1.0, mode="a"):
        print(f"u = {u}, mode = {mode}")

    live = live_interact(f, u=widgets.FloatSlider(value=1.0, min=-2.0, max=2.0), mode=["a", "b"])
    plain = widgets.interactive(f, u=widgets.FloatSlider(value=1.0, min=-2.0, max=2.0))
    results = []
    for box, name in ((live, "live"), (plain, "plain")):
        body = _widget_page(box)
        v = Visit.__new__(Visit)
        v.rel, v.width, v.errors, v.blocked = f"selftest-{name}", 1280, [], []
        v.context = browser.new_context(viewport=VIEWPORTS[1280])
        v.context.route("**/*", v._route)
        v.context.route("**/rnnbook-selftest.html", functools.partial(
            lambda body, route, *_: route.fulfill(body=body, content_type="text/html"), body))
        try:
            v.page = v.context.new_page()
            v.page.goto(f"{site}/book/rnnbook-selftest.html", wait_until="load")
            v.page.wait_for_function(
                "() => document.querySelectorAll('.widget-interact .noUi-handle').length > 0",
                timeout=20_000)
            v.page.wait_for_timeout(300)
            if name == "live":
                v.page.wait_for_function(
                    "() => document.querySelector('.rnnbook-no-kernel .rnnbook-live-note')",
                    timeout=10_000)
            results.append(_check_controls(v.page))
            if name == "live":
                note = v.page.locator(".rnnbook-live-note").inner_text()
                assert "jupyter lab book/rnnbook-selftest.ipynb" in note, note
        finally:
            v.close()
    live_found, plain_found = results
    assert live_found == [], f"live_interact in the static page: {live_found}"
    assert any("slider 'u' moves" in item for item in plain_found), (
        f"a plain interact was not reported: {plain_found}")


GLOSSARY = "book/appendix/glossary.html"


@pytest.mark.browser
@NO_BUILD
@pytest.mark.skipif(GLOSSARY not in PAGES, reason=f"no {GLOSSARY} in the build")
def test_missing_glyph_check_sees_tofu(playwright_api, site):
    """The glyph check must fail where no CJK font exists: a chromium whose
    fontconfig sees only DejaVu draws the glossary's Chinese as empty boxes."""
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    if not dejavu.is_dir():
        pytest.skip(f"{dejavu} missing (fonts-dejavu-core)")
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "fonts.conf"
        conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
                        f"<fontconfig><dir>{dejavu}</dir><cachedir>{tmp}/cache</cachedir>"
                        "</fontconfig>\n")
        no_cjk = _launch(playwright_api, env={**os.environ, "FONTCONFIG_FILE": str(conf)})
        try:
            v = Visit(no_cjk, site, GLOSSARY)
            _wait_math(v.page)
            m = v.page.evaluate(MEASURE_JS, {"minFontPt": FIGURE_MIN_FONT_PT})
            v.close()
        finally:
            no_cjk.close()
    assert m["cjkCount"] > 0, f"{GLOSSARY}: no CJK characters found at all"
    assert len(m["glyphs"]) == m["cjkCount"], (
        f"without a CJK font only {len(m['glyphs'])} of {m['cjkCount']} CJK characters "
        "were reported missing: the glyph check cannot see tofu")


# --- every animation -------------------------------------------------------------

WIDGET_PAGES = [p for p in PAGES if 'application/vnd.jupyter.widget-view+json'
                in (HTML / p).read_text(encoding="utf-8", errors="replace")]

# A fingerprint of the frame a widget shows: a Stack renders only its
# selected child, so hash the pixels of the visible images (one frame, or a
# background and the overlay drawn over it: rnnlib.viz layers).
SHOWN_FRAME = """el => {
  const imgs = Array.from(el.querySelectorAll('img.widget-image'))
    .filter(i => i.offsetParent !== null && i.complete && i.naturalWidth > 0);
  const layered = !!el.querySelector('.rnnlib-layers');
  if (imgs.length !== (layered ? 2 : 1)) return 'shown=' + imgs.length;
  let h = 0, size = '';
  for (const i of imgs) {
    const c = document.createElement('canvas');
    c.width = i.naturalWidth; c.height = i.naturalHeight;
    const ctx = c.getContext('2d'); ctx.drawImage(i, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    for (let k = 0; k < d.length; k += 4) h = (h * 31 + d[k] + 7 * d[k + 1] + 13 * d[k + 2] + 17 * d[k + 3]) >>> 0;
    size += c.width + 'x' + c.height + ';';
  }
  return 'frame:' + size + ':' + h;
}"""


def _shown(widget):
    return widget.evaluate(SHOWN_FRAME)


def _frame_changes(page, widget, before, timeout=10_000):
    """Wait until the widget shows one frame that differs from ``before``."""
    handle = widget.element_handle()
    page.wait_for_function(
        f"([el, before]) => {{ const f = ({SHOWN_FRAME})(el);"
        " return f.startsWith('frame:') && f !== before; }",
        arg=[handle, before], timeout=timeout)
    return _shown(widget)


# The icons a button shows: a visible FontAwesome <svg> counts by its
# data-icon, a glyph drawn by the <i>'s ::before by its class name.
ICONS = """b => {
  const out = [];
  for (const i of b.querySelectorAll('i')) {
    for (const s of i.querySelectorAll('svg'))
      if (getComputedStyle(s).display !== 'none' && s.getBoundingClientRect().width > 0)
        out.push(s.getAttribute('data-icon'));
    const c = getComputedStyle(i, '::before').content;
    if (c && c !== 'none' && c !== 'normal' && c !== '""')
      out.push((i.className.match(/fa-([a-z-]+)/) || [, 'glyph'])[1]);
  }
  return out;
}"""


def _icons(button):
    return button.evaluate(ICONS)


def _readout(widget):
    return widget.locator(".widget-readout").first.inner_text().strip()


@pytest.mark.browser
@NO_BUILD
@pytest.mark.skipif(PAGES and not WIDGET_PAGES, reason="no page of the built book has widgets")
@pytest.mark.parametrize("rel", WIDGET_PAGES or ["(none)"])
def test_every_animation_plays_and_slides(visit, rel):
    v = visit(rel)
    page = v.page
    _wait_widgets(page)
    _wait_images(page)
    players = page.locator(".rnnlib-player")
    explorers = page.locator(".rnnlib-explorer")
    assert players.count() + explorers.count() > 0, f"{rel}: widget state but no rnnlib widget"
    for k in range(players.count()):
        w = players.nth(k)
        w.scroll_into_view_if_needed()
        first = _shown(w)
        assert first.startswith("frame:"), f"{rel} player {k}: {first}"
        start = _readout(w)  # players count steps from 0 or from 1 (animate_trace)
        assert start in ("0", "1"), f"{rel} player {k}: starts at {start}"
        # FontAwesome must nest its <svg> inside the Play button's <i>
        # (autoReplaceSvg: "nest"), not replace the <i> the widget updates
        play = w.locator(".widget-play button").first
        assert play.locator("i").count() == 1, f"{rel} player {k}: Play lost its <i> icon"
        assert _icons(play) == ["play"], f"{rel} player {k}: Play shows {_icons(play)}"
        play.click()
        second = _frame_changes(page, w, first)
        assert second != first and _readout(w) != start
        if page.evaluate("el => el.querySelector('i').className", play.element_handle()) \
                .endswith("fa-pause"):  # still playing: one pause icon, nothing else
            assert _icons(play) == ["pause"], f"{rel} player {k}: playing shows {_icons(play)}"
        play.click()  # pause (or restart if it reached the end)
        # the slider alone: focus its handle and jump to the other end
        before, at = _shown(w), _readout(w)
        w.locator(".noUi-handle").first.focus()
        page.keyboard.press("Home" if at != start else "End")
        after = _frame_changes(page, w, before)
        assert after != before and _readout(w) != at
    for k in range(explorers.count()):
        w = explorers.nth(k)
        w.scroll_into_view_if_needed()
        first = _shown(w)
        assert first.startswith("frame:"), f"{rel} explorer {k}: {first}"
        w.locator(".noUi-handle").first.focus()
        page.keyboard.press("ArrowRight")
        second = _frame_changes(page, w, first)
        assert second != first
    assert v.blocked == [], f"{rel}: non-local requests: {v.blocked[:5]}"
    assert v.unexpected_errors() == [], f"{rel}: console errors: {v.unexpected_errors()}"


# --- the build itself (scripts/test.sh records its exit status) ------------------

BUILD_STATUS = HTML.parent / "build-status"
BUILD_LOG = HTML.parent / "build.log"


def test_book_build_succeeded():
    """`jupyter-book build . --all -W -n --keep-going` exited 0 (a failing cell fails it)."""
    if not BUILD_STATUS.exists():
        pytest.skip(f"no {BUILD_STATUS}: the book was not built by scripts/test.sh")
    status = BUILD_STATUS.read_text().strip()
    if status != "0":
        lines = BUILD_LOG.read_text(errors="replace").splitlines() if BUILD_LOG.exists() else []
        important = [ln for ln in lines if re.search(r"WARNING|ERROR|Error|Traceback", ln)]
        pytest.fail(f"the book build failed (exit status {status}); from {BUILD_LOG}:\n"
                    + "\n".join(important[-25:]), pytrace=False)


# --- byte budgets (no browser needed) -----------------------------------------------

def _widget_sizes(state: dict) -> dict:
    """Bytes of each top-level widget's models (its closure of IPY_MODEL_ refs and links)."""
    models = state["state"]
    refs = {mid: set(re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(m)))
            for mid, m in models.items()}
    referenced = set().union(*refs.values()) if refs else set()
    links = {mid for mid, m in models.items() if m.get("model_name") in
             ("LinkModel", "DirectionalLinkModel")}
    sizes = {}
    for root in models:
        if root in referenced or root in links:
            continue
        seen, todo = set(), [root]
        while todo:
            mid = todo.pop()
            if mid in seen or mid not in models:
                continue
            seen.add(mid)
            todo.extend(refs[mid])
        seen |= {lk for lk in links if refs[lk] & seen}
        sizes[root] = sum(len(json.dumps(models[m])) for m in seen)
    return sizes


@NO_BUILD
@pytest.mark.parametrize("rel", PAGE_PARAMS + sorted(
    p.relative_to(HTML).as_posix() for p in (HTML / "slides").glob("*.html")))
def test_page_and_widget_byte_budgets(rel):
    path = HTML / rel
    size = path.stat().st_size
    assert size < PAGE_BUDGET, f"{rel}: {size / 1e6:.2f} MB of HTML, budget {PAGE_BUDGET / 1e6} MB"
    text = path.read_text(encoding="utf-8")
    for m in re.finditer(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>',
                         text, re.S):
        for root, nbytes in _widget_sizes(json.loads(m.group(1))).items():
            assert nbytes < WIDGET_BUDGET, (
                f"{rel}: widget {root} embeds {nbytes / 1e6:.2f} MB, budget {WIDGET_BUDGET / 1e6} MB")


# --- lecture mode: slide decks and exercise sheets ---------------------------------------
#
# book/_ext/rnnbook_slides.py builds one reveal.js deck per chapter into
# slides/<chapter>.html and one printable exercise sheet into
# exercises/<chapter>.html (the sheets are pages: every page check above
# applies to them). Here: each chapter has both and links to them; each deck
# has 10 to 25 slides whose text, figures and widgets are the chapter's own
# (each part names the cell it came from); a sheet has the prompts and none of
# the solution code; and in the browser, with every non-local request
# blocked, a deck loads without console errors, its math is typeset, Home and
# End reach the first and last slide, no slide overflows its 1280 x 720 box,
# and an animation on it plays. The speaker-notes window works offline too.

import sys  # noqa: E402

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import rnnbook_slides as _slides  # noqa: E402

DECK_CHAPTERS = _slides.chapters_from_toc(ROOT)
MIN_SLIDES, MAX_SLIDES = 10, 25
DECK_RELS = sorted(p.relative_to(HTML).as_posix() for p in (HTML / "slides").glob("*.html")) \
    if HTML.is_dir() else []
_WORD = re.compile(r"[A-Za-z]{2,}")


@functools.lru_cache(maxsize=None)
def _soup(path: str):
    bs4 = pytest.importorskip("bs4")
    return bs4.BeautifulSoup(Path(path).read_text(encoding="utf-8"), "html.parser")


@functools.lru_cache(maxsize=None)
def _notebook_cells(rel: str) -> dict:
    nb = json.loads((ROOT / rel).read_text(encoding="utf-8"))
    return {c.get("id"): c for c in nb["cells"]}


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _alnum(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


@NO_BUILD
def test_every_chapter_has_a_deck_and_a_sheet_linked_from_its_pages():
    problems = []
    for ch in DECK_CHAPTERS:
        deck, sheet = HTML / "slides" / f"{ch.name}.html", HTML / "exercises" / f"{ch.name}.html"
        if not deck.exists():
            problems.append(f"chapter {ch.number}: no deck slides/{ch.name}.html")
        else:
            n = len(_soup(str(deck)).select(".reveal .slides > section"))
            if not MIN_SLIDES <= n <= MAX_SLIDES:
                problems.append(f"chapter {ch.number}: slides/{ch.name}.html has {n} slides, "
                                f"want {MIN_SLIDES} to {MAX_SLIDES}")
        if not sheet.exists():
            problems.append(f"chapter {ch.number}: no exercise sheet exercises/{ch.name}.html")
        for doc in ch.docs:
            page = HTML / (doc + ".html")
            if not page.exists():
                problems.append(f"{doc}.html is missing")
                continue
            links = {a.get("href"): a.get_text() for a in
                     _soup(str(page)).select(".rnnbook-lecture-links a")}
            for want, label in ((f"../slides/{ch.name}.html", "Slides for this chapter"),
                                (f"../exercises/{ch.name}.html", "Exercise sheet")):
                if links.get(want) != label:
                    problems.append(f"{doc}.html: no link {label!r} to {want} (has {links})")
    for page in ("book/00_preface.html", "book/lecturer.html"):
        if not (HTML / page).exists():
            problems.append(f"{page} is missing")
            continue
        hrefs = {a.get("href") for a in _soup(str(HTML / page)).find_all("a")}
        for ch in DECK_CHAPTERS:
            for want in (f"../slides/{ch.name}.html", f"../exercises/{ch.name}.html"):
                if want not in hrefs:
                    problems.append(f"{page}: no link to {want}")
    assert not problems, "\n  ".join([f"{len(problems)} problems:"] + problems)


def _check_part(el, cell, page_html, page_text, where):
    """Offenders: what a deck part shows that its cell (or its chapter page) does not hold."""
    out = []
    kind = "code" if "rnnbook-code" in el.get("class", []) else "markdown"
    if kind == "markdown":
        source = _src(cell)
        for m in el.select(".math"):
            tex = re.sub(r"\\tag\{[^}]*\}", "", m.get_text())
            tex = re.sub(r"^\\[\[(]|\\[\])]$", "", tex.strip())
            if _squash(tex) not in _squash(source):
                out.append(f"{where}: math {tex[:50]!r} is not in cell {cell.get('id')}")
            m.decompose()
        for r in el.select(".rnnbook-resolved"):
            r.decompose()
        words = {w.lower() for w in _WORD.findall(el.get_text(" "))}
        extra = words - {w.lower() for w in _WORD.findall(source)}
        if extra:
            out.append(f"{where}: words not in cell {cell.get('id')}: {sorted(extra)[:8]}")
        return out
    for img in el.find_all("img"):
        name = img.get("src", "").rsplit("/", 1)[-1]
        if name not in page_html:
            out.append(f"{where}: image {name} is not on the chapter's page")
    for view in el.find_all("script", type="application/vnd.jupyter.widget-view+json"):
        mid = json.loads(view.string)["model_id"]
        if mid not in page_html:
            out.append(f"{where}: widget {mid} is not on the chapter's page")
    for pre in el.select("pre.rnnbook-output"):
        for line in pre.get_text().splitlines():
            if line.strip() and _squash(line) not in page_text:
                out.append(f"{where}: printed line {line.strip()[:50]!r} is not on the page")
                break
    return out


@NO_BUILD
@pytest.mark.parametrize("ch", DECK_CHAPTERS, ids=[c.name for c in DECK_CHAPTERS])
def test_deck_slides_are_made_of_their_chapters_cells(ch):
    """Every slide names its notebook and cells; its text and math are in those
    cells (words and TeX, resolved cross-references aside), its figures,
    widgets and printed output are on the chapter's page."""
    deck = HTML / "slides" / f"{ch.name}.html"
    if not deck.exists():
        pytest.fail(f"chapter {ch.number}: no deck {deck.relative_to(HTML)}", pytrace=False)
    allowed = {d + ".ipynb" for d in ch.docs}
    problems, pages = [], {}
    for k, sec in enumerate(_soup(str(deck)).select(".reveal .slides > section"), start=1):
        nbrel = sec.get("data-notebook", "")
        ids = sec.get("data-cells", "").split()
        if nbrel not in allowed or not (ROOT / nbrel).exists():
            problems.append(f"slide {k}: data-notebook {nbrel!r} is not one of {sorted(allowed)}")
            continue
        cells = _notebook_cells(nbrel)
        if not ids or set(ids) - set(cells):
            problems.append(f"slide {k}: cells {sorted(set(ids) - set(cells)) or '(none)'} "
                            f"are not in {nbrel}")
            continue
        if nbrel not in pages:
            html_path = HTML / (nbrel[:-len(".ipynb")] + ".html")
            raw = html_path.read_text(encoding="utf-8") if html_path.exists() else ""
            pages[nbrel] = (raw, _squash(_soup(str(html_path)).get_text()) if raw else "")
        page_html, page_text = pages[nbrel]
        parts = sec.select("[data-cell]")
        if not sec.select(".rnnbook-body [data-cell], .rnnbook-title[data-cell]"):
            problems.append(f"slide {k}: shows nothing from a cell")
        for el in parts:
            cid = el.get("data-cell")
            if cid not in cells:
                problems.append(f"slide {k}: part from unknown cell {cid}")
                continue
            if el.name in ("h1", "h2"):
                words = {w.lower() for w in _WORD.findall(el.get_text(" "))}
                if words - {w.lower() for w in _WORD.findall(_src(cells[cid]))}:
                    problems.append(f"slide {k}: title {el.get_text()[:40]!r} not in cell {cid}")
                continue
            problems += _check_part(el, cells[cid], page_html, page_text, f"slide {k}")
    assert not problems, "\n  ".join([f"slides/{ch.name}.html: {len(problems)} problems:"]
                                     + problems)


@NO_BUILD
@pytest.mark.parametrize("ch", DECK_CHAPTERS, ids=[c.name for c in DECK_CHAPTERS])
def test_exercise_sheet_has_the_prompts_and_no_solution_code(ch):
    sheet = HTML / "exercises" / f"{ch.name}.html"
    if not sheet.exists():
        pytest.fail(f"chapter {ch.number}: no exercise sheet exercises/{ch.name}.html",
                    pytrace=False)
    soup = _soup(str(sheet))
    letters = _alnum(soup.get_text())
    problems = []
    prompts = soup.select("section.rnnbook-exercise")
    if len(prompts) < 3:
        problems.append(f"{len(prompts)} exercise prompts, want at least 3")
    for sec in prompts:
        cells = _notebook_cells(sec.get("data-notebook"))
        cell = cells.get(sec.get("data-cell"))
        if cell is None or cell.get("cell_type") != "markdown":
            problems.append(f"prompt from {sec.get('data-cell')!r}: not a markdown cell of "
                            f"{sec.get('data-notebook')}")
    if soup.find("pre"):
        problems.append("the sheet has a code block")
    if "@media print" not in sheet.read_text(encoding="utf-8"):
        problems.append("no print style sheet")
    for doc in ch.docs:
        nbrel = doc + ".ipynb"
        if not (ROOT / nbrel).exists():
            continue
        cells = _notebook_cells(nbrel).values()
        # a line the prose itself quotes (a call named in a prompt) is not a solution's
        prose = _alnum(" ".join(_src(c) for c in cells if c.get("cell_type") == "markdown"))
        for cell in cells:
            if cell.get("cell_type") != "code" or "hide-cell" not in cell.get("metadata", {}).get(
                    "tags", []):
                continue
            shown = [ln.strip() for ln in _src(cell).splitlines()
                     if len(_alnum(ln)) >= 12 and _alnum(ln) in letters
                     and _alnum(ln) not in prose]
            if shown:
                problems.append(f"solution code of {nbrel} cell {cell.get('id')} is on the "
                                f"sheet: {shown[0][:60]!r}")
    assert not problems, "\n  ".join([f"exercises/{ch.name}.html:"] + problems)


DECK_READY = "() => document.body && document.body.dataset.rnnbookReady === '1'"

# each slide's content box against the 1280 x 720 slide (both in screen px)
SLIDE_FIT_JS = r"""() => {
  const sec = Reveal.getCurrentSlide(), slides = Reveal.getSlidesElement();
  const body = sec.querySelector('.rnnbook-body') || sec;
  const s = slides.getBoundingClientRect(), scale = Reveal.getScale();
  let bottom = 0, right = 0;
  for (const el of body.querySelectorAll('*')) {
    // MathJax's assistive MathML is clipped to nothing but keeps a layout box
    if (!el.getClientRects().length || el.closest('aside.notes, mjx-assistive-mml')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    bottom = Math.max(bottom, r.bottom); right = Math.max(right, r.right);
  }
  const title = sec.querySelector('.rnnbook-title');
  return {over: (bottom - s.bottom) / scale, wide: (right - s.right) / scale,
          title: title ? title.textContent.trim().slice(0, 50) : ''};
}"""


@pytest.mark.browser
@NO_BUILD
@pytest.mark.skipif(PAGES and not DECK_RELS, reason="the build has no slides/")
@pytest.mark.parametrize("rel, width", [pytest.param(d, w, id=f"{d}@{w}")
                                        for d in (DECK_RELS or ["(none)"]) for w in WIDTHS])
def test_deck_offline_keys_math_fit_and_animation(visit, rel, width):
    v = visit(rel, width)
    page, problems = v.page, []
    name = rel.rsplit("/", 1)[-1][:-5]
    page.wait_for_function(DECK_READY, timeout=30_000)
    # slides: MathJax (CHTML); speaker notes: MathML, which the notes window draws
    math = page.evaluate("""() => {
      const slide = Array.from(document.querySelectorAll('.reveal .slides .math'))
        .filter(m => !m.closest('aside.notes'));
      const notes = Array.from(document.querySelectorAll('.reveal aside.notes .math'));
      return {n: slide.length, typeset: slide.filter(m => m.querySelector('mjx-container')).length,
              errors: document.querySelectorAll('mjx-merror').length, notes: notes.length,
              mathml: notes.filter(m => m.classList.contains('rnnbook-mathml') && m.querySelector('math')
                && !m.querySelector('merror, mjx-container') && m.textContent.trim()).length,
              // MathML Core draws no mathvariant but "normal" (\\mathbb{R} as R)
              styled: notes.filter(m => m.querySelector('[mathvariant]:not([mathvariant=normal])')).length};
    }""")
    if math["typeset"] < math["n"] or math["n"] == 0:
        problems.append(f"math: {math['n']} formulas on the slides, {math['typeset']} typeset")
    if math["errors"]:
        problems.append(f"math: MathJax reported {math['errors']} TeX errors")
    if math["mathml"] < math["notes"]:
        problems.append(f"math: {math['notes']} formulas in the notes, {math['mathml']} as MathML")
    if math["styled"]:
        problems.append(f"math: {math['styled']} formulas in the notes keep a mathvariant that "
                        "browsers do not draw (give the letters as Unicode: styledLetters)")
    total = page.evaluate("Reveal.getTotalSlides()")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = lambda k: page.screenshot(path=str(SCREENSHOTS / f"slides__{name}-{k:02d}@{width}.png"))
    # the keyboard reaches the last and the first slide
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("End")
    page.wait_for_timeout(200)
    if not page.evaluate("Reveal.isLastSlide()"):
        problems.append(f"keys: End did not reach the last slide ({total})")
    else:
        shot(total)
    page.keyboard.press("Home")
    page.wait_for_timeout(200)
    if not page.evaluate("Reveal.isFirstSlide()"):
        problems.append("keys: Home did not reach the first slide")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(200)
    if page.evaluate("Reveal.getIndices().h") != 1:
        problems.append("keys: the right arrow did not go to slide 2")
    # every slide fits its 1280 x 720 box (a slide too full is scaled down to fit)
    _wait_images(page)
    for k in range(total):
        page.evaluate(f"Reveal.slide({k})")
        page.wait_for_timeout(120)
        fit = page.evaluate(SLIDE_FIT_JS)
        if fit["over"] > 2 or fit["wide"] > 2:
            problems.append(f"slide {k + 1} ({fit['title']!r}) overflows the slide by "
                            f"{max(fit['over'], 0):.0f} px down, {max(fit['wide'], 0):.0f} px right")
    page.evaluate("Reveal.slide(0)")
    page.wait_for_timeout(200)
    shot(1)
    # an animation on a slide plays
    _wait_widgets(page)
    players = page.locator(".reveal .rnnlib-player")
    if players.count() == 0:
        problems.append("animation: no rnnlib player on any slide")
    else:
        w = players.first
        k = page.evaluate("el => Array.from(Reveal.getSlides()).indexOf(el.closest('section'))",
                          w.element_handle())
        page.evaluate(f"Reveal.slide({k})")
        page.wait_for_timeout(500)
        _wait_images(page)
        first = _shown(w)
        if not first.startswith("frame:"):
            problems.append(f"animation on slide {k + 1}: {first}")
        else:
            play = w.locator(".widget-play button").first
            play.click()
            try:
                _frame_changes(page, w, first)
            except Exception as err:
                problems.append(f"animation on slide {k + 1}: Play did not change the frame "
                                f"({type(err).__name__})")
            play.click()
            now = page.evaluate("Reveal.getIndices().h")
            if now != k:
                problems.append(f"animation on slide {k + 1}: Play moved the deck (to {now + 1})")
        shot(k + 1)
    live = page.locator(".reveal .rnnbook-live-only").count()
    if live:
        problems.append(f"{live} live-only controls (viz.live_interact) on slides: they need "
                        "a kernel; show a precomputed explorer or player instead")
    if v.blocked:
        problems.append(f"{len(v.blocked)} non-local requests blocked: {v.blocked[:5]}")
    if v.unexpected_errors():
        problems.append(f"console errors: {v.unexpected_errors()[:5]}")
    assert not problems, "\n  ".join([f"{rel} @ {width} px: {len(problems)} problems:"] + problems)


@pytest.mark.browser
@NO_BUILD
@pytest.mark.skipif(not DECK_RELS, reason="the build has no slides/")
def test_speaker_notes_window_opens_offline(visit):
    """``S`` opens reveal.js's speaker view (the vendored notes plugin) with the
    current slide's notes, and nothing it loads leaves the host."""
    rel = DECK_RELS[0]
    v = visit(rel)
    v.page.wait_for_function(DECK_READY, timeout=30_000)
    k = v.page.evaluate("() => Array.from(Reveal.getSlides()).findIndex("
                        "s => s.querySelector('aside.notes .math'))")
    assert k >= 0, f"{rel}: no slide has math in its notes"
    v.page.evaluate(f"Reveal.slide({k})")
    want = v.page.evaluate("() => { const a = Reveal.getCurrentSlide().querySelector("
                           "'aside.notes').cloneNode(true); a.querySelectorAll('.math')"
                           ".forEach(m => m.remove()); return a.textContent; }")
    v.page.evaluate("() => document.activeElement && document.activeElement.blur()")
    with v.page.expect_popup(timeout=20_000) as popup:
        v.page.keyboard.press("s")
    notes = popup.value
    notes.wait_for_function(
        "want => { const n = document.querySelector('.speaker-controls-notes .value');"
        " return n && n.textContent.replace(/\\s+/g, ' ').includes(want); }",
        arg=re.sub(r"\s+", " ", want.strip())[:30], timeout=20_000)
    assert notes.locator(".speaker-controls-notes .value math").count() > 0, (
        f"{rel}: the speaker view shows slide {k + 1}'s notes without their math")
    # MathJax's CHTML draws nothing without MathJax's styles, which that window lacks
    assert notes.locator(".speaker-controls-notes .value mjx-container").count() == 0, (
        f"{rel}: the speaker view shows slide {k + 1}'s math as MathJax CHTML, not MathML")
    notes.wait_for_timeout(1000)   # the speaker view loads the deck twice, in frames
    assert v.blocked == [], f"{rel}: the speaker view made non-local requests: {v.blocked[:5]}"


SHEET_RELS = sorted(p.relative_to(HTML).as_posix() for p in (HTML / "exercises").glob("*.html")) \
    if HTML.is_dir() else []


@pytest.mark.browser
@NO_BUILD
@pytest.mark.skipif(PAGES and not SHEET_RELS, reason="the build has no exercises/")
@pytest.mark.parametrize("rel", SHEET_RELS or ["(none)"])
def test_exercise_sheet_prints_on_a4_without_its_links(visit, rel):
    """Printed (print media, A4 PDF from Chromium): the links line is hidden, the math
    is typeset, and the PDF has at most four pages per notebook of the chapter."""
    name = rel.rsplit("/", 1)[-1][:-5]
    most = 4 * max((sum(1 for d in ch.docs if (ROOT / (d + ".ipynb")).exists())
                    for ch in DECK_CHAPTERS if ch.name == name), default=1)
    v = visit(rel)
    n_math, n_typeset, n_err = _wait_math(v.page)
    v.page.emulate_media(media="print")
    hidden = v.page.evaluate("() => Array.from(document.querySelectorAll('.noprint'))"
                             ".every(e => getComputedStyle(e).display === 'none')")
    pdf = v.page.pdf(format="A4", print_background=False)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    problems = []
    if not hidden:
        problems.append("the links line is printed")
    if n_typeset < n_math or n_err:
        problems.append(f"{n_math} formulas, {n_typeset} typeset, {n_err} TeX errors")
    if not pdf.startswith(b"%PDF") or not 1 <= pages <= most:
        problems.append(f"the printed sheet has {pages} A4 pages, want 1 to {most}")
    if v.blocked or v.unexpected_errors():
        problems.append(f"blocked {v.blocked[:3]}, console {v.unexpected_errors()[:3]}")
    assert not problems, f"{rel}: " + "; ".join(problems)
