"""PyTorch weights in and out: ``torch.nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` <-> rnnlib dicts.

torch is imported inside the functions only, so ``import rnnlib`` never
needs it.

How the parameters correspond (single layer, one direction; ``batch_first``
does not matter, only weights move):

- ``U`` is ``weight_ih_l0``: (H, D), (4H, D) or (3H, D).
- ``W`` is ``weight_hh_l0``: (H, H), (4H, H) or (3H, H).
- ``b`` is ``bias_ih_l0 + bias_hh_l0``; for the GRU only the r and z blocks
  are summed and the n block is ``b_in``.
- ``bhn`` (GRU only) is ``bias_hh_l0[2H:]``, i.e. ``b_hn``, which sits
  inside ``r * (W_hn h + b_hn)``.

Gate order is the same on both sides (LSTM i, f, g, o; GRU r, z, n), and
rnnlib's GRU with ``reset="after"`` is PyTorch's GRU. For ``nn.RNN`` pass
``activation=module.nonlinearity`` ("tanh" or "relu") to
:func:`rnnlib.rnn.rnn_forward`.

Example (animate the gates of an LSTM trained in PyTorch)::

    params = params_from_torch(lstm)                  # lstm: nn.LSTM(D, H)
    h, c, cache = lstm_forward(x, None, None, params)
    cache["trace"]["f"]                               # forget gate, (N, T, H)
"""

from __future__ import annotations

import numpy as np

from ._validate import check_params

__all__ = ["params_from_torch", "params_to_torch"]


def _kind(module):
    """'rnn', 'lstm' or 'gru' for a supported module; raise otherwise."""
    import torch.nn as nn
    if isinstance(module, nn.LSTM):
        kind = "lstm"
    elif isinstance(module, nn.GRU):
        kind = "gru"
    elif isinstance(module, nn.RNN):
        kind = "rnn"
    else:
        raise TypeError("module: expected a torch.nn.RNN, nn.LSTM or nn.GRU, got "
                        f"{type(module).__name__}")
    if module.num_layers != 1:
        raise ValueError(f"module: expected a single-layer module (num_layers=1), "
                         f"got num_layers={module.num_layers}")
    if module.bidirectional:
        raise ValueError("module: expected a unidirectional module, got bidirectional=True "
                         "(convert each direction with its own one-directional module)")
    if getattr(module, "proj_size", 0):
        raise ValueError(f"module: expected an LSTM without projection (proj_size=0), "
                         f"got proj_size={module.proj_size}")
    return kind


def _np_dtype(module):
    import torch
    dt = module.weight_ih_l0.dtype
    if dt == torch.float64:
        return np.float64
    if dt == torch.float32:
        return np.float32
    raise TypeError(f"module: expected float32 or float64 parameters, got {dt}")


def _expected(kind, D, H, dtype):
    rows = {"rnn": H, "lstm": 4 * H, "gru": 3 * H}[kind]
    letter = {"rnn": "H", "lstm": "4H", "gru": "3H"}[kind]
    e = {"U": ((rows, D), f"({letter}, D)"), "W": ((rows, H), f"({letter}, H)"),
         "b": ((rows,), f"({letter},)")}
    if kind == "gru":
        e["bhn"] = ((H,), "(H,)")
    return e


def params_from_torch(module):
    """Read a single-layer, unidirectional ``nn.RNN``/``nn.LSTM``/``nn.GRU`` into a params dict.

    Parameters
    ----------
    module : torch.nn.RNN, nn.LSTM or nn.GRU (num_layers=1, not
        bidirectional, no proj_size), float32 or float64

    Returns
    -------
    dict of numpy arrays (copies, the module's dtype): ``U``, ``W``, ``b``
    and, for a GRU, ``bhn`` (see the module docstring). A module without
    biases gives zero ``b`` (and ``bhn``).
    """
    kind = _kind(module)
    dtype = _np_dtype(module)

    def arr(name):
        return getattr(module, name).detach().cpu().numpy().astype(dtype, copy=True)

    U, W = arr("weight_ih_l0"), arr("weight_hh_l0")
    H = W.shape[1]
    if module.bias:
        b_ih, b_hh = arr("bias_ih_l0"), arr("bias_hh_l0")
    else:
        b_ih = b_hh = np.zeros(U.shape[0], dtype=dtype)
    if kind == "gru":
        b = b_ih.copy()
        b[:2 * H] += b_hh[:2 * H]                          # r and z: the two biases add up
        return {"U": U, "W": W, "b": b, "bhn": b_hh[2 * H:].copy()}
    return {"U": U, "W": W, "b": b_ih + b_hh}


def params_to_torch(params, module, grad=False):
    """Write a params dict (or, with ``grad=True``, a grads dict) into a torch module.

    With ``grad=False`` the module's parameters are overwritten: ``bias_ih``
    gets ``b``, ``bias_hh`` is zero except the GRU's ``b_hn = bhn``, so the
    module computes exactly what rnnlib computes with ``params``.

    With ``grad=True`` the dict is a gradient (same keys as params) and goes
    into each parameter's ``.grad``: the weights get ``dU``, ``dW``; both
    ``bias_ih`` and ``bias_hh`` get ``db`` where the bias is their sum (every
    RNN/LSTM block and the GRU's r, z blocks: d(b_ih + b_hh)/db_ih = 1, so
    this is the exact gradient of each); the GRU's ``b_in`` gets the n block
    of ``db`` and ``b_hn`` gets ``dbhn``. A torch optimizer can then step.

    Parameters
    ----------
    params : dict of numpy arrays, shapes as in :func:`params_from_torch`,
        dtype equal to the module's
    module : torch.nn.RNN, nn.LSTM or nn.GRU (as in :func:`params_from_torch`)
    grad : bool

    Returns
    -------
    module (the same object, changed in place)
    """
    import torch
    kind = _kind(module)
    dtype = _np_dtype(module)
    H, D = module.hidden_size, module.input_size
    where = "grads" if grad else "params"
    check_params(params, _expected(kind, D, H, dtype), dtype, where=where)
    if not module.bias:
        nonzero = [k for k in ("b", "bhn") if k in params and np.any(params[k] != 0)]
        if nonzero:
            raise ValueError(f"{where}: module has no biases (bias=False), expected zero "
                             f"{nonzero}, got non-zero values")

    def t(a):
        return torch.from_numpy(np.array(a, copy=True)).to(module.weight_ih_l0.device)

    b_ih = params["b"]
    if kind == "gru":
        if grad:
            b_hh = np.concatenate([params["b"][:2 * H], params["bhn"]])
        else:
            b_hh = np.concatenate([np.zeros(2 * H, dtype=dtype), params["bhn"]])
    else:
        b_hh = params["b"] if grad else np.zeros_like(params["b"])
    values = {"weight_ih_l0": params["U"], "weight_hh_l0": params["W"]}
    if module.bias:
        values.update({"bias_ih_l0": b_ih, "bias_hh_l0": b_hh})
    with torch.no_grad():
        for name, value in values.items():
            p = getattr(module, name)
            if grad:
                p.grad = t(value)
            else:
                p.copy_(t(value))
    return module
