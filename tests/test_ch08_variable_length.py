"""Tests for rnnlib.chapters.ch08_variable_length and the batching/task helpers
it uses (rnnlib.data.batching.bucket_batches / padding_counts,
rnnlib.data.tasks.token_majority)."""

import numpy as np
import pytest

import rnnlib as rl
from rnnlib.chapters import ch08_variable_length as ch
from rnnlib.data import batching, tasks
from rnnlib.gradcheck import numerical_gradient, rel_error
from rnnlib.model import flatten_params, unflatten_params


def _setup(seed=0, T=9, cell="rnn", padding="post"):
    spec = rl.ModelSpec(cell=cell, input="embedding", vocab=6, D=3, H=5, K=3)
    rng = np.random.default_rng(seed)
    params = rl.init_model(spec, rng)
    params = unflatten_params({k: v + 0.2 * rng.standard_normal(v.shape)
                               for k, v in flatten_params(params).items()})
    seqs = [rng.integers(1, 6, size=L) for L in (4, 7, 2)]
    tags = [rng.integers(0, 3, size=len(s)) for s in seqs]
    x, y, m = ch.pad_batch(seqs, None, tags, maxlen=T, padding=padding)
    return spec, params, seqs, tags, x, y, m


@pytest.mark.parametrize("in_recurrence", [True, False])
@pytest.mark.parametrize("average", ["valid", "all"])
@pytest.mark.parametrize("cell, padding", [("rnn", "post"), ("gru", "post"),
                                           ("rnn", "pre")])
def test_loss_with_padding_gradient(in_recurrence, average, cell, padding):
    spec, params, _, _, x, y, m = _setup(cell=cell, padding=padding)
    flat = flatten_params(params)
    nested = unflatten_params(flat)

    def f():
        return ch.loss_with_padding(nested, x, y, spec, m, in_recurrence=in_recurrence,
                                    average=average)[0]

    _, grads = ch.loss_with_padding(params, x, y, spec, m, in_recurrence=in_recurrence,
                                    average=average)
    g = flatten_params(grads)
    for name, value in flat.items():
        assert rel_error(numerical_gradient(f, value), g[name]) < 1e-7, name


def test_right_loss_equals_library_and_ignores_padding():
    spec, params, seqs, tags, x, y, m = _setup()
    loss, grads = ch.loss_with_padding(params, x, y, spec, m)
    lib_loss, lib_grads = rl.model_loss(params, x, y, spec, mask=m)
    assert np.isclose(loss, lib_loss, rtol=1e-13)
    assert ch.same_grads(grads, lib_grads) < 1e-13
    x2, y2, m2 = ch.pad_batch(seqs, None, tags, maxlen=30)
    loss2, grads2 = ch.loss_with_padding(params, x2, y2, spec, m2)
    assert np.isclose(loss, loss2, rtol=1e-13)
    assert ch.same_grads(grads, grads2) < 1e-13
    wrong, _ = ch.loss_with_padding(params, x, y, spec, m, average="all")
    wrong2, _ = ch.loss_with_padding(params, x2, y2, spec, m2, average="all")
    assert abs(wrong - wrong2) > 1e-3


def test_loss_with_padding_bad_input():
    spec, params, _, _, x, y, m = _setup()
    with pytest.raises(ValueError, match="average"):
        ch.loss_with_padding(params, x, y, spec, m, average="mean")
    with pytest.raises(ValueError, match="targets"):
        ch.loss_with_padding(params, x, y[:, :3], spec, m)
    with pytest.raises(ValueError, match="targets"):
        ch.loss_with_padding(params, x, y + 5, spec, m)
    with pytest.raises(ValueError, match="mask"):
        ch.loss_with_padding(params, x, y, spec, None)
    last = rl.ModelSpec(cell="rnn", input="embedding", vocab=6, D=3, H=5, K=3,
                        output="last")
    with pytest.raises(ValueError, match="spec"):
        ch.loss_with_padding(rl.init_model(last, np.random.default_rng(0)), x, y, last, m)


def test_running_answer_matches_last_output():
    spec = rl.ModelSpec(cell="rnn", input="embedding", vocab=6, D=3, H=5, K=2,
                        output="last")
    params = rl.init_model(spec, np.random.default_rng(1))
    seqs = [np.array([1, 2, 3]), np.array([4, 1, 1, 2, 5, 5])]
    x, m = ch.pad_batch(seqs, maxlen=8)
    a = ch.running_answer(params, x, spec, mask=m)
    logits, _ = rl.model_forward(params, x, spec, mask=m)
    assert np.allclose(a[:, -1], logits[:, 1] - logits[:, 0], rtol=1e-12)
    assert np.allclose(a[0, 2:], a[0, 2])                 # held after the end
    with pytest.raises(ValueError, match="spec"):
        bad = rl.ModelSpec(cell="rnn", input="embedding", vocab=6, D=3, H=5, K=3)
        ch.running_answer(rl.init_model(bad, np.random.default_rng(0)), x, bad)


