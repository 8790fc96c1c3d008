"""Batch normalization (plain and per time step) and layer normalization.

Forward/backward pairs in the usual rnnlib form. ``F`` below is the number
of normalised features: ``D`` when normalising inputs, ``H`` (or ``4H``)
when normalising pre-activations.

Batch normalization (Ioffe & Szegedy 2015) normalises each feature with the
mean and variance of the **batch** during training and with running
**population** estimates at inference; the running estimates are part of a
``state`` dict that the forward pass takes and returns (nothing is hidden in
an object). Layer normalization (Ba et al. 2016) normalises each row over its
own features, so it behaves the same in training and inference and needs no
state, which is why it is the usual choice inside recurrent networks.

Padded batches: both batch norms take ``mask`` (N, T) for (N, T, F) input.
The statistics are then taken over the valid positions only, so padding
never shifts them (a batch padded to any length gives the same outputs and
gradients on its valid steps); padded positions are normalised with the
same statistics, send no gradient back, and receive none. Where fewer than
two positions are valid (a step near the end of a ragged batch), the running
estimates are left as they were (the unbiased variance needs two).

The conventions (initial running mean 0 and variance 1, ``momentum=0.1``
weighting the *new* batch, ``eps=1e-5`` inside the square root, unbiased
variance in the running estimate) are those of ``torch.nn.BatchNorm1d`` and
``torch.nn.LayerNorm``; the tests check parity in float64.
"""

from __future__ import annotations

import numpy as np

from ._validate import (check_choice, check_float_array, check_mask, check_params,
                        check_real, check_shape)

__all__ = [
    "batchnorm_forward", "batchnorm_backward",
    "temporal_batchnorm_forward", "temporal_batchnorm_backward",
    "layernorm_forward", "layernorm_backward",
    "init_norm_params",
]


def init_norm_params(F: int, dtype=np.float64) -> dict:
    """Identity normalization parameters: ``gamma`` = 1 and ``beta`` = 0, both (F,)."""
    return {"gamma": np.ones(F, dtype=dtype), "beta": np.zeros(F, dtype=dtype)}


