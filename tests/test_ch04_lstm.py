"""Tests for chapter 4's helpers (rnnlib.chapters.ch04_lstm), the continual
stream (rnnlib.data.streams) and the gate drawings (rnnlib.viz.gates)."""

import numpy as np
import pytest

import rnnlib as rl
from rnnlib import viz
from rnnlib.chapters import ch04_lstm as ch

D, H = 3, 5


def _params(seed=0, D=D, H=H):
    rng = np.random.default_rng(seed)
    p = rl.init_lstm(D, H, rng)
    p["b"] = p["b"] + 0.3 * rng.standard_normal(p["b"].shape)   # non-zero, uneven biases
    return p


# --- one step, two ways -------------------------------------------------------

def test_concat_weights_reproduce_the_split_products():
    p = _params()
    rng = np.random.default_rng(1)
    x, h = rng.standard_normal(D), rng.standard_normal(H)
    cat = ch.concat_weights(p)
    for j, k in enumerate("ifgo"):
        Wk, bk = cat[k]
        assert Wk.shape == (H, H + D)
        split = p["U"][j * H:(j + 1) * H] @ x + p["W"][j * H:(j + 1) * H] @ h + p["b"][j * H:(j + 1) * H]
        assert np.allclose(Wk @ np.concatenate([h, x]) + bk, split, rtol=1e-13, atol=1e-14)


def test_step_stages_equal_the_library_step():
    p = _params(2)
    rng = np.random.default_rng(3)
    x, h, c = rng.standard_normal(D), rng.standard_normal(H), rng.standard_normal(H)
    st = ch.lstm_step_stages(x, h, c, p)
    h_lib, c_lib, cache = rl.lstm_step_forward(x[None], h[None], c[None], p)
    for k in "ifgo":
        assert np.allclose(st[k], cache["gates"][k][0], rtol=1e-13, atol=1e-15)
    assert np.allclose(st["c"], c_lib[0], atol=1e-14)
    assert np.allclose(st["h"], h_lib[0], atol=1e-14)
    assert np.allclose(st["fc"] + st["ig"], st["c"], atol=1e-15)
    assert np.allclose(st["o"] * st["tanh_c"], st["h"], atol=1e-15)


def test_memory_cell_view_is_the_same_computation():
    p = _params(4)
    rng = np.random.default_rng(5)
    x, h, c = rng.standard_normal((2, D)), rng.standard_normal((2, H)), rng.standard_normal((2, H))
    m = ch.memory_cell_step(x, h, c, p)
    h_lib, c_lib, _ = rl.lstm_step_forward(x, h, c, p)
    assert np.allclose(m["c"], c_lib, atol=1e-14) and np.allclose(m["a"], h_lib, atol=1e-14)


def test_step_helpers_reject_a_variant_layout():
    p = rl.init_lstm(D, H, np.random.default_rng(0), variant="coupled")     # 3H rows
    with pytest.raises(ValueError, match="4H"):
        ch.concat_weights(p)


# --- connectivity ---------------------------------------------------------------

def _fd_norm(run, x, n, t, s, eps=1e-6):
    """||dh_t/dx_s||_F of sequence n by central differences of run(x) -> h."""
    cols = []
    for d in range(x.shape[2]):
        xp, xm = x.copy(), x.copy()
        xp[n, s, d] += eps
        xm[n, s, d] -= eps
        cols.append((run(xp)[n, t] - run(xm)[n, t]) / (2 * eps))
    return np.linalg.norm(np.stack(cols, axis=1))


