"""Lecture mode: slide decks and exercise sheets made from the chapters' own cells.

Nothing is written twice: a deck is a selection of a chapter's cells, marked
in the notebook's cell metadata, and an exercise sheet is the chapter's
"## Exercises" section without its solutions. ``CONTRIBUTING.md`` ("Lecture
mode") documents the marking; in short:

* tag ``slide``: the cell starts a new slide;
* tag ``slide-more``: the cell is added to the current slide;
* tag ``slide-notes``: the cell's prose goes to the current slide's speaker
  notes only;
* an untagged markdown cell right after a code cell of a slide (the figure's
  caption, "What to look for") goes to that slide's notes;
* cell metadata ``"slide": {"keep": [...]}`` chooses the blocks of a markdown
  cell shown on the slide (0-based, in source order, counting headings,
  paragraphs, lists, tables, equations, quotes and code blocks, not
  ``(label)=`` targets or ``%`` comments); ``"b.l"`` is part ``l`` (0-based)
  of block ``b``, i.e. sentence ``l`` of a paragraph or item ``l`` of a list;
  a list of lists
  makes one slide per inner list. Without ``keep`` a slide shows the cell's
  headings and display equations. Every block not shown goes to the notes.
* code cells show their outputs (figures, animations, printed text);
  ``"slide": {"source": true}`` shows the code too, ``"slide": {"outputs":
  false}`` hides the outputs and ``"figures"`` keeps only figures and widgets.

A slide without a heading of its own is titled with the chapter's last
heading before it. Each slide records the notebook and the ids of the cells
it was made from (``data-notebook``, ``data-cells`` on the ``<section>``,
``data-cell`` on every part), and the tests check its text against them.

Built at ``build-finished`` (HTML builders only) from the source notebooks
(cells, tags, prose) and their executed outputs (``jupyter_execute/`` when
the build executed them, otherwise the build's jupyter-cache, the same
outputs the pages show), into ``<html>/slides/<chapter>.html`` and
``<html>/exercises/<chapter>.html``. A chapter is an entry of the numbered
part of ``_toc.yml``; its sections (chapter 8) join its deck and sheet in
toc order. Decks load only vendored files from ``_static/``: reveal.js 4
(with its notes plugin), MathJax 3, and for animations the html-manager with
``rnnbook-widgets.js`` and the widget state of the views shown. Every
chapter page gets the links "Slides for this chapter" and "Exercise sheet"
under its title (``html-page-context``).

Run by hand on a built book (the generator needs no Sphinx)::

    .venv/bin/python book/_ext/rnnbook_slides.py _build/html
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import posixpath
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

SLIDE_TAG, MORE_TAG, NOTES_TAG = "slide", "slide-more", "slide-notes"
META_KEY = "slide"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
SLIDES_DIR, SHEETS_DIR = "slides", "exercises"
#: block kinds a slide shows when its cell has no "keep"
DEFAULT_KEEP = ("heading", "math")
#: slide size (CSS px) reveal.js lays out and scales to the screen
SLIDE_W, SLIDE_H = 1280, 720
#: figures and animations are shown this much larger than in the book's column
FIGURE_ZOOM = 1.6


# --- the table of contents -------------------------------------------------------

@dataclass
class Chapter:
    number: int
    docname: str                      # "book/01_rnn"
    docs: list                        # the chapter's docnames, itself first
    title: str = ""

    @property
    def name(self):                   # "01_rnn"
        return self.docname.rsplit("/", 1)[-1]


def chapters_from_toc(srcdir: Path) -> list[Chapter]:
    """Chapters: the entries of the numbered part of ``_toc.yml``, with their sections."""
    import yaml

    toc = yaml.safe_load((Path(srcdir) / "_toc.yml").read_text(encoding="utf-8"))
    out = []
    for part in toc.get("parts", []):
        if not part.get("numbered"):
            continue
        for k, entry in enumerate(part.get("chapters", []), start=1):
            doc = entry["file"]
            subs = [s["file"] for s in entry.get("sections", []) if "file" in s]
            out.append(Chapter(k, doc, [doc] + subs))
    return out


# --- executed notebooks -------------------------------------------------------------

def _read_nb(path: Path):
    import nbformat

    return nbformat.read(str(path), as_version=4)


def executed_notebook(source: Path, docname: str, build_dir: Path, cache_path=None):
    """The notebook at ``source`` with the outputs the build gave it, or None.

    ``jupyter_execute/<docname>.ipynb`` has them when the build executed the
    notebook itself; with the cache (``execute_notebooks: cache``) they are
    in jupyter-cache, matched by the cells' source, as MyST-NB does."""
    nb = _read_nb(source)
    written = Path(build_dir) / "jupyter_execute" / (docname + ".ipynb")
    if written.exists():
        ex = _read_nb(written)
        if any(c.get("outputs") for c in ex.cells if c.cell_type == "code"):
            return ex
    cache_dir = Path(cache_path) if cache_path else Path(build_dir) / ".jupyter_cache"
    if cache_dir.is_dir():
        from jupyter_cache import get_cache

        cache = get_cache(str(cache_dir))
        # jupyter-cache hashes code cells with their metadata: a build made
        # before the slide marks changed cached the notebook without them
        for candidate in (nb, _without_marks(nb)):
            try:
                _, merged = cache.merge_match_into_notebook(candidate)
            except KeyError:
                continue
            for cell, mine in zip(merged.cells, nb.cells):
                cell.metadata = mine.metadata
            return merged
    return None


def _without_marks(nb):
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        md = cell.metadata
        if "tags" in md:
            md["tags"] = [t for t in md["tags"] if t not in (SLIDE_TAG, MORE_TAG, NOTES_TAG)]
            if not md["tags"]:
                del md["tags"]
        md.pop(META_KEY, None)
    return nb


