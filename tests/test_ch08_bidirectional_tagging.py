"""Tests for rnnlib.chapters.ch08_bidirectional_tagging and the tasks it uses
(rnnlib.data.tasks.appears_again, appears_again_ceiling, future_token)."""

import itertools

import numpy as np
import pytest

import rnnlib as rl
from rnnlib.chapters import ch08_bidirectional_tagging as ch
from rnnlib.data import tasks


def _spec(bi=True, K=3, vocab=4, H=5):
    return rl.ModelSpec(cell="rnn", input="embedding", vocab=vocab, D=3, H=H, K=K,
                        bidirectional=bi)


def test_appears_again_by_hand():
    x, y = tasks.appears_again(50, 9, 4, np.random.default_rng(0))
    for n in range(50):
        for t in range(9):
            assert y[n, t] == int(x[n, t] in x[n, t + 1:])
    assert np.all(y[:, -1] == 0)


def test_appears_again_ceiling_matches_enumeration():
    T, K = 4, 3
    seqs = np.array(list(itertools.product(range(K), repeat=T)))
    y = np.array([[int(s[t] in s[t + 1:]) for t in range(T)] for s in seqs])
    p = y.mean(axis=0)                            # exact P(y_t = 1)
    assert np.isclose(np.mean(np.maximum(p, 1 - p)), tasks.appears_again_ceiling(T, K))


@pytest.mark.parametrize("k", [-3, 0, 2])
def test_future_token(k):
    x, y = tasks.future_token(5, 7, k, 4, np.random.default_rng(1))
    assert x.shape == y.shape == (5, 7)
    for t in range(7):
        if 0 <= t + k < 7:
            assert np.array_equal(y[:, t], x[:, t + k])
    with pytest.raises(TypeError, match="k"):
        tasks.future_token(5, 7, 1.5, 4, np.random.default_rng(1))
    with pytest.raises(ValueError, match="n_tokens"):
        tasks.future_token(5, 7, k, 1, np.random.default_rng(1))


def test_param_count_and_matched_hidden():
    bi = _spec(H=16, K=2, vocab=6)
    assert ch.param_count(bi) == 6 * 3 + 2 * (16 * 3 + 16 * 16 + 16) + 2 * (32 + 1)
    H = ch.matched_hidden(bi)
    uni = _spec(bi=False, H=H, K=2, vocab=6)
    for other in (H - 1, H + 1):
        worse = _spec(bi=False, H=other, K=2, vocab=6)
        assert (abs(ch.param_count(uni) - ch.param_count(bi))
                <= abs(ch.param_count(worse) - ch.param_count(bi)))
    with pytest.raises(ValueError, match="spec_bi"):
        ch.matched_hidden(uni)


def test_influence_one_way_is_causal():
    x = np.random.default_rng(0).integers(0, 4, size=(6, 8))
    for bi in (False, True):
        spec = _spec(bi=bi)
        params = rl.init_model(spec, np.random.default_rng(2))
        d = ch.influence(params, spec, x, t=3)
        assert np.all(d[:4] > 0)
        assert np.all(d[4:] == 0) if not bi else np.all(d[4:] > 0)
    with pytest.raises(ValueError, match="t"):
        ch.influence(params, spec, x, t=8)


def test_directions_and_forward_half():
    spec = _spec()
    params = rl.init_model(spec, np.random.default_rng(0))
    x = np.random.default_rng(1).integers(0, 4, size=(3, 6))
    h_fw, h_bw, p = ch.directions(params, spec, x)
    h, _ = rl.bidirectional_forward(params["embed"]["E"][x], params["rnn_fw"],
                                    params["rnn_bw"], "rnn")
    assert np.allclose(np.concatenate([h_fw, h_bw], 2), h, rtol=1e-13)
    assert np.allclose(p.sum(-1), 1)
    y = np.random.default_rng(2).integers(0, 3, size=(3, 6))
    V, c = params["out"]["V"], params["out"]["c"]
    logits = h_fw @ V[:, :5].T + c
    lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.mean(np.take_along_axis(lp, y[..., None], -1))
    assert np.isclose(ch.forward_half_nll(params, spec, x, y), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="spec"):
        ch.directions(params, _spec(bi=False), x)


def test_left_to_right_equals_teacher_forced_for_one_way():
    spec = _spec(bi=False, K=4)
    params = rl.init_model(spec, np.random.default_rng(0))
    P = ch.markov_chain(4, np.random.default_rng(1))
    x, y = ch.markov_sequences(10, 7, P, np.random.default_rng(2))
    assert np.isclose(ch.left_to_right_nll(params, spec, x, y).mean(),
                      ch.teacher_forced_nll(params, spec, x, y), rtol=1e-12)
    assert np.isclose(ch.total_probability(params, spec, 0, 3), 1.0, rtol=1e-12)
    bi = _spec(bi=True, K=4)
    pb = rl.init_model(bi, np.random.default_rng(0))
    assert not np.isclose(ch.left_to_right_nll(pb, bi, x, y).mean(),
                          ch.teacher_forced_nll(pb, bi, x, y))
    seq = ch.sample_left_to_right(params, spec, x[:, 0], 5, np.random.default_rng(3))
    assert seq.shape == (10, 6) and np.array_equal(seq[:, 0], x[:, 0])


def test_markov_chain_and_entropy_rate():
    P = ch.markov_chain(3, np.random.default_rng(0), concentration=0.5)
    assert np.allclose(P.sum(1), 1)
    x, y = ch.markov_sequences(4000, 30, P, np.random.default_rng(1))
    assert np.array_equal(x[:, 1:], y[:, :-1])
    seq = np.concatenate([x[:, :1], y], axis=1)
    empirical = -ch.chain_log_prob(seq, P).mean()
    assert abs(empirical - ch.entropy_rate(P)) < 0.02
    # a deterministic cycle has entropy rate 0
    cycle = np.roll(np.eye(3), 1, axis=1)
    assert abs(ch.entropy_rate(cycle)) < 1e-12
    with pytest.raises(ValueError, match="concentration"):
        ch.markov_chain(3, np.random.default_rng(0), concentration=0)


def test_train_tagger_learns_offset_zero():
    spec = _spec(bi=False, K=4, H=8)
    params, hist = ch.train_tagger(spec, lambda n, r: tasks.future_token(n, 6, 0, 4, r),
                                   seed=0, steps=150, lr=0.05)
    x, y = tasks.future_token(200, 6, 0, 4, np.random.default_rng(9))
    assert ch.tag_accuracy(params, spec, x, y) > 0.9
    assert ch.accuracy_by_position(params, spec, x, y).shape == (6,)
    with pytest.raises(TypeError, match="make_batch"):
        ch.train_tagger(spec, None, seed=0)
