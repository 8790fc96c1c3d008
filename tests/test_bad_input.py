"""Bad input: every case of issue 2 raises ValueError/TypeError naming the argument,
what was expected and what came -- never a broadcasting error deep in numpy."""

import numpy as np
import pytest

from rnnlib import (gru_backward, gru_forward, init_gru, init_jordan, init_lstm,
                    init_rnn, lstm_backward, lstm_forward, rnn_backward, rnn_forward)
from rnnlib.bidirectional import bidirectional_forward
from rnnlib.jordan import jordan_forward

N, T, D, H = 3, 5, 4, 7


def _cell(name, rng):
    """(forward(x, h0, params, **kw) -> (h, cache), backward(dh, cache, **kw), params)."""
    if name == "rnn":
        return rnn_forward, rnn_backward, init_rnn(D, H, rng)
    if name == "gru":
        return gru_forward, gru_backward, init_gru(D, H, rng)
    fwd = lambda x, h0, p, **kw: (lambda h, c, k: (h, k))(*lstm_forward(x, h0, h0, p, **kw))
    return fwd, lambda dh, cache, **kw: lstm_backward(dh, cache, **kw), init_lstm(D, H, rng)


CELLS = ["rnn", "lstm", "gru"]


@pytest.fixture
def data(rng):
    return rng.standard_normal((N, T, D)), rng.standard_normal((N, H))


@pytest.mark.parametrize("cell", CELLS)
def test_wrong_rank_of_x(cell, rng, data):
    fwd, _, p = _cell(cell, rng)
    x, h0 = data
    with pytest.raises(ValueError, match=r"x: expected a 3-d array of shape \(N, T, D\), got shape \(3, 5\)"):
        fwd(x[:, :, 0], h0, p)


@pytest.mark.parametrize("cell", CELLS)
def test_x_does_not_match_params(cell, rng, data):
    fwd, _, p = _cell(cell, rng)
    _, h0 = data
    x = rng.standard_normal((N, T, D + 1))
    rows = {"rnn": H, "lstm": 4 * H, "gru": 3 * H}[cell]
    # either one may be wrong, so the message names both
    with pytest.raises(ValueError, match=rf"x and params\['U'\] disagree: x has D = 5 features, "
                                         rf"params\['U'\] \(shape \({rows}, 4\)\) has D = 4 columns"):
        fwd(x, h0, p)


@pytest.mark.parametrize("cell", CELLS)
def test_h0_does_not_match_batch(cell, rng, data):
    fwd, _, p = _cell(cell, rng)
    x, h0 = data
    with pytest.raises(ValueError, match=r"h0: expected shape \(N, H\) = \(3, 7\), got \(2, 7\)"):
        fwd(x, h0[:2], p)
    with pytest.raises(ValueError, match=r"h0: expected a 2-d array of shape \(N, H\), got shape \(7,\)"):
        fwd(x, h0[0], p)


@pytest.mark.parametrize("cell", CELLS)
def test_non_float_dtypes(cell, rng, data):
    fwd, _, p = _cell(cell, rng)
    x, h0 = data
    with pytest.raises(TypeError, match="x: expected dtype float32 or float64, got dtype int64"):
        fwd(x.astype(np.int64), h0, p)
    with pytest.raises(TypeError, match=r"params\['U'\]: expected dtype float32 \(the dtype of x\), got dtype float64"):
        fwd(x.astype(np.float32), h0.astype(np.float32), p)
    with pytest.raises(TypeError, match=r"h0: expected dtype float64 \(the dtype of x\), got dtype float32"):
        fwd(x, h0.astype(np.float32), p)
    with pytest.raises(TypeError, match="x: expected a numpy array, got list"):
        fwd(x.tolist(), h0, p)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf(cell, bad, rng, data):
    fwd, _, p = _cell(cell, rng)
    x, h0 = data
    xb = x.copy()
    xb[1, 2, 3] = bad
    with pytest.raises(ValueError, match="x: expected finite values, got 1 NaN or inf entry"):
        fwd(xb, h0, p)
    hb = h0.copy()
    hb[0, :2] = bad
    with pytest.raises(ValueError, match="h0: expected finite values, got 2 NaN or inf entries"):
        fwd(x, hb, p)
    pb = {k: v.copy() for k, v in p.items()}
    pb["W"][0, 0] = bad
    with pytest.raises(ValueError, match=r"params\['W'\]: expected finite values, got 1 NaN or inf entry"):
        fwd(x, h0, pb)


@pytest.mark.parametrize("cell", CELLS)
def test_empty_sequence(cell, rng, data):
    fwd, _, p = _cell(cell, rng)
    x, h0 = data
    with pytest.raises(ValueError, match=r"x: expected at least one time step \(T >= 1\), got shape \(3, 0, 4\)"):
        fwd(x[:, :0], h0, p)


def test_unknown_activation(rng, data):
    x, h0 = data
    with pytest.raises(ValueError, match=r"activation: expected one of \['linear', 'relu', 'tanh'\], got 'softplus'"):
        rnn_forward(x, h0, init_rnn(D, H, rng), activation="softplus")
    with pytest.raises(ValueError, match=r"activation: expected one of \['linear', 'relu', 'tanh'\], got 'sigmoid'"):
        jordan_forward(x, None, init_jordan(D, H, 2, rng), activation="sigmoid")


