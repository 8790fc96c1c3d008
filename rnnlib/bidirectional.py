"""Bidirectional wrapper: one cell reads the sequence forward, another backward.

.. math::

    \\overrightarrow{h}_t &= \\mathrm{cell}_{fw}(x_t, \\overrightarrow{h}_{t-1}), \\\\
    \\overleftarrow{h}_t &= \\mathrm{cell}_{bw}(x_t, \\overleftarrow{h}_{t+1}), \\\\
    h_t &= [\\overrightarrow{h}_t ; \\overleftarrow{h}_t]

Both directions start from zero states. The backward direction is the same
cell run on the time-reversed sequence, its outputs reversed back, so
``h[:, t]`` (N, 2H) sees the whole sequence: x_0..x_t through the first H
units and x_t..x_{T-1} through the last H (Schuster & Paliwal 1997).

Masks: the mask is reversed together with the time axis. With post-padded
sequences (valid steps first, padding after) the reversed mask starts with
padding, where the backward cell carries its *zero* initial state, so it
starts on each sequence's own last valid step, exactly as if every
sequence had been reversed on its own (PyTorch's ``pack_padded_sequence``
does the same). At padded steps the forward half holds the sequence's final
state and the backward half is zero.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_sequence
from .cells import get_cell
from .sequence import check_upstream

__all__ = ["bidirectional_forward", "bidirectional_backward"]


def bidirectional_forward(x, params_fw, params_bw, cell="rnn", mask=None, **cell_options):
    """Run ``cell`` forward and backward in time and concatenate the hidden states.

    Parameters
    ----------
    x : ndarray (N, T, D)
    params_fw, params_bw : dicts of the cell's parameters (same H for both)
    cell : the name of a registered cell (:mod:`rnnlib.cells`), e.g. "rnn",
        "lstm", "gru", "lstm_coupled"
    mask : ndarray (N, T) of 0/1, optional (post-padded: see module docstring)
    **cell_options : the cell's options (``activation`` for "rnn",
        ``reset`` for "gru", ``peephole`` for the LSTMs)

    Returns
    -------
    h : ndarray (N, T, 2H), ``[forward | backward]`` on the last axis
    cache : dict for :func:`bidirectional_backward`; ``cache["trace"]`` is
        ``{"fw": ..., "bw": ...}``, each the cell's trace, both in the
        original time order.
    """
    spec = get_cell(cell)
    options = spec.check_options(cell_options, where="cell_options")
    x = check_sequence("x", x)
    zeros = (None,) * len(spec.state)                              # zero initial states
    states_fw, c_fw = spec.forward(x, zeros, params_fw, mask=mask, **options)
    x_rev = x[:, ::-1]                                             # reversed time, (N, T, D)
    m_rev = None if mask is None else mask[:, ::-1]
    states_bw, c_bw = spec.forward(x_rev, zeros, params_bw, mask=m_rev, **options)
    h_fw, h_bw_rev = states_fw[0], states_bw[0]
    if h_fw.shape != h_bw_rev.shape:
        raise ValueError(f"params_bw: expected the hidden size H = {h_fw.shape[2]} of "
                         f"params_fw, got H = {h_bw_rev.shape[2]}")
    h = np.concatenate([h_fw, h_bw_rev[:, ::-1]], axis=2)         # (N, T, 2H)
    trace = {"fw": c_fw["trace"],
             "bw": {k: v[:, ::-1] for k, v in c_bw["trace"].items()}}
    cache = {"cell": spec, "fw": c_fw, "bw": c_bw, "H": h_fw.shape[2],
             "shape": h.shape, "dtype": h.dtype, "trace": trace}
    return h, cache


def bidirectional_backward(dh, cache):
    """Backward pass of :func:`bidirectional_forward`.

    The gradient on ``h[:, :, :H]`` goes to the forward cell; the gradient
    on ``h[:, :, H:]``, reversed in time, to the backward cell, whose input
    gradient is reversed back; the two input gradients add up.

    Parameters
    ----------
    dh : ndarray (N, T, 2H)
    cache : dict from :func:`bidirectional_forward`

    Returns
    -------
    dx : ndarray (N, T, D)
    grads_fw, grads_bw : dicts with the keys of ``params_fw`` / ``params_bw``
    """
    H, spec = cache["H"], cache["cell"]
    dh = check_upstream("dh", dh, cache["shape"], "(N, T, 2H)", cache["dtype"])
    rest = (None,) * (len(spec.state) - 1)                         # no gradient on c etc.
    dx_fw, _, grads_fw = spec.backward((np.ascontiguousarray(dh[:, :, :H]),) + rest, cache["fw"])
    dx_bw, _, grads_bw = spec.backward((np.ascontiguousarray(dh[:, ::-1, H:]),) + rest,
                                       cache["bw"])
    return dx_fw + dx_bw[:, ::-1], grads_fw, grads_bw
