"""Gradient checks: central differences against an analytic backward pass.

Three functions, used by the tests and the chapters alike:

* :func:`numerical_gradient` -- central differences of a scalar function;
* :func:`rel_error` -- one relative error for a whole array;
* :func:`check_gradients` -- check every gradient of a forward/backward
  pair in one call.

How a check works: pick a random upstream gradient ``g`` for the outputs
and consider the scalar ``L = sum(out * g)``. The backward pass, fed ``g``,
returns dL/d(every input and parameter). Central differences compute the
same derivatives one entry at a time, ``(L(θ + h) - L(θ - h)) / 2h``, with
an error of order h² (truncation) + ``eps·|L|/h`` (rounding): with float64 and
h = 1e-6 both are around 1e-10 relative, so a correct backward pass gives
relative errors far below the 1e-7 the tests ask for, and a wrong one gives
errors near 1. Use float64; float32 cannot resolve such small differences.

Example
-------
>>> import numpy as np
>>> from rnnlib import rnn_forward, rnn_backward, init_rnn
>>> from rnnlib.gradcheck import check_gradients
>>> rng = np.random.default_rng(0)
>>> x = rng.standard_normal((3, 5, 4)); h0 = rng.standard_normal((3, 7))
>>> params = init_rnn(4, 7, rng)
>>> errors = check_gradients(rnn_forward, rnn_backward,
...                          {"x": x, "h0": h0}, params, rng)
>>> sorted(errors)
['U', 'W', 'b', 'h0', 'x']
>>> max(errors.values()) < 1e-7
True

Options such as ``activation``, ``mask`` or ``truncate`` go in through
``forward_kwargs`` / ``backward_kwargs``; a pair whose signatures differ
from the convention below is wrapped in two lambdas, e.g. the LSTM, whose
backward takes ``dc`` as a keyword::

    check_gradients(lstm_forward,
                    lambda dh, dc, cache: lstm_backward(dh, cache, dc=dc),
                    {"x": x, "h0": h0, "c0": c0}, params, rng)
"""

from __future__ import annotations

import numpy as np

from ._validate import check_float_array, check_rng

__all__ = ["numerical_gradient", "rel_error", "check_gradients"]


def numerical_gradient(f, x, h=1e-6):
    """Central-difference gradient of a scalar function ``f()`` with respect to ``x``.

    .. math:: \\frac{\\partial f}{\\partial x_i} \\approx
              \\frac{f(x + h e_i) - f(x - h e_i)}{2h}

    ``x`` is edited in place, one entry at a time, and restored exactly
    afterwards (also if ``f`` raises); ``f`` takes no arguments and reads
    ``x`` itself (a closure over it).

    Parameters
    ----------
    f : callable() -> float
    x : ndarray, any shape, float (float64 for meaningful results)
    h : float, step

    Returns
    -------
    ndarray, shape of ``x``: the gradient estimate.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x: expected a float numpy array, got "
                        f"{type(x).__name__}{'' if not isinstance(x, np.ndarray) else ' of dtype ' + str(x.dtype)}")
    if not (isinstance(h, (float, int)) and not isinstance(h, bool) and h > 0):
        raise ValueError(f"h: expected a positive step, got {h!r}")
    grad = np.zeros(x.shape, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        try:
            x[i] = old + h
            fp = float(f())
            x[i] = old - h
            fm = float(f())
        finally:
            x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


def rel_error(a, b):
    """Relative error of two arrays: ``max |a - b| / max(|a| + |b|)``.

    One number for the whole array, scaled by its largest entries, so tiny
    entries (where any finite-difference estimate is noise) cannot inflate
    it. Two all-zero arrays give 0. Shapes must match.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"b: expected the shape of a {a.shape}, got {b.shape}")
    if a.size == 0:
        return 0.0
    num = float(np.max(np.abs(a - b)))
    den = float(np.max(np.abs(a) + np.abs(b)))
    return num / max(den, np.finfo(np.float64).tiny)


def _as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def check_gradients(forward, backward, inputs, params, rng, h=1e-6,
                    forward_kwargs=None, backward_kwargs=None, mask=None):
    """Check every gradient of a forward/backward pair; return relative errors.

    The pair must follow rnnlib's convention (as ``rnn_forward`` /
    ``rnn_backward`` do)::

        *outputs, cache = forward(**inputs, params=params, **forward_kwargs)
        *dinputs, grads = backward(*doutputs, cache, **backward_kwargs)

    where ``dinputs`` come in the order of ``inputs`` and ``grads`` has the
    keys of ``params``. A random upstream gradient (standard normal, drawn
    with ``rng``) is set on every output; the backward pass and central
    differences of ``L = sum_i sum(outputs[i] * doutputs[i])`` are compared.

    Parameters
    ----------
    forward, backward : callables as above
    inputs : dict name -> float64 ndarray (e.g. ``{"x": x, "h0": h0}``);
        only arrays you want gradients for (pass masks via forward_kwargs)
    params : dict name -> float64 ndarray
    rng : np.random.Generator
    h : float, finite-difference step
    forward_kwargs, backward_kwargs : dict, optional extra keyword arguments
        (``activation``, ``reset``, ``truncate``, ...)
    mask : ndarray (N, T) of 0/1, optional
        Passed to ``forward`` as ``mask=``; the random upstream gradient of
        every (N, T, ...) output is set to zero at masked steps, since a
        masked step's output is padding that no loss may read (rnnlib's
        backward passes ignore it, so the check must too).

    Returns
    -------
    dict name -> float: :func:`rel_error` of the analytic against the
    numerical gradient, for every input and every parameter. Inputs and
    params are left unchanged.
    """
    rng = check_rng(rng)
    fk = dict(forward_kwargs or {})
    bk = dict(backward_kwargs or {})
    for where, d in (("inputs", inputs), ("params", params)):
        if not isinstance(d, dict):
            raise TypeError(f"{where}: expected a dict of arrays, got {type(d).__name__}")
        for k, v in d.items():
            check_float_array(f"{where}['{k}']", v)
    clash = sorted(set(inputs) & set(params))
    if clash:
        raise ValueError(f"inputs: expected names different from the params keys, got {clash} in both")

    if mask is not None:
        fk["mask"] = mask
    out = _as_tuple(forward(**inputs, params=params, **fk))
    outputs, cache = out[:-1], out[-1]
    douts = []
    for o in outputs:
        g = rng.standard_normal(o.shape).astype(o.dtype)
        if mask is not None and o.shape[:2] == np.shape(mask):
            g *= np.asarray(mask, dtype=o.dtype).reshape(mask.shape + (1,) * (o.ndim - 2))
        douts.append(g)
    douts = tuple(douts)
    back = _as_tuple(backward(*douts, cache, **bk))
    dinputs, grads = back[:-1], back[-1]
    if len(dinputs) != len(inputs):
        raise ValueError(f"backward: expected {len(inputs)} input gradients (one per "
                         f"entry of inputs) before the grads dict, got {len(dinputs)}")
    analytic = dict(zip(inputs, dinputs))
    analytic.update({k: grads[k] for k in params})

    def loss():
        o = _as_tuple(forward(**inputs, params=params, **fk))[:-1]
        return sum(float(np.sum(a * g)) for a, g in zip(o, douts))

    errors = {}
    for name, arr in list(inputs.items()) + list(params.items()):
        num = numerical_gradient(loss, arr, h=h)
        errors[name] = rel_error(analytic[name], num)
    return errors
