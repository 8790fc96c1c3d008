"""Batch norm (plain and per step) and layer norm: gradient checks, torch parity."""

import numpy as np
import pytest

from rnnlib.gradcheck import check_gradients
from rnnlib.normalization import (batchnorm_backward, batchnorm_forward, layernorm_backward,
                                  layernorm_forward, temporal_batchnorm_backward,
                                  temporal_batchnorm_forward)


def params_for(F, rng):
    return {"gamma": 1.0 + 0.3 * rng.standard_normal(F), "beta": 0.2 * rng.standard_normal(F)}


def state_for(shape, rng):
    return {"mean": 0.5 * rng.standard_normal(shape), "var": 0.5 + rng.random(shape)}


def check_grads(forward, backward, x, params, rng):
    """Largest relative error over dx and every parameter (rnnlib.gradcheck)."""
    def fwd(x, params):
        out = forward(x, params)
        return out[0], out[-1]                              # drop the running-stats state
    errors = check_gradients(fwd, backward, {"x": x}, params, rng)
    assert sorted(errors) == ["beta", "gamma", "x"]
    return max(errors.values())


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("shape", [(7, 5), (3, 4, 5)])
def test_batchnorm_gradcheck(mode, shape):
    rng = np.random.default_rng(0)
    x = 2.0 * rng.standard_normal(shape) + 0.7
    params = params_for(shape[-1], rng)
    state = state_for((shape[-1],), rng)
    err = check_grads(lambda x, p: batchnorm_forward(x, p, state, mode=mode),
                      batchnorm_backward, x, params, rng)
    assert err < 1e-7, err


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_temporal_batchnorm_gradcheck(mode):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4, 3)) + 0.3
    params = params_for(3, rng)
    state = state_for((3, 3), rng)                          # T_max = 3 < T = 4 in eval
    err = check_grads(lambda x, p: temporal_batchnorm_forward(x, p, state, mode=mode),
                      temporal_batchnorm_backward, x, params, rng)
    assert err < 1e-7, err


@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 5)])
def test_layernorm_gradcheck(shape):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape) + 0.4
    params = params_for(shape[-1], rng)
    err = check_grads(layernorm_forward, layernorm_backward, x, params, rng)
    assert err < 1e-7, err


def test_batchnorm_torch_parity_train_and_eval():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    F = 6
    params = params_for(F, rng)
    bn = torch.nn.BatchNorm1d(F, momentum=0.1, eps=1e-5).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(params["gamma"]))
        bn.bias.copy_(torch.tensor(params["beta"]))
    state = None
    worst = 0.0
    bn.train()
    for m in (8, 5, 2, 13):                                 # batch sizes, incl. m = 2
        x = 3.0 * rng.standard_normal((m, F)) - 1.0
        y, state, cache = batchnorm_forward(x, params, state, mode="train")
        xt = torch.tensor(x, requires_grad=True)
        yt = bn(xt)
        dy = rng.standard_normal(y.shape)
        yt.backward(torch.tensor(dy))
        dx, grads = batchnorm_backward(dy, cache)
        worst = max(worst, np.abs(y - yt.detach().numpy()).max(),
                    np.abs(state["mean"] - bn.running_mean.numpy()).max(),
                    np.abs(state["var"] - bn.running_var.numpy()).max(),
                    np.abs(dx - xt.grad.numpy()).max(),
                    np.abs(grads["gamma"] - bn.weight.grad.numpy()).max(),
                    np.abs(grads["beta"] - bn.bias.grad.numpy()).max())
        bn.weight.grad = None
        bn.bias.grad = None
    bn.eval()
    x = rng.standard_normal((4, F))
    y, state2, _ = batchnorm_forward(x, params, state, mode="eval")
    worst = max(worst, np.abs(y - bn(torch.tensor(x)).detach().numpy()).max())
    np.testing.assert_array_equal(state2["var"], state["var"])
    assert worst < 1e-10, worst


def test_batchnorm_3d_matches_torch_on_flattened_rows():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5, 4))
    params = params_for(4, rng)
    y, state, _ = batchnorm_forward(x, params, None)
    bn = torch.nn.BatchNorm1d(4).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(params["gamma"]))
        bn.bias.copy_(torch.tensor(params["beta"]))
    # BatchNorm1d on (N, C, L) normalises over N and L: the same N*T rows
    yt = bn(torch.tensor(x).transpose(1, 2)).transpose(1, 2)
    assert np.abs(y - yt.detach().numpy()).max() < 1e-10
    assert np.abs(state["var"] - bn.running_var.numpy()).max() < 1e-10


