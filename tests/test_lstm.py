"""LSTM: gradient checks (full, masked, with dc), truncation, masks, steps, trace."""

import numpy as np
import pytest

from conftest import accumulate_reference, bptt_k_reference
from rnnlib import (check_gradients, init_lstm, lstm_backward, lstm_forward,
                    lstm_step_backward, lstm_step_forward, sigmoid)

N, T, D, H = 3, 5, 4, 7


def _data(rng, dtype=np.float64):
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = rng.standard_normal((N, H)).astype(dtype)
    c0 = rng.standard_normal((N, H)).astype(dtype)
    return x, h0, c0, init_lstm(D, H, rng, dtype)


def _back(dh, dc, cache, **kw):
    return lstm_backward(dh, cache, dc=dc, **kw)


@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("truncate", [None, T])
def test_gradients(rng, ragged_mask, use_mask, truncate):
    x, h0, c0, p = _data(rng)
    errors = check_gradients(lstm_forward, _back, {"x": x, "h0": h0, "c0": c0}, p, rng,
                             mask=ragged_mask if use_mask else None,
                             backward_kwargs={"truncate": truncate})
    assert set(errors) == {"x", "h0", "c0", "U", "W", "b"}
    assert max(errors.values()) < 1e-7, errors


def test_gradients_without_dc(rng):
    x, h0, c0, p = _data(rng)
    errors = check_gradients(lambda x, h0, c0, params: (lambda h, c, k: (h, k))(*lstm_forward(x, h0, c0, params)),
                             lambda dh, cache: lstm_backward(dh, cache),
                             {"x": x, "h0": h0, "c0": c0}, p, rng)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("k", [1, 2, 4])
def test_truncation_matches_brute_force(rng, ragged_mask, use_mask, k):
    x, h0, c0, p = _data(rng)
    mask = ragged_mask if use_mask else None
    h, c, cache = lstm_forward(x, h0, c0, p, mask=mask)
    dh = rng.standard_normal(h.shape)
    dc = rng.standard_normal(c.shape)
    dx, dh0, dc0, grads = lstm_backward(dh, cache, dc=dc, truncate=k)

    def run(s0, t, start, m, ups):
        _, _, cc = lstm_forward(x[:, s0:t + 1], start[0], start[1], p, mask=m)
        dxs, a, b, g = lstm_backward(ups[0], cc, dc=ups[1])
        return dxs, (a, b), g

    pieces = bptt_k_reference(run, (h0, c0), (h, c), (dh, dc), k, mask)
    rdx, (rdh0, rdc0), rg = accumulate_reference(pieces, x.shape, [h0.shape, c0.shape],
                                                 {n: v.shape for n, v in p.items()})
    for a, b in [(dx, rdx), (dh0, rdh0), (dc0, rdc0)] + [(grads[n], rg[n]) for n in p]:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_mask_carries_h_and_c(rng, ragged_mask):
    x, h0, c0, p = _data(rng)
    h, c, cache = lstm_forward(x, h0, c0, p, mask=ragged_mask)
    for n, L in enumerate(ragged_mask.sum(1).astype(int)):
        hn, cn, _ = lstm_forward(x[n:n + 1, :L], h0[n:n + 1], c0[n:n + 1], p)
        np.testing.assert_allclose(h[n, :L], hn[0], atol=1e-14)
        np.testing.assert_allclose(c[n, :L], cn[0], atol=1e-14)
        np.testing.assert_allclose(h[n, -1], hn[0, -1], atol=1e-14)
        np.testing.assert_allclose(c[n, -1], cn[0, -1], atol=1e-14)
    dh = rng.standard_normal(h.shape)
    dh2 = dh.copy()
    dh2[ragged_mask == 0] = 7.0
    a = lstm_backward(dh, cache, dc=dh)
    b = lstm_backward(dh2, cache, dc=dh2)
    for u, v in zip(a[:3], b[:3]):
        np.testing.assert_array_equal(u, v)


