"""Greedy decoding, sampling and beam search, checked against enumeration."""

import itertools

import numpy as np
import pytest

from rnnlib.generate import (beam_search, greedy_decode, initial_state, log_softmax_rows,
                             make_step_fn, sample_sequence, take_state)
from rnnlib.model import ModelSpec, flatten_params, init_model, model_forward, unflatten_params

K = 5


def _model(cell="gru", seed=0, scale=1.5, norm=None):
    spec = ModelSpec(cell=cell, input="embedding", vocab=K, D=4, H=6, K=K, norm=norm)
    rng = np.random.default_rng(seed)
    params = init_model(spec, rng)
    # larger weights give peaked, varied distributions (a harder test for beams)
    params = unflatten_params({k: scale * v + 0.2 * rng.standard_normal(v.shape)
                               for k, v in flatten_params(params).items()})
    return spec, params


def _all_sequence_scores(step_fn, spec, start, L):
    """Log-probability of every one of the K**L sequences, by brute force."""
    seqs = np.array(list(itertools.product(range(K), repeat=L)))          # (K**L, L)
    B = len(seqs)
    state = initial_state(spec, B)
    tokens = np.full(B, start)
    total = np.zeros(B)
    for t in range(L):
        lp, state = step_fn(tokens, state)
        total += lp[np.arange(B), seqs[:, t]]
        tokens = seqs[:, t]
    return seqs, total


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_step_fn_matches_model_forward(cell):
    spec, params = _model(cell, seed=1, scale=1.0, norm="layer")
    rng = np.random.default_rng(2)
    ids = rng.integers(0, K, size=(3, 7))
    logits, _ = model_forward(params, ids, spec)
    step_fn = make_step_fn(params, spec)
    state = initial_state(spec, 3)
    for t in range(7):
        lp, state = step_fn(ids[:, t], state)
        np.testing.assert_allclose(lp, log_softmax_rows(logits[:, t]), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.exp(lp).sum(axis=1), 1.0, rtol=1e-13)


