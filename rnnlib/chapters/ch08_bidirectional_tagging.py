"""Bidirectional taggers, and why a bidirectional RNN is no language model (chapter 8, section 6).

A bidirectional layer (:func:`rnnlib.bidirectional.bidirectional_forward`)
joins a forward state, which has read ``x_0 .. x_t``, and a backward state,
which has read ``x_t .. x_{T-1}``:

.. math::

    h_t = [\\overrightarrow{h}_t ; \\overleftarrow{h}_t], \\qquad
    o_t = V h_t + c .

This module trains taggers of both kinds on generated tasks whose labels
depend on later inputs (:func:`rnnlib.data.tasks.appears_again`,
:func:`rnnlib.data.tasks.future_token`) with matched parameter counts, and
holds the pieces of the language-model experiment: a Markov chain of
tokens with a known entropy rate, a bidirectional model used left to right
(run on each prefix), and the sum of a model's "probabilities" over every
sequence of a given length. Numerics only.
"""

from __future__ import annotations

import itertools

import numpy as np

from rnnlib._validate import check_positive_int, check_real, check_rng, describe
from rnnlib.activations import log_softmax
from rnnlib.model import ModelSpec, flatten_params, init_model, model_forward
from rnnlib.training import train

__all__ = ["param_count", "matched_hidden", "train_tagger", "tag_accuracy",
           "accuracy_by_position", "markov_chain", "markov_sequences", "entropy_rate",
           "teacher_forced_nll", "left_to_right_nll", "sample_left_to_right",
           "chain_log_prob", "total_probability", "forward_half_nll", "influence",
           "directions"]


# --------------------------------------------------------------------------
# taggers

def param_count(spec: ModelSpec) -> int:
    """Number of trainable numbers of the model ``spec`` describes."""
    params = init_model(spec, np.random.default_rng(0))
    return int(sum(v.size for v in flatten_params(params).values()))


def matched_hidden(spec_bi: ModelSpec) -> int:
    """Hidden size H of a unidirectional model with about the parameters of ``spec_bi``.

    Parameters
    ----------
    spec_bi : a bidirectional ModelSpec.

    Returns
    -------
    H : int, the unidirectional H whose count is closest to ``param_count(spec_bi)``.
    """
    if not isinstance(spec_bi, ModelSpec) or not spec_bi.bidirectional:
        raise ValueError(f"spec_bi: expected a bidirectional ModelSpec, got {describe(spec_bi)}")
    target = param_count(spec_bi)
    best, best_gap = 1, np.inf
    for H in range(1, 4 * spec_bi.H + 1):
        uni = ModelSpec(**{**spec_bi.__dict__, "H": H, "bidirectional": False})
        gap = abs(param_count(uni) - target)
        if gap < best_gap:
            best, best_gap = H, gap
    return best


def train_tagger(spec: ModelSpec, make_batch, seed: int, steps: int = 400,
                 lr: float = 0.01, batch_size: int = 32) -> tuple[dict, dict]:
    """Train a tagger on fresh generated batches.

    Parameters
    ----------
    spec : ModelSpec (``output="every"``, ``loss="xent"``).
    make_batch : callable ``(n, rng) -> (x (n, T), y (n, T))``.
    seed : int, seeds the initialisation and the batches.
    steps, lr, batch_size : Adam steps, learning rate, sequences per batch.

    Returns
    -------
    params, history : from :func:`rnnlib.training.train`.
    """
    steps = check_positive_int("steps", steps)
    batch_size = check_positive_int("batch_size", batch_size)
    if not callable(make_batch):
        raise TypeError(f"make_batch: expected a callable (n, rng) -> (x, y), "
                        f"got {describe(make_batch)}")
    params = init_model(spec, np.random.default_rng([seed, 0]))
    return train(params, spec, lambda r: make_batch(batch_size, r), steps=steps, lr=lr,
                 clip=("norm", 1.0), rng=np.random.default_rng([seed, 1]), batch_size=None)


def tag_accuracy(params: dict, spec: ModelSpec, x: np.ndarray, y: np.ndarray) -> float:
    """Share of steps whose most likely tag is right (x, y (N, T))."""
    logits, _ = model_forward(params, x, spec)                    # (N, T, K)
    return float(np.mean(logits.argmax(axis=2) == y))