def test_pad_batch_pre_and_labels():
    seqs = [np.array([1, 2]), np.array([3, 4, 5])]
    x, y, m = ch.pad_batch(seqs, [1, 0], np.array([7, 8]), maxlen=4, padding="pre")
    assert np.array_equal(x, [[0, 3, 4, 5], [0, 0, 1, 2]])
    assert np.array_equal(y, [8, 7]) and np.array_equal(m.sum(1), [3, 2])


def test_accuracy_and_stream():
    seqs, y = tasks.token_majority(40, np.random.default_rng(0), lengths=(2, 9))
    spec = rl.ModelSpec(cell="rnn", input="embedding", vocab=10, D=3, H=4, K=2,
                        output="last")
    params = rl.init_model(spec, np.random.default_rng(0))
    acc = ch.accuracy(params, spec, seqs, y, batch_size=7)
    x, yb, m = ch.pad_batch(seqs, None, y)
    direct = np.mean(rl.model_forward(params, x, spec, mask=m)[0].argmax(1) == y)
    assert np.isclose(acc, direct)
    by_len = ch.accuracy_by_length(params, spec, seqs, y, [2, 5, 10])
    assert by_len.shape == (2,)
    batch = next(ch.batch_stream(seqs, y, 8, np.random.default_rng(1)))
    xb, yb, mb = batch
    assert xb.shape[0] == 8 and xb.shape[1] == int(mb.sum(1).max())
    assert ch.epoch_time(params, spec, [batch], repeats=1) > 0


def test_token_majority():
    seqs, y, steps = tasks.token_majority(300, np.random.default_rng(0), per_step=True)
    assert len(seqs) == 300 and y.shape == (300,)
    lens = np.array([len(s) for s in seqs])
    assert lens.min() >= 3 and lens.max() <= 40
    for s, label, st in zip(seqs, y, steps):
        assert s.min() >= 1 and s.max() <= 9
        assert label == int((s == 1).sum() > (s == 2).sum())
        assert (s == 1).sum() != (s == 2).sum()
        assert st[-1] == label and len(st) == len(s)
    assert 0.4 < y.mean() < 0.6
    with pytest.raises(ValueError, match="lengths"):
        tasks.token_majority(3, np.random.default_rng(0), lengths=(5, 2))
    with pytest.raises(ValueError, match="n_tokens"):
        tasks.token_majority(3, np.random.default_rng(0), n_tokens=1)


def test_bucket_batches_and_padding_counts():
    lengths = np.random.default_rng(0).integers(3, 41, size=500)
    b = batching.bucket_batches(lengths, 32, np.random.default_rng(1))
    assert np.array_equal(np.sort(np.concatenate(b)), np.arange(500))
    assert all(len(i) <= 32 for i in b)
    real, pad = batching.padding_counts(lengths, b)
    assert real == lengths.sum()
    by_hand = sum(len(i) * lengths[i].max() - lengths[i].sum() for i in b)
    assert pad == by_hand
    rand = list(batching.minibatches(500, 32, np.random.default_rng(1)))
    assert batching.padding_counts(lengths, rand)[1] > 10 * pad
    # same seed, same batches
    b2 = batching.bucket_batches(lengths, 32, np.random.default_rng(1))
    assert all(np.array_equal(u, v) for u, v in zip(b, b2))
    assert batching.padding_counts([3, 3, 5], [np.array([0, 1, 2])]) == (11, 4)


@pytest.mark.parametrize("call, err, name", [
    (lambda: batching.bucket_batches([], 4, np.random.default_rng(0)), ValueError, "lengths"),
    (lambda: batching.bucket_batches([3, 0], 4, np.random.default_rng(0)), ValueError,
     "lengths"),
    (lambda: batching.bucket_batches([3, 2], 0, np.random.default_rng(0)), ValueError,
     "batch_size"),
    (lambda: batching.padding_counts([3, 2], [np.array([0, 2])]), ValueError, r"batches\[0\]"),
    (lambda: batching.padding_counts([3, 2], [np.array([], dtype=int)]), ValueError,
     r"batches\[0\]"),
])
def test_batching_bad_input(call, err, name):
    with pytest.raises(err, match=name):
        call()
