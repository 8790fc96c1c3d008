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
Dd + H with "every"/"both"), ``"out"`` {"V" (K, H), "c" (K,)}.

Any registered cell (:mod:`rnnlib.cells`) can be the encoder and decoder:
pass ``cell=`` (and ``cell_options=``) to every function, as to
:func:`init_seq2seq`. With ``cell=None`` the three PyTorch cells are
recognised from the shapes (``W`` (H, H): "rnn"; (4H, H): "lstm"; (3H, H)
with ``bhn``: "gru"); every other cell must be named. The decoder's state
is the cell's whole state tuple (``(h, c)`` for an LSTM); with
``context="init"`` or ``"both"`` it starts from the encoder's final state.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_choice, check_positive_int, check_rng, describe
from .affine import affine_backward, affine_forward
from .cells import get_cell
from .embedding import check_ids, embedding_backward, embedding_forward, init_embedding
from .generate import beam_search, check_generates, greedy_decode, log_softmax_rows
from .init import init_affine
from .losses import softmax_cross_entropy
from .model import ModelSpec, model_step_forward, sequence_ends

__all__ = ["init_seq2seq", "seq2seq_forward", "seq2seq_backward", "seq2seq_loss",
           "seq2seq_step_fn", "seq2seq_greedy", "seq2seq_beam", "CONTEXTS"]

CONTEXTS = ("init", "every", "both")


def init_seq2seq(src_vocab: int, tgt_vocab: int, D: int, H: int, rng: np.random.Generator,
                 cell: str = "gru", context: str = "both", dtype=np.float64,
                 cell_options: dict | None = None) -> dict:
    """Draw the parameters of an encoder-decoder.

    Parameters
    ----------
    src_vocab, tgt_vocab : ints, source and target vocabulary sizes (target = K).
    D : int, embedding size of both vocabularies.
    H : int, hidden units of encoder and decoder (the context size).
    rng : np.random.Generator.
    cell : a registered cell (:mod:`rnnlib.cells`), e.g. "rnn", "lstm", "gru".
    context : "init", "every" or "both" (decides the decoder's input size).
    dtype : float64 or float32.
    cell_options : the cell's options (e.g. ``{"reset": "before"}``).

    Returns
    -------
    params : nested dict (see the module docstring).
    """
    for name, v in (("src_vocab", src_vocab), ("tgt_vocab", tgt_vocab), ("D", D), ("H", H)):
        check_positive_int(name, v)
    check_rng(rng)
    spec = get_cell(cell)
    opts = spec.check_options(cell_options, where="cell_options")
    check_choice("context", context, CONTEXTS)
    D_dec = D + H if context in ("every", "both") else D
    return {"enc_embed": init_embedding(src_vocab, D, rng, dtype=dtype),
            "enc": spec.init(D, H, rng, dtype, **opts),
            "dec_embed": init_embedding(tgt_vocab, D, rng, dtype=dtype),
            "dec": spec.init(D_dec, H, rng, dtype, **opts),
            "out": init_affine(H, tgt_vocab, rng, dtype)}


#: the cells recognised from their shapes when ``cell=None``:
#: (rows of W per hidden unit, has a ``bhn`` entry) -> cell
_BY_SHAPE = {(1, False): "rnn", (4, False): "lstm", (3, True): "gru"}


