"""Tests for rnnlib.chapters.ch02_bptt: the by-hand BPTT of chapter 2 against the engine
and against finite differences (float64, relative error < 1e-7)."""

import numpy as np
import pytest

from rnnlib.affine import affine_backward, affine_forward
from rnnlib.chapters.ch02_bptt import bptt_by_hand, bptt_by_source, cache_nbytes, chunked_bptt
from rnnlib.gradcheck import numerical_gradient, rel_error
from rnnlib.init import init_affine, init_rnn
from rnnlib.losses import softmax_cross_entropy
from rnnlib.rnn import rnn_backward, rnn_forward

N, T, D, H, K = 3, 7, 4, 5, 6   # small, odd, all different


def make_problem(seed=0, dtype=np.float64, T=T):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = (0.3 * rng.standard_normal((N, H))).astype(dtype)
    params = init_rnn(D, H, rng, dtype)
    params["b"] = (0.1 * rng.standard_normal(H)).astype(dtype)   # non-zero biases
    out_params = init_affine(H, K, rng, dtype)
    out_params["c"] = (0.1 * rng.standard_normal(K)).astype(dtype)
    y = rng.integers(0, K, size=(N, T))
    return x, y, h0, params, out_params


def engine_loss_and_grads(x, y, h0, params, out_params, activation="tanh", truncate=None):
    """Mean cross-entropy and its gradients, computed with the engine."""
    h, rnn_cache = rnn_forward(x, h0, params, activation=activation)
    logits, aff_cache = affine_forward(h, out_params)
    loss, dlogits = softmax_cross_entropy(logits, y)
    dh, aff_grads = affine_backward(dlogits, aff_cache)
    _, dh0, rnn_grads = rnn_backward(dh, rnn_cache, truncate=truncate)
    return loss, {**rnn_grads, **aff_grads, "h0": dh0}


@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
def test_by_hand_matches_engine(activation):
    x, y, h0, params, out_params = make_problem(1)
    loss, grads, _ = bptt_by_hand(x, y, h0, params, out_params, activation, reduction="mean")
    loss_e, grads_e = engine_loss_and_grads(x, y, h0, params, out_params, activation)
    assert abs(loss - loss_e) < 1e-12
    for name in ("U", "W", "b", "V", "c", "h0"):
        assert rel_error(grads[name], grads_e[name]) < 1e-12, name


