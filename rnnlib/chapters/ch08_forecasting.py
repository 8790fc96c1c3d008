"""Forecasting the Mackey-Glass series (chapter 8, section 8.5).

The section compares five forecasters of a chaotic series, all *direct*:
each reads the series up to time ``t`` and predicts the next ``h`` values
``x_{t+1} .. x_{t+h}`` at once (none feeds its own predictions back):

* the naive last-value forecast, ``xhat_{t+k} = x_t``;
* linear autoregression on a window of the last ``p`` values, fitted by
  least squares for every horizon (Box et al. 2015);
* the same window with all products of two values added as features
  (a quadratic time-window model, still least squares);
* an LSTM (and, in an exercise, a GRU) with a linear read-out of ``h``
  outputs per step, ``rnnlib.ModelSpec(K=h, loss="mse")``, trained with
  :func:`rnnlib.training.train` on chunks of the training stretch.

With ``z_t`` the standardised series and ``F(t)`` a forecaster's features
at ``t`` (the window, or the LSTM's hidden state ``h_t``), every model but
the naive one is linear in its features:

.. math::

    \\hat z_{t+k} = w_k^\\top F(t) + c_k, \\qquad k = 1 .. h .

Errors are root mean squared errors per horizon in units of the training
stretch's standard deviation (the normalised RMSE of Gers et al. 2001),
on a held-out stretch that follows the training stretch. Numerics only;
the figures are drawn in the notebook.
"""

from __future__ import annotations

import numpy as np

from rnnlib._validate import check_float_array, check_positive_int
from rnnlib.data.timeseries import horizon_targets, mackey_glass, windows
from rnnlib.model import ModelSpec, init_model, model_forward
from rnnlib.progress import Progress
from rnnlib.training import train

__all__ = ["TAU", "HORIZON", "N_TRAIN", "N_TEST", "WARM", "CHUNK", "WINDOW",
           "load_series", "lag_features", "fit_window_model", "window_forecast",
           "naive_forecast", "training_chunks", "forecaster_spec", "train_forecaster",
           "model_forecast", "horizon_rmse", "evaluation_targets", "shuffled_series",
           "autocorrelation"]

#: the delay of the classic chaotic Mackey-Glass series
TAU = 17.0
#: forecast horizons 1 .. HORIZON (samples, one time unit apart)
HORIZON = 20
#: samples in the training stretch and in the held-out stretch after it
N_TRAIN, N_TEST = 1400, 600
#: steps the recurrent model reads before its forecasts count (a warm-up)
WARM = 20
#: training chunk length (the truncation of the long series)
CHUNK = 40
#: window length of the autoregressive models
WINDOW = 16


def load_series(n_train: int = N_TRAIN, n_test: int = N_TEST, tau: float = TAU):
    """The Mackey-Glass series, split in time and standardised by the training stretch.

    .. math::  z_t = (x_t - \\bar x_{train}) / s_{train}

    Parameters
    ----------
    n_train, n_test : ints >= 1, lengths of the two stretches (test after train).
    tau : float > 0, the delay.

    Returns
    -------
    split : dict with ``"train"`` (n_train,), ``"test"`` (n_test,) standardised
        series, ``"raw"`` (n_train + n_test,) the series itself, and the
        floats ``"mean"``, ``"std"``.
    """
    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test)
    raw = mackey_glass(n_train + n_test, tau=tau)
    mean, std = float(raw[:n_train].mean()), float(raw[:n_train].std())
    z = (raw - mean) / std
    return {"train": z[:n_train], "test": z[n_train:], "raw": raw, "mean": mean, "std": std}


def lag_features(series: np.ndarray, p: int, quadratic: bool = False):
    """The window ``(z_t, z_{t-1}, .., z_{t-p+1})`` at every ``t`` with a full window.

    .. math::

        F(t) = (z_t, \\dots, z_{t-p+1}, [z_{t-i} z_{t-j}]_{i \\le j}, 1)

    (the products only with ``quadratic=True``).

    Parameters
    ----------
    series : (T,) float array.
    p : int >= 1, window length, ``p <= T``.
    quadratic : bool, add the ``p (p + 1) / 2`` products of two window values.

    Returns
    -------
    F : (T - p + 1, F) features (``F = p + 1``, or ``p + 1 + p (p + 1) / 2``),
        row ``i`` for time ``t = p - 1 + i``.
    t : (T - p + 1,) int, the times of the rows.
    """
    series = check_float_array("series", series, ndim=1, shape_doc="(T,)")
    p = check_positive_int("p", p)
    T = series.shape[0]
    if p > T:
        raise ValueError(f"p: expected a window length <= T = {T}, got {p}")
    t = np.arange(p - 1, T)                                          # (M,)
    lagged = np.stack([series[t - i] for i in range(p)], axis=1)      # (M, p)
    parts = [lagged]
    if quadratic:
        iu, ju = np.triu_indices(p)
        parts.append(lagged[:, iu] * lagged[:, ju])                   # (M, p(p+1)/2)
    parts.append(np.ones((t.size, 1)))                               # the intercept
    return np.concatenate(parts, axis=1), t


