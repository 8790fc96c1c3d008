"""Tests for rnnlib.chapters.ch05_gru: the GRU's special cases, counts and the comparison."""

import numpy as np
import pytest

import rnnlib as rl
from rnnlib.chapters import ch05_gru as ch

N, T, D, H = 3, 9, 4, 5


def _gru(seed=0, reset="after"):
    rng = np.random.default_rng(seed)
    p = rl.init_gru(D, H, rng, reset=reset)
    p = {k: v * 2.0 for k, v in p.items()}            # non-trivial gates, non-zero biases
    x = rng.standard_normal((N, T, D))
    h0 = 0.5 * rng.standard_normal((N, H))
    return p, x, h0, rng


@pytest.mark.parametrize("reset", ["after", "before"])
def test_forced_gru_is_the_rnn_states_and_gradients(reset):
    p, x, h0, rng = _gru(1, reset)
    rnn_p = ch.rnn_params_of_gru(p, reset)
    assert {k: v.shape for k, v in rnn_p.items()} == {"U": (H, D), "W": (H, H), "b": (H,)}
    h_rnn, c_rnn = rl.rnn_forward(x, h0, rnn_p)
    h_gru, c_gru = rl.gru_forward(x, h0, p, reset=reset, force={"r": 1.0, "z": 0.0})
    assert np.abs(h_gru - h_rnn).max() < 1e-12
    dh = rng.standard_normal((N, T, H))
    dx_r, dh0_r, g_r = rl.rnn_backward(dh, c_rnn)
    dx_g, dh0_g, g_g = rl.gru_backward(dh, c_gru)
    np.testing.assert_allclose(dx_g, dx_r, atol=1e-12)
    np.testing.assert_allclose(dh0_g, dh0_r, atol=1e-12)
    np.testing.assert_allclose(g_g["U"][2 * H:], g_r["U"], atol=1e-12)
    np.testing.assert_allclose(g_g["W"][2 * H:], g_r["W"], atol=1e-12)
    np.testing.assert_allclose(g_g["b"][2 * H:], g_r["b"], atol=1e-12)
    if reset == "after":
        np.testing.assert_allclose(g_g["bhn"], g_r["b"], atol=1e-12)
    # one gate forced is not enough
    for force in ({"r": 1.0}, {"z": 0.0}):
        h_one, _ = rl.gru_forward(x, h0, p, reset=reset, force=force)
        assert np.abs(h_one - h_rnn).max() > 1e-3


def test_rnn_params_of_gru_copies_and_checks():
    p, *_ = _gru()
    q = ch.rnn_params_of_gru(p)
    q["U"][:] = 0
    assert np.any(p["U"] != 0)
    with pytest.raises(ValueError, match="reset"):
        ch.rnn_params_of_gru(p, reset="sideways")


def _other_convention(x, h0, p):
    """h_t = z n + (1 - z) h_{t-1}, reset after, written out."""
    Ur, Uz, Un = np.split(p["U"], 3)
    Wr, Wz, Wn = np.split(p["W"], 3)
    br, bz, bn = np.split(p["b"], 3)
    h, out = h0, []
    for t in range(x.shape[1]):
        r = rl.sigmoid(x[:, t] @ Ur.T + h @ Wr.T + br)
        z = rl.sigmoid(x[:, t] @ Uz.T + h @ Wz.T + bz)
        n = np.tanh(x[:, t] @ Un.T + bn + r * (h @ Wn.T + p["bhn"]))
        h = z * n + (1 - z) * h
        out.append(h)
    return np.stack(out, axis=1)


