"""Generating sequences from a trained model: greedy, sampling, beam search.

Every decoder here talks to the model through one small interface, a
*step function*::

    log_probs, new_state = step_fn(token_ids, state)

``token_ids`` is an integer array (B,) of the tokens just emitted, ``state``
is whatever the model carries between steps (a tuple or dict of arrays whose
first axis is B: for :func:`make_step_fn` the tuple of the cell's states), and ``log_probs`` (B, K) are the log-probabilities of the
next token. The decoders never look inside ``state``; beam search only
reorders its first axis. :func:`make_step_fn` builds a step function for a
character model from :mod:`rnnlib.model`; :mod:`rnnlib.seq2seq` builds one
for its decoder.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_positive_int, check_real, check_rng, describe
from .cells import get_cell
from .model import ModelSpec, check_model_params, initial_state, model_step_forward

__all__ = ["greedy_decode", "sample_sequence", "beam_search", "make_step_fn",
           "initial_state", "log_softmax_rows", "take_state", "check_generates"]


# --------------------------------------------------------------------------
# helpers

def log_softmax_rows(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax by log-sum-exp: ``o - max - log sum exp(o - max)``.

    Parameters
    ----------
    logits : (B, K).

    Returns
    -------
    log_probs : (B, K).
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def take_state(state, index: np.ndarray):
    """Select rows ``index`` along the first axis of every array in ``state``.

    ``state`` may be an array, a dict, list or tuple of them (nested), or None.
    """
    if state is None:
        return None
    if isinstance(state, np.ndarray):
        return state[index]
    if isinstance(state, dict):
        return {k: take_state(v, index) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(take_state(v, index) for v in state)
    raise TypeError(f"state: expected arrays, or dicts/tuples/lists of arrays, got {describe(state)}")


def _state_batch(state):
    """First-axis size of the arrays in ``state`` (None if it holds none)."""
    if state is None:
        return None
    if isinstance(state, np.ndarray):
        return state.shape[0]
    values = state.values() if isinstance(state, dict) else state
    for v in values:
        b = _state_batch(v)
        if b is not None:
            return b
    return None


def _start_tokens(start_token, B: int) -> np.ndarray:
    """Return the start tokens as an int array (B,)."""
    if isinstance(start_token, (bool, np.bool_)):
        raise TypeError(f"start_token: expected an integer token id, got {describe(start_token)}")
    if isinstance(start_token, (int, np.integer)):
        return np.full(B, int(start_token), dtype=np.int64)
    if isinstance(start_token, np.ndarray) and start_token.dtype.kind in "iu":
        if start_token.shape != (B,):
            raise ValueError(f"start_token: expected an int or an int array of shape (B,) = ({B},), "
                             f"got shape {start_token.shape}")
        return start_token.astype(np.int64)
    raise TypeError(f"start_token: expected an integer token id, got {describe(start_token)}")


def _call_step(step_fn, tokens, state, B):
    """Call the step function and check what it gives back."""
    log_probs, new_state = step_fn(tokens, state)
    if not isinstance(log_probs, np.ndarray) or log_probs.ndim != 2 or log_probs.shape[0] != B:
        got = log_probs.shape if isinstance(log_probs, np.ndarray) else describe(log_probs)
        raise ValueError(f"step_fn: expected log_probs of shape (B, K) with B = {B}, got {got}")
    return log_probs, new_state


def _check_ids(name, tokens, K):
    if tokens.size and (tokens.min() < 0 or tokens.max() >= K):
        raise ValueError(f"{name}: expected token ids in [0, {K}), got values from "
                         f"{tokens.min()} to {tokens.max()}")


def _decode(step_fn, state, start_token, steps, choose):
    """Shared loop of greedy decoding and sampling; ``choose(log_probs) -> ids``."""
    steps = check_positive_int("steps", steps)
    B = _state_batch(state)
    if B is None:
        B = 1 if isinstance(start_token, (int, np.integer)) else np.shape(start_token)[0]
    tokens = _start_tokens(start_token, B)
    out = np.empty((B, steps), dtype=np.int64)
    total = np.zeros(B)
    for t in range(steps):
        log_probs, state = _call_step(step_fn, tokens, state, B)
        if t == 0:
            _check_ids("start_token", tokens, log_probs.shape[1])
        tokens = choose(log_probs)
        total += log_probs[np.arange(B), tokens]
        out[:, t] = tokens
    return out, total


# --------------------------------------------------------------------------
# decoders

def greedy_decode(step_fn, state, start_token, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Feed back the most likely token at every step.

    .. math::  y_t = \\arg\\max_k \\log p(k \\mid y_{<t})

    Parameters
    ----------
    step_fn : ``step_fn(token_ids (B,), state) -> (log_probs (B, K), new_state)``.
    state : the model's initial state (arrays with first axis B), or None.
    start_token : int, or int array (B,), the first input token.
    steps : int >= 1, number of tokens to emit.

    Returns
    -------
    tokens : int array (B, steps).
    log_prob : (B,), the model's log-probability of each emitted sequence.
    """
    return _decode(step_fn, state, start_token, steps, lambda lp: lp.argmax(axis=1))


