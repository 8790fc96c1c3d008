"""Parity with PyTorch (float64): outputs and every gradient of nn.RNN (tanh, relu),
nn.LSTM and nn.GRU agree to 1e-10 over many sizes (N = T = D = H = 1 and T = 200
included); masked batches agree with pack_padded_sequence; interop round trips."""

import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

from rnnlib import (gru_backward, gru_forward, lstm_backward, lstm_forward,  # noqa: E402
                    rnn_backward, rnn_forward)
from rnnlib.bidirectional import bidirectional_backward, bidirectional_forward  # noqa: E402
from rnnlib.interop import params_from_torch, params_to_torch  # noqa: E402

TOL = 1e-10
KINDS = ["rnn-tanh", "rnn-relu", "lstm", "gru"]
FIXED = [(1, 1, 1, 1), (1, 200, 3, 5), (3, 200, 4, 6), (2, 1, 5, 3), (1, 7, 1, 1),
         (4, 3, 2, 1), (5, 11, 7, 9)]


def _module(kind, D, H, seed, **kw):
    torch.manual_seed(seed)
    if kind.startswith("rnn"):
        m = nn.RNN(D, H, nonlinearity=kind.split("-")[1], batch_first=True, **kw)
    elif kind == "lstm":
        m = nn.LSTM(D, H, batch_first=True, **kw)
    else:
        m = nn.GRU(D, H, batch_first=True, **kw)
    return m.double()


def _ours(kind, x, h0, c0, params, mask=None):
    if kind.startswith("rnn"):
        h, cache = rnn_forward(x, h0, params, activation=kind.split("-")[1], mask=mask)
        return h, None, cache
    if kind == "lstm":
        return lstm_forward(x, h0, c0, params, mask=mask)
    h, cache = gru_forward(x, h0, params, mask=mask)
    return h, None, cache


def _ours_back(kind, dh, cache):
    if kind == "lstm":
        dx, dh0, dc0, grads = lstm_backward(dh, cache)
        return dx, dh0, dc0, grads
    dx, dh0, grads = (rnn_backward if kind.startswith("rnn") else gru_backward)(dh, cache)
    return dx, dh0, None, grads


def _torch_grads_as_rnnlib(kind, m):
    """A torch module's .grad fields, expressed as an rnnlib grads dict."""
    g = {k: getattr(m, k).grad.numpy() for k in ("weight_ih_l0", "weight_hh_l0",
                                                  "bias_ih_l0", "bias_hh_l0")}
    out = {"U": g["weight_ih_l0"], "W": g["weight_hh_l0"], "b": g["bias_ih_l0"]}
    if kind == "gru":
        out["bhn"] = g["bias_hh_l0"][2 * m.hidden_size:]
    return out, g