def test_flip_update_gate_is_the_other_convention_and_an_involution():
    p, x, h0, _ = _gru(2)
    h_flip, c = rl.gru_forward(x, h0, ch.flip_update_gate(p))
    np.testing.assert_allclose(h_flip, _other_convention(x, h0, p), rtol=1e-12, atol=1e-14)
    _, c_orig = rl.gru_forward(x, h0, p)
    # at the first step both read the same h0: z flips to 1 - z (later the states differ)
    np.testing.assert_allclose(c["trace"]["z"][:, 0], 1 - c_orig["trace"]["z"][:, 0],
                               atol=1e-14)
    twice = ch.flip_update_gate(ch.flip_update_gate(p))
    assert all(np.array_equal(twice[k], p[k]) for k in p)
    assert ch.flip_update_gate(p) is not p and np.array_equal(p["U"], _gru(2)[0]["U"])


@pytest.mark.parametrize("D_, H_", [(1, 1), (2, 9), (7, 3), (50, 128)])
def test_parameter_formula_matches_the_dicts(D_, H_):
    rng = np.random.default_rng(0)
    made = {"rnn": rl.init_rnn(D_, H_, rng), "lstm": rl.init_lstm(D_, H_, rng),
            "gru": rl.init_gru(D_, H_, rng)}
    for cell, params in made.items():
        assert ch.parameter_count(params) == ch.parameter_formula(cell, D_, H_)
    before = rl.init_gru(D_, H_, rng, reset="before")
    assert ch.parameter_count(before) == ch.parameter_formula("gru", D_, H_, reset="before")
    assert ch.parameter_formula("gru", D_, H_) - ch.parameter_count(before) == H_
    nested = {"rnn": made["gru"], "out": rl.init_affine(H_, 3, rng)}
    assert ch.parameter_count(nested) == ch.parameter_formula("gru", D_, H_) + 3 * H_ + 3


