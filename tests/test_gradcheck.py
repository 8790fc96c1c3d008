"""The gradient-check helpers themselves: they must catch wrong gradients."""

import numpy as np
import pytest

from rnnlib import check_gradients, init_rnn, numerical_gradient, rel_error, rnn_backward, rnn_forward


def test_numerical_gradient_of_known_function(rng):
    x = rng.standard_normal((3, 4))
    keep = x.copy()
    g = numerical_gradient(lambda: float(np.sum(np.sin(x) * x)), x)
    np.testing.assert_allclose(g, np.cos(keep) * keep + np.sin(keep), atol=1e-9)
    np.testing.assert_array_equal(x, keep)          # restored exactly


def test_numerical_gradient_restores_on_error():
    x = np.array([1.0, 2.0])

    def f():
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_rel_error():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0]), np.array([-1.0])) == 1.0
    assert abs(rel_error(np.array([1.0, 100.0]), np.array([1.0, 100.1])) - 0.1 / 200.1) < 1e-15
    with pytest.raises(ValueError, match=r"b: expected the shape of a \(2,\), got \(3,\)"):
        rel_error(np.zeros(2), np.zeros(3))


def test_check_gradients_catches_a_wrong_backward(rng):
    x = rng.standard_normal((3, 5, 4))
    h0 = rng.standard_normal((3, 7))
    p = init_rnn(4, 7, rng)
    keep = {k: v.copy() for k, v in p.items()}

    def wrong_backward(dh, cache):
        dx, dh0, grads = rnn_backward(dh, cache)
        grads = dict(grads, W=grads["W"].T)           # a classic transposition bug
        return dx, dh0 * 0.5, grads
    errors = check_gradients(rnn_forward, wrong_backward, {"x": x, "h0": h0}, p, rng)
    assert errors["W"] > 1e-2 and errors["h0"] > 1e-2
    assert errors["x"] < 1e-7 and errors["U"] < 1e-7
    for k in p:
        np.testing.assert_array_equal(p[k], keep[k])


def test_check_gradients_bad_arguments(rng):
    p = init_rnn(2, 3, rng)
    with pytest.raises(TypeError, match="inputs: expected a dict"):
        check_gradients(rnn_forward, rnn_backward, [1], p, rng)
    with pytest.raises(ValueError, match=r"inputs: expected names different from the params keys, got \['W'\]"):
        check_gradients(rnn_forward, rnn_backward, {"W": np.ones((1, 2, 2))}, p, rng)
    with pytest.raises(TypeError, match="rng: expected a numpy.random.Generator"):
        check_gradients(rnn_forward, rnn_backward, {}, p, None)
