"""Optimizers with one functional interface: state in, state out.

Every optimizer is a plain function::

    new_params, new_state = adam(params, grads, state, lr=1e-3)

``params`` and ``grads`` are dicts of arrays with the same keys and shapes
(the gradient dicts returned by every backward pass). ``state`` is ``None``
on the first call and afterwards whatever the previous call returned: a dict
holding the step count ``"step"`` and, per optimizer, one dict of arrays per
running quantity, named as in ``torch.optim`` (``"momentum_buffer"``,
``"sum"``, ``"square_avg"``, ``"exp_avg"``, ``"exp_avg_sq"``). Nothing is
edited in place: the input params, grads and state are left as they were and
new arrays are returned, so a chapter can keep the whole trajectory.

Defaults and update formulas are those of ``torch.optim`` (without weight
decay; use :mod:`rnnlib.regularization` for that), so that the same
gradients give the same steps to float64 rounding; the tests check this.
Where torch differs from the way the method is usually written on paper,
the docstring says so.

All five are collected in :data:`OPTIMIZERS` for chapters that pick one by
name.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_array_dict, check_matching_dicts, check_real

__all__ = ["sgd", "momentum", "adagrad", "rmsprop", "adam", "OPTIMIZERS"]


def _check(params, grads, state, buffers):
    """Validate params/grads/state; return the step number of this update."""
    check_array_dict("params", params)
    check_array_dict("grads", grads)
    check_matching_dicts("params", params, "grads", grads)
    if state is None:
        return 1
    if not isinstance(state, dict) or "step" not in state:
        raise TypeError("state: expected None or the state dict returned by the "
                        f"previous call (with key 'step'), got {type(state).__name__}")
    for name in buffers:
        if name not in state:
            raise ValueError(f"state: expected key '{name}' (state of a different optimizer?), "
                             f"got keys {sorted(state)}")
        check_matching_dicts("params", params, f"state['{name}']", state[name])
    return int(state["step"]) + 1


def sgd(params: dict, grads: dict, state: dict | None = None, lr: float = 1e-3):
    """Plain stochastic gradient descent.

    .. math::  \\theta \\leftarrow \\theta - \\eta\\, g

    Parameters
    ----------
    params, grads : dicts of arrays with the same keys and shapes.
    state : None or the previous call's state (only the step count).
    lr : float > 0, the learning rate ``eta`` (torch's default 1e-3).

    Returns
    -------
    new_params : dict of new arrays.
    new_state : ``{"step": t}``.
    """
    lr = check_real("lr", lr, minimum=0.0, strict_min=True)
    t = _check(params, grads, state, ())
    new_params = {k: p - lr * grads[k] for k, p in params.items()}
    return new_params, {"step": t}


def momentum(params: dict, grads: dict, state: dict | None = None, lr: float = 1e-3,
             mu: float = 0.9, nesterov: bool = False, dampening: float = 0.0):
    """SGD with (heavy-ball or Nesterov) momentum, in torch's convention.

    .. math::

        b_1 &= g_1, \\\\
        b_t &= \\mu\\, b_{t-1} + (1 - d)\\, g_t

    .. math::  \\theta \\leftarrow \\theta - \\eta\\, b_t

    or, with Nesterov,

    .. math::  \\theta \\leftarrow \\theta - \\eta\\, (g_t + \\mu\\, b_t)

    Two conventions to know. (1) The buffer ``b`` holds gradients, and the
    learning rate multiplies it at the update; Sutskever et al. (2013) write
    the velocity ``v = mu v - eta g`` with ``eta`` inside. With a constant
    learning rate the two give the same steps; they differ when ``lr``
    changes during training. (2) On the first step the buffer is set to the
    gradient itself, *without* the dampening factor ``1 - d``; dampening
    (default 0) applies only from the second step on.

    Parameters
    ----------
    params, grads : dicts of arrays with the same keys and shapes.
    state : None or the previous call's state.
    lr : float > 0, the learning rate ``eta``.
    mu : float in [0, 1), the momentum coefficient.
    nesterov : bool, use the Nesterov form (needs ``dampening == 0``, as in torch).
    dampening : float in [0, 1], the factor ``d``.

    Returns
    -------
    new_params : dict of new arrays.
    new_state : ``{"step": t, "momentum_buffer": {key: array}}``.
    """
    lr = check_real("lr", lr, minimum=0.0, strict_min=True)
    mu = check_real("mu", mu, minimum=0.0)
    if mu >= 1.0:
        raise ValueError(f"mu: expected a number in [0, 1), got {mu}")
    dampening = check_real("dampening", dampening, minimum=0.0, maximum=1.0)
    if nesterov and dampening != 0.0:
        raise ValueError(f"dampening: Nesterov momentum needs dampening = 0, got {dampening}")
    t = _check(params, grads, state, () if state is None else ("momentum_buffer",))
    new_params, bufs = {}, {}
    for k, p in params.items():
        g = grads[k]
        if state is None:
            b = g.copy()                                    # first step: buffer = gradient
        else:
            b = mu * state["momentum_buffer"][k] + (1.0 - dampening) * g
        bufs[k] = b
        step = g + mu * b if nesterov else b
        new_params[k] = p - lr * step
    return new_params, {"step": t, "momentum_buffer": bufs}


def adagrad(params: dict, grads: dict, state: dict | None = None, lr: float = 1e-2,
            eps: float = 1e-10, initial_accumulator_value: float = 0.0):
    """Adagrad (Duchi et al. 2011), the classic optimizer of min-char-rnn.

    .. math::  s \\leftarrow s + g^2, \\qquad
               \\theta \\leftarrow \\theta - \\eta\\, \\frac{g}{\\sqrt{s} + \\epsilon}

    As in torch the accumulator ``s`` starts at ``initial_accumulator_value``
    (default 0, where TensorFlow uses 0.1) and ``eps`` (default 1e-10) is
    added *outside* the square root. min-char-rnn writes ``sqrt(s + 1e-8)``;
    the difference matters only while ``s`` is tiny.

    Parameters
    ----------
    params, grads : dicts of arrays with the same keys and shapes.
    state : None or the previous call's state.
    lr : float > 0, the learning rate ``eta`` (torch's default 1e-2).
    eps : float >= 0.
    initial_accumulator_value : float >= 0, the starting value of ``s``.

    Returns
    -------
    new_params : dict of new arrays.
    new_state : ``{"step": t, "sum": {key: array}}``.
    """
    lr = check_real("lr", lr, minimum=0.0, strict_min=True)
    eps = check_real("eps", eps, minimum=0.0)
    init = check_real("initial_accumulator_value", initial_accumulator_value, minimum=0.0)
    t = _check(params, grads, state, () if state is None else ("sum",))
    new_params, sums = {}, {}
    for k, p in params.items():
        g = grads[k]
        s_old = np.full_like(p, init) if state is None else state["sum"][k]
        s = s_old + g * g                                   # accumulate squared gradients
        sums[k] = s
        new_params[k] = p - lr * (g / (np.sqrt(s) + eps))
    return new_params, {"step": t, "sum": sums}


def rmsprop(params: dict, grads: dict, state: dict | None = None, lr: float = 1e-2,
            alpha: float = 0.99, eps: float = 1e-8):
    """RMSProp (Tieleman & Hinton 2012), torch's form.

    .. math::

        v &\\leftarrow \\alpha v + (1 - \\alpha) g^2, \\\\
        \\theta &\\leftarrow \\theta - \\eta\\, \\frac{g}{\\sqrt{v} + \\epsilon}

    ``v`` starts at 0 and is *not* bias-corrected, so the first steps are
    larger than ``lr`` (the first is ``lr / sqrt(1 - alpha)`` = 10 lr per
    entry for ``alpha = 0.99``). ``eps`` is added outside the square root, as
    in torch; Keras/TensorFlow put it inside (``sqrt(v + eps)``) with a larger
    default, which changes steps where ``v`` is small.

    Parameters
    ----------
    params, grads : dicts of arrays with the same keys and shapes.
    state : None or the previous call's state.
    lr : float > 0, the learning rate ``eta`` (torch's default 1e-2).
    alpha : float in [0, 1), the decay rate of the average.
    eps : float >= 0.

    Returns
    -------
    new_params : dict of new arrays.
    new_state : ``{"step": t, "square_avg": {key: array}}``.
    """
    lr = check_real("lr", lr, minimum=0.0, strict_min=True)
    alpha = check_real("alpha", alpha, minimum=0.0)
    if alpha >= 1.0:
        raise ValueError(f"alpha: expected a number in [0, 1), got {alpha}")
    eps = check_real("eps", eps, minimum=0.0)
    t = _check(params, grads, state, () if state is None else ("square_avg",))
    new_params, avgs = {}, {}
    for k, p in params.items():
        g = grads[k]
        v_old = np.zeros_like(p) if state is None else state["square_avg"][k]
        v = alpha * v_old + (1.0 - alpha) * (g * g)         # running mean of g^2
        avgs[k] = v
        new_params[k] = p - lr * (g / (np.sqrt(v) + eps))
    return new_params, {"step": t, "square_avg": avgs}


def adam(params: dict, grads: dict, state: dict | None = None, lr: float = 1e-3,
         betas: tuple = (0.9, 0.999), eps: float = 1e-8):
    """Adam (Kingma & Ba 2015) with bias correction, torch's form.

    .. math::

        m &\\leftarrow \\beta_1 m + (1 - \\beta_1) g, \\\\
        v &\\leftarrow \\beta_2 v + (1 - \\beta_2) g^2

    .. math::  \\theta \\leftarrow \\theta - \\frac{\\eta}{1 - \\beta_1^t}\\,
               \\frac{m}{\\sqrt{v} / \\sqrt{1 - \\beta_2^t} + \\epsilon}

    ``m`` and ``v`` start at 0; the two bias corrections undo that start, so
    the first step moves every entry by about ``lr``. ``eps`` is added after
    the bias correction of ``sqrt(v)`` (as in torch and in the paper's
    Algorithm 1), not to the uncorrected ``sqrt(v)``.

    Parameters
    ----------
    params, grads : dicts of arrays with the same keys and shapes.
    state : None or the previous call's state.
    lr : float > 0, the learning rate ``eta`` (torch's default 1e-3).
    betas : (beta1, beta2), each in [0, 1).
    eps : float >= 0.

    Returns
    -------
    new_params : dict of new arrays.
    new_state : ``{"step": t, "exp_avg": {key: array}, "exp_avg_sq": {key: array}}``.
    """
    lr = check_real("lr", lr, minimum=0.0, strict_min=True)
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas: expected a pair (beta1, beta2), got {betas!r}")
    b1 = check_real("betas[0]", betas[0], minimum=0.0)
    b2 = check_real("betas[1]", betas[1], minimum=0.0)
    for name, b in (("betas[0]", b1), ("betas[1]", b2)):
        if b >= 1.0:
            raise ValueError(f"{name}: expected a number in [0, 1), got {b}")
    eps = check_real("eps", eps, minimum=0.0)
    t = _check(params, grads, state, () if state is None else ("exp_avg", "exp_avg_sq"))
    bc1 = 1.0 - b1 ** t                                     # bias corrections
    bc2_sqrt = (1.0 - b2 ** t) ** 0.5
    step_size = lr / bc1
    new_params, ms, vs = {}, {}, {}
    for k, p in params.items():
        g = grads[k]
        m_old = np.zeros_like(p) if state is None else state["exp_avg"][k]
        v_old = np.zeros_like(p) if state is None else state["exp_avg_sq"][k]
        m = m_old + (1.0 - b1) * (g - m_old)                # = b1 m + (1 - b1) g
        v = b2 * v_old + (1.0 - b2) * (g * g)
        ms[k], vs[k] = m, v
        denom = np.sqrt(v) / bc2_sqrt + eps
        new_params[k] = p - step_size * (m / denom)
    return new_params, {"step": t, "exp_avg": ms, "exp_avg_sq": vs}


#: The optimizers by name, for chapters that compare them in a loop.
OPTIMIZERS = {
    "sgd": sgd,
    "momentum": momentum,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
}
