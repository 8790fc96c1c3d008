"""The same models in PyTorch, trained side by side with rnnlib (chapter 8, section 8.7).

Two models of the practice chapter, each built twice: as an
:class:`rnnlib.ModelSpec` and as the equivalent ``torch.nn`` module
(:func:`torch_model`):

* a character model: embedding (vocab, D) -> GRU or LSTM (H) -> linear
  read-out to the vocabulary, softmax cross-entropy at every step;
* a forecaster: one value per step -> LSTM (H) -> linear read-out of the
  next ``h`` values, squared error.

The torch module is loaded with rnnlib's initial weights
(:func:`load_into_torch`, the recurrent layer through
:func:`rnnlib.interop.params_to_torch`), both are trained on the same list
of batches with Adam (:func:`train_rnnlib`, :func:`train_torch`), and the
loss curves are compared.

One convention needs care. rnnlib has one bias ``b`` per gate where torch
has two, ``bias_ih + bias_hh``; ``params_to_torch`` writes ``b`` into
``bias_ih`` and zeros into ``bias_hh``. If torch then trains both, their
sum moves twice as far per step as rnnlib's ``b`` (with SGD: by
``-2 lr db``; with Adam, each moves by about ``lr``). So the torch model
trains ``bias_ih`` only: ``bias_hh`` is frozen, except the GRU's ``b_hn``
block (``bhn`` in rnnlib, a parameter of its own inside ``r * (W_hn h +
b_hn)``), whose other blocks get a zero gradient. A zero gradient from the
first step on leaves Adam's moments at zero and the parameter where it is.

torch is imported inside the functions only: ``import rnnlib`` and this
module work without it.
"""

from __future__ import annotations

import time

import numpy as np

from rnnlib.data.batching import minibatches
from rnnlib.data.text import CharVocab, load_corpus, next_token_chunks
from rnnlib.data.timeseries import horizon_targets, mackey_glass, windows
from rnnlib.interop import params_from_torch, params_to_torch
from rnnlib.model import ModelSpec
from rnnlib.optim import OPTIMIZERS
from rnnlib.training import train

__all__ = ["char_batches", "forecast_batches", "batch_list", "torch_model",
           "load_into_torch", "params_of_torch", "train_rnnlib", "train_torch",
           "optimizer_parity", "best_time", "rnnlib_step", "torch_step"]


# --------------------------------------------------------------------------
# data: the same batches for both sides

def char_batches(T: int = 25):
    """The shipped sonnets as next-character chunks.

    Returns
    -------
    vocab : CharVocab of the text.
    inputs, targets : (N, T) int64 ids, ``targets[n, t] = inputs[n, t + 1]``
        within the text (chunks do not overlap).
    """
    text = load_corpus("sonnets")
    vocab = CharVocab(text)
    inputs, targets = next_token_chunks(vocab.encode(text), T)
    return vocab, inputs, targets


def forecast_batches(T: int = 40, horizon: int = 20, n: int = 1400, stride: int = 2):
    """Chunks of the standardised Mackey-Glass series with direct targets.

    Returns
    -------
    x : (N, T, 1) float64, chunk values.
    y : (N, T, horizon) float64, ``y[n, t, k-1]`` the value ``k`` steps after ``x[n, t]``.
    """
    raw = mackey_glass(n)
    z = (raw - raw.mean()) / raw.std()
    values, Y = horizon_targets(z, horizon)                          # (n - h,), (n - h, h)
    chunks, _ = windows(np.column_stack([values, Y]), T, 1)          # (N, T, 1 + h)
    chunks = chunks[::stride]
    return chunks[:, :, :1].copy(), chunks[:, :, 1:].copy()


def batch_list(inputs: np.ndarray, targets: np.ndarray, batch_size: int, steps: int,
               rng: np.random.Generator) -> list:
    """``steps`` mini-batches in a fixed order, drawn once, for both trainers.

    Epochs are random permutations from ``rng`` (:func:`rnnlib.data.batching.minibatches`).

    Returns
    -------
    batches : list of (inputs[rows], targets[rows]) tuples, ``steps`` long.
    """
    out = []
    while len(out) < steps:
        for rows in minibatches(inputs.shape[0], batch_size, rng, drop_last=True):
            out.append((inputs[rows], targets[rows]))
            if len(out) == steps:
                break
    return out


# --------------------------------------------------------------------------
# the torch module

