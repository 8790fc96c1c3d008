"""Initialisation: shapes, dtypes, scale, determinism, spectral radius."""

import numpy as np
import pytest

from rnnlib import (init_affine, init_gru, init_jordan, init_lstm, init_rnn,
                    set_spectral_radius)


def test_shapes_and_dtypes(rng):
    D, H, K = 4, 7, 3
    cases = [
        (init_rnn(D, H, rng), {"U": (H, D), "W": (H, H), "b": (H,)}),
        (init_lstm(D, H, rng), {"U": (4 * H, D), "W": (4 * H, H), "b": (4 * H,)}),
        (init_gru(D, H, rng), {"U": (3 * H, D), "W": (3 * H, H), "b": (3 * H,), "bhn": (H,)}),
        (init_gru(D, H, rng, reset="before"), {"U": (3 * H, D), "W": (3 * H, H), "b": (3 * H,)}),
        (init_jordan(D, H, K, rng), {"U": (H, D), "W": (H, K), "b": (H,), "V": (K, H), "c": (K,)}),
        (init_affine(H, K, rng), {"V": (K, H), "c": (K,)}),
    ]
    for p, shapes in cases:
        assert {k: v.shape for k, v in p.items()} == shapes
        assert all(v.dtype == np.float64 for v in p.values())
        assert all(np.all(v != 0) for v in p.values())        # non-zero biases too
    p32 = init_lstm(D, H, rng, np.float32)
    assert all(v.dtype == np.float32 for v in p32.values())


def test_scale_and_forget_bias(rng):
    H = 16
    p = init_rnn(5, H, rng)
    assert np.max(np.abs(p["W"])) <= 1 / np.sqrt(H)
    q = init_lstm(5, H, rng)
    bf = q["b"][H:2 * H]
    assert np.all((bf >= 1 - 1 / np.sqrt(H)) & (bf <= 1 + 1 / np.sqrt(H)))
    q0 = init_lstm(5, H, rng, forget_bias=0.0)
    assert np.max(np.abs(q0["b"])) <= 1 / np.sqrt(H)


def test_deterministic_with_rng():
    a = init_gru(3, 5, np.random.default_rng(7))
    b = init_gru(3, 5, np.random.default_rng(7))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_set_spectral_radius(rng):
    W = rng.standard_normal((9, 9))
    W2 = set_spectral_radius(W, 0.9)
    assert abs(np.max(np.abs(np.linalg.eigvals(W2))) - 0.9) < 1e-12
    assert not np.shares_memory(W, W2)
    with pytest.raises(ValueError, match=r"W: expected a square matrix \(H, H\), got shape \(2, 3\)"):
        set_spectral_radius(np.ones((2, 3)), 1.0)
    with pytest.raises(ValueError, match="rho: expected a finite number >= 0"):
        set_spectral_radius(W, -1.0)
    with pytest.raises(ValueError, match="nilpotent"):
        set_spectral_radius(np.triu(np.ones((3, 3)), 1), 1.0)


def test_bad_arguments(rng):
    with pytest.raises(TypeError, match="rng: expected a numpy.random.Generator"):
        init_rnn(3, 4, 0)
    with pytest.raises(ValueError, match="H: expected an integer >= 1, got 0"):
        init_lstm(3, 0, rng)
    with pytest.raises(TypeError, match="dtype: expected float32 or float64, got int64"):
        init_rnn(3, 4, rng, dtype=np.int64)
    with pytest.raises(ValueError, match=r"reset: expected one of \['after', 'before'\], got 'middle'"):
        init_gru(3, 4, rng, reset="middle")
