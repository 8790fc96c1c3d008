"""Chapter 8.5 helpers: the Mackey-Glass generator and direct targets in
rnnlib.data.timeseries, and the forecasters of rnnlib.chapters.ch08_forecasting."""

import numpy as np
import pytest

import rnnlib as rl
from rnnlib.chapters import ch08_forecasting as ch
from rnnlib.data.timeseries import horizon_targets, mackey_glass


# --- rnnlib.data.timeseries additions ------------------------------------------

def test_mackey_glass_is_deterministic_and_in_its_range():
    a, b = mackey_glass(500), mackey_glass(500)
    assert a.shape == (500,) and a.dtype == np.float64
    assert np.array_equal(a, b)
    assert 0.35 < a.min() < a.max() < 1.4


def test_mackey_glass_sampling_and_discard_read_one_trajectory():
    fine = mackey_glass(61, sample_every=0.5, discard=10.0)
    coarse = mackey_glass(31, sample_every=1.0, discard=10.0)
    assert np.array_equal(fine[::2], coarse)
    later = mackey_glass(21, sample_every=1.0, discard=20.0)
    assert np.array_equal(coarse[10:], later[:21])


def test_mackey_glass_converges_with_the_step():
    # fourth-order steps with a second-order delay interpolation: halving dt
    # shrinks the error at least fourfold over a short stretch
    ref = mackey_glass(60, dt=0.025, discard=0.0)
    e1 = np.abs(mackey_glass(60, dt=0.1, discard=0.0) - ref).max()
    e2 = np.abs(mackey_glass(60, dt=0.05, discard=0.0) - ref).max()
    assert e2 < e1 / 3.5 and e1 < 1e-3


def test_mackey_glass_flat_history_is_a_fixed_point_only_at_the_equilibrium():
    # beta x / (1 + x^10) = gamma x  <=>  x^10 = beta / gamma - 1 = 1
    flat = mackey_glass(50, x0=1.0, discard=0.0)
    assert np.allclose(flat, 1.0, atol=1e-12)


def test_mackey_glass_chaos_at_17_not_at_6():
    gaps = {tau: np.abs(mackey_glass(1500, tau=tau)
                        - mackey_glass(1500, tau=tau, x0=1.2 + 1e-8))[-300:].max()
            for tau in (6.0, 17.0)}
    assert gaps[6.0] < 1e-8 and gaps[17.0] > 1e-5


@pytest.mark.parametrize("kwargs,match", [
    ({"n": 0}, r"n: expected an integer >= 1, got 0"),
    ({"n": 5, "tau": -1.0}, r"tau: expected a number > 0.0, got -1.0"),
    ({"n": 5, "tau": 17.05}, r"tau: expected a multiple of dt = 0.1, got 17.05"),
    ({"n": 5, "sample_every": 0.25}, r"sample_every: expected a multiple of dt = 0.1, got 0.25"),
    ({"n": 5, "discard": -2.0}, r"discard: expected a number >= 0.0, got -2.0"),
])
def test_mackey_glass_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mackey_glass(**kwargs)


def test_horizon_targets():
    x = np.arange(8.0)
    values, Y = horizon_targets(x, 3)
    assert np.array_equal(values, x[:5])
    assert Y.shape == (5, 3)
    assert np.array_equal(Y[0], [1.0, 2.0, 3.0]) and np.array_equal(Y[-1], [5.0, 6.0, 7.0])
    with pytest.raises(ValueError, match=r"horizon: expected an integer < T = 8 .*got 8"):
        horizon_targets(x, 8)
    with pytest.raises(ValueError, match=r"series: expected a 1-d array of shape \(T,\)"):
        horizon_targets(x[None], 2)
    with pytest.raises(TypeError, match=r"series: expected dtype float32 or float64"):
        horizon_targets(np.arange(8), 2)


# --- the chapter's forecasters ------------------------------------------------------

def test_load_series_splits_in_time_and_standardises_by_train():
    s = ch.load_series(100, 40)
    assert s["train"].shape == (100,) and s["test"].shape == (40,)
    assert np.isclose(s["train"].mean(), 0, atol=1e-12)
    assert np.isclose(s["train"].std(), 1, atol=1e-12)
    z = (s["raw"] - s["mean"]) / s["std"]
    assert np.allclose(np.concatenate([s["train"], s["test"]]), z)


