"""Teacher forcing, free running and scheduled sampling, measured (chapter 7).

The chapter trains small models that read their own previous output. The
library's :func:`rnnlib.teacher_forcing.scheduled_sampling_loss` runs any registered cell
one step at a time through :func:`rnnlib.model.model_step_forward`; for
the many short training runs of the chapter this module has a lean copy of
the same computation for the Elman RNN with a linear read-out and squared
error (the model of ``ModelSpec(cell="rnn", input="dense", loss="mse",
D=K)``), checked against the library in ``tests/test_ch07_teacher_forcing.py``
and in the chapter:

.. math::

    \\tilde y_{t-1} &= \\begin{cases} y_{t-1} & \\text{teacher}[t] \\\\
                      \\hat y_{t-1} & \\text{otherwise} \\end{cases} \\\\
    h_t &= \\tanh(U \\tilde y_{t-1} + W h_{t-1} + b) \\\\
    \\hat y_t &= V h_t + c,

with ``inputs[:, t]`` the true ``y_{t-1}`` and ``L = mean (yhat - y)^2``.
As in the library, which token was fed is a constant: no gradient flows
through a fed prediction. ``prompt`` steps at the start are always fed the
truth (the library feeds the truth at step 0 only, ``prompt=1``): a model
that continues a sine wave needs a few true values to know which wave.

Also here: the toy Markov language of the beam-search section, exhaustive
search over short sequences, the copy task for the encoder-decoder, and a
2-D PCA for the hidden-state picture. Numerics only; drawing is in
:mod:`rnnlib.viz`.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from rnnlib.data import sine_wave
from rnnlib.seq2seq import init_seq2seq, seq2seq_greedy, seq2seq_loss
from rnnlib.teacher_forcing import teacher_forcing_probability
from rnnlib.training import train

__all__ = ["PERIOD", "sine_task", "unroll", "unroll_backward", "scheduled_sampling_mse",
           "teacher_mask", "free_run", "horizon_rmse", "train_sine", "SINE_METHODS",
           "pca_2d", "TOY_TOKENS", "TOY_CHAIN", "toy_stream", "toy_chunks",
           "sequence_log_prob", "exhaustive_best", "copy_batch", "train_seq2seq",
           "min_time"]


# --------------------------------------------------------------------------
# the sine task

#: the range of periods (in steps) of the chapter's sine waves
PERIOD = (14.0, 18.0)


def sine_task(n: int, T: int, rng: np.random.Generator, period=PERIOD):
    """Sine waves as a next-value task: inputs (n, T, 1) are x_0..x_{T-1}, targets x_1..x_T."""
    x = sine_wave(n, T + 1, rng, period=period)                     # (n, T + 1, 1)
    return x[:, :-1].copy(), x[:, 1:].copy()


def unroll(params: dict, inputs: np.ndarray, teacher: np.ndarray) -> dict:
    """Elman RNN + linear read-out, one step at a time, feeding true or own values.

    Parameters
    ----------
    params : nested dict as :func:`rnnlib.model.init_model` makes it for
        ``ModelSpec(cell="rnn", input="dense", D=K, K=K, loss="mse")``:
        ``"rnn"`` with U (H, K), W (H, H), b (H,); ``"out"`` with V (K, H), c (K,).
    inputs : (N, T, K), the true previous values (``inputs[:, t]`` = y_{t-1}).
    teacher : (N, T) bool, True where the true value is fed (step 0 always is).

    Returns
    -------
    run : dict with ``"outputs"`` (N, T, K), ``"h"`` (N, T, H), ``"fed"``
        (N, T, K) and what the backward pass needs.
    """
    U, W, b = params["rnn"]["U"], params["rnn"]["W"], params["rnn"]["b"]
    V, c = params["out"]["V"], params["out"]["c"]
    N, T, K = inputs.shape
    H = W.shape[0]
    fed = np.array(inputs, copy=True)                               # (N, T, K)
    hs = np.empty((N, T, H))
    outs = np.empty((N, T, K))
    h = np.zeros((N, H))
    for t in range(T):
        if t > 0:
            own = ~teacher[:, t]
            fed[own, t] = outs[own, t - 1]                          # a constant: no gradient
        h = np.tanh(fed[:, t] @ U.T + h @ W.T + b)                  # (N, H)
        hs[:, t] = h
        outs[:, t] = h @ V.T + c                                    # (N, K)
    return {"outputs": outs, "h": hs, "fed": fed, "params": params}


def unroll_backward(doutputs: np.ndarray, run: dict) -> dict:
    """Gradients of :func:`unroll` (BPTT through the hidden states only)."""
    p = run["params"]
    U, W, V = p["rnn"]["U"], p["rnn"]["W"], p["out"]["V"]
    hs, fed = run["h"], run["fed"]
    N, T, H = hs.shape
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros(H)
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        dh = doutputs[:, t] @ V + dh_next                           # through the read-out
        da = dh * (1.0 - hs[:, t] ** 2)                             # through tanh
        h_prev = hs[:, t - 1] if t > 0 else np.zeros((N, H))
        dU += da.T @ fed[:, t]
        dW += da.T @ h_prev
        db += da.sum(axis=0)
        dh_next = da @ W                                            # into the previous state
    dV = np.einsum("ntk,nth->kh", doutputs, hs)
    dc = doutputs.sum(axis=(0, 1))
    return {"rnn": {"U": dU, "W": dW, "b": db}, "out": {"V": dV, "c": dc}}


def teacher_mask(p_teacher: float, N: int, T: int, rng: np.random.Generator,
                 prompt: int = 1) -> np.ndarray:
    """The coins of scheduled sampling: (N, T) bool, True (feed the truth) with probability p.

    Draws two (N, T) uniform arrays like :func:`rnnlib.teacher_forcing.scheduled_sampling_loss`
    (the second one is that function's sampling numbers, unused for real
    values), so the same rng gives the same coins; the first ``prompt``
    steps are always True.
    """
    u_teacher = rng.random((N, T))
    rng.random((N, T))                                              # the library's u_sample
    teacher = u_teacher < p_teacher
    teacher[:, :prompt] = True
    return teacher


def scheduled_sampling_mse(params, inputs, targets, p_teacher, rng, prompt: int = 1):
    """Loss, gradients and run of one batch with scheduled sampling (squared error).

    With ``prompt=1`` this is :func:`rnnlib.teacher_forcing.scheduled_sampling_loss` for
    ``ModelSpec(cell="rnn", input="dense", loss="mse", D=K)``, draw for draw.

    Returns
    -------
    loss : float; grads : nested dict like ``params``; run : from :func:`unroll`
        plus ``"teacher"`` (N, T) bool.
    """
    N, T, _ = inputs.shape
    teacher = teacher_mask(p_teacher, N, T, rng, prompt)
    run = unroll(params, inputs, teacher)
    diff = run["outputs"] - targets
    loss = float(np.mean(diff ** 2))
    grads = unroll_backward(2.0 * diff / diff.size, run)
    run["teacher"] = teacher
    return loss, grads, run


def free_run(params, inputs, prompt: int) -> dict:
    """Read the first ``prompt`` true values, then feed the model's own predictions."""
    N, T, _ = inputs.shape
    teacher = np.zeros((N, T), dtype=bool)
    teacher[:, :prompt] = True
    return unroll(params, inputs, teacher)