# --- what the built pages resolved: equation numbers, reference texts ----------------

_EQ = re.compile(r'id="equation-([^"]+)">\s*<span class="eqno">\(([^)<]+)\)')
_REF = re.compile(r'href="([^"#]*)#([^"]+)"><span class="std std-ref">(.*?)</span></a>', re.S)
_HEAD = re.compile(r'id="([^"]+)"[^>]*>(?:\s*<span id="[^"]+"></span>)*\s*<h(\d)>'
                   r'(?:<span class="section-number">[^<]*</span>)?(.*?)<a class="headerlink"', re.S)
_TAGS = re.compile(r"<[^>]+>")


class Resolver:
    """Equation numbers, reference targets and citations as the book shows them."""

    def __init__(self, html_dir: Path, srcdir: Path):
        self.html_dir = Path(html_dir)
        self.eq: dict[str, tuple[str, str]] = {}      # label -> (number, page)
        self.ref: dict[str, tuple[str, str]] = {}     # label -> (text, page#label)
        for page in sorted(self.html_dir.glob("book/**/*.html")):
            rel = page.relative_to(self.html_dir).as_posix()
            text = page.read_text(encoding="utf-8", errors="replace")
            for label, num in _EQ.findall(text):
                self.eq.setdefault(label, (num, f"{rel}#equation-{label}"))
            for label, level, head in _HEAD.findall(text):
                self.ref.setdefault(label, (html.unescape(_TAGS.sub("", head)).strip(),
                                            f"{rel}#{label}"))
            for href, label, txt in _REF.findall(text):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), href)) \
                    if href else rel
                self.ref[label] = (html.unescape(_TAGS.sub("", txt)).strip(), f"{target}#{label}")
        self.bib = self._bib(Path(srcdir) / "references.bib")
        self.cited: list = []          # (label, who, reference) in the order first cited

    @staticmethod
    def _bib(path):
        """key -> (label, who, title): the book's labels (sphinxcontrib-bibtex's alpha style)."""
        out = {}
        if not path.exists():
            return out
        try:
            from pybtex.database import parse_file
            from pybtex.style.labels.alpha import LabelStyle

            data, labels = parse_file(str(path)), LabelStyle()
        except Exception:
            return out
        for key, entry in data.entries.items():
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            last = [re.sub(r"[{}\\]", "", " ".join(p.last_names) or str(p)) for p in people]
            who = (last[0] if len(last) == 1 else f"{last[0]} and {last[1]}" if len(last) == 2
                   else f"{last[0]} et al." if last else key)
            try:
                label = labels.format_label(entry)
            except Exception:
                label = key
            title = re.sub(r"[{}]", "", entry.fields.get("title", "")).replace("--", "\u2013")
            out[key] = (label, who, f"{who} ({entry.fields.get('year', '')}). {title}")
        return out

    def cite(self, keys: str, textual: bool) -> tuple[str, str]:
        """The citation as the book prints it, ``[GBC16]`` (textual: ``Goodfellow et al.
        [GBC16]``), and a tooltip with the references."""
        got = [self.bib.get(k.strip(), (k.strip(), k.strip(), k.strip())) for k in keys.split(",")]
        self.cited.extend(g for g in got if g not in self.cited)
        tip = "; ".join(g[2] for g in got)
        if textual:
            return "; ".join(f"{g[1]} [{g[0]}]" for g in got), tip
        return "[" + ", ".join(g[0] for g in got) + "]", tip


# --- MyST markdown to HTML ------------------------------------------------------------

_ROLE_TARGET = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.S)


def _esc(s):
    return html.escape(s, quote=False)


def _resolved(text, title=None):
    """Text the build resolved (not in the cell's source): marked for the tests."""
    t = f' title="{html.escape(title)}"' if title else ""
    return f'<span class="rnnbook-resolved"{t}>{_esc(text)}</span>'


