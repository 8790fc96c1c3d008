"""Teacher forcing, free-running and scheduled sampling in one training step."""

import numpy as np
import pytest

from rnnlib.gradcheck import numerical_gradient, rel_error
from rnnlib.model import ModelSpec, flatten_params, init_model, model_loss, unflatten_params
from rnnlib.teacher_forcing import scheduled_sampling_loss, teacher_forcing_probability

N, T, K, V = 4, 6, 5, 5


def _setup(cell="lstm", norm=None, seed=0, loss="xent", input="embedding"):
    if loss == "mse":
        spec = ModelSpec(cell=cell, input="dense", D=3, H=5, K=3, loss="mse", norm=norm)
    elif input == "dense":
        spec = ModelSpec(cell=cell, input="dense", D=K, H=5, K=K, norm=norm)
    else:
        spec = ModelSpec(cell=cell, input="embedding", vocab=V, D=3, H=5, K=K, norm=norm)
    rng = np.random.default_rng(seed)
    params = init_model(spec, rng)
    params = unflatten_params({k: v + 0.3 * rng.standard_normal(v.shape)
                               for k, v in flatten_params(params).items()})
    if loss == "mse":
        seq = rng.standard_normal((N, T + 1, 3))
        return spec, params, seq[:, :-1], seq[:, 1:]
    seq = rng.integers(0, K, size=(N, T + 1))
    if input == "dense":
        return spec, params, seq[:, :-1], seq[:, 1:]
    return spec, params, seq[:, :-1], seq[:, 1:]


# --------------------------------------------------------------------------
# schedules

def test_linear_schedule():
    assert teacher_forcing_probability("linear", 0) == 1.0
    assert teacher_forcing_probability("linear", 250, k=1.0, c=2e-3) == pytest.approx(0.5)
    assert teacher_forcing_probability("linear", 10_000, k=1.0, c=2e-3, eps=0.1) == 0.1
    steps = np.arange(0, 1000, 10)
    p = teacher_forcing_probability("linear", steps, k=0.9, c=1e-3, eps=0.2)
    np.testing.assert_allclose(p, np.maximum(0.2, 0.9 - 1e-3 * steps), rtol=0, atol=1e-15)


def test_exponential_schedule():
    steps = np.arange(0, 2000, 7)
    p = teacher_forcing_probability("exponential", steps, k=0.995)
    np.testing.assert_allclose(p, 0.995 ** steps, rtol=1e-14)
    assert teacher_forcing_probability("exponential", 0, k=0.5) == 1.0
    assert np.all(np.diff(p) < 0)


def test_inverse_sigmoid_schedule():
    steps = np.arange(0, 5000, 13)
    k = 300.0
    p = teacher_forcing_probability("inverse_sigmoid", steps, k=k)
    np.testing.assert_allclose(p, k / (k + np.exp(steps / k)), rtol=1e-13)
    assert teacher_forcing_probability("inverse_sigmoid", 0, k=k) == pytest.approx(k / (k + 1))
    # half way where exp(i/k) = k, i.e. i = k log k
    assert teacher_forcing_probability("inverse_sigmoid", int(round(k * np.log(k))), k=k) \
        == pytest.approx(0.5, abs=1e-3)
    # no overflow far out
    assert teacher_forcing_probability("inverse_sigmoid", 10**7, k=1.0) == 0.0


@pytest.mark.parametrize("call, err", [
    (lambda: teacher_forcing_probability("cosine", 3), ValueError),
    (lambda: teacher_forcing_probability("linear", -1), ValueError),
    (lambda: teacher_forcing_probability("linear", 1.5), TypeError),
    (lambda: teacher_forcing_probability("linear", 1, k=1.5), ValueError),
    (lambda: teacher_forcing_probability("linear", 1, c=-1), ValueError),
    (lambda: teacher_forcing_probability("exponential", 1, k=1.2), ValueError),
    (lambda: teacher_forcing_probability("exponential", 1, c=0.1), ValueError),
    (lambda: teacher_forcing_probability("inverse_sigmoid", 1, k=0.5), ValueError),
])
def test_schedule_bad_input(call, err):
    with pytest.raises(err):
        call()


# --------------------------------------------------------------------------
# the training step

@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_teacher_forcing_equals_whole_sequence_model(cell):
    spec, params, x, y = _setup(cell, norm="layer" if cell == "gru" else None)
    mask = np.ones((N, T))
    mask[1, 4:] = 0
    loss, grads, info = scheduled_sampling_loss(params, spec, x, y, 1.0, np.random.default_rng(0),
                                            mask=mask)
    ref_loss, ref_grads = model_loss(params, x, y, spec, mask=mask)
    assert loss == pytest.approx(ref_loss, rel=1e-13)
    fg, fr = flatten_params(grads), flatten_params(ref_grads)
    assert set(fg) == set(fr)
    for k in fr:
        np.testing.assert_allclose(fg[k], fr[k], rtol=1e-10, atol=1e-13)
    assert info["teacher"].all()
    np.testing.assert_array_equal(info["fed"], x)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("p", [1.0, 0.0, 0.5])
