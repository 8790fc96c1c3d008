"""Embedding layer: lookup, scatter-add backward, gradient check, bad ids."""

import numpy as np
import pytest

from rnnlib.gradcheck import check_gradients
from rnnlib.embedding import embedding_backward, embedding_forward, init_embedding


def test_forward_is_onehot_matmul():
    rng = np.random.default_rng(0)
    params = init_embedding(7, 4, rng)
    ids = rng.integers(0, 7, size=(3, 5))
    x, _ = embedding_forward(ids, params)
    onehot = np.eye(7)[ids]                                 # (N, T, K)
    np.testing.assert_allclose(x, onehot @ params["E"], rtol=1e-15)
    assert not np.shares_memory(x, params["E"])


def test_backward_repeated_ids_and_gradcheck():
    rng = np.random.default_rng(1)
    params = init_embedding(6, 3, rng)
    ids = np.array([[0, 2, 2, 5], [2, 0, 1, 2]])            # id 2 four times, 3 and 4 never
    x, cache = embedding_forward(ids, params)
    dx = rng.standard_normal(x.shape)
    dx0 = dx.copy()
    dE = embedding_backward(dx, cache)["E"]
    np.testing.assert_allclose(dE[2], dx[0, 1] + dx[0, 2] + dx[1, 0] + dx[1, 3], rtol=1e-15)
    np.testing.assert_array_equal(dE[3], 0.0)
    np.testing.assert_array_equal(dx, dx0)
    # finite differences of sum(x * g) with respect to E, g random (rnnlib.gradcheck)
    errors = check_gradients(embedding_forward, embedding_backward, {}, params, rng,
                             forward_kwargs={"ids": ids})
    assert errors["E"] < 1e-7, errors


def test_torch_parity():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    params = init_embedding(9, 5, rng)
    ids = rng.integers(0, 9, size=(4, 6))
    x, cache = embedding_forward(ids, params)
    emb = torch.nn.Embedding(9, 5).double()
    with torch.no_grad():
        emb.weight.copy_(torch.tensor(params["E"]))
    xt = emb(torch.tensor(ids))
    dx = rng.standard_normal(x.shape)
    xt.backward(torch.tensor(dx))
    assert np.abs(x - xt.detach().numpy()).max() == 0.0
    assert np.abs(embedding_backward(dx, cache)["E"] - emb.weight.grad.numpy()).max() < 1e-12


def test_init_deterministic_and_dtype():
    a = init_embedding(5, 3, np.random.default_rng(3))
    b = init_embedding(5, 3, np.random.default_rng(3))
    np.testing.assert_array_equal(a["E"], b["E"])
    c = init_embedding(5, 3, np.random.default_rng(3), dtype=np.float32)
    assert c["E"].dtype == np.float32
    x, cache = embedding_forward(np.zeros((1, 2), dtype=np.int64), c)
    assert x.dtype == np.float32
    assert embedding_backward(np.ones((1, 2, 3), np.float32), cache)["E"].dtype == np.float32


def test_bad_input():
    params = init_embedding(4, 2, np.random.default_rng(4))
    with pytest.raises(ValueError, match="ids"):
        embedding_forward(np.array([[0, 4]]), params)
    with pytest.raises(ValueError, match="ids"):
        embedding_forward(np.array([[-1, 0]]), params)
    with pytest.raises(TypeError, match="ids"):
        embedding_forward(np.array([[0.0, 1.0]]), params)
    with pytest.raises(TypeError, match="ids"):
        embedding_forward([[0, 1]], params)
    with pytest.raises(TypeError, match="ids"):
        embedding_forward(np.array([[True, False]]), params)
    with pytest.raises(ValueError, match="ids"):
        embedding_forward(np.array([0, 1]), params)
    with pytest.raises(ValueError, match="ids"):
        embedding_forward(np.zeros((0, 3), dtype=int), params)
    with pytest.raises(TypeError, match="params"):
        embedding_forward(np.array([[0]]), {"W": params["E"]})
    _, cache = embedding_forward(np.array([[0, 1]]), params)
    with pytest.raises(ValueError, match="dx"):
        embedding_backward(np.ones((1, 2, 3)), cache)
    with pytest.raises(TypeError, match="rng"):
        init_embedding(4, 2, 0)
    with pytest.raises(ValueError, match="K"):
        init_embedding(0, 2, np.random.default_rng(0))
