"""A small sequence model composed from rnnlib's forward/backward pairs.

The chapters after the first two train one kind of model over and over::

    inputs --(embedding or as is)--> x       (N, T, D)
    x --(RNN / LSTM / GRU, optionally bidirectional)--> h   (N, T, H) or (N, T, 2H)
    h --(optional layer norm over the hidden units)--> h
    h --(time-distributed affine)--> outputs  (N, T, K)   "every" step
                                     or       (N, K)      "last" step only

This module wires those pieces together as plain functions:
:func:`init_model`, :func:`model_forward`, :func:`model_backward` and
:func:`model_loss` for whole sequences, and :func:`model_step_forward` /
:func:`model_step_backward` for one time step of the same model (what
teacher forcing, sampling, beam search and the seq2seq decoder unroll).
The recurrent layer is any cell of the registry (:mod:`rnnlib.cells`),
looked up by name; nothing here depends on which. What the model looks like is described by a frozen
:class:`ModelSpec`; the numbers live in a nested ``params`` dict
(``params["rnn"]``, ``params["out"]``, ...) and the gradients come back in a
dict of the same nesting, keys and shapes. There is no hidden state: the
same params, inputs and spec always give the same result.

Layer normalization (``norm="layer"``) is applied to the hidden states
*after* the recurrence, ``h_t <- LN(h_t)``, before the output layer. It
does not change the recurrence itself (Ba et al. 2016 also normalise inside
the cell); this keeps the recurrent layers the exact, gradient-checked
engine functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import check_choice, check_positive_int, check_rng, describe
from .affine import affine_backward, affine_forward
from .bidirectional import bidirectional_backward, bidirectional_forward
from .cells import get_cell
from .embedding import check_ids, embedding_backward, embedding_forward, init_embedding
from .init import init_affine
from .losses import mse_loss, softmax_cross_entropy
from .normalization import init_norm_params, layernorm_backward, layernorm_forward

__all__ = ["ModelSpec", "init_model", "model_forward", "model_backward",
           "model_loss", "model_step_forward", "model_step_backward", "initial_state",
           "sequence_ends", "add_grads", "check_model_params", "output_loss", "flatten_params", "unflatten_params", "Model"]


@dataclass(frozen=True)
class ModelSpec:
    """What the model looks like (no numbers: those are in ``params``).

    Parameters
    ----------
    cell : the name of a registered cell (:func:`rnnlib.cells.cell_names`):
        "rnn", "lstm", "gru", "lstm_no_forget", "lstm_coupled", ...
    input : "dense" (float inputs (N, T, D)) or "embedding" (integer token
        ids (N, T) looked up in a (vocab, D) table).
    D : input features per step (the embedding size for "embedding").
    H : hidden units (per direction).
    K : outputs per step (classes / vocabulary for ``loss="xent"``).
    vocab : number of token ids for ``input="embedding"`` (else None).
    bidirectional : run the recurrence both ways and concatenate, so the
        output layer sees 2H features.
    norm : None or "layer" (layer normalization of the hidden states).
    loss : "xent" (softmax cross-entropy, integer targets) or "mse".
    output : "every" (many-to-many, outputs (N, T, K)) or "last"
        (many-to-one, outputs (N, K) from the final state).
    activation : the Elman RNN's nonlinearity ("tanh", "relu", "linear");
        only the "rnn" cell takes one.
    cell_options : the cell's other options, a dict (for the GRU
        ``{"reset": "before"}``, for an LSTM ``{"peephole": True}``); stored
        as sorted (key, value) pairs so that the spec stays hashable.
    dtype : "float64" (default) or "float32".
    """

    cell: str = "lstm"
    input: str = "dense"
    D: int = 1
    H: int = 16
    K: int = 1
    vocab: int | None = None
    bidirectional: bool = False
    norm: str | None = None
    loss: str = "xent"
    output: str = "every"
    activation: str = "tanh"
    dtype: str = "float64"
    cell_options: tuple = ()

    def __post_init__(self):
        cell = get_cell(self.cell, where="spec.cell")
        opts = self.cell_options
        if isinstance(opts, dict):
            opts = tuple(sorted(opts.items()))
        if not isinstance(opts, tuple) or not all(isinstance(o, tuple) and len(o) == 2
                                                  for o in opts):
            raise TypeError(f"spec.cell_options: expected a dict of the cell's options, "
                            f"got {describe(self.cell_options)}")
        object.__setattr__(self, "cell_options", opts)
        if "activation" in dict(opts):
            raise ValueError("spec.cell_options: give the activation as spec.activation, "
                             "not in cell_options")
        check_choice("spec.activation", self.activation, ("tanh", "relu", "linear"))
        if "activation" not in cell.options and self.activation != "tanh":
            raise ValueError(f"spec.activation: cell {self.cell!r} has no activation option "
                             f"(only 'rnn' does), got {self.activation!r}")
        cell.check_options(self.cell_kwargs, where="spec.cell_options")
        check_choice("spec.input", self.input, ("dense", "embedding"))
        check_positive_int("spec.D", self.D)
        check_positive_int("spec.H", self.H)
        check_positive_int("spec.K", self.K)
        if self.input == "embedding":
            check_positive_int("spec.vocab", self.vocab)
        elif self.vocab is not None:
            raise ValueError(
                f"spec.vocab: expected None for input='dense', got {self.vocab!r}")
        if not isinstance(self.bidirectional, bool):
            raise TypeError(
                f"spec.bidirectional: expected True or False, got {describe(self.bidirectional)}")
        if self.norm not in (None, "layer"):
            raise ValueError(f"spec.norm: expected None or 'layer', got {self.norm!r}")
        check_choice("spec.loss", self.loss, ("xent", "mse"))
        check_choice("spec.output", self.output, ("every", "last"))
        check_choice("spec.dtype", self.dtype, ("float64", "float32"))

    @property
    def cell_kwargs(self) -> dict:
        """The options the cell's functions receive (``activation`` included for "rnn")."""
        opts = dict(self.cell_options)
        if "activation" in get_cell(self.cell).options:
            opts["activation"] = self.activation
        return opts

    @property
    def features(self) -> int:
        """Width of the recurrent output: H, or 2H when bidirectional."""
        return 2 * self.H if self.bidirectional else self.H


