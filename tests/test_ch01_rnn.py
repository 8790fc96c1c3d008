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

    fig, axes = plt.subplots(1, len(viz.IO_PATTERNS))
    for ax, pattern in zip(axes, viz.IO_PATTERNS):
        assert viz.draw_io_pattern(pattern, ax=ax) is ax
        assert ax.get_title() == pattern
    with pytest.raises(ValueError, match="pattern"):
        viz.draw_io_pattern("two-to-two", ax=axes[0])
    with pytest.raises(ValueError, match="one-to-one"):
        viz.draw_io_pattern("one-to-one", ax=axes[0], n_out=2)
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


def test_io_patterns_label_predictions_and_decoder_inputs():
    """Predictions are y-hat (targets are y); the decoder reads y_0 .. y_{n-1}."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert viz.IO_PATTERNS[0] == "one-to-one" and len(viz.IO_PATTERNS) == 5
    fig, ax = plt.subplots()
    viz.draw_io_pattern("many-to-many", ax=ax, n_in=3, n_out=2)
    texts = [t.get_text() for t in ax.texts]
    assert {"$x_1$", "$x_2$", "$x_3$"} <= set(texts)
    assert {"$y_0$", "$y_1$"} <= set(texts) and "$y_2$" not in texts  # decoder inputs
    assert {"$\\hat y_1$", "$\\hat y_2$"} <= set(texts)
    assert "encoder" in texts and "decoder" in texts
    ax.clear()
    viz.draw_io_pattern("one-to-one", ax=ax)
    texts = [t.get_text() for t in ax.texts]
    assert sorted(t for t in texts if t) == sorted(["$h$", "$x_1$", "$\\hat y_1$"])
    ax.clear()
    hidden, outputs = toy.all_ones_example()
    viz.draw_unrolled_toy([[1, 1], [1, 1], [2, 2]], hidden, outputs, 2, ax=ax,
                          weights={"u": "1", "w_cross": "0"})
    texts = [t.get_text() for t in ax.texts]
    assert "$\\hat y$" in texts and "y" not in texts
    assert ax.get_title() == "u = 1, w_cross = 0"
    plt.close(fig)


# --- [002]: five rounds with five updates against one unrolled update -------

def _training_problem(seed=5, N=2, T=5, D=3, H=4, K=2):
    from rnnlib import init_affine, init_rnn
    rng = np.random.default_rng(seed)
    params, out = init_rnn(D, H, rng), init_affine(H, K, rng)
    params["b"] = rng.normal(size=H)
    out["c"] = rng.normal(size=K)
    return rng.normal(size=(N, T, D)), rng.normal(size=(N, T, K)), params, out


def test_train_unrolled_gradient_is_the_gradient_of_the_summed_loss():
    """Central differences of sum_t mse(o_t, y_t) against train_unrolled's gradient."""
    from rnnlib import affine_forward, mse_loss, rnn_forward
    x, y, params, out = _training_problem()

    def loss(theta):
        h, _ = rnn_forward(x, None, {k: theta[k] for k in ("U", "W", "b")})
        o, _ = affine_forward(h, {k: theta[k] for k in ("V", "c")})
        return sum(mse_loss(o[:, t:t + 1], y[:, t:t + 1])[0] for t in range(x.shape[1]))

    theta = {**params, **out}
    trained, grads = toy.train_unrolled(x, y, params, out, lr=0.3)
    eps = 1e-6
    for k, value in theta.items():
        num = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            plus = {**theta, k: value.copy()}
            minus = {**theta, k: value.copy()}
            plus[k][i] += eps
            minus[k][i] -= eps
            num[i] = (loss(plus) - loss(minus)) / (2 * eps)
        np.testing.assert_allclose(grads[k], num, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(trained[k], value - 0.3 * grads[k], rtol=1e-13, atol=0)


def test_train_round_by_round_is_one_step_at_a_time():
    """Round t uses the weights after t-1 updates and the state of round t-1."""
    from rnnlib import init_affine  # noqa: F401 (same problem as above)
    x, y, params, out = _training_problem()
    before = {k: v.copy() for k, v in {**params, **out}.items()}
    trained, history = toy.train_round_by_round(x, y, params, out, lr=0.2)
    assert len(history) == x.shape[1]
    # the inputs are not modified
    for k, v in {**params, **out}.items():
        np.testing.assert_array_equal(v, before[k])
    # the final weights are the initial ones minus lr times every round's gradient
    for k in trained:
        np.testing.assert_allclose(trained[k], before[k] - 0.2 * sum(g[k] for g in history),
                                   rtol=1e-12, atol=1e-14)
    # round 1 at lr 0 is the gradient of the first step's loss (h_0 = 0 either way)
    _, g0 = toy.train_round_by_round(x[:, :1], y[:, :1], params, out, lr=0.0)
    _, g_unrolled = toy.train_unrolled(x[:, :1], y[:, :1], params, out, lr=0.0)
    for k in g_unrolled:
        np.testing.assert_allclose(g0[0][k], g_unrolled[k], rtol=1e-12, atol=1e-14)
    # over 5 steps the summed one-step gradients miss the recurrent paths
    _, g_rounds = toy.train_round_by_round(x, y, params, out, lr=0.0)
    _, g_bptt = toy.train_unrolled(x, y, params, out, lr=0.0)
    np.testing.assert_allclose(sum(g["V"] for g in g_rounds), g_bptt["V"], rtol=1e-12)
    assert not np.allclose(sum(g["W"] for g in g_rounds), g_bptt["W"])


def test_training_validation_messages():
    x, y, params, out = _training_problem()
    with pytest.raises(ValueError, match="y: expected shape"):
        toy.train_unrolled(x, y[:, :3], params, out, 0.1)
    with pytest.raises(TypeError, match="lr"):
        toy.train_round_by_round(x, y, params, out, "fast")


# --- counting work ---------------------------------------------------------

def test_count_multiply_adds_of_plain_products():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 5))
    work = toy.count_multiply_adds(lambda a, b: (a @ b) @ b.T, a, b)
    assert work == {"multiply_adds": 4 * 3 * 5 + 4 * 5 * 3, "products": 2}
    batched = toy.count_multiply_adds(lambda a, b: a @ b, rng.normal(size=(2, 4, 3)), b)
    assert batched == {"multiply_adds": 2 * 4 * 3 * 5, "products": 1}
    vec = toy.count_multiply_adds(lambda a, v: a @ v, a, rng.normal(size=3))
    assert vec == {"multiply_adds": 12, "products": 1}
    # elementwise work is not counted, results are unchanged
    assert toy.count_multiply_adds(lambda a: np.tanh(a) + 1, a)["multiply_adds"] == 0
    with pytest.raises(TypeError, match="fn"):
        toy.count_multiply_adds(3)


def test_count_multiply_adds_of_the_rnn_forward_pass():
    """Unrolled or stepped, the forward pass costs N T (H D + H H) multiply-adds."""
    from rnnlib import init_rnn, rnn_forward, rnn_step_forward
    rng = np.random.default_rng(7)
    N, T, D, H = 3, 11, 4, 6
    params = init_rnn(D, H, rng)
    x = rng.normal(size=(N, T, D))

    def loop(x, params):
        h = np.zeros((N, H))
        for t in range(T):
            h, _ = rnn_step_forward(x[:, t], h, params)
        return h

    h_ref, _ = rnn_forward(x, None, params)
    unrolled = toy.count_multiply_adds(rnn_forward, x, None, params)
    stepped = toy.count_multiply_adds(loop, x, params)
    assert unrolled["multiply_adds"] == stepped["multiply_adds"] == N * T * (H * D + H * H)
    assert unrolled["products"] < stepped["products"] == 2 * T
    # counting changed nothing: the same call gives the same states afterwards
    np.testing.assert_array_equal(rnn_forward(x, None, params)[0], h_ref)