@pytest.mark.parametrize("cell", ["lstm", "lstm_coupled", "rnn"])
def test_input_jacobian_norms_match_finite_differences(cell):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 6, D))
    if cell == "rnn":
        p = rl.init_rnn(D, H, rng)
        opts = {"activation": "tanh"}
        run = lambda z: rl.rnn_forward(z, None, p, "tanh")[0]
    else:
        variant = "standard" if cell == "lstm" else "coupled"
        p = rl.init_lstm(D, H, rng, variant=variant)
        opts = {}
        run = lambda z: rl.lstm_forward(z, None, None, p, variant=variant)[0]
    A = ch.input_jacobian_norms(cell, p, x, **opts)
    assert A.shape == (2, 6, 6)
    assert np.all(np.triu(A[0], 1) == 0) and np.all(np.triu(A[1], 1) == 0)   # s > t: none
    for n, t, s in ((0, 5, 0), (1, 3, 3), (1, 4, 1)):
        fd = _fd_norm(run, x, n, t, s)
        assert abs(A[n, t, s] - fd) <= 1e-7 * max(fd, 1e-3)


def test_input_jacobian_norms_with_forced_gates():
    rng = np.random.default_rng(8)
    p, x = _params(8), rng.standard_normal((2, 5, D))
    f = rng.random((2, 5, H))
    A = ch.input_jacobian_norms("lstm", p, x, force={"f": f, "o": 0.5})
    run = lambda z: rl.lstm_forward(z, None, None, p, force={"f": f, "o": 0.5})[0]
    fd = _fd_norm(run, x, 1, 4, 0)
    assert abs(A[1, 4, 0] - fd) <= 1e-7 * fd


def test_flush_to_zero_changes_only_tiny_entries():
    rng = np.random.default_rng(9)
    p = rl.init_rnn(D, H, rng)
    x = rng.standard_normal((1, 12, D))
    exact = ch.input_jacobian_norms("rnn", p, x, tiny=0.0, activation="tanh")
    flushed = ch.input_jacobian_norms("rnn", p, x, activation="tanh")
    assert np.allclose(exact, flushed, rtol=1e-12, atol=1e-200)


# --- training and small summaries -------------------------------------------------

def _adding(r):
    return rl.data.adding_problem(8, 6, r)


def test_train_task_is_deterministic_and_sets_the_forget_bias():
    spec = rl.ModelSpec(cell="lstm", D=2, H=3, K=1, loss="mse", output="last")
    p1, h1 = ch.train_task(spec, _adding, 3, 5, 0.01)
    p2, h2 = ch.train_task(spec, _adding, 3, 5, 0.01)
    assert h1["loss"] == h2["loss"] and np.array_equal(p1["rnn"]["W"], p2["rnn"]["W"])
    init = rl.init_model(spec, np.random.default_rng(3))["rnn"]["b"]
    p0, _ = ch.train_task(spec, _adding, 3, 1, 1e-12, forget_bias=0.0)
    assert np.allclose(p0["rnn"]["b"][3:6], init[3:6] - 1.0, atol=1e-9)   # f block moved by -1
    assert np.allclose(p0["rnn"]["b"][:3], init[:3], atol=1e-9)
    with pytest.raises(ValueError, match="forget"):
        ch.train_task(rl.ModelSpec(cell="lstm_no_forget", D=2, H=3, K=1, loss="mse",
                                   output="last"), _adding, 0, 1, 0.01, forget_bias=0.0)


def test_evaluate_is_the_spec_loss():
    spec = rl.ModelSpec(cell="lstm", D=2, H=3, K=1, loss="mse", output="last")
    p = rl.init_model(spec, np.random.default_rng(0))
    x, y = rl.data.adding_problem(10, 6, np.random.default_rng(1))
    out, _ = rl.model_forward(p, x, spec)
    assert np.isclose(ch.evaluate(p, spec, (x, y)), np.mean((out - y) ** 2))


def test_gate_ranges_steps_to_reach_counts_and_fmt():
    trace = {"i": np.array([[[0.01, 0.5]]]), "f": np.array([[[0.2, 0.97]]]),
             "o": np.array([[[0.3, 0.4]]])}
    r = ch.gate_ranges(trace)
    assert r["i"] == (0.01, 0.5, 0.5) and r["f"][2] == 0.5 and r["o"][2] == 0.0
    assert ch.steps_to_reach([1, 1, 0.1, 0.1, 0.1], 0.5, window=2) == 4
    assert ch.steps_to_reach([1, 1, 1], 0.5, window=2) is None
    assert ch.parameter_count(rl.init_lstm(2, 8, np.random.default_rng(0))) == 4 * 8 * 11
    assert ch.fmt([-0.0004, 1.234, -2.5]) == "0.00, 1.23, -2.50"


