"""Section 8.3's helpers (rnnlib.chapters.ch08_state_explorer): selection, matches
and precision on small hand-made state arrays, and the snippets HTML."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlib import viz
from rnnlib.chapters import ch08_char_lm
from rnnlib.chapters import ch08_state_explorer as chapter


def states_with_blocks():
    """(20, 3) states: unit 0 on at 2-5 and 10-14, unit 1 on at 2-5 and 16-18,
    unit 2 always on."""
    s = np.zeros((20, 3))
    s[2:6, 0] = s[10:15, 0] = 1.0
    s[2:6, 1] = s[16:19, 1] = 1.0
    s[:, 2] = 1.0
    return s


def test_reuses_the_training_function_of_8_2():
    assert chapter.train_structured_lm is ch08_char_lm.train_structured_lm
    assert chapter.STRUCTURED_VOCAB is ch08_char_lm.STRUCTURED_VOCAB


def test_signed_units_and_names():
    g = np.random.default_rng(0)
    s = g.standard_normal((50, 3)) * [1.0, 10.0, 0.1] + 5.0
    s[:, 2] = 3.0                                   # a constant unit
    u = chapter.signed_units(s)
    assert u.shape == (50, 6)
    assert np.allclose(u[:, :2].mean(axis=0), 0) and np.allclose(u[:, :2].std(axis=0), 1)
    assert np.array_equal(u[:, 3:], -u[:, :3]) and np.all(u[:, 2] == 0)
    assert chapter.unit_names([0, 4], 3) == ["+0", "-1"]


def test_on_units_and_off_before():
    s = states_with_blocks()
    assert chapter.on_units(s, (2, 6), 0.5, off_before=False).tolist() == [0, 1, 2]
    # unit 2 is on all the time: not switched on by the span
    assert chapter.on_units(s, (2, 6), 0.5).tolist() == [0, 1]
    assert chapter.on_units(s, (1, 6), 0.5, off_before=False).tolist() == [2]
    with pytest.raises(ValueError, match="span"):
        chapter.on_units(s, (5, 2), 0.5)


def test_match_spans_ranks_exact_sets_first():
    s = states_with_blocks()
    m = chapter.match_spans(s, np.array([0]), 0.5, exclude=(2, 6))
    assert [x["span"] for x in m] == [(10, 15)]
    # units 0 and 1 together: only the selection itself, excluded
    assert chapter.match_spans(s, np.array([0, 1]), 0.5, exclude=(2, 6)) == []
    # with half of them enough, both blocks match; the score counts extra units
    m = chapter.match_spans(s, np.array([0, 1]), 0.5, exclude=(2, 6), min_share=0.5)
    assert [x["span"] for x in m] == [(10, 15), (16, 19)]
    assert all(x["score"] == 1 - 1 and x["extra"] == 1 for x in m)   # unit 2 is extra
    assert chapter.match_spans(s, np.array([0]), 0.5, min_length=6) == []
    with pytest.raises(ValueError, match="units"):
        chapter.match_spans(s, np.array([3]), 0.5)
    with pytest.raises(ValueError, match="min_share"):
        chapter.match_spans(s, np.array([0]), 0.5, min_share=1.5)


def test_precision_and_explore():
    s = states_with_blocks()
    ind = np.zeros(20, bool)
    ind[2:6] = ind[10:13] = True                    # 3 of the 5 characters of 10-14
    r = chapter.explore(s, (2, 6), ind, 0.5, min_length=2, off_before=True)
    assert r["units"].tolist() == [0, 1] and r["matches"] == []
    assert np.isnan(r["precision"]) and r["selection_share"] == 1.0
    m = chapter.match_spans(s, np.array([0, 1]), 0.5, exclude=(2, 6), min_share=0.5)
    assert chapter.structure_precision(m, ind) == 0.5        # (10, 15) yes, (16, 19) no
    assert chapter.span_share((10, 15), ind) == 0.6
    assert np.isnan(chapter.structure_precision([], ind))
    g = np.random.default_rng(1)
    p = chapter.random_unit_precision(s, 1, 0.5, ind, g, draws=5, min_length=2)
    assert 0 <= p <= 1
    assert np.isnan(chapter.mean_defined([np.nan])) and chapter.mean_defined([1, np.nan, 0]) == 0.5


def test_find_span_and_word_indicator():
    ind = np.array([0, 1, 1, 0, 1, 0, 1, 1, 1], bool)
    assert chapter.find_span(ind, 0) == (1, 3) and chapter.find_span(ind, 1) == (6, 9)
    assert chapter.find_span(ind, 1, min_length=1) == (4, 5)
    with pytest.raises(ValueError, match="k"):
        chapter.find_span(ind, 2)
    w = chapter.word_indicator("thee, thee and theed", "thee")
    assert w.astype(int).tolist() == [1] * 4 + [0, 0] + [1] * 4 + [0] * 10
    with pytest.raises(ValueError, match="word"):
        chapter.word_indicator("abc", "a b")


def test_snippets_html():
    html = viz.snippets_html("one two\nthree four", [(4, 7), (8, 13)], context=2)
    assert html.count("<span") == 2 and "\u21b5" in html and " 1. " in html
    with pytest.raises(ValueError, match="context"):
        viz.snippets_html("abc", [(0, 1)], context=-1)
    with pytest.raises(ValueError, match="spans"):
        viz.snippets_html("abc", [(2, 5)])