def test_step_fn_for_dense_one_hot_model():
    spec = ModelSpec(cell="rnn", input="dense", D=K, H=6, K=K)
    params = init_model(spec, np.random.default_rng(3))
    ids = np.array([[0, 3, 1, 4]])
    logits, _ = model_forward(params, np.eye(K)[ids], spec)
    step_fn = make_step_fn(params, spec)
    state = initial_state(spec, 1)
    for t in range(4):
        lp, state = step_fn(ids[:, t], state)
        np.testing.assert_allclose(lp, log_softmax_rows(logits[:, t]), atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_beam_width_one_is_greedy(cell):
    spec, params = _model(cell, seed=4)
    step_fn = make_step_fn(params, spec)
    tokens, lp = greedy_decode(step_fn, initial_state(spec, 1), 0, 8)
    seqs, scores, tree = beam_search(step_fn, initial_state(spec, 1), 0, 8, width=1)
    assert len(seqs) == 1
    np.testing.assert_array_equal(seqs[0], tokens[0])
    assert scores[0] == pytest.approx(lp[0], abs=1e-12)
    assert tree["kept"].sum() == 1 + 8                     # the root and one node per step


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_beam_width_vocab_two_steps_is_exact(seed):
    spec, params = _model("lstm", seed=seed)
    step_fn = make_step_fn(params, spec)
    seqs_all, scores_all = _all_sequence_scores(step_fn, spec, start=1, L=2)
    seqs, scores, _ = beam_search(step_fn, initial_state(spec, 1), 1, 2, width=K)
    order = np.argsort(-scores_all)[:K]                    # width K keeps the K best of K**2
    np.testing.assert_array_equal(np.array(seqs), seqs_all[order])
    np.testing.assert_allclose(scores, scores_all[order], atol=1e-12)


def test_beam_finds_most_likely_sequence_by_enumeration():
    spec, params = _model("gru", seed=8)
    step_fn = make_step_fn(params, spec)
    L = 4
    seqs_all, scores_all = _all_sequence_scores(step_fn, spec, start=2, L=L)
    best = seqs_all[np.argmax(scores_all)]
    # width K on a short horizon finds the exact most likely sequence here ...
    seqs, scores, _ = beam_search(step_fn, initial_state(spec, 1), 2, L, width=K)
    np.testing.assert_array_equal(seqs[0], best)
    assert scores[0] == pytest.approx(scores_all.max(), abs=1e-12)
    # ... and a beam holding every prefix (width K**(L-1)) is exact in general
    seqs, scores, _ = beam_search(step_fn, initial_state(spec, 1), 2, L, width=K ** (L - 1))
    top = np.argsort(-scores_all)[:K ** (L - 1)]
    np.testing.assert_allclose(scores, scores_all[top], atol=1e-12)
    # greedy is worse than (or as good as) the exact optimum
    _, g = greedy_decode(step_fn, initial_state(spec, 1), 2, L)
    assert g[0] <= scores_all.max() + 1e-12


def test_beam_tree_records_every_expansion():
    spec, params = _model("rnn", seed=9)
    step_fn = make_step_fn(params, spec)
    width, steps = 3, 5
    seqs, scores, tree = beam_search(step_fn, initial_state(spec, 1), 0, steps, width=width)
    n = len(tree["parent"])
    assert n == 1 + K + (steps - 1) * width * K             # root, then K per live beam per step
    assert tree["parent"][0] == -1 and tree["step"][0] == 0 and tree["kept"][0]
    child = np.arange(1, n)
    par = tree["parent"][child]
    assert np.all(tree["step"][child] == tree["step"][par] + 1)
    assert np.all(tree["kept"][par])                        # only kept nodes were expanded
    for t in range(1, steps + 1):
        assert tree["kept"][tree["step"] == t].sum() == width
    # cumulative log-probs grow by the step's log-probability (<= 0)
    assert np.all(tree["log_prob"][child] <= tree["log_prob"][par] + 1e-15)
    # the returned sequences are paths of kept nodes, in order of score
    assert np.all(np.diff(scores) <= 0)
    leaves = np.flatnonzero((tree["step"] == steps) & tree["kept"])
    np.testing.assert_allclose(np.sort(tree["log_prob"][leaves])[::-1], scores)
    for seq, sc in zip(seqs, scores):
        node = leaves[np.argmin(np.abs(tree["log_prob"][leaves] - sc))]
        path = []
        while node > 0:
            path.append(tree["token"][node])
            node = tree["parent"][node]
        np.testing.assert_array_equal(path[::-1], seq)


def test_beam_end_token_finishes_beams():
    spec, params = _model("gru", seed=10)
    step_fn = make_step_fn(params, spec)
    end = 3
    seqs, scores, tree = beam_search(step_fn, initial_state(spec, 1), 0, 6, width=3, end_token=end)
    fin = tree["finished"]
    assert not np.any(fin[tree["parent"][1:]])             # finished nodes are never expanded
    for s in seqs:
        assert end not in s[:-1]                           # the end token can only come last
    assert np.all(np.diff(scores) <= 0)
    assert any(s[-1] == end for s in seqs) or all(len(s) == 6 for s in seqs)


def test_temperature_to_zero_and_top_k_one_are_greedy():
    spec, params = _model("lstm", seed=11)
    step_fn = make_step_fn(params, spec)
    B = 6
    start = np.arange(B) % K
    greedy, lp_g = greedy_decode(step_fn, initial_state(spec, B), start, 10)
    cold, lp_c = sample_sequence(step_fn, initial_state(spec, B), start, 10, temperature=1e-3,
                                 rng=np.random.default_rng(0))
    np.testing.assert_array_equal(cold, greedy)
    np.testing.assert_allclose(lp_c, lp_g, atol=1e-12)
    top1, _ = sample_sequence(step_fn, initial_state(spec, B), start, 10, temperature=2.0,
                              top_k=1, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(top1, greedy)


def test_sampling_frequencies_follow_the_distribution():
    p = np.array([0.5, 0.25, 0.15, 0.1, 0.0])
    with np.errstate(divide="ignore"):
        logp = np.log(p)

    def step_fn(tokens, state):
        return np.tile(logp, (len(tokens), 1)), state

    B = 40000
    tok, _ = sample_sequence(step_fn, np.zeros((B, 1)), 0, 1, rng=np.random.default_rng(12))
    freq = np.bincount(tok[:, 0], minlength=5) / B
    assert np.all(np.abs(freq - p) < 4 * np.sqrt(p * (1 - p) / B) + 1e-12)
    assert freq[4] == 0                                     # zero probability never drawn
    # temperature 2 flattens: p^(1/2) normalised
    tok, _ = sample_sequence(step_fn, np.zeros((B, 1)), 0, 1, temperature=2.0,
                             rng=np.random.default_rng(13))
    q = np.sqrt(p) / np.sqrt(p).sum()
    freq = np.bincount(tok[:, 0], minlength=5) / B
    assert np.all(np.abs(freq - q) < 4 * np.sqrt(q * (1 - q) / B) + 1e-12)
    # top-2 keeps only the two likeliest, renormalised
    tok, _ = sample_sequence(step_fn, np.zeros((B, 1)), 0, 1, top_k=2,
                             rng=np.random.default_rng(14))
    assert set(np.unique(tok)) == {0, 1}
    assert abs(np.mean(tok == 0) - 2 / 3) < 4 * np.sqrt(2 / 9 / B)


def test_sampling_is_reproducible_with_the_same_rng():
    spec, params = _model("gru", seed=15)
    step_fn = make_step_fn(params, spec)
    a, _ = sample_sequence(step_fn, initial_state(spec, 2), 0, 12, rng=np.random.default_rng(3))
    b, _ = sample_sequence(step_fn, initial_state(spec, 2), 0, 12, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_take_state_nested():
    state = {"h": np.arange(6).reshape(3, 2), "pair": (np.arange(3), [np.arange(3) * 2]), "x": None}
    out = take_state(state, np.array([2, 0]))
    np.testing.assert_array_equal(out["h"], [[4, 5], [0, 1]])
    np.testing.assert_array_equal(out["pair"][1][0], [4, 0])
    assert out["x"] is None


def test_bad_input():
    spec, params = _model("gru", seed=16)
    step_fn = make_step_fn(params, spec)
    s1 = initial_state(spec, 1)
    rng = np.random.default_rng(0)
    for t in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="temperature"):
            sample_sequence(step_fn, s1, 0, 3, temperature=t, rng=rng)
    with pytest.raises(ValueError, match="top_k"):
        sample_sequence(step_fn, s1, 0, 3, top_k=0, rng=rng)
    with pytest.raises(TypeError, match="rng"):
        sample_sequence(step_fn, s1, 0, 3, rng=None)
    with pytest.raises(ValueError, match="width"):
        beam_search(step_fn, s1, 0, 3, width=0)
    with pytest.raises(ValueError, match="steps"):
        greedy_decode(step_fn, s1, 0, 0)
    with pytest.raises(ValueError, match="steps"):
        beam_search(step_fn, s1, 0, -2, width=2)
    with pytest.raises(ValueError, match="ids|token"):
        greedy_decode(step_fn, s1, K, 3)                    # start token out of range
    with pytest.raises(ValueError, match="ids|token"):
        beam_search(step_fn, s1, -1, 3, width=2)
    with pytest.raises(ValueError, match="end_token"):
        beam_search(step_fn, s1, 0, 3, width=2, end_token=K + 2)
    with pytest.raises(ValueError, match="state"):
        beam_search(step_fn, initial_state(spec, 2), 0, 3, width=2)
    bi = ModelSpec(cell="gru", input="embedding", vocab=K, D=4, H=6, K=K, bidirectional=True)
    with pytest.raises(ValueError, match="bidirectional"):
        make_step_fn({}, bi)


def test_length_normalisation_favours_longer_hypotheses():
    """score / L^alpha: with alpha = 1 the two-token answer outranks the one-token one.

    From the start token the model gives p(end) = 0.5, p(a) = 0.45; after "a",
    p(end) = 0.95. Sums: [end] = log 0.5 = -0.69, [a, end] = log 0.45 + log 0.95
    = -0.85, so the plain sum picks the short one; per token, -0.69 vs -0.43.
    """
    table = {0: np.log([0.05, 0.45, 0.5]), 1: np.log([0.01, 0.04, 0.95])}

    def step_fn(tokens, state):
        return np.stack([table[int(t)] for t in tokens]), state

    plain, lp_plain, _ = beam_search(step_fn, None, 0, 3, width=2, end_token=2)
    normed, lp_normed, tree = beam_search(step_fn, None, 0, 3, width=2, end_token=2, alpha=1.0)
    assert [s.tolist() for s in plain] == [[2], [1, 2]]
    assert [s.tolist() for s in normed] == [[1, 2], [2]]
    np.testing.assert_allclose(lp_normed, [np.log(0.45 * 0.95), np.log(0.5)])   # raw sums
    best = tree["finished"] & tree["kept"]
    np.testing.assert_allclose(sorted(tree["normalized"][best]),
                               sorted([np.log(0.45 * 0.95) / 2, np.log(0.5)]))
    # alpha = 0 is the plain sum, and alpha may not be negative
    same, _, _ = beam_search(step_fn, None, 0, 3, width=2, end_token=2, alpha=0.0)
    assert [s.tolist() for s in same] == [s.tolist() for s in plain]
    with pytest.raises(ValueError, match="alpha: expected a number >= 0.0, got -1"):
        beam_search(step_fn, None, 0, 3, width=2, alpha=-1)