class Markdown:
    """MyST markdown (the book's extensions) to HTML blocks, math left to MathJax."""

    def __init__(self, resolver: Resolver | None):
        from markdown_it import MarkdownIt
        from mdit_py_plugins.amsmath import amsmath_plugin
        from mdit_py_plugins.colon_fence import colon_fence_plugin
        from mdit_py_plugins.deflist import deflist_plugin
        from mdit_py_plugins.dollarmath import dollarmath_plugin
        from mdit_py_plugins.myst_blocks import myst_block_plugin
        from mdit_py_plugins.myst_role import myst_role_plugin

        self.resolver = resolver
        md = MarkdownIt("commonmark", {"html": True}).enable("table")
        md.use(dollarmath_plugin, allow_labels=True, allow_space=True, allow_digits=True)
        md.use(amsmath_plugin).use(myst_role_plugin).use(myst_block_plugin)
        md.use(deflist_plugin).use(colon_fence_plugin)
        try:
            md.enable("linkify")
            md.options["linkify"] = True
        except Exception:
            pass
        r = md.add_render_rule
        r("math_inline", lambda s, t, i, o, e: f'<span class="math">\\({_esc(t[i].content)}\\)</span>')
        r("math_inline_double", lambda s, t, i, o, e: self._display(t[i].content, None))
        r("math_block", lambda s, t, i, o, e: self._display(t[i].content, None))
        r("math_block_label", lambda s, t, i, o, e: self._display(t[i].content, t[i].info))
        r("amsmath", lambda s, t, i, o, e: f'<div class="math">{_esc(t[i].content)}</div>\n')
        r("myst_role", lambda s, t, i, o, e: self._role(t[i].meta.get("name", ""), t[i].content))
        for name in ("myst_target", "myst_line_comment", "myst_block_break"):
            r(name, lambda *a: "")
        self.md = md

    def _display(self, tex, label):
        tag = ""
        label = (label or "").lower()          # Sphinx ids are lower case
        if label and self.resolver and label in self.resolver.eq:
            tag = f"\\tag{{{self.resolver.eq[label][0]}}}"
        return f'<div class="math">\\[{_esc(tex.strip())}{tag}\\]</div>\n'

    def _role(self, name, content):
        res = self.resolver
        m = _ROLE_TARGET.match(content)
        text, target = (m.group(1), m.group(2)) if m else (content, content)
        if name == "term":
            return f'<span class="term">{_esc(text)}</span>'
        if name in ("ref", "numref", "doc"):
            if m:
                return f'<span class="ref">{_esc(text)}</span>'
            label = target.lower()
            if res and label in res.ref:
                return _resolved(res.ref[label][0])
            return _resolved(target)
        if name == "eq":
            if res and target.lower() in res.eq:
                return _resolved(f"({res.eq[target.lower()][0]})")
            return _resolved(f"({target})")
        if name.startswith("cite"):
            if not res:
                return _resolved(f"[{target}]")
            text, tip = res.cite(target, name in ("cite:t", "cite:ts"))
            return _resolved(text, tip)
        if name == "math":
            return f'<span class="math">\\({_esc(content)}\\)</span>'
        return f"<span>{_esc(text)}</span>"

    def blocks(self, source: str) -> list[dict]:
        """Top-level blocks of ``source``: kind, rendered HTML, source lines, text lines."""
        env: dict = {}
        tokens = self.md.parse(source, env)
        lines = source.splitlines()
        out, i = [], 0
        while i < len(tokens):
            j, depth = i, 0
            while True:                      # one top-level block: tokens[i:j+1]
                depth += tokens[j].nesting
                if depth <= 0:
                    break
                j += 1
            toks = tokens[i:j + 1]
            first = toks[0]
            kind = first.type.replace("_open", "")
            if kind in ("myst_target", "myst_line_comment", "myst_block_break"):
                i = j + 1
                continue
            if kind.startswith("math_block") or kind == "amsmath":
                kind = "math"
            src = lines[first.map[0]:first.map[1]] if first.map else []
            if kind in ("bullet_list", "ordered_list"):      # its items
                pieces = ["\n".join(lines[t.map[0]:t.map[1]]).rstrip() for t in toks
                          if t.type == "list_item_open" and t.level == first.level + 1]
            elif kind == "paragraph":                        # its sentences
                pieces = sentences("\n".join(src))
            else:
                pieces = []
            out.append({"kind": kind, "tag": first.tag, "level": int(first.tag[1])
                        if kind == "heading" else 0,
                        "html": self.md.renderer.render(toks, self.md.options, env),
                        "source": "\n".join(src), "lines": pieces})
            i = j + 1
        return out

    def render(self, source: str) -> str:
        return self.md.render(source)


_PROTECT = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|\{[^}]*\}`[^`]*`|\([^()]*\)", re.S)
_SPLIT = re.compile(r"(?<=[.!?])([\"\u201d*_)]*)\s+")
_STARTS = re.compile(r"[A-Z\"\u201c(*_{$\\`\[]")
_ABBREV = re.compile(r"(?:\be\.g|\bi\.e|\bet al|\bcf|\bFig|\bvs|\bEq|\bSec|\bNo)\.$"
                     r"|^[*_]*\d+\.$")


def sentences(text: str) -> list[str]:
    """The sentences of a paragraph's source (math, code, roles and brackets kept whole)."""
    text = " ".join(line.strip() for line in text.splitlines()).strip()
    def mask(m):      # a bracket that ends a sentence, "(... twice.)", may end one
        g = m.group()
        keep = 2 if g.startswith("(") and g[-2:-1] in ".!?" else 0
        return "x" * (len(g) - keep) + g[len(g) - keep:]

    masked = _PROTECT.sub(mask, text)
    out, start = [], 0
    for m in _SPLIT.finditer(masked):
        cut = m.start() + len(m.group(1))
        if not _STARTS.match(text, m.end()) or _ABBREV.search(text[start:m.start()].strip()):
            continue
        out.append(text[start:cut].strip())
        start = m.end()
    out.append(text[start:].strip())
    return [x for x in out if x]


def heading_text(block) -> str:
    return re.sub(r"^#+\s*", "", block["source"]).strip()


# --- cells to slides -----------------------------------------------------------------

@dataclass
class Part:
    cell: str
    kind: str          # "markdown" or "code"
    html: str


@dataclass
class Slide:
    notebook: str                       # "book/01_rnn.ipynb"
    title: str = ""                     # HTML
    title_cell: str = ""
    parts: list = field(default_factory=list)
    notes: list = field(default_factory=list)     # Parts
    title_slide: bool = False
    kept_title: bool = False          # titled by a heading shown on it

    code_cells: list = field(default_factory=list)  # marked code cells (shown or not)

    @property
    def cells(self):
        ids = [self.title_cell] if self.title_cell else []
        for p in self.parts + [Part(c, "code", "") for c in self.code_cells] + self.notes:
            if p.cell not in ids:
                ids.append(p.cell)
        return ids


class SlideError(ValueError):
    pass


def _tags(cell):
    return list(cell.get("metadata", {}).get("tags", []))


def _meta(cell):
    m = cell.get("metadata", {}).get(META_KEY, {})
    return m if isinstance(m, dict) else {}