# rnnlib cell -> (its torch.nn layer, the blocks of the layer's bias_hh that
# rnnlib also has and that must train: none for the LSTM, whose b lives in
# bias_ih alone; the GRU's third block, b_hn, which sits inside r * (...)).
TORCH_TWINS = {"lstm": ("LSTM", ()), "gru": ("GRU", (2,))}


def torch_model(spec: ModelSpec):
    """The ``torch.nn`` equivalent of a unidirectional rnnlib model (float64).

    embedding (if ``spec.input == "embedding"``) -> ``nn.GRU`` / ``nn.LSTM``
    (``batch_first``) -> ``nn.Linear(H, K)`` at every step. The module's
    ``forward(inputs)`` returns outputs (N, T, K) like
    :func:`rnnlib.model.model_forward`.

    Parameters
    ----------
    spec : ModelSpec with ``cell`` "lstm" or "gru" (GRU: ``reset="after"``,
        the default, which is PyTorch's), no layer norm, ``output="every"``,
        not bidirectional.

    Returns
    -------
    module : torch.nn.Module with attributes ``embed`` (or None), ``rnn``, ``out``.
    """
    import torch
    from torch import nn

    if spec.cell not in TORCH_TWINS or spec.bidirectional or spec.norm is not None \
            or spec.output != "every" or dict(spec.cell_options).get("reset", "after") != "after":
        raise ValueError(f"spec: expected a unidirectional 'lstm' or 'gru' model (GRU with "
                         f"reset='after') without norm and with output='every', got {spec}")
    cls = getattr(nn, TORCH_TWINS[spec.cell][0])

    class SeqModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = (nn.Embedding(spec.vocab, spec.D, dtype=torch.float64)
                          if spec.input == "embedding" else None)
            self.rnn = cls(spec.D, spec.H, batch_first=True, dtype=torch.float64)
            self.out = nn.Linear(spec.H, spec.K, dtype=torch.float64)

        def forward(self, inputs):
            x = self.embed(inputs) if self.embed is not None else inputs   # (N, T, D)
            h, _ = self.rnn(x)                                             # (N, T, H)
            return self.out(h)                                             # (N, T, K)

    return SeqModel()


def load_into_torch(module, params: dict, spec: ModelSpec, both_biases: bool = False):
    """Copy rnnlib's nested params into :func:`torch_model`'s module; train ``b`` once.

    The recurrent weights go through :func:`rnnlib.interop.params_to_torch`
    (``bias_ih = b``, ``bias_hh = 0`` but the GRU's ``b_hn = bhn``); the
    embedding table ``E`` and the read-out ``V``, ``c`` are copied as they
    are. ``bias_hh`` is then kept out of training (see the module
    docstring): frozen for the LSTM, its r and z blocks masked to a zero
    gradient for the GRU. ``both_biases=True`` skips that (torch's default,
    for showing what goes wrong).

    Returns
    -------
    module (the same object).
    """
    import torch

    params_to_torch(params["rnn"], module.rnn)
    with torch.no_grad():
        if module.embed is not None:
            module.embed.weight.copy_(torch.from_numpy(params["embed"]["E"]))
        module.out.weight.copy_(torch.from_numpy(params["out"]["V"]))
        module.out.bias.copy_(torch.from_numpy(params["out"]["c"]))
    bias_hh = module.rnn.bias_hh_l0
    if both_biases:
        return module
    blocks = TORCH_TWINS[spec.cell][1]
    if not blocks:
        bias_hh.requires_grad_(False)
    else:
        H = spec.H
        keep = torch.zeros_like(bias_hh)
        for k in blocks:
            keep[k * H:(k + 1) * H] = 1.0                   # GRU: only b_hn trains
        if not getattr(module, "_bias_hook", False):
            bias_hh.register_hook(lambda g: g * keep)
            module._bias_hook = True
    return module


def params_of_torch(module) -> dict:
    """The torch module's current weights as rnnlib's nested params dict."""
    out = {"rnn": params_from_torch(module.rnn),
           "out": {"V": module.out.weight.detach().numpy().copy(),
                   "c": module.out.bias.detach().numpy().copy()}}
    if module.embed is not None:
        out["embed"] = {"E": module.embed.weight.detach().numpy().copy()}
    return out


# --------------------------------------------------------------------------
# training side by side

