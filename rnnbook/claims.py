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
the claim cells of a notebook (:func:`claim_ids_in_notebook`) and renders
the table of the "Claims checked" appendix (:func:`render_claims_table`).
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
]

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


def _chapter_link(chapter: str, base: str) -> str:
    number = int(chapter[:2])
    label = f"chapter {number}" if number else "preface"
    return (f'<a href="{html.escape(base + chapter)}.html">{html.escape(label)}</a>'
            f'<br><code>{html.escape(chapter)}.ipynb</code>')


def render_claims_table(claims: list[dict], base: str = "../") -> str:
    """Render claims as an HTML table for the "Claims checked" appendix.

    Columns: the claim, its source note, the verdict (with a mark:
    \u2713 holds, \u25d0 holds with a condition, \u2717 wrong), where it is
    checked (a link to the chapter page ``NN_name.html`` and the notebook
    name) and the note. All text is HTML-escaped, so the table is safe to
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
            f"<td>{_chapter_link(c['chapter'], base)}</td>"
            f"<td>{html.escape(c['note'])}</td></tr>")
    style = ("<style>.claims-table{border-collapse:collapse;font-size:0.9em}"
             ".claims-table th,.claims-table td{border:1px solid #ccc;padding:4px 6px;"
             "vertical-align:top;text-align:left}"
             ".claims-table .claim-holds{color:#1a7f37}"
             ".claims-table .claim-holds-with-a-condition{color:#9a6700}"
             ".claims-table .claim-wrong{color:#cf222e}</style>")
    return (f'{style}<table class="claims-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")