def _keep_groups(cell, blocks):
    """The cell's "keep" as a list of slides, each a list of (block, line or None)."""
    keep = _meta(cell).get("keep")
    if keep is None:
        return [[(k, None) for k, b in enumerate(blocks) if b["kind"] in DEFAULT_KEEP]]
    if not isinstance(keep, list):
        raise SlideError(f"cell {cell.get('id')}: slide.keep must be a list, got {keep!r}")
    groups = keep if keep and all(isinstance(g, list) for g in keep) else [keep]
    out = []
    for g in groups:
        sel = []
        for item in g:
            b, line = (item, None) if isinstance(item, int) else (None, None)
            if isinstance(item, str) and re.fullmatch(r"\d+\.\d+", item):
                b, line = (int(x) for x in item.split("."))
            if b is None or not 0 <= b < len(blocks):
                raise SlideError(f"cell {cell.get('id')}: slide.keep entry {item!r} names no "
                                 f"block (the cell has {len(blocks)}: 0 to {len(blocks) - 1})")
            if line is not None and not 0 <= line < len(blocks[b]["lines"]):
                raise SlideError(f"cell {cell.get('id')}: slide.keep entry {item!r}: block {b} "
                                 f"({blocks[b]['kind']}) has {len(blocks[b]['lines'])} "
                                 "sentences or items")
            sel.append((b, line))
        out.append(sel)
    return out


def _dedent(text):
    import textwrap

    return textwrap.dedent(text).strip()


def _escape_script(text):
    return text.replace("</", "<\\/")


def _outputs_html(cell, images, text=True):
    """The outputs of an executed code cell as HTML (``images`` saves PNGs, returns URLs);
    ``text=False`` leaves out printed text."""
    out = []
    for o in cell.get("outputs", []):
        kind = o.get("output_type")
        if kind == "stream":
            if o.get("name") == "stderr" or not text:
                continue
            out.append(f'<pre class="rnnbook-output">{_esc(o.get("text", ""))}</pre>')
            continue
        if kind == "error":
            continue
        data, meta = o.get("data", {}), o.get("metadata", {})
        if WIDGET_VIEW in data:
            view = data[WIDGET_VIEW]
            view = view if isinstance(view, dict) else json.loads(view)
            out.append('<div class="rnnbook-widget"><script type="%s">%s</script></div>'
                       % (WIDGET_VIEW, _escape_script(json.dumps(view))))
        elif "image/png" in data:
            raw = base64.b64decode(data["image/png"])
            url = images(raw)
            dims = meta.get("image/png", {}) if isinstance(meta.get("image/png"), dict) else {}
            w = dims.get("width")     # CSS px in the book (retina PNGs: half the pixels)
            # a slide has twice the book's column: show figures 1.6 times larger
            size = f' style="width: {min(int(w * FIGURE_ZOOM), SLIDE_W - 80)}px"' if w else ""
            out.append(f'<img class="rnnbook-figure" src="{url}"{size} alt="figure">')
        elif "text/html" in data:
            out.append(f'<div class="rnnbook-html">{data["text/html"]}</div>')
        elif "text/plain" in data and text:
            out.append(f'<pre class="rnnbook-output">{_esc(data["text/plain"])}</pre>')
    return "\n".join(out)


def collect_slides(nb, executed, md: Markdown, notebook: str, images) -> list[Slide]:
    """The slides one notebook contributes, in cell order."""
    outputs = {}
    if executed is not None:
        outputs = {c.get("id"): c for c in executed.cells if c.cell_type == "code"}
    slides: list[Slide] = []
    current: Slide | None = None
    last_heading = ("", "")            # (cell id, heading html) before the current cell
    after_code = False                 # the previous cell was a code cell of a slide

    def add_markdown(cell, blocks, new, previous=None):
        nonlocal current
        groups = _keep_groups(cell, blocks)
        kept_any = {b for sel in groups for b, _ in sel}
        first_head = next((k for k, b in enumerate(blocks) if b["kind"] == "heading"), len(blocks))
        made = []
        for g, sel in enumerate(groups):
            if new or g > 0:
                current = Slide(notebook)
                slides.append(current)
                # titled by its own heading (below) or the last one before it
                first = min((b for b, _ in sel), default=0)
                heads = [b for b in range(first) if blocks[b]["kind"] == "heading"]
                if heads:
                    current.title_cell = cell.id
                    current.title = md.md.renderInline(heading_text(blocks[heads[-1]]))
                elif last_heading[0]:
                    current.title_cell, current.title = last_heading
                current.title_slide = False
            made.append(current)
            for b, line in sel:
                block = blocks[b]
                if line is None:
                    chunk = block["html"]
                else:
                    chunk = md.render(_dedent(block["lines"][line]))
                if block["kind"] == "heading" and not current.parts and not current.kept_title:
                    current.title = md.md.renderInline(heading_text(block))
                    current.title_cell = cell.id
                    current.title_slide = block["level"] == 1
                    current.kept_title = True
                    continue
                current.parts.append(Part(cell.id, "markdown", chunk))
        kept = {b for sel in groups for b, line in sel if line is None}
        for b, block in enumerate(blocks):
            if b in kept:
                continue
            if previous is not None and b < first_head and b not in kept_any:
                previous.notes.append(Part(cell.id, "markdown", block["html"]))   # its caption
                continue
            firsts = [(min(x for x, _ in sel) if sel else 0, s) for sel, s in zip(groups, made)]
            target = made[0]
            for first, s in firsts:
                if first <= b:
                    target = s
            target.notes.append(Part(cell.id, "markdown", block["html"]))

    for cell in nb.cells:
        tags = _tags(cell)
        meta = _meta(cell)
        blocks = md.blocks(cell.source) if cell.cell_type == "markdown" else []
        if SLIDE_TAG in tags or (MORE_TAG in tags and current is not None):
            new = SLIDE_TAG in tags
            if cell.cell_type == "markdown":
                add_markdown(cell, blocks, new, current if new and after_code else None)
                after_code = False
            else:
                if new:
                    current = Slide(notebook)
                    slides.append(current)
                ex = outputs.get(cell.get("id"), {})
                current.code_cells.append(cell.id)
                if meta.get("source"):
                    current.parts.append(Part(cell.id, "code",
                                              f'<pre class="rnnbook-source"><code>'
                                              f"{_esc(cell.source)}</code></pre>"))
                if meta.get("outputs", True):
                    shown = _outputs_html(ex, images, text=meta.get("outputs", True) != "figures")
                    if shown:
                        current.parts.append(Part(cell.id, "code", shown))
                after_code = True
            if not current.title and last_heading[0]:
                current.title_cell, current.title = last_heading
        elif NOTES_TAG in tags and current is not None and cell.cell_type == "markdown":
            current.notes.append(Part(cell.id, "markdown", md.render(cell.source)))
            after_code = False
        elif after_code and cell.cell_type == "markdown" and current is not None:
            # the caption after a figure: up to the cell's first heading (a new section)
            for block in blocks:
                if block["kind"] == "heading":
                    break
                current.notes.append(Part(cell.id, "markdown", block["html"]))
            after_code = False
        else:
            after_code = False
        for block in blocks:
            if block["kind"] == "heading":
                last_heading = (cell.id, md.md.renderInline(heading_text(block)))
    return slides


