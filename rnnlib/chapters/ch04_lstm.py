"""Long short-term memory, computed the ways chapter 4 explains it.

* ``concat_weights`` and ``lstm_step_stages``: one LSTM step written
  on the concatenation ``[h_{t-1}, x_t]`` (the form of the source note [001]),
  stage by stage (forget, input and candidate, cell update, output), for
  the chapter's step animation.
* ``memory_cell_step``: the same step as the memory cell with four
  inputs ``z, z_i, z_f, z_o`` of the source note [004],
  ``a = h(f(z_f) c + f(z_i) g(z)) f(z_o)``.
* ``input_jacobian_norms``: ``||dh_t / dx_s||_F`` for every pair
  ``s <= t`` of one cell of the registry (the connectivity map), by
  backward passes of the cell itself; row ``t = T`` is the gradient norm
  against lag.
* ``train_task``, ``evaluate``: train a ``ModelSpec`` with
  ``rnnlib.train`` on a task generator and measure it on held-out data.
* ``gate_ranges``, ``steps_to_reach``: small summaries.

Time is counted from 1 as in the book: array index ``t - 1`` is step ``t``.
Numerics only; the drawings are in ``rnnlib.viz.gates``.
"""

from __future__ import annotations

import numpy as np

from rnnlib._validate import check_float_array, check_positive_int
from rnnlib.activations import sigmoid
from rnnlib.cells import get_cell
from rnnlib.lstm import LSTM_VARIANTS
from rnnlib.model import ModelSpec, init_model, model_forward, output_loss
from rnnlib.training import train

__all__ = ["concat_weights", "lstm_step_stages", "STAGES", "memory_cell_step",
           "input_jacobian_norms", "train_task", "evaluate", "gate_ranges",
           "steps_to_reach", "parameter_count", "LSTM_CELLS", "fmt"]

#: The stages of one step, in the order the chapter walks through them.
STAGES = ("inputs", "forget", "input", "cell", "output")


def _blocks(params, H):
    """The named (H, .) blocks of U, W, b of a standard LSTM."""
    names = LSTM_VARIANTS["standard"]
    if params["U"].shape[0] != 4 * H:
        raise ValueError(f"params['U']: expected the 4H = {4 * H} rows of a standard LSTM, "
                         f"got {params['U'].shape[0]}")
    return {k: (params["U"][j * H:(j + 1) * H], params["W"][j * H:(j + 1) * H],
                params["b"][j * H:(j + 1) * H]) for j, k in enumerate(names)}


def concat_weights(params) -> dict:
    """Each gate's weights on the concatenation ``[h_{t-1}, x_t]``.

    .. math::

        W_k^{\\text{cat}} &= [W_k \\;\\; U_k] \\\\
        W_k h_{t-1} + U_k x_t &= W_k^{\\text{cat}} [h_{t-1}; x_t]

    with :math:`W_k^{\\text{cat}} \\in \\mathbb{R}^{H \\times (H + D)}`.

    Parameters
    ----------
    params : dict of a standard LSTM, ``U`` (4H, D), ``W`` (4H, H), ``b`` (4H,).

    Returns
    -------
    dict gate -> (W_cat (H, H + D), b (H,)) for ``"i"``, ``"f"``, ``"g"``, ``"o"``.
    """
    W = check_float_array("params['W']", params["W"], ndim=2, shape_doc="(4H, H)")
    H = W.shape[1]
    return {k: (np.concatenate([Wk, Uk], axis=1), bk)
            for k, (Uk, Wk, bk) in _blocks(params, H).items()}


def lstm_step_stages(x_t, h_prev, c_prev, params) -> dict:
    """One step of a standard LSTM on ``[h_{t-1}, x_t]``, every intermediate named.

    .. math::

        v &= [h_{t-1}; x_t] \\\\
        f &= \\sigma(W_f^{cat} v + b_f) \\\\
        i &= \\sigma(W_i^{cat} v + b_i) \\\\
        g &= \\tanh(W_g^{cat} v + b_g) \\\\
        c_t &= f \\odot c_{t-1} + i \\odot g \\\\
        o &= \\sigma(W_o^{cat} v + b_o) \\\\
        h_t &= o \\odot \\tanh(c_t)

    Parameters
    ----------
    x_t : (D,) one input; h_prev, c_prev : (H,) the previous state.
    params : dict of a standard LSTM (no peepholes).

    Returns
    -------
    dict of 1-d arrays: ``v`` (H + D,), and (H,) each: ``h_prev``,
    ``c_prev``, ``f``, ``fc`` (f c_{t-1}), ``i``, ``g``, ``ig`` (i g),
    ``c``, ``o``, ``tanh_c``, ``h``; plus ``x`` (D,).
    """
    x_t = check_float_array("x_t", x_t, ndim=1, shape_doc="(D,)")
    h_prev = check_float_array("h_prev", h_prev, ndim=1, shape_doc="(H,)")
    c_prev = check_float_array("c_prev", c_prev, ndim=1, shape_doc="(H,)")
    cat = concat_weights(params)
    v = np.concatenate([h_prev, x_t])                                  # (H + D,)
    pre = {k: Wk @ v + bk for k, (Wk, bk) in cat.items()}              # (H,) each
    f = sigmoid(pre["f"])                                              # forget gate
    i = sigmoid(pre["i"])                                              # input gate
    g = np.tanh(pre["g"])                                              # candidate
    c = f * c_prev + i * g                                             # cell update
    o = sigmoid(pre["o"])                                              # output gate
    tanh_c = np.tanh(c)
    return {"x": x_t, "h_prev": h_prev, "c_prev": c_prev, "v": v, "f": f,
            "fc": f * c_prev, "i": i, "g": g, "ig": i * g, "c": c, "o": o,
            "tanh_c": tanh_c, "h": o * tanh_c}


