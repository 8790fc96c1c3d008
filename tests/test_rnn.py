"""Elman RNN: gradient checks (full, masked, truncated), masks, step functions."""

import numpy as np
import pytest

from conftest import accumulate_reference, bptt_k_reference
from rnnlib import (check_gradients, init_rnn, rnn_backward, rnn_forward,
                    rnn_step_backward, rnn_step_forward)

N, T, D, H = 3, 5, 4, 7


def _data(rng, dtype=np.float64):
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = rng.standard_normal((N, H)).astype(dtype)
    return x, h0, init_rnn(D, H, rng, dtype)


@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("truncate", [None, T, T + 4])
def test_gradients(rng, ragged_mask, activation, use_mask, truncate):
    """Full BPTT (truncate None or >= T) against central differences."""
    x, h0, p = _data(rng)
    if activation == "linear":          # keep a linear recurrence tame
        p["W"] *= 0.5
    errors = check_gradients(rnn_forward, rnn_backward, {"x": x, "h0": h0}, p, rng,
                             forward_kwargs={"activation": activation},
                             mask=ragged_mask if use_mask else None,
                             backward_kwargs={"truncate": truncate})
    assert set(errors) == {"x", "h0", "U", "W", "b"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_truncation_matches_brute_force(rng, ragged_mask, activation, use_mask, k):
    x, h0, p = _data(rng)
    mask = ragged_mask if use_mask else None
    h, cache = rnn_forward(x, h0, p, activation=activation, mask=mask)
    dh = rng.standard_normal(h.shape)
    dx, dh0, grads = rnn_backward(dh, cache, truncate=k)

    def run(s0, t, start, m, ups):
        _, c = rnn_forward(x[:, s0:t + 1], start[0], p, activation=activation, mask=m)
        dxs, dstart, g = rnn_backward(ups[0] if m is None else ups[0] * m[:, :, None], c)
        return dxs, (dstart,), g

    masked_dh = dh if mask is None else dh * mask[:, :, None]
    pieces = bptt_k_reference(run, (h0,), (h,), (masked_dh,), k, mask)
    rdx, (rdh0,), rgrads = accumulate_reference(pieces, x.shape, [h0.shape],
                                                {n: v.shape for n, v in p.items()})
    np.testing.assert_allclose(dx, rdx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dh0, rdh0, rtol=1e-12, atol=1e-12)
    for n in p:
        np.testing.assert_allclose(grads[n], rgrads[n], rtol=1e-12, atol=1e-12)


def test_truncation_at_or_beyond_T_is_full(rng):
    x, h0, p = _data(rng)
    h, cache = rnn_forward(x, h0, p)
    dh = rng.standard_normal(h.shape)
    full = rnn_backward(dh, cache)
    for k in (T, T + 3):
        tr = rnn_backward(dh, cache, truncate=k)
        np.testing.assert_array_equal(full[0], tr[0])
        np.testing.assert_array_equal(full[1], tr[1])


def test_truncate_one_is_local_gradient(rng):
    """k = 1: each step's gradient stays in its own step, dh0 only from step 0."""
    x, h0, p = _data(rng)
    h, cache = rnn_forward(x, h0, p)
    dh = rng.standard_normal(h.shape)
    dx, dh0, grads = rnn_backward(dh, cache, truncate=1)
    da = dh * (1 - h ** 2)                                  # (N, T, H)
    np.testing.assert_allclose(dx, da @ p["U"], atol=1e-13)
    np.testing.assert_allclose(dh0, da[:, 0] @ p["W"], atol=1e-13)
    hprev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    np.testing.assert_allclose(grads["W"], np.einsum("nth,ntk->hk", da, hprev), atol=1e-12)


def test_mask_carries_state_and_final_state(rng, ragged_mask):
    x, h0, p = _data(rng)
    h, cache = rnn_forward(x, h0, p, mask=ragged_mask)
    lengths = ragged_mask.sum(1).astype(int)
    for n, L in enumerate(lengths):
        hn, _ = rnn_forward(x[n:n + 1, :L], h0[n:n + 1], p)
        np.testing.assert_allclose(h[n, :L], hn[0], atol=1e-14)
        np.testing.assert_array_equal(h[n, L:], np.broadcast_to(h[n, L - 1], h[n, L:].shape))
    # masked steps give nothing: upstream there is ignored
    dh = rng.standard_normal(h.shape)
    dh2 = dh.copy()
    dh2[ragged_mask == 0] += 100.0
    a = rnn_backward(dh, cache)
    b = rnn_backward(dh2, cache)
    for u, v in zip(a[:2], b[:2]):
        np.testing.assert_array_equal(u, v)
    assert np.all(a[0][ragged_mask == 0] == 0)


def test_all_ones_mask_equals_no_mask(rng):
    x, h0, p = _data(rng)
    h1, c1 = rnn_forward(x, h0, p)
    h2, c2 = rnn_forward(x, h0, p, mask=np.ones((N, T), dtype=bool))
    np.testing.assert_array_equal(h1, h2)


def test_step_functions_match_sequence(rng):
    x, h0, p = _data(rng)
    h, cache = rnn_forward(x, h0, p, activation="relu")
    hp = h0
    caches = []
    for t in range(T):
        hp, c = rnn_step_forward(x[:, t], hp, p, activation="relu")
        caches.append(c)
        np.testing.assert_allclose(hp, h[:, t], atol=1e-14)
    dh = rng.standard_normal(h.shape)
    dx, dh0, grads = rnn_backward(dh, cache)
    g = np.zeros_like(h0)
    acc = {k: 0 for k in p}
    for t in reversed(range(T)):
        dxt, g, gr = rnn_step_backward(dh[:, t] + g, caches[t])
        np.testing.assert_allclose(dxt, dx[:, t], atol=1e-13)
        for k in p:
            acc[k] = acc[k] + gr[k]
    np.testing.assert_allclose(g, dh0, atol=1e-13)
    for k in p:
        np.testing.assert_allclose(acc[k], grads[k], atol=1e-12)


def test_step_gradients(rng):
    x, h0, p = _data(rng)
    errors = check_gradients(lambda x_t, h_prev, params: rnn_step_forward(x_t, h_prev, params),
                             rnn_step_backward, {"x_t": x[:, 0], "h_prev": h0}, p, rng)
    assert max(errors.values()) < 1e-7, errors


def test_trace_and_shapes(rng):
    x, h0, p = _data(rng)
    h, cache = rnn_forward(x, h0, p)
    tr = cache["trace"]
    assert set(tr) == {"a", "h"}
    assert tr["a"].shape == tr["h"].shape == (N, T, H)
    np.testing.assert_array_equal(tr["h"], h)
    np.testing.assert_allclose(np.tanh(tr["a"]), h, atol=1e-15)
    assert not tr["h"].flags.writeable
    h[:] = 0                              # the returned h is the caller's own copy
    assert np.any(tr["h"] != 0)


def test_linear_all_ones_example():
    """Chapter 1's example: weights 1, no bias, linear, inputs [1,1],[1,1],[2,2] -> 4, 12, 32."""
    x = np.array([[[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]]])
    p = {"U": np.ones((2, 2)), "W": np.ones((2, 2)), "b": np.zeros(2)}
    h, _ = rnn_forward(x, np.zeros((1, 2)), p, activation="linear")
    out = h.sum(axis=2)[0]                # output layer of ones: o = [1 1] h
    np.testing.assert_array_equal(out, [4.0, 12.0, 32.0])


def test_backward_does_not_edit_inputs(rng, ragged_mask):
    x, h0, p = _data(rng)
    h, cache = rnn_forward(x, h0, p, mask=ragged_mask)
    dh = rng.standard_normal(h.shape)
    keep = dh.copy(), x.copy(), {k: v.copy() for k, v in p.items()}
    rnn_backward(dh, cache, truncate=2)
    rnn_backward(dh, cache)
    np.testing.assert_array_equal(dh, keep[0])
    np.testing.assert_array_equal(x, keep[1])
    for k in p:
        np.testing.assert_array_equal(p[k], keep[2][k])


def test_float32(rng):
    x, h0, p = _data(rng, np.float32)
    h, cache = rnn_forward(x, h0, p)
    assert h.dtype == np.float32
    dx, dh0, grads = rnn_backward(np.ones_like(h), cache)
    assert dx.dtype == dh0.dtype == grads["W"].dtype == np.float32
    h64, _ = rnn_forward(x.astype(np.float64), h0.astype(np.float64),
                         {k: v.astype(np.float64) for k, v in p.items()})
    np.testing.assert_allclose(h, h64, atol=1e-5)
