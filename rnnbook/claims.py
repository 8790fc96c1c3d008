"""The claims registry: what the book checks, where, and with what verdict.

Every checkable claim of the book (most of them taken from the five source
notes) has one row in ``book/claims/NN_name.yml`` and one code cell in the
chapter notebook ``book/NN_name.ipynb`` whose first line is
``# claim: <id>``; that cell computes the claim and asserts it. A row::

    - id: ch1-all-ones-fully-connected
      claim: "With every weight 1 and linear units the outputs are 4, 12, 32."
      source: "[004]"
      verdict: holds            # holds | holds with a condition | wrong
      note: "[004] gives 4 at step 2 ..."

This module loads and validates the YAML files (:func:`load_claims`), finds
the claim cells of a notebook (:func:`claim_ids_in_notebook`), renders
the "Claims checked" appendix (:func:`render_claims_markdown`, one stacked
card per claim, math as math; :func:`render_claims_table` is the older
five-column HTML table) and the per-note lists of the "Source notes"
appendix (:func:`source_notes_of`, :func:`render_source_claims`).

Anchors: the book's Sphinx extension ``book/_ext/rnnbook_claims.py`` gives
every code cell whose first line is ``# claim: <id>`` the HTML id and the
Sphinx label ``claim-<id>`` (:func:`cell_label`); each card of the claims
appendix carries the label ``claimrow-<id>`` (:func:`row_label`); each
source note's section in the source-notes appendix is ``source-NNN``
(:func:`note_label`).
It needs only the standard library and PyYAML.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

import yaml

__all__ = [
    "FIELDS",
    "VERDICTS",
    "REPO_ROOT",
    "load_claims",
    "load_claim_file",
    "claim_ids_in_notebook",
    "count_by_verdict",
    "render_claims_table",
    "render_claims_markdown",
    "source_notes_of",
    "claims_from_note",
    "render_source_claims",
    "cell_label",
    "row_label",
    "note_label",
    "markdown_text",
    "render_summary_markdown",
    "chapter_title",
    "chapters_in_toc",
    "NOTES",
]

#: The five source notes, by number, as the claims' ``source`` field names them.
NOTES = ("000", "001", "002", "003", "004")

#: The fields every row must have, in the order the table shows them.
FIELDS = ("id", "claim", "source", "verdict", "note")

#: The allowed verdicts.
VERDICTS = ("holds", "holds with a condition", "wrong")

#: The checkout this module was imported from (rnnlib is installed editable).
REPO_ROOT = Path(__file__).resolve().parents[1]   # rnnbook/ sits at the top of the checkout

_FILE_NAME = re.compile(r"^(\d\d)_[a-z0-9_]+\.ya?ml$")
_CLAIM_LINE = re.compile(r"^#\s*claim:\s*(\S+)\s*$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

_SYMBOL = {"holds": "\u2713", "holds with a condition": "\u25d0", "wrong": "\u2717"}


def load_claim_file(path: str | Path) -> list[dict]:
    """Load and validate one claims file ``NN_name.yml``.

    Parameters
    ----------
    path : str or Path
        A YAML file holding a list of rows, each a mapping with exactly the
        keys ``id``, ``claim``, ``source``, ``verdict``, ``note``.

    Returns
    -------
    list of dict
        The rows in file order, each with the five fields (as str) plus
        ``chapter``: the file's stem (``"01_rnn"``), which is also the name
        of the chapter notebook that checks the claim.

    Raises
    ------
    ValueError
        Naming the file (and the row, counted from 1, with its id when it
        has one) when the file name is not ``NN_name.yml``, the YAML does
        not parse, the top level is not a list, a row is not a mapping, a
        field is missing, unknown or not a string, a required field is empty,
        an id is malformed or repeated, or a verdict is not one of
        :data:`VERDICTS`. An empty file is a chapter with no claims yet: [].
    """
    path = Path(path)
    if not _FILE_NAME.match(path.name):
        raise ValueError(
            f"{path}: expected a file name like NN_name.yml (two digits, "
            f"underscore, lower-case name), got {path.name!r}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML ({err})") from err
    if data is None:
        return []
    if not isinstance(data, list):
        raise ValueError(
            f"{path}: expected a list of claims (rows starting with '- id:'), "
            f"got a {type(data).__name__}")
    rows, seen = [], set()
    for number, row in enumerate(data, start=1):
        where = f"{path}: row {number}"
        if not isinstance(row, dict):
            raise ValueError(f"{where}: expected a mapping with keys {', '.join(FIELDS)}, "
                             f"got a {type(row).__name__}")
        if isinstance(row.get("id"), str):
            where += f" (id {row['id']!r})"
        missing = [f for f in FIELDS if f not in row]
        if missing:
            raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
        unknown = sorted(str(k) for k in row if k not in FIELDS)
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}; "
                             f"expected exactly {', '.join(FIELDS)}")
        for field in FIELDS:
            value = row[field]
            if not isinstance(value, str):
                raise ValueError(f"{where}: field {field!r} must be a string, "
                                 f"got {type(value).__name__} {value!r}")
            if field != "note" and not value.strip():
                raise ValueError(f"{where}: field {field!r} is empty")
        if not _ID.match(row["id"]):
            raise ValueError(f"{where}: id must be one word of letters, digits, "
                             f"'-', '_' or '.', got {row['id']!r}")
        if row["id"] in seen:
            raise ValueError(f"{where}: id {row['id']!r} appears more than once")
        seen.add(row["id"])
        if row["verdict"] not in VERDICTS:
            raise ValueError(f"{where}: verdict must be one of "
                             f"{', '.join(repr(v) for v in VERDICTS)}, got {row['verdict']!r}")
        clean = {f: row[f].strip() for f in FIELDS}
        clean["chapter"] = path.stem
        rows.append(clean)
    return rows


def load_claims(folder: str | Path | None = None) -> list[dict]:
    """Load and validate every claims file of the book.

    Parameters
    ----------
    folder : str or Path, optional
        The folder of ``NN_name.yml`` files. Default: ``book/claims`` of the
        checkout rnnlib was imported from (so notebooks, which run in their
        own folder, need no relative paths).

    Returns
    -------
    list of dict
        All rows, files in name order (so by chapter), rows in file order;
        each with ``id``, ``claim``, ``source``, ``verdict``, ``note`` and
        ``chapter`` (see :func:`load_claim_file`).

    Raises
    ------
    ValueError
        If the folder does not exist, a file fails :func:`load_claim_file`,
        or an id appears in two files (both files are named).
    """
    folder = REPO_ROOT / "book" / "claims" if folder is None else Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder: expected a folder of NN_name.yml claims files, "
                         f"got {str(folder)!r}, which is not a folder")
    claims, first_file = [], {}
    paths = sorted(list(folder.glob("*.yml")) + list(folder.glob("*.yaml")))
    for path in paths:
        for row in load_claim_file(path):
            if row["id"] in first_file:
                raise ValueError(f"{path}: id {row['id']!r} is already used in "
                                 f"{first_file[row['id']]}")
            first_file[row["id"]] = path
            claims.append(row)
    return claims


def claim_ids_in_notebook(path: str | Path) -> list[str]:
    """Return the claim ids a notebook checks, in cell order.

    A code cell checks claim ``<id>`` when its first line is
    ``# claim: <id>`` (surrounding spaces ignored). Markdown cells and other
    comments are ignored; an id checked twice appears twice.

    Parameters
    ----------
    path : str or Path
        A Jupyter notebook (``.ipynb``, nbformat 4).

    Returns
    -------
    list of str
    """
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not a notebook (invalid JSON: {err})") from err
    ids = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        lines = source.lstrip("\n").splitlines()
        if lines:
            match = _CLAIM_LINE.match(lines[0].strip())
            if match:
                ids.append(match.group(1))
    return ids


def count_by_verdict(claims: list[dict]) -> dict[str, int]:
    """Number of claims per verdict, every verdict of :data:`VERDICTS` present."""
    counts = Counter(c["verdict"] for c in claims)
    return {v: counts.get(v, 0) for v in VERDICTS}


def cell_label(claim_id: str) -> str:
    """Sphinx label (and HTML id) of the chapter cell that checks a claim.

    Lower-case, as Sphinx stores labels (``ch2-memory-linear-in-T`` gives
    ``claim-ch2-memory-linear-in-t``).
    """
    return f"claim-{claim_id}".lower()


def row_label(claim_id: str) -> str:
    """Sphinx label of a claim's card in the "Claims checked" appendix (lower-case)."""
    return f"claimrow-{claim_id}".lower()