def memory_cell_step(x_t, h_prev, c_prev, params) -> dict:
    """The source note [004]'s memory cell: four inputs, one output per unit.

    .. math::

        c' &= f(z_f)\\, c + f(z_i)\\, g(z) \\\\
        a &= h(c')\\, f(z_o)

    where ``z``, ``z_i``, ``z_f``, ``z_o`` are four linear maps of
    ``[x_t; h_{t-1}]``, with ``f`` the sigmoid and ``g = h = tanh``: [004]'s names for the
    candidate's input ``z`` and the three gate signals.

    Parameters
    ----------
    x_t : (N, D); h_prev, c_prev : (N, H); params : a standard LSTM.

    Returns
    -------
    dict with ``z``, ``z_i``, ``z_f``, ``z_o``, ``c`` (c') and ``a``, each (N, H).
    """
    x_t = check_float_array("x_t", x_t, ndim=2, shape_doc="(N, D)")
    H = params["W"].shape[1]
    bl = _blocks(params, H)
    signal = {k: x_t @ Uk.T + h_prev @ Wk.T + bk for k, (Uk, Wk, bk) in bl.items()}
    z, z_i, z_f, z_o = signal["g"], signal["i"], signal["f"], signal["o"]
    c_new = sigmoid(z_f) * c_prev + sigmoid(z_i) * np.tanh(z)
    return {"z": z, "z_i": z_i, "z_f": z_f, "z_o": z_o, "c": c_new,
            "a": np.tanh(c_new) * sigmoid(z_o)}


def input_jacobian_norms(cell: str, params, x, *, tiny: float = 1e-250,
                         **options) -> np.ndarray:
    """``||dh_t / dx_s||_F`` for every pair of steps, by the cell's own step backward.

    .. math::  A[n, t, s] = \\left\\| \\frac{\\partial h_t}{\\partial x_s} \\right\\|_F

    (and ``A = 0`` for ``s > t``)

    The sequences are repeated H times (copy ``j`` of the batch carries
    unit ``j``) and run forward step by step with the cell's
    ``step_forward``; then, for each step ``t``, the upstream gradient
    ``e_j`` on ``h_t`` is walked back with ``step_backward`` to every
    ``s <= t``, and ``dx_s`` of all copies gives row ``j`` of the Jacobian.
    Zero initial state. Gradients below ``tiny`` in size are set to 0
    between steps: a vanished gradient would otherwise sink into float64's
    subnormal range, where arithmetic is about a hundred times slower.

    Parameters
    ----------
    cell : a registered cell name ("rnn", "lstm", ...).
    params : the cell's parameters.
    x : (N, T, D) input sequences.
    tiny : float, the flush-to-zero threshold (0 keeps everything).
    **options : the cell's options (``activation="tanh"``, ``force=...``
        with (N, T, H) arrays or constants).

    Returns
    -------
    A : (N, T, T) array, ``A[n, t-1, s-1]`` for steps ``t, s`` in 1..T.
    """
    c = get_cell(cell)
    x = check_float_array("x", x, ndim=3, shape_doc="(N, T, D)")
    N, T, D = x.shape
    H = params["W"].shape[1]
    xr = np.tile(x, (H, 1, 1))                                         # (H*N, T, D)
    opts = dict(options)
    force = opts.pop("force", None) or {}
    force = {k: (np.tile(v, (H, 1, 1)) if np.ndim(v) == 3 else v) for k, v in force.items()}
    state = tuple(np.zeros((H * N, H)) for _ in c.state)
    caches = []
    for t in range(T):                                                 # forward, step by step
        step_opts = dict(opts)
        if force:
            step_opts["force"] = {k: (v[:, t] if np.ndim(v) == 3 else v) for k, v in force.items()}
        _, state, cache = c.step_forward(xr[:, t], state, params, **step_opts)
        caches.append(cache)
    A = np.zeros((N, T, T))
    unit = np.repeat(np.arange(H), N)                                  # (H*N,) unit of each copy
    rows = np.arange(H * N)
    for t in range(T):
        e = np.zeros((H * N, H))
        e[rows, unit] = 1.0                                            # e_j on h_t
        dstate = (e,) + tuple(np.zeros((H * N, H)) for _ in c.state[1:])
        for s in range(t, -1, -1):                                     # back to every s <= t
            dx, dstate, _ = c.step_backward(dstate, caches[s])         # dx_s: (H*N, D)
            sq = (dx ** 2).sum(axis=1).reshape(H, N).sum(axis=0)       # sum over j, d
            A[:, t, s] = np.sqrt(sq)
            dstate = tuple(np.where(np.abs(d) < tiny, 0.0, d) for d in dstate)
    return A


