"""The claims registry: YAML rows and `# claim:` cells match, the validator
rejects bad rows, and the appendix table shows every row."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rnnbook import claims as cl

ROOT = Path(__file__).resolve().parents[1]
CLAIMS_DIR = ROOT / "book" / "claims"
BOOK = ROOT / "book"


def _chapters_with_claims():
    """Stems NN_name that have a claims file or a notebook with claim cells."""
    stems = {p.stem for p in CLAIMS_DIR.glob("*.yml")} if CLAIMS_DIR.is_dir() else set()
    for nb in BOOK.glob("[0-9][0-9]_*.ipynb"):
        if cl.claim_ids_in_notebook(nb):
            stems.add(nb.stem)
    return sorted(stems)


# --- the book's own registry ---------------------------------------------

@pytest.mark.parametrize("stem", _chapters_with_claims())
def test_yaml_ids_and_notebook_claim_cells_match(stem):
    yml, nb = CLAIMS_DIR / f"{stem}.yml", BOOK / f"{stem}.ipynb"
    assert yml.is_file(), f"{nb.name} has '# claim:' cells but there is no {yml.relative_to(ROOT)}"
    assert nb.is_file(), f"{yml.relative_to(ROOT)} lists claims but there is no {nb.relative_to(ROOT)}"
    yaml_ids = [row["id"] for row in cl.load_claim_file(yml)]
    cell_ids = cl.claim_ids_in_notebook(nb)
    repeated = sorted({i for i in cell_ids if cell_ids.count(i) > 1})
    assert not repeated, f"{nb.name}: claim cells repeated: {repeated}"
    no_cell = [i for i in yaml_ids if i not in cell_ids]
    no_row = [i for i in cell_ids if i not in yaml_ids]
    assert not no_cell, f"{yml.name}: ids with no '# claim: <id>' cell in {nb.name}: {no_cell}"
    assert not no_row, f"{nb.name}: '# claim:' cells with no row in {yml.name}: {no_row}"


def test_book_registry_is_valid_and_ids_unique_across_chapters():
    if not CLAIMS_DIR.is_dir() or not any(CLAIMS_DIR.glob("*.yml")):
        pytest.skip("no book/claims/*.yml yet")
    rows = cl.load_claims(CLAIMS_DIR)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert all(r["verdict"] in cl.VERDICTS for r in rows)
    assert {r["chapter"] for r in rows} == {p.stem for p in CLAIMS_DIR.glob("*.yml")
                                           if cl.load_claim_file(p)}
    assert cl.load_claims() == rows  # the default folder is this checkout's book/claims


# --- validator, on temporary files ----------------------------------------

GOOD = """\
- id: ch1-all-ones-fully-connected
  claim: "With every weight 1 and linear units the outputs are 4, 12, 32."
  source: "[004]"
  verdict: holds
  note: "[004] gives 4 at step 2, true only with per-unit memory."
- id: ch1-order-matters
  claim: "Reordering the inputs changes the outputs."
  source: "[004]"
  verdict: holds with a condition
  note: ""
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_loads_with_chapter(tmp_path):
    _write(tmp_path, "01_rnn.yml", GOOD)
    _write(tmp_path, "02_bptt.yml", GOOD.replace("ch1-", "ch2-").replace(
        "holds with a condition", "wrong"))
    rows = cl.load_claims(tmp_path)
    assert [r["id"] for r in rows] == ["ch1-all-ones-fully-connected", "ch1-order-matters",
                                       "ch2-all-ones-fully-connected", "ch2-order-matters"]
    assert [r["chapter"] for r in rows] == ["01_rnn", "01_rnn", "02_bptt", "02_bptt"]
    assert set(rows[0]) == {*cl.FIELDS, "chapter"}
    assert rows[1]["note"] == ""
    assert cl.count_by_verdict(rows) == {"holds": 2, "holds with a condition": 1, "wrong": 1}


def test_empty_file_is_a_chapter_without_claims(tmp_path):
    assert cl.load_claim_file(_write(tmp_path, "03_x.yml", "")) == []


BAD_ROWS = [
    # (replacement applied to GOOD, words the message must contain)
    (("verdict: holds\n", "verdict: true-ish\n"), ["row 1", "verdict", "true-ish"]),
    (("verdict: holds\n", "verdict: Holds\n"), ["row 1", "verdict", "Holds"]),
    (("  note: \"[004] gives 4 at step 2, true only with per-unit memory.\"\n", ""),
     ["row 1", "missing", "note"]),
    (("  source: \"[004]\"\n  verdict: holds\n", "  source: \"[004]\"\n  verdict: holds\n  url: x\n"),
     ["row 1", "unknown", "url"]),
    (("id: ch1-order-matters", "id: ch1-all-ones-fully-connected"),
     ["row 2", "more than once", "ch1-all-ones-fully-connected"]),
    (("claim: \"Reordering the inputs changes the outputs.\"", "claim: \"  \""),
     ["row 2", "'claim'", "empty"]),
    (("source: \"[004]\"\n  verdict: holds\n", "source: 4\n  verdict: holds\n"),
     ["row 1", "'source'", "string", "int"]),
    (("id: ch1-order-matters", "id: ch1 order matters"), ["row 2", "id", "ch1 order matters"]),
]


