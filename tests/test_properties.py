"""Property-based tests (hypothesis): shapes for any sizes, stability at extreme inputs."""

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlib import (gru_backward, gru_forward, init_gru, init_jordan, init_lstm,
                    init_rnn, log_softmax, lstm_backward, lstm_forward, rnn_backward,
                    rnn_forward, sigmoid, softmax, softmax_cross_entropy)
from rnnlib.bidirectional import bidirectional_backward, bidirectional_forward
from rnnlib.jordan import jordan_backward, jordan_forward

SETTINGS = settings(max_examples=25, deadline=None)
sizes = st.tuples(st.integers(1, 4), st.integers(1, 7), st.integers(1, 5), st.integers(1, 6))
CELLS = ["rnn-tanh", "rnn-relu", "rnn-linear", "lstm", "gru-after", "gru-before", "jordan", "bi-lstm"]


def _run(cell, x, rng, mask):
    """Forward and backward of one cell; return every output and gradient."""
    N, T, D = x.shape
    H = 3
    up = lambda shape: rng.standard_normal(shape).astype(x.dtype)
    if cell.startswith("rnn"):
        act = cell.split("-")[1]
        p = init_rnn(D, H, rng, x.dtype)
        if act == "linear":
            p["W"] *= 0.3                 # a stable linear recurrence
        h, c = rnn_forward(x, None, p, activation=act, mask=mask)
        return (h,) + tuple(rnn_backward(up(h.shape), c, truncate=2)[:2]) + tuple(rnn_backward(up(h.shape), c)[:2])
    if cell == "lstm":
        p = init_lstm(D, H, rng, x.dtype)
        h, cc, c = lstm_forward(x, None, None, p, mask=mask)
        return (h, cc) + tuple(lstm_backward(up(h.shape), c, dc=up(h.shape))[:3])
    if cell.startswith("gru"):
        reset = cell.split("-")[1]
        p = init_gru(D, H, rng, x.dtype, reset=reset)
        h, c = gru_forward(x, None, p, mask=mask, reset=reset)
        return (h,) + tuple(gru_backward(up(h.shape), c)[:2])
    if cell == "jordan":
        p = init_jordan(D, H, 2, rng, x.dtype)
        p["W"] *= 0.3
        h, y, c = jordan_forward(x, None, p, activation="tanh", mask=mask)
        return (h, y) + tuple(jordan_backward(up(y.shape), c, dh=up(h.shape))[:2])
    pf, pb = init_lstm(D, H, rng, x.dtype), init_lstm(D, H, rng, x.dtype)
    h, c = bidirectional_forward(x, pf, pb, cell="lstm", mask=mask)
    return (h,) + (bidirectional_backward(up(h.shape), c)[0],)


@SETTINGS
@given(size=sizes, cell=st.sampled_from(CELLS), seed=st.integers(0, 2**32 - 1),
       use_mask=st.booleans(), f32=st.booleans())
def test_shapes_any_size(size, cell, seed, use_mask, f32):
    N, T, D, _ = size
    rng = np.random.default_rng(seed)
    dtype = np.float32 if f32 else np.float64
    x = rng.standard_normal((N, T, D)).astype(dtype)
    mask = (rng.random((N, T)) < 0.7) if use_mask else None
    out = _run(cell, x, rng, mask)
    for a in out:
        assert a.dtype == dtype
        assert a.shape[0] == N
        assert np.all(np.isfinite(a))
    allowed = {(N, T, 3), (N, T, 6), (N, T, 2), (N, T, D), (N, 3), (N, 2)}
    assert all(a.shape in allowed for a in out), [a.shape for a in out]
    assert out[0].shape == (N, T, 6 if cell == "bi-lstm" else 3)
    assert any(a.shape == (N, T, D) for a in out[1:])          # dx came back


@SETTINGS
@given(size=sizes, cell=st.sampled_from([c for c in CELLS if c not in ("rnn-linear", "rnn-relu")]),
       seed=st.integers(0, 2**32 - 1), magnitude=st.floats(1.0, 1e3), f32=st.booleans())
def test_extreme_inputs_no_warning_no_nan(size, cell, seed, magnitude, f32):
    """Saturating cells stay finite and silent with inputs up to |x| = 1000."""
    N, T, D, _ = size
    rng = np.random.default_rng(seed)
    dtype = np.float32 if f32 else np.float64
    x = (magnitude * rng.choice([-1.0, 1.0], size=(N, T, D))).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _run(cell, x, rng, None)
    for a in out:
        assert np.all(np.isfinite(a))
    assert np.all(np.abs(out[0]) <= 1.0)                  # tanh/gated states stay in [-1, 1]


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), magnitude=st.floats(0.0, 1e3),
       k=st.integers(1, 6), f32=st.booleans())
def test_primitives_extreme(seed, magnitude, k, f32):
    rng = np.random.default_rng(seed)
    dtype = np.float32 if f32 else np.float64
    z = (magnitude * rng.uniform(-1, 1, size=(2, 3, k))).astype(dtype)
    y = rng.integers(0, k, size=(2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(z)
        p = softmax(z)
        lp = log_softmax(z)
        loss, d = softmax_cross_entropy(z, y)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-5 if f32 else 1e-12)
    assert np.all(np.isfinite(lp)) and np.all(lp <= 0)
    assert np.isfinite(loss) and loss >= 0
    assert np.all(np.isfinite(d))
    np.testing.assert_allclose(d.sum(-1), 0.0, atol=1e-6 if f32 else 1e-15)


@SETTINGS
@given(size=sizes, seed=st.integers(0, 2**32 - 1))
def test_relu_rnn_extreme_inputs_finite(size, seed):
    """ReLU is unbounded: with |x| = 1000 states are large but finite, and silent."""
    N, T, D, _ = size
    rng = np.random.default_rng(seed)
    x = 1e3 * rng.choice([-1.0, 1.0], size=(N, T, D))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _run("rnn-relu", x, rng, None)
    for a in out:
        assert np.all(np.isfinite(a))
