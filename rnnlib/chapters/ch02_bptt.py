"""Backpropagation through time written out step by step (chapter 2).

The engine's ``rnn_backward`` is the fast, vectorised backward pass. This
module writes the same formulas out one time step at a time, the way the
chapter derives them, so that each line can be read against an equation
and checked against the engine:

.. math::

    a_t &= U x_t + W h_{t-1} + b, \\qquad h_t = f(a_t) \\\\
    o_t &= V h_t + c, \\qquad \\hat y_t = \\mathrm{softmax}(o_t) \\\\
    L &= \\sum_t L_t, \\qquad L_t = -\\log \\hat y_{t, y_t}

and, walking backward from ``t = T`` to ``t = 1``,

.. math::

    \\partial L / \\partial o_t &= \\hat y_t - \\mathbf{1}_{y_t} \\\\
    \\delta_t &= \\partial L / \\partial h_t \\\\
    &= V^\\top (\\hat y_t - \\mathbf{1}_{y_t}) \\\\
    &\\quad {}+ W^\\top \\big(f'(a_{t+1}) \\odot \\delta_{t+1}\\big) \\\\
    \\partial L / \\partial V &= \\textstyle\\sum_t (\\hat y_t - \\mathbf{1}_{y_t}) h_t^\\top \\\\
    \\partial L / \\partial W &= \\textstyle\\sum_t (f'(a_t) \\odot \\delta_t) h_{t-1}^\\top \\\\
    \\partial L / \\partial U &= \\textstyle\\sum_t (f'(a_t) \\odot \\delta_t) x_t^\\top

Functions
---------
- ``bptt_by_hand``: the per-step backward pass above, with every step's
  contribution to every gradient kept.
- ``bptt_by_source``: the same gradient split by where the loss entered
  (step s) and which step's weights it reached (step t); summing the band
  ``s - t < k`` gives BPTT(k).
- ``cache_nbytes``: bytes held by the arrays of a (nested) cache.
- ``chunked_bptt``: the practical truncation: cut a long sequence into
  chunks, carry the state forward, backpropagate inside each chunk only.
- ``backward_loop_source``: the source of ``bptt_by_hand``'s backward loop,
  for the chapter to print next to the equations.

``bptt_by_hand`` and ``bptt_by_source`` are deliberately plain (loops over
time, one short comment per step); they are for reading, not for speed.
"""

from __future__ import annotations

import inspect
import textwrap

import numpy as np

from rnnlib import _validate as v
from rnnlib.activations import ACTIVATIONS, log_softmax, softmax
from rnnlib.affine import affine_backward, affine_forward
from rnnlib.losses import softmax_cross_entropy
from rnnlib.rnn import rnn_backward, rnn_forward

__all__ = ["bptt_by_hand", "bptt_by_source", "cache_nbytes", "chunked_bptt",
           "backward_loop_source"]

_ACTIVATIONS = ("tanh", "relu", "linear")
_REDUCTIONS = ("sum", "mean")


