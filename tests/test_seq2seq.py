"""Encoder-decoder: gradient checks for the three ways of passing the context."""

import numpy as np
import pytest

from rnnlib.generate import greedy_decode
from rnnlib.gradcheck import numerical_gradient, rel_error
from rnnlib.model import flatten_params, unflatten_params
from rnnlib.seq2seq import (init_seq2seq, seq2seq_backward, seq2seq_beam, seq2seq_forward,
                            seq2seq_greedy, seq2seq_loss, seq2seq_step_fn)

N, S, T, KS, KT, D, H = 3, 5, 4, 6, 7, 3, 4


def _setup(cell, context, seed=0):
    rng = np.random.default_rng(seed)
    params = init_seq2seq(KS, KT, D, H, rng, cell=cell, context=context)
    params = unflatten_params({k: v + 0.3 * rng.standard_normal(v.shape)
                               for k, v in flatten_params(params).items()})
    src = rng.integers(0, KS, size=(N, S))
    tgt = rng.integers(0, KT, size=(N, T + 1))
    return rng, params, src, tgt[:, :-1], tgt[:, 1:]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("context", ["init", "every", "both"])
@pytest.mark.parametrize("masked", [False, True])
def test_seq2seq_gradcheck(cell, context, masked):
    rng, params, src, tgt_in, _ = _setup(cell, context)
    src_mask = None
    if masked:
        src_mask = np.ones((N, S))
        src_mask[0, 3:] = 0
        src_mask[2, 2:] = 0
    logits, cache = seq2seq_forward(params, src, tgt_in, context, src_mask=src_mask)
    assert logits.shape == (N, T, KT)
    dlogits = rng.standard_normal(logits.shape)
    grads = seq2seq_backward(dlogits, cache)

    def f():
        lg, _ = seq2seq_forward(params, src, tgt_in, context, src_mask=src_mask)
        return float(np.sum(lg * dlogits))

    flat_p, flat_g = flatten_params(params), flatten_params(grads)
    assert set(flat_p) == set(flat_g)
    errors = {k: rel_error(flat_g[k], numerical_gradient(f, v)) for k, v in flat_p.items()}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_seq2seq_loss_gradcheck(cell):
    _, params, src, tgt_in, tgt_out = _setup(cell, "both", seed=1)
    tgt_mask = np.ones((N, T))
    tgt_mask[1, 2:] = 0
    loss, grads = seq2seq_loss(params, src, tgt_in, tgt_out, "both", tgt_mask=tgt_mask)
    assert loss > 0
    for k, v in flatten_params(params).items():
        num = numerical_gradient(lambda: seq2seq_loss(params, src, tgt_in, tgt_out, "both",
                                                      tgt_mask=tgt_mask)[0], v)
        assert rel_error(flatten_params(grads)[k], num) < 1e-7, k


@pytest.mark.parametrize("context", ["init", "every"])
def test_context_really_is_the_only_path(context):
    """With 'init' the decoder depends on the source only through h0, with
    'every' only through its inputs: zeroing that path removes the source."""
    _, params, src, tgt_in, _ = _setup("gru", context, seed=2)
    other = (src + 1) % KS
    a, ca = seq2seq_forward(params, src, tgt_in, context)
    b, cb = seq2seq_forward(params, other, tgt_in, context)
    assert not np.allclose(a, b)                           # the source matters ...
    assert not np.allclose(ca["C"], cb["C"])
    # ... and the encoder's final state is the context vector
    from rnnlib.embedding import embedding_forward
    from rnnlib.gru import gru_forward
    x, _ = embedding_forward(src, params["enc_embed"])
    h, _ = gru_forward(x, np.zeros((N, H)), params["enc"])
    np.testing.assert_allclose(ca["C"], h[:, -1], rtol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("context", ["init", "every", "both"])
def test_step_fn_matches_teacher_forced_forward(cell, context):
    _, params, src, tgt_in, _ = _setup(cell, context, seed=3)
    logits, _ = seq2seq_forward(params, src, tgt_in, context)
    step_fn, state = seq2seq_step_fn(params, src, context)
    for t in range(T):
        lp, state = step_fn(tgt_in[:, t], state)
        ref = logits[:, t] - logits[:, t].max(axis=1, keepdims=True)
        ref = ref - np.log(np.exp(ref).sum(axis=1, keepdims=True))
        np.testing.assert_allclose(lp, ref, rtol=1e-12, atol=1e-12)


def test_greedy_and_beam_through_generate():
    _, params, src, _, _ = _setup("lstm", "both", seed=4)
    tokens, lp = seq2seq_greedy(params, src, 0, 6, "both")
    assert tokens.shape == (N, 6)
    step_fn, state = seq2seq_step_fn(params, src, "both")
    t2, _ = greedy_decode(step_fn, state, 0, 6)
    np.testing.assert_array_equal(tokens, t2)
    for i in range(N):
        seqs, scores, tree = seq2seq_beam(params, src[i:i + 1], 0, 6, width=1, context="both")
        np.testing.assert_array_equal(seqs[0], tokens[i])
        assert scores[0] == pytest.approx(lp[i], abs=1e-12)
    seqs, scores, _ = seq2seq_beam(params, src[:1], 0, 6, width=4, context="both")
    assert scores[0] >= lp[0] - 1e-12                      # a wider beam is no worse here


def test_bad_input():
    rng, params, src, tgt_in, tgt_out = _setup("gru", "init", seed=5)
    with pytest.raises(ValueError, match="context"):
        seq2seq_forward(params, src, tgt_in, "every")       # params made for 'init'
    with pytest.raises(ValueError, match="context"):
        seq2seq_forward(params, src, tgt_in, "sometimes")
    with pytest.raises(ValueError, match="src"):
        seq2seq_forward(params, src + KS, tgt_in, "init")   # ids out of range
    with pytest.raises(ValueError, match="tgt_in"):
        seq2seq_forward(params, src, tgt_in[:2], "init")    # batch mismatch
    with pytest.raises(ValueError, match="tgt_in"):
        seq2seq_forward(params, src, tgt_in[:0], "init")    # empty batch
    with pytest.raises(ValueError, match="cell"):
        init_seq2seq(KS, KT, D, H, rng, cell="elman")
    with pytest.raises(ValueError, match="H"):
        init_seq2seq(KS, KT, D, 0, rng)
    with pytest.raises(ValueError, match="src"):
        seq2seq_beam(params, src, 0, 3, width=2, context="init")


def test_padded_source_gives_the_context_of_the_short_source():
    _, params, src, tgt_in, _ = _setup("lstm", "both", seed=6)
    src_mask = np.ones((N, S))
    src_mask[1, 3:] = 0
    a, ca = seq2seq_forward(params, src, tgt_in, "both", src_mask=src_mask)
    b, cb = seq2seq_forward(params, src[1:2, :3], tgt_in[1:2], "both")
    np.testing.assert_allclose(ca["C"][1], cb["C"][0], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(a[1], b[0], rtol=1e-12, atol=1e-13)
