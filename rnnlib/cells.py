"""The cell registry: every recurrent cell answers the same questions the same way.

A recurrent cell is described once, by a :class:`Cell`: its parameters
(an initialiser), the names of its state (``("h",)`` or ``("h", "c")``),
its options, one step forward and back, and a whole sequence forward and
back. Code that works on "any cell" (:mod:`rnnlib.model`,
:mod:`rnnlib.bidirectional`, :mod:`rnnlib.seq2seq`,
:mod:`rnnlib.teacher_forcing`, :mod:`rnnlib.generate`) looks the cell up
with :func:`get_cell` and passes its state as one tuple, in the order of
``cell.state``; it never branches on a cell's name.

The interface, with ``state`` a tuple of (N, H) arrays (or None entries for
zeros) and ``states`` a tuple of (N, T, H) arrays, both in the order of
``cell.state``::

    params = cell.init(D, H, rng, dtype, **options)
    h_t, state_t, cache = cell.step_forward(x_t, state_prev, params, **options)
    dx_t, dstate_prev, grads = cell.step_backward(dstate_t, cache)
    states, cache = cell.forward(x, state0, params, mask=None, **options)
    dx, dstate0, grads = cell.backward(dstates, cache, truncate=None)

``dstate_t`` is the whole gradient on the state after the step (for h:
from the step's own output plus from the next step); ``dstates`` the
upstream gradient on every step's states. Entries after the first may be
None for a state that receives no gradient (``dstate_t[0]`` and
``dstates[0]``, the gradients on h, are arrays). ``states[0]`` is always
the hidden sequence h. Cells with gates
also take ``force={gate: value}`` in the forward functions.

Registered here (each by its own module):

==================  ========================  ==========
name                cell                      options
==================  ========================  ==========
``rnn``             Elman RNN                 activation
``lstm``            LSTM with forget gate     peephole
``lstm_no_forget``  LSTM, :math:`f = 1`       peephole
``lstm_coupled``    LSTM, :math:`f = 1 - i`   peephole
``lstm_no_output``  LSTM, :math:`o = 1`       peephole
``lstm_bn``         LSTM, batch norm          none
``lstm_bn_input``   LSTM, batch norm on U x   none
``lstm_ln``         LSTM, layer norm          none
``gru``             GRU                       reset
==================  ========================  ==========

The Elman RNN is registered by :mod:`rnnlib.rnn`, the first four LSTMs by
:mod:`rnnlib.lstm`, the normalised ones by :mod:`rnnlib.lstm_norm` and the
GRU by :mod:`rnnlib.gru`.

The Jordan network (:mod:`rnnlib.jordan`) is not registered: its recurrence
runs through the output layer (``W y_{t-1}``), so it is a whole model with
its own readout, not a cell that a readout can be put on.

Adding a cell is one module that defines the five functions and calls
:func:`register_cell` at its end; nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable

import numpy as np

from ._validate import check_choice, check_float_array

__all__ = ["Cell", "register_cell", "get_cell", "cell_names", "check_force", "CELLS"]


@dataclass(frozen=True)
class Cell:
    """One recurrent cell: what generic code needs to know of it.

    Attributes
    ----------
    name : the registry key (``ModelSpec(cell=name)``).
    summary : one line for tables and error messages.
    state : names of the state arrays, e.g. ``("h",)`` or ``("h", "c")``.
    gates : names of the gates ``force=`` may set (empty if none).
    trace : keys of ``cache["trace"]`` (each (N, T, H)).
    options : ``{option: allowed values}``, the first value the default.
    init, step_forward, step_backward, forward, backward : the functions
        (signatures in the module docstring).
    module : the module that defines the cell.
    couples_batch : True if one sequence's output depends on the other
        sequences of its batch (batch statistics): its step function then
        agrees with its sequence function only on unpadded batches, and it
        cannot generate one token at a time.
    truncates : False if the backward refuses ``truncate`` (full BPTT only).
    stepwise : False if the sequence function is not its step function in a
        loop (statistics over all steps, as in ``lstm_bn_input``): such a
        cell cannot be unrolled one step at a time (teacher forcing with
        sampled inputs, generation).
    """

    name: str
    summary: str
    state: tuple
    gates: tuple
    trace: tuple
    options: dict
    init: Callable
    step_forward: Callable
    step_backward: Callable
    forward: Callable
    backward: Callable
    module: str = ""
    couples_batch: bool = False
    truncates: bool = True
    stepwise: bool = True

    def check_options(self, options: dict | None, where: str = "options") -> dict:
        """Every option of the cell with its value: ``options`` checked, defaults filled in."""
        options = dict(options or {})
        extra = sorted(set(options) - set(self.options))
        if extra:
            raise TypeError(f"{where}: cell {self.name!r} takes the options "
                            f"{sorted(self.options)}, got unexpected {extra}")
        out = {}
        for key, allowed in self.options.items():
            value = options.get(key, allowed[0])
            check_choice(f"{where}['{key}']", value, allowed)
            out[key] = value
        return out

    def zero_state(self, N: int, H: int, dtype=np.float64) -> tuple:
        """A tuple of zero arrays (N, H), one per state."""
        return tuple(np.zeros((N, H), dtype=dtype) for _ in self.state)


_REGISTRY: dict = {}

#: the registered cells, by name (read-only view of the registry)
CELLS = MappingProxyType(_REGISTRY)


def register_cell(cell: Cell) -> Cell:
    """Add ``cell`` to the registry (its name must be new); return it."""
    if not isinstance(cell, Cell):
        raise TypeError(f"cell: expected a rnnlib.cells.Cell, got {type(cell).__name__}")
    if cell.name in _REGISTRY:
        raise ValueError(f"cell: a cell named {cell.name!r} is already registered "
                         f"(by {_REGISTRY[cell.name].module})")
    if not cell.state or cell.state[0] != "h":
        raise ValueError(f"cell.state: expected the hidden state 'h' first, got {cell.state}")
    _REGISTRY[cell.name] = cell
    return cell


def get_cell(name, where: str = "cell") -> Cell:
    """The registered cell called ``name`` (a :class:`Cell` passes through)."""
    if isinstance(name, Cell):
        return name
    if name not in _REGISTRY:
        raise ValueError(f"{where}: expected one of {sorted(_REGISTRY)}, got {name!r}")
    return _REGISTRY[name]


def cell_names() -> tuple:
    """Names of every registered cell, sorted."""
    return tuple(sorted(_REGISTRY))


def check_force(force, shape, doc, dtype, allowed, name="force"):
    """Validate ``force`` ({gate: constant or array of ``shape``}); return a clean dict.

    Shared by the gated cells (LSTM, GRU): ``allowed`` names their gates.
    """
    if force is None:
        return {}
    if not isinstance(force, dict):
        raise TypeError(f"{name}: expected a dict {{gate: value}}, got {type(force).__name__}")
    out = {}
    for key, value in force.items():
        if key not in allowed:
            raise ValueError(f"{name}: expected gates among {list(allowed)}, got {key!r}")
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            v = float(value)
            if not (0.0 <= v <= 1.0):
                raise ValueError(f"{name}['{key}']: expected a gate value in [0, 1], got {v}")
            out[key] = dtype.type(v)
        else:
            arr = check_float_array(f"{name}['{key}']", value, ndim=len(shape),
                                    shape_doc=doc, dtype=dtype)
            if arr.shape != shape:
                raise ValueError(f"{name}['{key}']: expected shape {doc} = {shape}, "
                                 f"got {arr.shape}")
            if arr.min() < 0 or arr.max() > 1:
                raise ValueError(f"{name}['{key}']: expected gate values in [0, 1], got values "
                                 f"from {arr.min():.3g} to {arr.max():.3g}")
            out[key] = arr
    return out
