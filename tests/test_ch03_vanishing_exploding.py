"""Tests for rnnlib.chapters.ch03_vanishing_exploding: Jacobians through time of an Elman RNN."""

import numpy as np
import pytest

from rnnlib.chapters.ch03_vanishing_exploding import (GAMMA, diagonal_scalar_rnn_params,
                                  gradient_norm_vs_lag, jacobian_bound,
                                  jacobian_product, jacobian_products,
                                  largest_singular_value, spectral_radius,
                                  step_jacobians)
from rnnlib.init import init_rnn, set_spectral_radius
from rnnlib.rnn import rnn_backward, rnn_forward, rnn_step_forward

N, T, D, H = 3, 7, 4, 5


def _setup(seed=0, activation="tanh", rho=None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = init_rnn(D, H, rng, dtype)
    params["U"] = params["U"] * 3                   # drive the units away from 0
    if rho is not None:
        params["W"] = set_spectral_radius(params["W"], rho)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = rng.standard_normal((N, H)).astype(dtype) * 0.5
    h, cache = rnn_forward(x, h0, params, activation)
    return x, h0, params, h, cache


def _numerical_jacobian(f, v, eps=1e-6):
    """Central differences of a vector function f: (H,) -> (H,), column by column."""
    cols = []
    for j in range(v.size):
        e = np.zeros_like(v)
        e[j] = eps
        cols.append((f(v + e) - f(v - e)) / (2 * eps))
    return np.stack(cols, axis=1)


def _rel_error(a, b):
    """Norm-wise relative error ||a - b|| / (||a|| + ||b||) (entry-wise would
    be dominated by round-off in entries near 0)."""
    return np.linalg.norm(a - b) / max(1e-300, np.linalg.norm(a) + np.linalg.norm(b))


@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
def test_step_jacobians_match_finite_differences(activation):
    x, h0, params, h, cache = _setup(activation=activation)
    J = step_jacobians(cache, params)
    assert J.shape == (N, T, H, H)
    hprev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)          # (N, T, H): h_{t-1}
    for n in range(N):
        for t in range(T):
            def f(v):
                out, _ = rnn_step_forward(x[n:n + 1, t], v[None], params, activation)
                return out[0]
            num = _numerical_jacobian(f, hprev[n, t].copy())
            assert _rel_error(J[n, t], num) < 1e-7


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_jacobian_product_matches_finite_differences_of_the_forward(activation):
    x, h0, params, h, cache = _setup(seed=1, activation=activation, rho=1.3)
    J = step_jacobians(cache, params)
    hk_all = np.concatenate([h0[:, None], h], axis=1)                  # (N, T+1, H): h_0..h_T
    for k in (0, 2, T - 1):
        P = jacobian_product(J, k)
        for n in range(N):
            def f(v):
                out, _ = rnn_forward(x[n:n + 1, k:], v[None], params, activation)
                return out[0, -1]                                         # h_T
            num = _numerical_jacobian(f, hk_all[n, k].copy())
            assert _rel_error(P[n], num) < 1e-7


