"""Batch normalization in a small feed-forward network and in LSTMs (chapter 6).

Two groups of helpers, numerics only (the chapter draws):

**A multilayer perceptron with optional batch normalization**, the
setting of Ioffe & Szegedy (2015), used to test the benefits the source
note [003] claims. Layer ``l`` computes

.. math::

    a^{(l)} &= W^{(l)} z^{(l-1)} \\;(+\\, b^{(l)}) \\\\
    \\tilde a^{(l)} &= \\mathrm{BN}(a^{(l)}) \\\\
    z^{(l)} &= f(\\tilde a^{(l)})

(without batch norm, :math:`\\tilde a^{(l)} = a^{(l)}` and the bias is used)

with ``z^(0) = x`` (M, D) and a linear output layer giving logits (M, K).
With batch norm the hidden layers have no bias (``beta`` of the batch norm
takes its place) and batch norm sits between the product and the
nonlinearity, as in the paper. Parameters are plain dicts: ``W1`` (F1, D),
``b1`` (F1,) or ``gamma1``, ``beta1`` (F1,), ..., the output layer ``WL``,
``bL``. The running statistics travel in a ``state`` dict
``{"mean1": (F1,), "var1": (F1,), ...}`` (see
:func:`rnnlib.normalization.batchnorm_forward`); nothing is kept between
calls.

**Recurrent measurements**: the norm of the gradient that reaches each
hidden state from a loss at the last step, in an LSTM (plain or
normalised, unrolled one step at a time so that the gradient on every
``h_t`` is visible) and in a batch-normalised tanh RNN; the per-step statistics of the two
linear terms ``U x_t`` and ``W h_{t-1}`` of a plain LSTM, population
statistics of a normalised LSTM, and its logits in train or eval mode.

Letters as in the package: ``M`` rows of a batch, ``D`` inputs, ``F``
features of a layer, ``K`` classes; ``N``, ``T``, ``H`` for sequences.
"""

from __future__ import annotations

import numpy as np

from rnnlib._validate import NonFiniteError, check_choice, check_float_array, check_rng
from rnnlib.activations import apply_activation, activation_backward
from rnnlib.affine import affine_backward, affine_forward
from rnnlib.losses import softmax_cross_entropy
from rnnlib.lstm import lstm_forward, lstm_step_backward, lstm_step_forward
from rnnlib.lstm_norm import (lstm_norm_forward, lstm_norm_step_backward,
                              lstm_norm_step_forward)
from rnnlib.normalization import (batchnorm_backward, batchnorm_forward,
                                  temporal_batchnorm_forward)
from rnnlib.optim import OPTIMIZERS

__all__ = ["init_mlp", "mlp_forward", "mlp_backward", "mlp_loss", "train_mlp",
           "evaluate_mlp", "hidden_state_grad_norms", "bn_rnn_grad_norms", "recurrent_term_stats",
           "population_stats", "norm_lstm_logits", "accuracy"]


# --------------------------------------------------------------------------
# the multilayer perceptron

def _layers(params):
    n = 1
    while f"W{n + 1}" in params:
        n += 1
    return n                                                    # layers incl. the output


def init_mlp(sizes, rng, *, bn=False, scale=1.0, dtype=np.float64):
    """Parameters of an MLP with layer sizes ``sizes = (D, F1, ..., K)``.

    Weights are Gaussian with standard deviation ``scale / sqrt(fan_in)``
    (``scale = 1`` is LeCun's initialisation); biases 0; with ``bn=True``
    the hidden layers get ``gamma = 1`` and ``beta = 0`` instead of a bias.

    Parameters
    ----------
    sizes : sequence of ints, at least (D, K).
    rng : np.random.Generator.
    bn : bool, batch norm in the hidden layers.
    scale : float > 0, multiplies every weight (the initialisation tested).
    dtype : float64 or float32.

    Returns
    -------
    dict ``W1`` (F1, D), ``b1`` or ``gamma1``/``beta1`` (F1,), ...,
    ``WL`` (K, F_{L-1}), ``bL`` (K,).
    """
    rng = check_rng(rng)
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes: expected (D, F1, ..., K) with at least two positive "
                         f"sizes, got {sizes}")
    if not scale > 0:
        raise ValueError(f"scale: expected a positive number, got {scale!r}")
    p = {}
    L = len(sizes) - 1
    for l in range(1, L + 1):
        fan_in, fan_out = sizes[l - 1], sizes[l]
        p[f"W{l}"] = (scale / np.sqrt(fan_in)
                      * rng.standard_normal((fan_out, fan_in))).astype(dtype)
        if bn and l < L:
            p[f"gamma{l}"] = np.ones(fan_out, dtype=dtype)
            p[f"beta{l}"] = np.zeros(fan_out, dtype=dtype)
        else:
            p[f"b{l}"] = np.zeros(fan_out, dtype=dtype)
    return p


