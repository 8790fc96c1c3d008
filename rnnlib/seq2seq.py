"""Encoder-decoder (sequence to sequence) with a context vector.

The encoder reads the source ids ``src`` (N, S) and ends in a state; its
final hidden state is the **context vector** ``C`` (N, H). The decoder is a
second recurrent layer that emits the target one token at a time. The
context reaches it in one of three ways (Cho et al. 2014; Sutskever et al.
2014):

* ``context="init"``: ``C`` is the decoder's initial state ``h_0``
  (for an LSTM also the encoder's final cell ``c`` is its ``c_0``);
* ``context="every"``: ``C`` is concatenated to the decoder's input at every
  step, ``x_t = [E_dec[y_{t-1}], C]``, and ``h_0 = 0``;
* ``context="both"``: both at once.

Training uses teacher forcing: :func:`seq2seq_forward` reads the true
shifted target ``tgt_in`` (N, T) and returns logits (N, T, K).
:func:`seq2seq_step_fn` wraps the decoder as a step function for
:mod:`rnnlib.generate` (greedy, sampling, beam search).

Parameters (nested dict): ``"enc_embed"`` {"E" (Ks, De)}, ``"enc"`` (cell,
input De), ``"dec_embed"`` {"E" (K, Dd)}, ``"dec"`` (cell, input Dd, or
Dd + H with "every"/"both"), ``"out"`` {"V" (K, H), "c" (K,)}. The cell
type is read from the shapes (``W`` is (H, H), (3H, H) or (4H, H)).
"""

from __future__ import annotations

import numpy as np

from ._validate import _describe, check_choice, check_positive_int, check_rng
from .affine import affine_backward, affine_forward
from .embedding import check_ids, embedding_backward, embedding_forward, init_embedding
from .generate import beam_search, greedy_decode, log_softmax_rows
from .gru import gru_backward, gru_forward, gru_step_forward
from .init import init_affine, init_gru, init_lstm, init_rnn
from .losses import softmax_cross_entropy
from .model import _ends
from .lstm import lstm_backward, lstm_forward, lstm_step_forward
from .rnn import rnn_backward, rnn_forward, rnn_step_forward

__all__ = ["init_seq2seq", "seq2seq_forward", "seq2seq_backward", "seq2seq_loss",
           "seq2seq_step_fn", "seq2seq_greedy", "seq2seq_beam", "CONTEXTS"]

CONTEXTS = ("init", "every", "both")
_INITS = {"rnn": init_rnn, "lstm": init_lstm, "gru": init_gru}
_GATES = {1: "rnn", 3: "gru", 4: "lstm"}


def init_seq2seq(src_vocab: int, tgt_vocab: int, D: int, H: int, rng: np.random.Generator,
                 cell: str = "gru", context: str = "both", dtype=np.float64) -> dict:
    """Draw the parameters of an encoder-decoder.

    Parameters
    ----------
    src_vocab, tgt_vocab : ints, source and target vocabulary sizes (target = K).
    D : int, embedding size of both vocabularies.
    H : int, hidden units of encoder and decoder (the context size).
    rng : np.random.Generator.
    cell : "rnn" (tanh), "lstm" or "gru" (PyTorch's reset-after convention).
    context : "init", "every" or "both" (decides the decoder's input size).
    dtype : float64 or float32.

    Returns
    -------
    params : nested dict (see the module docstring).
    """
    for name, v in (("src_vocab", src_vocab), ("tgt_vocab", tgt_vocab), ("D", D), ("H", H)):
        check_positive_int(name, v)
    check_rng(rng)
    check_choice("cell", cell, tuple(_INITS))
    check_choice("context", context, CONTEXTS)
    D_dec = D + H if context in ("every", "both") else D
    init = _INITS[cell]
    return {"enc_embed": init_embedding(src_vocab, D, rng, dtype=dtype),
            "enc": init(D, H, rng, dtype),
            "dec_embed": init_embedding(tgt_vocab, D, rng, dtype=dtype),
            "dec": init(D_dec, H, rng, dtype),
            "out": init_affine(H, tgt_vocab, rng, dtype)}