def note_label(note: str) -> str:
    """Sphinx label of a source note's section in the source-notes appendix."""
    return f"source-{note}"


def _chapter_name(chapter: str) -> str:
    number = int(chapter[:2])
    return f"chapter {number}" if number else "preface"


def _chapter_link(chapter: str, base: str, claim_id: str | None = None) -> str:
    anchor = "" if claim_id is None else "#" + cell_label(claim_id)
    return (f'<a href="{html.escape(base + chapter)}.html{html.escape(anchor)}">'
            f'{html.escape(_chapter_name(chapter))}</a>'
            f'<br><code>{html.escape(chapter)}.ipynb</code>')


_MATH = re.compile(r"(\$[^$\n]+\$)")
_NOTE_REF = re.compile(r"\[(\d{3})\]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|&~^$])")


def _escape_md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def markdown_text(text: str, link_notes: bool = True) -> str:
    """MyST markdown for a claim's text: ``$...$`` kept as math, the rest escaped.

    Everything outside ``$...$`` pairs is shown literally (markdown's special
    characters are backslash-escaped); with ``link_notes`` each ``[NNN]``
    becomes a reference to that note's section of the source-notes appendix.
    """
    out = []
    for part in _MATH.split(text):
        if _MATH.fullmatch(part):
            out.append(part)
            continue
        pos = 0
        for m in _NOTE_REF.finditer(part) if link_notes else ():
            out.append(_escape_md(part[pos:m.start()]))
            note = m.group(1)
            out.append(f"{{ref}}`[{note}] <{note_label(note)}>`" if note in NOTES
                       else _escape_md(m.group(0)))
            pos = m.end()
        out.append(_escape_md(part[pos:]))
    return "".join(out)


