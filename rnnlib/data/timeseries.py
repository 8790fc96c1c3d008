"""Sine waves, noisy sine waves and sliding windows for forecasting."""

from __future__ import annotations

import numpy as np

from .._validate import (check_float_array, check_positive_int, check_real, check_rng)

__all__ = ["sine_wave", "noisy_sine", "windows"]


def _check_period(period):
    if not isinstance(period, (tuple, list)) or len(period) != 2:
        raise TypeError(f"period: expected a pair (low, high) of periods in steps, got {period!r}")
    lo = check_real("period[0]", period[0], minimum=0.0, strict_min=True)
    hi = check_real("period[1]", period[1], minimum=lo)
    return lo, hi


def sine_wave(n: int, T: int, rng: np.random.Generator, period=(10.0, 40.0),
              amplitude: float = 1.0):
    """Sine waves with a random period and phase per sequence.

    .. math::

        x_t &= A \\sin\\!\\Big(\\frac{2\\pi t}{P} + \\varphi\\Big), \\\\
        P &\\sim U[P_{lo}, P_{hi}], \\quad \\varphi \\sim U[0, 2\\pi)

    for ``t = 0 .. T-1``. Predicting ``x_{t+1}`` from the past needs at
    least two past values (a sine is a second-order linear recurrence:
    ``x_{t+1} = 2 cos(2 pi / P) x_t - x_{t-1}``), which makes it a small
    first forecasting task.

    Parameters
    ----------
    n : int >= 1, number of sequences.
    T : int >= 1, number of steps.
    rng : np.random.Generator.
    period : (low, high) range of periods in steps, 0 < low <= high.
    amplitude : float > 0, ``A``.

    Returns
    -------
    x : (n, T, 1) float64.
    """
    n = check_positive_int("n", n)
    T = check_positive_int("T", T)
    rng = check_rng(rng)
    lo, hi = _check_period(period)
    amplitude = check_real("amplitude", amplitude, minimum=0.0, strict_min=True)
    P = rng.uniform(lo, hi, size=(n, 1))                    # (n, 1)
    phase = rng.uniform(0.0, 2.0 * np.pi, size=(n, 1))      # (n, 1)
    t = np.arange(T)[None, :]                               # (1, T)
    return (amplitude * np.sin(2.0 * np.pi * t / P + phase))[..., None]


def noisy_sine(n: int, T: int, rng: np.random.Generator, noise: float = 0.1,
               period=(10.0, 40.0), amplitude: float = 1.0):
    """Sine waves (as :func:`sine_wave`) plus independent Gaussian noise.

    .. math::  \\tilde x_t = x_t + \\epsilon_t, \\qquad \\epsilon_t \\sim N(0, \\sigma^2)

    The best possible one-step forecast of ``\\tilde x_{t+1}`` still has mean
    squared error ``sigma^2`` (the noise cannot be predicted), which is the
    floor a chapter can draw under a training curve.

    Parameters
    ----------
    n, T, rng, period, amplitude : as in :func:`sine_wave`.
    noise : float >= 0, the standard deviation ``sigma``.

    Returns
    -------
    x_noisy : (n, T, 1) float64, the observed series.
    x_clean : (n, T, 1) float64, the sine waves without noise.
    """
    noise = check_real("noise", noise, minimum=0.0)
    clean = sine_wave(n, T, rng, period=period, amplitude=amplitude)
    return clean + noise * rng.standard_normal(clean.shape), clean


def windows(series: np.ndarray, width: int, horizon: int = 1):
    """Cut a series into sliding windows and the value that follows each.

    .. math::

        \\text{inputs}_i &= (x_i, \\dots, x_{i+w-1}), \\\\
        \\text{targets}_i &= x_{i+w-1+h}

    for ``i = 0 .. T - w - h`` (stride 1, windows overlap).

    Parameters
    ----------
    series : (T,), (T, D) or (N, T, D) float array. A batch of series gives
        the windows of every series, series by series.
    width : int >= 1, the window length ``w``.
    horizon : int >= 1, how far after the window the target lies ``h``.

    Returns
    -------
    inputs : (M, w, D) float array with ``M = N * (T - w - h + 1)``
        (``N = 1`` for a single series).
    targets : (M, D) float array.
    """
    series = check_float_array("series", series)
    width = check_positive_int("width", width)
    horizon = check_positive_int("horizon", horizon)
    if series.ndim == 1:
        s = series[None, :, None]                           # (1, T, 1)
    elif series.ndim == 2:
        s = series[None]                                    # (1, T, D)
    elif series.ndim == 3:
        s = series
    else:
        raise ValueError(f"series: expected shape (T,), (T, D) or (N, T, D), got {series.shape}")
    N, T, D = s.shape
    M1 = T - width - horizon + 1
    if M1 < 1:
        raise ValueError(f"width: expected width + horizon <= T = {T}, got width {width} "
                         f"and horizon {horizon}")
    idx = np.arange(M1)[:, None] + np.arange(width)[None, :]  # (M1, w)
    inputs = s[:, idx, :].reshape(N * M1, width, D)           # (N*M1, w, D)
    targets = s[:, width - 1 + horizon:, :][:, :M1].reshape(N * M1, D)
    return inputs, targets
