"""Chapter 1 helpers (``book/01_rnn.ipynb``): the all-ones toy network, memory
probes, training step by step against unrolled, and counting the work of a call.

The toy network is the small linear RNN that the source notes use to show
that a recurrent network has memory: ``D = 2`` inputs, ``H = 2`` hidden
units, ``K = 2`` outputs, every weight 1, no bias, linear units, started
from ``h_0 = 0``:

.. math::

    h_t &= U x_t + W h_{t-1}, \\\\
    o_t &= V h_t .

Two wirings of the recurrent matrix ``W`` (H, H) are compared:

* ``"full"``: every hidden unit reads *both* stored values,
  ``W = ones((2, 2))`` (the usual fully connected recurrence);
* ``"own"``: every hidden unit reads only its own stored value, ``W = I``.

All numerics go through :func:`rnnlib.rnn.rnn_forward` (``activation=
"linear"``) and :func:`rnnlib.affine.affine_forward`; this module only
builds the parameters and computes what the chapter shows; the diagrams
that draw the results are in :mod:`rnnlib.viz.diagrams`.

Source note [002] says that training on five data points in five rounds
with five updates equals unrolling and updating once:
:func:`train_round_by_round` and :func:`train_unrolled` run the two
procedures. :func:`count_multiply_adds` counts the matrix products of any
call (the chapter's check of "unrolling is more efficient" and "sharing
reduces computation", with no clock).
"""

from __future__ import annotations

import numpy as np

from rnnlib import _validate as V
from rnnlib.affine import affine_backward, affine_forward
from rnnlib.losses import mse_loss
from rnnlib.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

__all__ = [
    "WIRINGS",
    "toy_params",
    "toy_forward",
    "all_ones_example",
    "input_influence",
    "linear_jordan_delay_mse",
    "train_round_by_round",
    "train_unrolled",
    "count_multiply_adds",
]

#: cross weight (off-diagonal entry of ``W``) for each wiring of the toy net
WIRINGS = {"full": 1.0, "own": 0.0}



# --------------------------------------------------------------------------
# numerics
# --------------------------------------------------------------------------

def toy_params(u: float = 1.0, w_self: float = 1.0, w_cross: float = 1.0,
               v: float = 1.0, D: int = 2, H: int = 2, K: int = 2,
               dtype=np.float64) -> tuple[dict, dict]:
    """Parameters of the toy linear RNN with one value per weight group.

    .. math::

        U &= u \\mathbf{1}_{H \\times D}, \\quad V = v \\mathbf{1}_{K \\times H}, \\\\
        W &= w_\\text{self} I + w_\\text{cross} (\\mathbf{1} - I), \\\\
        b &= 0, \\quad c = 0,

    with ``1`` a matrix of ones and ``I`` the identity, both (H, H) in ``W``.

    ``u = w_self = w_cross = v = 1`` is the all-ones network with the fully
    connected recurrence; ``w_cross = 0`` lets each hidden unit read only its
    own stored value.

    Parameters
    ----------
    u, w_self, w_cross, v : float
        Input-to-hidden weight, recurrent weight of a unit onto itself,
        recurrent weight between different units, hidden-to-output weight.
    D, H, K : int
        Input, hidden and output sizes (2, 2, 2 in the source's example).
    dtype : float32 or float64

    Returns
    -------
    params_rnn : dict
        ``{"U": (H, D), "W": (H, H), "b": (H,)}`` for ``rnn_forward``.
    params_out : dict
        ``{"V": (K, H), "c": (K,)}`` for ``affine_forward``.
    """
    for name, value in (("u", u), ("w_self", w_self), ("w_cross", w_cross), ("v", v)):
        V.check_real(name, value)
    D = V.check_positive_int("D", D)
    H = V.check_positive_int("H", H)
    K = V.check_positive_int("K", K)
    dtype = np.dtype(dtype)
    if dtype.type not in V.FLOAT_DTYPES:
        raise TypeError(f"dtype: expected float32 or float64, got {dtype}")
    eye = np.eye(H, dtype=dtype)
    params_rnn = {
        "U": np.full((H, D), u, dtype=dtype),
        "W": (w_self * eye + w_cross * (1.0 - eye)).astype(dtype),
        "b": np.zeros(H, dtype=dtype),
    }
    params_out = {
        "V": np.full((K, H), v, dtype=dtype),
        "c": np.zeros(K, dtype=dtype),
    }
    return params_rnn, params_out


