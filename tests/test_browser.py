"""The built HTML book in a real browser (Debian chromium driven by playwright).

Run after the build (``bash scripts/test.sh`` always builds first). The pages
are served from ``_build/html`` on 127.0.0.1; every request to any other
host is blocked and counted, so the test also proves the book works offline.
For every page: it loads, the console shows no error outside ``ALLOWED_CONSOLE``,
math is typeset by MathJax, every image loads; a screenshot goes to
``_build/screenshots/``. For every animation (``rnnlib.viz`` players and
explorers): Play and the slider change the frame shown. Byte budgets: each
page's HTML under 3 MB, each widget's embedded state under 1 MB.

``RNNBOOK_HTML`` may point at another built book (default ``_build/html``).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("RNNBOOK_HTML", ROOT / "_build" / "html")).resolve()
SCREENSHOTS = HTML.parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

PAGE_BUDGET = 3_000_000      # bytes of HTML per page (widget state included)
WIDGET_BUDGET = 1_000_000    # bytes of embedded state per widget

# Console errors that are not the book's fault. Each entry: (regex, reason).
ALLOWED_CONSOLE = [
    # Chromium asks every site for /favicon.ico; the book sets no favicon.
    (r"favicon\.ico.*404|404.*favicon\.ico",
     "Chromium requests /favicon.ico on its own; the book has no favicon"),
]

WIDGET_STATE = 'script[type="application/vnd.jupyter.widget-state+json"]'


def _pages():
    if not HTML.is_dir():
        return []
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if not p.relative_to(HTML).parts[0].startswith("_"))


PAGES = _pages()
NO_BUILD = pytest.mark.skipif(
    not PAGES, reason=f"no built book at {HTML}: run `bash scripts/book.sh` first "
                      "(scripts/test.sh always builds before testing)")
PAGE_PARAMS = PAGES or ["(no build)"]


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


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install -y chromium` "
                    "(scripts/test.sh does it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    pw = sync_api.sync_playwright().start()
    chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                  headless=True)
    yield chromium
    chromium.close()
    pw.stop()


class Visit:
    """One page opened in a fresh context, with its console and blocked requests."""

    def __init__(self, browser, site, rel):
        self.rel = rel
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
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

    def open_page(rel):
        v = Visit(browser, site, rel)
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


# --- every page ----------------------------------------------------------------

@pytest.mark.browser
@NO_BUILD
@pytest.mark.parametrize("rel", PAGE_PARAMS)
def test_page_loads_offline_with_math_images_and_no_errors(visit, rel):
    v = visit(rel)
    page = v.page
    assert v.response is not None and v.response.ok, f"{rel}: HTTP {v.response and v.response.status}"
    has_math = page.locator(".math").count() > 0
    if has_math:
        page.wait_for_function(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
            " && document.querySelectorAll('mjx-container').length > 0", timeout=20_000)
        page.evaluate("() => MathJax.startup.promise")
        n_math = page.locator(".math").count()
        n_typeset = page.locator("mjx-container").count()
        assert n_typeset >= n_math, f"{rel}: {n_math} math elements, {n_typeset} typeset"
        assert page.locator("mjx-merror").count() == 0, f"{rel}: MathJax reported a TeX error"
    _wait_widgets(page)
    _wait_images(page)
    broken = page.evaluate(
        "() => Array.from(document.images).filter(i => !(i.naturalWidth > 0))"
        ".map(i => i.currentSrc || i.src || i.outerHTML.slice(0, 120))")
    assert broken == [], f"{rel}: images that did not load: {broken}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / (rel.replace("/", "__")[:-5] + ".png")),
                    full_page=True)
    assert v.blocked == [], f"{rel}: {len(v.blocked)} non-local requests blocked: {v.blocked[:5]}"
    assert v.unexpected_errors() == [], f"{rel}: console errors: {v.unexpected_errors()}"


# --- every animation -------------------------------------------------------------

WIDGET_PAGES = [p for p in PAGES if 'application/vnd.jupyter.widget-view+json'
                in (HTML / p).read_text(encoding="utf-8", errors="replace")]

# A fingerprint of the frame a widget shows: the Stack renders only its
# selected child, so compare the pixels of the one visible image.
SHOWN_FRAME = """el => {
  const imgs = Array.from(el.querySelectorAll('img.widget-image'))
    .filter(i => i.offsetParent !== null && i.complete && i.naturalWidth > 0);
  if (imgs.length !== 1) return 'shown=' + imgs.length;
  const i = imgs[0], c = document.createElement('canvas');
  c.width = i.naturalWidth; c.height = i.naturalHeight;
  const ctx = c.getContext('2d'); ctx.drawImage(i, 0, 0);
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  let h = 0;
  for (let k = 0; k < d.length; k += 4) h = (h * 31 + d[k] + 7 * d[k + 1] + 13 * d[k + 2]) >>> 0;
  return 'frame:' + c.width + 'x' + c.height + ':' + h;
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
@pytest.mark.parametrize("rel", PAGE_PARAMS)
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
