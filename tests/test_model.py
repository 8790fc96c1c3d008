"""The composed model: gradient checks of every variant, shapes, bad input."""

import numpy as np
import pytest

from rnnlib.gradcheck import numerical_gradient, rel_error
from rnnlib.model import (Model, ModelSpec, flatten_params, init_model, model_backward,
                          model_forward, model_loss, unflatten_params)

N, T, D, H, K, VOCAB = 3, 4, 3, 5, 4, 6


def _jitter(params, rng, scale=0.3):
    """Make every parameter (also gamma, beta, biases) non-trivial."""
    flat = flatten_params(params)
    return unflatten_params({k: v + scale * rng.standard_normal(v.shape) for k, v in flat.items()})


def _inputs(spec, rng, n=N, t=T):
    if spec.input == "embedding":
        return rng.integers(0, spec.vocab, size=(n, t))
    return rng.standard_normal((n, t, spec.D))


def _targets(spec, rng, n=N, t=T):
    shape = (n,) if spec.output == "last" else (n, t)
    if spec.loss == "xent":
        return rng.integers(0, spec.K, size=shape)
    return rng.standard_normal(shape + (spec.K,))


SPECS = [
    dict(cell="rnn"),
    dict(cell="rnn", activation="relu", loss="mse"),
    dict(cell="lstm"),
    dict(cell="gru"),
    dict(cell="lstm", input="embedding", vocab=VOCAB),
    dict(cell="gru", input="embedding", vocab=VOCAB, norm="layer"),
    dict(cell="lstm", norm="layer", loss="mse"),
    dict(cell="rnn", output="last"),
    dict(cell="lstm", output="last", loss="mse"),
    dict(cell="gru", bidirectional=True),
    dict(cell="lstm", bidirectional=True, output="last", norm="layer"),
    dict(cell="rnn", bidirectional=True, input="embedding", vocab=VOCAB, loss="mse"),
]


def _ids(spec_kwargs):
    return "-".join(f"{k}={v}" for k, v in spec_kwargs.items())


def _check_all_grads(loss_of, params, grads):
    """Relative error of every parameter gradient against central differences."""
    flat_p, flat_g = flatten_params(params), flatten_params(grads)
    assert set(flat_p) == set(flat_g)
    errors = {}
    for key, p in flat_p.items():
        num = numerical_gradient(loss_of, p)
        assert flat_g[key].shape == p.shape
        errors[key] = rel_error(flat_g[key], num)
    return errors


@pytest.mark.parametrize("kw", SPECS, ids=[_ids(s) for s in SPECS])
@pytest.mark.parametrize("masked", [False, True])
def test_model_forward_backward_gradcheck(kw, masked):
    rng = np.random.default_rng(0)
    spec = ModelSpec(D=D, H=H, K=K, **kw)
    params = _jitter(init_model(spec, rng), rng)
    x = _inputs(spec, rng)
    mask = None
    if masked:
        mask = np.ones((N, T))
        mask[0, 2:] = 0
        mask[2, 3:] = 0
    out, cache = model_forward(params, x, spec, mask=mask)
    expected = (N, K) if spec.output == "last" else (N, T, K)
    assert out.shape == expected
    dout = rng.standard_normal(expected)
    if mask is not None and spec.output == "every":
        dout *= mask[:, :, None]             # padded outputs are read by no loss
    grads = model_backward(dout, cache)

    def loss_of():
        o, _ = model_forward(params, x, spec, mask=mask)
        return float(np.sum(o * dout))

    errors = _check_all_grads(loss_of, params, grads)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("kw", SPECS, ids=[_ids(s) for s in SPECS])
def test_model_loss_gradcheck(kw):
    rng = np.random.default_rng(1)
    spec = ModelSpec(D=D, H=H, K=K, **kw)
    params = _jitter(init_model(spec, rng), rng)
    x, y = _inputs(spec, rng), _targets(spec, rng)
    loss, grads = model_loss(params, x, y, spec)
    assert np.isfinite(loss) and loss > 0
    errors = _check_all_grads(lambda: model_loss(params, x, y, spec)[0], params, grads)
    assert max(errors.values()) < 1e-7, errors


