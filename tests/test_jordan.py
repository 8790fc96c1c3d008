"""Jordan network: gradient checks (free-running, teacher forcing, masks), truncation."""

import numpy as np
import pytest

from conftest import accumulate_reference, bptt_k_reference
from rnnlib import check_gradients, init_jordan
from rnnlib.jordan import jordan_backward, jordan_forward

N, T, D, H, K = 3, 5, 4, 7, 2


def _data(rng):
    x = rng.standard_normal((N, T, D))
    y0 = rng.standard_normal((N, K))
    return x, y0, init_jordan(D, H, K, rng)


def _back(dh, dy, cache, **kw):
    return jordan_backward(dy, cache, dh=dh, **kw)


@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("teacher", [False, True])
def test_gradients(rng, ragged_mask, activation, use_mask, teacher):
    x, y0, p = _data(rng)
    kw = {"activation": activation}
    if teacher:
        kw["y_teacher"] = rng.standard_normal((N, T, K))
    errors = check_gradients(jordan_forward, _back, {"x": x, "y0": y0}, p, rng,
                             forward_kwargs=kw, mask=ragged_mask if use_mask else None)
    assert set(errors) == {"x", "y0", "U", "W", "b", "V", "c"}
    assert max(errors.values()) < 1e-7, errors


def test_equations_free_running(rng):
    x, y0, p = _data(rng)
    h, y, cache = jordan_forward(x, y0, p)
    yp = y0
    for t in range(T):
        ht = np.tanh(x[:, t] @ p["U"].T + yp @ p["W"].T + p["b"])
        yp = ht @ p["V"].T + p["c"]
        np.testing.assert_allclose(h[:, t], ht, atol=1e-14)
        np.testing.assert_allclose(y[:, t], yp, atol=1e-14)
    assert set(cache["trace"]) == {"a", "h", "y", "y_in"}


def test_teacher_forcing_is_parallel_and_equals_feeding_targets(rng):
    """Under teacher forcing each step only needs its own input and the fed target."""
    x, y0, p = _data(rng)
    yt = rng.standard_normal((N, T, K))
    h, y, _ = jordan_forward(x, y0, p, y_teacher=yt)
    yin = np.concatenate([y0[:, None], yt[:, :-1]], axis=1)
    hp = np.tanh(x @ p["U"].T + yin @ p["W"].T + p["b"])          # all steps at once
    np.testing.assert_allclose(h, hp, atol=1e-14)
    np.testing.assert_allclose(y, hp @ p["V"].T + p["c"], atol=1e-14)
    # feeding the model's own outputs as "teacher" reproduces free running
    h2, y2, _ = jordan_forward(x, y0, p)
    h3, y3, _ = jordan_forward(x, y0, p, y_teacher=y2)
    np.testing.assert_allclose(h3, h2, atol=1e-14)


@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("k", [1, 2, 4])
def test_truncation_matches_brute_force(rng, ragged_mask, use_mask, k):
    x, y0, p = _data(rng)
    mask = ragged_mask if use_mask else None
    h, y, cache = jordan_forward(x, y0, p, mask=mask)
    dy = rng.standard_normal(y.shape)
    dh = rng.standard_normal(h.shape)
    dx, dy0, grads = jordan_backward(dy, cache, dh=dh, truncate=k)

    def run(s0, t, start, m, ups):
        # restart from the forward's own (y, h) before s0: prepend a masked
        # dummy step that carries h_{s0-1} in, then drop its gradients
        ys = start[0]
        if s0 == 0:
            _, _, cc = jordan_forward(x[:, :t + 1], ys, p, mask=m)
            dxs, dys, g = jordan_backward(ups[0], cc, dh=ups[1])
            return dxs, (dys, None), g
        xs = np.concatenate([np.zeros((N, 1, D)), x[:, s0:t + 1]], axis=1)
        ms = np.concatenate([np.zeros((N, 1)), np.ones((N, t - s0 + 1)) if m is None else m], axis=1)
        # the dummy step is masked, so it carries y_{s0-1} into step s0. h
        # before it is 0 rather than h_{s0-1}; that only changes h at padded
        # steps, which send no gradient anywhere.
        _, _, cc = jordan_forward(xs, ys, p, mask=ms)
        du = [np.concatenate([np.zeros((N, 1, u.shape[2])), u], axis=1) for u in ups]
        dxs, _, g = jordan_backward(du[0], cc, dh=du[1])
        return dxs[:, 1:], (None, None), g

    pieces = bptt_k_reference(run, (y0, np.zeros((N, H))), (y, h), (dy, dh), k, mask)
    pieces = [(s0, t, dxs, None if ds is None else (ds[0],), g) for s0, t, dxs, ds, g in pieces]
    rdx, (rdy0,), rg = accumulate_reference(pieces, x.shape, [y0.shape],
                                            {n: v.shape for n, v in p.items()})
    assert np.any(dy0 != 0)
    for a, b in [(dx, rdx), (dy0, rdy0)] + [(grads[n], rg[n]) for n in p]:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_mask_final_output(rng, ragged_mask):
    x, y0, p = _data(rng)
    h, y, _ = jordan_forward(x, y0, p, mask=ragged_mask)
    for n, L in enumerate(ragged_mask.sum(1).astype(int)):
        hn, yn, _ = jordan_forward(x[n:n + 1, :L], y0[n:n + 1], p)
        np.testing.assert_allclose(y[n, :L], yn[0], atol=1e-14)
        np.testing.assert_allclose(y[n, -1], yn[0, -1], atol=1e-14)
        np.testing.assert_allclose(h[n, -1], hn[0, -1], atol=1e-14)
