"""GRU (reset after and before): gradient checks, truncation, masks, the RNN special case."""

import numpy as np
import pytest

from conftest import accumulate_reference, bptt_k_reference
from rnnlib import (check_gradients, gru_backward, gru_forward, gru_step_backward,
                    gru_step_forward, init_gru, rnn_forward, sigmoid)

N, T, D, H = 3, 5, 4, 7


def _data(rng, reset="after", dtype=np.float64):
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = rng.standard_normal((N, H)).astype(dtype)
    return x, h0, init_gru(D, H, rng, dtype, reset=reset)


@pytest.mark.parametrize("reset", ["after", "before"])
@pytest.mark.parametrize("use_mask", [False, True])
def test_gradients(rng, ragged_mask, reset, use_mask):
    x, h0, p = _data(rng, reset)
    errors = check_gradients(gru_forward, gru_backward, {"x": x, "h0": h0}, p, rng,
                             forward_kwargs={"reset": reset},
                             mask=ragged_mask if use_mask else None)
    assert set(errors) == {"x", "h0"} | set(p)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("reset", ["after", "before"])
@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("k", [1, 3])
def test_truncation_matches_brute_force(rng, ragged_mask, reset, use_mask, k):
    x, h0, p = _data(rng, reset)
    mask = ragged_mask if use_mask else None
    h, cache = gru_forward(x, h0, p, mask=mask, reset=reset)
    dh = rng.standard_normal(h.shape)
    dx, dh0, grads = gru_backward(dh, cache, truncate=k)

    def run(s0, t, start, m, ups):
        _, cc = gru_forward(x[:, s0:t + 1], start[0], p, mask=m, reset=reset)
        dxs, a, g = gru_backward(ups[0], cc)
        return dxs, (a,), g

    pieces = bptt_k_reference(run, (h0,), (h,), (dh,), k, mask)
    rdx, (rdh0,), rg = accumulate_reference(pieces, x.shape, [h0.shape],
                                            {n: v.shape for n, v in p.items()})
    for a, b in [(dx, rdx), (dh0, rdh0)] + [(grads[n], rg[n]) for n in p]:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reset", ["after", "before"])
def test_step_functions(rng, reset):
    x, h0, p = _data(rng, reset)
    h, cache = gru_forward(x, h0, p, reset=reset)
    hp = h0
    for t in range(T):
        hp, _ = gru_step_forward(x[:, t], hp, p, reset=reset)
        np.testing.assert_allclose(hp, h[:, t], atol=1e-14)
    errors = check_gradients(lambda x_t, h_prev, params: gru_step_forward(x_t, h_prev, params, reset=reset),
                             gru_step_backward, {"x_t": x[:, 0], "h_prev": h0}, p, rng)
    assert max(errors.values()) < 1e-7, errors


def test_trace_is_the_equations(rng):
    x, h0, p = _data(rng)
    h, cache = gru_forward(x, h0, p)
    tr = cache["trace"]
    assert set(tr) == {"r", "z", "n", "h"}
    zx = x[:, 0] @ p["U"].T + p["b"]
    zh = h0 @ p["W"].T
    r = sigmoid(zx[:, :H] + zh[:, :H])
    z = sigmoid(zx[:, H:2 * H] + zh[:, H:2 * H])
    n = np.tanh(zx[:, 2 * H:] + r * (zh[:, 2 * H:] + p["bhn"]))
    np.testing.assert_allclose(tr["r"][:, 0], r, atol=1e-15)
    np.testing.assert_allclose(tr["z"][:, 0], z, atol=1e-15)
    np.testing.assert_allclose(tr["n"][:, 0], n, atol=1e-15)
    np.testing.assert_allclose(h[:, 0], (1 - z) * n + z * h0, atol=1e-15)


@pytest.mark.parametrize("reset", ["after", "before"])
def test_z0_r1_is_plain_tanh_rnn(rng, reset):
    """Update gate 0 and reset gate 1 (saturated by huge biases) give the tanh RNN."""
    x, h0, p = _data(rng, reset)
    p["U"][:2 * H] = 0
    p["W"][:2 * H] = 0
    p["b"][:H] = 1000.0          # r = 1
    p["b"][H:2 * H] = -1000.0    # z = 0
    h, cache = gru_forward(x, h0, p, reset=reset)
    assert np.all(cache["trace"]["r"] == 1) and np.all(cache["trace"]["z"] == 0)
    b = p["b"][2 * H:] + (p["bhn"] if reset == "after" else 0)
    hr, _ = rnn_forward(x, h0, {"U": p["U"][2 * H:], "W": p["W"][2 * H:], "b": b})
    np.testing.assert_allclose(h, hr, atol=1e-14)


def test_reset_conventions_differ(rng):
    x, h0, p = _data(rng, "after")
    pb = {k: v for k, v in p.items() if k != "bhn"}
    ha, _ = gru_forward(x, h0, {**pb, "bhn": np.zeros(H)}, reset="after")
    hb, _ = gru_forward(x, h0, pb, reset="before")
    assert np.max(np.abs(ha - hb)) > 1e-3


def test_mask_carries_state(rng, ragged_mask):
    x, h0, p = _data(rng)
    h, cache = gru_forward(x, h0, p, mask=ragged_mask)
    for n, L in enumerate(ragged_mask.sum(1).astype(int)):
        hn, _ = gru_forward(x[n:n + 1, :L], h0[n:n + 1], p)
        np.testing.assert_allclose(h[n, :L], hn[0], atol=1e-14)
        np.testing.assert_allclose(h[n, -1], hn[0, -1], atol=1e-14)