def _structure(params, context, cell, cell_options):
    """Check the nested dict; return (Cell, options, H, Dd)."""
    keys = {"enc_embed", "enc", "dec_embed", "dec", "out"}
    if not isinstance(params, dict) or set(params) != keys:
        got = sorted(params) if isinstance(params, dict) else describe(params)
        raise ValueError(f"params: expected keys {sorted(keys)} (from init_seq2seq), got {got}")
    check_choice("context", context, CONTEXTS)
    W = params["enc"].get("W") if isinstance(params["enc"], dict) else None
    if not isinstance(W, np.ndarray) or W.ndim != 2 or W.shape[0] % W.shape[1]:
        raise ValueError("params['enc']['W']: expected a (gH, H) array with g in {1, 3, 4}")
    H = W.shape[1]
    if cell is None:
        cell = _BY_SHAPE.get((W.shape[0] // H, "bhn" in params["enc"]))
        if cell is None:
            raise ValueError(f"params['enc']['W']: shape {W.shape} is not a plain RNN (H, H), "
                             f"LSTM (4H, H) or GRU (3H, H, with 'bhn'); pass cell= with the "
                             f"cell the params were made for")
    spec = get_cell(cell)
    opts = spec.check_options(cell_options, where="cell_options")
    Dd = params["dec_embed"]["E"].shape[1]
    want = Dd + H if context in ("every", "both") else Dd
    got = params["dec"]["U"].shape[1]
    if got != want:
        raise ValueError(
            f"params['dec']['U']: context={context!r} needs a decoder input of {want} features "
            f"(embedding {Dd}{' + context ' + str(H) if want != Dd else ''}), got {got}; "
            f"use the context the params were made with")
    return spec, opts, H, Dd


def _encode(params, src, spec, opts, H, src_mask):
    """Run the encoder: its final state (a tuple of (N, H), C = state[0]) and caches."""
    x_src, emb_cache = embedding_forward(src, params["enc_embed"])     # (N, S, D)
    N, S = src.shape
    zeros = spec.zero_state(N, H, x_src.dtype)
    states, cache = spec.forward(x_src, zeros, params["enc"], mask=src_mask, **opts)
    # each sequence's last valid step (step -1 without a mask)
    last, _ = sequence_ends(src_mask, N, S)
    rows = np.arange(N)
    final = tuple(st[rows, last, :] for st in states)                  # each (N, H)
    return final, (emb_cache, cache, (N, S), last)


def seq2seq_forward(params: dict, src: np.ndarray, tgt_in: np.ndarray, context: str = "both",
                    src_mask=None, tgt_mask=None, *, cell: str | None = None,
                    cell_options: dict | None = None) -> tuple[np.ndarray, dict]:
    """Encode ``src``, then decode ``tgt_in`` with teacher forcing.

    .. math::

        C &= h^{enc}_S, \\\\
        h^{dec}_0 &= C, \\\\
        x_t &= [E y_{t-1}; C], \\\\
        h^{dec}_t &= \\text{cell}(x_t, h^{dec}_{t-1}), \\\\
        o_t &= V h^{dec}_t + c

    for ``context="both"``; ``"init"`` feeds ``x_t = E y_{t-1}`` (no
    context in the inputs) and ``"every"`` starts from ``h^dec_0 = 0``.

    Parameters
    ----------
    params : from :func:`init_seq2seq` (same ``context``).
    src : (N, S) int source ids.
    tgt_in : (N, T) int decoder inputs (start token, then the target shifted).
    context : "init", "every" or "both".
    src_mask : optional (N, S) 0/1 (state carried over padded source steps).
    tgt_mask : optional (N, T) 0/1 for the decoder recurrence.
    cell, cell_options : the cell of :func:`init_seq2seq` (None: recognised
        from the shapes, see the module docstring).

    Returns
    -------
    logits : (N, T, K).
    cache : dict for :func:`seq2seq_backward` (``cache["C"]`` is the context (N, H)).
    """
    spec, opts, H, Dd = _structure(params, context, cell, cell_options)
    check_ids("src", src, params["enc_embed"]["E"].shape[0])
    check_ids("tgt_in", tgt_in, params["dec_embed"]["E"].shape[0])
    if src.shape[0] != tgt_in.shape[0]:
        raise ValueError(f"tgt_in: expected the batch size N = {src.shape[0]} of src, "
                         f"got shape {tgt_in.shape}")
    final, enc = _encode(params, src, spec, opts, H, src_mask)
    C = final[0]                                                             # context (N, H)
    N, T = tgt_in.shape
    y_emb, dec_emb_cache = embedding_forward(tgt_in, params["dec_embed"])   # (N, T, Dd)
    if context in ("every", "both"):
        x_dec = np.concatenate([y_emb, np.broadcast_to(C[:, None, :], (N, T, H))],
                               axis=2)                                       # (N, T, Dd + H)
    else:
        x_dec = y_emb
    state0 = final if context in ("init", "both") else spec.zero_state(N, H, C.dtype)
    states, dec_cache = spec.forward(x_dec, state0, params["dec"], mask=tgt_mask, **opts)
    logits, out_cache = affine_forward(states[0], params["out"])             # (N, T, K)
    cache = {"cell": spec, "context": context, "H": H, "Dd": Dd, "enc": enc,
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
    spec, context, H, Dd = cache["cell"], cache["context"], cache["H"], cache["Dd"]
    none = (None,) * (len(spec.state) - 1)                                   # no upstream on c etc.
    grads = {}
    # through the output layer
    dh_dec, grads["out"] = affine_backward(dlogits, cache["out"])           # (N, T, H)
    # through the decoder
    dx_dec, dstate0, grads["dec"] = spec.backward((dh_dec,) + none, cache["dec"])
    # into the decoder embedding (the first Dd features of its input)
    grads["dec_embed"] = embedding_backward(np.ascontiguousarray(dx_dec[:, :, :Dd]), cache["dec_emb"])
    # into the encoder's final state: the context from every step's input
    # and/or the whole initial state of the decoder
    dfinal = [np.zeros_like(cache["C"]) for _ in spec.state]
    if context in ("every", "both"):
        dfinal[0] += dx_dec[:, :, Dd:].sum(axis=1)                            # (N, H)
    if context in ("init", "both"):
        for k, d in enumerate(dstate0):
            dfinal[k] += d
    # into the encoder, which produced its final state at each sequence's last step
    emb_cache, enc_cache, (N, S), last = cache["enc"]
    rows = np.arange(N)
    dstates = []
    for d in dfinal:
        full = np.zeros((N, S, H), dtype=d.dtype)
        full[rows, last, :] = d
        dstates.append(full)
    dx_enc, _, grads["enc"] = spec.backward(tuple(dstates), enc_cache)
    grads["enc_embed"] = embedding_backward(dx_enc, emb_cache)
    return grads


def seq2seq_loss(params: dict, src, tgt_in, tgt_out, context: str = "both",
                 src_mask=None, tgt_mask=None, *, cell: str | None = None,
                 cell_options: dict | None = None) -> tuple[float, dict]:
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
    logits, cache = seq2seq_forward(params, src, tgt_in, context, src_mask, tgt_mask,
                                    cell=cell, cell_options=cell_options)
    loss, dlogits = softmax_cross_entropy(logits, tgt_out, mask=tgt_mask)
    return float(loss), seq2seq_backward(dlogits, cache)


def seq2seq_step_fn(params: dict, src: np.ndarray, context: str = "both", src_mask=None, *,
                    cell: str | None = None, cell_options: dict | None = None):
    """Encode ``src`` and return the decoder as a step function for :mod:`rnnlib.generate`.

    Each call is one :func:`rnnlib.model.model_step_forward` of the decoder
    (embedding, context, cell, output layer).

    Returns
    -------
    step_fn : ``step_fn(token_ids (B,), state) -> (log_probs (B, K), new_state)``.
    state : the initial decoder state for the N source sequences:
        {"cell": tuple of (N, H) (the cell's state), "ctx": (N, H)}; beam
        search reorders its rows, so the context travels with each beam.
    """
    spec, opts, H, Dd = _structure(params, context, cell, cell_options)
    check_generates(spec, "cell")
    check_ids("src", src, params["enc_embed"]["E"].shape[0])
    final, _ = _encode(params, src, spec, opts, H, src_mask)
    C = final[0]
    start = tuple(a.copy() for a in final) if context in ("init", "both") else         spec.zero_state(C.shape[0], H, C.dtype)
    state = {"cell": start, "ctx": C}
    K = params["dec_embed"]["E"].shape[0]
    D_in = params["dec"]["U"].shape[1]
    dec_spec = ModelSpec(cell=spec.name, input="dense", D=D_in, H=H, K=params["out"]["V"].shape[0],
                         dtype=str(C.dtype), cell_options={k: v for k, v in opts.items()
                                                           if k != "activation"},
                         activation=opts.get("activation", "tanh"))
    dec_params = {"rnn": params["dec"], "out": params["out"]}

    def step_fn(token_ids, state):
        token_ids = check_ids("token_ids", np.asarray(token_ids), K, ndim=1, shape_doc="(B,)")
        x = params["dec_embed"]["E"][token_ids]                            # (B, Dd)
        if context in ("every", "both"):
            x = np.concatenate([x, state["ctx"]], axis=1)                  # (B, Dd + H)
        logits, new_cell, _ = model_step_forward(dec_params, dec_spec, x, state["cell"])
        return log_softmax_rows(logits), {"cell": new_cell, "ctx": state["ctx"]}

    return step_fn, state


def seq2seq_greedy(params, src, start_token: int, steps: int, context: str = "both", src_mask=None,
                   *, cell: str | None = None, cell_options: dict | None = None):
    """Greedy decoding of every source sequence: (tokens (N, steps), log_prob (N,))."""
    step_fn, state = seq2seq_step_fn(params, src, context, src_mask, cell=cell,
                                     cell_options=cell_options)
    return greedy_decode(step_fn, state, start_token, steps)


def seq2seq_beam(params, src, start_token: int, steps: int, width: int, context: str = "both",
                 end_token: int | None = None, *, cell: str | None = None,
                 cell_options: dict | None = None):
    """Beam search for ONE source sequence ``src`` (1, S): as :func:`rnnlib.generate.beam_search`."""
    if isinstance(src, np.ndarray) and src.ndim == 2 and src.shape[0] != 1:
        raise ValueError(f"src: beam search decodes one source sequence, expected shape (1, S), "
                         f"got {src.shape}")
    step_fn, state = seq2seq_step_fn(params, src, context, cell=cell, cell_options=cell_options)
    return beam_search(step_fn, state, start_token, steps, width, end_token=end_token)