def horizon_rmse(outputs, targets, prompt: int) -> np.ndarray:
    """Root-mean-square error over the sequences at each step after the prompt: (T - prompt + 1,).

    Entry ``k`` is the error of the prediction ``k + 1`` steps after the
    last true value read (horizon ``k + 1``); the first entry is the last
    prompt step's one-step prediction.
    """
    err = (outputs - targets)[:, prompt - 1:, 0]                    # (N, T - prompt + 1)
    return np.sqrt(np.mean(err ** 2, axis=0))


#: training methods of the exposure-bias experiment: name -> p_teacher(step, steps)
SINE_METHODS = ("teacher forcing", "free running", "scheduled sampling")


def _p_teacher(method, step, steps, k):
    if method == "teacher forcing":
        return 1.0
    if method == "free running":
        return 0.0
    return teacher_forcing_probability("inverse_sigmoid", step, k=k)


def train_sine(method: str, seed: int, H: int = 16, steps: int = 400, T: int = 40,
               prompt: int = 10, batch: int = 32, lr: float = 0.01,
               k: float | None = None, period=PERIOD):
    """Train the Elman model on sine continuation with one feeding method.

    ``method`` is one of :data:`SINE_METHODS`. Scheduled sampling uses the
    inverse-sigmoid schedule with ``k`` (default ``steps / 8``, at least 1, so the
    probability of the true value falls from ~1 through 0.5 near the middle
    to ~0 at the end). Every step draws a fresh batch; Adam; gradients
    clipped at norm 1. Everything random comes from ``seed``.

    Returns
    -------
    params : nested dict; history : from :func:`rnnlib.training.train`, plus
    ``"p_teacher"`` (steps,) the probabilities used.
    """
    if method not in SINE_METHODS:
        raise ValueError(f"method: expected one of {SINE_METHODS}, got {method!r}")
    from rnnlib.model import ModelSpec, init_model
    k = max(1.0, steps / 8) if k is None else k
    spec = ModelSpec(cell="rnn", input="dense", D=1, H=H, K=1, loss="mse")
    rng = np.random.default_rng(seed)
    params = init_model(spec, rng)
    coins = np.random.default_rng([seed, 1])
    used = []

    def loss_fn(p, b, step):
        prob = _p_teacher(method, step, steps, k)
        used.append(prob)
        loss, grads, _ = scheduled_sampling_mse(p, b[0], b[1], prob, coins, prompt)
        return loss, grads

    params, hist = train(params, None, lambda r: sine_task(batch, T, r, period),
                         loss_fn=loss_fn, steps=steps, lr=lr, clip=("norm", 1.0),
                         rng=np.random.default_rng([seed, 2]), batch_size=None)
    hist["p_teacher"] = np.array(used)
    return params, hist