def mlp_forward(x, params, *, activation="sigmoid", mode="train", state=None,
                momentum=0.1, eps=1e-5, noise=None):
    """Forward pass of the MLP (module docstring).

    Parameters
    ----------
    x : (M, D) array.
    params : from :func:`init_mlp` (batch norm where ``gamma1`` exists).
    activation : "sigmoid", "tanh", "relu" or "linear" (hidden layers).
    mode : "train" (batch statistics) or "eval" (``state``'s running ones).
    state : running statistics ``{"mean1", "var1", ...}`` or None.
    momentum, eps : of the batch norms.
    noise : optional list, one ``(scale (M, F), shift (M, F))`` per hidden
        layer, applied after the batch norm: ``a <- scale * a + shift``
        (the "noisy batch norm" of the chapter's covariate-shift test).

    Returns
    -------
    logits : (M, K).
    new_state : running statistics after this batch (``{}`` without BN).
    cache : dict for :func:`mlp_backward`; ``cache["a"]`` lists each hidden
        layer's raw pre-activation (M, F) and ``cache["pre"]`` what enters
        the nonlinearity (after batch norm and noise).
    """
    check_choice("mode", mode, ("train", "eval"))
    x = check_float_array("x", x, ndim=2, shape_doc="(M, D)")
    L = _layers(params)
    bn = "gamma1" in params
    state = {} if state is None else state
    new_state, layers = {}, []
    a_list, pre_list = [], []
    z = x
    for l in range(1, L + 1):
        W = params[f"W{l}"]
        a = z @ W.T                                             # (M, F)
        layer = {"z_in": z}
        if l == L:
            a = a + params[f"b{l}"]
            layers.append(layer)
            logits = a
            break
        if bn:
            st = None if f"mean{l}" not in state else {"mean": state[f"mean{l}"],
                                                         "var": state[f"var{l}"]}
            if mode == "eval" and st is None:
                raise ValueError(f"state: eval mode needs the running statistics of layer "
                                 f"{l} ('mean{l}', 'var{l}'), got keys {sorted(state)}")
            pre, st_new, layer["bn"] = batchnorm_forward(
                a, {"gamma": params[f"gamma{l}"], "beta": params[f"beta{l}"]}, st,
                mode=mode, momentum=momentum, eps=eps)
            new_state[f"mean{l}"], new_state[f"var{l}"] = st_new["mean"], st_new["var"]
        else:
            pre = a + params[f"b{l}"]
        if noise is not None:
            scale, shift = noise[l - 1]
            layer["noise_scale"] = scale
            pre = scale * pre + shift
        z = apply_activation(activation, pre)                   # (M, F)
        layer.update(pre=pre, z=z)
        a_list.append(a)
        pre_list.append(pre)
        layers.append(layer)
    cache = {"layers": layers, "activation": activation, "bn": bn, "L": L,
             "a": a_list, "pre": pre_list, "params": params}
    return logits, new_state, cache


def mlp_backward(dlogits, cache):
    """Backward pass of :func:`mlp_forward`: gradients with the keys of ``params``.

    Parameters
    ----------
    dlogits : (M, K) array.
    cache : from :func:`mlp_forward`.

    Returns
    -------
    grads : dict like ``params``.
    """
    p, L, layers = cache["params"], cache["L"], cache["layers"]
    grads = {}
    g = dlogits
    for l in range(L, 0, -1):
        layer = layers[l - 1]
        if l < L:
            # through the nonlinearity, the noise and the batch norm
            g = activation_backward(cache["activation"], g, layer["pre"], layer["z"])
            if "noise_scale" in layer:
                g = g * layer["noise_scale"]
            if cache["bn"]:
                g, gbn = batchnorm_backward(g, layer["bn"])
                grads[f"gamma{l}"], grads[f"beta{l}"] = gbn["gamma"], gbn["beta"]
            else:
                grads[f"b{l}"] = g.sum(axis=0)
        else:
            grads[f"b{l}"] = g.sum(axis=0)
        grads[f"W{l}"] = g.T @ layer["z_in"]                    # (F, F_in)
        g = g @ p[f"W{l}"]                                      # into the layer below
    return grads


