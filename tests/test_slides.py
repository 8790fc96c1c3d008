"""Lecture mode (``book/_ext/rnnbook_slides.py``): slides and exercise sheets.

The marking convention on synthetic notebooks (every rule, and the errors a
bad mark raises), the sentence splitter, the widget-state subset, and then
the real chapters: every chapter's marks are valid and give a deck of 10 to
25 slides with a figure or animation, and every chapter has exercises. The
built decks themselves (in a browser, and their text against the notebooks)
are tested in ``tests/test_browser.py``.
"""

from __future__ import annotations

import base64
import re
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import rnnbook_slides as rs  # noqa: E402

nbformat = pytest.importorskip("nbformat")

#: a deck's size: enough for a lecture, few enough to present in 50 minutes
MIN_SLIDES, MAX_SLIDES = 10, 25

# a 1x1 PNG
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")).decode()


def md(source, cid, tags=(), **meta):
    cell = nbformat.v4.new_markdown_cell(source)
    cell.id = cid
    if tags:
        cell.metadata["tags"] = list(tags)
    if meta:
        cell.metadata["slide"] = meta
    return cell


def code(text, cid, tags=(), outs=(), **meta):
    cell = nbformat.v4.new_code_cell(text)
    cell.id = cid
    cell.outputs = list(outs)
    if tags:
        cell.metadata["tags"] = list(tags)
    if meta:
        cell.metadata["slide"] = meta
    return cell


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def png_output(width=300):
    return nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"},
                                  metadata={"image/png": {"width": width, "height": 100}})


def widget_output(model_id):
    return nbformat.v4.new_output(
        "display_data", data={rs.WIDGET_VIEW: {"version_major": 2, "version_minor": 0,
                                               "model_id": model_id}, "text/plain": "Box()"})


