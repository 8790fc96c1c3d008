"""How gradients travel backward through time in an Elman RNN (chapter 3).

For ``h_t = f(a_t)``, ``a_t = U x_t + W h_{t-1} + b`` the Jacobian of one
step with respect to the previous state is

.. math::  J_t = \\frac{\\partial h_t}{\\partial h_{t-1}}
           = \\mathrm{diag}(f'(a_t))\\, W,

an (H, H) matrix,

and the Jacobian from step ``k`` to step ``T`` is the ordered product

.. math::  \\frac{\\partial h_T}{\\partial h_k} = J_T J_{T-1} \\cdots J_{k+1}.

Time is counted as in the book: ``h_0`` is the initial state and
``h_1 .. h_T`` are the states the forward pass returns, so the array entry
``h[:, t-1]`` is ``h_t`` and ``J[:, t-1]`` is ``J_t``. With ``k = 0`` the
product is the Jacobian of the last state with respect to the initial one,
``dh_T/dh_0``, which is what ``rnn_backward`` applies (transposed) to an
upstream gradient that enters at the last step only.

Since ``||diag(f'(a))|| <= gamma`` (gamma = 1 for tanh and ReLU, 1/4 for the
sigmoid), every factor has norm at most ``gamma * sigma_max(W)`` and

.. math::  \\left\\| \\frac{\\partial h_T}{\\partial h_k} \\right\\|_2
           \\le (\\gamma\\, \\sigma_{\\max}(W))^{T-k}

(Pascanu et al. 2013): ``sigma_max(W) < 1/gamma`` is *sufficient* for the
gradient to vanish exponentially, ``sigma_max(W) > 1/gamma`` is only
*necessary* for it to explode.

The functions here take the ``cache`` of :func:`rnnlib.rnn.rnn_forward`
(or its ``cache["trace"]``, or any dict holding the pre-activations ``"a"``
(N, T, H)) and never run a forward pass themselves. Masked (padded) steps
are not treated specially: pass unpadded sequences.

A generic helper also lives here because no other module needs it yet:
:func:`diagonal_scalar_rnn_params`, which packs a grid of one-unit RNNs into
one diagonal RNN so that a whole loss surface is one ``rnn_forward`` call.
"""

from __future__ import annotations

import numpy as np

from rnnlib._validate import check_choice, check_float_array, check_params, check_shape
from rnnlib.activations import ACTIVATIONS

__all__ = ["GAMMA", "step_jacobians", "jacobian_product", "jacobian_products",
           "gradient_norm_vs_lag", "gradient_norm_vs_length",
           "largest_singular_value", "spectral_radius",
           "jacobian_bound", "diagonal_scalar_rnn_params"]

#: Upper bound of ``|f'|`` for each activation: the ``gamma`` of Pascanu et al.
GAMMA = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0, "linear": 1.0}


def _preactivations(cache) -> np.ndarray:
    """Pull ``a`` (N, T, H) out of a forward cache, a trace, or a dict with "a"."""
    if not isinstance(cache, dict):
        raise TypeError(
            "cache: expected the cache dict of rnn_forward (or its cache['trace']), "
            f"got {type(cache).__name__}")
    trace = cache.get("trace", cache)
    if not isinstance(trace, dict) or "a" not in trace:
        raise ValueError(
            "cache: expected a dict holding the pre-activations 'a' (N, T, H), "
            f"directly or under 'trace'; got keys {sorted(cache)}")
    return check_float_array("cache['trace']['a']", trace["a"], ndim=3,
                             shape_doc="(N, T, H)")


