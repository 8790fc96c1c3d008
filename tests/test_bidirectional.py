"""Bidirectional wrapper: gradients, the reversed half, masks with post-padding."""

import numpy as np
import pytest

from rnnlib import (check_gradients, gru_forward, init_gru, init_lstm, init_rnn,
                    lstm_forward, rnn_forward)
from rnnlib.bidirectional import bidirectional_backward, bidirectional_forward

N, T, D, H = 3, 5, 4, 7
INIT = {"rnn": init_rnn, "lstm": init_lstm, "gru": init_gru}


def _params(rng, cell):
    return INIT[cell](D, H, rng), INIT[cell](D, H, rng)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("use_mask", [False, True])
def test_gradients(rng, ragged_mask, cell, use_mask):
    x = rng.standard_normal((N, T, D))
    pf, pb = _params(rng, cell)
    params = {**{"f_" + k: v for k, v in pf.items()}, **{"b_" + k: v for k, v in pb.items()}}

    def fwd(x, params, mask=None):
        f = {k[2:]: v for k, v in params.items() if k.startswith("f_")}
        b = {k[2:]: v for k, v in params.items() if k.startswith("b_")}
        return bidirectional_forward(x, f, b, cell=cell, mask=mask)

    def bwd(dh, cache):
        dx, gf, gb = bidirectional_backward(dh, cache)
        return dx, {**{"f_" + k: v for k, v in gf.items()}, **{"b_" + k: v for k, v in gb.items()}}

    errors = check_gradients(fwd, bwd, {"x": x}, params, rng,
                             mask=ragged_mask if use_mask else None)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_halves_are_the_two_directions(rng, ragged_mask, cell):
    x = rng.standard_normal((N, T, D))
    pf, pb = _params(rng, cell)
    h, cache = bidirectional_forward(x, pf, pb, cell=cell, mask=ragged_mask)
    assert h.shape == (N, T, 2 * H)
    run = {"rnn": lambda x, p: rnn_forward(x, None, p)[0],
           "gru": lambda x, p: gru_forward(x, None, p)[0],
           "lstm": lambda x, p: lstm_forward(x, None, None, p)[0]}[cell]
    for n, L in enumerate(ragged_mask.sum(1).astype(int)):
        xs = x[n:n + 1, :L]
        np.testing.assert_allclose(h[n, :L, :H], run(xs, pf)[0], atol=1e-14)
        # each sequence reversed on its own
        np.testing.assert_allclose(h[n, :L, H:], run(xs[:, ::-1], pb)[0, ::-1], atol=1e-14)
        assert np.all(h[n, L:, H:] == 0)                         # backward half zero at padding
        np.testing.assert_allclose(h[n, -1, :H], run(xs, pf)[0, -1], atol=1e-14)
    tr = cache["trace"]
    np.testing.assert_array_equal(tr["bw"]["h"], h[:, :, H:])
    np.testing.assert_array_equal(tr["fw"]["h"], h[:, :, :H])


def test_cell_kwargs_and_choice(rng):
    x = rng.standard_normal((N, T, D))
    pf, pb = _params(rng, "rnn")
    h, _ = bidirectional_forward(x, pf, pb, cell="rnn", activation="relu")
    assert np.all(h >= 0)
    with pytest.raises(ValueError, match=r"cell: expected one of \['gru', 'lstm', .*'rnn'\], got 'elman'"):
        bidirectional_forward(x, pf, pb, cell="elman")
    with pytest.raises(TypeError, match=r"cell_options: cell 'lstm' takes the options \['peephole'\], "
                       r"got unexpected \['activation'\]"):
        bidirectional_forward(x, *_params(rng, "lstm"), cell="lstm", activation="relu")
    with pytest.raises(ValueError, match=r"params_bw: expected the hidden size H = 7 of params_fw, got H = 3"):
        bidirectional_forward(x, pf, init_rnn(D, 3, rng), cell="rnn")
