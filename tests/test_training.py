"""The training loop: history, clipping, penalties, divergence, data forms, progress."""

import io
import warnings

import numpy as np
import pytest

from rnnlib.clip import global_norm
from rnnlib.model import ModelSpec, flatten_params, init_model, model_loss
from rnnlib.progress import Progress, in_notebook
from rnnlib.seq2seq import init_seq2seq, seq2seq_loss
from rnnlib.training import TrainingDiverged, batch_stream, train

SPEC = ModelSpec(cell="gru", D=2, H=6, K=3, output="last")


def _data(n=64, T=5, seed=0):
    """Classify which of the two input channels has the larger sum."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, T, 2))
    s = x.sum(axis=1)
    y = np.where(s[:, 0] > s[:, 1] + 1, 0, np.where(s[:, 1] > s[:, 0] + 1, 1, 2))
    return x, y


def test_training_reduces_loss_and_history_has_every_step():
    x, y = _data()
    params = init_model(SPEC, np.random.default_rng(0))
    before = flatten_params(params)["rnn.W"].copy()
    trained, hist = train(params, SPEC, (x, y), optimizer="adam", lr=0.02, steps=60,
                          batch_size=16, rng=np.random.default_rng(1))
    assert len(hist["loss"]) == len(hist["grad_norm"]) == len(hist["clipped"]) == 60
    assert hist["steps"] == 60 and not hist["stopped"] and hist["message"] is None
    full_before, _ = model_loss(params, x, y, SPEC)
    full_after, _ = model_loss(trained, x, y, SPEC)
    assert full_after < 0.6 * full_before
    np.testing.assert_array_equal(flatten_params(params)["rnn.W"], before)   # input untouched


def test_first_step_records_loss_and_norm_before_clipping():
    x, y = _data(16)
    params = init_model(SPEC, np.random.default_rng(2))
    loss0, g0 = model_loss(params, x, y, SPEC)
    norm0 = global_norm(flatten_params(g0))
    lr, c = 0.1, 0.05 * norm0
    new, hist = train(params, SPEC, (x, y), optimizer="sgd", lr=lr, steps=1,
                      batch_size=None, clip=("norm", c))
    assert hist["loss"][0] == pytest.approx(loss0, rel=1e-14)
    assert hist["grad_norm"][0] == pytest.approx(norm0, rel=1e-12)
    assert hist["clipped"] == [True]
    scale = c / (norm0 + 1e-6)
    for k, p in flatten_params(params).items():
        np.testing.assert_allclose(flatten_params(new)[k], p - lr * scale * flatten_params(g0)[k],
                                   rtol=1e-12, atol=1e-15)


def test_clip_by_value_and_l2_penalty():
    x, y = _data(16)
    params = init_model(SPEC, np.random.default_rng(3))
    loss0, g0 = model_loss(params, x, y, SPEC)
    lam, lr, limit = 0.01, 0.1, 1e-3
    new, hist = train(params, SPEC, (x, y), optimizer="sgd", lr=lr, steps=1, batch_size=None,
                      clip=("value", limit), l2=lam)
    flat = flatten_params(params)
    penalty = 0.5 * lam * sum(np.sum(v ** 2) for v in flat.values() if v.ndim == 2)
    assert hist["loss"][0] == pytest.approx(loss0 + penalty, rel=1e-13)
    for k, p in flat.items():
        g = flatten_params(g0)[k] + (lam * p if p.ndim == 2 else 0)
        np.testing.assert_allclose(flatten_params(new)[k], p - lr * np.clip(g, -limit, limit),
                                   rtol=1e-12, atol=1e-15)


def test_training_is_deterministic():
    x, y = _data()
    runs = []
    for _ in range(2):
        params = init_model(SPEC, np.random.default_rng(4))
        _, hist = train(params, SPEC, (x, y), lr=0.01, steps=15, batch_size=8,
                        rng=np.random.default_rng(5))
        runs.append(hist["loss"])
    assert runs[0] == runs[1]


def test_divergence_stops_with_one_clear_warning():
    spec = ModelSpec(cell="rnn", activation="relu", D=2, H=8, K=2, loss="mse")
    rng = np.random.default_rng(6)
    params = init_model(spec, rng)
    x = rng.standard_normal((8, 30, 2))
    y = rng.standard_normal((8, 30, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trained, hist = train(params, spec, (x, y), optimizer="sgd", lr=5.0, steps=200,
                              batch_size=None)
    assert hist["stopped"] and hist["steps"] < 200
    assert len(caught) == 1 and caught[0].category is TrainingDiverged
    msg = str(caught[0].message)
    assert "\n" not in msg and "stopped at step" in msg and msg == hist["message"]
    assert all(np.all(np.isfinite(v)) for v in flatten_params(trained).values())
    assert len(hist["loss"]) == hist["steps"] + 1          # the failing step is recorded
    assert not np.isfinite(hist["loss"][-1]) or not np.isfinite(hist["grad_norm"][-1])
    # clipping keeps the same run finite
    _, hist2 = train(params, spec, (x, y), optimizer="sgd", lr=0.05, steps=50,
                     batch_size=None, clip=("norm", 1.0))
    assert not hist2["stopped"]


def test_data_forms():
    x, y = _data(20)
    # a callable gets the rng and makes a fresh batch each step
    calls = []

    def make(rng):
        calls.append(1)
        idx = rng.integers(0, 20, size=4)
        return x[idx], y[idx]

    params = init_model(SPEC, np.random.default_rng(7))
    _, h = train(params, SPEC, make, steps=5, rng=np.random.default_rng(0))
    assert len(calls) == 5 and h["steps"] == 5
    # a list of batches is cycled
    _, h = train(params, SPEC, [(x[:5], y[:5]), (x[5:], y[5:])], steps=5)
    assert h["steps"] == 5
    # a generator that runs out stops the loop with a message, not a divergence warning
    gen = ((x[i:i + 4], y[i:i + 4]) for i in range(0, 12, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, h = train(params, SPEC, gen, steps=10)
    assert h["steps"] == 3 and h["stopped"] and "ran out" in h["message"]
    # an epoch of shuffled mini-batches covers every row once
    stream = batch_stream((x, y), 5, np.random.default_rng(1))
    rows = np.concatenate([next(stream)[0][:, 0, 0] for _ in range(4)])
    np.testing.assert_array_equal(np.sort(rows), np.sort(x[:, 0, 0]))
    # masks travel with the batch
    mask = np.ones((20, 5))
    mask[:, 4] = 0
    _, h = train(params, ModelSpec(cell="gru", D=2, H=6, K=3), (x, np.zeros((20, 5), int), mask),
                 steps=2, batch_size=None)
    assert h["steps"] == 2


def test_custom_loss_fn_trains_seq2seq():
    rng = np.random.default_rng(8)
    params = init_seq2seq(5, 5, 4, 8, rng, cell="gru", context="both")
    src = rng.integers(1, 5, size=(32, 4))
    tgt = np.concatenate([np.zeros((32, 1), int), src[:, ::-1]], axis=1)   # reverse the source

    def loss_fn(p, batch, step):
        s, t = batch
        return seq2seq_loss(p, s, t[:, :-1], t[:, 1:], "both")

    _, hist = train(params, None, (src, tgt), loss_fn=loss_fn, lr=0.02, steps=40,
                    batch_size=None)
    assert hist["loss"][-1] < 0.7 * hist["loss"][0]


def test_progress_text_is_deterministic():
    x, y = _data(16)
    params = init_model(SPEC, np.random.default_rng(9))
    out = io.StringIO()
    bar = Progress(20, description="demo", mode="text", stream=out, every=5)
    for i in range(1, 21):
        bar.update(i, 1.0 / i)
    bar.close()
    lines = out.getvalue().splitlines()
    assert lines == [f"demo: step {i}/20  loss {1 / i:.4g}" for i in (5, 10, 15, 20)]
    assert not in_notebook()                               # pytest is not a kernel


def test_progress_in_train_prints_plain_text(capsys):
    x, y = _data(16)
    params = init_model(SPEC, np.random.default_rng(10))
    train(params, SPEC, (x, y), steps=10, batch_size=None, progress=True)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 10 and out[-1].startswith("training: step 10/10  loss ")
    train(params, SPEC, (x, y), steps=10, batch_size=None, progress=False)
    assert capsys.readouterr().out == ""


def test_progress_widget_mode_updates_the_bar(capsys):
    bar = Progress(4, mode="widget")
    bar.update(3, 0.5)
    assert bar._bar.value == 3 and bar._bar.max == 4
    assert bar._label.value == "step 3/4  loss 0.5"
    bar.close("stopped")
    assert bar._bar.bar_style == "danger"


@pytest.mark.parametrize("kw, err, match", [
    (dict(optimizer="lbfgs"), ValueError, "optimizer"),
    (dict(clip=("norm",)), ValueError, "clip"),
    (dict(clip=("size", 1.0)), ValueError, "clip"),
    (dict(clip=("norm", -1.0)), ValueError, "clip"),
    (dict(steps=0), ValueError, "steps"),
    (dict(lr=-0.1), ValueError, "lr"),
    (dict(l2=-1.0), ValueError, "l2"),
    (dict(progress="fancy"), ValueError, "mode"),
])
def test_bad_arguments(kw, err, match):
    x, y = _data(8)
    params = init_model(SPEC, np.random.default_rng(11))
    with pytest.raises(err, match=match):
        train(params, SPEC, (x, y), **kw)


def test_bad_data():
    x, y = _data(8)
    params = init_model(SPEC, np.random.default_rng(12))
    with pytest.raises(ValueError, match="data"):
        train(params, SPEC, (x, y[:4]), steps=1)
    with pytest.raises(TypeError, match="rng"):
        train(params, SPEC, (x, y), steps=1, batch_size=4)            # shuffling needs an rng
    with pytest.raises(TypeError, match="data"):
        train(params, SPEC, 42, steps=1)
    with pytest.raises(TypeError, match="spec"):
        train(params, None, (x, y), steps=1)


def test_in_notebook_needs_a_kernel(monkeypatch):
    import types

    class Shell:
        pass

    fake = types.ModuleType("IPython")
    shell = Shell()
    fake.get_ipython = lambda: shell
    monkeypatch.setitem(__import__("sys").modules, "IPython", fake)
    assert not in_notebook()                               # terminal IPython: no kernel
    shell.kernel = object()
    assert in_notebook()                                   # a Jupyter kernel's shell
    fake.get_ipython = lambda: None
    assert not in_notebook()                               # IPython imported, not running