def _as_sequence(inputs, D: int | None = None) -> np.ndarray:
    """Turn a (T, D) list/array of numbers into a float64 array (1, T, D)."""
    try:
        arr = np.asarray(inputs, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"inputs: expected a (T, D) array or nested list of numbers, got "
            f"{V.describe(inputs)}") from err
    if arr.ndim != 2:
        raise ValueError(f"inputs: expected a 2-d array of shape (T, D), got shape {arr.shape}")
    if D is not None and arr.shape[1] != D:
        raise ValueError(f"inputs: expected shape (T, D) with D = {D}, got {arr.shape}")
    V.check_sequence("inputs", arr[None])
    return arr[None]


def toy_forward(inputs, params_rnn: dict, params_out: dict,
                h0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run one sequence through a linear RNN and its output layer.

    .. math::

        h_t &= U x_t + W h_{t-1} + b, \\\\
        o_t &= V h_t + c

    computed with ``rnn_forward(activation="linear")`` and ``affine_forward``.

    Parameters
    ----------
    inputs : array_like (T, D)
        One sequence (numbers, lists accepted; converted to float64).
    params_rnn : dict
        ``{"U": (H, D), "W": (H, H), "b": (H,)}`` in float64.
    params_out : dict
        ``{"V": (K, H), "c": (K,)}`` in float64.
    h0 : ndarray (H,), optional
        Initial state; zeros when omitted.

    Returns
    -------
    hidden : ndarray (T, H)
    outputs : ndarray (T, K)
    """
    if not isinstance(params_rnn, dict) or "U" not in params_rnn:
        raise TypeError(f"params_rnn: expected a dict with 'U', 'W', 'b', got "
                        f"{V.describe(params_rnn)}")
    H, D = np.shape(params_rnn["U"])
    x = _as_sequence(inputs, D)
    if h0 is None:
        h0 = np.zeros((1, H))
    else:
        h0 = V.check_float_array("h0", h0, ndim=1, shape_doc="(H,)", dtype=np.float64)
        V.check_shape("h0", h0, (H,), "(H,)")
        h0 = h0[None]
    h, _ = rnn_forward(x, h0, params_rnn, activation="linear")   # (1, T, H)
    o, _ = affine_forward(h, params_out)                          # (1, T, K)
    return h[0], o[0]


def all_ones_example(inputs=((1, 1), (1, 1), (2, 2)), wiring: str = "full"
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The all-ones linear RNN of the source notes under one wiring.

    Every weight is 1, there is no bias, the units are linear and
    ``h_0 = 0``; ``wiring`` chooses the recurrent matrix:
    ``"full"`` is ``W = ones((2, 2))`` (each hidden unit reads both stored
    values), ``"own"`` is ``W = I`` (each reads only its own). Each output is
    the sum of the two hidden units.

    Parameters
    ----------
    inputs : array_like (T, 2)
        The input sequence; default ``[1, 1], [1, 1], [2, 2]``.
    wiring : {"full", "own"}

    Returns
    -------
    hidden : ndarray (T, 2)
        ``[[2, 2], [6, 6], [16, 16]]`` (full) or ``[[2, 2], [4, 4], [8, 8]]``
        (own) for the default inputs.
    outputs : ndarray (T, 2)
        ``4, 12, 32`` (full) or ``4, 8, 16`` (own) in both columns.
    """
    V.check_choice("wiring", wiring, WIRINGS)
    params_rnn, params_out = toy_params(w_cross=WIRINGS[wiring])
    return toy_forward(inputs, params_rnn, params_out)


def input_influence(x: np.ndarray, h0: np.ndarray, params: dict,
                    perturbation: np.ndarray, step: int = 0,
                    activation: str = "tanh") -> np.ndarray:
    """How far every later hidden state moves when one input is nudged.

    .. math::

        d_t = \\lVert h_t(x + \\delta e_s) - h_t(x) \\rVert_2

    for ``t = 0, ..., T-1``, where ``e_s`` marks time step ``s = step`` and ``delta`` is
    ``perturbation``. Because ``h_t`` is also the last state of the prefix
    ``x[:, :t+1]``, one run of length ``T`` gives the effect on ``h_T`` for
    every sequence length at once. ``d_t = 0`` for ``t < step``.

    Parameters
    ----------
    x : ndarray (N, T, D)
    h0 : ndarray (N, H)
    params : dict
        ``{"U": (H, D), "W": (H, H), "b": (H,)}``.
    perturbation : ndarray (N, D)
        Added to ``x[:, step]``.
    step : int
        The perturbed time step (0-based).
    activation : {"tanh", "relu", "linear"}

    Returns
    -------
    d : ndarray (N, T)
        Euclidean distance between the two hidden-state trajectories.
    """
    x = V.check_sequence("x", x)
    N, T, D = x.shape
    perturbation = V.check_float_array("perturbation", perturbation, ndim=2,
                                       shape_doc="(N, D)", dtype=x.dtype)
    V.check_shape("perturbation", perturbation, (N, D), "(N, D)")
    step = V.check_positive_int("step", step, minimum=0)
    if step >= T:
        raise ValueError(f"step: expected an integer in [0, T-1] = [0, {T - 1}], got {step}")
    x_moved = x.copy()
    x_moved[:, step] += perturbation
    h, _ = rnn_forward(x, h0, params, activation=activation)          # (N, T, H)
    h_moved, _ = rnn_forward(x_moved, h0, params, activation=activation)
    return np.linalg.norm(h_moved - h, axis=-1)                        # (N, T)


def linear_jordan_delay_mse(a, beta, delay: int = 1):
    """Stationary MSE of a scalar linear recursion asked to repeat a past input.

    A linear Jordan network with one output,
    ``yhat_t = V(U x_t + W yhat_{t-1} + b) + c``, collapses (whatever its
    hidden size) to ``yhat_t = a x_t + beta yhat_{t-1} + d`` with
    ``a = V U`` and ``beta = V W``. Its impulse response is geometric,
    ``yhat_t = sum_k a beta^k x_{t-k}`` (plus a constant, zero at the optimum),
    so for i.i.d. inputs of zero mean and unit variance the mean squared
    error against the target ``x_{t - n}``, ``n = delay``, is

    .. math::

        & \\mathbb{E}(\\hat y_t - x_{t-n})^2 \\\\
        & \\quad = \\sum_k (a \\beta^k - [k = n])^2 \\\\
        & \\quad = \\frac{a^2}{1 - \\beta^2} - 2 a \\beta^{n} + 1

    for ``|beta| < 1``.

    Its minimum over ``a, beta`` is
    ``1 - (delay/(delay+1))**delay / (delay+1)`` (3/4 for delay 1), never 0.

    Parameters
    ----------
    a, beta : float or ndarray (broadcastable)
        ``|beta| < 1`` (otherwise the recursion has no stationary error).
    delay : int, >= 1

    Returns
    -------
    mse : float or ndarray
    """
    delay = V.check_positive_int("delay", delay)
    a = np.asarray(a, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    if not np.all(np.isfinite(a)) or not np.all(np.isfinite(beta)):
        raise ValueError("a, beta: expected finite values")
    if np.any(np.abs(beta) >= 1):
        raise ValueError(f"beta: expected |beta| < 1, got max |beta| = {np.abs(beta).max()}")
    mse = a ** 2 / (1.0 - beta ** 2) - 2.0 * a * beta ** delay + 1.0
    return float(mse) if mse.ndim == 0 else mse


# --------------------------------------------------------------------------
# training "round by round" against the unrolled network ([002])
# --------------------------------------------------------------------------

_TRAIN_KEYS = ("U", "W", "b", "V", "c")


def _check_training_inputs(x, y, params, out, lr):
    x = V.check_sequence("x", x)
    y = V.check_sequence("y", y)
    if y.shape[:2] != x.shape[:2]:
        raise ValueError(f"y: expected shape (N, T, K) with (N, T) = {x.shape[:2]}, "
                         f"got {y.shape}")
    lr = V.check_real("lr", lr)
    if not isinstance(params, dict) or not isinstance(out, dict):
        raise TypeError("params, out: expected the dicts of rnnlib.init_rnn and "
                        "rnnlib.init_affine")
    return x, y, lr


def train_round_by_round(x, y, params: dict, out: dict, lr: float
                         ) -> tuple[dict, list[dict]]:
    """Train one step at a time: a forward step, its loss, its gradient, an update.

    For ``t = 1, ..., T``, with the weights of round ``t``:

    .. math::

        h_t &= \\tanh(U x_t + W h_{t-1} + b), \\\\
        L_t &= \\operatorname{mse}(V h_t + c,\\, y_t), \\\\
        \\theta &\\leftarrow \\theta - \\eta\\, \\partial L_t / \\partial \\theta

    where ``h_{t-1}`` is the state the previous round computed, held fixed
    (a round cannot reach back into earlier rounds). This is the "one update
    per data point" procedure of source note [002]; compare
    :func:`train_unrolled`. Computed with ``rnn_step_forward``,
    ``rnn_step_backward``, ``affine_forward``, ``affine_backward`` and
    ``mse_loss``.

    Parameters
    ----------
    x : ndarray (N, T, D)
    y : ndarray (N, T, K), the targets
    params : dict ``U`` (H, D), ``W`` (H, H), ``b`` (H,)
    out : dict ``V`` (K, H), ``c`` (K,)
    lr : float, the learning rate ``eta``

    Returns
    -------
    trained : dict ``U``, ``W``, ``b``, ``V``, ``c`` after the T updates (new arrays)
    grads : list of T dicts with the same keys, the gradient of each round
    """
    x, y, lr = _check_training_inputs(x, y, params, out, lr)
    N, T, _ = x.shape
    theta = {k: np.array(v, copy=True) for k, v in {**params, **out}.items()}
    h_prev = np.zeros((N, theta["W"].shape[0]), dtype=x.dtype)        # (N, H)
    history = []
    for t in range(T):
        rnn_p = {k: theta[k] for k in ("U", "W", "b")}
        out_p = {k: theta[k] for k in ("V", "c")}
        h_t, step_cache = rnn_step_forward(x[:, t], h_prev, rnn_p)   # (N, H)
        o_t, out_cache = affine_forward(h_t[:, None], out_p)         # (N, 1, K)
        _, do = mse_loss(o_t, y[:, t:t + 1])                          # L_t
        dh, g_out = affine_backward(do, out_cache)                   # (N, 1, H)
        _, _, g_rnn = rnn_step_backward(dh[:, 0], step_cache)        # h_{t-1} fixed
        grads = {**g_rnn, **g_out}
        history.append(grads)
        for k in _TRAIN_KEYS:                                         # the update
            theta[k] = theta[k] - lr * grads[k]
        h_prev = h_t
    return theta, history


def train_unrolled(x, y, params: dict, out: dict, lr: float) -> tuple[dict, dict]:
    """Unroll over the whole sequence, backpropagate through time, update once.

    .. math::

        L &= \\sum_{t=1}^{T} \\operatorname{mse}(V h_t + c,\\, y_t), \\\\
        \\theta &\\leftarrow \\theta - \\eta\\, \\partial L / \\partial \\theta

    with every ``h_t`` computed by ``rnn_forward`` at the same weights and
    ``dL/dtheta`` by ``rnn_backward`` (the loss is the sum of the per-step
    losses of :func:`train_round_by_round`).

    Parameters
    ----------
    x : ndarray (N, T, D)
    y : ndarray (N, T, K)
    params : dict ``U`` (H, D), ``W`` (H, H), ``b`` (H,)
    out : dict ``V`` (K, H), ``c`` (K,)
    lr : float

    Returns
    -------
    trained : dict ``U``, ``W``, ``b``, ``V``, ``c`` after the one update
    grads : dict, the gradient of the summed loss at the initial weights
    """
    x, y, lr = _check_training_inputs(x, y, params, out, lr)
    T = x.shape[1]
    h, cache = rnn_forward(x, None, params)                          # (N, T, H)
    o, out_cache = affine_forward(h, out)                            # (N, T, K)
    _, do = mse_loss(o, y)               # the mean over all T steps ...
    do = T * do                          # ... times T: the sum of per-step means
    dh, g_out = affine_backward(do, out_cache)
    _, _, g_rnn = rnn_backward(dh, cache)
    grads = {**g_rnn, **g_out}
    theta = {k: np.asarray(v) - lr * grads[k] for k, v in {**params, **out}.items()}
    return theta, grads


# --------------------------------------------------------------------------
# counting the work of a computation
# --------------------------------------------------------------------------

_TALLIES: list[dict] = []


def _matmul_macs(a_shape, b_shape) -> int:
    """Multiply-adds of ``a @ b`` (numpy's matmul broadcasting rules)."""
    if len(a_shape) == 1 and len(b_shape) == 1:
        return int(a_shape[0])
    if len(a_shape) == 1:
        a_shape = (1,) + tuple(a_shape)
    if len(b_shape) == 1:
        b_shape = tuple(b_shape) + (1,)
    batch = np.broadcast_shapes(tuple(a_shape[:-2]), tuple(b_shape[:-2]))
    return int(np.prod(batch, dtype=np.int64)) * a_shape[-2] * a_shape[-1] * b_shape[-1]


class _Counted(np.ndarray):
    """An ndarray view that adds the cost of every matrix product to the open tally.

    Results of operations on it are ``_Counted`` too, so the products of
    intermediate arrays are counted as well.
    """

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        args = [a.view(np.ndarray) if isinstance(a, _Counted) else a for a in inputs]
        if out is not None:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, _Counted) else o
                                  for o in out)
        if ufunc is np.matmul and method == "__call__" and _TALLIES:
            a, b = (np.shape(v) for v in args[:2])
            _TALLIES[-1]["products"] += 1
            _TALLIES[-1]["multiply_adds"] += _matmul_macs(a, b)
        result = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        if isinstance(result, np.ndarray):
            return result.view(_Counted)
        if isinstance(result, tuple):
            return tuple(r.view(_Counted) if isinstance(r, np.ndarray) else r
                         for r in result)
        return result


