"""Embedding layer: token ids to vectors, and its backward pass.

An embedding is a lookup table ``E`` of shape (K, D): row ``k`` is the
vector of token ``k``. Looking a row up is the same as multiplying a one-hot
vector by ``E``, so the layer is a linear layer whose input is one-hot,
computed without building the one-hot matrix.
"""

from __future__ import annotations

import numpy as np

from ._validate import (describe, check_float_array, check_params,
                        check_positive_int, check_real, check_rng, check_shape)

__all__ = ["embedding_forward", "embedding_backward", "init_embedding", "check_ids"]


def check_ids(name: str, ids, K: int, ndim: int | None = 2,
              shape_doc: str = "(N, T)") -> np.ndarray:
    """Check an integer id array with values in ``[0, K)`` and return it.

    Raises ``TypeError`` for a non-integer array (floats, booleans, lists) and
    ``ValueError`` for a wrong rank, an empty array or an id out of range.
    """
    if not isinstance(ids, np.ndarray):
        raise TypeError(f"{name}: expected an integer numpy array of shape {shape_doc}, "
                        f"got {describe(ids)}")
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected an integer array of token ids, got dtype {ids.dtype}")
    if ndim is not None and ids.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array of shape {shape_doc}, "
                         f"got shape {ids.shape}")
    if ids.size == 0:
        raise ValueError(f"{name}: expected a non-empty array {shape_doc}, got shape {ids.shape}")
    lo, hi = int(ids.min()), int(ids.max())
    if lo < 0 or hi >= K:
        bad = lo if lo < 0 else hi
        raise ValueError(f"{name}: expected ids in [0, {K - 1}] (K = {K} rows), got {bad}")
    return ids


def init_embedding(K: int, D: int, rng: np.random.Generator, scale: float = 1.0,
                   dtype=np.float64) -> dict:
    """A random embedding table with entries drawn from N(0, scale^2).

    ``scale=1`` is ``torch.nn.Embedding``'s initialisation.

    Parameters
    ----------
    K : int, vocabulary size.
    D : int, vector size.
    rng : np.random.Generator.
    scale : float > 0, standard deviation of the entries.
    dtype : float32 or float64.

    Returns
    -------
    params : ``{"E": (K, D)}``.
    """
    K = check_positive_int("K", K)
    D = check_positive_int("D", D)
    rng = check_rng(rng)
    scale = check_real("scale", scale, minimum=0.0, strict_min=True)
    return {"E": (scale * rng.standard_normal((K, D))).astype(dtype)}


def embedding_forward(ids: np.ndarray, params: dict):
    """Look up the vector of every token id.

    .. math::  x_{n,t} = E_{\\mathrm{ids}_{n,t}} = \\mathrm{onehot}(\\mathrm{ids}_{n,t})^\\top E

    Parameters
    ----------
    ids : (N, T) integer array with values in [0, K).
    params : ``{"E": (K, D)}``.

    Returns
    -------
    x : (N, T, D) array (a new array, not a view of ``E``).
    cache : dict for :func:`embedding_backward`.
    """
    if not isinstance(params, dict) or "E" not in params:
        raise TypeError(f"params: expected a dict {{'E': (K, D) array}}, got {describe(params)}")
    E = check_float_array("params['E']", params["E"], ndim=2, shape_doc="(K, D)")
    check_params(params, {"E": (E.shape, "(K, D)")}, E.dtype)
    K, D = E.shape
    ids = check_ids("ids", ids, K)
    x = E[ids]                                              # (N, T, D), fancy indexing copies
    cache = {"ids": ids.copy(), "E_shape": E.shape, "dtype": E.dtype}
    return x, cache


def embedding_backward(dx: np.ndarray, cache: dict) -> dict:
    """Backward pass of :func:`embedding_forward`.

    .. math::  \\frac{\\partial L}{\\partial E_k} = \\sum_{(n,t):\\ \\mathrm{ids}_{n,t} = k}
               \\frac{\\partial L}{\\partial x_{n,t}}

    A token that occurs several times collects the sum of its gradients
    (``np.add.at``: plain fancy-index assignment ``dE[ids] += dx`` would keep
    only one of them). Rows of tokens that do not occur get zeros.

    Parameters
    ----------
    dx : (N, T, D) array.
    cache : from :func:`embedding_forward`.

    Returns
    -------
    grads : ``{"E": (K, D)}``.
    """
    ids = cache["ids"]
    K, D = cache["E_shape"]
    N, T = ids.shape
    dx = check_float_array("dx", dx, ndim=3, shape_doc="(N, T, D)")
    check_shape("dx", dx, (N, T, D), "(N, T, D)")
    dE = np.zeros((K, D), dtype=cache["dtype"])
    np.add.at(dE, ids.ravel(), dx.reshape(N * T, D))        # scatter-add rows of (N*T, D)
    return {"E": dE}