# --------------------------------------------------------------------------
# nested <-> flat parameter dicts (optimizers and clipping take flat dicts)

def flatten_params(params: dict, prefix: str = "") -> dict:
    """Flatten a nested dict of arrays to ``{"rnn.U": array, ...}``.

    The arrays are not copied. :func:`unflatten_params` undoes it.
    """
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict, got {describe(params)}")
    flat = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_params(value, prefix=name + "."))
        else:
            flat[name] = value
    return flat


def unflatten_params(flat: dict) -> dict:
    """Rebuild the nested dict from :func:`flatten_params`' dotted keys."""
    nested: dict = {}
    for name, value in flat.items():
        parts = name.split(".")
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return nested


# --------------------------------------------------------------------------

def init_model(spec: ModelSpec, rng: np.random.Generator) -> dict:
    """Draw the parameters of the model ``spec`` describes.

    Parameters
    ----------
    spec : ModelSpec.
    rng : np.random.Generator, the only source of randomness.

    Returns
    -------
    params : nested dict. ``"embed"`` {"E" (vocab, D)} for embedding input;
        ``"rnn"`` (the cell's params, e.g. U (gH, D), W (gH, H), b (gH,)), or
        ``"rnn_fw"`` and ``"rnn_bw"`` when bidirectional; ``"norm"``
        {"gamma", "beta"} (F,) with F = H or 2H when ``norm="layer"``;
        ``"out"`` {"V" (K, F), "c" (K,)}.
    """
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"spec: expected a ModelSpec, got {describe(spec)}")
    check_rng(rng)
    dtype = np.dtype(spec.dtype)
    params: dict = {}
    if spec.input == "embedding":
        params["embed"] = init_embedding(spec.vocab, spec.D, rng, dtype=dtype)
    cell, opts = get_cell(spec.cell), spec.cell_kwargs
    if spec.bidirectional:
        params["rnn_fw"] = cell.init(spec.D, spec.H, rng, dtype, **opts)
        params["rnn_bw"] = cell.init(spec.D, spec.H, rng, dtype, **opts)
    else:
        params["rnn"] = cell.init(spec.D, spec.H, rng, dtype, **opts)
    F = spec.features
    if spec.norm == "layer":
        params["norm"] = init_norm_params(F, dtype=dtype)
    params["out"] = init_affine(F, spec.K, rng, dtype)
    return params