@pytest.mark.parametrize("change,words", BAD_ROWS)
def test_validator_rejects_bad_rows_naming_file_and_row(tmp_path, change, words):
    old, new = change
    assert old in GOOD
    path = _write(tmp_path, "01_rnn.yml", GOOD.replace(old, new, 1))
    with pytest.raises(ValueError) as info:
        cl.load_claims(tmp_path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message, (word, message)


def test_validator_rejects_bad_files(tmp_path):
    bad = {
        "01_a.yml": ("id: x\nclaim: y\n", "list of claims"),
        "02_b.yml": ("- [1, 2]\n", "row 1"),
        "03_c.yml": ("- id: x\n  claim: [unclosed\n", "not valid YAML"),
    }
    for name, (text, word) in bad.items():
        path = _write(tmp_path, name, text)
        with pytest.raises(ValueError, match=re.escape(word)) as info:
            cl.load_claim_file(path)
        assert name in str(info.value)
    with pytest.raises(ValueError, match="NN_name.yml"):
        cl.load_claim_file(_write(tmp_path, "rnn.yml", GOOD))
    with pytest.raises(ValueError, match="not a folder"):
        cl.load_claims(tmp_path / "missing")


def test_id_used_in_two_files_names_both(tmp_path):
    first = _write(tmp_path, "01_rnn.yml", GOOD)
    second = _write(tmp_path, "02_bptt.yml", GOOD.replace("ch1-order-matters", "ch2-other"))
    with pytest.raises(ValueError) as info:
        cl.load_claims(tmp_path)
    assert str(first) in str(info.value) and str(second) in str(info.value)
    assert "ch1-all-ones-fully-connected" in str(info.value)


# --- notebook side ----------------------------------------------------------

def _notebook(path: Path, cells: list[tuple[str, str]]) -> Path:
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
          "cells": [{"cell_type": kind, "metadata": {}, "source": src,
                     **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                    for kind, src in cells]}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_claim_ids_in_notebook_reads_first_line_of_code_cells_only(tmp_path):
    nb = _notebook(tmp_path / "01_rnn.ipynb", [
        ("markdown", "# claim: not-code"),
        ("code", "# claim: ch1-a\nassert 1 + 1 == 2"),
        ("code", "x = 1\n# claim: not-first-line"),
        ("code", "  #claim:   ch1-b  \nassert True"),
        ("code", "# claims: ch1-typo\n"),
        ("code", ""),
    ])
    assert cl.claim_ids_in_notebook(nb) == ["ch1-a", "ch1-b"]
    # source stored as a list of lines, as Jupyter writes it
    raw = json.loads(nb.read_text())
    raw["cells"][1]["source"] = ["# claim: ch1-a\n", "assert 1 + 1 == 2"]
    nb.write_text(json.dumps(raw))
    assert cl.claim_ids_in_notebook(nb) == ["ch1-a", "ch1-b"]


# --- the appendix table ------------------------------------------------------

def test_render_table_links_chapters_and_escapes(tmp_path):
    _write(tmp_path, "01_rnn.yml", GOOD.replace("Reordering the inputs", "<b>Reordering</b> & inputs"))
    rows = cl.load_claims(tmp_path)
    table = cl.render_claims_table(rows)
    assert table.count("<tr id=\"claim-") == len(rows) == 2
    assert table.count('href="../01_rnn.html#claim-') == 2
    assert 'href="../01_rnn.html#claim-ch1-order-matters"' in table
    assert "&lt;b&gt;Reordering&lt;/b&gt; &amp; inputs" in table
    assert "<b>Reordering" not in table
    assert "\u2713 holds" in table and "\u25d0 holds with a condition" in table
    assert 'href="01_rnn.html#claim-ch1-order-matters"' in cl.render_claims_table(rows, base="")
    with pytest.raises(ValueError, match="chapter"):
        cl.render_claims_table([{k: "x" for k in cl.FIELDS}])


# --- the stacked cards, the source-notes lists, labels ----------------------

def test_labels_are_lower_case_sphinx_names():
    assert cl.cell_label("ch2-memory-linear-in-T") == "claim-ch2-memory-linear-in-t"
    assert cl.row_label("ch2-memory-linear-in-T") == "claimrow-ch2-memory-linear-in-t"
    assert cl.note_label("003") == "source-003"


def test_markdown_text_keeps_math_escapes_the_rest_and_links_notes():
    text = "[003] says a*b_c < 1 and $\\sigma_{\\max} < 4$ (see [009])"
    md = cl.markdown_text(text)
    assert md.startswith("{ref}`[003] <source-003>`")
    assert "a\\*b\\_c \\< 1" in md
    assert "$\\sigma_{\\max} < 4$" in md              # math untouched
    assert "\\[009\\]" in md                           # not one of the five notes
    assert "[003]" in cl.markdown_text("[003]", link_notes=False).replace("\\", "")
    assert "{ref}" not in cl.markdown_text("[003]", link_notes=False)


def test_source_notes_of_and_claims_from_note(tmp_path):
    _write(tmp_path, "01_rnn.yml", GOOD.replace('source: "[004]"', 'source: "[003] [004], [003]"', 1))
    rows = cl.load_claims(tmp_path)
    assert cl.source_notes_of(rows[0]) == ["003", "004"]
    assert cl.source_notes_of({"source": "curriculum; Pascanu et al. 2013"}) == []
    assert [r["id"] for r in cl.claims_from_note(rows, "004")] == [r["id"] for r in rows]
    assert [r["id"] for r in cl.claims_from_note(rows, "003")] == ["ch1-all-ones-fully-connected"]
    assert cl.claims_from_note(rows, "000") == []
    with pytest.raises(ValueError, match="note"):
        cl.claims_from_note(rows, "3")


def test_render_claims_markdown_one_card_per_claim(tmp_path):
    _write(tmp_path, "01_rnn.yml", GOOD.replace("Reordering the inputs", "<b>Reordering</b> & inputs"))
    rows = cl.load_claims(tmp_path)
    md = cl.render_claims_markdown(rows)
    assert md.count("::::{container} claims-card") == len(rows) == 2
    assert md.count("\n::::\n") == len(rows)                # the card closes after its note
    for r in rows:
        assert f"({cl.row_label(r['id'])})=" in md
        assert f"<{cl.cell_label(r['id'])}>`" in md           # link to the checking cell
        assert f"`{r['id']}`" in md
    assert "\\<b\\>Reordering\\</b\\> \\& inputs" in md and "<b>Reordering" not in md
    assert "{ref}`[004] <source-004>`" in md
    assert "\u2713 holds" in md and "\u25d0 holds with a condition" in md
    assert md.count(":::") == 4 * len(rows)                   # every fence closed
    with pytest.raises(ValueError, match="chapter"):
        cl.render_claims_markdown([{k: "x" for k in cl.FIELDS}])


def test_render_source_claims_lists_and_counts(tmp_path):
    _write(tmp_path, "01_rnn.yml", GOOD)
    _write(tmp_path, "03_x.yml", GOOD.replace("ch1-", "ch3-").replace('"[004]"', '"[003]"'))
    rows = cl.load_claims(tmp_path)
    md = cl.render_source_claims(rows, "004")
    assert md.startswith("<style>")
    assert "\n2 claims checked, in chapter 1: 1 holds, 1 holds with a condition, 0 wrong." in md
    assert md.count("\n- ") == 2 and "<claimrow-ch1-order-matters>`" in md
    assert "\n2 claims checked, in chapter 3:" in cl.render_source_claims(rows, "003")
    both = cl.render_source_claims(rows + [dict(rows[0], id="x", source="[003]")], "003")
    assert "\n3 claims checked, in chapters 1 and 3:" in both
    assert cl.render_source_claims(rows, "000").startswith("*No claim")


def test_summary_markdown_and_chapter_titles():
    rows = cl.load_claims()
    md = cl.render_summary_markdown(rows)
    assert md.splitlines()[0].startswith("| chapter |")
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert f"**{len(rows)}**" in table[-1]
    assert md.splitlines()[-1].startswith("\u2713 holds; \u25d0 holds with a condition")
    assert cl.chapter_title("02_bptt") == "Backpropagation through time"


def test_every_source_note_has_claims_in_the_book():
    rows = cl.load_claims()
    for note in cl.NOTES:
        assert cl.claims_from_note(rows, note), note


def test_unlinked_chapters_name_their_notebook_and_toc_lists_the_chapters(tmp_path):
    _write(tmp_path, "01_rnn.yml", GOOD)
    rows = cl.load_claims(tmp_path)
    md = cl.render_claims_markdown(rows, linked=set())
    assert "<claim-" not in md and "`book/01_rnn.ipynb`, not yet in the book" in md
    assert cl.render_claims_markdown(rows, linked={"01_rnn"}) == cl.render_claims_markdown(rows)
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/00_preface\nparts:\n  - chapters:\n"
                   "      - file: book/01_rnn\n      - file: book/appendix/glossary\n"
                   "      - file: book/03_x.ipynb\n", encoding="utf-8")
    assert cl.chapters_in_toc(toc) == {"00_preface", "01_rnn", "03_x"}
    assert {"01_rnn", "02_bptt", "03_vanishing_exploding"} <= cl.chapters_in_toc()