def influence(params: dict, spec: ModelSpec, x: np.ndarray, t: int) -> np.ndarray:
    """How much the outputs at step t move when the token at step s changes: (T,).

    .. math::  d_s = \\operatorname{mean}_n \\max_k |\\Delta o_{n,t,k}|

    where :math:`\\Delta o = o(x') - o(x)` and ``x'`` is ``x`` with
    ``x'_{n,s} = (x_{n,s} + 1) mod vocab``.

    Parameters
    ----------
    params, spec : an embedding-input model with ``output="every"``.
    x : (N, T) token ids; t : int, the step whose outputs are watched.
    """
    N, T = x.shape
    if not 0 <= t < T:
        raise ValueError(f"t: expected a step in [0, {T - 1}], got {t!r}")
    base, _ = model_forward(params, x, spec)                      # (N, T, K)
    out = np.empty(T)
    for s in range(T):
        x2 = x.copy()
        x2[:, s] = (x2[:, s] + 1) % spec.vocab
        moved, _ = model_forward(params, x2, spec)
        out[s] = np.mean(np.max(np.abs(moved[:, t] - base[:, t]), axis=1))
    return out


def directions(params: dict, spec: ModelSpec, x: np.ndarray) -> tuple:
    """The forward and backward halves of a bidirectional model's states.

    Returns
    -------
    h_fw, h_bw : (N, T, H) each; p : (N, T, K) the softmax outputs.
    """
    if not spec.bidirectional:
        raise ValueError("spec: expected a bidirectional model (spec.bidirectional=True)")
    logits, cache = model_forward(params, x, spec)
    H = spec.H
    return cache["h"][..., :H], cache["h"][..., H:], np.exp(log_softmax(logits, axis=-1))


def accuracy_by_position(params: dict, spec: ModelSpec, x, y) -> np.ndarray:
    """Accuracy at each step t, averaged over the batch: (T,)."""
    logits, _ = model_forward(params, x, spec)
    return np.mean(logits.argmax(axis=2) == y, axis=0)


# --------------------------------------------------------------------------
# a token language with a known entropy rate

def markov_chain(n_tokens: int, rng: np.random.Generator, concentration: float = 0.3):
    """A random transition matrix P (n_tokens, n_tokens); row i is p(next | i).

    Rows are drawn from a Dirichlet distribution with the given
    ``concentration`` (small: few likely successors per token).
    """
    n_tokens = check_positive_int("n_tokens", n_tokens, minimum=2)
    rng = check_rng(rng)
    concentration = check_real("concentration", concentration, minimum=0.0, strict_min=True)
    return rng.dirichlet(np.full(n_tokens, concentration), size=n_tokens)


def _stationary(P):
    vals, vecs = np.linalg.eig(P.T)
    pi = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    return pi / pi.sum()


def markov_sequences(n: int, T: int, P: np.ndarray, rng: np.random.Generator):
    """Sequences of the chain P started from its stationary distribution.

    Returns
    -------
    x : (n, T) int64 inputs x_0..x_{T-1}; y : (n, T) int64 next tokens x_1..x_T.
    """
    n = check_positive_int("n", n)
    T = check_positive_int("T", T)
    rng = check_rng(rng)
    K = P.shape[0]
    cum = np.cumsum(P, axis=1)                                    # (K, K)
    seq = np.empty((n, T + 1), dtype=np.int64)
    seq[:, 0] = rng.choice(K, size=n, p=_stationary(P))
    u = rng.random((n, T))
    for t in range(T):
        seq[:, t + 1] = np.minimum((cum[seq[:, t]] < u[:, t:t + 1]).sum(axis=1), K - 1)
    return seq[:, :-1], seq[:, 1:]


def entropy_rate(P: np.ndarray) -> float:
    """Entropy rate of the stationary chain in nats: ``-sum_i pi_i sum_j P_ij log P_ij``.

    The lowest next-token cross-entropy any model can reach on its sequences.
    """
    pi = _stationary(P)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(P > 0, P * np.log(P), 0.0)
    return float(-np.sum(pi[:, None] * plogp))


def chain_log_prob(seq: np.ndarray, P: np.ndarray) -> np.ndarray:
    """log P(x_{t+1} | x_t) of every transition of ``seq`` (N, T+1): (N, T)."""
    return np.log(P[seq[:, :-1], seq[:, 1:]])


