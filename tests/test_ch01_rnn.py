"""Tests for rnnlib.chapters.ch01_rnn (the all-ones network, memory probes) and rnnlib.viz.diagrams."""

import numpy as np
import pytest

from rnnlib.chapters import ch01_rnn as toy
from rnnlib import viz


# --- the all-ones example ------------------------------------------------

def test_all_ones_full_wiring_numbers():
    hidden, outputs = toy.all_ones_example([[1, 1], [1, 1], [2, 2]], wiring="full")
    np.testing.assert_array_equal(hidden, [[2, 2], [6, 6], [16, 16]])
    np.testing.assert_array_equal(outputs, [[4, 4], [12, 12], [32, 32]])


def test_all_ones_own_wiring_numbers():
    hidden, outputs = toy.all_ones_example([[1, 1], [1, 1], [2, 2]], wiring="own")
    np.testing.assert_array_equal(hidden, [[2, 2], [4, 4], [8, 8]])
    np.testing.assert_array_equal(outputs, [[4, 4], [8, 8], [16, 16]])


def test_default_inputs_are_the_source_sequence():
    for wiring in toy.WIRINGS:
        h_default, o_default = toy.all_ones_example(wiring=wiring)
        h, o = toy.all_ones_example([[1, 1], [1, 1], [2, 2]], wiring=wiring)
        np.testing.assert_array_equal(h_default, h)
        np.testing.assert_array_equal(o_default, o)


@pytest.mark.parametrize("wiring", ["full", "own"])
def test_order_of_inputs_changes_outputs(wiring):
    _, o_a = toy.all_ones_example([[1, 1], [1, 1], [2, 2]], wiring=wiring)
    _, o_b = toy.all_ones_example([[2, 2], [1, 1], [1, 1]], wiring=wiring)
    # same multiset of inputs, different order -> different outputs
    assert not np.array_equal(o_a, o_b)
    # the first output only sees the first input
    assert o_b[0, 0] == 8.0


@pytest.mark.parametrize("wiring", ["full", "own"])
def test_closed_forms(wiring):
    """h_t = s_t + r h_{t-1} with s_t = x_t1 + x_t2 and r = 2 (full) or 1 (own)."""
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, size=(7, 2)).astype(float)
    hidden, outputs = toy.all_ones_example(x, wiring=wiring)
    r = 2.0 if wiring == "full" else 1.0
    h = 0.0
    for t in range(7):
        h = x[t].sum() + r * h
        assert hidden[t, 0] == hidden[t, 1] == h
        assert outputs[t, 0] == outputs[t, 1] == 2 * h


def test_toy_params_shapes_and_values():
    p_rnn, p_out = toy.toy_params(u=0.5, w_self=0.9, w_cross=-0.2, v=2.0, D=3, H=4, K=5)
    assert p_rnn["U"].shape == (4, 3) and np.all(p_rnn["U"] == 0.5)
    assert p_rnn["W"].shape == (4, 4)
    np.testing.assert_array_equal(np.diag(p_rnn["W"]), 0.9)
    assert np.all(p_rnn["W"][~np.eye(4, dtype=bool)] == -0.2)
    assert p_rnn["b"].shape == (4,) and not p_rnn["b"].any()
    assert p_out["V"].shape == (5, 4) and np.all(p_out["V"] == 2.0)
    assert p_out["c"].shape == (5,) and not p_out["c"].any()
    p32, _ = toy.toy_params(dtype=np.float32)
    assert p32["W"].dtype == np.float32