def test_sum_reduction_is_mean_times_number_of_steps():
    x, y, h0, params, out_params = make_problem(2)
    loss_s, grads_s, _ = bptt_by_hand(x, y, h0, params, out_params, reduction="sum")
    loss_m, grads_m, _ = bptt_by_hand(x, y, h0, params, out_params, reduction="mean")
    assert np.isclose(loss_s, N * T * loss_m, rtol=1e-13)
    for name in grads_s:
        assert np.allclose(grads_s[name], N * T * grads_m[name], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("name", ["U", "W", "b", "V", "c", "h0"])
def test_by_hand_gradient_check(activation, name):
    x, y, h0, params, out_params = make_problem(3)
    _, grads, _ = bptt_by_hand(x, y, h0, params, out_params, activation)
    arrays = {**params, **out_params, "h0": h0}
    target = arrays[name]

    def f():
        p = {k: arrays[k] for k in ("U", "W", "b")}
        o = {k: arrays[k] for k in ("V", "c")}
        return bptt_by_hand(x, y, arrays["h0"], p, o, activation)[0]

    num = numerical_gradient(f, target, 1e-5)
    assert rel_error(grads[name], num) < 1e-7


def test_softmax_cross_entropy_gives_yhat_minus_y():
    x, y, h0, params, out_params = make_problem(4)
    _, _, steps = bptt_by_hand(x, y, h0, params, out_params)
    onehot = np.eye(K)[y]                                         # (N, T, K)
    assert np.allclose(steps["dlogits"], steps["yhat"] - onehot, atol=1e-15)


def test_contributions_sum_to_gradient():
    x, y, h0, params, out_params = make_problem(5)
    _, grads, steps = bptt_by_hand(x, y, h0, params, out_params)
    for name, per_step in steps["contributions"].items():
        assert per_step.shape[0] == T
        assert np.allclose(per_step.sum(axis=0), grads[name], rtol=1e-13, atol=1e-15)


def test_output_weights_need_only_the_current_step():
    """Changing the target at the last step changes dV's contribution only at
    that step, but changes dW's contribution at every earlier step."""
    x, y, h0, params, out_params = make_problem(6)
    _, _, steps = bptt_by_hand(x, y, h0, params, out_params)
    y2 = y.copy()
    y2[:, -1] = (y2[:, -1] + 1) % K
    _, _, steps2 = bptt_by_hand(x, y2, h0, params, out_params)
    dV, dV2 = steps["contributions"]["V"], steps2["contributions"]["V"]
    dW, dW2 = steps["contributions"]["W"], steps2["contributions"]["W"]
    assert np.array_equal(dV[:-1], dV2[:-1])
    assert not np.allclose(dV[-1], dV2[-1])
    assert all(not np.allclose(dW[t], dW2[t]) for t in range(T))


def test_by_source_sums_and_truncation_band():
    x, y, h0, params, out_params = make_problem(7)
    _, _, steps = bptt_by_hand(x, y, h0, params, out_params, reduction="mean")
    by_source = bptt_by_source(x, y, h0, params, out_params, reduction="mean")
    lag = np.arange(T)[:, None] - np.arange(T)[None, :]           # s - t
    for name in ("U", "W", "b"):
        assert np.allclose(by_source[name].sum(axis=0), steps["contributions"][name],
                           rtol=1e-12, atol=1e-15)
        extra = (slice(None), slice(None)) + (None,) * (by_source[name].ndim - 2)
        assert np.all(by_source[name][lag < 0] == 0)              # no step reaches the future
        for k in (1, 2, 3, T):
            band = ((lag >= 0) & (lag < k))[extra]
            _, grads_k = engine_loss_and_grads(x, y, h0, params, out_params, truncate=k)
            assert rel_error((by_source[name] * band).sum(axis=(0, 1)), grads_k[name]) < 1e-12


def test_cache_bytes_grow_linearly_in_T():
    x, y, h0, params, out_params = make_problem(8, T=40)
    sizes = [cache_nbytes(rnn_forward(x[:, :t], h0, params)[1]) for t in (10, 20, 40)]
    per_step = N * (D + 2 * H) * 8          # x_t, a_t and h_t, float64
    assert sizes[1] - sizes[0] == 10 * per_step
    assert sizes[2] - sizes[1] == 20 * per_step


def test_cache_nbytes_counts_shared_buffers_once():
    a = np.zeros((4, 5))
    assert cache_nbytes({"a": a, "view": a.T, "nested": [a[1:], (a,)]}) == a.nbytes
    assert cache_nbytes({"s": "text", "n": 3}) == 0


def test_chunked_bptt():
    x, y, h0, params, out_params = make_problem(9, T=12)
    loss_full, grads_full = engine_loss_and_grads(x, y, h0, params, out_params)
    loss_c, grads_c, peak_full = chunked_bptt(x, y, h0, params, out_params, chunk=12)
    assert abs(loss_c - loss_full) < 1e-12
    for name in ("U", "W", "b", "V", "c"):
        assert rel_error(grads_c[name], grads_full[name]) < 1e-12
    peaks = []
    for chunk in (1, 3, 4, 5):
        loss_c, grads_c, peak = chunked_bptt(x, y, h0, params, out_params, chunk=chunk)
        assert abs(loss_c - loss_full) < 1e-12                   # the forward pass is exact
        assert rel_error(grads_c["W"], grads_full["W"]) > 1e-6   # the gradient is not
        for name in ("V", "c"):                                  # output layer: exact
            assert rel_error(grads_c[name], grads_full[name]) < 1e-12
        peaks.append(peak)
    assert peaks == sorted(peaks) and peaks[-1] < peak_full


def test_by_hand_does_not_edit_inputs():
    x, y, h0, params, out_params = make_problem(10)
    copies = [a.copy() for a in (x, y, h0, *params.values(), *out_params.values())]
    bptt_by_hand(x, y, h0, params, out_params)
    bptt_by_source(x, y, h0, params, out_params)
    for before, after in zip(copies, (x, y, h0, *params.values(), *out_params.values())):
        assert np.array_equal(before, after)


def test_float32_runs_and_keeps_dtype():
    x, y, h0, params, out_params = make_problem(11, dtype=np.float32)
    _, grads, _ = bptt_by_hand(x, y, h0, params, out_params)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_validation_messages():
    x, y, h0, params, out_params = make_problem(12)
    with pytest.raises(ValueError, match="y: expected class indices"):
        bptt_by_hand(x, np.full((N, T), K), h0, params, out_params)
    with pytest.raises(TypeError, match="y: expected integer"):
        bptt_by_hand(x, y.astype(float), h0, params, out_params)
    with pytest.raises(ValueError, match=r"y: expected shape \(N, T\)"):
        bptt_by_hand(x, y[:, :-1], h0, params, out_params)
    with pytest.raises(ValueError, match="activation"):
        bptt_by_hand(x, y, h0, params, out_params, activation="sigmoid")
    with pytest.raises(ValueError, match="reduction"):
        bptt_by_hand(x, y, h0, params, out_params, reduction="max")
    with pytest.raises(ValueError, match=r"out_params\['V'\]"):
        bptt_by_hand(x, y, h0, params, {"V": np.zeros((K, H + 1)), "c": np.zeros(K)})
    with pytest.raises(ValueError, match="h0"):
        bptt_by_hand(x, y, h0[:, :-1], params, out_params)
    with pytest.raises(ValueError, match="chunk"):
        chunked_bptt(x, y, h0, params, out_params, chunk=0)


def test_backward_loop_source_is_the_loop_of_bptt_by_hand():
    from rnnlib.chapters.ch02_bptt import backward_loop_source
    text = backward_loop_source()
    lines = text.splitlines()
    assert lines[0] == "for t in reversed(range(T)):"
    assert all(line.startswith("    ") for line in lines[1:] if line)
    assert "delta[:, t] = delta_out[:, t] + da_next @ W" in text
    assert "grads = {" not in text
    assert max(len(line) for line in lines) <= 80          # prints without scrolling
