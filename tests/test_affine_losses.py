"""Affine output layer and the losses: gradient checks, masks, stability."""

import warnings

import numpy as np
import pytest

from rnnlib import (affine_backward, affine_forward, check_gradients, init_affine,
                    mse_loss, numerical_gradient, rel_error, softmax_cross_entropy)

N, T, H, K = 3, 5, 7, 6


def test_affine_gradients(rng):
    h = rng.standard_normal((N, T, H))
    p = init_affine(H, K, rng)
    errors = check_gradients(affine_forward, affine_backward, {"h": h}, p, rng)
    assert max(errors.values()) < 1e-7, errors
    o, _ = affine_forward(h, p)
    np.testing.assert_allclose(o[1, 2], p["V"] @ h[1, 2] + p["c"], atol=1e-15)


@pytest.mark.parametrize("use_mask", [False, True])
def test_cross_entropy_gradient_and_value(rng, ragged_mask, use_mask):
    logits = rng.standard_normal((N, T, K))
    y = rng.integers(0, K, size=(N, T))
    mask = ragged_mask if use_mask else None
    loss, dlogits = softmax_cross_entropy(logits, y, mask=mask)
    num = numerical_gradient(lambda: softmax_cross_entropy(logits, y, mask=mask)[0], logits)
    assert rel_error(dlogits, num) < 1e-7
    valid = np.ones((N, T), bool) if mask is None else mask.astype(bool)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    ref = -np.mean(np.log(np.take_along_axis(p, y[..., None], -1)[..., 0])[valid])
    assert abs(loss - ref) < 1e-14
    # softmax minus one-hot, over the number of valid steps
    onehot = np.eye(K)[y]
    np.testing.assert_allclose(dlogits, (p - onehot) * valid[..., None] / valid.sum(), atol=1e-15)


def test_cross_entropy_padding_targets_ignored(ragged_mask, rng):
    logits = rng.standard_normal((N, T, K))
    y = rng.integers(0, K, size=(N, T))
    y2 = y.copy()
    y2[ragged_mask == 0] = -1                       # a padding id outside [0, K)
    a = softmax_cross_entropy(logits, y, mask=ragged_mask)
    b = softmax_cross_entropy(logits, y2, mask=ragged_mask)
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])


def test_cross_entropy_extreme_logits():
    logits = np.array([[[1000.0, -1000.0, 0.0]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, d = softmax_cross_entropy(logits, np.array([[1]]))
    assert loss == 2000.0
    np.testing.assert_allclose(d[0, 0], [1.0, -1.0, 0.0], atol=1e-300)


@pytest.mark.parametrize("use_mask", [False, True])
def test_mse(rng, ragged_mask, use_mask):
    pred = rng.standard_normal((N, T, K))
    target = rng.standard_normal((N, T, K))
    mask = ragged_mask if use_mask else None
    loss, dpred = mse_loss(pred, target, mask=mask)
    num = numerical_gradient(lambda: mse_loss(pred, target, mask=mask)[0], pred)
    assert rel_error(dpred, num) < 1e-7
    valid = np.ones((N, T), bool) if mask is None else mask.astype(bool)
    assert abs(loss - np.mean(((pred - target) ** 2)[valid])) < 1e-14


def test_loss_bad_input(rng):
    logits = rng.standard_normal((N, T, K))
    y = rng.integers(0, K, size=(N, T))
    with pytest.raises(ValueError, match=r"y: expected class indices in \[0, K\) = \[0, 6\), got \[6, 6, 6\]"):
        softmax_cross_entropy(logits, np.full((N, T), 6))
    with pytest.raises(TypeError, match="y: expected an integer array .* got dtype float64"):
        softmax_cross_entropy(logits, y.astype(float))
    with pytest.raises(ValueError, match=r"y: expected shape \(N, T\) = \(3, 5\), got \(3, 4\)"):
        softmax_cross_entropy(logits, y[:, :4])
    with pytest.raises(ValueError, match="mask: expected at least one valid"):
        softmax_cross_entropy(logits, y, mask=np.zeros((N, T)))
    with pytest.raises(ValueError, match=r"target: expected shape the shape of pred = \(3, 5, 6\), got \(3, 5\)"):
        mse_loss(logits, logits[..., 0])
    with pytest.raises(ValueError, match=r"pred: expected a 3-d array of shape \(N, T, K\) when a mask"):
        mse_loss(logits[..., 0], logits[..., 0], mask=np.ones((N, T)))
    with pytest.raises(ValueError, match=r"do: expected shape \(N, T, K\) = \(3, 5, 6\), got \(3, 5, 2\)"):
        h = rng.standard_normal((N, T, H))
        _, cache = affine_forward(h, init_affine(H, K, rng))
        affine_backward(np.ones((N, T, 2)), cache)