def _check_inputs(x, y, h0, params, out_params, activation, reduction):
    """Validate the shared inputs of the by-hand functions; return sizes."""
    x = v.check_sequence("x", x)
    N, T, D = x.shape
    if not isinstance(params, dict) or "W" not in params:
        raise TypeError("params: expected a dict with 'U' (H, D), 'W' (H, H) and 'b' (H,), "
                        f"got {v.describe(params)}")
    H = np.shape(params["W"])[0]
    v.check_params(params, {"U": ((H, D), "(H, D)"), "W": ((H, H), "(H, H)"),
                            "b": ((H,), "(H,)")}, x.dtype, where="params")
    h0 = v.check_float_array("h0", h0, ndim=2, shape_doc="(N, H)", dtype=x.dtype)
    v.check_shape("h0", h0, (N, H), "(N, H)")
    if not isinstance(out_params, dict) or "V" not in out_params:
        raise TypeError("out_params: expected a dict with 'V' (K, H) and 'c' (K,), "
                        f"got {v.describe(out_params)}")
    K = np.shape(out_params["V"])[0]
    v.check_params(out_params, {"V": ((K, H), "(K, H)"), "c": ((K,), "(K,)")},
                   x.dtype, where="out_params")
    if not isinstance(y, np.ndarray):
        raise TypeError(f"y: expected an integer array of shape (N, T), got {v.describe(y)}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"y: expected integer class indices, got dtype {y.dtype}")
    v.check_shape("y", y, (N, T), "(N, T)")
    if y.min() < 0 or y.max() >= K:
        raise ValueError(f"y: expected class indices in [0, {K - 1}], got values in "
                         f"[{y.min()}, {y.max()}]")
    v.check_choice("activation", activation, _ACTIVATIONS)
    v.check_choice("reduction", reduction, _REDUCTIONS)
    return N, T, D, H, K


def _forward_by_hand(x, h0, params, out_params, activation):
    """Plain per-step forward pass; returns a (N, T, H), h (N, T, H), yhat (N, T, K)."""
    f, _ = ACTIVATIONS[activation]
    U, W, b = params["U"], params["W"], params["b"]
    V, c = out_params["V"], out_params["c"]
    N, T, _ = x.shape
    H, K = W.shape[0], V.shape[0]
    a = np.empty((N, T, H), dtype=x.dtype)
    h = np.empty((N, T, H), dtype=x.dtype)
    o = np.empty((N, T, K), dtype=x.dtype)
    h_prev = h0
    for t in range(T):
        a[:, t] = x[:, t] @ U.T + h_prev @ W.T + b      # (N, H): a_t = U x_t + W h_{t-1} + b
        h[:, t] = f(a[:, t])                            # (N, H): h_t = f(a_t)
        o[:, t] = h[:, t] @ V.T + c                     # (N, K): o_t = V h_t + c
        h_prev = h[:, t]
    return a, h, o


def bptt_by_hand(x, y, h0, params, out_params, activation="tanh", reduction="sum"):
    """Backpropagation through time, one step at a time, with per-step contributions.

    Many-to-many RNN with a softmax output at every step and cross-entropy
    loss:

    .. math::

        a_t &= U x_t + W h_{t-1} + b, \\quad h_t = f(a_t) \\\\
        o_t &= V h_t + c \\\\
        L &= \\textstyle\\sum_{n,t} -\\log \\mathrm{softmax}(o_t)_{y_t}

    (``reduction="mean"`` divides by N T, the convention of
    ``rnnlib.losses.softmax_cross_entropy``). The backward pass walks from
    the last step to the first:

    .. math::

        g_t &= \\hat y_t - \\mathbf 1_{y_t} \\\\
        \\delta_t &= g_t V + \\big(f'(a_{t+1}) \\odot \\delta_{t+1}\\big) W \\\\
        \\Delta V_t &= g_t^\\top h_t \\\\
        \\Delta W_t &= (f'(a_t) \\odot \\delta_t)^\\top h_{t-1} \\\\
        \\Delta U_t &= (f'(a_t) \\odot \\delta_t)^\\top x_t

    (row-vector batch form of the column-vector equations; ``g_t`` is
    (N, K) and ``delta_t`` is (N, H)) and every
    gradient is the sum of its per-step contributions, e.g.
    ``dW = sum_t contributions["W"][t]``.

    Parameters
    ----------
    x : (N, T, D) float array
    y : (N, T) int array of class indices in [0, K)
    h0 : (N, H) float array, the initial state
    params : dict ``U`` (H, D), ``W`` (H, H), ``b`` (H,)
    out_params : dict ``V`` (K, H), ``c`` (K,)
    activation : "tanh" | "relu" | "linear"
    reduction : "sum" (the book's L = sum_t L_t) or "mean" (divide by N T)

    Returns
    -------
    loss : float
    grads : dict ``U``, ``W``, ``b``, ``V``, ``c``, ``h0`` with the shapes of
        the parameters (``h0``: (N, H))
    steps : dict of per-step arrays
        ``a``, ``h`` (N, T, H); ``yhat``, ``dlogits`` (N, T, K);
        ``delta`` (N, T, H), dL/dh_t with both paths; ``delta_out`` (N, T, H),
        the part that comes from the output at step t; ``da`` (N, T, H),
        dL/da_t; ``contributions``: dict name -> ``(T, *shape)`` array whose
        sum over axis 0 is ``grads[name]``.
    """
    N, T, D, H, K = _check_inputs(x, y, h0, params, out_params, activation, reduction)
    _, fprime = ACTIVATIONS[activation]
    W, V = params["W"], out_params["V"]
    scale = 1.0 if reduction == "sum" else 1.0 / (N * T)

    a, h, o = _forward_by_hand(x, h0, params, out_params, activation)
    yhat = softmax(o, axis=-1)                                   # (N, T, K)
    n_idx, t_idx = np.meshgrid(np.arange(N), np.arange(T), indexing="ij")
    loss = -scale * float(np.sum(log_softmax(o, axis=-1)[n_idx, t_idx, y]))

    onehot = np.zeros_like(yhat)
    onehot[n_idx, t_idx, y] = 1.0
    dlogits = scale * (yhat - onehot)                            # (N, T, K): softmax + CE

    contributions = {
        "V": np.zeros((T, K, H), dtype=x.dtype), "c": np.zeros((T, K), dtype=x.dtype),
        "U": np.zeros((T, H, D), dtype=x.dtype), "W": np.zeros((T, H, H), dtype=x.dtype),
        "b": np.zeros((T, H), dtype=x.dtype),
    }
    delta = np.zeros((N, T, H), dtype=x.dtype)
    delta_out = np.zeros((N, T, H), dtype=x.dtype)
    da = np.zeros((N, T, H), dtype=x.dtype)
    da_next = np.zeros((N, H), dtype=x.dtype)                    # dL/da_{T+1} = 0
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]                   # (N, H)
        # output layer: only step t is involved
        contributions["V"][t] = dlogits[:, t].T @ h[:, t]        # (K, H)
        contributions["c"][t] = dlogits[:, t].sum(axis=0)        # (K,)
        # into h_t: from the output at t and from step t+1 through W
        delta_out[:, t] = dlogits[:, t] @ V                      # (N, H)
        delta[:, t] = delta_out[:, t] + da_next @ W              # (N, H)
        # through the activation
        da[:, t] = delta[:, t] * fprime(a[:, t])                 # (N, H)
        # into the shared weights of the recurrence
        contributions["U"][t] = da[:, t].T @ x[:, t]             # (H, D)
        contributions["W"][t] = da[:, t].T @ h_prev              # (H, H)
        contributions["b"][t] = da[:, t].sum(axis=0)             # (H,)
        da_next = da[:, t]
    grads = {name: c.sum(axis=0) for name, c in contributions.items()}
    grads["h0"] = da_next @ W                                    # (N, H): into the initial state
    steps = {"a": a, "h": h, "yhat": yhat, "dlogits": dlogits, "delta": delta,
             "delta_out": delta_out, "da": da, "contributions": contributions}
    return loss, grads, steps