def sample_sequence(step_fn, state, start_token, steps: int, temperature: float = 1.0,
                    top_k: int | None = None, rng: np.random.Generator | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Sample each next token from the (tempered, top-k truncated) distribution.

    .. math::  p_\\tau(k) \\propto \\exp(\\log p(k) / \\tau)

    over all tokens ``k``, or over the ``top_k`` likeliest only when
    ``top_k`` is set.

    ``temperature`` -> 0 approaches greedy decoding, ``top_k=1`` is greedy.

    Parameters
    ----------
    step_fn, state, start_token, steps : as for :func:`greedy_decode`.
    temperature : float > 0.
    top_k : None or int >= 1: sample only among the ``top_k`` likeliest tokens.
    rng : np.random.Generator (required).

    Returns
    -------
    tokens : int array (B, steps).
    log_prob : (B,), the *untempered* model log-probability of each sequence.
    """
    check_rng(rng)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.floating)):
        raise TypeError(f"temperature: expected a number > 0, got {describe(temperature)}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature: expected a finite number > 0, got {temperature}")
    top_k = check_positive_int("top_k", top_k, allow_none=True)

    def choose(log_probs):
        B, K = log_probs.shape
        scaled = log_probs / temperature                              # (B, K)
        if top_k is not None and top_k < K:
            # the k-th largest value per row; everything below it is excluded
            kth = np.partition(scaled, K - top_k, axis=1)[:, K - top_k][:, None]
            scaled = np.where(scaled >= kth, scaled, -np.inf)
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        p = np.exp(scaled)
        p /= p.sum(axis=1, keepdims=True)
        # inverse-CDF sampling: one uniform number per row
        u = rng.random((B, 1))
        idx = (np.cumsum(p, axis=1) < u).sum(axis=1)
        idx = np.minimum(idx, K - 1)
        # rounding could land on a zero-probability entry: step back to a valid one
        bad = p[np.arange(B), idx] == 0
        if np.any(bad):
            idx[bad] = p[bad].argmax(axis=1)
        return idx

    return _decode(step_fn, state, start_token, steps, choose)


def beam_search(step_fn, state, start_token: int, steps: int, width: int,
                end_token: int | None = None, alpha: float = 0.0) -> tuple[list, np.ndarray, dict]:
    """Keep the ``width`` most likely partial sequences at every step.

    .. math::  \\text{score}(y_{1:t}) = \\sum_{s \\le t} \\log p(y_s \\mid y_{<s}),

    and the hypotheses are ranked by ``score / t ** alpha``.

    Each step expands every live beam by every token, and keeps the ``width``
    best of all the candidates (finished beams, those that emitted
    ``end_token``, compete with their final score and are not expanded).
    Width 1 is greedy decoding.

    Length normalisation: hypotheses are ranked by their score divided by
    ``L ** alpha`` (L = number of emitted tokens; ``alpha=0``, the default,
    is the plain sum). A score is a sum of log-probabilities, which are
    negative and add up as a sequence grows, so the plain sum prefers short
    sequences (a finished beam stops losing score). Dividing a negative
    number by a growing ``L ** alpha`` brings it closer to 0: ``alpha > 0``
    therefore *favours longer* hypotheses, undoing part (alpha < 1) or all
    (alpha = 1, the mean log-probability per token) of the sum's bias
    towards short ones. (Texts that say the division "penalises" long
    outputs have the sign the wrong way round.) Live beams at a step all
    have the same length, so alpha only changes how finished beams compete
    with live ones and the final order. A beam is exact (it returns the most likely
    sequence of length ``steps``) when it can hold every prefix of length
    ``steps - 1``, i.e. ``width >= K**(steps - 1)``; width K is therefore
    exact for two steps, and beyond that an approximation (which the tests
    compare with enumerating all sequences).

    Parameters
    ----------
    step_fn : ``step_fn(token_ids (B,), state) -> (log_probs (B, K), new_state)``.
    state : the initial state for ONE sequence (arrays with first axis 1), or None.
    start_token : int, the first input token.
    steps : int >= 1, maximum number of tokens to emit.
    width : int >= 1, the beam width.
    end_token : optional int; a beam that emits it is finished.
    alpha : float >= 0, the length-normalisation exponent.

    Returns
    -------
    sequences : list of ``width`` int arrays (best first by the normalised
        score), each the emitted
        tokens (ending with ``end_token`` if it finished); fewer than
        ``width`` only if fewer candidates exist.
    log_probs : (len(sequences),) their scores (sum of log-probabilities,
        not normalised).
    tree : dict of arrays, one entry per node (node 0 is the root, the start
        token): ``"parent"`` (index of the parent node, -1 for the root),
        ``"token"``, ``"log_prob"`` (cumulative), ``"step"`` (0 for the root,
        t for the t-th emitted token), ``"kept"`` (True if the node was in
        the beam after its step, False if pruned), ``"finished"`` and
        ``"normalized"`` (``log_prob / max(step, 1) ** alpha``, what ranks).
    """
    steps = check_positive_int("steps", steps)
    width = check_positive_int("width", width)
    alpha = check_real("alpha", alpha, minimum=0.0)
    B0 = _state_batch(state)
    if B0 not in (None, 1):
        raise ValueError(f"state: beam_search decodes one sequence, expected state arrays "
                         f"with first axis 1, got {B0}")
    if not isinstance(start_token, (int, np.integer)) or isinstance(start_token, bool):
        raise TypeError(f"start_token: expected an integer token id, got {describe(start_token)}")
    if end_token is not None and (not isinstance(end_token, (int, np.integer))
                                  or isinstance(end_token, bool)):
        raise TypeError(f"end_token: expected None or an integer token id, got {describe(end_token)}")

    # the tree, grown as lists
    parent, token, score, step_of, kept, finished = [-1], [int(start_token)], [0.0], [0], [True], [False]
    def norm(node):                             # the score that ranks: score / L^alpha
        return score[node] / max(step_of[node], 1) ** alpha

    live_nodes = np.array([0])                  # tree node of each live beam
    live_scores = np.array([0.0])
    live_tokens = np.array([int(start_token)], dtype=np.int64)
    done_nodes: list[int] = []                  # finished beams still in the running
    K = None
    for t in range(1, steps + 1):
        log_probs, new_state = _call_step(step_fn, live_tokens, state, len(live_nodes))
        if K is None:
            K = log_probs.shape[1]
            _check_ids("start_token", np.array([start_token]), K)
            if end_token is not None:
                _check_ids("end_token", np.array([end_token]), K)
        nb = len(live_nodes)
        cand = (live_scores[:, None] + log_probs).ravel()             # (nb * K,)
        first_new = len(parent)
        for b in range(nb):                     # record every expansion
            parent.extend([int(live_nodes[b])] * K)
            token.extend(range(K))
            score.extend(cand[b * K:(b + 1) * K].tolist())
            step_of.extend([t] * K)
            kept.extend([False] * K)
            finished.extend([end_token is not None and k == end_token for k in range(K)])
        # compete: new candidates and finished beams
        pool_nodes = np.concatenate([np.arange(first_new, first_new + nb * K),
                                     np.array(done_nodes, dtype=np.int64)])
        pool_scores = np.concatenate([cand / t ** alpha,             # all of length t
                                      np.array([norm(i) for i in done_nodes])])
        order = np.argsort(-pool_scores, kind="stable")[:width]
        best = pool_nodes[order]
        beam = [int(node) for node in best]
        for node in beam:
            kept[node] = True
        done_nodes = [n for n in beam if finished[n]]
        new_live = [n for n in beam if not finished[n]]
        if not new_live:
            break
        rows = np.array([(n - first_new) // K for n in new_live])     # which beam it came from
        live_tokens = np.array([token[n] for n in new_live], dtype=np.int64)
        live_scores = np.array([score[n] for n in new_live])
        live_nodes = np.array(new_live)
        state = take_state(new_state, rows)

    final = sorted(beam, key=lambda n: -norm(n))
    sequences = []
    for node in final:
        seq = []
        while node > 0:
            seq.append(token[node])
            node = parent[node]
        sequences.append(np.array(seq[::-1], dtype=np.int64))
    log_probs_out = np.array([score[n] for n in final])
    tree = {"parent": np.array(parent, dtype=np.int64),
            "token": np.array(token, dtype=np.int64),
            "log_prob": np.array(score),
            "step": np.array(step_of, dtype=np.int64),
            "kept": np.array(kept, dtype=bool),
            "finished": np.array(finished, dtype=bool),
            "normalized": np.array([norm(n) for n in range(len(parent))])}
    return sequences, log_probs_out, tree


# --------------------------------------------------------------------------
# a step function for the model of rnnlib.model

def check_generates(cell, where):
    """Refuse cells whose steps depend on the rest of the batch (batch statistics)."""
    if get_cell(cell).couples_batch:
        raise ValueError(f"{where}: cell {get_cell(cell).name!r} normalises with the statistics "
                         f"of the batch, so one token at a time (and beams) would be normalised "
                         f"by each other; generate with inference statistics "
                         f"(rnnlib.lstm_norm, mode='eval') or use a cell without batch norm")


def make_step_fn(params: dict, spec):
    """A step function for a token model built with :mod:`rnnlib.model`.

    The model must read tokens (``input="embedding"``, or ``"dense"`` with
    one-hot inputs, D = K), run forward in time (not bidirectional) and
    emit a distribution at every step (``loss="xent"``, ``output="every"``).
    One call is one :func:`rnnlib.model.model_step_forward`, the same
    computation as one step of :func:`rnnlib.model.model_forward`:

    .. math::

        h_t &= \\text{cell}(x_t, h_{t-1}), \\\\
        o_t &= V\\,\\text{LN}(h_t) + c, \\\\
        \\log p_t &= \\log \\mathrm{softmax}(o_t)

    Returns
    -------
    step_fn : ``step_fn(token_ids (B,), state) -> (log_probs (B, K), new_state)``;
        ``state`` is the tuple of the cell's state arrays; use
        :func:`initial_state` for the first one.
    """
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"spec: expected a ModelSpec, got {describe(spec)}")
    if spec.bidirectional:
        raise ValueError("spec.bidirectional: a bidirectional model needs the whole sequence "
                         "and cannot generate step by step; expected False, got True")
    if spec.loss != "xent" or spec.output != "every":
        raise ValueError(f"spec: expected loss='xent' and output='every' for generation, "
                         f"got loss={spec.loss!r}, output={spec.output!r}")
    if spec.input == "dense" and spec.D != spec.K:
        raise ValueError(f"spec.D: dense inputs are fed back as one-hot vectors, so D must equal "
                         f"K = {spec.K}, got D = {spec.D}")
    check_model_params(params, spec)
    check_generates(spec.cell, "spec.cell")

    def step_fn(token_ids, state):
        token_ids = np.asarray(token_ids)
        n_in = spec.vocab if spec.input == "embedding" else spec.K
        if token_ids.dtype.kind not in "iu" or token_ids.ndim != 1:
            raise ValueError(f"token_ids: expected an int array of shape (B,), got {describe(token_ids)}")
        _check_ids("token_ids", token_ids, n_in)
        logits, new_state, _ = model_step_forward(params, spec, token_ids, state)   # (B, K)
        return log_softmax_rows(logits), new_state

    return step_fn