def pca_2d(*arrays):
    """Project arrays of vectors (..., H) on the first two principal axes of all of them together.

    Returns the projections (..., 2), one per array, and the share of the
    variance the two axes explain.
    """
    flat = np.concatenate([a.reshape(-1, a.shape[-1]) for a in arrays])   # (M, H)
    mean = flat.mean(axis=0)
    _, s, vt = np.linalg.svd(flat - mean, full_matrices=False)
    axes = vt[:2]                                                   # (2, H)
    for i in range(2):                                              # a fixed sign per axis
        if axes[i][np.argmax(np.abs(axes[i]))] < 0:
            axes[i] = -axes[i]
    share = float((s[:2] ** 2).sum() / (s ** 2).sum())
    return [(a - mean) @ axes.T for a in arrays], share


# --------------------------------------------------------------------------
# the toy language of the beam-search section

#: token names: 0 is the sentence boundary ".", both start and end
TOY_TOKENS = [".", "a", "b", "c", "d"]

#: first-order Markov chain, TOY_CHAIN[i, j] = P(next = j | current = i)
TOY_CHAIN = np.array([
    #  .     a     b     c     d
    [0.00, 0.50, 0.35, 0.15, 0.00],     # after "." (a sentence starts)
    [0.20, 0.20, 0.20, 0.20, 0.20],     # after a: anything
    [0.10, 0.00, 0.00, 0.05, 0.85],     # after b: almost always d
    [0.30, 0.00, 0.00, 0.70, 0.00],     # after c: c again or stop
    [0.30, 0.00, 0.00, 0.00, 0.70],     # after d: d again, or stop
])


def toy_stream(n_tokens: int, rng: np.random.Generator) -> np.ndarray:
    """A token stream (n_tokens,) drawn from :data:`TOY_CHAIN`, starting at "."."""
    out = np.empty(n_tokens, dtype=np.int64)
    cum = np.cumsum(TOY_CHAIN, axis=1)
    state = 0
    for i, u in enumerate(rng.random(n_tokens)):
        state = int(min(np.searchsorted(cum[state], u, side="right"), len(TOY_TOKENS) - 1))
        out[i] = state
    return out


