"""Activations: values, stability at |x| = 1000, derivatives by central differences."""

import warnings

import numpy as np
import pytest

from rnnlib import (ACTIVATIONS, log_softmax, numerical_gradient, relu_derivative,
                    sigmoid, sigmoid_derivative, softmax, tanh_derivative)


def test_sigmoid_values_and_extremes():
    x = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(x)
        s32 = sigmoid(x.astype(np.float32))
    assert s32.dtype == np.float32
    np.testing.assert_allclose(s[1:-1], 1 / (1 + np.exp(-x[1:-1])), rtol=1e-15)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    assert s[1] > 0                     # e^-50 is representable and kept
    np.testing.assert_allclose(sigmoid(-x), 1 - s, atol=1e-16)


def test_softmax_log_softmax_stable():
    x = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = softmax(x)
        lp = log_softmax(x)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-15)
    assert np.all(np.isfinite(lp))
    assert lp[0, 2] == -2000.0
    np.testing.assert_allclose(np.exp(lp[1]), p[1], rtol=1e-15)
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(p[1], e / e.sum(), rtol=1e-15)
    np.testing.assert_allclose(softmax(x.T, axis=0), p.T)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "relu", "linear"])
def test_derivatives_by_central_differences(name, rng):
    f, df = ACTIVATIONS[name]
    x = rng.uniform(-3, 3, size=50)
    x = x[np.abs(x) > 1e-3]                     # away from the ReLU kink
    for i in range(x.size):
        xi = x[i:i + 1].copy()
        num = numerical_gradient(lambda: float(f(xi)[0]), xi)
        assert abs(num[0] - df(x[i:i + 1])[0]) < 1e-8


def test_derivative_ranges():
    x = np.linspace(-20, 20, 4001)
    s = sigmoid_derivative(x)
    assert s.max() == 0.25 and s.min() > 0
    t = tanh_derivative(x)
    assert t.max() == 1.0 and t.min() >= 0
    assert set(np.unique(relu_derivative(x))) == {0.0, 1.0}
    assert relu_derivative(np.array([0.0]))[0] == 0.0   # documented choice at 0


def test_activations_table():
    assert set(ACTIVATIONS) == {"tanh", "relu", "linear", "sigmoid"}
    x = np.array([-2.0, 0.5])
    np.testing.assert_array_equal(ACTIVATIONS["linear"][0](x), x)
    np.testing.assert_array_equal(ACTIVATIONS["relu"][0](x), [0.0, 0.5])


def test_softmax_derivatives_match_finite_differences():
    from rnnlib.activations import (log_softmax_backward, softmax_backward,
                                    softmax_jacobian)
    from rnnlib.gradcheck import rel_error
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, 5)) * 3
    dy = rng.normal(size=(3, 5))
    for fn, back in ((softmax, lambda g, xx: softmax_backward(g, softmax(xx))),
                     (log_softmax, lambda g, xx: log_softmax_backward(g, log_softmax(xx)))):
        num = numerical_gradient(lambda: float(np.sum(fn(x) * dy)), x)
        assert rel_error(back(dy, x), num) < 1e-7
    # the whole Jacobian, row by row, and its product with dy
    J = softmax_jacobian(x)
    assert J.shape == (3, 5, 5)
    np.testing.assert_allclose(J, np.swapaxes(J, -1, -2))
    np.testing.assert_allclose(np.einsum("nij,ni->nj", J, dy),
                               softmax_backward(dy, softmax(x)), atol=1e-15)
    # cross-entropy through log-softmax gives softmax - onehot
    onehot = np.eye(5)[[0, 3, 4]]
    np.testing.assert_allclose(log_softmax_backward(-onehot, log_softmax(x)),
                               softmax(x) - onehot, atol=1e-15)
    # stable at extreme logits: no warnings (RuntimeWarning is an error here), finite
    big = np.array([[1000.0, -1000.0, 0.0]])
    assert np.all(np.isfinite(softmax_jacobian(big)))
    assert np.all(np.isfinite(log_softmax_backward(np.ones((1, 3)), log_softmax(big))))