@pytest.mark.parametrize("cell", CELLS)
def test_bad_mask(cell, rng, data):
    fwd, _, p = _cell(cell, rng)
    x, h0 = data
    with pytest.raises(ValueError, match=r"mask: expected shape \(N, T\) = \(3, 5\), got \(5, 3\)"):
        fwd(x, h0, p, mask=np.ones((T, N)))
    with pytest.raises(ValueError, match=r"mask: expected only 0 and 1 values, got \[2\]"):
        m = np.ones((N, T), dtype=int)
        m[0, 1] = 2
        fwd(x, h0, p, mask=m)
    with pytest.raises(ValueError, match=r"mask: expected only 0 and 1 values, got \[0.5\]"):
        m = np.ones((N, T))
        m[2, 2] = 0.5
        fwd(x, h0, p, mask=m)
    with pytest.raises(TypeError, match="mask: expected a numpy array of shape \\(N, T\\), got list"):
        fwd(x, h0, p, mask=[[1] * T] * N)


@pytest.mark.parametrize("cell", CELLS)
def test_bad_params_dict(cell, rng, data):
    fwd, _, p = _cell(cell, rng)
    x, h0 = data
    with pytest.raises(ValueError, match=r"params: expected keys .*missing \['b'\]"):
        fwd(x, h0, {k: v for k, v in p.items() if k != "b"})
    with pytest.raises(TypeError, match="params: expected a dict of arrays, got list"):
        fwd(x, h0, [p["U"], p["W"]])
    bad = dict(p, W=p["W"][:, :H - 1])
    with pytest.raises(ValueError, match=r"params\['"):
        fwd(x, h0, bad)


def test_rnn_nonsquare_W(rng, data):
    x, h0 = data
    p = init_rnn(D, H, rng)
    with pytest.raises(ValueError, match=r"params\['W'\]: expected shape \(H, H\) = \(7, 7\), got \(7, 3\)"):
        rnn_forward(x, h0, dict(p, W=p["W"][:, :3]))


@pytest.mark.parametrize("cell", CELLS)
def test_bad_upstream_and_truncate(cell, rng, data):
    fwd, bwd, p = _cell(cell, rng)
    x, h0 = data
    h, cache = fwd(x, h0, p)
    with pytest.raises(ValueError, match=r"dh: expected shape \(N, T, H\) = \(3, 5, 7\), got \(3, 4, 7\)"):
        bwd(h[:, :4], cache)
    with pytest.raises(ValueError, match="truncate: expected an integer >= 1, got 0"):
        bwd(h, cache, truncate=0)
    with pytest.raises(TypeError, match="truncate: expected an integer >= 1, got float 2.5"):
        bwd(h, cache, truncate=2.5)
    with pytest.raises(TypeError, match="truncate: expected an integer >= 1, got bool True"):
        bwd(h, cache, truncate=True)
    dh = h.copy()
    dh[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="dh: expected finite values, got 1 NaN or inf entry"):
        bwd(dh, cache)


def test_lstm_c0_and_dc(rng, data):
    x, h0 = data
    p = init_lstm(D, H, rng)
    with pytest.raises(ValueError, match=r"c0: expected shape \(N, H\) = \(3, 7\), got \(3, 6\)"):
        lstm_forward(x, h0, h0[:, :6], p)
    h, c, cache = lstm_forward(x, h0, h0, p)
    with pytest.raises(ValueError, match=r"dc: expected shape \(N, T, H\) = \(3, 5, 7\), got \(3, 5\)|"
                                         r"dc: expected a 3-d array"):
        lstm_backward(h, cache, dc=c[:, :, 0])


def test_gru_reset_conventions(rng, data):
    x, h0 = data
    with pytest.raises(ValueError, match=r"params: expected keys \['U', 'W', 'b', 'bhn'\] for reset='after'"):
        gru_forward(x, h0, init_gru(D, H, rng, reset="before"))
    with pytest.raises(ValueError, match="params: got a 'bhn' entry with reset='before'"):
        gru_forward(x, h0, init_gru(D, H, rng), reset="before")
    with pytest.raises(ValueError, match=r"reset: expected one of \['after', 'before'\], got 'both'"):
        gru_forward(x, h0, init_gru(D, H, rng), reset="both")


def test_jordan_bad_teacher(rng, data):
    x, _ = data
    p = init_jordan(D, H, 2, rng)
    with pytest.raises(ValueError, match=r"y_teacher: expected shape \(N, T, K\) = \(3, 5, 2\), got \(3, 5, 3\)"):
        jordan_forward(x, None, p, y_teacher=np.zeros((N, T, 3)))
    with pytest.raises(ValueError, match=r"y0: expected shape \(N, K\) = \(3, 2\), got \(3, 7\)"):
        jordan_forward(x, np.zeros((N, H)), p)


def test_bidirectional_bad_input(rng, data):
    x, _ = data
    p = init_rnn(D, H, rng)
    with pytest.raises(ValueError, match=r"mask: expected shape \(N, T\) = \(3, 5\), got \(3, 4\)"):
        bidirectional_forward(x, p, p, mask=np.ones((N, T - 1)))
    h, cache = bidirectional_forward(x, p, p)
    from rnnlib.bidirectional import bidirectional_backward
    with pytest.raises(ValueError, match=r"dh: expected shape \(N, T, 2H\) = \(3, 5, 14\), got \(3, 5, 7\)"):
        bidirectional_backward(h[:, :, :H], cache)
