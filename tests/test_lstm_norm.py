"""Normalised LSTMs (rnnlib.lstm_norm): gradient checks, statistics, train and eval."""

import numpy as np
import pytest

import rnnlib as rl

N, T, D, H = 4, 5, 3, 6
NORMS = ["batch", "batch_input", "layer"]


def _setup(rng, norm, perturb=True):
    p = rl.init_lstm_norm(D, H, rng, norm=norm)
    if perturb:                                   # gains and shifts away from 0.1 and 0
        p = {k: v + 0.2 * rng.standard_normal(v.shape) for k, v in p.items()}
    x = rng.standard_normal((N, T, D))
    return p, x, rng.standard_normal((N, H)), rng.standard_normal((N, H))


def _mask():
    m = np.ones((N, T))
    m[1, 3:] = 0
    m[2, 1:] = 0
    return m


def test_parameters_and_default_gains(rng):
    for norm, keys in (("batch", {"gx", "gh", "gc", "bc"}), ("batch_input", {"gx"}),
                       ("layer", {"gx", "gh", "gc", "bc"})):
        p = rl.init_lstm_norm(D, H, rng, norm=norm)
        assert set(p) == {"U", "W", "b"} | keys
        gain = 1.0 if norm == "layer" else 0.1     # Cooijmans et al.: 0.1 for batch norm
        assert np.all(p["gx"] == gain)
        if "bc" in p:
            assert np.all(p["bc"] == 0) and p["gc"].shape == (H,)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("use_mask", [False, True])
def test_gradients(rng, norm, mode, use_mask):
    p, x, h0, c0 = _setup(rng, norm)
    stats = None
    if mode == "eval":                            # running statistics from two train calls
        _, _, c1 = rl.lstm_norm_forward(x, h0, c0, p, norm=norm)
        _, _, c2 = rl.lstm_norm_forward(x[::-1] + 0.5, h0, c0, p, norm=norm,
                                        stats=c1["stats"])
        stats = c2["stats"]
    errors = rl.check_gradients(
        lambda x, h0, c0, params, mask=None: rl.lstm_norm_forward(
            x, h0, c0, params, mask=mask, norm=norm, mode=mode, stats=stats),
        lambda dh, dc, cache: rl.lstm_norm_backward(dh, cache, dc=dc),
        {"x": x, "h0": h0, "c0": c0}, p, rng, mask=_mask() if use_mask else None)
    assert set(errors) == {"x", "h0", "c0"} | set(p)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("norm", NORMS)
def test_step_gradients(rng, norm):
    p, x, h0, c0 = _setup(rng, norm)
    errors = rl.check_gradients(
        lambda x_t, h_prev, c_prev, params: rl.lstm_norm_step_forward(
            x_t, h_prev, c_prev, params, norm=norm),
        rl.lstm_norm_step_backward, {"x_t": x[:, 0], "h_prev": h0, "c_prev": c0}, p, rng)
    assert max(errors.values()) < 1e-7, errors


