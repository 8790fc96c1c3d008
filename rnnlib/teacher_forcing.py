"""Teacher forcing, free-running and scheduled sampling as one training step.

A model that emits a sequence reads its previous output as its next input.
During training there is a choice for that input at each step ``t > 0``:

* the **true** previous token ``y_{t-1}`` (teacher forcing),
* the model's **own** prediction from step ``t-1`` (free-running, open loop,
  which is how it runs at test time),
* either one, the true token with probability ``p`` (scheduled sampling,
  Bengio et al. 2015, with ``p`` decaying over training).

:func:`scheduled_sampling_loss` computes the loss of one batch and its
gradients (it takes no optimizer step) with ``p_teacher`` in [0, 1]: 1 is
teacher forcing, 0 free-running, anything between scheduled sampling. It is
three parts, each usable on its own:

* :func:`choose_input`: the input of step t, true or the model's own;
* :func:`unroll_forward`: the model of :mod:`rnnlib.model` one step at a
  time (:func:`rnnlib.model.model_step_forward`; the next input may depend
  on the previous output, so the whole-sequence layer cannot be used);
* :func:`unroll_backward`: back-propagation through the unrolled steps
  (:func:`rnnlib.model.model_step_backward`).

Which token was fed is a discrete choice and is treated as a constant: no
gradient flows through it (as in Bengio et al. 2015).

:func:`teacher_forcing_probability` gives the decay schedules.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_float_array, check_mask, check_probability, check_rng, describe
from .losses import mse_loss, softmax_cross_entropy
from .model import (ModelSpec, add_grads, check_model_params, initial_state,
                    model_step_backward, model_step_forward)

__all__ = ["teacher_forcing_probability", "scheduled_sampling_loss", "choose_input",
           "unroll_forward", "unroll_backward", "SCHEDULES"]

SCHEDULES = ("linear", "exponential", "inverse_sigmoid")


def _real(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    return value


def teacher_forcing_probability(schedule: str, step, **params):
    """Probability of feeding the true token at training step ``i`` (Bengio et al. 2015).

    The schedules ``"linear"``, ``"exponential"`` and ``"inverse_sigmoid"``,
    in this order:

    .. math::

        \\epsilon_i &= \\max(\\epsilon, k - c\\, i), \\\\
        \\epsilon_i &= k^i \\quad (k < 1), \\\\
        \\epsilon_i &= \\frac{k}{k + \\exp(i / k)} \\quad (k \\ge 1)

    Parameters
    ----------
    schedule : "linear", "exponential" or "inverse_sigmoid".
    step : int >= 0, or an int array of steps (for plotting a schedule).
    **params : the schedule's constants.
        linear: ``k`` (start, default 1.0, in [0, 1]), ``c`` (slope per step,
        default 1e-3, >= 0), ``eps`` (floor, default 0.0, in [0, 1]);
        exponential: ``k`` (in (0, 1], default 0.999);
        inverse_sigmoid: ``k`` (>= 1, default 100.0; larger decays later).

    Returns
    -------
    p : float in [0, 1] (or an array like ``step``).
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule: expected one of {list(SCHEDULES)}, got {schedule!r}")
    arr = np.asarray(step)
    if arr.dtype.kind not in "iu" or isinstance(step, bool):
        raise TypeError(f"step: expected an integer >= 0 (or an int array), got {describe(step)}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"step: expected integers >= 0, got {arr.min()}")
    i = arr.astype(np.float64)
    allowed = {"linear": {"k", "c", "eps"}, "exponential": {"k"},
               "inverse_sigmoid": {"k"}}[schedule]
    extra = sorted(set(params) - allowed)
    if extra:
        raise ValueError(f"params: schedule {schedule!r} takes {sorted(allowed)}, got unexpected {extra}")
    if schedule == "linear":
        k = _real("k", params.get("k", 1.0))
        c = _real("c", params.get("c", 1e-3))
        eps = _real("eps", params.get("eps", 0.0))
        if not 0 <= k <= 1:
            raise ValueError(f"k: expected a start probability in [0, 1], got {k}")
        if c < 0:
            raise ValueError(f"c: expected a slope >= 0, got {c}")
        if not 0 <= eps <= 1:
            raise ValueError(f"eps: expected a floor in [0, 1], got {eps}")
        p = np.maximum(eps, k - c * i)
    elif schedule == "exponential":
        k = _real("k", params.get("k", 0.999))
        if not 0 < k <= 1:
            raise ValueError(f"k: expected a base in (0, 1], got {k}")
        with np.errstate(under="ignore"):
            p = k ** i
    else:
        k = _real("k", params.get("k", 100.0))
        if k < 1:
            raise ValueError(f"k: expected k >= 1 for the inverse sigmoid, got {k}")
        # k / (k + exp(i/k)) = 1 / (1 + exp(i/k - log k)), computed without overflow
        z = i / k - np.log(k)
        p = np.exp(-np.logaddexp(0.0, z))
    p = np.minimum(p, 1.0)
    return float(p) if np.ndim(step) == 0 else p


def _check_right_padded(mask):
    """Masks here may only pad at the end: each row is 1...1 0...0."""
    m = mask.astype(bool)
    if np.any(m[:, 1:] & ~m[:, :-1]):
        raise ValueError("mask: expected padding only at the end of each sequence "
                         "(rows of the form 1...1 0...0), got a 0 followed by a 1")


def choose_input(t: int, fed: np.ndarray, prev_outputs: np.ndarray, teacher: np.ndarray,
                 u_sample: np.ndarray, spec: ModelSpec, feedback: str = "sample") -> None:
    """Put the input of step ``t`` into ``fed[:, t]``: the true one, or the model's own.

    Where ``teacher[:, t]`` is False the sequence reads its own output of
    step t - 1 instead of the true input already in ``fed[:, t]``: for
    ``loss="mse"`` the prediction itself; for ``loss="xent"`` a token drawn
    from its softmax by inverse CDF with the uniform number ``u_sample[:, t]``
    (``feedback="sample"``) or its argmax (``"argmax"``), as an id or as a
    one-hot row, like ``fed``.

    Parameters
    ----------
    t : int >= 1, the step.
    fed : (N, T) ids or (N, T, D) floats, modified in place at ``[:, t]``.
    prev_outputs : (N, K), the outputs of step t - 1.
    teacher : (N, T) bool, True where the true input is fed.
    u_sample : (N, T) uniform numbers in [0, 1).
    spec : ModelSpec.
    feedback : "sample" or "argmax".
    """
    own = ~teacher[:, t]
    if not np.any(own):
        return
    prev = prev_outputs[own]                                          # (n_own, K)
    if spec.loss == "mse":
        fed[own, t] = prev                                            # treated as a constant
        return
    if feedback == "argmax":
        chosen = prev.argmax(axis=1)
    else:                                                             # inverse-CDF sample
        z = prev - prev.max(axis=1, keepdims=True)
        pr = np.exp(z)
        pr /= pr.sum(axis=1, keepdims=True)
        chosen = (np.cumsum(pr, axis=1) < u_sample[own, t][:, None]).sum(axis=1)
        chosen = np.minimum(chosen, spec.K - 1)
    if fed.ndim == 2:
        fed[own, t] = chosen                                          # token ids
    else:
        fed[own, t] = np.eye(spec.K, dtype=fed.dtype)[chosen]         # one-hot rows (D = K)


def unroll_forward(params: dict, spec: ModelSpec, inputs: np.ndarray, teacher: np.ndarray,
                   u_sample: np.ndarray, feedback: str = "sample") -> dict:
    """Run the model one step at a time, choosing each step's input.

    Parameters
    ----------
    params, spec : the model (unidirectional, ``output="every"``).
    inputs : (N, T) ids or (N, T, D) floats, the true inputs.
    teacher, u_sample, feedback : as for :func:`choose_input`.

    Returns
    -------
    run : dict with ``"outputs"`` (N, T, K), ``"h"`` (N, T, H), ``"fed"``
        (what was fed, like ``inputs``) and ``"caches"`` (one
        :func:`rnnlib.model.model_step_forward` cache per step).
    """
    N, T = inputs.shape[:2]
    dtype = np.dtype(spec.dtype)
    fed = np.array(inputs, copy=True)                                 # what was actually fed
    outputs = np.empty((N, T, spec.K), dtype=dtype)
    hs = np.empty((N, T, spec.H), dtype=dtype)
    state = initial_state(spec, N)
    caches = []
    for t in range(T):
        if t > 0:
            choose_input(t, fed, outputs[:, t - 1], teacher, u_sample, spec, feedback)
        outputs[:, t], state, cache = model_step_forward(params, spec, fed[:, t], state)
        hs[:, t] = state[0]
        caches.append(cache)
    return {"outputs": outputs, "h": hs, "fed": fed, "caches": caches}


def unroll_backward(doutputs: np.ndarray, run: dict) -> dict:
    """Back-propagate through the steps of :func:`unroll_forward`.

    Parameters
    ----------
    doutputs : (N, T, K), gradient on every step's outputs.
    run : from :func:`unroll_forward`.

    Returns
    -------
    grads : nested dict like ``params``.
    """
    caches = run["caches"]
    spec = caches[0]["spec"]
    grads: dict = {}
    dstate = (None,) * len(initial_state(spec, 1))                    # nothing after the last step
    for t in reversed(range(len(caches))):
        _, dstate, g = model_step_backward(doutputs[:, t], dstate, caches[t])
        add_grads(grads, g)                                           # into the previous state
    return grads


def _check_batch(spec, inputs, targets, mask):
    """Check one batch for :func:`scheduled_sampling_loss`; return (inputs, targets, mask)."""
    dtype = np.dtype(spec.dtype)
    if spec.input == "embedding" or (spec.input == "dense" and spec.loss == "xent"
                                     and isinstance(inputs, np.ndarray) and inputs.ndim == 2):
        if not isinstance(inputs, np.ndarray) or inputs.dtype.kind not in "iu" or inputs.ndim != 2:
            raise ValueError(f"inputs: expected integer token ids of shape (N, T), got {describe(inputs)}")
        n_in = spec.vocab if spec.input == "embedding" else spec.K
        if inputs.size and (inputs.min() < 0 or inputs.max() >= n_in):
            raise ValueError(f"inputs: expected token ids in [0, {n_in}), got values "
                             f"from {inputs.min()} to {inputs.max()}")
    else:
        inputs = check_float_array("inputs", inputs, ndim=3, shape_doc="(N, T, D)", dtype=dtype)
    N, T = inputs.shape[:2]
    if N == 0 or T == 0:
        raise ValueError(f"inputs: expected N >= 1 and T >= 1, got shape {inputs.shape}")
    if spec.loss == "xent":
        if not isinstance(targets, np.ndarray) or targets.dtype.kind not in "iu":
            raise TypeError(f"targets: expected integer class ids (N, T), got {describe(targets)}")
        if targets.shape != (N, T):
            raise ValueError(f"targets: expected shape (N, T) = {(N, T)}, got {targets.shape}")
    else:
        targets = check_float_array("targets", targets, ndim=3, shape_doc="(N, T, K)", dtype=dtype)
        if targets.shape != (N, T, spec.K):
            raise ValueError(f"targets: expected shape (N, T, K) = {(N, T, spec.K)}, got {targets.shape}")
    if mask is not None:
        mask = check_mask(mask, N, T, dtype)
        _check_right_padded(mask)
    return inputs, targets, mask



def scheduled_sampling_loss(params: dict, spec: ModelSpec, inputs: np.ndarray,
                            targets: np.ndarray, p_teacher: float, rng: np.random.Generator,
                            mask=None, feedback: str = "sample") -> tuple[float, dict, dict]:
    """Loss and gradients of one batch, feeding true or own tokens (no optimizer step).

    At step ``t = 0`` the model reads ``inputs[:, 0]``. At every later step,
    independently for each sequence, it reads the true ``inputs[:, t]`` with
    probability ``p_teacher`` and otherwise its own output from step
    ``t - 1``: a token drawn from its softmax (``feedback="sample"``) or
    the argmax (``"argmax"``) for ``loss="xent"``; the prediction itself for
    ``loss="mse"``. The loss compares every step's output with ``targets``:

    .. math::

        \\tilde y_{t-1} &= \\begin{cases} y_{t-1} & u_t < p \\\\
                          \\hat y_{t-1} & \\text{otherwise} \\end{cases}, \\\\
        h_t &= \\text{cell}(x(\\tilde y_{t-1}), h_{t-1}), \\\\
        L &= \\text{mean}_t\\, \\ell(o_t, y_t)

    with ``yhat_{t-1}`` the model's own output at step ``t - 1`` and ``u_t``
    uniform in [0, 1).

    Parameters
    ----------
    params : nested dict from :func:`rnnlib.model.init_model`.
    spec : ModelSpec, unidirectional, ``output="every"``; ``loss="xent"``
        with ``input="embedding"`` (or ``"dense"`` one-hot, D = K), or
        ``loss="mse"`` with ``input="dense"`` and D = K.
    inputs : the true inputs, (N, T) ids or (N, T, D) floats;
        ``inputs[:, t]`` is normally ``targets[:, t - 1]``.
    targets : (N, T) ids (xent) or (N, T, K) floats (mse).
    p_teacher : float in [0, 1].
    rng : np.random.Generator; it always draws the same numbers for the same
        shapes (two (N, T) uniform arrays), whatever ``p_teacher``.
    mask : optional (N, T) 0/1, padding only at the end of each row; padded
        steps are left out of the loss.
    feedback : "sample" or "argmax" (xent only).

    Returns
    -------
    loss : float.
    grads : nested dict like ``params``.
    info : dict with ``"teacher"`` (N, T) bool, True where the true input was
        fed; ``"fed"`` what was fed, like ``inputs``; ``"outputs"`` (N, T, K);
        ``"h"`` (N, T, H); ``"p_teacher"``.
    """
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"spec: expected a ModelSpec, got {describe(spec)}")
    p = check_probability("p_teacher", p_teacher)
    check_rng(rng)
    if feedback not in ("sample", "argmax"):
        raise ValueError(f"feedback: expected 'sample' or 'argmax', got {feedback!r}")
    if spec.bidirectional:
        raise ValueError("spec.bidirectional: feeding outputs back needs a model that runs "
                         "forward in time; expected False, got True")
    if spec.output != "every":
        raise ValueError(f"spec.output: expected 'every' (an output at each step), got {spec.output!r}")
    if spec.input == "dense" and spec.D != spec.K:
        raise ValueError(f"spec.D: outputs are fed back as inputs, so D must equal K = {spec.K}, "
                         f"got D = {spec.D}")
    if spec.loss == "mse" and spec.input != "dense":
        raise ValueError("spec.input: loss='mse' feeds predictions back, expected input='dense'")
    check_model_params(params, spec)
    inputs, targets, mask = _check_batch(spec, inputs, targets, mask)
    N, T = inputs.shape[:2]

    # --- the random numbers: same draws whatever p is
    u_teacher = rng.random((N, T))
    u_sample = rng.random((N, T))
    teacher = u_teacher < p
    teacher[:, 0] = True                       # the first input is always given

    # --- forward, one step at a time; the loss; backward through the steps
    run = unroll_forward(params, spec, inputs, teacher, u_sample, feedback)
    if spec.loss == "xent":
        loss, doutputs = softmax_cross_entropy(run["outputs"], targets, mask=mask)
    else:
        loss, doutputs = mse_loss(run["outputs"], targets, mask=mask)
    grads = unroll_backward(doutputs, run)
    info = {"teacher": teacher, "fed": run["fed"], "outputs": run["outputs"], "h": run["h"],
            "p_teacher": p}
    return float(loss), grads, info