# --------------------------------------------------------------------------
# a language model's scores, the right way and left to right

def teacher_forced_nll(params: dict, spec: ModelSpec, x: np.ndarray, y: np.ndarray) -> float:
    """Mean -log p(y_t | the model's view of x) over all steps, the whole x given."""
    logits, _ = model_forward(params, x, spec)
    logp = log_softmax(logits, axis=-1)                           # (N, T, K)
    return -float(np.mean(np.take_along_axis(logp, y[..., None], axis=-1)))


def left_to_right_nll(params: dict, spec: ModelSpec, x: np.ndarray,
                      y: np.ndarray) -> np.ndarray:
    """Mean -log p(y_t | x_0..x_t) at each step t, the model run on each prefix: (T,).

    This is how a model must be used to generate left to right: at step t
    only x_0..x_t exist. For a unidirectional model it equals the
    teacher-forced loss per step; a bidirectional one now has its backward
    state start at x_t instead of at the end of the sequence.
    """
    N, T = x.shape
    out = np.empty(T)
    for t in range(T):
        logits, _ = model_forward(params, x[:, :t + 1], spec)     # (N, t + 1, K)
        logp = log_softmax(logits[:, -1], axis=-1)                # (N, K)
        out[t] = -np.mean(logp[np.arange(N), y[:, t]])
    return out


def forward_half_nll(params: dict, spec: ModelSpec, x: np.ndarray, y: np.ndarray) -> float:
    """Mean -log p(y_t) of a bidirectional model with its backward half set to zero.

    .. math::  o_t = V [\\overrightarrow{h}_t ; 0] + c

    The naive way to run a bidirectional model left to right: the forward
    half is computable step by step, the backward half is not, so it is
    left out.
    """
    if not spec.bidirectional:
        raise ValueError("spec: expected a bidirectional model (spec.bidirectional=True)")
    _, cache = model_forward(params, x, spec)
    H = spec.H
    V, c = params["out"]["V"], params["out"]["c"]
    logits = cache["h"][..., :H] @ V[:, :H].T + c                 # (N, T, K)
    logp = log_softmax(logits, axis=-1)
    return -float(np.mean(np.take_along_axis(logp, y[..., None], axis=-1)))


def sample_left_to_right(params: dict, spec: ModelSpec, first: np.ndarray, T: int,
                         rng: np.random.Generator) -> np.ndarray:
    """Generate by running the model on the prefix and sampling the next token.

    Parameters
    ----------
    first : (N,) int start tokens; T : int, tokens to add; rng : Generator.

    Returns
    -------
    seq : (N, T + 1) int64, ``first`` then the T sampled tokens.
    """
    T = check_positive_int("T", T)
    rng = check_rng(rng)
    seq = np.asarray(first, dtype=np.int64)[:, None]
    for _ in range(T):
        logits, _ = model_forward(params, seq, spec)
        p = np.exp(log_softmax(logits[:, -1], axis=-1))           # (N, K)
        u = rng.random((seq.shape[0], 1))
        nxt = np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), p.shape[1] - 1)
        seq = np.concatenate([seq, nxt[:, None]], axis=1)
    return seq


def total_probability(params: dict, spec: ModelSpec, first: int, L: int) -> float:
    """Sum over all continuations y_1..y_L of prod_t p(y_t | the model's inputs).

    The inputs are ``(first, y_1, .., y_{L-1})``, the teacher-forced view.
    For a model of the sequence (a unidirectional language model) the sum
    is 1; for a bidirectional one it is not, because the inputs it
    conditions on include the tokens it is scoring.

    Parameters
    ----------
    first : int, the first token; L : int >= 1, length of the continuations
        (``K**L`` of them are scored in one batch).
    """
    L = check_positive_int("L", L)
    K = spec.K
    ys = np.array(list(itertools.product(range(K), repeat=L)), dtype=np.int64)   # (K^L, L)
    xs = np.concatenate([np.full((len(ys), 1), first, dtype=np.int64), ys[:, :-1]], axis=1)
    logits, _ = model_forward(params, xs, spec)                   # (K^L, L, K)
    logp = log_softmax(logits, axis=-1)
    seq_logp = np.take_along_axis(logp, ys[..., None], axis=-1)[..., 0].sum(axis=1)
    return float(np.exp(seq_logp).sum())