def fit_window_model(series: np.ndarray, p: int = WINDOW, horizon: int = HORIZON,
                     quadratic: bool = False) -> np.ndarray:
    """Least-squares direct forecaster on a window: one column of weights per horizon.

    .. math::

        C &= \\arg\\min_C \\sum_t \\| F(t)\\, C - Z_t \\|^2, \\\\
        Z_t &= (z_{t+1}, \\dots, z_{t+h})

    Parameters
    ----------
    series : (T,) float array, the training stretch.
    p : int, window length.
    horizon : int, ``h``.
    quadratic : bool, as in :func:`lag_features`.

    Returns
    -------
    C : (F, h) weights (``F`` features as in :func:`lag_features`).
    """
    horizon = check_positive_int("horizon", horizon)
    F, t = lag_features(series, p, quadratic)                         # (M, F)
    _, Y = horizon_targets(series, horizon)                           # (T - h, h)
    keep = t < Y.shape[0]                                             # a full future
    C, *_ = np.linalg.lstsq(F[keep], Y[t[keep]], rcond=None)
    return C


def window_forecast(C: np.ndarray, series: np.ndarray, p: int = WINDOW,
                    quadratic: bool = False) -> np.ndarray:
    """Forecasts of a fitted window model at every time of ``series``.

    Parameters
    ----------
    C : (F, h) from :func:`fit_window_model`.
    series : (T,) float array.
    p, quadratic : as when fitting.

    Returns
    -------
    pred : (T, h), row ``t`` the forecast of ``z_{t+1} .. z_{t+h}`` made at
        ``t``; NaN for ``t < p - 1`` (no full window yet).
    """
    F, t = lag_features(series, p, quadratic)
    if F.shape[1] != C.shape[0]:
        raise ValueError(f"C: expected {F.shape[1]} rows (the features of p = {p}, "
                         f"quadratic = {quadratic}), got shape {C.shape}")
    pred = np.full((series.shape[0], C.shape[1]), np.nan)
    pred[t] = F @ C                                                   # (M, h)
    return pred


def naive_forecast(series: np.ndarray, horizon: int = HORIZON) -> np.ndarray:
    """The last-value forecast ``xhat_{t+k} = x_t``: (T, h), row t filled with series[t]."""
    series = check_float_array("series", series, ndim=1, shape_doc="(T,)")
    horizon = check_positive_int("horizon", horizon)
    return np.repeat(series[:, None], horizon, axis=1)


def evaluation_targets(series: np.ndarray, horizon: int = HORIZON, start: int = WARM):
    """The times a forecast is scored at and the true futures there.

    Every ``t`` with ``start <= t`` and a full future ``t + h < T`` counts,
    for all forecasters alike.

    Returns
    -------
    t : (M,) int, the forecast origins.
    Y : (M, h), ``Y[i, k-1] = z_{t_i + k}``.
    """
    _, Y = horizon_targets(series, horizon)                           # (T - h, h)
    t = np.arange(start, Y.shape[0])
    return t, Y[t]


def horizon_rmse(pred: np.ndarray, series: np.ndarray, start: int = WARM) -> np.ndarray:
    """Root mean squared error of a forecast at each horizon.

    .. math::  e_k = \\Big(\\frac{1}{M} \\sum_{t} (\\hat z_{t+k} - z_{t+k})^2\\Big)^{1/2}

    over the origins of :func:`evaluation_targets`.

    Parameters
    ----------
    pred : (T, h) forecasts (from any forecaster here).
    series : (T,) the series forecast.
    start : first origin scored.

    Returns
    -------
    e : (h,) the error at horizons 1 .. h.
    """
    series = check_float_array("series", series, ndim=1, shape_doc="(T,)")
    if pred.ndim != 2 or pred.shape[0] != series.shape[0]:
        raise ValueError(f"pred: expected shape (T, h) with T = {series.shape[0]}, "
                         f"got {pred.shape}")
    t, Y = evaluation_targets(series, pred.shape[1], start)
    return np.sqrt(np.mean((pred[t] - Y) ** 2, axis=0))


