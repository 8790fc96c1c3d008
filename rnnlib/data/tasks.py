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
