"""The training loop every chapter uses.

:func:`train` repeats: take a batch, compute the loss and its gradients,
add an L2 penalty, measure the global gradient norm, clip, take an
optimizer step. It returns the final parameters and a ``history`` of the
loss and the gradient norm (before clipping) at every step, for plotting.

When the loss or the gradients stop being finite (an exploding gradient)
the loop stops at once, keeps the last finite parameters, and says so in
one line: a :class:`TrainingDiverged` warning and ``history["message"]``,
instead of a page of numpy overflow warnings.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable

import numpy as np

from ._validate import NonFiniteError, check_positive_int, check_real, check_rng, describe
from .clip import clip_by_global_norm, clip_by_value, global_norm
from .model import (ModelSpec, flatten_params, model_backward, model_forward, output_loss,
                    unflatten_params)
from .optim import OPTIMIZERS
from .progress import Progress
from .regularization import l2_penalty

__all__ = ["train", "TrainingDiverged", "batch_stream"]


class TrainingDiverged(UserWarning):
    """Training stopped because the loss or a gradient became NaN or infinite."""


def batch_stream(data, batch_size: int | None, rng: np.random.Generator | None):
    """Turn ``data`` into an endless (or finite) iterator of batches.

    ``data`` may be

    * a callable ``data(rng) -> batch`` (a generated task: a fresh batch each step);
    * a tuple of arrays ``(inputs, targets[, mask])`` sharing the first axis N:
      shuffled mini-batches of ``batch_size`` rows, a new permutation from
      ``rng`` each epoch (the whole set every step if ``batch_size`` is None);
    * a list of batches (cycled) or any other iterable of batches (used once).

    A batch is a tuple ``(inputs, targets)`` or ``(inputs, targets, mask)``.
    """
    if callable(data):
        check_rng(rng)
        while True:
            yield data(rng)
    if isinstance(data, tuple) and data and isinstance(data[0], np.ndarray):
        if len(data) not in (2, 3):
            raise ValueError(f"data: expected a tuple (inputs, targets[, mask]), got {len(data)} items")
        N = data[0].shape[0]
        for i, a in enumerate(data):
            if not isinstance(a, np.ndarray) or a.shape[0] != N:
                raise ValueError(f"data[{i}]: expected an array with first axis N = {N}, "
                                 f"got {describe(a)}")
        if batch_size is None or batch_size >= N:
            while True:
                yield data
        check_rng(rng)
        while True:
            order = rng.permutation(N)
            for start in range(0, N - batch_size + 1, batch_size):
                rows = order[start:start + batch_size]
                yield tuple(a[rows] for a in data)
    if isinstance(data, list):
        if not data:
            raise ValueError("data: expected a non-empty list of batches, got []")
        while True:
            yield from data
    if isinstance(data, Iterable):
        yield from data
        return
    raise TypeError(f"data: expected a callable, a tuple of arrays or an iterable of batches, "
                    f"got {describe(data)}")


def _model_step(params, spec, batch):
    """Loss and gradients of the model in ``spec``; None grads if the loss is not finite."""
    if not isinstance(batch, tuple) or len(batch) not in (2, 3):
        raise ValueError(f"batch: expected a tuple (inputs, targets[, mask]), got {describe(batch)}")
    inputs, targets = batch[0], batch[1]
    mask = batch[2] if len(batch) == 3 else None
    outputs, cache = model_forward(params, inputs, spec, mask=mask)
    if not np.all(np.isfinite(outputs)):
        return float("nan"), None
    loss, doutputs = output_loss(outputs, targets, spec, mask)
    if not np.isfinite(loss):
        return loss, None
    return loss, model_backward(doutputs, cache)


def train(params: dict, spec: ModelSpec | None, data, optimizer: str = "adam",
          lr: float | None = None, steps: int = 100, clip=None, l2: float = 0.0,
          rng: np.random.Generator | None = None, progress=False,
          batch_size: int | None = 32, loss_fn: Callable | None = None,
          optimizer_kwargs: dict | None = None) -> tuple[dict, dict]:
    """Train ``params`` for ``steps`` optimizer steps.

    Each step:

    .. math::

        L &= \\ell(\\theta; \\text{batch}) + \\tfrac{\\lambda}{2}\\sum_W \\|W\\|^2, \\\\
        g &= \\nabla_\\theta L, \\\\
        g &\\leftarrow \\text{clip}(g), \\\\
        \\theta &\\leftarrow \\text{optimizer}(\\theta, g),

    with the norm ``||g||`` recorded before clipping (``history["grad_norm"]``).

    Parameters
    ----------
    params : nested dict (from :func:`rnnlib.model.init_model`, or any nested
        dict of arrays when ``loss_fn`` is given). Not modified.
    spec : ModelSpec of the model, or None when ``loss_fn`` is given.
    data : a callable ``data(rng) -> batch``, a tuple of arrays
        ``(inputs, targets[, mask])`` or an iterable of batches (see
        :func:`batch_stream`). A batch is ``(inputs, targets[, mask])``.
    optimizer : a name in :data:`rnnlib.optim.OPTIMIZERS` ("sgd", "momentum",
        "adagrad", "rmsprop", "adam").
    lr : learning rate; None uses the optimizer's default.
    steps : int >= 1, number of optimizer steps.
    clip : None, ``("norm", max_norm)`` (global-norm clipping) or
        ``("value", limit)``.
    l2 : float >= 0, L2 penalty ``lambda`` on the weight matrices (2-d arrays).
    rng : np.random.Generator for generated batches and shuffling.
    progress : False, True (widget in a notebook, text elsewhere) or a mode
        "text" / "widget".
    batch_size : rows per batch when ``data`` is a tuple of arrays.
    loss_fn : optional ``loss_fn(params, batch, step) -> (loss, grads)``
        (nested grads like params) replacing the model's loss, e.g. a
        seq2seq loss or a scheduled-sampling step with a step-dependent
        teacher-forcing probability.
    optimizer_kwargs : extra keyword arguments for the optimizer.

    Returns
    -------
    params : nested dict, the trained parameters (the last finite ones if
        training diverged).
    history : dict with per-step lists ``"loss"`` (including the penalty)
        and ``"grad_norm"`` (global norm before clipping), ``"clipped"``
        (whether clipping changed the gradient), and ``"stopped"`` (bool),
        ``"message"`` (None, or the one-line reason for stopping),
        ``"steps"`` (number of completed optimizer steps).
    """
    steps = check_positive_int("steps", steps)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: expected one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
    opt = OPTIMIZERS[optimizer]
    opt_kwargs = dict(optimizer_kwargs or {})
    if lr is not None:
        opt_kwargs["lr"] = check_real("lr", lr, minimum=0.0, strict_min=True)
    l2 = check_real("l2", l2, minimum=0.0)
    if clip is not None:
        if (not isinstance(clip, tuple) or len(clip) != 2 or clip[0] not in ("norm", "value")):
            raise ValueError(f"clip: expected None, ('norm', max_norm) or ('value', limit), got {clip!r}")
        check_real("clip threshold", clip[1], minimum=0.0, strict_min=True)
    if loss_fn is None:
        if not isinstance(spec, ModelSpec):
            raise TypeError(f"spec: expected a ModelSpec (or give loss_fn), got {describe(spec)}")
    elif not callable(loss_fn):
        raise TypeError(f"loss_fn: expected a callable, got {describe(loss_fn)}")
    if rng is not None:
        check_rng(rng)
    if batch_size is not None:
        batch_size = check_positive_int("batch_size", batch_size)
    if progress is True:
        progress = "auto"
    bar = Progress(steps, mode=progress) if progress else None

    flat = flatten_params(params)
    history = {"loss": [], "grad_norm": [], "clipped": [], "stopped": False,
               "message": None, "steps": 0}
    state = None
    batches = batch_stream(data, batch_size, rng)
    message = None
    for step in range(steps):
        try:
            batch = next(batches)
        except StopIteration:
            history["stopped"] = True
            history["message"] = f"train: the data ran out after {step} of {steps} steps"
            break
        nested = unflatten_params(flat)
        # overflow is expected when training diverges: detected below, not warned about
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            try:
                if loss_fn is None:
                    loss, grads = _model_step(nested, spec, batch)
                else:
                    loss, grads = loss_fn(nested, batch, step)
            except NonFiniteError:
                loss, grads = float("nan"), None      # an intermediate overflowed
            loss = float(loss)
            if grads is not None:
                flat_g = flatten_params(grads)
                if l2 > 0:
                    pen, pen_g = l2_penalty(flat, l2)
                    loss += pen
                    flat_g = {k: g + pen_g[k] for k, g in flat_g.items()}
                norm = global_norm(flat_g)
            else:
                norm = float("nan")
        history["loss"].append(loss)
        history["grad_norm"].append(norm)
        if not (np.isfinite(loss) and np.isfinite(norm)):
            what = "loss" if not np.isfinite(loss) else "gradient norm"
            value = loss if not np.isfinite(loss) else norm
            message = (f"train: stopped at step {step + 1} of {steps}: the {what} is {value} "
                       f"(exploding gradients?); returning the parameters of step {step}. "
                       f"Try a smaller lr or clip=('norm', 1.0).")
            history["clipped"].append(False)
            break
        if clip is None:
            clipped_flag = False
        elif clip[0] == "norm":
            flat_g, _ = clip_by_global_norm(flat_g, clip[1])
            clipped_flag = norm > clip[1]
        else:
            clipped_flag = any(np.any(np.abs(g) > clip[1]) for g in flat_g.values())
            flat_g, _ = clip_by_value(flat_g, clip[1])
        history["clipped"].append(bool(clipped_flag))
        with np.errstate(over="ignore", invalid="ignore"):
            new_flat, new_state = opt(flat, flat_g, state, **opt_kwargs)
        if not all(np.all(np.isfinite(v)) for v in new_flat.values()):
            message = (f"train: stopped at step {step + 1} of {steps}: the update made a "
                       f"parameter infinite; returning the parameters of step {step}. "
                       f"Try a smaller lr or clip=('norm', 1.0).")
            break
        flat, state = new_flat, new_state
        history["steps"] = step + 1
        if bar is not None:
            bar.update(step + 1, loss)
    if message is not None:
        history["stopped"] = True
        history["message"] = message
        warnings.warn(message, TrainingDiverged, stacklevel=2)
    if bar is not None:
        bar.close(message)
    return unflatten_params(flat), history