def test_products_agree_with_single_products_and_identity_at_k_equals_T():
    _, _, params, _, cache = _setup(seed=2)
    J = step_jacobians(cache, params)
    P = jacobian_products(J)
    for k in range(T):
        np.testing.assert_allclose(P[:, k], jacobian_product(J, k), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(jacobian_product(J, T), np.broadcast_to(np.eye(H), (N, H, H)))
    np.testing.assert_allclose(jacobian_product(J, T - 1), J[:, T - 1], rtol=0, atol=0)


@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
@pytest.mark.parametrize("T_end", [T, 4, 1])
def test_rnn_backward_dh0_is_transposed_product_applied(activation, T_end):
    # An upstream gradient that enters at step T_end only reaches h_0 as
    # (dh_{T_end}/dh_0)^T g: exactly what rnn_backward returns as dh0.
    x, h0, params, h, cache = _setup(seed=3, activation=activation, rho=1.1)
    rng = np.random.default_rng(4)
    g = rng.standard_normal((N, H))
    dh = np.zeros((N, T, H))
    dh[:, T_end - 1] = g
    _, dh0, _ = rnn_backward(dh, cache)
    P = jacobian_product(step_jacobians(cache, params), 0, T_end)
    expected = np.einsum("nij,ni->nj", P, g)
    assert _rel_error(dh0, expected) < 1e-10


def test_mask_gives_identity_jacobians_and_matches_backward():
    rng = np.random.default_rng(5)
    params = init_rnn(D, H, rng)
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    mask = np.ones((N, T))
    mask[0, 4:] = 0
    mask[1, 2:] = 0
    h, cache = rnn_forward(x, h0, params, "tanh", mask=mask)
    J = step_jacobians(cache, params)
    np.testing.assert_array_equal(J[0, 4:], np.broadcast_to(np.eye(H), (T - 4, H, H)))
    g = rng.standard_normal((N, H))
    # rnn_backward ignores upstream gradients at masked steps; put the
    # gradient on the last real step of each sequence instead.
    last = mask.sum(axis=1).astype(int)
    dh = np.zeros((N, T, H))
    for n in range(N):
        dh[n, last[n] - 1] = g[n]
    _, dh0, _ = rnn_backward(dh, cache)
    P = jacobian_product(J, 0)                     # identities after the last real step
    assert _rel_error(dh0, np.einsum("nij,ni->nj", P, g)) < 1e-10


def test_trace_only_and_explicit_activation_agree_with_cache():
    _, _, params, _, cache = _setup(seed=6, activation="relu")
    J1 = step_jacobians(cache, params)
    J2 = step_jacobians(cache["trace"], params, "relu")
    J3 = step_jacobians({"a": np.array(cache["trace"]["a"])}, params, activation="relu")
    np.testing.assert_array_equal(J1, J2)
    np.testing.assert_array_equal(J1, J3)


@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
@pytest.mark.parametrize("scale", [0.5, 1.0, 2.0])
def test_bound_holds_for_rnn_forward(activation, scale):
    rng = np.random.default_rng(7)
    params = init_rnn(D, 6, rng)
    params["W"] = scale * rng.standard_normal((6, 6)) / np.sqrt(6)
    x = rng.standard_normal((2, 25, D))
    _, cache = rnn_forward(x, None, params, activation)
    norms = gradient_norm_vs_lag(cache, params)                   # (2, 25)
    lags = np.arange(25, 0, -1)                                    # k = 0..T-1 -> lag T..1
    bound = jacobian_bound(params["W"], activation, lags)
    assert np.all(norms <= bound * (1 + 1e-12))
    if activation == "linear":                                     # all Jacobians are W
        expected = np.array([np.linalg.norm(np.linalg.matrix_power(params["W"], L), 2)
                             for L in lags])
        np.testing.assert_allclose(norms[0], expected, rtol=1e-10)


def test_sigmoid_bound_uses_gamma_one_quarter():
    rng = np.random.default_rng(8)
    W = 3.5 * np.linalg.qr(rng.standard_normal((H, H)))[0]        # sigma_max = 3.5 < 4
    a = rng.standard_normal((4, 30, H)) * 2
    norms = gradient_norm_vs_lag({"a": a}, {"W": W}, "sigmoid")
    bound = jacobian_bound(W, "sigmoid", np.arange(30, 0, -1))
    assert GAMMA["sigmoid"] == 0.25
    np.testing.assert_allclose(bound[-1], 3.5 / 4)
    assert np.all(norms <= bound * (1 + 1e-12))
    assert norms[:, 0].max() < 0.875 ** 30 + 1e-15


def test_frobenius_norm_option_is_at_least_spectral():
    _, _, params, _, cache = _setup(seed=9)
    n2 = gradient_norm_vs_lag(cache, params, ord=2)
    nf = gradient_norm_vs_lag(cache, params, ord="fro")
    assert np.all(nf >= n2 * (1 - 1e-12))
    assert np.all(nf <= n2 * np.sqrt(H) * (1 + 1e-12))


def test_singular_value_and_spectral_radius():
    rng = np.random.default_rng(10)
    S = rng.standard_normal((6, 6))
    S = S + S.T                                                   # symmetric: equal
    assert largest_singular_value(S) == pytest.approx(spectral_radius(S), rel=1e-12)
    A = np.array([[0.5, 4.0], [0.0, 0.5]])                         # non-normal
    assert spectral_radius(A) == pytest.approx(0.5)
    assert largest_singular_value(A) > 4.0
    W = set_spectral_radius(rng.standard_normal((6, 6)), 0.9)
    assert spectral_radius(W) == pytest.approx(0.9, rel=1e-12)
    assert largest_singular_value(W) >= spectral_radius(W)


def test_diagonal_scalar_rnn_params_equal_separate_scalar_rnns():
    rng = np.random.default_rng(11)
    w = rng.uniform(-2, 2, 6)
    u = rng.uniform(-1, 1, 6)
    b = rng.uniform(-1, 1, 6)
    p = diagonal_scalar_rnn_params(w, u, b)
    assert p["U"].shape == (6, 1) and p["W"].shape == (6, 6) and p["b"].shape == (6,)
    x = rng.standard_normal((2, 9, 1))
    h0 = rng.standard_normal((2, 6))
    h, _ = rnn_forward(x, h0, p, "tanh")
    for g in range(6):
        pg = {"U": np.array([[u[g]]]), "W": np.array([[w[g]]]), "b": np.array([b[g]])}
        hg, _ = rnn_forward(x, h0[:, g:g + 1], pg, "tanh")
        np.testing.assert_allclose(h[:, :, g], hg[:, :, 0], rtol=1e-14, atol=1e-15)
    p2 = diagonal_scalar_rnn_params(w, 1.0 * np.ones(1), 0.0 * np.ones(1))   # broadcasting
    np.testing.assert_array_equal(p2["U"][:, 0], np.ones(6))


def test_input_validation():
    _, _, params, _, cache = _setup()
    with pytest.raises(ValueError, match="activation"):
        step_jacobians(cache, params, "softplus")
    with pytest.raises(ValueError, match="activation"):
        step_jacobians({"a": np.zeros((1, 2, H))}, params)
    with pytest.raises(ValueError, match="W"):
        step_jacobians(cache, {"W": np.zeros((H + 1, H + 1))})
    with pytest.raises(TypeError, match="cache"):
        step_jacobians([1, 2], params)
    with pytest.raises(ValueError, match="'a'"):
        step_jacobians({"h": np.zeros((1, 2, H))}, params, "tanh")
    J = step_jacobians(cache, params)
    with pytest.raises(ValueError, match="k"):
        jacobian_product(J, T + 1)
    with pytest.raises(ValueError, match="T"):
        jacobian_product(J, 0, T + 1)
    with pytest.raises(ValueError, match="J"):
        jacobian_products(J[0])
    with pytest.raises(ValueError, match="ord"):
        gradient_norm_vs_lag(cache, params, ord=1)
    with pytest.raises(ValueError, match="lags"):
        jacobian_bound(params["W"], "tanh", [-1])
    with pytest.raises(TypeError, match="w"):
        diagonal_scalar_rnn_params(np.arange(3), np.ones(3), np.ones(3))


def test_inputs_not_modified():
    _, _, params, _, cache = _setup(seed=12)
    W = params["W"].copy()
    a = np.array(cache["trace"]["a"])
    J = step_jacobians(cache, params)
    J_copy = J.copy()
    jacobian_products(J)
    jacobian_product(J, 1)
    np.testing.assert_array_equal(J, J_copy)
    np.testing.assert_array_equal(params["W"], W)
    np.testing.assert_array_equal(cache["trace"]["a"], a)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gradient_norm_vs_length_matches_separate_runs(activation):
    from rnnlib.chapters.ch03_vanishing_exploding import gradient_norm_vs_length
    rng = np.random.default_rng(7)
    p = init_rnn(3, 5, rng)
    p["W"] = set_spectral_radius(p["W"], 1.3)
    x = rng.standard_normal((4, 25, 3))
    _, cache = rnn_forward(x, None, p, activation)
    lengths = [1, 7, 13, 25]
    norms = gradient_norm_vs_length(cache, p, lengths)
    assert norms.shape == (4, len(lengths))
    for i, T in enumerate(lengths):
        _, c_T = rnn_forward(x[:, :T], None, p, activation)     # a sequence of length T
        expected = gradient_norm_vs_lag(c_T, p)[:, 0]            # ||dh_T/dh_0||
        assert np.allclose(norms[:, i], expected, rtol=1e-12, atol=1e-300)
    fro = gradient_norm_vs_length(cache, p, [25], ord="fro")[:, 0]
    assert np.all(fro >= norms[:, -1] * (1 - 1e-12))
    with pytest.raises(ValueError, match="lengths"):
        gradient_norm_vs_length(cache, p, [0, 3])
    with pytest.raises(ValueError, match="lengths"):
        gradient_norm_vs_length(cache, p, [26])
    with pytest.raises(ValueError, match="ord"):
        gradient_norm_vs_length(cache, p, [3], ord=1)