# --- exercises --------------------------------------------------------------------------

def collect_exercises(nb, md: Markdown) -> list[Part]:
    """The markdown of the "Exercises" section (to the next heading of its level or above)."""
    parts, level = [], None
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        chunk = []
        for block in md.blocks(cell.source):
            if block["kind"] == "heading":
                if heading_text(block).lower().startswith("exercises"):
                    level = block["level"]
                    continue
                if level is not None and block["level"] <= level:
                    level = None
                    if chunk:
                        parts.append(Part(cell.id, "markdown", "".join(chunk)))
                    return parts
            if level is not None:
                chunk.append(block["html"])
        if chunk:
            parts.append(Part(cell.id, "markdown", "".join(chunk)))
    return parts


# --- pages -------------------------------------------------------------------------------

MATHJAX_CONFIG = """window.MathJax = {
  tex: {inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]],
        processEscapes: true, tags: "none"},
  options: {ignoreHtmlClass: "rnnbook-output|rnnbook-source|notes", processHtmlClass: "math"}%s
};"""

# The speaker view (notes plugin) shows a copy of each slide's notes in its own
# window, without MathJax's styles, where MathJax's CHTML draws nothing: the
# notes' math is given as MathML, which the browser draws itself. It is
# converted before the first typeset, from the TeX; the deck reads TeX only,
# so MathJax leaves that MathML alone (its MathML input would typeset it, and
# its TeX input would typeset the TeX: the "math" class re-enables it inside
# the ignored "notes"). ``window.rnnbookMath`` resolves once the slides are
# typeset; the deck marks itself ready after it.
DECK_MATHJAX_STARTUP = r""",
  startup: {
    input: ["tex"],
    pageReady: function () {
      var mj = window.MathJax, els = document.querySelectorAll("aside.notes .math");
      for (var i = 0; i < els.length; i++) {
        var t = els[i].textContent.trim(), display = t.indexOf("\\[") === 0;
        var tex = t.replace(/^\\[\[(]/, "").replace(/\\[\])]$/, "").replace(/\\tag\{[^}]*\}/g, "");
        try {
          els[i].innerHTML = mj.tex2mml(tex, {display: display});
          els[i].classList.add("rnnbook-mathml");
          styledLetters(els[i]);
        } catch (e) { /* keep the TeX */ }
      }
      return mj.startup.defaultPageReady().then(window.rnnbookMathDone, window.rnnbookMathDone);
    }
  }"""
# Browsers draw MathML Core, which ignores mathvariant (but "normal"):
# \mathbb{R} would show as R. Bold and double-struck Latin letters and digits
# become their Unicode characters (Mathematical Alphanumeric Symbols; the
# double-struck C, H, N, P, Q, R, Z sit in Letterlike Symbols).
DECK_MATH_LETTERS = r"""
function styledLetters(el) {
  var starts = {"bold": [0x1D400, 0x1D41A, 0x1D7CE], "double-struck": [0x1D538, 0x1D552, 0x1D7D8]};
  var holes = {"double-struck": {C: 0x2102, H: 0x210D, N: 0x2115, P: 0x2119, Q: 0x211A,
                                 R: 0x211D, Z: 0x2124}};
  el.querySelectorAll("[mathvariant]").forEach(function (m) {
    var v = m.getAttribute("mathvariant"), base = starts[v], out = "";
    if (!base) { return; }
    for (var k = 0; k < m.textContent.length; k++) {
      var c = m.textContent[k], code = c.charCodeAt(0);
      if (holes[v] && holes[v][c]) { out += String.fromCodePoint(holes[v][c]); }
      else if (c >= "A" && c <= "Z") { out += String.fromCodePoint(base[0] + code - 65); }
      else if (c >= "a" && c <= "z") { out += String.fromCodePoint(base[1] + code - 97); }
      else if (c >= "0" && c <= "9") { out += String.fromCodePoint(base[2] + code - 48); }
      else { return; }   // not a letter or digit: leave the element as it is
    }
    m.textContent = out;
    m.removeAttribute("mathvariant");
  });
}"""
DECK_MATH_PROMISE = ("window.rnnbookMath = new Promise(function (resolve) "
                     "{ window.rnnbookMathDone = resolve; });")