def source_notes_of(claim: dict) -> list[str]:
    """The source notes (``"000"`` .. ``"004"``) a claim's ``source`` names, in order."""
    found = []
    for note in _NOTE_REF.findall(claim["source"]):
        if note in NOTES and note not in found:
            found.append(note)
    return found


def claims_from_note(claims: list[dict], note: str) -> list[dict]:
    """The claims whose ``source`` names note ``note`` (e.g. ``"003"``), in book order."""
    if note not in NOTES:
        raise ValueError(f"note: expected one of {', '.join(NOTES)}, got {note!r}")
    return [c for c in claims if note in source_notes_of(c)]


def _verdict_html(verdict: str) -> str:
    css = "claim-" + verdict.replace(" ", "-")
    return f'<span class="{css}">{_SYMBOL.get(verdict, "")} {html.escape(verdict)}</span>'


_VERDICT_STYLE = ("<style>.claim-holds{color:#1a7f37}.claim-holds-with-a-condition"
                  "{color:#9a6700}.claim-wrong{color:#cf222e}</style>")

_CARD_STYLE = (
    "<style>.claims-card{border:1px solid #ccc;border-radius:4px;padding:0.4em 0.8em;"
    "margin:0 0 0.8em 0}.claims-card p{margin:0.25em 0}"
    ".claims-card .claims-meta{font-size:0.9em}"
    ".claim-holds{color:#1a7f37}.claim-holds-with-a-condition{color:#9a6700}"
    ".claim-wrong{color:#cf222e}</style>")