def test_running_variance_is_unbiased():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 2))
    params = {"gamma": np.ones(2), "beta": np.zeros(2)}
    _, st, _ = batchnorm_forward(x, params, {"mean": np.zeros(2), "var": np.zeros(2)},
                                 momentum=1.0)
    np.testing.assert_allclose(st["var"], x.var(axis=0, ddof=1), rtol=1e-14)
    np.testing.assert_allclose(st["mean"], x.mean(axis=0), rtol=1e-14)
    # averaged over many batches of m = 4 with true variance 4 the stored variance is ~4;
    # the biased batch variance would average (m-1)/m * 4 = 3
    stored = [batchnorm_forward(2.0 * rng.standard_normal((4, 2)), params, None,
                                momentum=1.0)[1]["var"] for _ in range(5000)]
    assert np.all(np.abs(np.mean(stored, axis=0) - 4.0) < 0.2)


def test_train_output_is_normalised_and_eval_is_rowwise():
    rng = np.random.default_rng(6)
    x = 5.0 * rng.standard_normal((50, 3)) + 2.0
    params = {"gamma": np.ones(3), "beta": np.zeros(3)}
    y, st, _ = batchnorm_forward(x, params, None)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-13)
    np.testing.assert_allclose(y.var(axis=0), 1.0, rtol=1e-5)
    ye, _, _ = batchnorm_forward(x, params, st, mode="eval")
    ye1, _, _ = batchnorm_forward(x[:1], params, st, mode="eval")
    np.testing.assert_allclose(ye[:1], ye1, rtol=1e-15)


def test_temporal_batchnorm_per_step_stats_and_reuse():
    rng = np.random.default_rng(7)
    N, T, F = 6, 3, 2
    params = params_for(F, rng)
    x = rng.standard_normal((N, T, F)) * np.array([1.0, 3.0, 10.0])[None, :, None]
    y, st, _ = temporal_batchnorm_forward(x, params, None, momentum=1.0)
    assert st["mean"].shape == (T, F)
    np.testing.assert_allclose(st["var"], x.var(axis=0, ddof=1), rtol=1e-13)
    for t in range(T):                                       # step t alone = plain BN
        yt, _, _ = batchnorm_forward(x[:, t], params, None)
        np.testing.assert_allclose(y[:, t], yt, rtol=1e-13, atol=1e-15)
    # eval on a longer sequence: steps >= T reuse step T-1's statistics
    x_long = rng.standard_normal((2, T + 3, F))
    ye, st2, _ = temporal_batchnorm_forward(x_long, params, st, mode="eval")
    last = {"mean": st["mean"][-1], "var": st["var"][-1]}
    for t in range(T - 1, T + 3):
        yt, _, _ = batchnorm_forward(x_long[:, t], params, last, mode="eval")
        np.testing.assert_allclose(ye[:, t], yt, rtol=1e-14)
    assert st2["mean"].shape == (T, F)
    # training on a longer sequence grows the state; the new rows start at 0 / 1
    _, st3, _ = temporal_batchnorm_forward(rng.standard_normal((4, T + 2, F)), params, st,
                                           momentum=0.0)
    assert st3["mean"].shape == (T + 2, F)
    np.testing.assert_array_equal(st3["mean"][:T], st["mean"])
    np.testing.assert_array_equal(st3["var"][T:], 1.0)


def test_temporal_matches_torch_per_step():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    N, T, F = 5, 4, 3
    params = params_for(F, rng)
    bns = [torch.nn.BatchNorm1d(F).double() for _ in range(T)]
    for bn in bns:
        with torch.no_grad():
            bn.weight.copy_(torch.tensor(params["gamma"]))
            bn.bias.copy_(torch.tensor(params["beta"]))
    state, worst = None, 0.0
    for _ in range(3):
        x = rng.standard_normal((N, T, F))
        y, state, _ = temporal_batchnorm_forward(x, params, state)
        for t, bn in enumerate(bns):
            yt = bn(torch.tensor(x[:, t])).detach().numpy()
            worst = max(worst, np.abs(y[:, t] - yt).max(),
                        np.abs(state["var"][t] - bn.running_var.numpy()).max())
    assert worst < 1e-10, worst