def mlp_loss(params, x, y, **kwargs):
    """Mean softmax cross-entropy of the MLP on ``(x, y)`` and its gradients.

    Parameters
    ----------
    params, x : as for :func:`mlp_forward`; ``y`` (M,) integer classes.
    **kwargs : passed to :func:`mlp_forward`.

    Returns
    -------
    loss : float; grads : dict like ``params``; new_state : dict;
    cache : the forward cache.
    """
    logits, new_state, cache = mlp_forward(x, params, **kwargs)
    loss, dlogits = softmax_cross_entropy(logits[:, None, :], y[:, None])
    return loss, mlp_backward(dlogits[:, 0, :], cache), new_state, cache


def train_mlp(params, x, y, rng, *, steps=200, batch_size=32, lr=0.1,
              optimizer="sgd", activation="sigmoid", momentum=0.1,
              probe=None, probe_every=10, noise=0.0):
    """Train the MLP with mini-batches drawn with ``rng``.

    Parameters
    ----------
    params : from :func:`init_mlp` (not modified).
    x, y : training inputs (M, D) and classes (M,).
    rng : np.random.Generator (batches, and the noise if any).
    steps, batch_size, lr : the run.
    optimizer : a name in :data:`rnnlib.optim.OPTIMIZERS`.
    activation : of the hidden layers.
    momentum : of the batch norms' running statistics.
    probe : optional (P, D) inputs; every ``probe_every`` steps (and at step
        0) the pre-activations of every hidden layer on them are recorded
        (in train mode: the probe is its own batch).
    noise : float >= 0; if positive, every hidden layer's input to the
        nonlinearity is scaled by ``1 + noise * u`` and shifted by
        ``noise * v`` after the batch norm, with ``u, v`` standard normal
        per unit, redrawn every step (the same for the whole batch): a
        distribution shift injected on purpose.

    Returns
    -------
    params : dict
        The trained parameters.
    state : dict
        The running statistics after the last step.
    history : dict
        ``"loss"`` (steps,) array; ``"probe_steps"``, the steps recorded;
        ``"probe"``, one list per record of the (P, F) pre-activations of
        every hidden layer; ``"diverged"``, True if the loss stopped being
        finite (training stops there and the remaining losses are NaN).
    """
    rng = check_rng(rng)
    opt = OPTIMIZERS[optimizer]
    M = x.shape[0]
    L = _layers(params)
    sizes = [params[f"W{l}"].shape[0] for l in range(1, L)]
    state, opt_state = None, None
    losses = np.full(steps, np.nan)
    history = {"loss": losses, "probe_steps": [], "probe": [], "diverged": False}
    for step in range(steps + 1):
        if probe is not None and step % probe_every == 0:
            _, _, c = mlp_forward(probe, params, activation=activation)
            history["probe_steps"].append(step)
            history["probe"].append([a.copy() for a in c["pre"]])
        if step == steps:
            break
        rows = rng.choice(M, size=batch_size, replace=False)
        layer_noise = None
        if noise > 0:
            layer_noise = [(np.broadcast_to(1 + noise * rng.standard_normal(F), (batch_size, F)),
                            np.broadcast_to(noise * rng.standard_normal(F), (batch_size, F)))
                           for F in sizes]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            try:
                loss, grads, state_new, _ = mlp_loss(params, x[rows], y[rows],
                                                     activation=activation, state=state,
                                                     momentum=momentum, noise=layer_noise)
                ok = np.isfinite(loss) and all(np.all(np.isfinite(g))
                                               for g in grads.values())
            except NonFiniteError:                      # an overflow on the way
                ok = False
            if not ok:
                history["diverged"] = True
                break
            params, opt_state = opt(params, grads, opt_state, lr=lr)
        losses[step] = loss
        state = state_new
    return params, state, history


def accuracy(logits, y):
    """Share of rows whose largest logit is the true class."""
    return float(np.mean(np.argmax(logits, axis=-1) == y))


