"""Activation functions and their derivatives, numerically stable.

Every function takes and returns arrays of the same shape and dtype. The
derivatives are written as functions of the *input* ``x`` (the
pre-activation), so ``tanh_derivative(a)`` is d tanh(a) / da.

None of them overflows or warns at ``|x| = 1000`` (or anywhere on the float
line): the sigmoid never calls ``exp`` on a positive number, softmax and
log-softmax subtract the row maximum before exponentiating (log-sum-exp).

``ACTIVATIONS`` maps a name to ``(function, derivative)``:
``"tanh"``, ``"relu"``, ``"linear"`` (identity) and ``"sigmoid"``. The
recurrent cells use the same table through :func:`apply_activation`
(optionally into an ``out=`` buffer) and :func:`activation_backward`
(``g * f'(a)``, computed from the stored output where that is cheaper:
``1 - y^2`` for tanh, ``y (1 - y)`` for the sigmoid).

Softmax and log-softmax map a vector to a vector, so their derivative is a
Jacobian: ``softmax_jacobian(x)`` returns it whole (for teaching and
checking), and ``softmax_backward`` / ``log_softmax_backward`` apply its
transpose to an upstream gradient without forming it (what a backward pass
uses).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "sigmoid", "tanh", "relu", "identity", "softmax", "log_softmax",
    "sigmoid_derivative", "tanh_derivative", "relu_derivative",
    "identity_derivative", "softmax_jacobian", "softmax_backward",
    "log_softmax_backward", "ACTIVATIONS", "apply_activation", "activation_backward",
]


def sigmoid(x):
    """Logistic sigmoid, stable for any finite input.

    .. math:: \\sigma(x) = 1 / (1 + e^{-x})

    For x >= 0 this formula is used as is (``exp(-x) <= 1``); for x < 0 the
    equal form ``e^x / (1 + e^x)`` is used, so ``exp`` never sees a positive
    argument and cannot overflow. Values lie in [0, 1] (in floating point
    they round to exactly 0 or 1 far out, e.g. sigmoid(1000) == 1.0).

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    ndarray, same shape and dtype as ``x``
    """
    x = np.asarray(x)
    e = np.exp(-np.abs(x))                     # in (0, 1], never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def tanh(x):
    """Hyperbolic tangent, ``(e^x - e^-x) / (e^x + e^-x)``, values in (-1, 1)."""
    return np.tanh(x)


def relu(x):
    """Rectified linear unit, ``max(0, x)``."""
    x = np.asarray(x)
    return np.maximum(x, 0).astype(x.dtype, copy=False)


def identity(x):
    """The identity ("linear" activation): returns ``x`` unchanged (a copy)."""
    return np.array(x, copy=True)


def sigmoid_derivative(x):
    """Derivative of the sigmoid at ``x``: ``sigma(x) * (1 - sigma(x))``, in (0, 1/4]."""
    s = sigmoid(x)
    return s * (1 - s)


def tanh_derivative(x):
    """Derivative of tanh at ``x``: ``1 - tanh(x)**2``, in (0, 1]."""
    t = np.tanh(x)
    return 1 - t * t


def relu_derivative(x):
    """Derivative of ReLU at ``x``: 1 where x > 0, 0 where x <= 0.

    ReLU has no derivative at exactly 0; we use 0 there (the left
    derivative, the same choice as PyTorch's autograd), so a unit whose
    pre-activation is exactly 0 passes no gradient.
    """
    x = np.asarray(x)
    return (x > 0).astype(x.dtype if x.dtype.kind == "f" else np.float64)


def identity_derivative(x):
    """Derivative of the identity: ones shaped like ``x``."""
    x = np.asarray(x)
    return np.ones_like(x, dtype=x.dtype if x.dtype.kind == "f" else np.float64)


def softmax(x, axis=-1):
    """Softmax along ``axis``, by log-sum-exp.

    .. math::

        \\mathrm{softmax}(x)_k &= \\frac{e^{x_k - m}}{\\sum_j e^{x_j - m}}, \\\\
        m &= \\max_j x_j

    Subtracting the maximum changes nothing mathematically and keeps every
    exponent <= 0, so nothing overflows; the largest entry contributes
    ``e^0 = 1`` so the denominator is never 0.
    """
    x = np.asarray(x)
    z = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """Log of the softmax along ``axis``, computed without forming the softmax.

    .. math::

        \\log \\mathrm{softmax}(x)_k &= (x_k - m) \\\\
        &\\quad {} - \\log \\sum_j e^{x_j - m}, \\\\
        m &= \\max_j x_j

    Exact in floating point even where the softmax itself underflows to 0
    (then this returns a large negative number, not ``-inf``).
    """
    x = np.asarray(x)
    z = x - np.max(x, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def softmax_jacobian(x):
    """Jacobian of the softmax of each row of ``x`` (softmax over the last axis).

    .. math::

        \\frac{\\partial s_i}{\\partial x_j} &= s_i (\\delta_{ij} - s_j), \\\\
        s &= \\mathrm{softmax}(x)

    Parameters
    ----------
    x : ndarray (..., K)

    Returns
    -------
    J : ndarray (..., K, K), ``J[..., i, j] = d s_i / d x_j``; symmetric.
    """
    s = softmax(x, axis=-1)
    return s[..., :, None] * (np.eye(s.shape[-1], dtype=s.dtype) - s[..., None, :])


def softmax_backward(dy, y, axis=-1):
    """Gradient through ``y = softmax(x)``: the Jacobian applied to ``dy``.

    .. math:: \\frac{\\partial L}{\\partial x} = y \\odot \\Big(\\frac{\\partial L}{\\partial y}
              - \\sum_k \\frac{\\partial L}{\\partial y_k} y_k\\Big)

    Parameters
    ----------
    dy : ndarray, upstream gradient dL/dy, same shape as ``y``
    y : ndarray, the softmax output (not its input)
    axis : the softmax axis

    Returns
    -------
    dx : ndarray, same shape as ``y``
    """
    y = np.asarray(y)
    return y * (dy - np.sum(dy * y, axis=axis, keepdims=True))


def log_softmax_backward(dy, logp, axis=-1):
    """Gradient through ``logp = log_softmax(x)``.

    .. math:: \\frac{\\partial L}{\\partial x} = \\frac{\\partial L}{\\partial \\ell}
              - \\mathrm{softmax}(x) \\sum_k \\frac{\\partial L}{\\partial \\ell_k}

    With ``dy = -onehot(y)`` (the cross-entropy of a target ``y``) this is
    the familiar ``softmax(x) - onehot(y)``.

    Parameters
    ----------
    dy : ndarray, upstream gradient dL/dlogp, same shape as ``logp``
    logp : ndarray, the log-softmax output
    axis : the softmax axis

    Returns
    -------
    dx : ndarray, same shape as ``logp``
    """
    logp = np.asarray(logp)
    return dy - np.exp(logp) * np.sum(dy, axis=axis, keepdims=True)


ACTIVATIONS = {
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "linear": (identity, identity_derivative),
    "sigmoid": (sigmoid, sigmoid_derivative),
}


# the derivative written with the function's output y = f(a), where that is
# cheaper than recomputing it from a (same values: tested)
_DERIVATIVE_FROM_OUTPUT = {
    "tanh": lambda a, y: 1 - y * y,
    "sigmoid": lambda a, y: y * (1 - y),
}


def _sigmoid_into(a, out):
    """sigma(a) = 0.5 tanh(a / 2) + 0.5 into ``out`` (stable everywhere; one
    transcendental call, no branch; equal to :func:`sigmoid` to about 1e-16)."""
    np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


# the same functions as ACTIVATIONS, written into an out= buffer
_INTO = {
    "tanh": lambda a, out: np.tanh(a, out=out),
    "relu": lambda a, out: np.maximum(a, 0, out=out),
    "sigmoid": _sigmoid_into,
}


def apply_activation(name: str, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``f(a)`` for the activation ``name`` of ``ACTIVATIONS``, into ``out`` if given.

    Parameters
    ----------
    name : a key of ``ACTIVATIONS``.
    a : ndarray, the pre-activation.
    out : ndarray like ``a``, or None (a new array).

    Returns
    -------
    ndarray like ``a`` (``out`` when given).
    """
    if out is None:
        return ACTIVATIONS[name][0](a)
    into = _INTO.get(name)
    if into is not None:
        return into(a, out)                     # the same function, no temporary
    out[...] = ACTIVATIONS[name][0](a)
    return out


def activation_backward(name: str, g: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``g * f'(a)``: the gradient ``g`` on ``y = f(a)`` carried back to ``a``.

    Parameters
    ----------
    name : a key of ``ACTIVATIONS``.
    g : ndarray, gradient on the output, shape of ``a`` (or broadcastable to it).
    a, y : ndarrays, the pre-activation and the output ``f(a)``.

    Returns
    -------
    ndarray, a new array (``g`` is not modified).
    """
    from_output = _DERIVATIVE_FROM_OUTPUT.get(name)
    if from_output is not None:
        return g * from_output(a, y)
    return g * ACTIVATIONS[name][1](a)