DECK_CSS = """
.reveal { font-size: 28px; }
.reveal .slides { text-align: left; }
.reveal .slides section { padding: 0 8px; box-sizing: border-box; height: 100%%; }
.reveal h1 { font-size: 1.9em; text-transform: none; margin: 0.6em 0 0.4em; }
.reveal h2 { font-size: 1.35em; text-transform: none; margin: 0 0 0.45em; }
.reveal h3, .reveal h4 { font-size: 1.05em; text-transform: none; }
.reveal p, .reveal li { line-height: 1.35; }
.reveal ul, .reveal ol { display: block; margin-left: 1.2em; }
.reveal .rnnbook-kicker { color: #666; font-size: 0.8em; margin: 1.5em 0 0; }
.reveal .rnnbook-body { transform-origin: top left; }
.reveal .rnnbook-body > .rnnbook-part { margin: 0 0 0.5em; }
.reveal .math { font-size: 0.95em; }
.reveal div.math { margin: 0.3em 0; }
.reveal img.rnnbook-figure { display: block; margin: 0.2em auto; max-width: 100%%;
  height: auto; max-height: 540px; object-fit: contain; }
.reveal pre.rnnbook-output, .reveal pre.rnnbook-source { font-size: 0.55em; line-height: 1.3;
  box-shadow: none; width: 100%%; margin: 0.3em 0; white-space: pre-wrap; }
.reveal pre.rnnbook-output { background: #f6f6f6; padding: 0.4em 0.6em; }
.reveal table { font-size: 0.7em; margin: 0.4em 0; border-collapse: collapse; }
.reveal table th, .reveal table td { padding: 0.15em 0.5em; border-bottom: 1px solid #ccc; }
.reveal .rnnbook-widget { font-size: 14px; line-height: 1.3; display: flex;
  justify-content: center; zoom: %(zoom)s; }
.reveal .rnnbook-widget img { max-width: none; margin: 0; }
.reveal .rnnbook-resolved { }
.rnnbook-back { position: fixed; left: 12px; bottom: 10px; z-index: 30; font: 14px sans-serif;
  color: #555; text-decoration: none; }
.rnnbook-back:hover { text-decoration: underline; }
@media (max-width: 600px) { .rnnbook-back { font-size: 11px; } }
"""

DECK_JS = r"""
(function () {
  "use strict";
  // Slides too tall or wide for 1280 x 720 are scaled down (CSS zoom) to fit;
  // a projector then shows all of the slide.
  function fit(section) {
    if (!section) { return; }
    var body = section.querySelector(".rnnbook-body");
    if (!body) { return; }
    body.style.zoom = "";
    var room = section.getBoundingClientRect();
    var top = body.getBoundingClientRect().top - room.top;
    var box = body.getBoundingClientRect();
    var scale = room.height / %(height)d;  // reveal's own scale of the slide
    var availH = (%(height)d - 12) * scale - top, availW = room.width;
    var z = Math.min(1, availH / Math.max(box.height, 1), availW / Math.max(body.scrollWidth * scale, 1));
    if (z < 0.995) { body.style.zoom = Math.max(z, 0.4).toFixed(3); }
  }
  function fitCurrent() { fit(Reveal.getCurrentSlide()); }
  // keys pressed on a widget (the slider's handle) move the widget, not the deck
  document.querySelector(".reveal .slides").addEventListener("keydown", function (e) {
    if (e.target.closest && e.target.closest(".jupyter-widgets")) { e.stopPropagation(); }
  });
  Reveal.initialize({
    hash: true, width: %(width)d, height: %(height)d, margin: 0.04, center: false,
    transition: "none", backgroundTransition: "none", slideNumber: "c/t",
    controls: true, progress: true, pdfSeparateFragments: false,
    plugins: [RevealNotes]
  }).then(function () {
    fitCurrent();
    Reveal.on("slidechanged", fitCurrent);
    Reveal.on("resize", fitCurrent);
    // ready when MathJax has typeset the slides too (MathJax loads deferred,
    // usually after reveal.js has started: its promise is set in the config)
    window.rnnbookMath.then(function () {
      Reveal.layout(); fitCurrent(); document.body.setAttribute("data-rnnbook-ready", "1");
    });
    // figures and widgets arrive later: fit again for a few seconds
    var runs = 0, timer = setInterval(function () { fitCurrent(); if (++runs >= 10) { clearInterval(timer); } }, 400);
  });
})();
"""


def _part_html(p: Part):
    return (f'<div class="rnnbook-part rnnbook-{p.kind}" data-cell="{html.escape(p.cell)}">'
            f"{p.html}</div>")


def render_deck(chapter: Chapter, slides: list[Slide], state: dict | None) -> str:
    sections = []
    back = f"../{chapter.docname}.html"
    for k, s in enumerate(slides):
        title = s.title or html.escape(chapter.title)
        tattr = f' data-cell="{html.escape(s.title_cell)}"' if s.title_cell else ""
        if s.title_slide:
            doc = s.notebook[:-len(".ipynb")]
            k = chapter.docs.index(doc) if doc in chapter.docs else 0
            kicker = f"Chapter {chapter.number}" if k == 0 else f"Section {chapter.number}.{k}"
            head = (f'<p class="rnnbook-kicker">{kicker}</p>'
                    f'<h1 class="rnnbook-title"{tattr}>{title}</h1>')
        else:
            head = f'<h2 class="rnnbook-title"{tattr}>{title}</h2>'
        body = "\n".join(_part_html(p) for p in s.parts)
        notes = "\n".join(_part_html(p) for p in s.notes)
        sections.append(
            f'<section id="slide-{k + 1}" data-notebook="{html.escape(s.notebook)}" '
            f'data-cells="{html.escape(" ".join(s.cells))}">\n{head}\n'
            f'<div class="rnnbook-body">\n{body}\n</div>\n'
            f'<aside class="notes">{notes}</aside>\n</section>')
    widgets = ""
    if state and state.get("state"):
        widgets = ('<script type="%s">%s</script>\n'
                   '<script src="../_static/widgets/require.js"></script>\n'
                   '<script src="../_static/rnnbook-widgets.js"></script>\n'
                   '<script src="../_static/widgets/embed-amd.js"></script>\n'
                   % (WIDGET_STATE, _escape_script(json.dumps(state))))
    mj = MATHJAX_CONFIG % DECK_MATHJAX_STARTUP + "\n" + DECK_MATH_PROMISE + DECK_MATH_LETTERS
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Slides, chapter {chapter.number}: {html.escape(chapter.title)}</title>
<link rel="stylesheet" href="../_static/reveal/reveal.css">
<link rel="stylesheet" href="../_static/reveal/theme/white.css">
<style>{DECK_CSS % {"zoom": FIGURE_ZOOM}}</style>
<!-- reveal.js before require.js: its UMD wrapper would otherwise register an
     anonymous AMD module instead of the global Reveal -->