def parameter_count(params) -> int:
    """Number of numbers in a (nested) parameter dict."""
    if isinstance(params, dict):
        return sum(parameter_count(v) for v in params.values())
    return int(np.size(params))


#: registered LSTM cells and their variant (the layout of U, W, b)
LSTM_CELLS = {"lstm": "standard", "lstm_no_forget": "no_forget",
              "lstm_coupled": "coupled", "lstm_no_output": "no_output"}


def train_task(spec: ModelSpec, task, seed: int, steps: int, lr: float,
               clip: float | None = 1.0, forget_bias: float | None = None):
    """Initialise a model with ``default_rng(seed)`` and train it with Adam on ``task(rng)`` batches.

    Parameters
    ----------
    spec : ModelSpec.
    task : callable ``task(rng) -> (inputs, targets)``, one fresh training
        batch per step (so the training loss is also a held-out estimate).
    seed : int >= 0; the initialisation uses ``default_rng(seed)``, the
        batches ``default_rng(seed + 1000)``.
    steps : Adam steps; lr : learning rate.
    clip : global-norm threshold (None: no clipping).
    forget_bias : for an LSTM cell with a forget gate: the value added to
        the forget block of ``b`` instead of the initialiser's 1.0
        (``forget_bias=0`` gives PyTorch's initialisation).

    Returns
    -------
    params, history : as ``rnnlib.train``.
    """
    seed = check_positive_int("seed", seed, minimum=0)
    params = init_model(spec, np.random.default_rng(seed))
    if forget_bias is not None:
        blocks = LSTM_VARIANTS[LSTM_CELLS[spec.cell]]
        if "f" not in blocks:
            raise ValueError(f"forget_bias: cell {spec.cell!r} has no forget gate")
        j, H = blocks.index("f"), spec.H
        params["rnn"]["b"][j * H:(j + 1) * H] += forget_bias - 1.0
    rng = np.random.default_rng(seed + 1000)
    return train(params, spec, task, steps=steps, lr=lr,
                 clip=None if clip is None else ("norm", clip), rng=rng)


def evaluate(params, spec: ModelSpec, data) -> float:
    """The spec's loss (MSE or cross-entropy) of ``params`` on ``data = (inputs, targets)``."""
    inputs, targets = data
    outputs, _ = model_forward(params, inputs, spec)
    loss, _ = output_loss(outputs, targets, spec)
    return loss


def gate_ranges(trace, gates=("i", "f", "o")) -> dict:
    """Smallest and largest value each gate took, and its share near the ends.

    Returns
    -------
    dict gate -> (min, max, share of values within 0.05 of 0 or of 1).
    """
    out = {}
    for k in gates:
        v = np.asarray(trace[k])
        near = np.mean((v < 0.05) | (v > 0.95))
        out[k] = (float(v.min()), float(v.max()), float(near))
    return out


def steps_to_reach(losses, threshold: float, window: int = 20):
    """First step at which the running mean of ``window`` losses is below ``threshold``.

    Returns the step (1-based, the window's last step) or None if never.
    """
    losses = np.asarray(losses, dtype=float)
    window = check_positive_int("window", window)
    if losses.size < window:
        return None
    run = np.convolve(losses, np.ones(window) / window, mode="valid")
    hit = np.flatnonzero(run < threshold)
    return None if hit.size == 0 else int(hit[0] + window)


def fmt(values, digits: int = 2) -> str:
    """Numbers as ``"0.12, -0.5"`` for printing: ``digits`` decimals, no ``-0.00``."""
    out = []
    for v in np.ravel(np.asarray(values, dtype=float)):
        s = f"{v:.{digits}f}"
        out.append(s.lstrip("-") if float(s) == 0 else s)
    return ", ".join(out)
