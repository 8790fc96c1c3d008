"""Sine waves, noisy sine waves, the Mackey-Glass series and sliding windows for forecasting."""

from __future__ import annotations

import numpy as np

from .._validate import (check_float_array, check_positive_int, check_real, check_rng)

__all__ = ["sine_wave", "noisy_sine", "windows", "mackey_glass", "horizon_targets"]


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


def _mg_rate(x, x_tau, beta, gamma, power):
    """dx/dt of the Mackey-Glass equation."""
    return beta * x_tau / (1.0 + x_tau ** power) - gamma * x


def mackey_glass(n: int, tau: float = 17.0, sample_every: float = 1.0, dt: float = 0.1,
                 beta: float = 0.2, gamma: float = 0.1, power: float = 10.0,
                 x0: float = 1.2, discard: float = 500.0) -> np.ndarray:
    """The Mackey-Glass series, a chaotic delay differential equation, sampled.

    .. math::

        \\frac{dx}{dt} = \\beta\\, \\frac{x(t - \\tau)}{1 + x(t - \\tau)^{p}}
                         - \\gamma\\, x(t)

    (Mackey and Glass 1977) with the constant history ``x(t) = x0`` for
    ``t <= 0``. With the classic ``tau = 17``, ``beta = 0.2``,
    ``gamma = 0.1``, ``p = 10`` the solution is chaotic. Integrated by the
    classical Runge-Kutta method with step ``dt`` (``tau / dt`` must be a
    whole number; the delayed value at a half step is the mean of its two
    grid neighbours), the first ``discard`` time units are dropped (the
    transient from the flat start), and the solution is read every
    ``sample_every`` time units (a multiple of ``dt``). No randomness: the
    same arguments always give the same series.

    Parameters
    ----------
    n : int >= 1, number of samples returned.
    tau : float > 0, the delay.
    sample_every : float > 0, time between samples, a multiple of ``dt``.
    dt : float > 0, the integration step.
    beta, gamma, power : floats > 0, the equation's constants.
    x0 : float > 0, the constant history.
    discard : float >= 0, time units dropped at the start, a multiple of ``dt``.

    Returns
    -------
    x : (n,) float64, ``x(discard + k * sample_every)`` for ``k = 0 .. n-1``.
    """
    n = check_positive_int("n", n)
    tau = check_real("tau", tau, minimum=0.0, strict_min=True)
    sample_every = check_real("sample_every", sample_every, minimum=0.0, strict_min=True)
    dt = check_real("dt", dt, minimum=0.0, strict_min=True)
    beta = check_real("beta", beta, minimum=0.0, strict_min=True)
    gamma = check_real("gamma", gamma, minimum=0.0, strict_min=True)
    power = check_real("power", power, minimum=0.0, strict_min=True)
    x0 = check_real("x0", x0, minimum=0.0, strict_min=True)
    discard = check_real("discard", discard, minimum=0.0)

    def steps_of(name, value):
        k = round(value / dt)
        if abs(k * dt - value) > 1e-9 * max(1.0, value):
            raise ValueError(f"{name}: expected a multiple of dt = {dt}, got {value}")
        return k

    lag = steps_of("tau", tau)                     # delay in integration steps
    every = steps_of("sample_every", sample_every)
    skip = steps_of("discard", discard)
    if every < 1:
        raise ValueError(f"sample_every: expected at least dt = {dt}, got {sample_every}")
    total = skip + (n - 1) * every                 # integration steps to take
    x = np.empty(lag + total + 1)                  # x[lag + k] = x(k dt)
    x[:lag + 1] = x0                               # constant history, t <= 0
    for k in range(lag, lag + total):
        xt = x[k]
        d0, d2 = x[k - lag], x[k - lag + 1]        # x(t - tau), x(t + dt - tau)
        d1 = 0.5 * (d0 + d2)                       # x(t + dt/2 - tau)
        k1 = _mg_rate(xt, d0, beta, gamma, power)
        k2 = _mg_rate(xt + 0.5 * dt * k1, d1, beta, gamma, power)
        k3 = _mg_rate(xt + 0.5 * dt * k2, d1, beta, gamma, power)
        k4 = _mg_rate(xt + dt * k3, d2, beta, gamma, power)
        x[k + 1] = xt + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return x[lag + skip::every][:n].copy()


def horizon_targets(series: np.ndarray, horizon: int):
    """Pair each value of a series with the ``horizon`` values that follow it.

    .. math::  \\text{targets}_{t, k} = x_{t + k}, \\qquad k = 1 .. h

    for ``t = 0 .. T - h - 1``: the targets of a *direct* multi-step
    forecaster, which predicts all ``h`` future values at once from what
    it has read up to ``t`` (an iterated forecaster predicts one step and
    feeds its prediction back).

    Parameters
    ----------
    series : (T,) float array.
    horizon : int >= 1, ``h``; ``h < T``.

    Returns
    -------
    inputs : (T - h,) the values ``x_0 .. x_{T-h-1}``.
    targets : (T - h, h), row ``t`` is ``x_{t+1} .. x_{t+h}``.
    """
    series = check_float_array("series", series, ndim=1, shape_doc="(T,)")
    horizon = check_positive_int("horizon", horizon)
    T = series.shape[0]
    if horizon >= T:
        raise ValueError(f"horizon: expected an integer < T = {T} (the series' length), "
                         f"got {horizon}")
    M = T - horizon
    idx = np.arange(M)[:, None] + np.arange(1, horizon + 1)[None, :]   # (M, h)
    return series[:M].copy(), series[idx]