def backward_loop_source() -> str:
    """The backward loop of :func:`bptt_by_hand`, as source text.

    From ``for t in reversed(range(T)):`` up to (not including) the line
    that sums the contributions, dedented: one line per equation of the
    chapter's derivation, for the chapter to print.

    Returns
    -------
    str
    """
    source = inspect.getsource(bptt_by_hand)
    start = source.index("    for t in reversed")
    end = source.index("    grads = {name")
    return textwrap.dedent(source[start:end])


def bptt_by_source(x, y, h0, params, out_params, activation="tanh", reduction="sum"):
    """Split the recurrent-weight gradients by source step and receiving step.

    The loss at step ``s`` reaches the weights used at step ``t <= s`` along
    one path, through ``s - t`` recurrent steps:

    .. math::

        \\epsilon^{(s)}_s &= f'(a_s) \\odot V^\\top g_s \\\\
        \\epsilon^{(s)}_{t} &= f'(a_t) \\odot W^\\top \\epsilon^{(s)}_{t+1} \\\\
        \\Delta W_{s,t} &= \\epsilon^{(s)}_t h_{t-1}^\\top

    (and likewise for ``U`` with ``x_t`` and for ``b``). Summing over ``s``
    gives ``bptt_by_hand``'s per-step contributions; summing the band
    ``0 <= s - t < k`` gives the gradient of BPTT(k) (Williams & Peng),
    what ``rnn_backward(dh, cache, truncate=k)`` returns. Cost O(T^2): for
    small examples only.

    Parameters
    ----------
    x, y, h0, params, out_params, activation, reduction : as in ``bptt_by_hand``

    Returns
    -------
    by_source : dict ``U`` (T, T, H, D), ``W`` (T, T, H, H), ``b`` (T, T, H);
        entry ``[s, t]`` is the contribution of the loss at step s to the
        weights used at step t (zero where t > s).
    """
    N, T, D, H, K = _check_inputs(x, y, h0, params, out_params, activation, reduction)
    _, fprime = ACTIVATIONS[activation]
    W, V = params["W"], out_params["V"]
    scale = 1.0 if reduction == "sum" else 1.0 / (N * T)
    a, h, o = _forward_by_hand(x, h0, params, out_params, activation)
    yhat = softmax(o, axis=-1)
    by_source = {"U": np.zeros((T, T, H, D), dtype=x.dtype),
                 "W": np.zeros((T, T, H, H), dtype=x.dtype),
                 "b": np.zeros((T, T, H), dtype=x.dtype)}
    for s in range(T):
        g = yhat[:, s].copy()
        g[np.arange(N), y[:, s]] -= 1.0
        g *= scale                                               # (N, K): dL_s/do_s
        eps = g @ V                                              # (N, H): dL_s/dh_s
        for t in reversed(range(s + 1)):
            h_prev = h0 if t == 0 else h[:, t - 1]
            eps = eps * fprime(a[:, t])                          # (N, H): through f at step t
            by_source["U"][s, t] = eps.T @ x[:, t]
            by_source["W"][s, t] = eps.T @ h_prev
            by_source["b"][s, t] = eps.sum(axis=0)
            eps = eps @ W                                        # (N, H): into h_{t-1}
    return by_source