def toy_chunks(n: int, T: int, rng: np.random.Generator):
    """Next-token training chunks: inputs (n, T) and targets (n, T) shifted by one."""
    stream = np.concatenate([[0], toy_stream(n * T, rng)])
    ids = stream[: n * T + 1]
    return ids[:-1].reshape(n, T), np.concatenate([ids[1:]]).reshape(n, T)


def sequence_log_prob(step_fn, state, start: int, tokens) -> float:
    """Log-probability of emitting ``tokens`` after ``start`` (teacher-forced scoring)."""
    total, prev = 0.0, np.array([start])
    for tok in tokens:
        log_probs, state = step_fn(prev, state)
        total += float(log_probs[0, tok])
        prev = np.array([tok])
    return total


def exhaustive_best(step_fn, state, start: int, steps: int, K: int):
    """The most probable sequence of exactly ``steps`` tokens, by trying all K**steps.

    Returns (tokens (steps,), log_prob, all log-probs (K**steps,)).
    """
    seqs = np.array(list(itertools.product(range(K), repeat=steps)))       # (K^s, s)
    B = len(seqs)
    st = tuple(np.repeat(s, B, axis=0) for s in state) if state is not None else None
    total = np.zeros(B)
    prev = np.full(B, start)
    for t in range(steps):
        log_probs, st = step_fn(prev, st)
        total += log_probs[np.arange(B), seqs[:, t]]
        prev = seqs[:, t]
    best = int(np.argmax(total))
    return seqs[best], float(total[best]), total


# --------------------------------------------------------------------------
# the copy task for the encoder-decoder

def copy_batch(rng: np.random.Generator, N: int = 64, S: int = 8, V: int = 8,
               reverse_source: bool = False):
    """Copy task: random source ids 1..V (N, S), the same sequence as target.

    Token 0 is the decoder's start token. With ``reverse_source`` the
    encoder reads the source backwards (Sutskever et al. 2014); the target
    stays in the original order.

    Returns
    -------
    src (N, S), tgt_in (N, S) (0 then the target shifted), tgt_out (N, S).
    """
    seq = rng.integers(1, V + 1, size=(N, S))
    src = seq[:, ::-1].copy() if reverse_source else seq
    tgt_in = np.concatenate([np.zeros((N, 1), dtype=seq.dtype), seq[:, :-1]], axis=1)
    return src, tgt_in, seq.copy()


def train_seq2seq(context: str, seed: int, reverse_source: bool = False, S: int = 8,
                  V: int = 8, H: int = 32, D: int = 8, steps: int = 300, lr: float = 0.01,
                  n_test: int = 256):
    """Train an Elman encoder-decoder on the copy task; greedy accuracy on a test set.

    Returns
    -------
    result : dict with ``"params"``, ``"loss"`` (per step), ``"token_acc"``
        and ``"seq_acc"`` (greedy decoding of ``n_test`` fresh sequences),
        ``"acc_by_position"`` (S,).
    """
    rng = np.random.default_rng(seed)
    params = init_seq2seq(V + 1, V + 1, D, H, rng, cell="rnn", context=context)

    def loss_fn(p, b, step):
        return seq2seq_loss(p, b[0], b[1], b[2], context=context, cell="rnn")

    params, hist = train(params, None,
                         lambda r: copy_batch(r, 64, S, V, reverse_source),
                         loss_fn=loss_fn, steps=steps, lr=lr, clip=("norm", 5.0),
                         rng=np.random.default_rng([seed, 2]), batch_size=None)
    src, _, tgt = copy_batch(np.random.default_rng([seed, 3]), n_test, S, V, reverse_source)
    tokens, _ = seq2seq_greedy(params, src, 0, S, context=context, cell="rnn")
    right = tokens == tgt
    return {"params": params, "loss": np.array(hist["loss"]),
            "token_acc": float(right.mean()), "seq_acc": float(right.all(axis=1).mean()),
            "acc_by_position": right.mean(axis=0)}


def min_time(fn, repeats: int = 7) -> float:
    """Shortest of ``repeats`` wall-clock times of ``fn()`` (for comparisons, never printed)."""
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