def test_parameter_formula_matches_torch_numel():
    torch = pytest.importorskip("torch")
    for cell, module in (("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
        m = module(6, 11)
        assert sum(q.numel() for q in m.parameters()) == \
            ch.parameter_formula(cell, 6, 11, convention="torch")


def test_parameter_formula_rejects_bad_input():
    with pytest.raises(ValueError, match="cell"):
        ch.parameter_formula("transformer", 2, 3)
    with pytest.raises(ValueError, match="convention"):
        ch.parameter_formula("gru", 2, 3, convention="keras")
    with pytest.raises(ValueError, match="H"):
        ch.parameter_formula("gru", 2, 0)


def test_step_operations_multiply_adds_are_the_weights():
    rng = np.random.default_rng(0)
    for cell, params in (("rnn", rl.init_rnn(D, H, rng)), ("lstm", rl.init_lstm(D, H, rng)),
                         ("gru", rl.init_gru(D, H, rng))):
        ops = ch.step_operations(cell, D, H)
        assert ops["multiply_adds"] == params["U"].size + params["W"].size
        assert ops["recurrent_products"] == 1
    assert ch.step_operations("gru", D, H, reset="before")["recurrent_products"] == 2
    lstm, gru = ch.step_operations("lstm", D, H), ch.step_operations("gru", D, H)
    assert 4 * gru["multiply_adds"] == 3 * lstm["multiply_adds"]
    assert (gru["sigmoids"], gru["tanhs"]) == (2 * H, H)
    assert (lstm["sigmoids"], lstm["tanhs"]) == (3 * H, 2 * H)


def test_step_operations_count_the_products_the_step_makes():
    """The GRU step's matrix products, counted while it runs (chapter 1's counter)."""
    from rnnlib.chapters import ch01_rnn
    rng = np.random.default_rng(0)
    x_t, h = rng.standard_normal((1, D)), rng.standard_normal((1, H))
    for reset in ("after", "before"):
        p = rl.init_gru(D, H, rng, reset=reset)
        work = ch01_rnn.count_multiply_adds(rl.gru_step_forward, x_t, h, p, reset=reset)
        assert work["multiply_adds"] == ch.step_operations("gru", D, H, reset)["multiply_adds"]
        # one input product plus the recurrent products
        assert work["products"] == 1 + ch.step_operations("gru", D, H, reset)["recurrent_products"]


def test_hidden_for_budget_is_closest():
    for cell in ("rnn", "lstm", "gru"):
        H_, n = ch.hidden_for_budget(cell, 360, D=2, K=1)
        spec = rl.ModelSpec(cell=cell, D=2, H=H_, K=1, loss="mse", output="last")
        assert n == ch.parameter_count(rl.init_model(spec, np.random.default_rng(0)))
        for other in (H_ - 1, H_ + 1):
            if other >= 1:
                s = rl.ModelSpec(cell=cell, D=2, H=other, K=1, loss="mse", output="last")
                m = ch.parameter_count(rl.init_model(s, np.random.default_rng(0)))
                assert abs(m - 360) >= abs(n - 360)
    assert ch.hidden_for_budget("rnn", 360, 2, 1) == (17, 358)
    assert ch.hidden_for_budget("lstm", 360, 2, 1) == (8, 361)
    assert ch.hidden_for_budget("gru", 360, 2, 1) == (9, 343)


def test_comparison_model_forget_biases():
    H_ = 8
    for name, offset in (("LSTM", 0.0), ("LSTM, forget bias 1", 1.0)):
        spec, params = ch.comparison_model(name, H_, 2, 1, np.random.default_rng(3))
        fb = params["rnn"]["b"][H_:2 * H_]
        assert spec.cell == "lstm"
        assert np.all(np.abs(fb - offset) <= 1 / np.sqrt(H_))
    spec, params = ch.comparison_model("GRU", 9, 2, 1, np.random.default_rng(3))
    assert spec.cell == "gru" and "bhn" in params["rnn"]
    with pytest.raises(ValueError, match="name"):
        ch.comparison_model("MGU", 4, 2, 1, np.random.default_rng(0))


def test_run_comparison_is_deterministic_and_shaped():
    a = ch.run_comparison(120, 6, [0, 1], 5, names=("RNN", "GRU"))
    b = ch.run_comparison(120, 6, [0, 1], 5, names=("RNN", "GRU"))
    assert list(a) == ["RNN", "GRU"]
    for name in a:
        assert a[name]["loss"].shape == (2, 5) and a[name]["test_mse"].shape == (2,)
        np.testing.assert_array_equal(a[name]["loss"], b[name]["loss"])
        assert len(a[name]["params"]) == 2
        assert abs(a[name]["params_count"] - 120) < 40


def test_smooth_is_a_trailing_mean():
    rng = np.random.default_rng(0)
    v = rng.standard_normal((3, 50))
    s = ch.smooth(v, 7)
    naive = np.array([[row[max(0, t - 6):t + 1].mean() for t in range(50)] for row in v])
    np.testing.assert_allclose(s, naive, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ch.smooth(v[0], 1), v[0])


@pytest.mark.parametrize("reset", ["after", "before"])
def test_pulse_response(reset):
    b_z = 2.0
    unit = ch.pulse_response(b_z=b_z, b_r=0.0, w=0.0, T=30, reset=reset)
    z = rl.sigmoid(b_z)
    np.testing.assert_allclose(unit["z"], z, rtol=1e-12)
    np.testing.assert_allclose(unit["h"], unit["h"][0] * z ** np.arange(30), rtol=1e-12)
    assert unit["memory"] == int(np.floor(np.log(0.5) / np.log(z))) + 1 == 6
    # the RNN with the same u, w: tanh(u x_t + w h_{t-1})
    u_rnn = ch.pulse_response(b_z=-50.0, b_r=50.0, w=0.7, T=12, reset=reset)
    np.testing.assert_allclose(u_rnn["h"], u_rnn["h_rnn"], atol=1e-12)
    assert ch.pulse_response(8.0, 0.0, 0.0, T=10)["memory"] == 10      # never halves
    with pytest.raises(ValueError, match="reset"):
        ch.pulse_response(0.0, 0.0, 0.0, reset="sideways")