def chapters_in_toc(toc: str | Path | None = None) -> set[str]:
    """Chapter stems (``"02_bptt"``) whose notebook ``book/<stem>`` is listed in ``_toc.yml``."""
    toc = REPO_ROOT / "_toc.yml" if toc is None else Path(toc)
    data = yaml.safe_load(toc.read_text(encoding="utf-8"))
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("file", "root") and isinstance(value, str):
                    name = value.rsplit("/", 1)[-1]
                    if value.startswith("book/") and re.match(r"^\d\d_", name):
                        found.add(name.split(".")[0])
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    return found


def render_claims_markdown(claims: list[dict], linked: set[str] | None = None) -> str:
    """Render claims as MyST markdown cards for the "Claims checked" appendix.

    One card per claim, stacked (so nothing is cut off on a narrow column):
    the claim in bold; a line with the verdict (\u2713 holds, \u25d0 holds
    with a condition, \u2717 wrong), the source notes (linked to their
    sections of the source-notes appendix), a link to the chapter cell that
    checks it (label :func:`cell_label`) and the id; then the note. Text
    between ``$...$`` is math; everything else is shown literally. Each card
    is the target of the label :func:`row_label`.

    The notebook shows it with ``IPython.display.Markdown`` in a cell whose
    metadata sets ``mystnb: {markdown_format: myst}``, so Sphinx parses it:
    math is typeset and every link is checked by the build (``-n``).

    Parameters
    ----------
    claims : list of dict
        Rows from :func:`load_claims` (the five fields and ``chapter``).
    linked : set of str, optional
        The chapters whose pages are built (:func:`chapters_in_toc`); a
        claim of another chapter names its notebook instead of linking to a
        cell that is not in the book. Default: link every chapter.

    Returns
    -------
    str
        MyST markdown; the first line is a small ``<style>`` block.
    """
    parts = [_CARD_STYLE, ""]
    for c in claims:
        for key in (*FIELDS, "chapter"):
            if key not in c:
                raise ValueError(f"claims: row {c.get('id', '?')!r} has no field {key!r}")
        if linked is None or c["chapter"] in linked:
            checked = (f"{{ref}}`{_chapter_name(c['chapter'])}, the checking cell "
                       f"<{cell_label(c['id'])}>`")
        else:
            checked = (f"{_chapter_name(c['chapter'])} (`book/{c['chapter']}.ipynb`, "
                       f"not yet in the book)")
        meta = (f"{_verdict_html(c['verdict'])} · source: {markdown_text(c['source'])}"
                f" · checked in {checked} · `{c['id']}`")
        parts += [f"({row_label(c['id'])})=",
                  "::::{container} claims-card",    # four colons: it holds a fence
                  f"**{markdown_text(c['claim'])}**",
                  "",
                  ":::{container} claims-meta",
                  meta,
                  ":::",
                  ""]
        if c["note"]:
            parts += [markdown_text(c["note"]), ""]
        parts += ["::::", ""]
    return "\n".join(parts)


def render_source_claims(claims: list[dict], note: str) -> str:
    """MyST markdown list of the claims checked from one source note.

    One item per claim whose ``source`` names ``note``: the verdict, the
    claim, and a link (naming the chapter that checks it) to its card in
    the "Claims checked" appendix. For the source-notes appendix, which builds its
    lists from the YAML files with this function so they cannot drift.
    """
    rows = claims_from_note(claims, note)
    if not rows:
        return "*No claim from this note is checked yet.*"
    counts = count_by_verdict(rows)
    chapters = sorted({c["chapter"] for c in rows})
    names = [_chapter_name(ch) for ch in chapters]
    if len(names) > 1 and all(n.startswith("chapter ") for n in names):
        names = [n[len("chapter "):] for n in names]
        where = "chapters " + ", ".join(names[:-1]) + " and " + names[-1]
    else:
        where = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    lines = [_VERDICT_STYLE, "",
             f"{len(rows)} claim{'s' if len(rows) != 1 else ''} checked, in {where}: "
             + ", ".join(f"{counts[v]} {v}" for v in VERDICTS) + ".", ""]
    for c in rows:
        lines.append(f"- {_verdict_html(c['verdict'])}: "
                     f"{markdown_text(c['claim'], link_notes=False)} "
                     f"({{ref}}`{_chapter_name(c['chapter'])}, its card in the claims "
                     f"table <{row_label(c['id'])}>`)")
    return "\n".join(lines)