def step_jacobians(cache, params, activation: str | None = None) -> np.ndarray:
    """One-step Jacobians ``J_t = diag(f'(a_t)) W`` of an Elman RNN.

    .. math::  (J_t)_{ij} = \\frac{\\partial h_{t,i}}{\\partial h_{t-1,j}}
               = f'(a_{t,i})\\, W_{ij}

    At a masked (padding) step of an ``rnn_forward`` cache the state is
    carried over, ``h_t = h_{t-1}``, so there ``J_t = I``.

    Parameters
    ----------
    cache : dict
        The cache of ``rnn_forward`` (uses ``cache["trace"]["a"]`` and, if
        present, its mask and activation), the trace itself, or any dict
        with ``"a"`` (N, T, H), the pre-activations
        ``a_t = U x_t + W h_{t-1} + b``.
    params : dict with ``"W"`` (H, H) (other keys are ignored).
    activation : "tanh", "relu", "linear", "sigmoid" or None
        The activation ``f`` of the forward pass; None takes
        ``cache["activation"]`` (an ``rnn_forward`` cache has it).

    Returns
    -------
    J : ndarray (N, T, H, H); ``J[n, t-1]`` is ``dh_t/dh_{t-1}`` for sample n.
    """
    a = _preactivations(cache)
    N, T, H = a.shape
    if activation is None:
        if "activation" not in cache:
            raise ValueError("activation: expected a name when the cache does not record one, got None")
        activation = cache["activation"]
    check_choice("activation", activation, set(ACTIVATIONS))
    if not isinstance(params, dict) or "W" not in params:
        raise ValueError("params: expected a dict with the recurrent matrix 'W' (H, H)")
    W = check_params({"W": params["W"]}, {"W": ((H, H), "(H, H)")}, a.dtype)["W"]
    fprime = ACTIVATIONS[activation][1](a)              # (N, T, H)
    J = fprime[..., :, None] * W                        # (N, T, H, H): row i scaled by f'(a_i)
    M = cache.get("M") if "trace" in cache else None    # (T, N, 1) time-major, or None
    if M is not None:
        m = M[:, :, 0].T[:, :, None, None]              # (N, T, 1, 1)
        J = m * J + (1 - m) * np.eye(H, dtype=a.dtype)  # padding: identity
    return J


def _check_jacobians(J) -> np.ndarray:
    J = check_float_array("J", J, ndim=4, shape_doc="(N, T, H, H)")
    if J.shape[2] != J.shape[3]:
        raise ValueError(f"J: expected square (H, H) blocks, shape (N, T, H, H); got {J.shape}")
    return J