def _check_common(x, params, momentum, eps, mode, ndims):
    check_choice("mode", mode, ("train", "eval"))
    x = check_float_array("x", x, allow_empty=True)
    if x.ndim not in ndims:
        docs = {2: "(M, F)", 3: "(N, T, F)"}
        want = " or ".join(docs[d] for d in ndims)
        raise ValueError(f"x: expected an array of shape {want}, got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"x: expected a non-empty batch, got shape {x.shape}")
    F = x.shape[-1]
    check_params(params, {"gamma": ((F,), "(F,)"), "beta": ((F,), "(F,)")}, x.dtype)
    momentum = check_real("momentum", momentum, minimum=0.0, maximum=1.0)
    eps = check_real("eps", eps, minimum=0.0, strict_min=True)
    return x, F, momentum, eps


# --- batch normalization ----------------------------------------------------

def batchnorm_forward(x: np.ndarray, params: dict, state: dict | None = None,
                      mode: str = "train", momentum: float = 0.1, eps: float = 1e-5,
                      mask: np.ndarray | None = None):
    """Batch normalization of each feature over the batch.

    Training mode, over the ``m`` rows of the batch:

    .. math::

        \\mu &= \\frac{1}{m}\\sum_i x_i, \\\\
        \\sigma^2 &= \\frac{1}{m}\\sum_i (x_i - \\mu)^2, \\\\
        \\hat x_i &= \\frac{x_i - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}}, \\\\
        y_i &= \\gamma \\odot \\hat x_i + \\beta

    and the running (population) estimates are updated as

    .. math::

        \\bar\\mu &\\leftarrow (1 - p)\\,\\bar\\mu + p\\,\\mu, \\\\
        \\bar\\sigma^2 &\\leftarrow (1 - p)\\,\\bar\\sigma^2 + p\\,\\frac{m}{m-1}\\,\\sigma^2

    with ``p = momentum``. The batch is normalised with the biased variance
    ``sigma^2`` (divide by m), but the running estimate stores the
    **unbiased** one (divide by m - 1): the batch variance of m samples
    underestimates the population variance by the factor (m - 1)/m on
    average, since it is measured around the batch's own mean. Ioffe &
    Szegedy (2015) and ``torch.nn.BatchNorm1d`` do the same.

    Evaluation mode uses the running estimates instead of batch statistics,
    so each row's output no longer depends on the other rows:
    ``y = gamma * (x - mean) / sqrt(var + eps) + beta``.

    A 3-d input (N, T, F) is treated as a batch of ``M = N * T`` rows: one
    set of statistics shared by all time steps (normalising inputs that way
    is what ``BatchNorm1d`` does after moving features last). For separate
    statistics per step use :func:`temporal_batchnorm_forward`.

    Parameters
    ----------
    x : (M, F) or (N, T, F) array.
    params : ``{"gamma": (F,), "beta": (F,)}``, the dtype of ``x``.
    state : ``{"mean": (F,), "var": (F,)}`` running estimates, or None for
        the initial ones (mean 0, var 1). Required in eval mode.
    mode : ``"train"`` or ``"eval"``.
    momentum : float in [0, 1], the weight ``p`` of the current batch.
    eps : float > 0, added to the variance.
    mask : optional (N, T) of 0/1 for a 3-d ``x``: the statistics count only
        the valid rows (module docstring).

    Returns
    -------
    y : array of the shape of ``x``.
    new_state : ``{"mean": (F,), "var": (F,)}``, new arrays (in eval mode a
        copy of ``state``).
    cache : dict for :func:`batchnorm_backward`.
    """
    x, F, momentum, eps = _check_common(x, params, momentum, eps, mode, (2, 3))
    state = _check_state(state, (F,), "(F,)", x.dtype, mode)
    w = _row_weights(mask, x)                               # (M, 1) or None
    x2 = x.reshape(-1, F)                                   # (M, F)
    M = x2.shape[0] if w is None else int(w.sum())
    if mode == "train":
        if M < 2:
            raise ValueError(f"x: training-mode batch normalization needs at least 2 "
                             f"{'valid ' if w is not None else ''}rows per feature (M >= 2), "
                             f"got {M} (shape {x.shape})")
        mu, var, _ = _masked_stats(x2, w, axis=0)           # (F,), biased variance
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = (x2 - mu) * inv_std                          # (M, F)
        new_state = {
            "mean": (1.0 - momentum) * state["mean"] + momentum * mu,
            "var": (1.0 - momentum) * state["var"] + momentum * var * (M / (M - 1)),
        }
    else:
        inv_std = 1.0 / np.sqrt(state["var"] + eps)
        xhat = (x2 - state["mean"]) * inv_std
        new_state = {"mean": state["mean"].copy(), "var": state["var"].copy()}
    y = params["gamma"] * xhat + params["beta"]
    cache = {"mode": mode, "xhat": xhat, "inv_std": inv_std,
             "gamma": params["gamma"], "shape": x.shape, "w": w}
    return y.reshape(x.shape), new_state, cache


def _row_weights(mask, x):
    """The (N, T) mask of a 3-d x as (N * T, 1) row weights of x's dtype, or None."""
    if mask is None:
        return None
    if x.ndim != 3:
        raise ValueError(f"mask: a mask marks the valid steps of a (N, T, F) input, "
                         f"got x of shape {x.shape}")
    N, T, _ = x.shape
    return check_mask(mask, N, T, x.dtype).reshape(N * T, 1)


def _check_state(state, shape, doc, dtype, mode):
    if state is None:
        if mode == "eval":
            raise ValueError("state: eval mode needs the running statistics "
                             "{'mean', 'var'} returned by training-mode calls, got None")
        return {"mean": np.zeros(shape, dtype=dtype), "var": np.ones(shape, dtype=dtype)}
    check_params(state, {"mean": (shape, doc), "var": (shape, doc)}, dtype, where="state")
    if np.any(state["var"] < 0):
        raise ValueError("state['var']: expected non-negative running variances, "
                         f"got minimum {state['var'].min()}")
    return state


def _masked_stats(x, w, axis):
    """Mean and biased variance over ``axis``, counting only rows with weight w = 1.

    x : (..., F); w : 0/1 weights broadcastable to x's rows (None: all rows).
    Returns mu, var (the reduced shape) and the count n (same, >= 0).
    Where n = 0 the statistics are mean 0, variance 1 (nothing to normalise).
    """
    if w is None:
        n = np.full(np.delete(x.shape, axis)[:-1], x.shape[axis], dtype=x.dtype)
        mu = x.mean(axis=axis)
        xc = x - np.expand_dims(mu, axis)
        return mu, (xc * xc).mean(axis=axis), n[..., None]
    n = w.sum(axis=axis)                                    # valid rows per group
    safe = np.maximum(n, 1)
    mu = (w * x).sum(axis=axis) / safe
    xc = x - np.expand_dims(mu, axis)
    var = (w * xc * xc).sum(axis=axis) / safe
    var = np.where(n > 0, var, 1.0)                         # an all-padding group
    return mu, var, n


def _bn_backward_rows(dy2, xhat, inv_std, gamma, train, axis, w=None):
    """Shared backward of y = gamma * xhat + beta, statistics over ``axis``.

    ``w`` (0/1, broadcastable to the rows) marks the rows the statistics
    were taken over; the other rows send and receive no gradient.
    """
    if w is not None:
        dy2 = dy2 * w                                       # padding sends nothing
    dgamma_part = dy2 * xhat
    dxhat = dy2 * gamma                                     # through the scale
    if not train:
        return dxhat * inv_std, dgamma_part                 # affine in eval mode
    m = dy2.shape[axis] if w is None else np.maximum(w.sum(axis=axis, keepdims=True), 1)
    # through the batch mean and variance:
    # dx = inv_std / m * (m dxhat - sum dxhat - xhat * sum(dxhat * xhat))
    s1 = dxhat.sum(axis=axis, keepdims=True)
    s2 = (dxhat * xhat).sum(axis=axis, keepdims=True)
    dx = (inv_std / m) * (m * dxhat - s1 - xhat * s2)
    if w is not None:
        dx = dx * w                                         # padding receives nothing
    return dx, dgamma_part


def batchnorm_backward(dy: np.ndarray, cache: dict):
    """Backward pass of :func:`batchnorm_forward`.

    Training mode differentiates through the batch mean and variance
    (every output row depends on every input row of its feature):

    .. math::

        \\frac{\\partial L}{\\partial x_i}
        &= \\frac{1}{m\\sqrt{\\sigma^2+\\epsilon}} \\Big(m\\, g_i - \\sum_j g_j \\\\
        &\\qquad {} - \\hat x_i \\sum_j g_j \\hat x_j\\Big), \\\\
        g_i &= \\gamma \\odot \\frac{\\partial L}{\\partial y_i}

    Evaluation mode is an affine map of each row:
    ``dx = dy * gamma / sqrt(var + eps)``.

    Parameters
    ----------
    dy : array of the shape of ``x``, (M, F) or (N, T, F).
    cache : from :func:`batchnorm_forward`.

    Returns
    -------
    dx : array of the shape of ``x``.
    grads : ``{"gamma": (F,), "beta": (F,)}``.
    """
    dy = check_float_array("dy", dy, allow_empty=True)
    check_shape("dy", dy, cache["shape"], "the shape of x")
    F = cache["shape"][-1]
    dy2 = dy.reshape(-1, F)                                 # (M, F)
    w = cache["w"]
    dx, dg = _bn_backward_rows(dy2, cache["xhat"], cache["inv_std"], cache["gamma"],
                               cache["mode"] == "train", axis=0, w=w)
    grads = {"gamma": dg.sum(axis=0), "beta": (dy2 if w is None else dy2 * w).sum(axis=0)}
    return dx.reshape(cache["shape"]), grads


# --- per-time-step batch normalization ----------------------------------------

def temporal_batchnorm_forward(x: np.ndarray, params: dict, state: dict | None = None,
                               mode: str = "train", momentum: float = 0.1,
                               eps: float = 1e-5, mask: np.ndarray | None = None):
    """Batch normalization with separate statistics for each time step.

    The recurrent batch normalization of Cooijmans et al. (2016): at step
    ``t`` the features are normalised with the mean and variance of the ``N``
    sequences at that step, and running estimates are kept per step,

    .. math::  \\hat x_{t} = \\frac{x_t - \\mu_t}{\\sqrt{\\sigma_t^2 + \\epsilon}}, \\qquad
               y_t = \\gamma \\odot \\hat x_t + \\beta

    with the same update of the running ``mean[t]``, ``var[t]`` (unbiased,
    ``N/(N-1)``) as :func:`batchnorm_forward`. ``gamma`` and ``beta`` are
    shared by all steps, as in the paper.

    The state grows to the longest training length ``T_max`` seen so far
    (new rows start at mean 0, var 1). In eval mode, steps ``t >= T_max``
    reuse the statistics of the last trained step ``T_max - 1``, the
    generalisation rule of Cooijmans et al.

    Parameters
    ----------
    x : (N, T, F) array.
    params : ``{"gamma": (F,), "beta": (F,)}``.
    state : ``{"mean": (T_max, F), "var": (T_max, F)}`` or None (training
        starts from mean 0, var 1). Required in eval mode.
    mode : ``"train"`` or ``"eval"``.
    momentum : float in [0, 1].
    eps : float > 0.
    mask : optional (N, T) of 0/1: the statistics of step t count only the
        sequences valid at t; steps with fewer than 2 keep their running
        estimates (module docstring).

    Returns
    -------
    y : (N, T, F) array.
    new_state : ``{"mean": (max(T_max, T), F), "var": ...}`` in train mode,
        a copy of ``state`` in eval mode.
    cache : dict for :func:`temporal_batchnorm_backward`.
    """
    x, F, momentum, eps = _check_common(x, params, momentum, eps, mode, (3,))
    N, T, _ = x.shape
    if state is None:
        if mode == "eval":
            raise ValueError("state: eval mode needs the per-step running statistics "
                             "{'mean', 'var'} returned by training-mode calls, got None")
        Tmax = 0
        mean0 = np.zeros((0, F), dtype=x.dtype)
        var0 = np.ones((0, F), dtype=x.dtype)
    else:
        if not isinstance(state, dict) or "mean" not in state:
            raise TypeError("state: expected None or {'mean': (T_max, F), 'var': (T_max, F)}, "
                            f"got {type(state).__name__}")
        Tmax = state["mean"].shape[0] if isinstance(state["mean"], np.ndarray) else 0
        if Tmax < 1:
            raise ValueError("state['mean']: expected per-step statistics of shape "
                             f"(T_max, F) with T_max >= 1, got {np.shape(state['mean'])}")
        _check_state(state, (Tmax, F), "(T_max, F)", x.dtype, mode)
        mean0, var0 = state["mean"], state["var"]
    if mode == "train":
        if N < 2:
            raise ValueError("x: per-step batch normalization in train mode needs at least "
                             f"2 sequences (N >= 2), got shape {x.shape}")
        L = max(Tmax, T)                                    # grow the state to L steps
        rm = np.zeros((L, F), dtype=x.dtype)
        rv = np.ones((L, F), dtype=x.dtype)
        rm[:Tmax], rv[:Tmax] = mean0, var0
        w = None if mask is None else check_mask(mask, N, T, x.dtype)[:, :, None]  # (N, T, 1)
        mu, var, n = _masked_stats(x, w, axis=0)            # (T, F), (T, F), (T, 1)
        inv_std = 1.0 / np.sqrt(var + eps)                  # (T, F)
        xhat = (x - mu) * inv_std                           # (N, T, F)
        p = np.where(n >= 2, momentum, 0.0)                 # no update from < 2 valid rows
        unbiased = var * (n / np.maximum(n - 1, 1))
        rm[:T] = (1.0 - p) * rm[:T] + p * mu
        rv[:T] = (1.0 - p) * rv[:T] + p * unbiased
        new_state = {"mean": rm, "var": rv}
    else:
        w = None if mask is None else check_mask(mask, N, T, x.dtype)[:, :, None]
        idx = np.minimum(np.arange(T), Tmax - 1)            # reuse the last step beyond T_max
        inv_std = 1.0 / np.sqrt(var0[idx] + eps)            # (T, F)
        xhat = (x - mean0[idx]) * inv_std
        new_state = {"mean": mean0.copy(), "var": var0.copy()}
    y = params["gamma"] * xhat + params["beta"]
    cache = {"mode": mode, "xhat": xhat, "inv_std": inv_std,
             "gamma": params["gamma"], "shape": x.shape, "w": w}
    return y, new_state, cache


def temporal_batchnorm_backward(dy: np.ndarray, cache: dict):
    """Backward pass of :func:`temporal_batchnorm_forward`.

    The formula of :func:`batchnorm_backward` applied at each step over the
    ``N`` sequences (train mode), or the affine map (eval mode); the
    gradients of the shared ``gamma`` and ``beta`` are summed over steps.

    Parameters
    ----------
    dy : (N, T, F) array.
    cache : from :func:`temporal_batchnorm_forward`.

    Returns
    -------
    dx : (N, T, F) array.
    grads : ``{"gamma": (F,), "beta": (F,)}``.
    """
    dy = check_float_array("dy", dy, ndim=3, shape_doc="(N, T, F)", allow_empty=True)
    check_shape("dy", dy, cache["shape"], "(N, T, F)")
    w = cache["w"]
    dx, dg = _bn_backward_rows(dy, cache["xhat"], cache["inv_std"], cache["gamma"],
                               cache["mode"] == "train", axis=0, w=w)
    grads = {"gamma": dg.sum(axis=(0, 1)),
             "beta": (dy if w is None else dy * w).sum(axis=(0, 1))}
    return dx, grads


# --- layer normalization ------------------------------------------------------

def layernorm_forward(x: np.ndarray, params: dict, eps: float = 1e-5):
    """Layer normalization of each row over its ``F`` features (Ba et al. 2016).

    .. math::

        \\mu &= \\frac{1}{F}\\sum_f x_f, \\\\
        \\sigma^2 &= \\frac{1}{F}\\sum_f (x_f - \\mu)^2, \\\\
        y &= \\gamma \\odot \\frac{x - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}} + \\beta

    The statistics belong to each row (each sequence at each step), so the
    result does not depend on the batch and training and inference agree.
    Same conventions as ``torch.nn.LayerNorm(F)`` (biased variance, ``eps``
    inside the square root).

    Parameters
    ----------
    x : (..., F) array, e.g. (N, F) or (N, T, F).
    params : ``{"gamma": (F,), "beta": (F,)}``.
    eps : float > 0.

    Returns
    -------
    y : array of the shape of ``x``.
    cache : dict for :func:`layernorm_backward`.
    """
    x = check_float_array("x", x, allow_empty=True)
    if x.ndim < 1 or x.size == 0:
        raise ValueError(f"x: expected a non-empty array of shape (..., F), got shape {x.shape}")
    F = x.shape[-1]
    check_params(params, {"gamma": ((F,), "(F,)"), "beta": ((F,), "(F,)")}, x.dtype)
    eps = check_real("eps", eps, minimum=0.0, strict_min=True)
    mu = x.mean(axis=-1, keepdims=True)                     # (..., 1)
    xc = x - mu
    var = (xc * xc).mean(axis=-1, keepdims=True)            # (..., 1)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = xc * inv_std                                     # (..., F)
    y = params["gamma"] * xhat + params["beta"]
    cache = {"xhat": xhat, "inv_std": inv_std, "gamma": params["gamma"], "shape": x.shape}
    return y, cache


def layernorm_backward(dy: np.ndarray, cache: dict):
    """Backward pass of :func:`layernorm_forward`.

    .. math::

        \\frac{\\partial L}{\\partial x}
        &= \\frac{1}{F\\sqrt{\\sigma^2+\\epsilon}} \\Big(F\\, g - \\sum_f g_f \\\\
        &\\qquad {} - \\hat x \\sum_f g_f \\hat x_f\\Big), \\\\
        g &= \\gamma \\odot \\frac{\\partial L}{\\partial y}

    (the batch-norm formula with the sum over features instead of rows).

    Parameters
    ----------
    dy : array of the shape of ``x``, (..., F).
    cache : from :func:`layernorm_forward`.

    Returns
    -------
    dx : array of the shape of ``x``.
    grads : ``{"gamma": (F,), "beta": (F,)}``, summed over all leading axes.
    """
    dy = check_float_array("dy", dy, allow_empty=True)
    check_shape("dy", dy, cache["shape"], "the shape of x")
    dx, dg = _bn_backward_rows(dy, cache["xhat"], cache["inv_std"], cache["gamma"],
                               True, axis=-1)
    lead = tuple(range(dy.ndim - 1))
    grads = {"gamma": dg.sum(axis=lead), "beta": dy.sum(axis=lead)}
    return dx, grads
