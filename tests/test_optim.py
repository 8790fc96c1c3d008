"""Optimizers: functional interface, no in-place edits, parity with torch.optim."""

import numpy as np
import pytest

from rnnlib.optim import OPTIMIZERS, adagrad, adam, momentum, rmsprop, sgd

SHAPES = {"U": (5, 3), "W": (5, 5), "b": (5,)}


def make(rng, dtype=np.float64):
    return {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}


def grad_seq(rng, n):
    return [make(rng) for _ in range(n)]


CASES = [
    ("sgd", {"lr": 0.1}, "SGD", {"lr": 0.1}),
    ("sgd", {}, "SGD", {}),
    ("momentum", {"lr": 0.05, "mu": 0.9}, "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("momentum", {"lr": 0.05, "mu": 0.8, "dampening": 0.3}, "SGD",
     {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    ("momentum", {"lr": 0.05, "mu": 0.9, "nesterov": True}, "SGD",
     {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("adagrad", {"lr": 0.1}, "Adagrad", {"lr": 0.1}),
    ("adagrad", {}, "Adagrad", {}),
    ("adagrad", {"lr": 0.1, "initial_accumulator_value": 0.1}, "Adagrad",
     {"lr": 0.1, "initial_accumulator_value": 0.1}),
    ("rmsprop", {"lr": 0.01}, "RMSprop", {"lr": 0.01}),
    ("rmsprop", {"lr": 0.003, "alpha": 0.9, "eps": 1e-6}, "RMSprop",
     {"lr": 0.003, "alpha": 0.9, "eps": 1e-6}),
    ("adam", {"lr": 0.01}, "Adam", {"lr": 0.01}),
    ("adam", {}, "Adam", {}),
    ("adam", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6}, "Adam",
     {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6}),
]


@pytest.mark.parametrize("name,kw,tname,tkw", CASES)
def test_torch_parity(name, kw, tname, tkw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    params = make(rng)
    grads = grad_seq(rng, 12)
    tparams = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
               for k, v in params.items()}
    topt = getattr(torch.optim, tname)(list(tparams.values()), **tkw)
    fn = OPTIMIZERS[name]
    state = None
    worst = 0.0
    for g in grads:
        params, state = fn(params, g, state, **kw)
        for k, tp in tparams.items():
            tp.grad = torch.tensor(g[k], dtype=torch.float64)
        topt.step()
        for k, tp in tparams.items():
            worst = max(worst, float(np.max(np.abs(params[k] - tp.detach().numpy()))))
    assert state["step"] == len(grads)
    assert worst < 1e-10, worst


def test_defaults_match_torch():
    torch = pytest.importorskip("torch")
    import inspect
    def default(fn, name):
        return inspect.signature(fn).parameters[name].default
    tsig = {c: inspect.signature(getattr(torch.optim, c).__init__).parameters
            for c in ("SGD", "Adagrad", "RMSprop", "Adam")}
    assert default(sgd, "lr") == tsig["SGD"]["lr"].default
    assert default(momentum, "lr") == tsig["SGD"]["lr"].default
    assert default(momentum, "dampening") == tsig["SGD"]["dampening"].default
    assert default(adagrad, "lr") == tsig["Adagrad"]["lr"].default
    assert default(adagrad, "eps") == tsig["Adagrad"]["eps"].default
    assert default(adagrad, "initial_accumulator_value") == \
        tsig["Adagrad"]["initial_accumulator_value"].default
    assert default(rmsprop, "lr") == tsig["RMSprop"]["lr"].default
    assert default(rmsprop, "alpha") == tsig["RMSprop"]["alpha"].default
    assert default(rmsprop, "eps") == tsig["RMSprop"]["eps"].default
    assert default(adam, "lr") == tsig["Adam"]["lr"].default
    assert tuple(default(adam, "betas")) == tuple(tsig["Adam"]["betas"].default)
    assert default(adam, "eps") == tsig["Adam"]["eps"].default


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_inputs_not_modified_and_state_threaded(name):
    rng = np.random.default_rng(1)
    params, g1, g2 = make(rng), make(rng), make(rng)
    p0 = {k: v.copy() for k, v in params.items()}
    g0 = {k: v.copy() for k, v in g1.items()}
    fn = OPTIMIZERS[name]
    p1, s1 = fn(params, g1, None, lr=0.01)
    s1_copy = {k: ({kk: vv.copy() for kk, vv in v.items()} if isinstance(v, dict) else v)
               for k, v in s1.items()}
    p2, s2 = fn(p1, g2, s1, lr=0.01)
    for k in params:
        np.testing.assert_array_equal(params[k], p0[k])
        np.testing.assert_array_equal(g1[k], g0[k])
        assert not np.shares_memory(p1[k], params[k])
        assert not np.shares_memory(p2[k], p1[k])
    for key, v in s1.items():
        if isinstance(v, dict):
            for kk in v:
                np.testing.assert_array_equal(v[kk], s1_copy[key][kk])
    assert (s1["step"], s2["step"]) == (1, 2)
    # the same call gives the same result (no hidden state)
    p2b, _ = fn(p1, g2, s1, lr=0.01)
    for k in params:
        np.testing.assert_array_equal(p2b[k], p2[k])


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_float32_kept(name):
    rng = np.random.default_rng(2)
    params, grads = make(rng, np.float32), make(rng, np.float32)
    p, s = OPTIMIZERS[name](params, grads, None, lr=0.01)
    p, s = OPTIMIZERS[name](p, grads, s, lr=0.01)
    assert all(v.dtype == np.float32 for v in p.values())


def test_known_first_steps():
    # hand-computed first steps that document the conventions
    p = {"w": np.array([[1.0, -2.0]])}
    g = {"w": np.array([[0.5, -4.0]])}
    # Adam: first step moves each entry by ~lr in the sign of g
    p1, _ = adam(p, g, lr=0.1)
    np.testing.assert_allclose(p1["w"], [[0.9, -1.9]], atol=1e-7)
    # RMSprop: first step is lr / sqrt(1 - alpha) = 10 lr per entry
    p1, _ = rmsprop(p, g, lr=0.01, alpha=0.99, eps=0.0)
    np.testing.assert_allclose(p1["w"], [[1.0 - 0.1, -2.0 + 0.1]], rtol=1e-12)
    # Adagrad: first step is lr * sign(g) (accumulator starts at 0)
    p1, _ = adagrad(p, g, lr=0.5, eps=0.0)
    np.testing.assert_allclose(p1["w"], [[0.5, -1.5]], rtol=1e-12)
    # momentum: first buffer = g even with dampening
    _, s = momentum(p, g, lr=0.1, mu=0.9, dampening=0.5)
    np.testing.assert_array_equal(s["momentum_buffer"]["w"], g["w"])


def test_bad_input():
    rng = np.random.default_rng(3)
    params, grads = make(rng), make(rng)
    with pytest.raises(ValueError, match="lr"):
        sgd(params, grads, lr=-1.0)
    with pytest.raises(ValueError, match="lr"):
        adam(params, grads, lr=0.0)
    with pytest.raises(ValueError, match=r"grads\['W'\]"):
        sgd(params, {**grads, "W": np.zeros((5, 4))})
    with pytest.raises(ValueError, match="grads"):
        sgd(params, {"U": grads["U"]})
    with pytest.raises(ValueError, match="finite"):
        sgd(params, {**grads, "b": np.full(5, np.nan)})
    with pytest.raises(TypeError, match="params"):
        sgd([1.0], grads)
    with pytest.raises(ValueError, match="mu"):
        momentum(params, grads, mu=1.0)
    with pytest.raises(ValueError, match="betas"):
        adam(params, grads, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="alpha"):
        rmsprop(params, grads, alpha=1.5)
    with pytest.raises(ValueError, match="dampening"):
        momentum(params, grads, nesterov=True, dampening=0.1)
    _, s = adam(params, grads)
    with pytest.raises(ValueError, match="state"):
        adagrad(params, grads, s)
    with pytest.raises(TypeError, match="state"):
        adam(params, grads, {"foo": 1})
