"""Tests for rnnlib.chapters.ch07_teacher_forcing and rnnlib.viz.beam (chapter 7)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import rnnlib as rl
from rnnlib import viz
from rnnlib.chapters import ch07_teacher_forcing as ch
from rnnlib.gradcheck import numerical_gradient, rel_error
from rnnlib.model import flatten_params, unflatten_params


def _sine_setup(seed=0, H=5, N=3, T=7, K=1):
    spec = rl.ModelSpec(cell="rnn", input="dense", D=K, H=H, K=K, loss="mse")
    rng = np.random.default_rng(seed)
    params = rl.init_model(spec, rng)
    params = unflatten_params({k: v + 0.3 * rng.standard_normal(v.shape)
                               for k, v in flatten_params(params).items()})
    seq = rng.standard_normal((N, T + 1, K))
    return spec, params, seq[:, :-1], seq[:, 1:]


@pytest.mark.parametrize("p", [1.0, 0.6, 0.0])
@pytest.mark.parametrize("K", [1, 2])
def test_lean_unroll_equals_library_scheduled_sampling(p, K):
    spec, params, x, y = _sine_setup(K=K)
    loss_lib, g_lib, info = rl.scheduled_sampling_loss(params, spec, x, y, p,
                                                       np.random.default_rng(4))
    loss, g, run = ch.scheduled_sampling_mse(params, x, y, p, np.random.default_rng(4))
    assert np.isclose(loss, loss_lib, rtol=1e-13)
    assert np.array_equal(run["teacher"], info["teacher"])
    assert np.allclose(run["fed"], info["fed"], rtol=1e-13, atol=1e-15)
    assert np.allclose(run["h"], info["h"], rtol=1e-13, atol=1e-15)
    fl, fg = flatten_params(g_lib), flatten_params(g)
    assert set(fl) == set(fg)
    for key in fl:
        assert rel_error(fl[key], fg[key]) < 1e-10, key


def test_teacher_forced_gradient_matches_finite_differences():
    _, params, x, y = _sine_setup(seed=1)
    teacher = np.ones(x.shape[:2], dtype=bool)
    flat = flatten_params(params)

    nested = unflatten_params(flat)            # shares the arrays of flat

    def f():
        return float(np.mean((ch.unroll(nested, x, teacher)["outputs"] - y) ** 2))

    run = ch.unroll(params, x, teacher)
    diff = run["outputs"] - y
    grads = flatten_params(ch.unroll_backward(2 * diff / diff.size, run))
    for name, value in flat.items():
        num = numerical_gradient(f, value)
        assert rel_error(num, grads[name]) < 1e-7, name


def test_teacher_mask_prompt_and_share():
    rng = np.random.default_rng(0)
    m = ch.teacher_mask(0.3, 400, 50, rng, prompt=5)
    assert m[:, :5].all()
    assert abs(m[:, 5:].mean() - 0.3) < 0.01
    # the same draws for any p: masks are nested
    lo = ch.teacher_mask(0.2, 40, 10, np.random.default_rng(1))
    hi = ch.teacher_mask(0.8, 40, 10, np.random.default_rng(1))
    assert np.all(hi >= lo)


def test_free_run_feeds_own_predictions_after_the_prompt():
    _, params, x, _ = _sine_setup(T=9)
    run = ch.free_run(params, x, prompt=3)
    assert np.array_equal(run["fed"][:, :3], x[:, :3])
    assert np.allclose(run["fed"][:, 3:], run["outputs"][:, 2:-1])


def test_horizon_rmse():
    out = np.zeros((2, 6, 1))
    tgt = np.arange(12, dtype=float).reshape(2, 6, 1)
    r = ch.horizon_rmse(out, tgt, prompt=2)
    assert r.shape == (5,)
    assert np.allclose(r, np.sqrt((tgt[0, 1:, 0] ** 2 + tgt[1, 1:, 0] ** 2) / 2))


def test_train_sine_runs_and_checks_method():
    params, hist = ch.train_sine("scheduled sampling", 0, H=4, steps=4, T=12, prompt=3)
    assert len(hist["loss"]) == 4 and hist["p_teacher"].shape == (4,)
    assert np.all(np.diff(hist["p_teacher"]) <= 0)
    again, _ = ch.train_sine("scheduled sampling", 0, H=4, steps=4, T=12, prompt=3)
    assert np.array_equal(params["rnn"]["W"], again["rnn"]["W"])       # deterministic
    with pytest.raises(ValueError, match="method"):
        ch.train_sine("sometimes", 0)


def test_pca_2d():
    rng = np.random.default_rng(0)
    basis = rng.standard_normal((2, 6))
    a = rng.standard_normal((3, 10, 2)) @ basis
    b = rng.standard_normal((4, 2)) @ basis
    (pa, pb), share = ch.pca_2d(a, b)
    assert pa.shape == (3, 10, 2) and pb.shape == (4, 2)
    assert np.isclose(share, 1.0)                 # the data lie in a plane
    flat = np.concatenate([a.reshape(-1, 6), b])
    proj = np.concatenate([pa.reshape(-1, 2), pb])
    # distances are kept exactly when the data lie in the plane
    d_in = np.linalg.norm(flat[:, None] - flat[None], axis=2)
    d_out = np.linalg.norm(proj[:, None] - proj[None], axis=2)
    assert np.allclose(d_in, d_out)


def test_toy_chain_stream_and_chunks():
    assert np.allclose(ch.TOY_CHAIN.sum(axis=1), 1.0)
    s = ch.toy_stream(60000, np.random.default_rng(0))
    prev = np.concatenate([[0], s[:-1]])
    counts = np.zeros((5, 5))
    np.add.at(counts, (prev, s), 1)
    est = counts / counts.sum(axis=1, keepdims=True)
    assert np.abs(est - ch.TOY_CHAIN).max() < 0.02
    x, y = ch.toy_chunks(4, 7, np.random.default_rng(1))
    assert x.shape == y.shape == (4, 7) and x[0, 0] == 0
    assert np.array_equal(x.ravel()[1:], y.ravel()[:-1])


def test_exhaustive_best_and_sequence_log_prob():
    spec = rl.ModelSpec(cell="rnn", input="embedding", vocab=4, D=3, H=5, K=4,
                        loss="xent")
    params = rl.init_model(spec, np.random.default_rng(2))
    step_fn = rl.make_step_fn(params, spec)
    state = rl.initial_state(spec, 1)
    best, logp, all_logp = ch.exhaustive_best(step_fn, state, 0, 3, 4)
    assert np.isclose(np.exp(all_logp).sum(), 1.0)
    assert np.isclose(ch.sequence_log_prob(step_fn, state, 0, best), logp)
    assert np.isclose(all_logp.max(), logp)
    seqs, lps, _ = rl.beam_search(step_fn, state, 0, 3, width=16)      # exact: 4**2
    assert np.array_equal(seqs[0], best)


def test_copy_batch():
    src, tgt_in, tgt = ch.copy_batch(np.random.default_rng(0), N=5, S=4, V=3)
    assert src.shape == tgt_in.shape == tgt.shape == (5, 4)
    assert np.array_equal(src, tgt) and np.all(tgt_in[:, 0] == 0)
    assert np.array_equal(tgt_in[:, 1:], tgt[:, :-1]) and src.min() >= 1 and src.max() <= 3
    rsrc, _, rtgt = ch.copy_batch(np.random.default_rng(0), N=5, S=4, V=3, reverse_source=True)
    assert np.array_equal(rsrc, rtgt[:, ::-1]) and np.array_equal(rtgt, tgt)


def test_train_seq2seq_runs():
    r = ch.train_seq2seq("both", 0, S=3, V=3, H=6, D=3, steps=3, n_test=8)
    assert r["loss"].shape == (3,) and 0 <= r["token_acc"] <= 1
    assert r["acc_by_position"].shape == (3,)


def test_min_time_is_a_positive_number():
    assert 0 <= ch.min_time(lambda: sum(range(100)), repeats=3) < 1


def test_draw_beam_tree_layout_and_axes():
    import matplotlib.pyplot as plt

    spec = rl.ModelSpec(cell="rnn", input="embedding", vocab=4, D=3, H=5, K=4,
                        loss="xent")
    params = rl.init_model(spec, np.random.default_rng(3))
    step_fn = rl.make_step_fn(params, spec)
    seqs, _, tree = rl.beam_search(step_fn, rl.initial_state(spec, 1), 0, 3, width=2,
                                   end_token=0)
    y = viz.beam_tree_layout(tree)
    assert y.shape == tree["parent"].shape and np.all((y > 0) & (y < 1))
    fig, ax = plt.subplots()
    out = viz.draw_beam_tree(tree, list("wxyz"), best=seqs[0], ax=ax, title="t")
    assert out is ax and ax.get_title() == "t"
    kept_labels = [t.get_text() for t in ax.texts if t.get_text()[:1] in "wxyz"]
    assert len(kept_labels) >= int(tree["kept"][1:].sum())
    plt.close(fig)
    with pytest.raises(ValueError, match="tree"):
        viz.draw_beam_tree({"parent": [0]})
