"""Tests for rnnlib.chapters.ch06_batch_norm: the batch-norm MLP and the LSTM measurements."""

import numpy as np
import pytest

from rnnlib.affine import affine_backward, affine_forward
from rnnlib.chapters.ch06_batch_norm import (accuracy, bn_rnn_grad_norms, evaluate_mlp, hidden_state_grad_norms,
                                             init_mlp, mlp_backward, mlp_forward, mlp_loss,
                                             norm_lstm_logits, population_stats,
                                             recurrent_term_stats, train_mlp)
from rnnlib.gradcheck import check_gradients, numerical_gradient, rel_error
from rnnlib.init import init_affine, init_lstm, init_rnn
from rnnlib.losses import softmax_cross_entropy
from rnnlib.lstm import lstm_backward, lstm_forward
from rnnlib.lstm_norm import init_lstm_norm, lstm_norm_backward, lstm_norm_forward

SIZES = (5, 7, 6, 3)


def _mlp_pair(activation, noise=None):
    def forward(x, params):
        logits, _, cache = mlp_forward(x, params, activation=activation, noise=noise)
        return logits, cache

    def backward(dlogits, cache):
        return mlp_backward(dlogits, cache)   # parameters only (no input gradient)
    return forward, backward


@pytest.mark.parametrize("bn", [False, True])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_mlp_gradients(bn, activation):
    rng = np.random.default_rng(0)
    params = init_mlp(SIZES, rng, bn=bn)
    for k in params:                                    # non-trivial gains and shifts
        if k.startswith(("gamma", "beta", "b")):
            params[k] = params[k] + rng.uniform(0.2, 0.8, params[k].shape)
    x = rng.standard_normal((9, SIZES[0]))
    fwd, bwd = _mlp_pair(activation)
    errors = check_gradients(lambda params: fwd(x, params), bwd, {}, params, rng)
    assert max(errors.values()) < 1e-7, errors


def test_mlp_gradients_with_noise():
    rng = np.random.default_rng(1)
    params = init_mlp(SIZES, rng, bn=True)
    x = rng.standard_normal((8, SIZES[0]))
    noise = [(1 + 0.3 * rng.standard_normal((8, F)), 0.2 * rng.standard_normal((8, F)))
             for F in SIZES[1:-1]]
    fwd, bwd = _mlp_pair("tanh", noise)
    errors = check_gradients(lambda params: fwd(x, params), bwd, {}, params, rng)
    assert max(errors.values()) < 1e-7, errors


def test_init_mlp_keys_and_scale():
    rng = np.random.default_rng(2)
    p = init_mlp((64, 32, 10), rng, bn=True, scale=2.0)
    assert set(p) == {"W1", "gamma1", "beta1", "W2", "b2"}
    assert abs(p["W1"].std() * np.sqrt(64) - 2.0) < 0.15
    q = init_mlp((64, 32, 10), rng)
    assert set(q) == {"W1", "b1", "W2", "b2"}
    with pytest.raises(ValueError, match="scale"):
        init_mlp((3, 2), rng, scale=0.0)
    with pytest.raises(ValueError, match="sizes"):
        init_mlp((3,), rng)


def test_bn_mlp_forward_is_scale_invariant_and_eval_needs_state():
    rng = np.random.default_rng(3)
    p = init_mlp(SIZES, rng, bn=True)
    x = rng.standard_normal((16, SIZES[0]))
    q = {k: (5 * v if k in ("W1", "W2") else v) for k, v in p.items()}
    a, _, _ = mlp_forward(x, p, activation="relu", eps=1e-14)
    b, _, _ = mlp_forward(x, q, activation="relu", eps=1e-14)
    assert np.allclose(a, b, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="state"):
        mlp_forward(x, p, mode="eval")


def test_training_lowers_the_loss_and_eval_matches_population():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((200, SIZES[0]))
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)
    p0 = init_mlp(SIZES, rng, bn=True)
    p, state, hist = train_mlp(p0, x, y, np.random.default_rng(5), steps=150, lr=0.3,
                               activation="tanh", probe=x[:20], probe_every=50)
    assert hist["loss"][-10:].mean() < hist["loss"][:10].mean() - 0.2
    assert hist["probe_steps"] == [0, 50, 100, 150] and len(hist["probe"][0]) == 2
    loss, acc = evaluate_mlp(p, state, x, y, activation="tanh")
    assert acc > 0.8 and np.isfinite(loss)
    _, acc_train = evaluate_mlp(p, None, x, y, activation="tanh", mode="train",
                                batch_size=50, rng=np.random.default_rng(0))
    assert abs(acc_train - acc) < 0.1
    assert accuracy(np.eye(3), np.array([0, 1, 1])) == pytest.approx(2 / 3)