def cache_nbytes(cache) -> int:
    """Bytes of memory held alive by the numpy arrays inside a (nested) cache.

    Walks dicts, lists and tuples. A view is charged for the buffer it
    keeps alive (its ultimate ``base``), and every buffer is counted once,
    so a cache that stores an array and a transposed view of it (as
    ``rnn_forward``'s ``trace`` does) is not counted twice.

    Parameters
    ----------
    cache : dict | list | tuple | ndarray, e.g. the cache of ``rnn_forward``

    Returns
    -------
    nbytes : int
    """
    seen = set()
    total = 0
    stack = [cache]
    while stack:
        item = stack.pop()
        if isinstance(item, np.ndarray):
            root = item
            while isinstance(root.base, np.ndarray):
                root = root.base                                 # the buffer a view keeps alive
            if id(root) not in seen:
                seen.add(id(root))
                total += root.nbytes
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return int(total)


def chunked_bptt(x, y, h0, params, out_params, chunk, activation="tanh"):
    """Truncated BPTT as practised: backpropagate inside chunks of ``chunk`` steps.

    The sequence is cut into pieces ``[0, chunk), [chunk, 2 chunk), ...``;
    each piece is run forward from the state the previous piece ended in
    (carried forward, but treated as a constant: no gradient flows into the
    previous chunk), its loss is backpropagated inside the piece only, and
    the gradients are added. Only one chunk's cache is alive at a time, so
    memory is bounded by ``chunk`` instead of ``T``. With ``chunk >= T``
    the result is the full gradient.

    The loss is ``softmax_cross_entropy`` over all N T steps (the mean), so
    each chunk's loss and gradient are weighted by its share of the steps.

    Parameters
    ----------
    x : (N, T, D) float array
    y : (N, T) int array of class indices
    h0 : (N, H) float array
    params : dict ``U`` (H, D), ``W`` (H, H), ``b`` (H,)
    out_params : dict ``V`` (K, H), ``c`` (K,)
    chunk : int >= 1, the chunk length
    activation : "tanh" | "relu" | "linear"

    Returns
    -------
    loss : float, the mean cross-entropy over all steps (equal to the
        full forward pass's loss: carrying the state keeps the forward exact)
    grads : dict ``U``, ``W``, ``b``, ``V``, ``c`` (parameter shapes)
    peak_cache_bytes : int, the largest cache (RNN + output layer) held
        at one time, measured with ``cache_nbytes``
    """
    N, T, D, H, K = _check_inputs(x, y, h0, params, out_params, activation, "mean")
    chunk = v.check_positive_int("chunk", chunk)
    grads = {name: np.zeros_like(p) for name, p in {**params, **out_params}.items()}
    loss = 0.0
    peak = 0
    h_carry = h0
    for start in range(0, T, chunk):
        stop = min(start + chunk, T)
        weight = (stop - start) / T                              # share of the N T steps
        h, rnn_cache = rnn_forward(x[:, start:stop], h_carry, params, activation=activation)
        logits, aff_cache = affine_forward(h, out_params)        # (N, stop - start, K)
        piece_loss, dlogits = softmax_cross_entropy(logits, y[:, start:stop])
        peak = max(peak, cache_nbytes([rnn_cache, aff_cache]))
        dh, aff_grads = affine_backward(weight * dlogits, aff_cache)
        _, _, rnn_grads = rnn_backward(dh, rnn_cache)            # dh0 dropped: the cut
        for name, g in {**rnn_grads, **aff_grads}.items():
            grads[name] += g
        loss += weight * piece_loss
        h_carry = h[:, -1]                                       # (N, H): state carried forward
    return loss, grads, peak