def _counted(value):
    if isinstance(value, np.ndarray) and not isinstance(value, _Counted):
        return value.view(_Counted)
    if isinstance(value, dict):
        return {k: _counted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_counted(v) for v in value)
    return value


def count_multiply_adds(fn, *args, **kwargs) -> dict:
    """Run ``fn(*args, **kwargs)`` and count its matrix products.

    Every array in ``args`` and ``kwargs`` (also inside dicts, lists and
    tuples) is passed as a counting view; each matrix product ``a @ b``
    (``np.matmul``) that touches one of them, or an array computed from
    one, adds ``prod(batch) * n * k * m`` multiply-adds for an
    ``(..., n, k) @ (..., k, m)`` product. Elementwise work (``tanh``,
    additions) is not counted: the matrix products dominate.

    Parameters
    ----------
    fn : callable
    *args, **kwargs : its arguments

    Returns
    -------
    work : dict
        ``{"multiply_adds": int, "products": int}``: the multiply-adds of all
        matrix products and how many products there were.
    """
    if not callable(fn):
        raise TypeError(f"fn: expected a callable, got {type(fn).__name__}")
    _TALLIES.append({"multiply_adds": 0, "products": 0})
    try:
        fn(*_counted(args), **_counted(kwargs))
    finally:
        tally = _TALLIES.pop()
    return tally
