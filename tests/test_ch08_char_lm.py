"""Section 8.2's helpers (rnnlib.chapters.ch08_char_lm), the generated structured
text of rnnlib.data.text and the coloured-text HTML of rnnlib.viz.text."""

from __future__ import annotations

import re

import numpy as np
import pytest

import rnnlib as rl
from rnnlib import viz
from rnnlib.chapters import ch08_char_lm as chapter
from rnnlib.data.text import structure_labels, structured_text


def rng(seed=0):
    return np.random.default_rng(seed)


# --- generated text ----------------------------------------------------------------

def test_structured_text_is_deterministic_and_well_formed():
    text = structured_text(300, rng(1))
    assert text == structured_text(300, rng(1)) != structured_text(300, rng(2))
    lines = text.split("\n")[:-1]
    assert len(lines) == 300 and text.endswith(".\n")
    bracket_words, quote_words = set(rl.data.text.SYNTHETIC_WORDS[:6]), \
        set(rl.data.text.SYNTHETIC_WORDS[6:12])
    for line in lines:
        assert line.endswith(".") and line.count("(") == line.count(")") <= 1
        assert line.count('"') in (0, 2)
        for group in re.findall(r"\(([^)]*)\)", line):
            assert "," not in group and set(group.split()) <= bracket_words
            assert 2 <= len(group.split()) <= 5
        for group in re.findall(r'"([^"]*)"', line):
            assert "," not in group and set(group.split()) <= quote_words
    assert set(text) == set(chapter.STRUCTURED_VOCAB.chars)


def test_structure_labels_by_hand():
    text = 'ab (c d), "e" f.\ng, h.\n'
    lab = structure_labels(text)
    mark = lambda key: "".join("^" if v else "." for v in lab[key])   # noqa: E731
    assert mark("in_brackets") == "...^^^^................"
    assert mark("in_quotes") == "..........^^..........."
    assert mark("first_word") == "^^...............^....."
    assert mark("after_comma") == "........^^^^^.....^^^^."
    assert lab["line_pos"].tolist() == list(range(1, 17)) + [0] + list(range(1, 6)) + [0]
    assert lab["word_index"][:9].tolist() == [0, 0, 1, 1, 1, 2, 2, 2, 2]


def test_structure_labels_quotes_of_generated_text_alternate():
    text = structured_text(50, rng(3))
    lab = structure_labels(text)
    quotes = np.flatnonzero(np.array(list(text)) == '"')
    # an opening quote switches the state on, the closing one off
    assert lab["in_quotes"][quotes[0::2]].all() and not lab["in_quotes"][quotes[1::2]].any()
    assert not lab["in_brackets"][np.array(list(text)) == "\n"].any()


@pytest.mark.parametrize("call,exc,name", [
    (lambda: structured_text(0, rng()), ValueError, "n_lines"),
    (lambda: structured_text(3, None), TypeError, "rng"),
    (lambda: structured_text(3, rng(), words=("Thy",)), ValueError, "words"),
    (lambda: structured_text(3, rng(), bracket_words=()), ValueError, "bracket_words"),
    (lambda: structured_text(3, rng(), line_words=(5, 2)), ValueError, "line_words"),
    (lambda: structured_text(3, rng(), p_quote=1.5), ValueError, "p_quote"),
    (lambda: structure_labels(""), ValueError, "text"),
    (lambda: structure_labels(b"ab"), TypeError, "text"),
])
def test_structured_text_bad_input(call, exc, name):
    with pytest.raises(exc, match=name):
        call()


# --- baselines and measures -----------------------------------------------------------

def test_ngram_bits():
    ids = np.arange(8).repeat(50)                 # uniform unigram over K = 8
    assert np.isclose(chapter.ngram_bits(ids, ids, 8, alpha=1e-9), 3.0)
    # bigram of a cycle 0 1 2 0 1 2 ...: next character is certain
    cyc = np.tile(np.arange(3), 200)
    assert chapter.ngram_bits(cyc, cyc, 3, order=2, alpha=1e-9) < 1e-6
    with pytest.raises(ValueError, match="order"):
        chapter.ngram_bits(cyc, cyc, 3, order=3)
    with pytest.raises(ValueError, match="val_ids"):
        chapter.ngram_bits(cyc, np.array([0, 5]), 3)


def test_split_text_cuts_at_a_blank_line():
    text = rl.data.load_corpus("sonnets")
    train, val = chapter.split_text(text)
    assert train + val == text and train.endswith("\n\n")
    assert 0.09 < len(val) / len(text) < 0.1
    with pytest.raises(ValueError, match="val_share"):
        chapter.split_text(text, 1.0)


@pytest.fixture(scope="module")
def small_model():
    text = structured_text(60, rng(4))
    ids = chapter.STRUCTURED_VOCAB.encode(text)
    out = chapter.train_char_lm(ids, chapter.STRUCTURED_VOCAB.size, seed=3, H=8, D=4,
                                T=16, steps=6, checkpoints=(0, 3, 6))
    return ids, out


def test_checkpoints_are_copies_taken_inside_one_run(small_model):
    ids, (params, spec, history, snaps) = small_model
    init = rl.init_model(spec, np.random.default_rng([3, 0]))
    flat = rl.model.flatten_params
    assert sorted(snaps) == [0, 3, 6] and history["steps"] == 6
    for k, v in flat(init).items():
        assert np.array_equal(flat(snaps[0])[k], v)
        assert np.array_equal(flat(snaps[6])[k], flat(params)[k])
        assert not np.array_equal(flat(snaps[3])[k], v) or k.endswith("b")
    with pytest.raises(ValueError, match="checkpoints"):
        chapter.train_char_lm(ids, spec.K, seed=0, H=4, D=2, T=8, steps=2, checkpoints=(5,))