def training_chunks(series: np.ndarray, T: int = CHUNK, horizon: int = HORIZON,
                    stride: int = 2):
    """Overlapping chunks of a series with the direct targets at every step.

    Parameters
    ----------
    series : (L,) float array, the training stretch.
    T : int, chunk length (backpropagation runs inside a chunk only).
    horizon : int, ``h``.
    stride : int >= 1, steps between the starts of two chunks.

    Returns
    -------
    x : (N, T, 1), chunk values ``z_s .. z_{s+T-1}``.
    y : (N, T, h), ``y[n, t, k-1] = z_{s_n + t + k}``.
    """
    T = check_positive_int("T", T)
    stride = check_positive_int("stride", stride)
    values, Y = horizon_targets(series, horizon)                      # (L - h,), (L - h, h)
    both = np.column_stack([values, Y])                               # (L - h, 1 + h)
    chunks, _ = windows(both, T, 1)                                   # (N', T, 1 + h)
    chunks = chunks[::stride]
    return chunks[:, :, :1].copy(), chunks[:, :, 1:].copy()


def forecaster_spec(cell: str = "lstm", H: int = 16, horizon: int = HORIZON) -> ModelSpec:
    """The recurrent direct forecaster: one value in, ``h`` forecasts out at every step."""
    return ModelSpec(cell=cell, input="dense", D=1, H=H, K=horizon, loss="mse")


def train_forecaster(train_series: np.ndarray, cell: str = "lstm", seeds=(0, 1, 2),
                     H: int = 16, steps: int = 600, lr: float = 0.02, batch_size: int = 16,
                     progress: str | bool = False):
    """Train one recurrent forecaster per seed on chunks of the training stretch.

    Adam, global-norm clipping at 1, mini-batches of chunks drawn without
    replacement; seed ``s`` draws the initial weights from
    ``default_rng(s)`` and the batch order from ``default_rng([s, 1])``.

    Parameters
    ----------
    train_series : (L,) standardised training stretch.
    cell : a registered cell name ("lstm", "gru", ...).
    seeds : iterable of ints.
    H, steps, lr, batch_size : model size and training settings.
    progress : False or a :class:`rnnlib.Progress` mode ("text", ...): one
        line per trained seed.

    Returns
    -------
    spec : ModelSpec.
    runs : list of (params, history), one per seed.
    """
    x, y = training_chunks(train_series)
    spec = forecaster_spec(cell, H)
    seeds = list(seeds)
    bar = Progress(len(seeds), description=f"{cell} seeds trained", mode=progress,
                   every=1) if progress else None
    runs = []
    for i, seed in enumerate(seeds):
        params = init_model(spec, np.random.default_rng(seed))
        params, hist = train(params, spec, (x, y), optimizer="adam", lr=lr, steps=steps,
                             batch_size=batch_size, clip=("norm", 1.0),
                             rng=np.random.default_rng([seed, 1]))
        runs.append((params, hist))
        if bar is not None:
            bar.update(i + 1, hist["loss"][-1])
    if bar is not None:
        bar.close()
    return spec, runs


def model_forecast(params: dict, spec: ModelSpec, series: np.ndarray):
    """Run a recurrent forecaster over a whole series from a zero state.

    Parameters
    ----------
    params, spec : a trained forecaster.
    series : (T,) float array.

    Returns
    -------
    pred : (T, h), row ``t`` the forecast made after reading ``z_0 .. z_t``.
    h : (T, H), the hidden state at every step.
    """
    series = check_float_array("series", series, ndim=1, shape_doc="(T,)")
    out, cache = model_forward(params, series[None, :, None], spec)   # (1, T, h)
    return out[0], cache["h"][0]


def shuffled_series(series: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same values in a random order: (T,), what is left of a series without its order."""
    series = check_float_array("series", series, ndim=1, shape_doc="(T,)")
    return series[rng.permutation(series.shape[0])]


def autocorrelation(series: np.ndarray, max_lag: int) -> np.ndarray:
    r"""Sample autocorrelation at lags 0 .. max_lag.

    .. math::

        \rho_k = \frac{\sum_t (x_t - \bar x)(x_{t+k} - \bar x)}{\sum_t (x_t - \bar x)^2}

    Parameters
    ----------
    series : (T,) float array.
    max_lag : int >= 1, less than T.

    Returns
    -------
    rho : (max_lag + 1,) with ``rho[0] = 1``.
    """
    series = check_float_array("series", series, ndim=1, shape_doc="(T,)")
    max_lag = check_positive_int("max_lag", max_lag)
    T = series.shape[0]
    if max_lag >= T:
        raise ValueError(f"max_lag: expected an integer < T = {T}, got {max_lag}")
    d = series - series.mean()
    return np.array([d[:T - k] @ d[k:] for k in range(max_lag + 1)]) / (d @ d)
