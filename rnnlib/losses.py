"""Losses over time: softmax cross-entropy and mean squared error.

Each returns ``(loss, dinput)``: a Python float and the gradient of that
loss with respect to its first argument, same shape and dtype. With a mask
(N, T) of 0/1 only the valid steps count, and the loss is the mean over
them, so padding changes neither the loss nor its gradient.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_float_array, check_mask, check_sequence, check_shape
from .activations import log_softmax

__all__ = ["softmax_cross_entropy", "mse_loss"]


def _valid_count(m, name="mask"):
    count = float(m.sum())
    if count == 0:
        raise ValueError(f"{name}: expected at least one valid (1) step, got all zeros")
    return count


def softmax_cross_entropy(logits, y, mask=None):
    """Mean softmax cross-entropy over the valid steps.

    .. math::

        L &= -\\frac{1}{|V|} \\sum_{(n, t) \\in V} \\log \\hat y_{n,t}[y_{n,t}], \\\\
        \\frac{\\partial L}{\\partial o_{n,t}}
        &= \\frac{\\hat y_{n,t} - \\mathrm{onehot}(y_{n,t})}{|V|}

    where ``yhat_{n,t} = softmax(o_{n,t})`` and V is the set of valid steps
    (all N*T without a mask). The log of
    the softmax is computed by log-sum-exp, so huge logits give finite
    losses.

    Parameters
    ----------
    logits : ndarray (N, T, K)
    y : ndarray (N, T) of integers in [0, K)
    mask : ndarray (N, T) of 0/1, optional (targets at masked steps are
        not checked and may hold any integer, e.g. a padding id)

    Returns
    -------
    loss : float
    dlogits : ndarray (N, T, K), zero at masked steps
    """
    logits = check_sequence("logits", logits, last_doc="K")
    N, T, K = logits.shape
    if not isinstance(y, np.ndarray):
        raise TypeError(f"y: expected a numpy integer array of shape (N, T), got {type(y).__name__}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"y: expected an integer array (class indices), got dtype {y.dtype}")
    check_shape("y", y, (N, T), "(N, T)")
    m = check_mask(mask, N, T, logits.dtype)
    valid = np.ones((N, T), dtype=bool) if m is None else m.astype(bool)
    yv = y[valid]
    if yv.size and (yv.min() < 0 or yv.max() >= K):
        bad = yv[(yv < 0) | (yv >= K)][:3]
        raise ValueError(f"y: expected class indices in [0, K) = [0, {K}), got {bad.tolist()}")
    count = float(valid.sum()) if m is None else _valid_count(m)
    yc = np.where(valid, y, 0)                                     # safe indices at padding
    logp = log_softmax(logits, axis=-1)                            # (N, T, K)
    picked = np.take_along_axis(logp, yc[..., None], axis=-1)[..., 0]   # (N, T)
    loss = -float(np.sum(picked * valid)) / count
    dlogits = np.exp(logp)                                         # softmax
    np.put_along_axis(dlogits, yc[..., None],
                      np.take_along_axis(dlogits, yc[..., None], axis=-1) - 1, axis=-1)
    dlogits *= (valid / count).astype(logits.dtype)[..., None]
    return loss, dlogits


def mse_loss(pred, target, mask=None):
    """Mean squared error over the valid elements.

    .. math::

        L &= \\frac{1}{|V|} \\sum_{i \\in V} (p_i - y_i)^2, \\\\
        \\frac{\\partial L}{\\partial p_i} &= \\frac{2 (p_i - y_i)}{|V|}

    Parameters
    ----------
    pred : ndarray, any shape; (N, T, K) when a mask is given
    target : ndarray, same shape and dtype as ``pred``
    mask : ndarray (N, T) of 0/1, optional; V is then every element
        ``pred[n, t, k]`` with ``mask[n, t] == 1`` (``|V| = K *`` valid steps)

    Returns
    -------
    loss : float
    dpred : ndarray, shape of ``pred``
    """
    pred = check_float_array("pred", pred)
    target = check_float_array("target", target, dtype=pred.dtype)
    check_shape("target", target, pred.shape, "the shape of pred")
    diff = pred - target
    if mask is None:
        count = float(diff.size)
        return float(np.sum(diff * diff)) / count, (2.0 / count) * diff
    if pred.ndim != 3:
        raise ValueError(f"pred: expected a 3-d array of shape (N, T, K) when a mask "
                         f"is given, got shape {pred.shape}")
    N, T, K = pred.shape
    m = check_mask(mask, N, T, pred.dtype)
    count = _valid_count(m) * K
    diff *= m[..., None]                                           # padding counts nothing
    return float(np.sum(diff * diff)) / count, (2.0 / count) * diff
