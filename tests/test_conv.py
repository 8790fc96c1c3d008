"""Tests for rnnlib.conv: 2-D cross-correlation and max pooling, forward and backward."""

import numpy as np
import pytest

import rnnlib as rl
from rnnlib.gradcheck import check_gradients


def _conv_params(M=3, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return {"w": rng.standard_normal((M, k, k)), "b": rng.standard_normal(M)}


def test_conv_forward_equals_explicit_loops():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 7, 6))
    p = _conv_params(M=2, k=3)
    y, _ = rl.conv2d_forward(x, p)
    assert y.shape == (2, 2, 5, 4)
    for n in range(2):
        for m in range(2):
            for i in range(5):
                for j in range(4):
                    want = np.sum(p["w"][m] * x[n, i:i + 3, j:j + 3]) + p["b"][m]
                    assert np.isclose(y[n, m, i, j], want, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_conv_gradients(k):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 7))
    errors = check_gradients(rl.conv2d_forward, rl.conv2d_backward, {"x": x},
                             _conv_params(M=3, k=k, seed=k), rng)
    assert max(errors.values()) < 1e-7, errors


def test_maxpool_forward_and_gradients():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 6))           # distinct values: no ties
    y, cache = rl.maxpool_forward(x, 2)
    assert y.shape == (2, 3, 2, 3)
    assert y[1, 2, 1, 0] == x[1, 2, 2:4, 0:2].max()

    def forward(x, params):
        return rl.maxpool_forward(x, 2)

    def backward(dy, cache):
        return rl.maxpool_backward(dy, cache), {}

    errors = check_gradients(forward, backward, {"x": x}, {}, rng)
    assert errors["x"] < 1e-7
    dx = rl.maxpool_backward(np.ones_like(y), cache)
    assert dx.sum() == y.size and np.all((dx == 0) | (dx == 1))


def test_maxpool_ties_send_the_gradient_to_one_entry():
    x = np.zeros((1, 1, 2, 2))
    y, cache = rl.maxpool_forward(x, 2)
    dx = rl.maxpool_backward(np.array([[[[3.0]]]]), cache)
    assert dx.sum() == 3.0 and np.count_nonzero(dx) == 1


def test_conv_relu_pool_chain_gradient():
    """The feature extractor of section 8.4, conv -> ReLU -> pool, in float64."""
    rng = np.random.default_rng(4)
    x = rng.random((3, 8, 8))
    p = _conv_params(M=4, k=3, seed=5)

    def forward(x, params):
        a, c1 = rl.conv2d_forward(x, params)
        r = np.maximum(a, 0)
        y, c2 = rl.maxpool_forward(r, 2)
        return y, (a, c1, c2)

    def backward(dy, cache):
        a, c1, c2 = cache
        dr = rl.maxpool_backward(dy, c2)
        return rl.conv2d_backward(dr * (a > 0), c1)

    errors = check_gradients(forward, backward, {"x": x}, p, rng)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("call,words", [
    (lambda: rl.conv2d_forward(np.zeros((1, 8, 8)), {"w": np.zeros((2, 3, 4)),
                                                    "b": np.zeros(2)}), ["params['w']", "(M, k, k)"]),
    (lambda: rl.conv2d_forward(np.zeros((1, 2, 8)), _conv_params()), ["params['w'] and x", "k = 3"]),
    (lambda: rl.conv2d_forward(np.zeros((1, 8, 8)), {"w": np.zeros((2, 3, 3)),
                                                    "b": np.zeros(3)}), ["params['b']", "(M,)"]),
    (lambda: rl.conv2d_forward(np.zeros((8, 8)), _conv_params()), ["x", "(N, R, C)"]),
    (lambda: rl.conv2d_backward(np.zeros((1, 3, 5, 5)),
                                rl.conv2d_forward(np.zeros((1, 8, 8)), _conv_params())[1]),
     ["dy", "(1, 3, 6, 6)"]),
    (lambda: rl.maxpool_forward(np.zeros((1, 2, 5, 6)), 2), ["x", "multiples"]),
    (lambda: rl.maxpool_backward(np.zeros((1, 2, 2, 2)),
                                 rl.maxpool_forward(np.zeros((1, 2, 6, 6)), 2)[1]), ["dy", "(1, 2, 3, 3)"]),
])
def test_bad_input_raises_naming_the_argument(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for w in words:
        assert w in str(err.value)
