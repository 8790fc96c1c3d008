"""Time-distributed affine output layer, ``o_t = V h_t + c`` at every step.

The same ``V`` (K, H) and ``c`` (K,) are applied to every time step, so the
whole sequence is one matrix product ``h.reshape(N*T, H) @ V.T``.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_params, check_sequence, check_width
from .sequence import check_upstream, hidden_size

__all__ = ["affine_forward", "affine_backward"]


def affine_forward(h, params):
    """Apply the output layer at every step.

    .. math:: o_t = V h_t + c

    Parameters
    ----------
    h : ndarray (N, T, H)
    params : dict with ``V`` (K, H), ``c`` (K,), dtype of ``h``

    Returns
    -------
    o : ndarray (N, T, K)
    cache : dict for :func:`affine_backward`
    """
    h = check_sequence("h", h, last_doc="H")
    N, T, H = h.shape
    K = hidden_size(params, "V", axis=0)                         # V is (K, H)
    check_width("h", H, params, key="V", letter="H")            # names both on a mismatch
    check_params(params, {"V": ((K, H), "(K, H)"), "c": ((K,), "(K,)")}, h.dtype)
    o = (h.reshape(N * T, H) @ params["V"].T).reshape(N, T, K)    # (N, T, K)
    o += params["c"]
    return o, {"h": h, "params": params}


def affine_backward(do, cache):
    """Backward pass of :func:`affine_forward`.

    .. math::

        \\partial L/\\partial h_t &= V^\\top \\delta_t, \\\\
        \\partial L/\\partial V &= \\sum_{n,t} \\delta_{n,t} h_{n,t}^\\top, \\\\
        \\partial L/\\partial c &= \\sum_{n,t} \\delta_{n,t}

    Parameters
    ----------
    do : ndarray (N, T, K), gradient on the outputs
    cache : dict from :func:`affine_forward`

    Returns
    -------
    dh : ndarray (N, T, H)
    grads : dict ``V`` (K, H), ``c`` (K,)
    """
    h, V = cache["h"], cache["params"]["V"]
    N, T, H = h.shape
    K = V.shape[0]
    do = check_upstream("do", do, (N, T, K), "(N, T, K)", h.dtype)
    do2 = do.reshape(N * T, K)                                     # (NT, K)
    dh = (do2 @ V).reshape(N, T, H)                                # into the hidden states
    grads = {"V": do2.T @ h.reshape(N * T, H), "c": do2.sum(axis=0)}
    return dh, grads