def test_divergence_is_reported_not_raised():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((64, SIZES[0])) * 10
    y = rng.integers(0, 3, 64)
    p0 = init_mlp(SIZES, rng, scale=10.0)
    _, _, hist = train_mlp(p0, x, y, rng, steps=50, lr=1e300, activation="relu")
    assert hist["diverged"] and np.isnan(hist["loss"][-1])


@pytest.mark.parametrize("norm", [None, "batch", "layer"])
def test_hidden_state_grad_norms_match_full_backward(norm):
    rng = np.random.default_rng(7)
    N, T, D, H, K = 5, 6, 3, 4, 3
    x = rng.standard_normal((N, T, D))
    y = rng.integers(0, K, N)
    params = init_lstm(D, H, rng) if norm is None else init_lstm_norm(D, H, rng, norm=norm)
    readout = init_affine(H, K, rng)
    norms, loss, dh0 = hidden_state_grad_norms(x, y, params, readout, norm=norm)
    if norm is None:
        h, _, cache = lstm_forward(x, None, None, params)
    else:
        h, _, cache = lstm_norm_forward(x, None, None, params, norm=norm)
    o, co = affine_forward(h[:, -1:], readout)
    full_loss, do = softmax_cross_entropy(o, y[:, None])
    dh = np.zeros_like(h)
    dh[:, -1:] = affine_backward(do, co)[0]
    back = lstm_backward(dh, cache) if norm is None else lstm_norm_backward(dh, cache)
    assert np.isclose(loss, full_loss, rtol=1e-12)
    assert np.allclose(dh0, back[1], rtol=1e-9, atol=1e-12)
    assert norms.shape == (T,) and np.isclose(norms[-1], np.linalg.norm(dh[:, -1]))
    assert np.all(norms > 0)


def test_recurrent_term_stats():
    rng = np.random.default_rng(8)
    params = init_lstm(2, 3, rng)
    x = rng.standard_normal((10, 5, 2))
    h, _, _ = lstm_forward(x, None, None, params)
    s = recurrent_term_stats(x, h, params)
    assert s["Wh"][1].shape == (5, 12) and np.all(s["Wh"][1][0] == 0)
    wh_3 = h[:, 1] @ params["W"].T                       # W h_2, used at step 3
    assert np.allclose(s["Wh"][0][2], wh_3.mean(0)) and np.allclose(s["Wh"][1][2], wh_3.std(0))
    assert np.allclose(s["Ux"][0][4], (x[:, 4] @ params["U"].T).mean(0))
    assert s["Wh_pooled"][1].shape == (12,)


def test_population_stats_is_the_plain_average():
    rng = np.random.default_rng(9)
    params = init_lstm_norm(2, 3, rng, norm="batch")
    batches = [rng.standard_normal((6, 4, 2)) for _ in range(3)]
    stats = population_stats(params, batches)
    ux = [b @ params["U"].T for b in batches]            # (6, 4, 12)
    assert np.allclose(stats["x"]["mean"], np.mean([u.mean(0) for u in ux], axis=0))
    assert np.allclose(stats["x"]["var"], np.mean([u.var(0) * 6 / 5 for u in ux], axis=0))


def test_norm_lstm_logits_modes():
    rng = np.random.default_rng(10)
    params = {"rnn": init_lstm_norm(2, 3, rng, norm="batch"), "out": init_affine(3, 2, rng)}
    x = rng.standard_normal((8, 5, 2))
    stats = population_stats(params["rnn"], [x])
    train = norm_lstm_logits(params, x, norm="batch")
    ev = norm_lstm_logits(params, x, norm="batch", mode="eval", stats=stats)
    assert train.shape == ev.shape == (8, 2)
    one = norm_lstm_logits(params, x[:1], norm="batch", mode="eval", stats=stats)
    assert np.allclose(one, ev[:1])
    plain = {"rnn": init_lstm(2, 3, rng), "out": init_affine(3, 2, rng)}
    h, _, _ = lstm_forward(x, None, None, plain["rnn"])
    assert np.allclose(norm_lstm_logits(plain, x), h[:, -1] @ plain["out"]["V"].T
                       + plain["out"]["c"])


def test_bn_rnn_grad_norms_against_finite_differences():
    rng = np.random.default_rng(11)
    N, T, D, H, K = 6, 5, 2, 4, 3
    x = rng.standard_normal((N, T, D))
    y = rng.integers(0, K, N)
    params = init_rnn(D, H, rng)
    readout = init_affine(H, K, rng)
    h0 = rng.standard_normal((N, H))
    norms, loss, dh0 = bn_rnn_grad_norms(x, y, params, readout, 0.7, h0=h0)
    num = numerical_gradient(lambda: bn_rnn_grad_norms(x, y, params, readout, 0.7,
                                                       h0=h0)[1], h0)
    assert rel_error(dh0, num) < 1e-7
    assert norms.shape == (T,) and np.all(norms > 0)