def test_toy_forward_matches_hand_loop_and_h0():
    rng = np.random.default_rng(1)
    p_rnn, p_out = toy.toy_params(u=0.3, w_self=0.7, w_cross=-0.4, v=1.5, D=2, H=3, K=2)
    p_rnn["b"] = rng.normal(size=3)
    p_out["c"] = rng.normal(size=2)
    x = rng.normal(size=(5, 2))
    h0 = rng.normal(size=3)
    hidden, outputs = toy.toy_forward(x, p_rnn, p_out, h0=h0)
    h = h0
    for t in range(5):
        h = p_rnn["U"] @ x[t] + p_rnn["W"] @ h + p_rnn["b"]
        np.testing.assert_allclose(hidden[t], h, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(outputs[t], p_out["V"] @ h + p_out["c"], rtol=1e-13, atol=1e-13)


def test_toy_validation_messages():
    with pytest.raises(ValueError, match="wiring"):
        toy.all_ones_example(wiring="sideways")
    with pytest.raises(ValueError, match=r"inputs: expected shape \(T, D\) with D = 2"):
        toy.all_ones_example([[1, 1, 1]])
    with pytest.raises(ValueError, match="inputs: expected a 2-d array"):
        toy.all_ones_example([1, 1])
    with pytest.raises(TypeError, match="inputs"):
        toy.all_ones_example([["a", "b"]])
    with pytest.raises(ValueError, match="h0"):
        p_rnn, p_out = toy.toy_params()
        toy.toy_forward([[1, 1]], p_rnn, p_out, h0=np.zeros(3))
    with pytest.raises(TypeError, match="w_self"):
        toy.toy_params(w_self="big")


# --- memory probe --------------------------------------------------------

def test_input_influence_linear_is_exact():
    """For a linear RNN the effect of delta at step 0 on h_t is W^t U delta."""
    rng = np.random.default_rng(2)
    N, T, D, H = 2, 6, 3, 4
    params = {"U": rng.normal(size=(H, D)), "W": 0.5 * rng.normal(size=(H, H)),
              "b": rng.normal(size=H)}
    x = rng.normal(size=(N, T, D))
    h0 = rng.normal(size=(N, H))
    delta = rng.normal(size=(N, D))
    d = toy.input_influence(x, h0, params, delta, step=0, activation="linear")
    assert d.shape == (N, T)
    for n in range(N):
        v = params["U"] @ delta[n]
        for t in range(T):
            np.testing.assert_allclose(d[n, t], np.linalg.norm(v), rtol=1e-10)
            v = params["W"] @ v


def test_input_influence_zero_before_step_and_input_unchanged():
    rng = np.random.default_rng(3)
    params = {"U": rng.normal(size=(3, 2)), "W": rng.normal(size=(3, 3)),
              "b": rng.normal(size=3)}
    x = rng.normal(size=(1, 5, 2))
    x_before = x.copy()
    d = toy.input_influence(x, None, params, np.ones((1, 2)), step=2)
    np.testing.assert_array_equal(d[:, :2], 0.0)
    assert np.all(d[:, 2:] > 0)
    np.testing.assert_array_equal(x, x_before)
    with pytest.raises(ValueError, match="step"):
        toy.input_influence(x, None, params, np.ones((1, 2)), step=5)
    with pytest.raises(ValueError, match="perturbation"):
        toy.input_influence(x, None, params, np.ones((2, 2)))


# --- Jordan bottleneck ---------------------------------------------------

def test_linear_jordan_delay_mse_matches_series():
    for a, beta, delay in [(0.3, 0.5, 1), (-0.7, 0.9, 2), (1.2, -0.4, 3)]:
        k = np.arange(2000)
        series = np.sum((a * beta ** k - (k == delay)) ** 2)
        np.testing.assert_allclose(toy.linear_jordan_delay_mse(a, beta, delay), series,
                                   rtol=1e-12)


@pytest.mark.parametrize("delay", [1, 2, 3])
def test_linear_jordan_delay_mse_minimum(delay):
    s = delay / (delay + 1)                       # optimal beta^2
    beta = np.sqrt(s)
    a = beta ** delay * (1 - s)
    best = 1 - s ** delay / (delay + 1)
    np.testing.assert_allclose(toy.linear_jordan_delay_mse(a, beta, delay), best, rtol=1e-12)
    # a grid never beats it
    A, B = np.meshgrid(np.linspace(-1, 1, 201), np.linspace(-0.99, 0.99, 199))
    assert toy.linear_jordan_delay_mse(A, B, delay).min() >= best - 1e-12
    with pytest.raises(ValueError, match="beta"):
        toy.linear_jordan_delay_mse(1.0, 1.0, delay)


def test_linear_jordan_delay_mse_against_jordan_forward():
    from rnnlib import jordan
    rng = np.random.default_rng(4)
    H = 5
    params = {"U": rng.normal(size=(H, 1)), "W": rng.normal(size=(H, 1)),
              "b": np.zeros(H), "V": rng.normal(size=(1, H)), "c": np.zeros(1)}
    # rescale so that beta = V W = 0.6 and a = V U = 0.4
    params["W"] *= 0.6 / (params["V"] @ params["W"]).item()
    params["U"] *= 0.4 / (params["V"] @ params["U"]).item()
    T = 40000
    x = rng.normal(size=(1, T, 1))
    _, y, _ = jordan.jordan_forward(x, np.zeros((1, 1)), params, activation="linear")
    mse = np.mean((y[0, 1:, 0] - x[0, :-1, 0]) ** 2)
    np.testing.assert_allclose(mse, toy.linear_jordan_delay_mse(0.4, 0.6, 1), rtol=0.03)


# --- drawings --------------------------------------------------------------

def test_drawings_return_axes():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert viz.draw_unrolling(ax=ax, T=3) is ax
    texts = {t.get_text() for t in ax.texts}
    assert {"$h_0$", "$h_3$", "$x_t$"} <= texts
    assert [t.get_text() for t in ax.texts].count("W") == 1 + 3   # the loop + one per step
    with pytest.raises(ValueError, match="T"):
        viz.draw_unrolling(ax=ax, T=9)
    plt.close(fig)

    fig, axes = plt.subplots(1, 4)
    for ax, pattern in zip(axes, viz.IO_PATTERNS):
        assert viz.draw_io_pattern(pattern, ax=ax) is ax
        assert ax.get_title() == pattern
    with pytest.raises(ValueError, match="pattern"):
        viz.draw_io_pattern("two-to-two", ax=axes[0])
    plt.close(fig)

    hidden, outputs = toy.all_ones_example(wiring="own")
    inputs = np.array([[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    fig, ax = plt.subplots()
    for upto in (-1, 0, 1, 2):
        ax.clear()
        assert viz.draw_unrolled_toy(inputs, hidden, outputs, upto, wiring="own", ax=ax) is ax
    texts = [t.get_text() for t in ax.texts]
    assert "8" in texts and "16" in texts
    with pytest.raises(ValueError, match="upto"):
        viz.draw_unrolled_toy(inputs, hidden, outputs, 3, ax=ax)
    plt.close(fig)