def evaluate_mlp(params, state, x, y, *, activation="sigmoid", mode="eval",
                 batch_size=None, rng=None):
    """Loss and accuracy of the MLP on ``(x, y)``.

    ``mode="eval"`` normalises every row with the running statistics
    ``state``; ``mode="train"`` splits the rows at random (``rng``) into
    batches of ``batch_size`` and normalises each with its own statistics,
    as training does (rows left over are dropped).

    Returns
    -------
    loss : float, accuracy : float.
    """
    if mode == "eval":
        logits, _, _ = mlp_forward(x, params, activation=activation, mode="eval",
                                   state=state)
        loss, _ = softmax_cross_entropy(logits[:, None, :], y[:, None])
        return loss, accuracy(logits, y)
    rng = check_rng(rng)
    order = rng.permutation(x.shape[0])
    n = (x.shape[0] // batch_size) * batch_size
    logits = np.concatenate([mlp_forward(x[rows], params, activation=activation)[0]
                             for rows in order[:n].reshape(-1, batch_size)])
    loss, _ = softmax_cross_entropy(logits[:, None, :], y[order[:n]][:, None])
    return loss, accuracy(logits, y[order[:n]])


# --------------------------------------------------------------------------
# LSTMs

def hidden_state_grad_norms(x, y, params, readout, norm=None):
    """Norm of the gradient on every hidden state, from a loss at the last step.

    The LSTM (``norm=None``) or normalised LSTM (``norm`` = "batch" or
    "layer", train mode) is unrolled one step at a time, the last state is
    read out, ``L = cross-entropy(V h_T + c, y)``, and the gradient is sent
    back step by step, so ``dL/dh_t`` (N, H) is seen at every step.

    Parameters
    ----------
    x : (N, T, D); y : (N,) classes; params : the cell's parameters;
    readout : ``{"V": (K, H), "c": (K,)}``; norm : None, "batch" or "layer".

    Returns
    -------
    norms : (T,) with ``norms[t-1] = ||dL/dh_t||`` (Frobenius over the batch),
        t = 1..T.
    loss : float.
    dh0 : (N, H), the gradient on the initial state (for checks).
    """
    x = check_float_array("x", x, ndim=3, shape_doc="(N, T, D)")
    N, T, _ = x.shape
    h = c = None
    caches = []
    for t in range(T):
        if norm is None:
            h, c, cache = lstm_step_forward(x[:, t], h, c, params)
        else:
            h, c, cache = lstm_norm_step_forward(x[:, t], h, c, params, norm=norm,
                                                 mode="train", t=t)
        caches.append(cache)
    logits, cout = affine_forward(h[:, None, :], readout)
    loss, dlogits = softmax_cross_entropy(logits, y[:, None])
    dh = affine_backward(dlogits, cout)[0][:, 0]                # dL/dh_T
    dc = np.zeros_like(dh)
    norms = np.empty(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(dh)
        if norm is None:
            _, dh, dc, _ = lstm_step_backward(dh, dc, caches[t])
        else:
            _, dh, dc, _ = lstm_norm_step_backward(dh, dc, caches[t])
    return norms, loss, dh


def bn_rnn_grad_norms(x, y, params, readout, gamma, h0=None, eps=1e-5):
    r"""Gradient norms through a batch-normalised tanh RNN, from a loss at the last step.

    The setting of Cooijmans et al. (2016), figure 1: an Elman RNN whose two
    linear terms are batch-normalised with statistics per step (training
    mode) and a common gain ``gamma``,

    .. math::

        h_t = \tanh\big(&\mathrm{BN}_\gamma(W h_{t-1}) \\
        &{}+ \mathrm{BN}_\gamma(U x_t) + b\big),

    read out at the last step, ``L = cross-entropy(V h_T + c, y)``. Only the
    gradients on the hidden states are computed.

    Parameters
    ----------
    x : ndarray (N, T, D)
    y : ndarray (N,) of classes
    params : dict
        ``U`` (H, D), ``W`` (H, H), ``b`` (H,), as from :func:`rnnlib.init.init_rnn`.
    readout : dict
        ``V`` (K, H), ``c`` (K,).
    gamma : float
        The gain of both batch norms.
    h0 : ndarray (N, H) or None (zeros)
    eps : float
        Of the batch norms.

    Returns
    -------
    norms : ndarray (T,)
        ``norms[t-1]`` is the norm of dL/dh_t.
    loss : float
    dh0 : ndarray (N, H)
    """
    x = check_float_array("x", x, ndim=3, shape_doc="(N, T, D)")
    N, T, _ = x.shape
    H = params["W"].shape[0]
    gain = {"gamma": np.full(H, float(gamma)), "beta": np.zeros(H)}
    ax, _, _ = temporal_batchnorm_forward(x @ params["U"].T, gain, eps=eps)  # (N, T, H)
    h = np.zeros((N, H)) if h0 is None else h0
    hs, caches = [], []
    for t in range(T):
        ah, _, cache = batchnorm_forward(h @ params["W"].T, gain, eps=eps)
        h = np.tanh(ax[:, t] + ah + params["b"])
        hs.append(h)
        caches.append(cache)
    logits, cout = affine_forward(h[:, None, :], readout)
    loss, dlogits = softmax_cross_entropy(logits, y[:, None])
    dh = affine_backward(dlogits, cout)[0][:, 0]                # dL/dh_T
    norms = np.empty(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(dh)
        da = dh * (1 - hs[t] ** 2)                              # through tanh
        dwh, _ = batchnorm_backward(da, caches[t])              # through BN(W h)
        dh = dwh @ params["W"]                                  # into h_{t-1}
    return norms, loss, dh


def recurrent_term_stats(x, h, params):
    """Per-step batch mean and standard deviation of ``U x_t`` and ``W h_{t-1}``.

    Parameters
    ----------
    x : (N, T, D) inputs; h : (N, T, H) hidden states of a plain LSTM run
    from ``h_0 = 0``; params : its ``U`` (4H, D), ``W`` (4H, H).

    Returns
    -------
    dict with ``"Ux"`` and ``"Wh"``, each ``(mean (T, 4H), std (T, 4H))``
    over the N sequences, and ``"Wh_pooled"``: ``(mean (4H,), std (4H,))``
    over all N * T rows (one set of statistics shared by every step).
    """
    N, T, D = x.shape
    H = h.shape[2]
    h_prev = np.concatenate([np.zeros((N, 1, H)), h[:, :-1]], axis=1)   # (N, T, H)
    ux = x @ params["U"].T                                      # (N, T, 4H)
    wh = h_prev @ params["W"].T                                 # (N, T, 4H)
    return {"Ux": (ux.mean(axis=0), ux.std(axis=0)),
            "Wh": (wh.mean(axis=0), wh.std(axis=0)),
            "Wh_pooled": (wh.reshape(-1, 4 * H).mean(axis=0),
                          wh.reshape(-1, 4 * H).std(axis=0))}


def population_stats(params, batches, norm="batch"):
    """Population statistics of a normalised LSTM, averaged over ``batches``.

    Runs ``lstm_norm_forward`` in train mode over each input batch (N, T, D)
    with momentum ``1/k`` at the k-th batch, so the result is the plain
    average of the batch means and of the unbiased batch variances (the
    estimate the source note [003] describes), per step for "batch".

    Returns
    -------
    stats : as ``cache["stats"]`` of :func:`rnnlib.lstm_norm.lstm_norm_forward`.
    """
    stats = None
    for k, xb in enumerate(batches, start=1):
        _, _, cache = lstm_norm_forward(xb, None, None, params, norm=norm, mode="train",
                                        stats=stats, momentum=1.0 / k)
        stats = cache["stats"]
    return stats


def norm_lstm_logits(params, x, *, norm=None, mode="train", stats=None):
    """Logits ``V h_T + c`` (N, K) of a model from :func:`rnnlib.model.init_model`.

    ``params`` has ``"rnn"`` (a plain or normalised LSTM) and ``"out"``;
    ``norm=None`` runs the plain LSTM (:func:`rnnlib.lstm.lstm_forward`); otherwise
    :func:`rnnlib.lstm_norm.lstm_norm_forward` in ``mode`` with ``stats``.
    """
    if norm is None:
        h, _, _ = lstm_forward(x, None, None, params["rnn"])
    else:
        h, _, _ = lstm_norm_forward(x, None, None, params["rnn"], norm=norm, mode=mode,
                                    stats=stats)
    o, _ = affine_forward(h[:, -1:, :], params["out"])
    return o[:, 0, :]