def check_model_params(params, spec: ModelSpec) -> None:
    """Raise unless ``params`` has the top-level keys ``spec`` calls for."""
    if not isinstance(params, dict):
        raise TypeError(f"params: expected the nested dict from init_model, got {describe(params)}")
    expected = {"out"}
    if spec.input == "embedding":
        expected.add("embed")
    expected |= {"rnn_fw", "rnn_bw"} if spec.bidirectional else {"rnn"}
    if spec.norm == "layer":
        expected.add("norm")
    if set(params) != expected:
        raise ValueError(
            f"params: expected top-level keys {sorted(expected)} for this spec, "
            f"got {sorted(params)}")


def _embed_or_pass(params, inputs, spec):
    """Return x (N, T, D) and the embedding cache (or None)."""
    if spec.input == "embedding":
        check_ids("inputs", inputs, spec.vocab)
        x, emb_cache = embedding_forward(inputs, params["embed"])
        return x, emb_cache
    if not isinstance(inputs, np.ndarray):
        raise TypeError(f"inputs: expected a float array (N, T, D), got {describe(inputs)}")
    return inputs, None


def _recurrent_forward(params, x, spec, mask):
    """Run the recurrent layer; return h (N, T, F) and its cache."""
    if spec.bidirectional:
        return bidirectional_forward(x, params["rnn_fw"], params["rnn_bw"], spec.cell,
                                     mask=mask, **spec.cell_kwargs)
    cell = get_cell(spec.cell)
    zeros = cell.zero_state(x.shape[0], spec.H, x.dtype)
    states, cache = cell.forward(x, zeros, params["rnn"], mask=mask, **spec.cell_kwargs)
    return states[0], cache


def _recurrent_backward(dh, cache, spec):
    """Return dx (N, T, D) and the recurrent gradients as a nested dict."""
    if spec.bidirectional:
        dx, grads_fw, grads_bw = bidirectional_backward(dh, cache)
        return dx, {"rnn_fw": grads_fw, "rnn_bw": grads_bw}
    cell = get_cell(spec.cell)
    dx, _, grads = cell.backward((dh,) + (None,) * (len(cell.state) - 1), cache)
    return dx, {"rnn": grads}


def sequence_ends(mask, N: int, T: int) -> tuple:
    """Index of each sequence's last and first valid step: two int arrays (N,).

    Parameters
    ----------
    mask : (N, T) of 0/1 or None (every step valid).
    N, T : ints.

    Returns
    -------
    last, first : int arrays (N,).
    """
    if mask is None:
        return np.full(N, T - 1), np.zeros(N, dtype=np.int64)
    valid = np.asarray(mask) != 0                                     # (N, T)
    last = T - 1 - np.argmax(valid[:, ::-1], axis=1)
    first = np.argmax(valid, axis=1)
    return last, first