def test_step_functions_match_sequence(rng):
    x, h0, c0, p = _data(rng)
    h, c, cache = lstm_forward(x, h0, c0, p)
    hp, cp, caches = h0, c0, []
    for t in range(T):
        hp, cp, ch = lstm_step_forward(x[:, t], hp, cp, p)
        caches.append(ch)
        np.testing.assert_allclose(hp, h[:, t], atol=1e-14)
        np.testing.assert_allclose(cp, c[:, t], atol=1e-14)
    dh = rng.standard_normal(h.shape)
    dx, dh0, dc0, grads = lstm_backward(dh, cache)
    gh, gc = np.zeros_like(h0), np.zeros_like(c0)
    acc = {k: 0 for k in p}
    for t in reversed(range(T)):
        dxt, gh, gc, gr = lstm_step_backward(dh[:, t] + gh, gc, caches[t])
        np.testing.assert_allclose(dxt, dx[:, t], atol=1e-13)
        acc = {k: acc[k] + gr[k] for k in p}
    np.testing.assert_allclose(gh, dh0, atol=1e-13)
    np.testing.assert_allclose(gc, dc0, atol=1e-13)
    for k in p:
        np.testing.assert_allclose(acc[k], grads[k], atol=1e-12)


def test_step_gradients(rng):
    x, h0, c0, p = _data(rng)
    errors = check_gradients(lambda x_t, h_prev, c_prev, params: lstm_step_forward(x_t, h_prev, c_prev, params),
                             lstm_step_backward, {"x_t": x[:, 0], "h_prev": h0, "c_prev": c0}, p, rng)
    assert max(errors.values()) < 1e-7, errors


def test_trace_is_the_equations(rng):
    x, h0, c0, p = _data(rng)
    h, c, cache = lstm_forward(x, h0, c0, p)
    tr = cache["trace"]
    assert set(tr) == {"i", "f", "g", "o", "c", "h"}
    assert all(v.shape == (N, T, H) for v in tr.values())
    z = x[:, 0] @ p["U"].T + h0 @ p["W"].T + p["b"]
    np.testing.assert_allclose(tr["i"][:, 0], sigmoid(z[:, :H]), atol=1e-15)
    np.testing.assert_allclose(tr["f"][:, 0], sigmoid(z[:, H:2 * H]), atol=1e-15)
    np.testing.assert_allclose(tr["g"][:, 0], np.tanh(z[:, 2 * H:3 * H]), atol=1e-15)
    np.testing.assert_allclose(tr["o"][:, 0], sigmoid(z[:, 3 * H:]), atol=1e-15)
    np.testing.assert_allclose(tr["c"], tr["f"] * np.concatenate([c0[:, None], c[:, :-1]], 1)
                               + tr["i"] * tr["g"], atol=1e-14)
    np.testing.assert_allclose(tr["h"], tr["o"] * np.tanh(tr["c"]), atol=1e-15)
    np.testing.assert_array_equal(tr["h"], h)


def test_backward_does_not_edit_inputs(rng, ragged_mask):
    x, h0, c0, p = _data(rng)
    h, c, cache = lstm_forward(x, h0, c0, p, mask=ragged_mask)
    dh, dc = rng.standard_normal(h.shape), rng.standard_normal(h.shape)
    keep = dh.copy(), dc.copy()
    lstm_backward(dh, cache, dc=dc, truncate=2)
    lstm_backward(dh, cache, dc=dc)
    np.testing.assert_array_equal(dh, keep[0])
    np.testing.assert_array_equal(dc, keep[1])


def test_float32(rng):
    x, h0, c0, p = _data(rng, np.float32)
    h, c, cache = lstm_forward(x, h0, c0, p)
    out = lstm_backward(np.ones_like(h), cache)
    assert h.dtype == c.dtype == np.float32
    assert all(a.dtype == np.float32 for a in out[:3])
    assert all(v.dtype == np.float32 for v in out[3].values())