<script src="../_static/reveal/reveal.js"></script>
<script src="../_static/reveal/plugin/notes/notes.js"></script>
<script>{mj}</script>
<script defer src="../_static/mathjax/tex-mml-chtml.js"></script>
{widgets}</head>
<body data-chapter="{chapter.number}" data-docname="{html.escape(chapter.docname)}">
<a class="rnnbook-back" href="{back}">Chapter {chapter.number} in the book</a>
<div class="reveal"><div class="slides">
{chr(10).join(sections)}
</div></div>
<script>{DECK_JS % {"width": SLIDE_W, "height": SLIDE_H}}</script>
</body>
</html>
"""


SHEET_CSS = """
body { font-family: "Source Serif 4", Georgia, "Times New Roman", serif; font-size: 17px;
  line-height: 1.5; color: #111; margin: 0; }
main { max-width: 44em; margin: 0 auto; padding: 1.5em 1.2em 3em; }
h1 { font-size: 1.6em; margin: 0.2em 0 0.3em; line-height: 1.25; }
h2 { font-size: 1.2em; margin: 1.4em 0 0.4em; }
.rnnbook-meta { color: #444; font-size: 0.9em; }
.rnnbook-name { margin: 1em 0 1.5em; display: flex; gap: 2em; flex-wrap: wrap; }
.rnnbook-name span { flex: 1; min-width: 12em; border-bottom: 1px solid #999; padding-bottom: 0.2em; }
.rnnbook-exercise { margin: 0 0 1.2em; }
.rnnbook-exercise p { margin: 0.4em 0; }
.rnnbook-references { font-size: 0.9em; }
.rnnbook-references ul { padding-left: 1.2em; }
code { font-size: 0.9em; overflow-wrap: anywhere; }
div.math { overflow-x: auto; overflow-y: hidden; }
nav.noprint { font-family: sans-serif; font-size: 0.9em; margin-bottom: 1em; }
nav.noprint a { margin-right: 1em; }
footer { margin-top: 2em; font-size: 0.85em; color: #555; border-top: 1px solid #ccc; padding-top: 0.5em; }
@media print {
  @page { size: A4; margin: 16mm 15mm; }
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  .noprint { display: none !important; }
  a { color: inherit; text-decoration: none; }
  .rnnbook-exercise { break-inside: avoid; page-break-inside: avoid; }
  h1, h2 { break-after: avoid; page-break-after: avoid; }
}
"""


def render_sheet(chapter: Chapter, groups: list[tuple[str, str, list[Part]]],
                 cited=()) -> str:
    """``groups``: (notebook, section title or "", parts) per notebook of the chapter;
    ``cited``: the (label, who, reference) of the papers the prompts cite."""
    body = []
    for notebook, title, parts in groups:
        if not parts:
            continue
        if title:
            body.append(f"<h2>{title}</h2>")
        for p in parts:
            body.append(f'<section class="rnnbook-exercise" data-notebook="{html.escape(notebook)}"'
                        f' data-cell="{html.escape(p.cell)}">{p.html}</section>')
    if cited:
        body.append('<section class="rnnbook-references"><h2>References</h2><ul>'
                    + "".join(f"<li>[{html.escape(label)}] {html.escape(ref)}</li>"
                              for label, _, ref in cited) + "</ul></section>")
    sources = ", ".join(sorted({g[0] for g in groups if g[2]}))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Exercises, chapter {chapter.number}: {html.escape(chapter.title)}</title>
<style>{SHEET_CSS}</style>
<script>{MATHJAX_CONFIG % ''}</script>
<script defer src="../_static/mathjax/tex-mml-chtml.js"></script>
</head>
<body>
<main>
<nav class="noprint"><a href="../{chapter.docname}.html">Chapter {chapter.number} in the book</a>
<a href="../{SLIDES_DIR}/{chapter.name}.html">Slides</a>
<span>Print this page for a paper sheet (the links and this line are not printed).</span></nav>
<h1>Chapter {chapter.number}: {html.escape(chapter.title)}. Exercises</h1>
<p class="rnnbook-name"><span>Name:</span><span>Date:</span></p>
{chr(10).join(body)}
<footer>From {html.escape(sources)}, section "Exercises". The worked solutions are in the
book, under each exercise's "Solution" toggle.</footer>
</main>
</body>
</html>
"""


# --- widget state ------------------------------------------------------------------------

def widget_subset(state: dict, model_ids) -> dict:
    """The models the views need: their closure under IPY_MODEL_ references, and the links."""
    models = state.get("state", {})
    refs = {mid: set(re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(m.get("state", {}))))
            for mid, m in models.items()}
    seen, todo = set(), list(model_ids)
    while todo:
        mid = todo.pop()
        if mid in seen or mid not in models:
            continue
        seen.add(mid)
        todo.extend(refs[mid])
    links = [mid for mid, m in models.items()
             if m.get("model_name") in ("LinkModel", "DirectionalLinkModel")
             and refs[mid] and refs[mid] <= seen]
    keep = seen | set(links)
    return {"version_major": state.get("version_major", 2),
            "version_minor": state.get("version_minor", 0),
            "state": {mid: models[mid] for mid in models if mid in keep}}


# --- the whole generator --------------------------------------------------------------------

def _title_of(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if m:
                return m.group(1).strip()
    return ""


def _md_title(path: Path) -> str:
    m = re.search(r"^#\s+(.+)$", path.read_text(encoding="utf-8"), re.M)
    return m.group(1).strip() if m else path.stem


def generate(html_dir, srcdir, build_dir=None, cache_path=None, log=print) -> dict:
    """Write every chapter's deck and exercise sheet; return {chapter name: counts}."""
    t0 = time.perf_counter()
    html_dir, srcdir = Path(html_dir), Path(srcdir)
    build_dir = Path(build_dir) if build_dir else html_dir.parent
    resolver = Resolver(html_dir, srcdir)
    md = Markdown(resolver)
    (html_dir / SLIDES_DIR).mkdir(exist_ok=True)
    (html_dir / SHEETS_DIR).mkdir(exist_ok=True)
    images_dir = html_dir / SLIDES_DIR / "_images"
    summary, problems = {}, []

    def save_image(raw: bytes) -> str:
        name = hashlib.sha256(raw).hexdigest() + ".png"
        if (html_dir / "_images" / name).exists():
            return f"../_images/{name}"
        images_dir.mkdir(exist_ok=True)
        (images_dir / name).write_bytes(raw)
        return f"_images/{name}"

    for ch in chapters_from_toc(srcdir):
        slides, sheet, state_all, views, cited = [], [], {"state": {}}, [], []
        for doc in ch.docs:
            path = srcdir / (doc + ".ipynb")
            if not path.exists():
                if doc == ch.docname and (srcdir / (doc + ".md")).exists():
                    ch.title = _md_title(srcdir / (doc + ".md"))
                continue
            nb = _read_nb(path)
            if doc == ch.docname or not ch.title:
                ch.title = ch.title or _title_of(nb)
            ex = executed_notebook(path, doc, build_dir, cache_path)
            if ex is None and any(cell.cell_type == "code" and set(_tags(cell)) & {SLIDE_TAG, MORE_TAG}
                                  for cell in nb.cells):
                problems.append(f"{doc}: no executed outputs found (its slides show no outputs)")
            elif ex is not None:
                st = ex.metadata.get("widgets", {}).get(WIDGET_STATE, {})
                state_all["state"].update(st.get("state", {}))
                for k in ("version_major", "version_minor"):
                    if k in st:
                        state_all[k] = st[k]
            try:
                got = collect_slides(nb, ex, md, doc + ".ipynb", save_image)
            except SlideError as err:
                problems.append(f"{doc}: {err}")
                got = []
            slides.extend(got)
            title = "" if doc == ch.docname else md.md.renderInline(_title_of(nb))
            resolver.cited = cited
            sheet.append((doc + ".ipynb", title, collect_exercises(nb, md)))
            resolver.cited = []
        if not ch.title:
            ch.title = ch.name
        for s in slides:
            for p in s.parts:
                views += re.findall(r'"model_id": "([0-9a-f]+)"', p.html)
        state = widget_subset(state_all, views) if views else None
        deck = html_dir / SLIDES_DIR / f"{ch.name}.html"
        if slides:
            deck.write_text(render_deck(ch, slides, state), encoding="utf-8")
        elif deck.exists():
            deck.unlink()
        (html_dir / SHEETS_DIR / f"{ch.name}.html").write_text(
            render_sheet(ch, sheet, cited), encoding="utf-8")
        summary[ch.name] = {"slides": len(slides), "widgets": len(views),
                            "exercises": sum(len(g[2]) for g in sheet)}
    seconds = time.perf_counter() - t0
    log("rnnbook_slides: " + ", ".join(f"{n} {c['slides']} slides" for n, c in summary.items())
        + f"; decks and exercise sheets written in {seconds:.2f} s")
    summary["_seconds"] = seconds
    summary["_problems"] = problems
    return summary


# --- Sphinx -----------------------------------------------------------------------------------

LINKS_HTML = ('<p class="rnnbook-lecture-links"><a href="{slides}">Slides for this chapter</a>'
              ' <span aria-hidden="true">&middot;</span> <a href="{sheet}">Exercise sheet</a></p>')




def _chapter_of(app):
    if not hasattr(app, "_rnnbook_chapters"):
        try:
            chs = chapters_from_toc(Path(app.srcdir))
        except Exception:
            chs = []
        app._rnnbook_chapters = {doc: ch for ch in chs for doc in ch.docs}
    return app._rnnbook_chapters


def _add_links(app, pagename, templatename, context, doctree):
    if app.builder.name != "html":      # dirhtml / singlehtml pages sit elsewhere
        return
    ch = _chapter_of(app).get(pagename)
    if ch is None or "body" not in context:
        return
    up = posixpath.relpath(".", posixpath.dirname(pagename) or ".")
    links = LINKS_HTML.format(slides=f"{up}/{SLIDES_DIR}/{ch.name}.html",
                              sheet=f"{up}/{SHEETS_DIR}/{ch.name}.html")
    body = context["body"]
    m = re.search(r"</h1>", body)
    context["body"] = body[:m.end()] + links + body[m.end():] if m else links + body


def _build_finished(app, exception):
    if exception is not None or app.builder.name != "html":
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    config = getattr(app.env, "mystnb_config", None)
    cache = getattr(config, "execution_cache_path", None)
    summary = generate(app.outdir, app.srcdir, Path(app.outdir).parent, cache or None,
                       log=lambda msg: logger.info(msg))
    executed = getattr(config, "execution_mode", "cache") != "off"
    for p in summary["_problems"]:
        if executed or "no executed outputs" not in p:   # a bad mark is always an error
            logger.warning(f"rnnbook_slides: {p}")


def setup(app):
    app.connect("html-page-context", _add_links)
    app.connect("build-finished", _build_finished)
    app.add_css_file("rnnbook-slides.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}


if __name__ == "__main__":
    html_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html").resolve()
    root = Path(__file__).resolve().parents[2]
    for problem in generate(html_dir, root)["_problems"]:
        print(f"rnnbook_slides: WARNING {problem}")