@pytest.mark.parametrize("feedback", ["sample", "argmax"])
def test_scheduled_sampling_loss_gradcheck(cell, p, feedback):
    spec, params, x, y = _setup(cell, norm="layer", seed=1)
    loss, grads, info = scheduled_sampling_loss(params, spec, x, y, p, np.random.default_rng(7),
                                            feedback=feedback)

    def f():
        # the same rng seed gives the same coin flips and sampling uniforms
        l, _, inf = scheduled_sampling_loss(params, spec, x, y, p, np.random.default_rng(7),
                                        feedback=feedback)
        # a perturbation this small must not change the fed tokens
        assert np.array_equal(inf["fed"], info["fed"])
        return l

    flat_p, flat_g = flatten_params(params), flatten_params(grads)
    errors = {k: rel_error(flat_g[k], numerical_gradient(f, v)) for k, v in flat_p.items()}
    assert max(errors.values()) < 1e-7, errors
    if p == 0.0:
        assert not info["teacher"][:, 1:].any() and info["teacher"][:, 0].all()


def test_free_running_feeds_own_argmax():
    spec, params, x, y = _setup("gru", seed=2)
    _, _, info = scheduled_sampling_loss(params, spec, x, y, 0.0, np.random.default_rng(0),
                                     feedback="argmax")
    fed, out = info["fed"], info["outputs"]
    np.testing.assert_array_equal(fed[:, 0], x[:, 0])
    np.testing.assert_array_equal(fed[:, 1:], out[:, :-1].argmax(axis=2))


def test_free_running_mse_feeds_predictions():
    spec, params, x, y = _setup("lstm", loss="mse", seed=3)
    loss, grads, info = scheduled_sampling_loss(params, spec, x, y, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(info["fed"][:, 1:], info["outputs"][:, :-1])
    flat_p, flat_g = flatten_params(params), flatten_params(grads)
    # the fed prediction is a constant (stop-gradient): check against that definition
    fed = info["fed"]

    def f_const():
        return model_loss(params, fed, y, spec)[0]

    for k, v in flat_p.items():
        num = numerical_gradient(f_const, v)
        assert rel_error(flat_g[k], num) < 1e-7, k
    assert loss == pytest.approx(model_loss(params, fed, y, spec)[0], rel=1e-13)


def test_dense_one_hot_inputs_scheduled_sampling():
    spec, params, ids, y = _setup("rnn", input="dense", seed=4)
    x = np.eye(K)[ids]
    loss, grads, info = scheduled_sampling_loss(params, spec, x, y, 0.0, np.random.default_rng(1),
                                            feedback="argmax")
    fed = info["fed"]
    np.testing.assert_array_equal(fed[:, 1:].argmax(axis=2), info["outputs"][:, :-1].argmax(axis=2))
    assert loss == pytest.approx(model_loss(params, fed, y, spec)[0], rel=1e-13)


def test_teacher_fraction_follows_p():
    spec, params, _, _ = _setup("rnn", seed=5)
    rng = np.random.default_rng(6)
    ids = rng.integers(0, K, size=(400, 21))
    x, y = ids[:, :-1], ids[:, 1:]
    for p in (0.0, 0.25, 0.75, 1.0):
        _, _, info = scheduled_sampling_loss(params, spec, x, y, p, np.random.default_rng(8))
        frac = info["teacher"][:, 1:].mean()
        n = info["teacher"][:, 1:].size
        assert abs(frac - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-12
    # where the truth was fed, it is the truth
    _, _, info = scheduled_sampling_loss(params, spec, x, y, 0.5, np.random.default_rng(9))
    t = info["teacher"]
    np.testing.assert_array_equal(info["fed"][t], x[t])


def test_same_rng_same_step():
    spec, params, x, y = _setup("lstm", seed=10)
    a = scheduled_sampling_loss(params, spec, x, y, 0.3, np.random.default_rng(4))
    b = scheduled_sampling_loss(params, spec, x, y, 0.3, np.random.default_rng(4))
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[2]["fed"], b[2]["fed"])


def test_bad_input():
    spec, params, x, y = _setup("lstm", seed=11)
    rng = np.random.default_rng(0)
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="p_teacher"):
            scheduled_sampling_loss(params, spec, x, y, p, rng)
    with pytest.raises(TypeError, match="p_teacher"):
        scheduled_sampling_loss(params, spec, x, y, "half", rng)
    with pytest.raises(TypeError, match="rng"):
        scheduled_sampling_loss(params, spec, x, y, 0.5, None)
    with pytest.raises(ValueError, match="inputs"):
        scheduled_sampling_loss(params, spec, x + V, y, 0.5, rng)              # ids out of range
    with pytest.raises(ValueError, match="targets"):
        scheduled_sampling_loss(params, spec, x, y[:, :-1], 0.5, rng)
    with pytest.raises(ValueError, match="inputs"):
        scheduled_sampling_loss(params, spec, x[:0], y[:0], 0.5, rng)         # empty batch
    with pytest.raises(ValueError, match="feedback"):
        scheduled_sampling_loss(params, spec, x, y, 0.5, rng, feedback="beam")
    mask = np.ones((N, T))
    mask[0, 1] = 0
    with pytest.raises(ValueError, match="mask"):
        scheduled_sampling_loss(params, spec, x, y, 0.5, rng, mask=mask)       # a hole, not padding
    bi = ModelSpec(cell="lstm", input="embedding", vocab=V, D=3, H=5, K=K, bidirectional=True)
    with pytest.raises(ValueError, match="bidirectional"):
        scheduled_sampling_loss(params, bi, x, y, 0.5, rng)
    last = ModelSpec(cell="lstm", input="embedding", vocab=V, D=3, H=5, K=K, output="last")
    with pytest.raises(ValueError, match="output"):
        scheduled_sampling_loss(params, last, x, y, 0.5, rng)