def test_layernorm_torch_parity():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 4, 7)) * 2.0 + 1.0
    params = params_for(7, rng)
    y, cache = layernorm_forward(x, params)
    ln = torch.nn.LayerNorm(7).double()
    with torch.no_grad():
        ln.weight.copy_(torch.tensor(params["gamma"]))
        ln.bias.copy_(torch.tensor(params["beta"]))
    xt = torch.tensor(x, requires_grad=True)
    yt = ln(xt)
    dy = rng.standard_normal(y.shape)
    yt.backward(torch.tensor(dy))
    dx, grads = layernorm_backward(dy, cache)
    worst = max(np.abs(y - yt.detach().numpy()).max(), np.abs(dx - xt.grad.numpy()).max(),
                np.abs(grads["gamma"] - ln.weight.grad.numpy()).max(),
                np.abs(grads["beta"] - ln.bias.grad.numpy()).max())
    assert worst < 1e-10, worst


def test_backward_does_not_modify_inputs():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((4, 3))
    params = params_for(3, rng)
    for fwd, bwd in ((lambda: batchnorm_forward(x, params), batchnorm_backward),
                     (lambda: layernorm_forward(x, params), layernorm_backward)):
        out = fwd()
        dy = rng.standard_normal(x.shape)
        dy0 = dy.copy()
        bwd(dy, out[-1])
        np.testing.assert_array_equal(dy, dy0)


def test_float32_kept():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    p = {"gamma": np.ones(3, np.float32), "beta": np.zeros(3, np.float32)}
    y, st, c = batchnorm_forward(x, p)
    assert y.dtype == np.float32 and st["var"].dtype == np.float32
    dx, g = batchnorm_backward(np.ones_like(y), c)
    assert dx.dtype == np.float32
    y, c = layernorm_forward(x, p)
    assert y.dtype == np.float32


def test_bad_input():
    rng = np.random.default_rng(12)
    p = {"gamma": np.ones(3), "beta": np.zeros(3)}
    with pytest.raises(ValueError, match="x"):
        batchnorm_forward(np.ones((1, 3)), p)                # one row in train mode
    with pytest.raises(ValueError, match="x"):
        batchnorm_forward(np.ones((0, 3)), p)                # empty batch
    with pytest.raises(ValueError, match="x"):
        batchnorm_forward(np.ones(3), p)
    with pytest.raises(ValueError, match=r"params\['gamma'\]"):
        batchnorm_forward(np.ones((4, 2)), p)
    with pytest.raises(ValueError, match="mode"):
        batchnorm_forward(np.ones((4, 3)), p, mode="test")
    with pytest.raises(ValueError, match="state"):
        batchnorm_forward(np.ones((4, 3)), p, None, mode="eval")
    with pytest.raises(ValueError, match="momentum"):
        batchnorm_forward(np.ones((4, 3)), p, momentum=1.5)
    with pytest.raises(ValueError, match="state"):
        batchnorm_forward(np.ones((4, 3)), p, {"mean": np.zeros(3), "var": np.zeros(2)})
    with pytest.raises(ValueError, match="x"):
        temporal_batchnorm_forward(np.ones((4, 3)), p)
    with pytest.raises(ValueError, match="x"):
        temporal_batchnorm_forward(np.ones((1, 5, 3)), p)
    with pytest.raises(ValueError, match="state"):
        temporal_batchnorm_forward(np.ones((2, 5, 3)), p, None, mode="eval")
    with pytest.raises(TypeError, match="x"):
        layernorm_forward(np.ones((2, 3), dtype=int), p)
    _, c = layernorm_forward(rng.standard_normal((2, 3)), p)
    with pytest.raises(ValueError, match="dy"):
        layernorm_backward(np.ones((3, 3)), c)


# --- masks: padding never shifts the statistics --------------------------------

def _ragged(rng, N=4, T=6, F=3):
    x = rng.standard_normal((N, T, F)) + 0.5
    lengths = np.array([6, 4, 2, 5])
    mask = (np.arange(T)[None, :] < lengths[:, None]).astype(float)
    return x, mask, lengths


