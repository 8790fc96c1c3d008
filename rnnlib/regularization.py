"""Weight penalties (L2 and L1) with their gradients.

Each function returns ``(loss, grads)``: the penalty to add to the data loss
and a gradient dict with the **same keys as** ``params`` (zeros for the
parameters that are not penalised), so it can be added key by key to the
gradients of the data loss::

    loss_pen, g_pen = l2_penalty(params, lam=1e-3)
    grads = {k: grads[k] + g_pen[k] for k in grads}

By default only weight matrices are penalised (the 2-d arrays, e.g. ``U``,
``W``, ``V``), not biases or 1-d gains: penalising a bias does not limit how
sharply the network can respond to its input, it only pulls the offsets to
zero.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_array_dict, check_real

__all__ = ["l2_penalty", "l1_penalty", "default_penalty_keys"]


def default_penalty_keys(params: dict) -> list:
    """Keys of the weight matrices in ``params``: the arrays with ``ndim == 2``."""
    return [k for k, v in params.items() if np.ndim(v) == 2]


def _keys(params: dict, keys) -> list:
    check_array_dict("params", params)
    if keys is None:
        return default_penalty_keys(params)
    if isinstance(keys, str):
        keys = [keys]
    keys = list(keys)
    unknown = [k for k in keys if k not in params]
    if unknown:
        raise ValueError(f"keys: expected keys of params {sorted(params)}, got unknown {unknown}")
    return keys


def _penalise(params: dict, keys, term) -> tuple[float, dict]:
    """Sum ``term(w) -> (loss, grad)`` over the penalised arrays; zero grads elsewhere."""
    keys = set(_keys(params, keys))
    loss = 0.0
    grads = {}
    for k, w in params.items():
        if k in keys:
            loss_k, grads[k] = term(w)
            loss += loss_k
        else:
            grads[k] = np.zeros_like(w)
    return loss, grads


def l2_penalty(params: dict, lam: float, keys=None) -> tuple[float, dict]:
    """L2 weight penalty ("weight decay") and its gradient.

    .. math::

        \\Omega &= \\frac{\\lambda}{2} \\sum_{k} \\|W_k\\|_F^2, \\\\
        \\frac{\\partial \\Omega}{\\partial W_k} &= \\lambda W_k

    The factor 1/2 makes the gradient exactly ``lam * W``, so a plain SGD
    step with this penalty equals ``torch.optim.SGD(..., weight_decay=lam)``.
    (Without the 1/2, as some texts write it, the gradient is ``2 lam W``.)

    Parameters
    ----------
    params : dict of arrays.
    lam : float >= 0, the strength ``lambda``.
    keys : iterable of keys to penalise, or None for every 2-d array
        (weight matrices, not biases).

    Returns
    -------
    loss : float, the penalty ``Omega``.
    grads : dict with the keys and shapes of ``params``: ``lam * W`` for the
        penalised keys, zeros for the others.
    """
    def term(w):
        w64 = w.astype(np.float64, copy=False).ravel()
        return 0.5 * lam * float(w64 @ w64), lam * w

    lam = check_real("lam", lam, minimum=0.0)
    return _penalise(params, keys, term)


def l1_penalty(params: dict, lam: float, keys=None) -> tuple[float, dict]:
    """L1 weight penalty and its subgradient.

    .. math::

        \\Omega &= \\lambda \\sum_{k} \\sum_{ij} |(W_k)_{ij}|, \\\\
        \\frac{\\partial \\Omega}{\\partial W_k} &= \\lambda\\, \\mathrm{sign}(W_k)

    At an entry that is exactly 0 the penalty has no derivative; the
    subgradient 0 is used there (``np.sign(0) == 0``), so a zero weight stays
    put as far as the penalty is concerned.

    Parameters
    ----------
    params : dict of arrays.
    lam : float >= 0, the strength ``lambda``.
    keys : iterable of keys to penalise, or None for every 2-d array.

    Returns
    -------
    loss : float, the penalty ``Omega``.
    grads : dict with the keys and shapes of ``params``: ``lam * sign(W)``
        for the penalised keys, zeros for the others.
    """
    def term(w):
        return (lam * float(np.abs(w).sum(dtype=np.float64)),
                (lam * np.sign(w)).astype(w.dtype, copy=False))

    lam = check_real("lam", lam, minimum=0.0)
    return _penalise(params, keys, term)
