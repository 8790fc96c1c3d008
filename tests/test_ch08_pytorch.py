"""Chapter 8.7 helpers: the torch twins of rnnlib models, weight loading, and
training side by side (float64: the same losses to 1e-10). Skipped without torch."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import rnnlib as rl  # noqa: E402
from rnnlib.chapters import ch08_pytorch as ch  # noqa: E402

SPECS = {
    "gru-embedding": rl.ModelSpec(cell="gru", input="embedding", vocab=7, D=3, H=5, K=7,
                                  loss="xent"),
    "lstm-embedding": rl.ModelSpec(cell="lstm", input="embedding", vocab=7, D=3, H=5, K=7,
                                   loss="xent"),
    "lstm-dense": rl.ModelSpec(cell="lstm", input="dense", D=2, H=4, K=3, loss="mse"),
    "gru-dense": rl.ModelSpec(cell="gru", input="dense", D=2, H=4, K=3, loss="mse"),
}


def _data(spec, rng, N=12, T=6):
    if spec.input == "embedding":
        x = rng.integers(0, spec.vocab, size=(N, T))
        y = rng.integers(0, spec.K, size=(N, T))
    else:
        x = rng.standard_normal((N, T, spec.D))
        y = rng.standard_normal((N, T, spec.K))
    return x, y


@pytest.mark.parametrize("name", list(SPECS))
def test_forward_agrees_after_loading(name):
    spec = SPECS[name]
    rng = np.random.default_rng(1)
    params = rl.init_model(spec, rng)
    for v in rl.model.flatten_params(params).values():       # non-zero biases everywhere
        v += 0.1 * rng.standard_normal(v.shape)
    x, _ = _data(spec, rng)
    net = ch.load_into_torch(ch.torch_model(spec), params, spec)
    with torch.no_grad():
        out_t = net(torch.from_numpy(x)).numpy()
    out_np, _ = rl.model_forward(params, x, spec)
    assert np.abs(out_t - out_np).max() < 1e-12
    back = rl.model.flatten_params(ch.params_of_torch(net))
    for k, v in rl.model.flatten_params(params).items():
        np.testing.assert_allclose(back[k], v, atol=1e-15)


@pytest.mark.parametrize("name", list(SPECS))
@pytest.mark.parametrize("optimizer,lr", [("adam", 0.01), ("sgd", 0.3)])
def test_training_side_by_side_gives_the_same_losses_and_weights(name, optimizer, lr):
    spec = SPECS[name]
    rng = np.random.default_rng(2)
    params = rl.init_model(spec, rng)
    x, y = _data(spec, rng, N=20)
    batches = ch.batch_list(x, y, 4, 8, np.random.default_rng(3))
    p_np, l_np = ch.train_rnnlib(params, spec, batches, lr, optimizer=optimizer)
    net = ch.load_into_torch(ch.torch_model(spec), params, spec)
    net, l_t = ch.train_torch(net, spec, batches, lr, optimizer=optimizer)
    assert l_np.shape == (8,) and np.abs(l_np - l_t).max() < 1e-12
    flat_t = rl.model.flatten_params(ch.params_of_torch(net))
    for k, v in rl.model.flatten_params(p_np).items():
        assert np.abs(v - flat_t[k]).max() < 1e-12, k


def test_clipping_agrees_with_torch():
    spec = SPECS["gru-embedding"]
    rng = np.random.default_rng(4)
    params = rl.init_model(spec, rng)
    x, y = _data(spec, rng, N=20)
    batches = ch.batch_list(x, y, 4, 6, np.random.default_rng(5))
    _, l_np = ch.train_rnnlib(params, spec, batches, 0.05, clip=0.01)
    net = ch.load_into_torch(ch.torch_model(spec), params, spec)
    _, l_t = ch.train_torch(net, spec, batches, 0.05, clip=0.01)
    assert np.abs(l_np - l_t).max() < 1e-12


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_training_both_biases_doubles_the_sgd_step(cell):
    spec = SPECS[f"{cell}-dense"]
    rng = np.random.default_rng(6)
    params = rl.init_model(spec, rng)
    batch = _data(spec, rng)
    p1, _ = ch.train_rnnlib(params, spec, [batch], 0.1, optimizer="sgd")
    step = p1["rnn"]["b"] - params["rnn"]["b"]
    net = ch.load_into_torch(ch.torch_model(spec), params, spec, both_biases=True)
    ch.train_torch(net, spec, [batch], 0.1, optimizer="sgd")
    step_t = ch.params_of_torch(net)["rnn"]["b"] - params["rnn"]["b"]
    n = 2 * spec.H if cell == "gru" else 4 * spec.H          # GRU: r, z blocks summed
    np.testing.assert_allclose(step_t[:n], 2 * step[:n], rtol=1e-10, atol=1e-15)
    if cell == "gru":                                        # b_in has no twin in bias_hh
        np.testing.assert_allclose(step_t[n:], step[n:], rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_optimizer_parity(name):
    assert ch.optimizer_parity(name, np.random.default_rng(7), steps=10) < 1e-14


def test_batch_list_is_a_fixed_order_of_full_batches():
    x = np.arange(10)[:, None]
    a = ch.batch_list(x, x, 3, 7, np.random.default_rng(0))
    b = ch.batch_list(x, x, 3, 7, np.random.default_rng(0))
    assert len(a) == 7 and all(len(bx) == 3 for bx, _ in a)
    assert all(np.array_equal(p[0], q[0]) for p, q in zip(a, b))
    first_epoch = np.concatenate([bx[:, 0] for bx, _ in a[:3]])
    assert len(set(first_epoch)) == 9                       # no repeats within an epoch


def test_torch_model_rejects_what_it_cannot_mirror():
    for spec in (rl.ModelSpec(cell="rnn", D=2, H=3, K=2, loss="mse"),
                 rl.ModelSpec(cell="gru", D=2, H=3, K=2, loss="mse",
                              cell_options={"reset": "before"}),
                 rl.ModelSpec(cell="lstm", D=2, H=3, K=2, loss="mse", bidirectional=True),
                 rl.ModelSpec(cell="lstm", D=2, H=3, K=2, loss="mse", norm="layer")):
        with pytest.raises(ValueError, match="spec: expected a unidirectional 'lstm' or 'gru'"):
            ch.torch_model(spec)


def test_timing_helpers_run():
    spec = SPECS["lstm-dense"]
    params = rl.init_model(spec, np.random.default_rng(8))
    batch = _data(spec, np.random.default_rng(9))
    net = ch.load_into_torch(ch.torch_model(spec), params, spec)
    assert ch.best_time(ch.rnnlib_step(params, spec, batch), repeats=2, number=1) > 0
    assert ch.best_time(ch.torch_step(net, spec, batch), repeats=2, number=1) > 0