def _structure(params, context):
    """Check the nested dict; return (cell, H, D_dec_embed)."""
    keys = {"enc_embed", "enc", "dec_embed", "dec", "out"}
    if not isinstance(params, dict) or set(params) != keys:
        got = sorted(params) if isinstance(params, dict) else _describe(params)
        raise ValueError(f"params: expected keys {sorted(keys)} (from init_seq2seq), got {got}")
    check_choice("context", context, CONTEXTS)
    W = params["enc"].get("W") if isinstance(params["enc"], dict) else None
    if not isinstance(W, np.ndarray) or W.ndim != 2 or W.shape[0] % W.shape[1]:
        raise ValueError("params['enc']['W']: expected a (gH, H) array with g in {1, 3, 4}")
    H = W.shape[1]
    cell = _GATES.get(W.shape[0] // H)
    if cell is None:
        raise ValueError(f"params['enc']['W']: expected shape (H, H), (3H, H) or (4H, H), got {W.shape}")
    Dd = params["dec_embed"]["E"].shape[1]
    want = Dd + H if context in ("every", "both") else Dd
    got = params["dec"]["U"].shape[1]
    if got != want:
        raise ValueError(
            f"params['dec']['U']: context={context!r} needs a decoder input of {want} features "
            f"(embedding {Dd}{' + context ' + str(H) if want != Dd else ''}), got {got}; "
            f"use the context the params were made with")
    return cell, H, Dd


def _run(cell, x, h0, c0, p, mask):
    if cell == "rnn":
        h, cache = rnn_forward(x, h0, p, mask=mask)
        return h, None, cache
    if cell == "lstm":
        return lstm_forward(x, h0, c0, p, mask=mask)
    h, cache = gru_forward(x, h0, p, mask=mask)
    return h, None, cache


def _run_backward(cell, dh, dc, cache):
    if cell == "lstm":
        return lstm_backward(dh, cache, dc=dc)
    dx, dh0, grads = (rnn_backward if cell == "rnn" else gru_backward)(dh, cache)
    return dx, dh0, None, grads


def _encode(params, src, cell, H, src_mask):
    """Run the encoder: context C (N, H), final cell (N, H) or None, caches."""
    x_src, emb_cache = embedding_forward(src, params["enc_embed"])     # (N, S, D)
    N = src.shape[0]
    h0 = np.zeros((N, H), dtype=x_src.dtype)
    h, c, cache = _run(cell, x_src, h0, np.zeros_like(h0), params["enc"], src_mask)
    # each sequence's last valid step (step -1 without a mask)
    last, _ = _ends(src_mask, N, src.shape[1])
    rows = np.arange(N)
    C = h[rows, last, :]                                               # (N, H)
    c_last = None if c is None else c[rows, last, :]
    return C, c_last, (emb_cache, cache, h.shape, last)


def seq2seq_forward(params: dict, src: np.ndarray, tgt_in: np.ndarray, context: str = "both",
                    src_mask=None, tgt_mask=None) -> tuple[np.ndarray, dict]:
    """Encode ``src``, then decode ``tgt_in`` with teacher forcing.

    .. math::
        C = h^{enc}_S, \\quad
        h^{dec}_0 = C \\text{ (init/both) or } 0, \\quad
        h^{dec}_t = \\text{cell}([E y_{t-1}; C] \\text{ (every/both) or } E y_{t-1},\\ h^{dec}_{t-1}),
        \\quad o_t = V h^{dec}_t + c

    Parameters
    ----------
    params : from :func:`init_seq2seq` (same ``context``).
    src : (N, S) int source ids.
    tgt_in : (N, T) int decoder inputs (start token, then the target shifted).
    context : "init", "every" or "both".
    src_mask : optional (N, S) 0/1 (state carried over padded source steps).
    tgt_mask : optional (N, T) 0/1 for the decoder recurrence.

    Returns
    -------
    logits : (N, T, K).
    cache : dict for :func:`seq2seq_backward` (``cache["C"]`` is the context (N, H)).
    """
    cell, H, Dd = _structure(params, context)
    check_ids("src", src, params["enc_embed"]["E"].shape[0])
    check_ids("tgt_in", tgt_in, params["dec_embed"]["E"].shape[0])
    if src.shape[0] != tgt_in.shape[0]:
        raise ValueError(f"tgt_in: expected the batch size N = {src.shape[0]} of src, "
                         f"got shape {tgt_in.shape}")
    C, c_last, enc = _encode(params, src, cell, H, src_mask)
    N, T = tgt_in.shape
    y_emb, dec_emb_cache = embedding_forward(tgt_in, params["dec_embed"])   # (N, T, Dd)
    if context in ("every", "both"):
        x_dec = np.concatenate([y_emb, np.broadcast_to(C[:, None, :], (N, T, H))],
                               axis=2)                                       # (N, T, Dd + H)
    else:
        x_dec = y_emb
    if context in ("init", "both"):
        h0 = C
        c0 = c_last
    else:
        h0 = np.zeros_like(C)
        c0 = None if c_last is None else np.zeros_like(c_last)
    if cell == "lstm" and c0 is None:
        c0 = np.zeros_like(C)
    h_dec, _, dec_cache = _run(cell, x_dec, h0, c0, params["dec"], tgt_mask)  # (N, T, H)
    logits, out_cache = affine_forward(h_dec, params["out"])                 # (N, T, K)
    cache = {"cell": cell, "context": context, "H": H, "Dd": Dd, "enc": enc,
             "dec_emb": dec_emb_cache, "dec": dec_cache, "out": out_cache, "C": C,
             "shape": (N, T)}
    return logits, cache


def seq2seq_backward(dlogits: np.ndarray, cache: dict) -> dict:
    """Backward pass of :func:`seq2seq_forward`.

    Parameters
    ----------
    dlogits : (N, T, K).
    cache : from :func:`seq2seq_forward`.

    Returns
    -------
    grads : nested dict like ``params``.
    """
    cell, context, H, Dd = cache["cell"], cache["context"], cache["H"], cache["Dd"]
    grads = {}
    # through the output layer
    dh_dec, grads["out"] = affine_backward(dlogits, cache["out"])           # (N, T, H)
    # through the decoder
    dx_dec, dh0, dc0, grads["dec"] = _run_backward(cell, dh_dec, None, cache["dec"])
    # into the decoder embedding (the first Dd features of its input)
    grads["dec_embed"] = embedding_backward(np.ascontiguousarray(dx_dec[:, :, :Dd]), cache["dec_emb"])
    # into the context: from every step's input and/or the initial state
    dC = np.zeros_like(cache["C"])
    if context in ("every", "both"):
        dC += dx_dec[:, :, Dd:].sum(axis=1)                                   # (N, H)
    dc_last = None
    if context in ("init", "both"):
        dC += dh0
        dc_last = dc0
    # into the encoder, which produced C at its last step
    emb_cache, enc_cache, (N, S, _), last = cache["enc"]
    rows = np.arange(N)
    dh_enc = np.zeros((N, S, H), dtype=dC.dtype)
    dh_enc[rows, last, :] = dC
    dc_enc = None
    if cell == "lstm":
        dc_enc = np.zeros((N, S, H), dtype=dC.dtype)
        if dc_last is not None:
            dc_enc[rows, last, :] = dc_last
    dx_enc, _, _, grads["enc"] = _run_backward(cell, dh_enc, dc_enc, enc_cache)
    grads["enc_embed"] = embedding_backward(dx_enc, emb_cache)
    return grads


def seq2seq_loss(params: dict, src, tgt_in, tgt_out, context: str = "both",
                 src_mask=None, tgt_mask=None) -> tuple[float, dict]:
    """Mean cross-entropy of the teacher-forced decoder and its gradients.

    Parameters
    ----------
    tgt_out : (N, T) int, the ids the decoder should emit (``tgt_in`` shifted by one).
    tgt_mask : optional (N, T) 0/1; masked steps are left out of the loss too.
    others
        As for :func:`seq2seq_forward`.

    Returns
    -------
    loss : float.
    grads : nested dict like ``params``.
    """
    logits, cache = seq2seq_forward(params, src, tgt_in, context, src_mask, tgt_mask)
    loss, dlogits = softmax_cross_entropy(logits, tgt_out, mask=tgt_mask)
    return float(loss), seq2seq_backward(dlogits, cache)


def seq2seq_step_fn(params: dict, src: np.ndarray, context: str = "both", src_mask=None):
    """Encode ``src`` and return the decoder as a step function for :mod:`rnnlib.generate`.

    Returns
    -------
    step_fn : ``step_fn(token_ids (B,), state) -> (log_probs (B, K), new_state)``.
    state : the initial decoder state for the N source sequences:
        {"h": (N, H), "ctx": (N, H)} (+ "c" for an LSTM); beam search reorders
        its rows, so the context travels with each beam.
    """
    cell, H, Dd = _structure(params, context)
    check_ids("src", src, params["enc_embed"]["E"].shape[0])
    C, c_last, _ = _encode(params, src, cell, H, src_mask)
    if context in ("init", "both"):
        state = {"h": C.copy(), "ctx": C}
        if cell == "lstm":
            state["c"] = c_last
    else:
        state = {"h": np.zeros_like(C), "ctx": C}
        if cell == "lstm":
            state["c"] = np.zeros_like(C)
    K = params["dec_embed"]["E"].shape[0]

    def step_fn(token_ids, state):
        token_ids = check_ids("token_ids", np.asarray(token_ids), K, ndim=1, shape_doc="(B,)")
        x = params["dec_embed"]["E"][token_ids]                            # (B, Dd)
        if context in ("every", "both"):
            x = np.concatenate([x, state["ctx"]], axis=1)                  # (B, Dd + H)
        new = {"ctx": state["ctx"]}
        if cell == "lstm":
            new["h"], new["c"], _ = lstm_step_forward(x, state["h"], state["c"], params["dec"])
        elif cell == "gru":
            new["h"], _ = gru_step_forward(x, state["h"], params["dec"])
        else:
            new["h"], _ = rnn_step_forward(x, state["h"], params["dec"])
        o, _ = affine_forward(new["h"][:, None, :], params["out"])          # (B, 1, K)
        return log_softmax_rows(o[:, 0, :]), new

    return step_fn, state


def seq2seq_greedy(params, src, start_token: int, steps: int, context: str = "both", src_mask=None):
    """Greedy decoding of every source sequence: (tokens (N, steps), log_prob (N,))."""
    step_fn, state = seq2seq_step_fn(params, src, context, src_mask)
    return greedy_decode(step_fn, state, start_token, steps)


def seq2seq_beam(params, src, start_token: int, steps: int, width: int, context: str = "both",
                 end_token: int | None = None):
    """Beam search for ONE source sequence ``src`` (1, S): as :func:`rnnlib.generate.beam_search`."""
    if isinstance(src, np.ndarray) and src.ndim == 2 and src.shape[0] != 1:
        raise ValueError(f"src: beam search decodes one source sequence, expected shape (1, S), "
                         f"got {src.shape}")
    step_fn, state = seq2seq_step_fn(params, src, context)
    return beam_search(step_fn, state, start_token, steps, width, end_token=end_token)