@pytest.mark.parametrize("temporal", [False, True])
def test_padding_changes_nothing_on_valid_steps(temporal):
    """The same batch padded to two lengths (with garbage in the padding) gives the
    same outputs, running statistics and gradients on its valid steps."""
    rng = np.random.default_rng(5)
    x, mask, _ = _ragged(rng)
    params = params_for(3, rng)
    fwd, bwd = ((temporal_batchnorm_forward, temporal_batchnorm_backward) if temporal
                else (batchnorm_forward, batchnorm_backward))
    pad = 3
    x_long = np.concatenate([x, 100 * rng.standard_normal((4, pad, 3))], axis=1)
    x_long[:, :6][mask == 0] = -50.0                           # garbage where x is padding
    mask_long = np.concatenate([mask, np.zeros((4, pad))], axis=1)
    x_short = x.copy()
    x_short[mask == 0] = 7.0                                   # other garbage
    y1, st1, c1 = fwd(x_short, params, None, mask=mask)
    y2, st2, c2 = fwd(x_long, params, None, mask=mask_long)
    valid = mask.astype(bool)
    np.testing.assert_allclose(y1[valid], y2[:, :6][valid], rtol=0, atol=1e-12)
    T = 6 if temporal else None
    np.testing.assert_allclose(st1["mean"][:T], st2["mean"][:T], rtol=0, atol=1e-12)
    np.testing.assert_allclose(st1["var"][:T], st2["var"][:T], rtol=0, atol=1e-12)
    dy = rng.standard_normal(y1.shape)
    dy_long = np.concatenate([dy, rng.standard_normal((4, pad, 3))], axis=1)
    dx1, g1 = bwd(dy, c1)
    dx2, g2 = bwd(dy_long, c2)
    np.testing.assert_allclose(dx1[valid], dx2[:, :6][valid], rtol=0, atol=1e-12)
    assert np.all(dx1[~valid] == 0) and np.all(dx2[:, 6:] == 0)   # padding receives nothing
    for k in g1:
        np.testing.assert_allclose(g1[k], g2[k], rtol=0, atol=1e-12)


def test_masked_temporal_statistics_are_those_of_the_valid_sequences():
    rng = np.random.default_rng(6)
    x, mask, lengths = _ragged(rng)
    params = {"gamma": np.ones(3), "beta": np.zeros(3)}
    y, st, _ = temporal_batchnorm_forward(x, params, None, mask=mask, momentum=1.0)
    for t in range(6):
        rows = x[lengths > t, t]                                # the sequences valid at t
        xhat = (rows - rows.mean(0)) / np.sqrt(rows.var(0) + 1e-5)
        np.testing.assert_allclose(y[lengths > t, t], xhat, rtol=0, atol=1e-12)
        if len(rows) >= 2:                                      # momentum 1: the batch's own
            np.testing.assert_allclose(st["mean"][t], rows.mean(0), atol=1e-12)
            np.testing.assert_allclose(st["var"][t], rows.var(0, ddof=1), atol=1e-12)
        else:                                                   # too few: left at 0, 1
            np.testing.assert_array_equal(st["mean"][t], 0.0)
            np.testing.assert_array_equal(st["var"][t], 1.0)


@pytest.mark.parametrize("temporal", [False, True])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_masked_batchnorm_gradcheck(temporal, mode):
    rng = np.random.default_rng(7)
    x, mask, _ = _ragged(rng)
    params = params_for(3, rng)
    state = state_for((6, 3) if temporal else (3,), rng)
    fwd, bwd = ((temporal_batchnorm_forward, temporal_batchnorm_backward) if temporal
                else (batchnorm_forward, batchnorm_backward))

    def f(x, params, mask=None):
        y, _, cache = fwd(x, params, state, mode=mode, mask=mask)
        return y, cache

    errors = check_gradients(f, bwd, {"x": x}, params, rng, mask=mask)
    assert max(errors.values()) < 1e-7, errors


def test_mask_needs_a_sequence_input():
    p = {"gamma": np.ones(3), "beta": np.zeros(3)}
    with pytest.raises(ValueError, match=r"mask: a mask marks the valid steps of a \(N, T, F\) input"):
        batchnorm_forward(np.ones((5, 3)), p, mask=np.ones((5, 1)))
    with pytest.raises(ValueError, match=r"mask: expected shape \(N, T\) = \(2, 4\), got \(2, 3\)"):
        temporal_batchnorm_forward(np.ones((2, 4, 3)), p, mask=np.ones((2, 3)))