def test_model_loss_masked_steps_do_not_count():
    rng = np.random.default_rng(2)
    spec = ModelSpec(cell="lstm", D=D, H=H, K=K)
    params = init_model(spec, rng)
    x, y = _inputs(spec, rng), _targets(spec, rng)
    mask = np.ones((N, T))
    mask[:, -1] = 0
    loss_masked, _ = model_loss(params, x, y, spec, mask=mask)
    # the last step is padding: changing its input and target changes nothing
    x2, y2 = x.copy(), y.copy()
    x2[:, -1] += 5.0
    y2[:, -1] = (y2[:, -1] + 1) % K
    loss2, _ = model_loss(params, x2, y2, spec, mask=mask)
    assert loss2 == pytest.approx(loss_masked, rel=1e-14)
    # and equals the loss on the first T-1 steps alone
    loss_short, _ = model_loss(params, x[:, :-1], y[:, :-1], spec)
    assert loss_short == pytest.approx(loss_masked, rel=1e-12)


def test_last_output_is_final_state_of_each_masked_sequence():
    rng = np.random.default_rng(3)
    spec = ModelSpec(cell="gru", D=D, H=H, K=K, output="last")
    params = init_model(spec, rng)
    x = _inputs(spec, rng)
    mask = np.ones((N, T))
    mask[1, 2:] = 0
    out, _ = model_forward(params, x, spec, mask=mask)
    short, _ = model_forward(params, x[1:2, :2], spec)
    np.testing.assert_allclose(out[1], short[0], rtol=1e-13, atol=1e-13)


def test_float32_model_runs_and_keeps_dtype():
    rng = np.random.default_rng(4)
    spec = ModelSpec(cell="lstm", D=D, H=H, K=K, dtype="float32")
    params = init_model(spec, rng)
    assert all(v.dtype == np.float32 for v in flatten_params(params).values())
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    loss, grads = model_loss(params, x, _targets(spec, rng), spec)
    assert all(g.dtype == np.float32 for g in flatten_params(grads).values())
    assert np.isfinite(loss)


def test_model_is_deterministic_and_class_wrapper_agrees():
    spec = ModelSpec(cell="lstm", input="embedding", vocab=VOCAB, D=D, H=H, K=K)
    a = init_model(spec, np.random.default_rng(5))
    b = init_model(spec, np.random.default_rng(5))
    for k, v in flatten_params(a).items():
        np.testing.assert_array_equal(v, flatten_params(b)[k])
    rng = np.random.default_rng(6)
    x, y = _inputs(spec, rng), _targets(spec, rng)
    model = Model(spec, params=a)
    l1, _ = model.loss(x, y)
    l2, _ = model.loss(x, y)                     # no hidden state between calls
    l3, _ = model_loss(a, x, y, spec)
    assert l1 == l2 == l3


def test_param_shapes_and_flatten_roundtrip():
    spec = ModelSpec(cell="gru", input="embedding", vocab=VOCAB, D=D, H=H, K=K,
                     bidirectional=True, norm="layer")
    params = init_model(spec, np.random.default_rng(7))
    assert set(params) == {"embed", "rnn_fw", "rnn_bw", "norm", "out"}
    assert params["embed"]["E"].shape == (VOCAB, D)
    assert params["rnn_fw"]["U"].shape == (3 * H, D)
    assert params["norm"]["gamma"].shape == (2 * H,)
    assert params["out"]["V"].shape == (K, 2 * H)
    flat = flatten_params(params)
    assert "rnn_bw.W" in flat
    back = unflatten_params(flat)
    assert back["rnn_bw"]["W"] is params["rnn_bw"]["W"]


@pytest.mark.parametrize("kw, err, match", [
    (dict(cell="elman"), ValueError, "spec.cell"),
    (dict(input="embedding"), TypeError, "spec.vocab"),
    (dict(vocab=5), ValueError, "spec.vocab"),
    (dict(H=0), ValueError, "spec.H"),
    (dict(norm="batch"), ValueError, "spec.norm"),
    (dict(output="first"), ValueError, "spec.output"),
    (dict(loss="hinge"), ValueError, "spec.loss"),
    (dict(bidirectional=1), TypeError, "spec.bidirectional"),
])
def test_bad_spec(kw, err, match):
    with pytest.raises(err, match=match):
        ModelSpec(**kw)