def test_log_probs_match_the_step_function(small_model):
    ids, (params, spec, _, _) = small_model
    ids = ids[:40]
    lp = chapter.log_probs(params, spec, ids)
    step_fn = rl.make_step_fn(params, spec)
    state = rl.initial_state(spec, 1)
    by_step = []
    for t in range(len(ids) - 1):
        logp, state = step_fn(ids[t:t + 1], state)
        by_step.append(logp[0, ids[t + 1]])
    assert np.allclose(lp, by_step, atol=1e-5)
    # two pieces: each restarts from a zero state
    lp2 = chapter.log_probs(params, spec, ids[:39], pieces=2)    # 2 x 19
    assert np.allclose(lp2[:19], lp[:19], atol=1e-6)
    assert not np.allclose(lp2[19:], lp[19:38], atol=1e-6)
    assert np.isclose(chapter.bits_per_char(params, spec, ids), -lp.mean() / np.log(2))


def test_bits_by_context(small_model):
    ids, (params, spec, _, _) = small_model
    bits = chapter.bits_by_context(params, spec, ids[:200], T=10, stride=5)
    assert bits.shape == (10,)
    # position 0 of every window: the model has read one character from a zero state
    starts = np.arange(0, 200 - 11, 5)
    first = [chapter.log_probs(params, spec, ids[s:s + 2])[0] for s in starts]
    assert np.isclose(bits[0], -np.mean(first) / np.log(2), atol=1e-5)


def test_hidden_run_and_sampling(small_model):
    ids, (params, spec, _, _) = small_model
    trace = chapter.hidden_run(params, spec, ids[:30])
    assert set(trace) == {"h", "c"} and trace["c"].shape == (30, 8)
    vocab = chapter.STRUCTURED_VOCAB
    a = chapter.sample_text(params, spec, vocab, "thy ", 25, 0.8, rng(5))
    assert a == chapter.sample_text(params, spec, vocab, "thy ", 25, 0.8, rng(5))
    sample, bits = a
    # the surprisal is the untempered model's, on the sampled characters
    lp = chapter.log_probs(params, spec, vocab.encode("thy " + sample))[3:]
    assert np.isclose(bits, -lp.mean() / np.log(2), atol=1e-4)


def test_tempered_and_sample_stats():
    p = np.array([0.5, 0.3, 0.2])
    assert np.allclose(chapter.tempered(p, 1.0), p)
    assert chapter.tempered(p, 0.01)[0] > 0.999
    assert np.allclose(chapter.tempered(p, 1e6), 1 / 3, atol=1e-5)
    s = chapter.sample_stats("Thy love, thy love' zzq", {"thy", "love"})
    assert s == {"real_words": 0.8, "distinct": 0.6, "n_words": 5}


def test_unit_statistics():
    g = rng(6)
    states = g.standard_normal((500, 4))
    y = states[:, 2] + 0.5 * g.standard_normal(500)
    r = chapter.unit_correlations(states, y)
    assert np.allclose(r, [np.corrcoef(states[:, j], y)[0, 1] for j in range(4)])
    assert chapter.unit_correlations(np.ones((5, 2)), np.arange(5.0)).tolist() == [0, 0]
    on = states[:, 1] < -0.3                          # a unit that separates exactly
    thr, sign, acc = chapter.fit_threshold(states[:, 1], on)
    assert sign == -1 and acc == 1.0 and -0.4 < thr < -0.2
    assert chapter.threshold_accuracy(states[:, 1], on, thr, sign) == 1.0
    assert chapter.threshold_accuracy(states[:, 1], on, 100.0, 1) == 0.5   # constant
    rep = chapter.unit_report(states[:250], on[:250], states[250:], on[250:])
    assert rep["unit"] == 1 and rep["accuracy"] > 0.95
    with pytest.raises(ValueError, match="indicator"):
        chapter.fit_threshold(states[:, 0], np.zeros(500, bool))
    with pytest.raises(ValueError, match="target"):
        chapter.unit_correlations(states, y[:10])


# --- coloured text -------------------------------------------------------------------

def test_colored_text_html():
    html = viz.colored_text_html("a<b\nc", np.array([1.0, 0.0, -1.0, 0.5, 0.2]))
    assert "&lt;" in html and "\u21b5" in html and "pre-wrap" in html
    assert html.count("<span") == 5
    same = viz.colored_text_html("aaaa", np.zeros(4))
    assert same.count("<span") == 1                   # one run, one span
    with pytest.raises(ValueError, match="values"):
        viz.colored_text_html("ab", np.zeros(3))
    with pytest.raises(ValueError, match="vmax"):
        viz.colored_text_html("ab", np.zeros(2), vmin=1.0, vmax=0.0)


def test_spans_html():
    html = viz.spans_html("hello world", [(6, 11), (0, 2)], kinds=[1, 0])
    assert html.count("<span") == 2 and ">he</span>" in html and ">world</span>" in html
    with pytest.raises(ValueError, match="overlap"):
        viz.spans_html("hello world", [(0, 5), (3, 8)])
    with pytest.raises(ValueError, match="spans"):
        viz.spans_html("hello", [(2, 9)])