def render_claims_table(claims: list[dict], base: str = "../") -> str:
    """Render claims as an HTML table for the "Claims checked" appendix.

    Columns: the claim, its source note, the verdict (with a mark:
    \u2713 holds, \u25d0 holds with a condition, \u2717 wrong), where it is
    checked (a link to the checking cell, ``NN_name.html#claim-<id>``, and
    the notebook name) and the note. The appendix now shows
    :func:`render_claims_markdown` instead, which fits a narrow column. All text is HTML-escaped, so the table is safe to
    show with ``IPython.display.HTML`` and Sphinx never parses it.

    Parameters
    ----------
    claims : list of dict
        Rows from :func:`load_claims` (each needs the five fields and
        ``chapter``).
    base : str
        Prefix of the chapter links, relative to the page showing the table
        (the appendix pages sit one folder below the chapters: ``"../"``).

    Returns
    -------
    str
        One ``<table>`` element (with a small scoped style).
    """
    head = "".join(f"<th>{h}</th>" for h in
                   ("Claim", "Source", "Verdict", "Checked in", "Note"))
    body = []
    for c in claims:
        for key in (*FIELDS, "chapter"):
            if key not in c:
                raise ValueError(f"claims: row {c.get('id', '?')!r} has no field {key!r}")
        verdict = c["verdict"]
        css = "claim-" + verdict.replace(" ", "-")
        body.append(
            f'<tr id="claim-{html.escape(c["id"])}">'
            f'<td>{html.escape(c["claim"])}<br><small><code>{html.escape(c["id"])}</code></small></td>'
            f"<td>{html.escape(c['source'])}</td>"
            f'<td class="{css}">{_SYMBOL.get(verdict, "")} {html.escape(verdict)}</td>'
            f"<td>{_chapter_link(c['chapter'], base, c['id'])}</td>"
            f"<td>{html.escape(c['note'])}</td></tr>")
    style = ("<style>.claims-table{border-collapse:collapse;font-size:0.9em}"
             ".claims-table th,.claims-table td{border:1px solid #ccc;padding:4px 6px;"
             "vertical-align:top;text-align:left}"
             ".claims-table .claim-holds{color:#1a7f37}"
             ".claims-table .claim-holds-with-a-condition{color:#9a6700}"
             ".claims-table .claim-wrong{color:#cf222e}</style>")
    return (f'{style}<table class="claims-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def chapter_title(chapter: str, book: str | Path | None = None) -> str:
    """The title (first ``# `` heading) of chapter notebook ``book/<chapter>.ipynb``."""
    book = REPO_ROOT / "book" if book is None else Path(book)
    nb = json.loads((book / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        for line in source.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    raise ValueError(f"{chapter}.ipynb: no '# ' title in its markdown cells")


def render_summary_markdown(claims: list[dict]) -> str:
    """A markdown table: claims per chapter and verdict, with a total row.

    The columns are headed by the verdicts' marks only (narrow enough for a
    phone); a line under the table says what each mark means.
    """
    head = "| chapter | " + " | ".join(_SYMBOL[v] for v in VERDICTS) + " | total |"
    lines = [head, "|---" * (len(VERDICTS) + 2) + "|"]
    for chapter in sorted({c["chapter"] for c in claims}):
        counts = count_by_verdict([c for c in claims if c["chapter"] == chapter])
        lines.append(f"| {_chapter_name(chapter)} | "
                     + " | ".join(str(counts[v]) for v in VERDICTS)
                     + f" | {sum(counts.values())} |")
    counts = count_by_verdict(claims)
    lines.append("| **all** | " + " | ".join(f"**{counts[v]}**" for v in VERDICTS)
                 + f" | **{len(claims)}** |")
    lines += ["", "; ".join(f"{_SYMBOL[v]} {v}" for v in VERDICTS) + "."]
    return "\n".join(lines)