def test_bad_inputs_and_targets():
    rng = np.random.default_rng(8)
    spec = ModelSpec(cell="lstm", input="embedding", vocab=VOCAB, D=D, H=H, K=K)
    params = init_model(spec, rng)
    ids = rng.integers(0, VOCAB, size=(N, T))
    with pytest.raises(ValueError, match="inputs"):
        model_forward(params, ids + VOCAB, spec)                  # ids out of range
    with pytest.raises(TypeError, match="inputs"):
        model_forward(params, ids.astype(float), spec)
    with pytest.raises(ValueError, match="targets"):
        model_loss(params, ids, rng.integers(0, K, size=(N, T + 1)), spec)
    with pytest.raises(TypeError, match="targets"):
        model_loss(params, ids, rng.standard_normal((N, T)), spec)
    with pytest.raises(ValueError, match="params"):
        model_forward({"out": params["out"]}, ids, spec)
    with pytest.raises(ValueError, match="doutputs"):
        _, cache = model_forward(params, ids, spec)
        model_backward(np.zeros((N, T, K + 1)), cache)
    dense = ModelSpec(cell="rnn", D=D, H=H, K=K)
    p2 = init_model(dense, rng)
    with pytest.raises(ValueError):
        model_forward(p2, np.zeros((0, T, D)), dense)             # empty batch
    with pytest.raises(ValueError):
        model_forward(p2, np.zeros((N, T, D + 1)), dense)         # wrong D


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_model_and_train_agree_with_torch(cell):
    """Loss, every gradient, and three Adam steps of train() match torch in float64."""
    torch = pytest.importorskip("torch")
    from rnnlib.interop import params_from_torch
    from rnnlib.training import train

    torch.manual_seed(0)
    Kv, Dm, Hm, Nn, Tt = 7, 4, 5, 3, 6
    emb = torch.nn.Embedding(Kv, Dm).double()
    rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        Dm, Hm, batch_first=True).double()
    lin = torch.nn.Linear(Hm, Kv).double()
    spec = ModelSpec(cell=cell, input="embedding", vocab=Kv, D=Dm, H=Hm, K=Kv)
    params = {"embed": {"E": emb.weight.detach().numpy().copy()},
              "rnn": params_from_torch(rnn),
              "out": {"V": lin.weight.detach().numpy().copy(), "c": lin.bias.detach().numpy().copy()}}
    rng = np.random.default_rng(0)
    ids = rng.integers(0, Kv, size=(Nn, Tt))
    y = rng.integers(0, Kv, size=(Nn, Tt))

    def torch_loss():
        h, _ = rnn(emb(torch.from_numpy(ids)))
        return torch.nn.functional.cross_entropy(lin(h).reshape(-1, Kv), torch.from_numpy(y).reshape(-1))

    modules = [emb, rnn, lin]
    loss_t = torch_loss()
    for m in modules:
        m.zero_grad()
    loss_t.backward()
    loss, grads = model_loss(params, ids, y, spec)
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    torch_grads = {"embed": {"E": emb.weight.grad.numpy()},
                   "out": {"V": lin.weight.grad.numpy(), "c": lin.bias.grad.numpy()},
                   # rnnlib's b stands for bias_ih + bias_hh, so dL/db = dL/dbias_ih
                   "rnn": {"U": rnn.weight_ih_l0.grad.numpy(), "W": rnn.weight_hh_l0.grad.numpy(),
                           "b": rnn.bias_ih_l0.grad.numpy()}}
    if cell == "gru":                               # the n gate's recurrent bias stays apart
        torch_grads["rnn"]["bhn"] = rnn.bias_hh_l0.grad.numpy()[2 * Hm:]
    fg, ft = flatten_params(grads), flatten_params(torch_grads)
    assert set(fg) == set(ft)
    for k in fg:
        np.testing.assert_allclose(fg[k], ft[k], rtol=1e-10, atol=1e-13, err_msg=k)
    # three Adam steps through train() against torch.optim.Adam
    trained, hist = train(params, spec, [(ids, y)], optimizer="adam", lr=0.05, steps=3)
    opt = torch.optim.Adam([p for m in modules for p in m.parameters()], lr=0.05)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        lt = torch_loss()
        losses.append(lt.item())
        lt.backward()
        # torch keeps two copies of the biases that rnnlib adds into one b:
        # let only bias_ih learn (and the GRU's n-gate bias_hh, rnnlib's bhn)
        with torch.no_grad():
            keep = 2 * Hm if cell == "gru" else rnn.bias_hh_l0.shape[0]
            rnn.bias_hh_l0.grad[:keep] = 0.0
        opt.step()
    np.testing.assert_allclose(hist["loss"], losses, rtol=1e-11)
    np.testing.assert_allclose(trained["embed"]["E"], emb.weight.detach().numpy(), rtol=1e-9, atol=1e-12)
    ft = flatten_params({"rnn": params_from_torch(rnn)})
    for k, v in ft.items():
        np.testing.assert_allclose(flatten_params(trained)[k], v, rtol=1e-9, atol=1e-12, err_msg=k)