def test_lag_features_rows_and_quadratic_terms():
    x = np.arange(6.0)
    F, t = ch.lag_features(x, 3)
    assert np.array_equal(t, [2, 3, 4, 5])
    assert np.array_equal(F[0], [2.0, 1.0, 0.0, 1.0])          # z_t, z_t-1, z_t-2, 1
    Fq, _ = ch.lag_features(x, 3, quadratic=True)
    assert Fq.shape == (4, 3 + 6 + 1)
    assert np.array_equal(Fq[1, 3:9], [9.0, 6.0, 3.0, 4.0, 2.0, 1.0])
    with pytest.raises(ValueError, match=r"p: expected a window length <= T = 6, got 7"):
        ch.lag_features(x, 7)


def test_window_model_is_exact_on_a_linear_recurrence():
    # a sine obeys x_{t+1} = 2 cos(w) x_t - x_{t-1}: every horizon is linear in 2 values
    w = 2 * np.pi / 17.3
    x = np.sin(w * np.arange(300) + 0.4)
    C = ch.fit_window_model(x[:200], p=2, horizon=5)
    pred = ch.window_forecast(C, x[200:], p=2)
    assert np.all(np.isnan(pred[0]))                              # no full window at t = 0
    assert ch.horizon_rmse(pred, x[200:], start=1).max() < 1e-9
    with pytest.raises(ValueError, match=r"C: expected 6 rows \(the features of p = 2, quadratic = True\), got shape \(3, 5\)"):
        ch.window_forecast(C, x, p=2, quadratic=True)


def test_naive_forecast_and_horizon_rmse():
    x = np.linspace(0.0, 1.0, 30)
    pred = ch.naive_forecast(x, horizon=4)
    assert pred.shape == (30, 4) and np.all(pred[:, 2] == x)
    e = ch.horizon_rmse(pred, x, start=0)
    step = x[1] - x[0]
    assert np.allclose(e, step * np.arange(1, 5))                 # a ramp: k steps off
    t, Y = ch.evaluation_targets(x, 4, 3)
    assert t[0] == 3 and t[-1] == 25 and np.array_equal(Y[0], x[4:8])
    with pytest.raises(ValueError, match=r"pred: expected shape \(T, h\) with T = 30"):
        ch.horizon_rmse(pred[:10], x)


def test_training_chunks_carry_the_right_targets():
    x = np.arange(100.0)
    xs, ys = ch.training_chunks(x, T=10, horizon=3, stride=5)
    assert xs.shape[1:] == (10, 1) and ys.shape[1:] == (10, 3)
    n = 2
    start = 5 * n
    assert np.array_equal(xs[n, :, 0], x[start:start + 10])
    assert np.array_equal(ys[n, 4], x[start + 5:start + 8])


def test_train_forecaster_is_seeded_and_model_forecast_matches_the_model():
    s = ch.load_series(300, 60)
    spec, runs = ch.train_forecaster(s["train"], "gru", seeds=(3,), H=4, steps=3)
    _, runs2 = ch.train_forecaster(s["train"], "gru", seeds=(3,), H=4, steps=3)
    assert runs[0][1]["loss"] == runs2[0][1]["loss"]
    params = runs[0][0]
    pred, h = ch.model_forecast(params, spec, s["test"])
    out, cache = rl.model_forward(params, s["test"][None, :, None], spec)
    assert pred.shape == (60, ch.HORIZON) and h.shape == (60, 4)
    assert np.array_equal(pred, out[0]) and np.array_equal(h, cache["h"][0])


def test_shuffled_series_keeps_the_values():
    x = np.arange(20.0)
    y = ch.shuffled_series(x, np.random.default_rng(0))
    assert np.array_equal(np.sort(y), x) and not np.array_equal(y, x)


def test_autocorrelation():
    t = np.arange(400.0)
    rho = ch.autocorrelation(np.sin(2 * np.pi * t / 20), 25)
    assert rho.shape == (26,) and rho[0] == 1.0
    assert np.argmax(rho[5:]) + 5 == 20 and rho[10] < -0.9
    with pytest.raises(ValueError, match=r"max_lag: expected an integer < T = 400, got 400"):
        ch.autocorrelation(t, 400)