def jacobian_product(J, k: int, T: int | None = None) -> np.ndarray:
    """The Jacobian ``dh_T/dh_k = J_T J_{T-1} ... J_{k+1}`` for each sample.

    Parameters
    ----------
    J : ndarray (N, T_total, H, H), from :func:`step_jacobians`.
    k : int, 0 <= k <= T (k = 0 is the initial state ``h_0``; k = T gives I).
    T : int or None, 1 <= T <= T_total (None: the last step, ``T_total``).

    Returns
    -------
    P : ndarray (N, H, H)
    """
    J = _check_jacobians(J)
    N, T_total, H, _ = J.shape
    T = T_total if T is None else T
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or not 1 <= T <= T_total:
        raise ValueError(f"T: expected an integer in [1, {T_total}], got {T!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= T:
        raise ValueError(f"k: expected an integer in [0, T={T}], got {k!r}")
    P = np.broadcast_to(np.eye(H, dtype=J.dtype), (N, H, H)).copy()
    for t in range(k + 1, T + 1):                        # multiply J_t on the left
        P = J[:, t - 1] @ P
    return P


def jacobian_products(J) -> np.ndarray:
    """All ``dh_T/dh_k`` for k = 0 .. T-1 in one backward sweep.

    .. math::  P_{T-1} = J_T, \\qquad P_{k-1} = P_k J_k

    Parameters
    ----------
    J : ndarray (N, T, H, H), from :func:`step_jacobians`.

    Returns
    -------
    P : ndarray (N, T, H, H); ``P[:, k]`` is ``dh_T/dh_k`` (lag ``T - k``).
    """
    J = _check_jacobians(J)
    N, T, H, _ = J.shape
    P = np.empty_like(J)
    P[:, T - 1] = J[:, T - 1]
    for k in range(T - 1, 0, -1):                        # extend one step further back
        P[:, k - 1] = P[:, k] @ J[:, k - 1]
    return P


def gradient_norm_vs_lag(cache, params, activation: str | None = None,
                         ord: int | str = 2) -> np.ndarray:
    """Norms ``||dh_T/dh_k||`` for k = 0 .. T-1, per sample.

    Parameters
    ----------
    cache : dict, as for :func:`step_jacobians`.
    params : dict with ``"W"`` (H, H).
    activation : str or None, the forward pass's activation (None: from the cache).
    ord : 2 (spectral norm, the largest singular value) or "fro" (Frobenius).

    Returns
    -------
    norms : ndarray (N, T); ``norms[:, k]`` belongs to lag ``T - k``, so
        ``norms[:, ::-1]`` is ordered by lag 1 .. T.
    """
    if ord not in (2, "fro"):
        raise ValueError(f"ord: expected 2 or 'fro', got {ord!r}")
    P = jacobian_products(step_jacobians(cache, params, activation))
    return np.linalg.norm(P, ord=ord, axis=(-2, -1))


def gradient_norm_vs_length(cache, params, lengths, activation: str | None = None,
                            ord: int | str = 2) -> np.ndarray:
    """Norms ``||dh_T/dh_0||`` for several sequence lengths T, from one forward pass.

    The product ``dh_T/dh_0 = J_T ... J_1`` is built forward, one step at a
    time, and its norm taken only at the requested lengths, so one run of
    length ``max(lengths)`` answers every shorter length (the first T steps
    of a longer sequence are a sequence of length T).

    .. math::  P_0 = I, \\qquad P_T = J_T P_{T-1}

    Parameters
    ----------
    cache : dict, as for :func:`step_jacobians` (a forward pass of length T_total).
    params : dict with ``"W"`` (H, H).
    lengths : sequence of int, each in [1, T_total].
    activation : str or None, the forward pass's activation (None: from the cache).
    ord : 2 (spectral norm) or "fro" (Frobenius).

    Returns
    -------
    norms : ndarray (N, len(lengths)); ``norms[:, i]`` is ``||dh_T/dh_0||``
        for ``T = lengths[i]``.
    """
    if ord not in (2, "fro"):
        raise ValueError(f"ord: expected 2 or 'fro', got {ord!r}")
    J = step_jacobians(cache, params, activation)
    N, T_total, H, _ = J.shape
    lengths = [int(T) for T in np.atleast_1d(lengths)]
    if not lengths or min(lengths) < 1 or max(lengths) > T_total:
        raise ValueError(f"lengths: expected integers in [1, {T_total}], got {lengths}")
    wanted = set(lengths)
    P = np.broadcast_to(np.eye(H, dtype=J.dtype), (N, H, H)).copy()
    found = {}
    for t in range(1, max(lengths) + 1):                 # multiply J_t on the left
        P = J[:, t - 1] @ P
        if t in wanted:
            found[t] = np.linalg.norm(P, ord=ord, axis=(-2, -1))
    return np.stack([found[T] for T in lengths], axis=1)


def largest_singular_value(W) -> float:
    """``sigma_max(W)``: the spectral norm, ``max ||W v|| / ||v||`` over v != 0.

    Parameters
    ----------
    W : ndarray (H, H)
    """
    W = check_float_array("W", W, ndim=2, shape_doc="(H, H)")
    return float(np.linalg.norm(W, 2))


def spectral_radius(W) -> float:
    """``rho(W) = max_i |lambda_i(W)|``, the largest eigenvalue modulus.

    Always ``rho(W) <= sigma_max(W)``, with equality for normal matrices
    (symmetric, orthogonal, ...); for non-normal ones the gap can be large.

    Parameters
    ----------
    W : ndarray (H, H)
    """
    W = check_float_array("W", W, ndim=2, shape_doc="(H, H)")
    check_shape("W", W, (W.shape[0], W.shape[0]), "(H, H)")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def jacobian_bound(W, activation: str, lags) -> np.ndarray:
    """The bound ``(gamma * sigma_max(W)) ** lag`` on ``||dh_T/dh_{T-lag}||_2``.

    Parameters
    ----------
    W : ndarray (H, H)
    activation : "tanh", "relu", "linear" or "sigmoid" (gamma from :data:`GAMMA`).
    lags : array-like of non-negative numbers.

    Returns
    -------
    ndarray, shaped like ``lags``.
    """
    check_choice("activation", activation, set(GAMMA))
    lags = np.asarray(lags, dtype=np.float64)
    if np.any(lags < 0):
        raise ValueError("lags: expected non-negative lags")
    return (GAMMA[activation] * largest_singular_value(W)) ** lags


def diagonal_scalar_rnn_params(w, u, b) -> dict:
    """Pack G one-unit RNNs ``h_t = f(w_g h_{t-1} + u_g x_t + b_g)`` into one RNN.

    The packed RNN has H = G hidden units, ``W = diag(w)``, ``U = u[:, None]``
    (input size D = 1) and ``b``; its units never interact, so unit g of one
    ``rnn_forward`` call is exactly the g-th scalar RNN. This turns a grid of
    parameter values (a loss surface) into one forward pass.

    Parameters
    ----------
    w, u, b : ndarrays (G,), float, the same dtype (or broadcastable to (G,)).

    Returns
    -------
    dict with ``U`` (G, 1), ``W`` (G, G), ``b`` (G,).
    """
    w, u, b = (np.asarray(v) for v in (w, u, b))
    for name, v in (("w", w), ("u", u), ("b", b)):
        if v.dtype.kind != "f":
            raise TypeError(f"{name}: expected a float array, got dtype {v.dtype}")
    w, u, b = np.broadcast_arrays(w, u, b)
    if w.ndim != 1:
        raise ValueError(f"w, u, b: expected 1-d arrays (G,), got shape {w.shape}")
    dtype = np.result_type(w, u, b)
    return {"U": u.astype(dtype)[:, None].copy(),
            "W": np.diag(w.astype(dtype)),
            "b": b.astype(dtype).copy()}