def _sizes():
    rng = np.random.default_rng(11)
    drawn = [tuple(int(v) for v in rng.integers(1, 9, size=4)) for _ in range(6)]
    return FIXED + drawn


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", _sizes())
def test_parity_outputs_and_every_gradient(kind, size):
    N, T, D, H = size
    seed = zlib.crc32(repr((kind, size)).encode())
    rng = np.random.default_rng(seed)
    m = _module(kind, D, H, seed)
    params = params_from_torch(m)
    x = rng.standard_normal((N, T, D))
    h0 = 0.5 * rng.standard_normal((N, H))
    c0 = 0.5 * rng.standard_normal((N, H))
    dh = rng.standard_normal((N, T, H))

    h, c, cache = _ours(kind, x, h0, c0, params)
    dx, dh0, dc0, grads = _ours_back(kind, dh, cache)

    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    c0t = torch.tensor(c0[None], requires_grad=True)
    out, hn = m(xt, (h0t, c0t) if kind == "lstm" else h0t)
    (out * torch.tensor(dh)).sum().backward()

    assert np.max(np.abs(h - out.detach().numpy())) < TOL
    if kind == "lstm":
        assert np.max(np.abs(c[:, -1] - hn[1][0].detach().numpy())) < TOL
        assert np.max(np.abs(dc0 - c0t.grad.numpy()[0])) < TOL
    assert np.max(np.abs(dx - xt.grad.numpy())) < TOL
    assert np.max(np.abs(dh0 - h0t.grad.numpy()[0])) < TOL
    tg, raw = _torch_grads_as_rnnlib(kind, m)
    for k in params:
        assert np.max(np.abs(grads[k] - tg[k])) < TOL, k
    # both torch biases got the gradient of their sum where that is exact
    Hb = 2 * H if kind == "gru" else raw["bias_hh_l0"].shape[0]
    assert np.max(np.abs(raw["bias_hh_l0"][:Hb] - grads["b"][:Hb])) < TOL


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", [(4, 9, 3, 5), (1, 200, 2, 3), (6, 200, 3, 4)])
def test_masked_batches_match_pack_padded_sequence(kind, size):
    N, T, D, H = size
    rng = np.random.default_rng(N * 1000 + T)
    m = _module(kind, D, H, 3)
    params = params_from_torch(m)
    lengths = rng.integers(1, T + 1, size=N)
    lengths[0] = T                                   # one full-length sequence
    mask = (np.arange(T)[None] < lengths[:, None]).astype(float)
    x = rng.standard_normal((N, T, D))
    x_pad = x * mask[:, :, None]                     # padding content must not matter
    x_pad[mask == 0] = 123.0
    h0 = 0.5 * rng.standard_normal((N, H))
    c0 = 0.5 * rng.standard_normal((N, H))
    dh = rng.standard_normal((N, T, H)) * mask[:, :, None]
    dfinal = rng.standard_normal((N, H))             # gradient on the final states

    h, c, cache = _ours(kind, x_pad, h0, c0, params, mask=mask)
    dh_ours = dh.copy()
    dh_ours[np.arange(N), lengths - 1] += dfinal     # final state = last valid step
    dx, dh0, dc0, grads = _ours_back(kind, dh_ours, cache)

    xt = torch.tensor(x_pad, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    c0t = torch.tensor(c0[None], requires_grad=True)
    packed = pack_padded_sequence(xt, torch.tensor(lengths), batch_first=True,
                                  enforce_sorted=False)
    out_p, hn = m(packed, (h0t, c0t) if kind == "lstm" else h0t)
    out, _ = pad_packed_sequence(out_p, batch_first=True, total_length=T)
    h_n = hn[0] if kind == "lstm" else hn
    loss = (out * torch.tensor(dh)).sum() + (h_n[0] * torch.tensor(dfinal)).sum()
    loss.backward()

    valid = mask.astype(bool)
    assert np.max(np.abs(h[valid] - out.detach().numpy()[valid])) < TOL
    assert np.max(np.abs(h[:, -1] - h_n[0].detach().numpy())) < TOL     # final states
    if kind == "lstm":
        assert np.max(np.abs(c[:, -1] - hn[1][0].detach().numpy())) < TOL
        assert np.max(np.abs(dc0 - c0t.grad.numpy()[0])) < TOL
    assert np.max(np.abs(dx - xt.grad.numpy())) < TOL                   # zero at padding on both sides
    assert np.all(dx[~valid] == 0)
    assert np.max(np.abs(dh0 - h0t.grad.numpy()[0])) < TOL
    tg, _ = _torch_grads_as_rnnlib(kind, m)
    for k in params:
        assert np.max(np.abs(grads[k] - tg[k])) < TOL, k


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_bidirectional_matches_torch_with_packed_sequences(cell):
    N, T, D, H = 4, 8, 3, 5
    rng = np.random.default_rng(5)
    kind = "rnn-tanh" if cell == "rnn" else cell
    fw, bw = _module(kind, D, H, 1), _module(kind, D, H, 2)
    bi = _module(kind, D, H, 3, bidirectional=True)
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(bi, name).copy_(getattr(fw, name))
            getattr(bi, name + "_reverse").copy_(getattr(bw, name))
    pf, pb = params_from_torch(fw), params_from_torch(bw)
    lengths = np.array([8, 5, 1, 3])
    mask = (np.arange(T)[None] < lengths[:, None]).astype(float)
    x = rng.standard_normal((N, T, D))
    dh = rng.standard_normal((N, T, 2 * H)) * mask[:, :, None]

    h, cache = bidirectional_forward(x, pf, pb, cell=cell, mask=mask)
    dx, gf, gb = bidirectional_backward(dh, cache)

    xt = torch.tensor(x, requires_grad=True)
    packed = pack_padded_sequence(xt, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    out_p, _ = bi(packed)
    out, _ = pad_packed_sequence(out_p, batch_first=True, total_length=T)
    (out * torch.tensor(dh)).sum().backward()
    valid = mask.astype(bool)
    assert np.max(np.abs(h[valid] - out.detach().numpy()[valid])) < TOL
    assert np.max(np.abs(dx - xt.grad.numpy())) < TOL
    assert np.max(np.abs(gf["W"] - bi.weight_hh_l0.grad.numpy())) < TOL
    assert np.max(np.abs(gb["W"] - bi.weight_hh_l0_reverse.grad.numpy())) < TOL
    assert np.max(np.abs(gb["U"] - bi.weight_ih_l0_reverse.grad.numpy())) < TOL
    assert np.max(np.abs(gb["b"] - bi.bias_ih_l0_reverse.grad.numpy())) < TOL


@pytest.mark.parametrize("kind", KINDS)
def test_params_to_torch_round_trip_and_grads(kind, rng):
    from rnnlib import init_gru, init_lstm, init_rnn
    D, H = 3, 4
    init = {"lstm": init_lstm, "gru": init_gru}.get(kind, init_rnn)
    params = init(D, H, rng)
    m = _module(kind, D, H, 0)
    params_to_torch(params, m)
    back = params_from_torch(m)
    for k in params:
        np.testing.assert_allclose(back[k], params[k], atol=1e-15)
    assert np.all(m.bias_hh_l0.detach().numpy()[:(2 * H if kind == "gru" else None)] == 0)
    grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    params_to_torch(grads, m, grad=True)
    np.testing.assert_array_equal(m.weight_hh_l0.grad.numpy(), grads["W"])
    np.testing.assert_array_equal(m.bias_ih_l0.grad.numpy(), grads["b"])
    if kind == "gru":
        np.testing.assert_array_equal(m.bias_hh_l0.grad.numpy()[2 * H:], grads["bhn"])
        np.testing.assert_array_equal(m.bias_hh_l0.grad.numpy()[:2 * H], grads["b"][:2 * H])
    else:
        np.testing.assert_array_equal(m.bias_hh_l0.grad.numpy(), grads["b"])


def test_interop_float32_and_no_bias():
    m = nn.LSTM(3, 4, bias=False)
    p = params_from_torch(m)
    assert p["U"].dtype == np.float32 and np.all(p["b"] == 0)
    with pytest.raises(ValueError, match=r"params: module has no biases \(bias=False\), expected zero \['b'\]"):
        params_to_torch(dict(p, b=np.ones(16, dtype=np.float32)), m)
    with pytest.raises(TypeError, match=r"params\['U'\]: expected dtype float32 \(the dtype of x\), got dtype float64"):
        params_to_torch({k: v.astype(np.float64) for k, v in p.items()}, m)


def test_interop_rejects_unsupported_modules():
    with pytest.raises(ValueError, match="module: expected a single-layer module .*got num_layers=2"):
        params_from_torch(nn.GRU(3, 4, num_layers=2))
    with pytest.raises(ValueError, match="module: expected a unidirectional module, got bidirectional=True"):
        params_from_torch(nn.RNN(3, 4, bidirectional=True))
    with pytest.raises(ValueError, match=r"module: expected an LSTM without projection \(proj_size=0\), got proj_size=2"):
        params_from_torch(nn.LSTM(3, 4, proj_size=2))
    with pytest.raises(TypeError, match="module: expected a torch.nn.RNN, nn.LSTM or nn.GRU, got Linear"):
        params_from_torch(nn.Linear(3, 4))
    with pytest.raises(ValueError, match=r"params\['W'\]: expected shape \(4H, H\) = \(16, 4\), got \(12, 4\)"):
        params_to_torch({"U": np.zeros((16, 3)), "W": np.zeros((12, 4)), "b": np.zeros(16)},
                        nn.LSTM(3, 4).double())