# --- the continual stream -----------------------------------------------------------

def test_segmented_sum_stream_layout_and_targets():
    x, y, starts, baseline = rl.data.segmented_sum_stream(4, 5, np.random.default_rng(0),
                                                          min_len=3, max_len=6)
    N, T, _ = x.shape
    assert x.shape == (4, T, 3) and y.shape == (4, T, 1) and len(starts) == 5
    assert np.array_equal(np.flatnonzero(x[0, :, 2]), starts)
    ends = list(starts[1:]) + [T]
    for a, b in zip(starts, ends):
        assert 3 <= b - a <= 6
        assert np.all(x[:, a:b, 1].sum(axis=1) == 2)                     # two markers
        assert np.allclose(y[:, a:b, 0], np.cumsum(x[:, a:b, 0] * x[:, a:b, 1], axis=1))
    assert np.all((x[..., 0] >= 0) & (x[..., 0] < 1))
    assert 0 < baseline < 2 / 12


def test_segmented_sum_stream_baseline_is_the_value_blind_error():
    x, y, _, baseline = rl.data.segmented_sum_stream(20000, 3, np.random.default_rng(1))
    k = np.zeros_like(y[..., 0])             # markers so far in the current segment
    seg_id = np.cumsum(x[0, :, 2])
    for s in np.unique(seg_id):
        cols = seg_id == s
        k[:, cols] = np.cumsum(x[:, cols, 1], axis=1)
    mse = np.mean((y[..., 0] - k / 2) ** 2)
    assert abs(mse - baseline) < 0.003


def test_segmented_sum_stream_checks_its_arguments():
    with pytest.raises(ValueError, match="min_len"):
        rl.data.segmented_sum_stream(2, 2, np.random.default_rng(0), min_len=1)
    with pytest.raises(ValueError, match="max_len"):
        rl.data.segmented_sum_stream(2, 2, np.random.default_rng(0), min_len=5, max_len=4)


# --- the drawings ---------------------------------------------------------------------

def test_step_frames_and_labels_round_trip():
    p = _params(10, D=2, H=4)
    rng = np.random.default_rng(11)
    st = ch.lstm_step_stages(rng.random(2), rng.standard_normal(4), rng.standard_normal(4), p)
    frames = viz.render_frames(viz.lstm_step_drawer(st), len(viz.gates.STEP_STAGES),
                               figsize=(5.7, 3.0), dpi=40)
    assert len(frames) == 5 and all(f.startswith(b"\x89PNG") for f in frames)
    labels = viz.step_stage_labels(st)
    back = viz.read_stage_labels(labels)
    assert set(back) == set(viz.gates.STEP_COLUMNS)
    for key, values in back.items():
        assert np.allclose(values, st[key], atol=0.005 + 1e-12)
    assert "-0.00" not in " ".join(labels) and "\u22120.00" not in " ".join(labels)


def test_forced_gate_and_connectivity_drawers_render():
    rng = np.random.default_rng(12)
    cells = rng.standard_normal((3, 4, 7))
    draw = viz.forced_gate_drawer(cells, [0.1, 0.01, 0.02], ["a", "b", "c"], markers=[1, 4],
                                  chance=0.15, vlim=1.0)
    assert len(viz.render_frames(draw, 3, figsize=(5.7, 3.0), dpi=40)) == 3
    with pytest.raises(ValueError, match="one per forcing"):
        viz.forced_gate_drawer(cells, [0.1, 0.2], ["a", "b", "c"])
    A = np.tril(rng.random((6, 6)) + 1e-3)
    frames = viz.render_frames(viz.connectivity_drawer([A, A / 2], ["x", "y"]), 6,
                               figsize=(5.7, 4.4), dpi=40)
    assert len(frames) == 6 and len(set(frames)) == 6            # every frame differs