def train_rnnlib(params: dict, spec: ModelSpec, batches: list, lr: float,
                 optimizer: str = "adam", clip: float | None = None):
    """Train with :func:`rnnlib.training.train` on exactly ``batches``, in order.

    ``clip``: None, or the global-norm threshold (``clip=("norm", clip)``).

    Returns
    -------
    params : the trained nested params.
    losses : (len(batches),) the loss of each batch before its step.
    """
    trained, hist = train(params, spec, list(batches), optimizer=optimizer, lr=lr,
                          steps=len(batches), batch_size=None,
                          clip=None if clip is None else ("norm", clip))
    return trained, np.array(hist["loss"])


def _torch_loss(module, spec, inputs, targets):
    import torch
    import torch.nn.functional as F

    out = module(torch.from_numpy(inputs))                                # (N, T, K)
    if spec.loss == "xent":
        return F.cross_entropy(out.reshape(-1, spec.K),
                               torch.from_numpy(targets).reshape(-1))     # mean over N T
    return F.mse_loss(out, torch.from_numpy(targets))                     # mean over N T K


def train_torch(module, spec: ModelSpec, batches: list, lr: float, optimizer: str = "adam",
                clip: float | None = None):
    """The same training loop in PyTorch: ``torch.optim.Adam`` (or ``SGD``).

    ``clip``: None, or the threshold for ``torch.nn.utils.clip_grad_norm_``
    (the same ``max_norm / (norm + 1e-6)`` rule as rnnlib's).

    Returns
    -------
    module : the trained module (changed in place).
    losses : (len(batches),) the loss of each batch before its step.
    """
    import torch

    trainable = [p for p in module.parameters() if p.requires_grad]
    if optimizer == "adam":
        opt = torch.optim.Adam(trainable, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(trainable, lr=lr)
    else:
        raise ValueError(f"optimizer: expected 'adam' or 'sgd', got {optimizer!r}")
    losses = []
    for inputs, targets in batches:
        loss = _torch_loss(module, spec, inputs, targets)
        opt.zero_grad()
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(trainable, clip)
        opt.step()
        losses.append(loss.item())
    return module, np.array(losses)


def optimizer_parity(name: str, rng: np.random.Generator, steps: int = 25,
                     shapes=((7, 5), (5,)), lr: float = 0.01) -> float:
    """Largest difference between rnnlib's and torch.optim's parameters over ``steps`` steps.

    The same random float64 parameters; at every step the same random
    gradients go into ``rnnlib.optim.<name>`` and into torch's optimizer
    (``Adam(lr, betas=(0.9, 0.999), eps=1e-8)`` or ``SGD(lr)``).

    Returns
    -------
    gap : float, ``max |theta_rnnlib - theta_torch|`` over all steps and entries.
    """
    import torch

    params = {f"p{i}": rng.standard_normal(s) for i, s in enumerate(shapes)}
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = (torch.optim.Adam(tensors.values(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
           if name == "adam" else torch.optim.SGD(tensors.values(), lr=lr))
    state, gap = None, 0.0
    for _ in range(steps):
        grads = {k: rng.standard_normal(v.shape) * 10.0 ** rng.integers(-6, 2)
                 for k, v in params.items()}                 # gradients of many sizes
        params, state = OPTIMIZERS[name](params, grads, state, lr=lr)
        for k, t in tensors.items():
            t.grad = torch.from_numpy(grads[k].copy())
        opt.step()
        gap = max(gap, max(float(np.abs(params[k] - t.detach().numpy()).max())
                           for k, t in tensors.items()))
    return gap


# --------------------------------------------------------------------------
# timing (one optimizer step, best of several)

def rnnlib_step(params: dict, spec: ModelSpec, batch):
    """A callable doing one rnnlib training step (loss, gradients, Adam) on ``batch``."""
    from rnnlib.model import flatten_params, model_loss

    flat = flatten_params(params)

    def step():
        _, grads = model_loss(params, batch[0], batch[1], spec)
        OPTIMIZERS["adam"](flat, flatten_params(grads), None, lr=1e-3)
    return step


def torch_step(module, spec: ModelSpec, batch):
    """A callable doing one torch training step on ``batch`` (parameters do change)."""
    import torch

    opt = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=1e-6)

    def step():
        loss = _torch_loss(module, spec, batch[0], batch[1])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def best_time(fn, repeats: int = 7, number: int = 3) -> float:
    """Shortest of ``repeats`` timings of ``number`` calls of ``fn``, per call, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best
