"""Gradient clipping and weight penalties."""

import numpy as np
import pytest

from rnnlib.clip import clip_by_global_norm, clip_by_value, global_norm
from rnnlib.regularization import l1_penalty, l2_penalty


def make(rng, scale=1.0):
    return {"U": scale * rng.standard_normal((4, 3)),
            "W": scale * rng.standard_normal((4, 4)),
            "b": scale * rng.standard_normal(4)}


def test_global_norm_exact():
    g = {"a": np.array([[3.0]]), "b": np.array([4.0, 0.0])}
    assert global_norm(g) == 5.0


@pytest.mark.parametrize("scale,max_norm", [(10.0, 1.0), (0.01, 1.0), (1.0, 3.0), (0.0, 1.0)])
def test_clip_by_global_norm_matches_torch(scale, max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = make(rng, scale)
    before = {k: v.copy() for k, v in grads.items()}
    clipped, norm = clip_by_global_norm(grads, max_norm)
    ts = [torch.zeros(v.shape, dtype=torch.float64, requires_grad=True) for v in grads.values()]
    for t, v in zip(ts, grads.values()):
        t.grad = torch.tensor(v)
    tnorm = float(torch.nn.utils.clip_grad_norm_(ts, max_norm))
    assert abs(norm - tnorm) < 1e-10
    for t, k in zip(ts, grads):
        assert np.max(np.abs(clipped[k] - t.grad.numpy())) < 1e-10
        np.testing.assert_array_equal(grads[k], before[k])      # input untouched
        assert not np.shares_memory(clipped[k], grads[k])
    after = global_norm(clipped)
    assert after <= max_norm
    if norm > max_norm:
        # clipped to max_norm up to the 1e-6 of the denominator
        assert after == pytest.approx(max_norm * norm / (norm + 1e-6), rel=1e-12)
    else:
        assert after == pytest.approx(norm, rel=1e-15)


def test_clip_by_global_norm_keeps_direction():
    rng = np.random.default_rng(1)
    grads = make(rng, 5.0)
    clipped, norm = clip_by_global_norm(grads, 0.5)
    ratios = np.concatenate([(clipped[k] / grads[k]).ravel() for k in grads])
    assert np.ptp(ratios) < 1e-15
    assert ratios[0] == pytest.approx(0.5 / (norm + 1e-6), rel=1e-14)


def test_clip_by_value():
    grads = {"W": np.array([[-3.0, 0.5], [2.0, -0.1]]), "b": np.array([10.0])}
    clipped, norm = clip_by_value(grads, 1.0)
    np.testing.assert_array_equal(clipped["W"], [[-1.0, 0.5], [1.0, -0.1]])
    np.testing.assert_array_equal(clipped["b"], [1.0])
    assert norm == pytest.approx(np.sqrt(9 + 0.25 + 4 + 0.01 + 100), rel=1e-15)
    assert grads["b"][0] == 10.0
    torch = pytest.importorskip("torch")
    t = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
    t.grad = torch.tensor(grads["W"])
    torch.nn.utils.clip_grad_value_([t], 1.0)
    np.testing.assert_array_equal(clipped["W"], t.grad.numpy())


def test_nonfinite_norm_passed_through():
    grads = {"W": np.array([[np.inf, 1.0]])}
    clipped, norm = clip_by_global_norm(grads, 1.0)
    assert norm == np.inf
    assert np.isnan(global_norm({"W": np.array([np.nan])}))


def test_float32_kept():
    g = {"W": np.full((2, 2), 10.0, dtype=np.float32)}
    clipped, _ = clip_by_global_norm(g, 1.0)
    assert clipped["W"].dtype == np.float32
    clipped, _ = clip_by_value(g, 1.0)
    assert clipped["W"].dtype == np.float32


def test_clip_bad_input():
    g = {"W": np.ones((2, 2))}
    with pytest.raises(ValueError, match="max_norm"):
        clip_by_global_norm(g, 0.0)
    with pytest.raises(ValueError, match="limit"):
        clip_by_value(g, -1.0)
    with pytest.raises(TypeError, match="grads"):
        global_norm([np.ones(2)])
    with pytest.raises(ValueError, match="grads"):
        global_norm({})
    with pytest.raises(TypeError, match=r"grads\['W'\]"):
        global_norm({"W": np.ones(2, dtype=int)})


def _numgrad(f, params, key, h=1e-6):
    p = {k: v.copy() for k, v in params.items()}
    g = np.zeros_like(p[key])
    it = np.nditer(p[key], flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = p[key][i]
        p[key][i] = old + h
        fp = f(p)
        p[key][i] = old - h
        fm = f(p)
        p[key][i] = old
        g[i] = (fp - fm) / (2 * h)
    return g


def test_l2_penalty_value_and_gradient():
    rng = np.random.default_rng(2)
    params = make(rng)
    lam = 0.3
    loss, grads = l2_penalty(params, lam)
    expected = 0.5 * lam * (np.sum(params["U"] ** 2) + np.sum(params["W"] ** 2))
    assert loss == pytest.approx(expected, rel=1e-14)
    np.testing.assert_array_equal(grads["b"], np.zeros(4))       # biases not penalised
    for k in ("U", "W"):
        np.testing.assert_allclose(grads[k], lam * params[k], rtol=1e-15)
        num = _numgrad(lambda p: l2_penalty(p, lam)[0], params, k)
        rel = np.max(np.abs(num - grads[k]) / np.maximum(1e-12, np.abs(num) + np.abs(grads[k])))
        assert rel < 1e-7
    loss_b, grads_b = l2_penalty(params, lam, keys=["b"])
    assert loss_b == pytest.approx(0.5 * lam * np.sum(params["b"] ** 2), rel=1e-14)
    np.testing.assert_array_equal(grads_b["U"], 0.0)


def test_l2_equals_torch_weight_decay():
    torch = pytest.importorskip("torch")
    from rnnlib.optim import sgd
    rng = np.random.default_rng(3)
    params = {"W": rng.standard_normal((3, 3))}
    dgrad = {"W": rng.standard_normal((3, 3))}
    _, pen = l2_penalty(params, 0.1)
    new, _ = sgd(params, {"W": dgrad["W"] + pen["W"]}, lr=0.5)
    t = torch.tensor(params["W"], requires_grad=True)
    opt = torch.optim.SGD([t], lr=0.5, weight_decay=0.1)
    t.grad = torch.tensor(dgrad["W"])
    opt.step()
    assert np.max(np.abs(new["W"] - t.detach().numpy())) < 1e-14


def test_l1_penalty_value_and_subgradient():
    rng = np.random.default_rng(4)
    params = make(rng)
    params["W"][0, 0] = 0.0
    lam = 0.2
    loss, grads = l1_penalty(params, lam)
    assert loss == pytest.approx(lam * (np.abs(params["U"]).sum() + np.abs(params["W"]).sum()),
                                 rel=1e-14)
    assert grads["W"][0, 0] == 0.0                                # subgradient 0 at 0
    np.testing.assert_array_equal(grads["U"], lam * np.sign(params["U"]))
    np.testing.assert_array_equal(grads["b"], 0.0)
    num = _numgrad(lambda p: l1_penalty(p, lam)[0], params, "U")  # no entry at 0
    np.testing.assert_allclose(num, grads["U"], rtol=1e-7)


def test_penalty_bad_input():
    params = {"W": np.ones((2, 2))}
    with pytest.raises(ValueError, match="lam"):
        l2_penalty(params, -0.1)
    with pytest.raises(ValueError, match="keys"):
        l1_penalty(params, 0.1, keys=["V"])
    with pytest.raises(TypeError, match="params"):
        l2_penalty(np.ones((2, 2)), 0.1)