def model_forward(params: dict, inputs: np.ndarray, spec: ModelSpec,
                  mask: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Forward pass of the composed model.

    .. math::

        x_t &= E[\\text{id}_t], \\\\
        h_t &= \\text{cell}(x_t, h_{t-1}), \\\\
        o_t &= V\\, \\text{LN}(h_t) + c

    (with ``input="dense"``, ``x_t`` is the input itself). With ``output="last"`` only the final state is read out: ``o = V h_T + c``
    (for a bidirectional layer, ``h_T`` of the forward direction and ``h_1``
    of the backward one). With a mask, ``T`` is each sequence's own last
    valid step (and ``1`` its first).

    Parameters
    ----------
    params : nested dict from :func:`init_model`.
    inputs : (N, T, D) floats for ``input="dense"``; (N, T) integer ids for
        ``input="embedding"``.
    spec : ModelSpec.
    mask : optional (N, T) of 0/1, 1 on valid steps.

    Returns
    -------
    outputs : (N, T, K) for ``output="every"``, (N, K) for ``"last"``
        (logits for ``loss="xent"``, predictions for ``"mse"``).
    cache : dict for :func:`model_backward`; ``cache["h"]`` is the hidden
        sequence (N, T, F) and ``cache["rnn"]["trace"]`` the recurrent
        layer's per-step trace (unidirectional).
    """
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"spec: expected a ModelSpec, got {describe(spec)}")
    check_model_params(params, spec)
    x, emb_cache = _embed_or_pass(params, inputs, spec)
    h, rnn_cache = _recurrent_forward(params, x, spec, mask)        # (N, T, F)
    N, T, F = h.shape
    norm_cache = None
    hn = h
    if spec.norm == "layer":
        hn, norm_cache = layernorm_forward(h, params["norm"])        # (N, T, F)
    if spec.output == "last":
        last, first = sequence_ends(mask, N, T)
        rows = np.arange(N)
        if spec.bidirectional:
            H = spec.H
            # forward direction ends at the last valid step, backward at the first: (N, 2H)
            summary = np.concatenate([hn[rows, last, :H], hn[rows, first, H:]], axis=1)
        else:
            summary = hn[rows, last, :]                               # (N, H)
        o, out_cache = affine_forward(summary[:, None, :], params["out"])  # (N, 1, K)
        outputs = o[:, 0, :]                                          # (N, K)
    else:
        outputs, out_cache = affine_forward(hn, params["out"])        # (N, T, K)
    cache = {"spec": spec, "emb": emb_cache, "rnn": rnn_cache, "norm": norm_cache,
             "out": out_cache, "h": h, "shape": (N, T, F), "dtype": h.dtype,
             "ends": sequence_ends(mask, N, T)}
    return outputs, cache


def model_backward(doutputs: np.ndarray, cache: dict) -> dict:
    """Backward pass of :func:`model_forward`: gradients of every parameter.

    Parameters
    ----------
    doutputs : upstream gradient, same shape as ``outputs``: (N, T, K) or (N, K).
    cache : from :func:`model_forward`.

    Returns
    -------
    grads : nested dict with the keys and shapes of ``params``
        (``grads["out"]["V"]`` is dL/dV, ...).
    """
    spec: ModelSpec = cache["spec"]
    N, T, F = cache["shape"]
    expected = (N, spec.K) if spec.output == "last" else (N, T, spec.K)
    if not isinstance(doutputs, np.ndarray) or doutputs.shape != expected:
        got = doutputs.shape if isinstance(doutputs, np.ndarray) else describe(doutputs)
        raise ValueError(f"doutputs: expected shape {expected} (the outputs' shape), got {got}")
    grads: dict = {}
    # through the output layer
    if spec.output == "last":
        dsummary, grads["out"] = affine_backward(doutputs[:, None, :], cache["out"])
        dsummary = dsummary[:, 0, :]                                  # (N, F)
        dhn = np.zeros((N, T, F), dtype=cache["dtype"])
        last, first = cache["ends"]
        rows = np.arange(N)
        if spec.bidirectional:
            H = spec.H
            dhn[rows, last, :H] = dsummary[:, :H]
            dhn[rows, first, H:] = dsummary[:, H:]
        else:
            dhn[rows, last, :] = dsummary
    else:
        dhn, grads["out"] = affine_backward(doutputs, cache["out"])   # (N, T, F)
    # through layer norm
    dh = dhn
    if spec.norm == "layer":
        dh, grads["norm"] = layernorm_backward(dhn, cache["norm"])
    # through the recurrence
    dx, rnn_grads = _recurrent_backward(dh, cache["rnn"], spec)
    grads.update(rnn_grads)
    # into the embedding table
    if spec.input == "embedding":
        grads["embed"] = embedding_backward(dx, cache["emb"])
    return grads


def model_loss(params: dict, inputs: np.ndarray, targets: np.ndarray, spec: ModelSpec,
               mask: np.ndarray | None = None) -> tuple[float, dict]:
    """Loss of the composed model and its gradient for every parameter.

    With ``loss="xent"``,

    .. math::

        L = -\\frac{1}{|V|} \\sum_{(n,t) \\in V} \\log \\hat y_{n,t}[y_{n,t}]

    with ``yhat = softmax(o)`` and V the valid steps; with ``loss="mse"``,

    .. math::

        L = \\text{mean}\\,(o - y)^2 .

    Parameters
    ----------
    params : nested dict from :func:`init_model`.
    inputs : (N, T, D) floats or (N, T) ids, as for :func:`model_forward`.
    targets : xent: integer classes (N, T) ("every") or (N,) ("last");
        mse: floats (N, T, K) ("every") or (N, K) ("last").
    spec : ModelSpec.
    mask : optional (N, T) of 0/1; for ``output="every"`` masked steps are
        left out of the loss as well as carried over in the recurrence.

    Returns
    -------
    loss : float.
    grads : nested dict like ``params``.
    """
    outputs, cache = model_forward(params, inputs, spec, mask=mask)
    loss, doutputs = output_loss(outputs, targets, spec, mask)
    grads = model_backward(doutputs, cache)
    return loss, grads


def output_loss(outputs, targets, spec, mask=None):
    """The spec's loss of ``outputs`` and its gradient (handles ``output="last"``).

    Parameters
    ----------
    outputs : (N, T, K) or (N, K), from :func:`model_forward`.
    targets, mask : as for :func:`model_loss`.

    Returns
    -------
    loss : float.
    doutputs : like ``outputs``.
    """
    if not isinstance(targets, np.ndarray):
        raise TypeError(f"targets: expected a numpy array, got {describe(targets)}")
    last = spec.output == "last"
    o = outputs[:, None, :] if last else outputs                      # (N, T', K)
    step_mask = None if last else mask
    if spec.loss == "xent":
        if targets.dtype.kind not in "iu":
            raise TypeError(f"targets: expected integer class ids for loss='xent', "
                            f"got dtype {targets.dtype}")
        want = o.shape[:1] if last else o.shape[:2]
        if targets.shape != want:
            raise ValueError(f"targets: expected shape {'(N,)' if last else '(N, T)'} = "
                             f"{want}, got {targets.shape}")
        y = targets[:, None] if last else targets
        loss, do = softmax_cross_entropy(o, y, mask=step_mask)
    else:
        want = outputs.shape
        if targets.shape != want:
            raise ValueError(f"targets: expected shape {'(N, K)' if last else '(N, T, K)'} = "
                             f"{want}, got {targets.shape}")
        y = targets[:, None, :] if last else targets
        loss, do = mse_loss(o, y, mask=step_mask)
    if last:
        do = do[:, 0, :]
    return float(loss), do


# --------------------------------------------------------------------------
# one time step of the same model (teacher forcing, generation, seq2seq)

def initial_state(spec: ModelSpec, batch: int = 1) -> tuple:
    """Zero state of the model's cell for ``batch`` sequences: a tuple of (B, H) arrays.

    The order is the cell's ``state`` (``("h",)``, or ``("h", "c")`` for an LSTM).
    """
    batch = check_positive_int("batch", batch)
    return get_cell(spec.cell).zero_state(batch, spec.H, np.dtype(spec.dtype))


def _check_step_spec(spec):
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"spec: expected a ModelSpec, got {describe(spec)}")
    if spec.bidirectional:
        raise ValueError("spec.bidirectional: one step at a time needs a model that runs "
                         "forward in time; expected False, got True")
    if spec.output != "every":
        raise ValueError(f"spec.output: expected 'every' (an output at each step), "
                         f"got {spec.output!r}")
    if not get_cell(spec.cell).stepwise:
        raise ValueError(f"spec.cell: cell {spec.cell!r} normalises with statistics over all "
                         f"steps of a sequence, so it cannot run one step at a time")


def _step_input(params, inputs_t, spec):
    """x_t (B, D) from token ids (B,) or float values (B, D), and how it was made."""
    if not isinstance(inputs_t, np.ndarray):
        raise TypeError(f"inputs_t: expected token ids (B,) or floats (B, D), "
                        f"got {describe(inputs_t)}")
    if inputs_t.dtype.kind in "iu":
        n_in = spec.vocab if spec.input == "embedding" else spec.D
        check_ids("inputs_t", inputs_t, n_in, ndim=1, shape_doc="(B,)")
        if spec.input == "embedding":
            return params["embed"]["E"][inputs_t], "embedding"            # (B, D)
        x = np.zeros((inputs_t.shape[0], spec.D), dtype=np.dtype(spec.dtype))
        x[np.arange(inputs_t.shape[0]), inputs_t] = 1.0                   # one-hot (B, D)
        return x, "one-hot"
    if spec.input == "embedding":
        raise TypeError(f"inputs_t: input='embedding' reads integer token ids (B,), "
                        f"got {describe(inputs_t)}")
    if inputs_t.ndim != 2 or inputs_t.shape[1] != spec.D:
        raise ValueError(f"inputs_t: expected floats of shape (B, D) with D = {spec.D}, "
                         f"got shape {inputs_t.shape}")
    return inputs_t, "dense"


def model_step_forward(params: dict, spec: ModelSpec, inputs_t: np.ndarray,
                       state: tuple) -> tuple[np.ndarray, tuple, dict]:
    """One time step of the model of :func:`model_forward`.

    .. math::

        x_t &= E[\\text{id}_t], \\\\
        (h_t, \\dots) &= \\text{cell}(x_t, \\text{state}_{t-1}), \\\\
        o_t &= V\\, \\text{LN}(h_t) + c

    (with dense input, ``x_t`` is the one-hot vector of ``id_t`` when ids
    are given, or the input itself).

    Parameters
    ----------
    params : nested dict from :func:`init_model`.
    spec : ModelSpec, unidirectional, ``output="every"``.
    inputs_t : (B,) int token ids (embedding, or one-hot for dense input
        with D = number of ids), or (B, D) floats.
    state : tuple of (B, H) arrays in the cell's ``state`` order
        (:func:`initial_state` gives zeros).

    Returns
    -------
    outputs_t : (B, K), logits (xent) or predictions (mse).
    state_t : tuple of (B, H), the new state.
    cache : dict for :func:`model_step_backward`.
    """
    _check_step_spec(spec)
    cell = get_cell(spec.cell)
    if not isinstance(state, tuple) or len(state) != len(cell.state):
        raise ValueError(f"state: expected a tuple of {len(cell.state)} arrays {cell.state} "
                         f"for cell {spec.cell!r}, got {describe(state)}")
    x_t, how = _step_input(params, inputs_t, spec)
    h_t, state_t, cell_cache = cell.step_forward(x_t, state, params["rnn"], **spec.cell_kwargs)
    hn = h_t[:, None, :]                                               # (B, 1, H)
    norm_cache = None
    if spec.norm == "layer":
        hn, norm_cache = layernorm_forward(hn, params["norm"])
    o, out_cache = affine_forward(hn, params["out"])                   # (B, 1, K)
    cache = {"spec": spec, "cell": cell_cache, "norm": norm_cache, "out": out_cache,
             "input": how, "ids": inputs_t if how == "embedding" else None,
             "vocab_shape": params["embed"]["E"].shape if how == "embedding" else None}
    return o[:, 0, :], state_t, cache


def model_step_backward(doutputs_t: np.ndarray, dstate: tuple, cache: dict
                        ) -> tuple[np.ndarray, tuple, dict]:
    """Backward pass of :func:`model_step_forward`.

    Parameters
    ----------
    doutputs_t : (B, K), gradient on this step's outputs.
    dstate : tuple like the state (entries may be None), the gradient on the
        new state from later steps.
    cache : from :func:`model_step_forward`.

    Returns
    -------
    dx_t : (B, D), gradient on the step's input vector x_t.
    dstate_prev : tuple of (B, H), gradient on the previous state.
    grads : nested dict like ``params`` with this step's share (``"rnn"``,
        ``"out"``, ``"norm"`` if used, and ``"embed"`` for embedding input).
    """
    spec = cache["spec"]
    cell = get_cell(spec.cell)
    grads: dict = {}
    dhn, grads["out"] = affine_backward(doutputs_t[:, None, :], cache["out"])   # (B, 1, H)
    if spec.norm == "layer":
        dhn, grads["norm"] = layernorm_backward(dhn, cache["norm"])
    dh = dhn[:, 0, :]                                                  # through the readout
    if dstate[0] is not None:
        dh = dh + dstate[0]                                            # plus from the next step
    dx_t, dstate_prev, grads["rnn"] = cell.step_backward((dh,) + tuple(dstate[1:]),
                                                         cache["cell"])
    if cache["input"] == "embedding":
        dE = np.zeros(cache["vocab_shape"], dtype=dx_t.dtype)
        np.add.at(dE, cache["ids"], dx_t)                              # into the rows read
        grads["embed"] = {"E": dE}
    return dx_t, dstate_prev, grads


def add_grads(total: dict, new: dict) -> dict:
    """``total += new`` for nested dicts of arrays; returns ``total``.

    ``total`` is modified (arrays it does not have yet are copied in).
    """
    for key, value in new.items():
        if isinstance(value, dict):
            add_grads(total.setdefault(key, {}), value)
        elif key in total:
            total[key] = total[key] + value
        else:
            total[key] = value.copy()
    return total


class Model:
    """A thin convenience wrapper: a spec and its params, nothing else.

    ``Model(spec, rng)`` draws parameters; ``.forward``, ``.loss`` call the
    functions above with ``self.params``. Nothing is cached between calls;
    assigning ``model.params = new_params`` is the only way it changes.
    """

    def __init__(self, spec: ModelSpec, rng: np.random.Generator | None = None,
                 params: dict | None = None):
        if (rng is None) == (params is None):
            raise ValueError("Model: give exactly one of rng (to draw parameters) or params")
        self.spec = spec
        self.params = init_model(spec, rng) if params is None else params

    def forward(self, inputs, mask=None):
        return model_forward(self.params, inputs, self.spec, mask=mask)

    def loss(self, inputs, targets, mask=None):
        return model_loss(self.params, inputs, targets, self.spec, mask=mask)
