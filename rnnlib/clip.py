"""Gradient clipping: by value and by global norm.

Both clipping functions return the clipped gradients *and* the global norm
measured before clipping, because the chapters plot that norm (a spike in
it is what an exploding gradient looks like). Gradients travel in a dict of
arrays, as everywhere in rnnlib; the input dict and its arrays are never
modified.

Non-finite gradients are allowed in: the norm then comes back as ``nan`` or
``inf`` so that a training loop can notice divergence and stop with a
message, instead of having the check raise here.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_array_dict, check_real

__all__ = ["global_norm", "clip_by_value", "clip_by_global_norm"]

#: Added to the norm before dividing, as in ``torch.nn.utils.clip_grad_norm_``.
NORM_EPS = 1e-6


def global_norm(grads: dict) -> float:
    """Euclidean norm of all gradients taken together.

    .. math::  \\|g\\| = \\sqrt{\\textstyle\\sum_k \\sum_{ij} (g_k)_{ij}^2}

    Parameters
    ----------
    grads : dict of arrays, any shapes (e.g. ``dU`` (H, D), ``dW`` (H, H)).

    Returns
    -------
    norm : float (``nan``/``inf`` if a gradient is not finite).
    """
    check_array_dict("grads", grads, allow_nonfinite=True)
    total = 0.0
    for g in grads.values():
        g64 = g.astype(np.float64, copy=False).ravel()
        total += float(g64 @ g64)
    return float(np.sqrt(total))


def clip_by_value(grads: dict, limit: float) -> tuple[dict, float]:
    """Clip every gradient entry to ``[-limit, limit]``.

    .. math::  g_{ij} \\leftarrow \\min(\\max(g_{ij}, -c), c)

    This changes the direction of the gradient vector (large entries are cut,
    small ones kept), unlike :func:`clip_by_global_norm`.

    Parameters
    ----------
    grads : dict of arrays, any shapes.
    limit : float > 0, the threshold ``c``.

    Returns
    -------
    clipped : dict of new arrays, same keys, shapes and dtypes as ``grads``.
    norm_before : float, :func:`global_norm` of ``grads`` before clipping.
    """
    limit = check_real("limit", limit, minimum=0.0, strict_min=True)
    norm = global_norm(grads)
    clipped = {k: np.clip(g, -limit, limit) for k, g in grads.items()}
    return clipped, norm


def clip_by_global_norm(grads: dict, max_norm: float) -> tuple[dict, float]:
    """Rescale all gradients together so their global norm is at most ``max_norm``.

    .. math::  s = \\frac{\\tau}{\\|g\\| + 10^{-6}}, \\qquad
               g \\leftarrow \\min(s, 1)\\, g

    The same semantics as ``torch.nn.utils.clip_grad_norm_`` (2-norm): the
    ``1e-6`` keeps the division safe for a zero gradient, so a clipped
    gradient has norm slightly *below* ``max_norm`` (by a factor
    ``\\|g\\| / (\\|g\\| + 10^{-6})``), and when ``s >= 1`` the gradients are
    returned unchanged (as copies). The direction of the gradient vector is
    kept (Pascanu et al. 2013).

    Parameters
    ----------
    grads : dict of arrays, any shapes.
    max_norm : float > 0, the threshold ``tau``.

    Returns
    -------
    clipped : dict of new arrays, same keys, shapes and dtypes as ``grads``.
    norm_before : float, the global norm before clipping (``nan``/``inf`` is
        passed through and the gradients are then returned unscaled).
    """
    max_norm = check_real("max_norm", max_norm, minimum=0.0, strict_min=True)
    norm = global_norm(grads)
    scale = max_norm / (norm + NORM_EPS)
    if np.isfinite(norm) and scale < 1.0:
        clipped = {k: (g * scale).astype(g.dtype, copy=False) for k, g in grads.items()}
    else:
        clipped = {k: g.copy() for k, g in grads.items()}
    return clipped, norm