def stream(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


@pytest.fixture(scope="module")
def markdown():
    return rs.Markdown(None)


def slides_of(nb, markdown, executed=True):
    saved = []

    def images(raw):
        saved.append(raw)
        return f"img{len(saved)}.png"

    return rs.collect_slides(nb, nb if executed else None, markdown, "book/99_test.ipynb", images)


# --- markdown -----------------------------------------------------------------------

def test_sentences_keep_math_roles_and_bold_leads_whole():
    text = ("**The all-ones network.** Top: the value is $x = 1. 5$ here, e.g. in step 2.\n"
            "It is {eq}`eq-a. b` again. (A remark in brackets. With two sentences.) "
            "**2. A numbered title.** Then more.")
    assert rs.sentences(text) == [
        "**The all-ones network.**",
        "Top: the value is $x = 1. 5$ here, e.g. in step 2.",
        "It is {eq}`eq-a. b` again.",
        "(A remark in brackets. With two sentences.)",
        "**2. A numbered title.**",
        "Then more."]


def test_blocks_skip_targets_and_comments_and_split_lists(markdown):
    blocks = markdown.blocks("(label)=\n# Title\n\n% a comment\nOne. Two.\n\n"
                             "$$\na = b\n$$ (eq-x)\n\n- first\n- second\n")
    assert [b["kind"] for b in blocks] == ["heading", "paragraph", "math", "bullet_list"]
    assert blocks[1]["lines"] == ["One.", "Two."]
    assert blocks[3]["lines"] == ["- first", "- second"]
    assert "\\[a = b\\]" in blocks[2]["html"]


def test_roles_render_as_text_and_resolved_parts_are_marked(markdown):
    html = markdown.render("A {term}`hidden state`, see {ref}`the note <source-000>` "
                           "and {eq}`eq-x`, after {cite}`elman1990`.")
    assert "hidden state" in html and "the note" in html
    assert html.count('class="rnnbook-resolved"') == 2      # the equation and the citation
    assert "{term}" not in html and "`" not in html


# --- the marking convention -----------------------------------------------------------

def test_slide_more_and_notes_and_default_keep(markdown):
    nb = notebook(
        md("# The chapter\n\nIts summary.", "c0", ["slide"], keep=[0, 1]),
        md("## A section\n\nProse that is long.\n\n$$\nh = 1\n$$", "c1", ["slide"]),
        code("plot()", "c2", ["slide-more"], [png_output(), stream("printed\n")]),
        md("**Caption.** What to look for.\n\n## Next section\n\nNot a caption.", "c3"),
        md("Said aloud only.", "c4", ["slide-notes"]),
        code("player()", "c5", ["slide"], [stream("x"), widget_output("abc123")],
             outputs="figures"),
        md("Untagged, after a slide that has code: the caption of the player.", "c6"),
        md("Untagged and far from any slide.", "c7"),
    )
    slides = slides_of(nb, markdown)
    assert len(slides) == 3
    title, section, player = slides
    assert title.title_slide and "The chapter" in title.title
    assert [p.cell for p in title.parts] == ["c0"] and "Its summary" in title.parts[0].html
    # default keep: the heading (title) and the equation; the prose goes to the notes
    assert "A section" in section.title and section.title_cell == "c1"
    shown = "".join(p.html for p in section.parts)
    assert "h = 1" in shown and "Prose that is long" not in shown
    assert "img1.png" in shown and "printed" in shown
    notes = "".join(p.html for p in section.notes)
    assert "Prose that is long" in notes and "Caption." in notes and "Said aloud" in notes
    assert "Not a caption" not in notes                 # the next section is not a caption
    # a code cell without a heading is titled with the last heading before it
    assert "Next section" in player.title and player.title_cell == "c3"
    shown = "".join(p.html for p in player.parts)
    assert '"model_id": "abc123"' in shown and ">x<" not in shown   # figures only
    assert "caption of the player" in "".join(p.html for p in player.notes)
    assert "far from any slide" not in str([p.html for s in slides for p in s.notes])
    assert player.cells == ["c3", "c5", "c6"]


def test_keep_parts_of_blocks_and_several_slides_from_one_cell(markdown):
    source = ("## Goals\n\nFirst sentence. Second sentence.\n\n- item one\n- item two\n\n"
              "## Summary\n\nA last point. Another.")
    nb = notebook(md(source, "c0", ["slide"], keep=[[0, "1.1", "2.1"], [3, "4.0"]]))
    first, second = slides_of(nb, markdown)
    assert "Goals" in first.title and "Summary" in second.title
    shown = "".join(p.html for p in first.parts)
    assert "Second sentence" in shown and "First sentence" not in shown
    assert "item two" in shown and "item one" not in shown
    assert "A last point" in "".join(p.html for p in second.parts)
    assert "Another" not in "".join(p.html for p in second.parts)
    assert "First sentence" in "".join(p.html for p in first.notes)


def test_source_is_shown_only_when_asked(markdown):
    nb = notebook(md("## S", "c0", ["slide"]),
                  code("x = 1\nprint(x)", "c1", ["slide-more"], [stream("1\n")], source=True),
                  code("y = 2", "c2", ["slide-more"], [stream("2\n")], outputs=False))
    (slide,) = slides_of(nb, markdown)
    shown = "".join(p.html for p in slide.parts)
    assert "x = 1" in shown and "rnnbook-source" in shown
    assert "y = 2" not in shown and ">2\n<" not in shown


@pytest.mark.parametrize("keep, message", [
    ([5], "names no block"), (["1.9"], "has 2 sentences"), ("0", "must be a list")])
def test_bad_keep_is_an_error_that_names_the_cell(markdown, keep, message):
    nb = notebook(md("## S\n\nOne. Two.", "bad", ["slide"], keep=keep))
    with pytest.raises(rs.SlideError, match=message) as err:
        slides_of(nb, markdown)
    assert "bad" in str(err.value)


def test_no_outputs_without_an_executed_notebook(markdown):
    nb = notebook(md("## S", "c0", ["slide"]), code("plot()", "c1", ["slide-more"], [png_output()]))
    (slide,) = slides_of(nb, markdown, executed=False)
    assert all(p.kind == "markdown" for p in slide.parts)


def test_exercises_section_without_solutions(markdown):
    nb = notebook(
        md("## Summary\n\n- a point\n\n## Exercises\n\n1. **First.** Do it.", "c0"),
        code("solution_one()", "c1", ["hide-cell"]),
        md("2. **Second.** Prove it, with $x^2$.", "c2"),
        code("solution_two()", "c3", ["hide-cell"]),
        md("## Further reading\n\nA book.", "c4"))
    parts = rs.collect_exercises(nb, markdown)
    text = "".join(p.html for p in parts)
    assert [p.cell for p in parts] == ["c0", "c2"]
    assert "First." in text and "Second." in text and "x^2" in text
    assert "a point" not in text and "A book" not in text and "solution" not in text


def test_widget_subset_keeps_the_closure_and_its_links():
    box, play, img, link, other, x = "b0", "a1", "1c", "11", "0e", "ff"   # model ids are hex
    state = {"version_major": 2, "version_minor": 0, "state": {
        box: {"model_name": "VBoxModel", "state": {"children": [f"IPY_MODEL_{play}",
                                                                f"IPY_MODEL_{img}"]}},
        play: {"model_name": "PlayModel", "state": {}},
        img: {"model_name": "ImageModel", "state": {}},
        link: {"model_name": "LinkModel", "state": {"source": [f"IPY_MODEL_{play}", "value"],
                                                    "target": [f"IPY_MODEL_{img}", "value"]}},
        other: {"model_name": "VBoxModel", "state": {"children": [f"IPY_MODEL_{x}"]}},
        x: {"model_name": "ImageModel", "state": {}}}}
    sub = rs.widget_subset(state, [box])
    assert set(sub["state"]) == {box, play, img, link}


def test_executed_outputs_come_from_jupyter_execute(tmp_path, markdown):
    nb = notebook(md("## S", "c0", ["slide"]), code("plot()", "c1", ["slide-more"]))
    src = tmp_path / "book" / "99_test.ipynb"
    src.parent.mkdir(parents=True)
    nbformat.write(nb, str(src))
    executed = notebook(md("## S", "c0", ["slide"]),
                        code("plot()", "c1", ["slide-more"], [png_output()]))
    out = tmp_path / "_build" / "jupyter_execute" / "book" / "99_test.ipynb"
    out.parent.mkdir(parents=True)
    nbformat.write(executed, str(out))
    got = rs.executed_notebook(src, "book/99_test", tmp_path / "_build")
    assert got is not None and got.cells[1].outputs
    assert rs.executed_notebook(src, "book/99_test", tmp_path / "elsewhere") is None


# --- the real chapters --------------------------------------------------------------------

CHAPTERS = rs.chapters_from_toc(ROOT)


def _chapter_slides(ch, markdown):
    slides, problems = [], []
    for doc in ch.docs:
        path = ROOT / (doc + ".ipynb")
        if not path.exists():
            continue
        nb = rs._read_nb(path)
        try:
            slides += rs.collect_slides(nb, None, markdown, doc + ".ipynb", lambda raw: "x.png")
        except rs.SlideError as err:
            problems.append(f"{doc}: {err}")
    return slides, problems


def _marked_code(ch):
    cells = []
    for doc in ch.docs:
        path = ROOT / (doc + ".ipynb")
        if path.exists():
            cells += [c for c in rs._read_nb(path).cells if c.cell_type == "code"
                      and {rs.SLIDE_TAG, rs.MORE_TAG} & set(rs._tags(c))]
    return cells


def test_toc_has_eight_chapters_and_chapter_8_has_its_sections():
    assert [c.number for c in CHAPTERS] == list(range(1, 9))
    eight = CHAPTERS[-1]
    assert eight.docname == "book/08_practice" and len(eight.docs) > 1


@pytest.mark.parametrize("ch", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_every_chapter_is_marked_for_a_deck_of_10_to_25_slides(ch, markdown):
    slides, problems = _chapter_slides(ch, markdown)
    assert not problems, "bad slide marks:\n  " + "\n  ".join(problems)
    assert MIN_SLIDES <= len(slides) <= MAX_SLIDES, (
        f"chapter {ch.number} ({ch.name}): {len(slides)} slides marked, want "
        f"{MIN_SLIDES} to {MAX_SLIDES} (tags slide / slide-more, see CONTRIBUTING.md)")
    untitled = [k + 1 for k, s in enumerate(slides) if not s.title]
    assert not untitled, f"chapter {ch.number}: slides without a title: {untitled}"
    empty = [k + 1 for k, s in enumerate(slides) if not s.parts and not s.title_slide]
    marked = {c.id for c in _marked_code(ch)}
    empty = [k for k in empty if not set(slides[k - 1].cells) & marked]
    assert not empty, f"chapter {ch.number}: slides with nothing on them: {empty}"


@pytest.mark.parametrize("ch", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_every_deck_shows_an_animation_and_notes(ch, markdown):
    players = [c for c in _marked_code(ch) if any(
        name in c.source for name in ("frame_player", "animate_trace", "precomputed_explorer",
                                      "render_frames", "player"))]
    assert players, (f"chapter {ch.number}: no slide shows an animation (mark a code cell "
                     "that makes a player with the tag slide or slide-more)")
    slides, _ = _chapter_slides(ch, markdown)
    with_notes = sum(1 for s in slides if s.notes)
    assert with_notes >= len(slides) / 2, (
        f"chapter {ch.number}: only {with_notes} of {len(slides)} slides have speaker notes")


@pytest.mark.parametrize("ch", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_every_chapter_has_exercises_for_its_sheet(ch, markdown):
    found = []
    for doc in ch.docs:
        path = ROOT / (doc + ".ipynb")
        if path.exists():
            found += rs.collect_exercises(rs._read_nb(path), markdown)
    assert len(found) >= 3, f"chapter {ch.number}: {len(found)} exercise prompts found"


def test_lecturer_page_names_slides_that_exist(markdown):
    """The fifty-minute plans in book/lecturer.md cite slides by number: each
    number must be in its chapter's deck, and a slide cited for a live demo
    must show a code cell's output (an animation or explorer)."""
    text = (ROOT / "book" / "lecturer.md").read_text(encoding="utf-8")
    problems = []
    for number, section in re.findall(r"^### Chapter (\d+):.*?\n(.*?)(?=^### |\Z)", text, re.M | re.S):
        ch = CHAPTERS[int(number) - 1]
        slides, _ = _chapter_slides(ch, markdown)
        marked = {c.id for c in _marked_code(ch)}
        for a, b in re.findall(r"\bslides?\s+(\d+)(?:-(\d+))?", section):
            for k in (int(a), int(b or a)):
                if not 1 <= k <= len(slides):
                    problems.append(f"chapter {number}: slide {k} (the deck has {len(slides)})")
        for k in re.findall(r"Live demo:\*\s+slide\s+(\d+)", section):
            k = int(k)
            if 1 <= k <= len(slides) and not set(slides[k - 1].cells) & marked:
                problems.append(f"chapter {number}: live demo on slide {k}, which has no "
                                "code cell (animation)")
    assert not problems, "book/lecturer.md: " + "; ".join(problems)