def test_batch_statistics_are_per_step_and_kept(rng):
    p, x, h0, c0 = _setup(rng, "batch")
    h, c, cache = rl.lstm_norm_forward(x, h0, c0, p, norm="batch", momentum=1.0)
    st = cache["stats"]
    assert st["x"]["mean"].shape == (T, 4 * H) and st["h"]["mean"].shape == (T, 4 * H)
    assert st["c"]["var"].shape == (T, H)
    zx = x @ p["U"].T                                            # (N, T, 4H)
    np.testing.assert_allclose(st["x"]["mean"], zx.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(st["x"]["var"], zx.var(axis=0, ddof=1), atol=1e-12)
    hs = np.concatenate([h0[:, None], h[:, :-1]], axis=1)        # h_{t-1}
    zh = hs @ p["W"].T
    np.testing.assert_allclose(st["h"]["mean"], zh.mean(axis=0), atol=1e-12)
    # eval with the statistics of this very batch (momentum 1, N/(N-1) undone) = train
    unbiased_to_biased = {k: {"mean": v["mean"], "var": v["var"] * (N - 1) / N}
                          for k, v in st.items()}
    h_eval, _, _ = rl.lstm_norm_forward(x, h0, c0, p, norm="batch", mode="eval",
                                        stats=unbiased_to_biased)
    np.testing.assert_allclose(h_eval, h, atol=1e-12)


def test_eval_beyond_the_training_length_reuses_the_last_step(rng):
    p, x, h0, c0 = _setup(rng, "batch")
    _, _, cache = rl.lstm_norm_forward(x, h0, c0, p, norm="batch")
    st = cache["stats"]
    x_long = rng.standard_normal((N, T + 3, D))
    h_long, _, _ = rl.lstm_norm_forward(x_long, h0, c0, p, norm="batch", mode="eval", stats=st)
    # the same with the statistics written out to T + 3 steps, the last row repeated
    ext = {k: {s: np.concatenate([v[s], np.repeat(v[s][-1:], 3, axis=0)])
               for s in ("mean", "var")} for k, v in st.items()}
    h_ext, _, _ = rl.lstm_norm_forward(x_long, h0, c0, p, norm="batch", mode="eval", stats=ext)
    np.testing.assert_array_equal(h_long, h_ext)
    with pytest.raises(ValueError, match="stats: eval mode needs"):
        rl.lstm_norm_forward(x, h0, c0, p, norm="batch", mode="eval")


def test_layer_norm_is_the_same_in_train_and_eval_and_per_row(rng):
    p, x, h0, c0 = _setup(rng, "layer")
    h_tr, _, c_tr = rl.lstm_norm_forward(x, h0, c0, p, norm="layer")
    h_ev, _, _ = rl.lstm_norm_forward(x, h0, c0, p, norm="layer", mode="eval")
    np.testing.assert_array_equal(h_tr, h_ev)
    assert c_tr["stats"] == {}
    h_one, _, _ = rl.lstm_norm_forward(x[:1], h0[:1], c0[:1], p, norm="layer")
    np.testing.assert_allclose(h_one, h_tr[:1], atol=1e-14)       # no batch statistics


@pytest.mark.parametrize("norm", ["batch", "batch_input"])
def test_padding_never_shifts_the_statistics(rng, norm):
    """A ragged batch padded to two lengths gives the same valid outputs and stats."""
    p, x, h0, c0 = _setup(rng, norm)
    m = _mask()
    x_pad = np.concatenate([x, 9 * rng.standard_normal((N, 3, D))], axis=1)
    x_pad[:, :T][m == 0] = -4.0
    m_pad = np.concatenate([m, np.zeros((N, 3))], axis=1)
    h1, _, c1 = rl.lstm_norm_forward(x, h0, c0, p, mask=m, norm=norm)
    h2, _, c2 = rl.lstm_norm_forward(x_pad, h0, c0, p, mask=m_pad, norm=norm)
    valid = m.astype(bool)
    np.testing.assert_allclose(h1[valid], h2[:, :T][valid], atol=1e-12)
    for key in c1["stats"]:
        for s in ("mean", "var"):
            a, b = c1["stats"][key][s], c2["stats"][key][s]
            np.testing.assert_allclose(a, b[:len(a)], atol=1e-12)


def test_truncation_is_refused(rng):
    p, x, h0, c0 = _setup(rng, "layer")
    h, c, cache = rl.lstm_norm_forward(x, h0, c0, p, norm="layer")
    with pytest.raises(ValueError, match="truncate: the normalised LSTMs support full BPTT only"):
        rl.lstm_norm_backward(h, cache, truncate=2)


def test_registered_cells_and_flags():
    assert rl.get_cell("lstm_bn").couples_batch and not rl.get_cell("lstm_ln").couples_batch
    assert not rl.get_cell("lstm_bn_input").stepwise and rl.get_cell("lstm_bn").stepwise
    spec = rl.ModelSpec(cell="lstm_ln", D=3, H=4, K=2)
    params = rl.init_model(spec, np.random.default_rng(0))
    assert set(params["rnn"]) == {"U", "W", "b", "gx", "gh", "gc", "bc"}
