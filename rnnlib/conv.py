"""A small 2-D convolution and max pooling, forward and backward, for image features.

Enough of a convolutional network to put image features in front of a
recurrent decoder (section 8.4): a valid cross-correlation of a batch of
one-channel images with a bank of filters, and non-overlapping max
pooling. Both are forward/backward pairs in the library's convention and
are gradient-checked in ``tests/test_conv.py``.

Shape letters here: ``N`` images, ``R, C`` rows and columns, ``M`` filters
(output maps), ``k`` the filter size, ``s`` the pooling size.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_float_array, check_params, check_positive_int

__all__ = ["conv2d_forward", "conv2d_backward", "maxpool_forward", "maxpool_backward"]


def conv2d_forward(x: np.ndarray, params: dict):
    """Valid 2-D cross-correlation of one-channel images with M filters, plus a bias.

    .. math::  y_{n,m,i,j} = \\sum_{a,b} w_{m,a,b}\\, x_{n,i+a,j+b} + b_m

    (a cross-correlation, what deep-learning libraries call a convolution).

    Parameters
    ----------
    x : (N, R, C) floats.
    params : dict with ``w`` (M, k, k) and ``b`` (M,), dtype of ``x``; k <= R, C.

    Returns
    -------
    y : (N, M, R - k + 1, C - k + 1).
    cache : dict for :func:`conv2d_backward`.
    """
    x = check_float_array("x", x, ndim=3, shape_doc="(N, R, C)")
    w = params.get("w") if isinstance(params, dict) else None
    if not isinstance(w, np.ndarray) or w.ndim != 3 or w.shape[1] != w.shape[2]:
        got = w.shape if isinstance(w, np.ndarray) else type(w).__name__
        raise ValueError(f"params['w']: expected square filters of shape (M, k, k), got {got}")
    N, R, C = x.shape
    M, k, _ = w.shape
    if k > min(R, C):
        raise ValueError(f"params['w'] and x disagree: filters of size k = {k} do not fit "
                         f"images of {R} x {C} (one of the two is wrong)")
    check_params(params, {"w": ((M, k, k), "(M, k, k)"), "b": ((M,), "(M,)")}, x.dtype)
    Ro, Co = R - k + 1, C - k + 1
    y = np.zeros((N, M, Ro, Co), dtype=x.dtype)
    for a in range(k):                          # one shifted window per filter tap
        for b in range(k):
            y += w[None, :, a, b, None, None] * x[:, None, a:a + Ro, b:b + Co]
    y += params["b"][None, :, None, None]
    return y, {"x": x, "params": params}


def conv2d_backward(dy: np.ndarray, cache: dict):
    """Backward pass of :func:`conv2d_forward`.

    .. math::

        \\partial L/\\partial w_{m,a,b} &= \\sum_{n,i,j} \\delta_{n,m,i,j}\\, x_{n,i+a,j+b}, \\\\
        \\partial L/\\partial b_m &= \\sum_{n,i,j} \\delta_{n,m,i,j}, \\\\
        \\partial L/\\partial x_{n,r,c} &= \\sum_{m,a,b} \\delta_{n,m,r-a,c-b}\\, w_{m,a,b}

    Parameters
    ----------
    dy : (N, M, R - k + 1, C - k + 1), gradient on the output.
    cache : from :func:`conv2d_forward`.

    Returns
    -------
    dx : (N, R, C).
    grads : dict ``w`` (M, k, k), ``b`` (M,).
    """
    x, w = cache["x"], cache["params"]["w"]
    N, R, C = x.shape
    M, k, _ = w.shape
    Ro, Co = R - k + 1, C - k + 1
    if not isinstance(dy, np.ndarray) or dy.shape != (N, M, Ro, Co):
        got = dy.shape if isinstance(dy, np.ndarray) else type(dy).__name__
        raise ValueError(f"dy: expected shape (N, M, R - k + 1, C - k + 1) = {(N, M, Ro, Co)}, "
                         f"got {got}")
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    for a in range(k):                          # each tap saw one shifted window
        for b in range(k):
            window = x[:, a:a + Ro, b:b + Co]                           # (N, Ro, Co)
            dw[:, a, b] = np.einsum("nmij,nij->m", dy, window)           # into the tap
            dx[:, a:a + Ro, b:b + Co] += np.einsum("nmij,m->nij", dy, w[:, a, b])
    db = dy.sum(axis=(0, 2, 3))                                          # into the bias
    return dx, {"w": dw, "b": db}


def maxpool_forward(x: np.ndarray, size: int = 2):
    """Non-overlapping max pooling over ``size x size`` blocks of each map.

    .. math::  y_{n,m,i,j} = \\max_{0 \\le a, b < s} x_{n,m,si+a,sj+b}

    Parameters
    ----------
    x : (N, M, R, C) floats, R and C multiples of ``size``.
    size : int >= 1, the block size s.

    Returns
    -------
    y : (N, M, R / s, C / s).
    cache : dict for :func:`maxpool_backward` (which entry of each block won).
    """
    x = check_float_array("x", x, ndim=4, shape_doc="(N, M, R, C)")
    s = check_positive_int("size", size)
    N, M, R, C = x.shape
    if R % s or C % s:
        raise ValueError(f"x: expected rows and columns that are multiples of size = {s}, "
                         f"got shape {x.shape}")
    blocks = (x.reshape(N, M, R // s, s, C // s, s)
              .transpose(0, 1, 2, 4, 3, 5)
              .reshape(N, M, R // s, C // s, s * s))                     # (N, M, R/s, C/s, s*s)
    win = blocks.argmax(axis=-1)                                         # first maximum wins
    y = np.take_along_axis(blocks, win[..., None], axis=-1)[..., 0]
    return y, {"win": win, "shape": x.shape, "size": s}


def maxpool_backward(dy: np.ndarray, cache: dict) -> np.ndarray:
    """Backward pass of :func:`maxpool_forward`: each block's gradient goes to its maximum.

    .. math::

        \\frac{\\partial L}{\\partial x_{n,m,r,c}} &= \\delta_{n,m,i,j}
          \\ \\text{ or } 0, \\\\
        i &= \\lfloor r/s \\rfloor, \\quad j = \\lfloor c/s \\rfloor

    (``delta`` where ``(r, c)`` is the maximum of its block, 0 elsewhere).

    Parameters
    ----------
    dy : (N, M, R / s, C / s).
    cache : from :func:`maxpool_forward`.

    Returns
    -------
    dx : (N, M, R, C).
    """
    N, M, R, C = cache["shape"]
    s, win = cache["size"], cache["win"]
    if not isinstance(dy, np.ndarray) or dy.shape != win.shape:
        got = dy.shape if isinstance(dy, np.ndarray) else type(dy).__name__
        raise ValueError(f"dy: expected shape (N, M, R / s, C / s) = {win.shape}, got {got}")
    dblocks = np.zeros(win.shape + (s * s,), dtype=dy.dtype)             # (N, M, R/s, C/s, s*s)
    np.put_along_axis(dblocks, win[..., None], dy[..., None], axis=-1)
    return (dblocks.reshape(N, M, R // s, C // s, s, s)
            .transpose(0, 1, 2, 4, 3, 5)
            .reshape(N, M, R, C))
