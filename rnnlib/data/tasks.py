"""Synthetic tasks that need memory: adding problem, copy, parity, delayed XOR.

Every generator takes an explicit ``rng`` and returns plain arrays; nothing is
downloaded. Each docstring states the **chance-level** loss, the loss of the
best predictor that ignores the part of the input the task is about (it
cannot remember), so a chapter can draw it as a dashed line: a model is only
learning the task once its loss is clearly below that line. The
``*_baseline`` functions return these numbers; the tests check them against
the generated data.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import check_positive_int, check_rng

__all__ = [
    "adding_problem", "adding_baseline_mse",
    "copy_task", "copy_baseline_ce",
    "parity", "delayed_xor", "BINARY_BASELINE_CE",
    "token_majority", "appears_again", "appears_again_ceiling", "future_token",
]

#: Cross-entropy (nats) of predicting 1/2 for a fair bit: log 2 ~ 0.693.
BINARY_BASELINE_CE = math.log(2.0)


def adding_problem(n: int, T: int, rng: np.random.Generator):
    """The adding problem (Hochreiter & Schmidhuber 1997; form of Le et al. 2015).

    Each step carries two numbers: a value ``u_t ~ U[0, 1]`` and a marker
    ``m_t``, which is 1 at exactly two steps, one drawn uniformly in the first
    half ``[0, T//2)`` and one in the second half ``[T//2, T)``, and 0
    elsewhere. The target is the sum of the two marked values:

    .. math::  y = \\sum_t m_t\\, u_t

    The first marked value must be kept from somewhere in the first half to
    the end, at least ``T - T//2`` steps, while every other value is ignored.

    Chance level: predicting the constant 1 (the mean of ``y``) gives the
    mean squared error ``Var(u_1 + u_2) = 2/12 = 1/6 ~ 0.167``
    (:func:`adding_baseline_mse`).

    Parameters
    ----------
    n : int >= 1, number of sequences.
    T : int >= 2, sequence length.
    rng : np.random.Generator.

    Returns
    -------
    x : (n, T, 2) float64, ``x[..., 0]`` the values, ``x[..., 1]`` the markers.
    y : (n, 1) float64, the targets.
    """
    n = check_positive_int("n", n)
    T = check_positive_int("T", T, minimum=2)
    rng = check_rng(rng)
    half = T // 2
    values = rng.random((n, T))                             # (n, T) in [0, 1)
    first = rng.integers(0, half, size=n)                   # marker in the first half
    second = rng.integers(half, T, size=n)                  # marker in the second half
    markers = np.zeros((n, T))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)                # (n, T, 2)
    y = (values[rows, first] + values[rows, second])[:, None]   # (n, 1)
    return x, y


def adding_baseline_mse() -> float:
    """Chance-level MSE of the adding problem: ``Var(u1 + u2) = 1/6``."""
    return 1.0 / 6.0


def copy_task(n: int, T_delay: int, n_symbols: int, rng: np.random.Generator,
              length: int = 10):
    """The copy (recall) task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016).

    Token ids ``0 .. n_symbols-1`` are data symbols, ``n_symbols`` is the
    blank and ``n_symbols + 1`` the delimiter, so the vocabulary has
    ``K = n_symbols + 2`` entries. An input sequence of ``T_total = T_delay +
    2 * length`` steps is

    - ``length`` random data symbols,
    - ``T_delay - 1`` blanks, then one delimiter (the cue to start recalling),
    - ``length`` blanks, during which the target repeats the data symbols.

    The target is blank everywhere else. Each symbol must be remembered for
    ``T_delay + length`` steps.

    Chance level: a model without memory can still output blanks until the
    delimiter and then guess uniformly among the data symbols, giving the
    mean per-step cross-entropy

    .. math::  \\frac{\\text{length} \\cdot \\log(\\mathrm{n\\_symbols})}{T_{delay} + 2\\,\\text{length}}

    (:func:`copy_baseline_ce`; Arjovsky et al.'s ``10 log 8 / (T + 20)``).

    Parameters
    ----------
    n : int >= 1, number of sequences.
    T_delay : int >= 1, steps from the last data symbol to the delimiter.
    n_symbols : int >= 1, number of distinct data symbols.
    rng : np.random.Generator.
    length : int >= 1, number of symbols to copy.

    Returns
    -------
    x : (n, T_total) int64 input ids in ``[0, K)``.
    y : (n, T_total) int64 target ids in ``[0, K)``.
    """
    n = check_positive_int("n", n)
    T_delay = check_positive_int("T_delay", T_delay)
    n_symbols = check_positive_int("n_symbols", n_symbols)
    length = check_positive_int("length", length)
    rng = check_rng(rng)
    blank, delim = n_symbols, n_symbols + 1
    T_total = T_delay + 2 * length
    data = rng.integers(0, n_symbols, size=(n, length))     # (n, length)
    x = np.full((n, T_total), blank, dtype=np.int64)
    x[:, :length] = data
    x[:, length + T_delay - 1] = delim
    y = np.full((n, T_total), blank, dtype=np.int64)
    y[:, -length:] = data
    return x, y


def copy_baseline_ce(T_delay: int, n_symbols: int, length: int = 10) -> float:
    """Chance-level mean cross-entropy (nats per step) of :func:`copy_task`."""
    T_delay = check_positive_int("T_delay", T_delay)
    n_symbols = check_positive_int("n_symbols", n_symbols)
    length = check_positive_int("length", length)
    return length * math.log(n_symbols) / (T_delay + 2 * length)


def parity(n: int, T: int, rng: np.random.Generator, per_step: bool = False):
    """The parity (XOR of all bits) of random bit sequences.

    .. math::  y = x_1 \\oplus x_2 \\oplus \\dots \\oplus x_T

    Every bit matters to the end: flipping any one flips the answer, so the
    network must carry one bit of state through the whole sequence (and
    gradient descent gets no signal from partial solutions). With
    ``per_step=True`` the target is the running parity after every step,
    a much easier, local version.

    Chance level: predicting 1/2 gives cross-entropy ``log 2 ~ 0.693`` nats
    (:data:`BINARY_BASELINE_CE`) and accuracy 0.5.

    Parameters
    ----------
    n : int >= 1, number of sequences.
    T : int >= 1, sequence length.
    rng : np.random.Generator.
    per_step : bool, return the running parity at every step.

    Returns
    -------
    x : (n, T, 1) float64 of 0.0 / 1.0.
    y : (n,) int64 in {0, 1}, or (n, T) with ``per_step=True``.
    """
    n = check_positive_int("n", n)
    T = check_positive_int("T", T)
    rng = check_rng(rng)
    bits = rng.integers(0, 2, size=(n, T))                  # (n, T)
    running = np.cumsum(bits, axis=1) % 2                   # (n, T)
    y = running if per_step else running[:, -1]
    return bits[..., None].astype(np.float64), y.astype(np.int64)


def delayed_xor(n: int, T: int, delay: int, rng: np.random.Generator):
    """Delayed XOR: the XOR of two bits seen ``delay`` steps ago.

    .. math::  y_t = x_{t - \\text{delay}} \\oplus x_{t - \\text{delay} - 1}

    for ``t >= delay + 1``. A synced many-to-many task: at every step the network must remember the
    last ``delay + 2`` bits, and XOR is not linearly separable, so it also
    needs a non-linear read-out. The first ``delay + 1`` steps have no
    target; ``mask`` is 0 there (use it in the loss).

    Chance level: ``log 2 ~ 0.693`` nats per masked step
    (:data:`BINARY_BASELINE_CE`), accuracy 0.5.

    Parameters
    ----------
    n : int >= 1, number of sequences.
    T : int >= delay + 2, sequence length.
    delay : int >= 0.
    rng : np.random.Generator.

    Returns
    -------
    x : (n, T, 1) float64 of 0.0 / 1.0.
    y : (n, T) int64 in {0, 1} (0 where ``mask`` is 0).
    mask : (n, T) float64, 1 where the target is defined.
    """
    n = check_positive_int("n", n)
    delay = check_positive_int("delay", delay, minimum=0)
    T = check_positive_int("T", T, minimum=delay + 2)
    rng = check_rng(rng)
    bits = rng.integers(0, 2, size=(n, T))                  # (n, T)
    y = np.zeros((n, T), dtype=np.int64)
    y[:, delay + 1:] = bits[:, 1:T - delay] ^ bits[:, :T - delay - 1]
    mask = np.zeros((n, T))
    mask[:, delay + 1:] = 1.0
    return bits[..., None].astype(np.float64), y, mask


def token_majority(n: int, rng: np.random.Generator, lengths=(3, 40), n_tokens: int = 9,
                   per_step: bool = False):
    """Variable-length token sequences: are there more a's than b's?

    Each sequence has a length drawn uniformly from ``lengths[0] ..
    lengths[1]`` and tokens drawn uniformly from the ids ``1 .. n_tokens``
    (id 0 is left free for padding); ``a`` is id 1 and ``b`` id 2. The label
    is

    .. math::  y = [\\#a > \\#b]

    and sequences with ``#a == #b`` are drawn again, so both classes are
    equally likely. With ``per_step=True`` each sequence also gets the
    running label ``[#a > #b so far]`` at every step (ties give 0).

    Chance level: accuracy 0.5 (cross-entropy log 2) for the final label.

    Parameters
    ----------
    n : int >= 1, number of sequences.
    rng : np.random.Generator.
    lengths : (min, max) ints with 1 <= min <= max.
    n_tokens : int >= 2, number of real token ids (the vocabulary, with
        padding, has ``n_tokens + 1`` entries).
    per_step : bool.

    Returns
    -------
    seqs : list of n int64 arrays (L_n,), ids in ``[1, n_tokens]``.
    y : (n,) int64 in {0, 1}.
    steps : list of n int64 arrays (L_n,) of running labels (only with
        ``per_step=True``).
    """
    n = check_positive_int("n", n)
    rng = check_rng(rng)
    n_tokens = check_positive_int("n_tokens", n_tokens, minimum=2)
    if (not isinstance(lengths, tuple) or len(lengths) != 2
            or not all(isinstance(v, (int, np.integer)) for v in lengths)
            or not 1 <= lengths[0] <= lengths[1]):
        raise ValueError(f"lengths: expected a tuple (min, max) of ints with 1 <= min <= max, "
                         f"got {lengths!r}")
    seqs, labels, steps = [], [], []
    while len(seqs) < n:
        L = int(rng.integers(lengths[0], lengths[1] + 1))
        s = rng.integers(1, n_tokens + 1, size=L)                # (L,)
        diff = np.cumsum(s == 1) - np.cumsum(s == 2)            # #a - #b so far
        if diff[-1] == 0:
            continue                                            # a tie: draw again
        seqs.append(s.astype(np.int64))
        labels.append(int(diff[-1] > 0))
        steps.append((diff > 0).astype(np.int64))
    y = np.array(labels, dtype=np.int64)
    return (seqs, y, steps) if per_step else (seqs, y)


def appears_again(n: int, T: int, n_tokens: int, rng: np.random.Generator):
    """Tag every token with whether the same token appears again later.

    .. math::  y_t = [\\exists s > t:\\ x_s = x_t]

    Tokens are uniform over ``0 .. n_tokens-1``. The label at step t
    depends only on the steps after t, which a model reading left to
    right has not seen; given the position alone the best guess has the
    accuracy of :func:`appears_again_ceiling`.

    Parameters
    ----------
    n : int >= 1, number of sequences.
    T : int >= 2, sequence length.
    n_tokens : int >= 2.
    rng : np.random.Generator.

    Returns
    -------
    x : (n, T) int64 token ids.
    y : (n, T) int64 in {0, 1} (always 0 at the last step).
    """
    n = check_positive_int("n", n)
    T = check_positive_int("T", T, minimum=2)
    n_tokens = check_positive_int("n_tokens", n_tokens, minimum=2)
    rng = check_rng(rng)
    x = rng.integers(0, n_tokens, size=(n, T))
    later = np.zeros((n, n_tokens), dtype=bool)             # tokens seen after step t
    y = np.zeros((n, T), dtype=np.int64)
    rows = np.arange(n)
    for t in range(T - 1, -1, -1):
        y[:, t] = later[rows, x[:, t]]
        later[rows, x[:, t]] = True
    return x, y


def appears_again_ceiling(T: int, n_tokens: int) -> float:
    """Best accuracy on :func:`appears_again` without looking ahead.

    Later tokens are independent of earlier ones, so at step t (0-based)
    the best guess is the likelier label, and the label is 1 with
    probability ``p_t = 1 - (1 - 1/n_tokens)^(T-1-t)``:

    .. math::  \\frac{1}{T} \\sum_{t=0}^{T-1} \\max(p_t,\\, 1 - p_t)
    """
    T = check_positive_int("T", T, minimum=2)
    n_tokens = check_positive_int("n_tokens", n_tokens, minimum=2)
    p = 1.0 - (1.0 - 1.0 / n_tokens) ** (T - 1 - np.arange(T))
    return float(np.mean(np.maximum(p, 1.0 - p)))


def future_token(n: int, T: int, k: int, n_tokens: int, rng: np.random.Generator):
    """Tag every step with the token ``k`` steps away: ``y_t = x_{t+k}``.

    ``k > 0`` looks ahead, ``k < 0`` back, ``k = 0`` is the token itself.
    The stream is ``T + |k|`` uniform tokens long and cut so that every
    step of the ``T`` shown has its label, so the labels ahead of the last
    input (or behind the first) come from tokens the model never reads.

    Chance level: accuracy ``1 / n_tokens`` (cross-entropy ``log n_tokens``)
    for a model that cannot see the token it is asked for.

    Parameters
    ----------
    n : int >= 1, number of sequences.
    T : int >= 1, sequence length.
    k : int, the offset.
    n_tokens : int >= 2.
    rng : np.random.Generator.

    Returns
    -------
    x : (n, T) int64 token ids.
    y : (n, T) int64 token ids, ``y[:, t]`` the token at ``t + k``.
    """
    n = check_positive_int("n", n)
    T = check_positive_int("T", T)
    n_tokens = check_positive_int("n_tokens", n_tokens, minimum=2)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k: expected an integer offset, got {k!r}")
    rng = check_rng(rng)
    k = int(k)
    stream = rng.integers(0, n_tokens, size=(n, T + abs(k)))
    if k >= 0:
        return stream[:, :T].copy(), stream[:, k:k + T].copy()
    return stream[:, -k:].copy(), stream[:, :T].copy()
