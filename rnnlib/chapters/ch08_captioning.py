"""Image features fed to every step of an RNN that spells the digit's name (section 8.4).

The chapter puts a small *fixed* convolution in front of a recurrent
decoder, the arrangement of image captioning (Vinyals et al. 2015, Mao et
al. 2015, Donahue et al. 2015), on the shipped 8x8 digits
(:func:`rnnlib.data.digits.load_digits`). The "caption" of a digit is its English
name, spelled letter by letter and closed by an end token.

The features (no parameters are learned):

.. math::

    m_{n,c} &= \\max(0,\\ f_c \\star \\text{image}_n), \\\\
    x^{\\text{img}}_n &= \\text{vec}\\,\\text{maxpool}_{2\\times 2}(m_n),

(``\\star`` the valid cross-correlation) with eight 3x3 edge filters ``f_c``
(:data:`FILTERS`): an 8x8 image gives eight 6x6 maps, pooled to 3x3, so
``F = 72`` features.

The decoder is the Elman recurrence with the image at every step,

.. math::

    h_t = \\tanh(&U e_{t-1} + W h_{t-1} \\\\
                 &+ U_{\\text{img}} x^{\\text{img}} + b),

with ``e_{t-1}`` the one-hot code of the previous letter (the start token
``"."`` at ``t = 1``). Appending the image to every input,
``x_t = [e_{t-1}; x^img]`` of ``D = K + F`` features, turns it into the
plain registered ``"rnn"`` cell with ``U' = [U U_img]``; the models here are
``ModelSpec(cell=..., input="dense", D=K + F)`` of :mod:`rnnlib.model`,
trained with :func:`rnnlib.training.train` under teacher forcing and decoded with
:func:`rnnlib.generate.greedy_decode` or :func:`rnnlib.generate.beam_search` through
:func:`caption_step_fn`. With ``mode="first"`` the image is appended at the
first step only (zeros after it), as in Vinyals et al.

Shape letters as in :mod:`rnnlib`; also ``R, C`` image rows and columns,
``F`` image features, ``M`` names (of :data:`NAMES`).
"""

from __future__ import annotations

import numpy as np

from rnnlib._validate import check_choice, check_float_array, check_positive_int, describe
from rnnlib.affine import affine_backward, affine_forward
from rnnlib.conv import conv2d_backward, conv2d_forward, maxpool_backward, maxpool_forward
from rnnlib.data import train_test_split
from rnnlib.init import init_affine
from rnnlib.embedding import check_ids
from rnnlib.generate import beam_search, greedy_decode, log_softmax_rows
from rnnlib.model import (ModelSpec, check_model_params, init_model, initial_state,
                          model_forward, model_step_forward)
from rnnlib.losses import softmax_cross_entropy
from rnnlib.progress import Progress
from rnnlib.training import train

__all__ = ["NAMES", "TOKENS", "END", "K", "T_MAX", "FILTERS", "FILTER_NAMES", "MODES",
           "image_features", "conv_classifier_loss", "train_conv_features",
           "name_sequences", "tokens_to_name",
           "decoder_inputs", "caption_spec", "caption_state", "caption_step_fn",
           "decode_names", "decode_trace", "train_captioner", "train_classifier", "classify",
           "held_out_loss", "name_scores", "confusion", "split", "run_experiment",
           "decoding_drawer"]

#: the captions: the English names of the digits 0..9
NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
#: the tokens: "." (start and end of a name) and the 15 letters the names use
TOKENS = ("." + "".join(sorted(set("".join(NAMES)))))
#: id of "."; it is the first input (start) and the last target (end)
END = 0
#: number of tokens, K = 16
K = len(TOKENS)
#: steps of a decoded name: the longest name (5 letters) and the end token
T_MAX = max(len(n) for n in NAMES) + 1
#: the ways the image reaches the decoder
MODES = ("every", "first")

_SOBEL = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 4
_DIAG = np.array([[0.0, 1.0, 2.0], [-1.0, 0.0, 1.0], [-2.0, -1.0, 0.0]]) / 4
_BASE = np.stack([_SOBEL, _SOBEL.T, _DIAG, np.fliplr(_DIAG)])      # (4, 3, 3)
#: eight fixed 3x3 filters: four edge directions and their negatives, (8, 3, 3)
FILTERS = np.concatenate([_BASE, -_BASE])
FILTERS.setflags(write=False)
#: the direction in which the ink increases across the edge each filter detects
FILTER_NAMES = ("left to right", "top to bottom", "towards top right",
                "towards top left", "right to left", "bottom to top",
                "towards bottom left", "towards bottom right")


# --------------------------------------------------------------------------
# the fixed convolution

def image_features(images: np.ndarray, filters: np.ndarray = FILTERS,
                   return_maps: bool = False, bias: np.ndarray | None = None):
    """Convolution, ReLU, 2x2 max pooling, flattened (:mod:`rnnlib.conv`).

    .. math::

        a_n &= f \\star \\text{image}_n + b, \\\\
        x^{\\text{img}}_n &= \\text{vec}\\,\\text{maxpool}(\\max(0, a_n))

    Parameters
    ----------
    images : (N, 8, 8) floats in [0, 1] (any (N, R, C) with R - k + 1 and
        C - k + 1 even).
    filters : (M, k, k), :data:`FILTERS` (the fixed edge filters) by default.
    return_maps : also return the ReLU maps and the pooled maps.
    bias : (M,) or None (zeros).

    Returns
    -------
    feats : (N, F) with F = M * (R - k + 1) / 2 * (C - k + 1) / 2
        (72 for the digits and the default filters).
    maps, pooled : (N, M, 6, 6) and (N, M, 3, 3), only with ``return_maps``.
    """
    images = check_float_array("images", images, ndim=3, shape_doc="(N, R, C)")
    filters = check_float_array("filters", filters, ndim=3, shape_doc="(M, k, k)")
    if bias is None:
        bias = np.zeros(filters.shape[0], dtype=images.dtype)
    conv = {"w": filters.astype(images.dtype, copy=False), "b": bias}
    a, _ = conv2d_forward(images, conv)                             # (N, M, 6, 6)
    maps = np.maximum(a, 0.0)
    pooled, _ = maxpool_forward(maps, 2)                            # (N, M, 3, 3)
    feats = pooled.reshape(pooled.shape[0], -1)                     # (N, F)
    return (feats, maps, pooled) if return_maps else feats


def conv_classifier_loss(params: dict, images: np.ndarray, labels: np.ndarray):
    """Loss and gradients of a tiny CNN classifier that learns its own filters.

    .. math::

        a &= w \\star X + b, \\\\
        x^{\\text{img}} &= \\text{vec}\\,\\text{maxpool}(\\max(0, a)), \\\\
        p &= \\text{softmax}(V x^{\\text{img}} + c), \\\\
        L &= -\\log p_y

    Parameters
    ----------
    params : ``{"conv": {"w" (M, k, k), "b" (M,)}, "out": {"V" (10, F), "c" (10,)}}``.
    images : (N, 8, 8); labels : (N,) ints 0..9.

    Returns
    -------
    loss : float, the mean cross-entropy.
    grads : nested dict like ``params``.
    """
    labels = _check_labels(labels)
    a, conv_cache = conv2d_forward(images, params["conv"])          # (N, M, 6, 6)
    r = np.maximum(a, 0.0)
    pooled, pool_cache = maxpool_forward(r, 2)                      # (N, M, 3, 3)
    N = pooled.shape[0]
    feats = pooled.reshape(N, 1, -1)                                # (N, 1, F)
    o, out_cache = affine_forward(feats, params["out"])             # (N, 1, 10)
    loss, do = softmax_cross_entropy(o, labels[:, None])
    dfeats, dout = affine_backward(do, out_cache)                   # through the read-out
    dr = maxpool_backward(dfeats.reshape(pooled.shape), pool_cache)  # to each block's maximum
    da = dr * (a > 0)                                               # through the ReLU
    _, dconv = conv2d_backward(da, conv_cache)                      # into the filters
    return float(loss), {"conv": dconv, "out": dout}


def train_conv_features(images: np.ndarray, labels: np.ndarray, seed: int, M: int = 8,
                        k: int = 3, steps: int = 300, lr: float = 0.02, batch_size: int = 64):
    """Learn M filters by training :func:`conv_classifier_loss` with Adam.

    Parameters
    ----------
    images : (N, 8, 8) training images; labels : (N,) ints 0..9.
    seed : int, seeds the initial filters and the mini-batch order.

    Returns
    -------
    params : the trained CNN (``params["conv"]["w"]`` (M, k, k) are the
        filters, ``params["conv"]["b"]`` (M,) their biases).
    history : from :func:`rnnlib.training.train`.
    """
    rng = np.random.default_rng(seed)
    F = M * ((images.shape[1] - k + 1) // 2) * ((images.shape[2] - k + 1) // 2)
    params = {"conv": {"w": rng.standard_normal((M, k, k)) / k, "b": np.zeros(M)},
              "out": init_affine(F, len(NAMES), rng)}

    def loss_fn(p, batch, step):
        return conv_classifier_loss(p, batch[0], batch[1])

    return train(params, None, (images, labels), steps=steps, lr=lr, batch_size=batch_size,
                 rng=np.random.default_rng(seed + 1000), loss_fn=loss_fn)


# --------------------------------------------------------------------------
# names as token sequences

def _check_labels(labels):
    labels = check_ids("labels", labels, len(NAMES), ndim=1, shape_doc="(N,)")
    return labels


def name_sequences(labels: np.ndarray):
    """Teacher-forcing inputs, targets and mask for the names of ``labels``.

    For the name ``y_1 .. y_L`` (L letters): inputs ``. y_1 .. y_L``,
    targets ``y_1 .. y_L .``, both padded with ``"."`` to ``T_MAX = 6``
    steps, and the mask 1 on the first ``L + 1`` steps.

    Parameters
    ----------
    labels : (N,) ints in 0..9.

    Returns
    -------
    inputs : (N, T_MAX) int token ids.
    targets : (N, T_MAX) int token ids.
    mask : (N, T_MAX) float 0/1.
    """
    labels = _check_labels(labels)
    N = labels.shape[0]
    inputs = np.full((N, T_MAX), END, dtype=np.int64)
    targets = np.full((N, T_MAX), END, dtype=np.int64)
    mask = np.zeros((N, T_MAX))
    for n, label in enumerate(labels):
        ids = [TOKENS.index(ch) for ch in NAMES[label]]
        L = len(ids)
        inputs[n, 1:L + 1] = ids                  # start token, then the letters
        targets[n, :L] = ids                      # the letters, then the end token
        mask[n, :L + 1] = 1.0
    return inputs, targets, mask


def tokens_to_name(tokens) -> str:
    """The string of letters before the first end token ``"."``."""
    out = []
    for k in np.asarray(tokens).tolist():
        if k == END:
            break
        out.append(TOKENS[k])
    return "".join(out)


def decoder_inputs(inputs: np.ndarray, feats: np.ndarray, mode: str = "every") -> np.ndarray:
    """Append the image features to the one-hot letters: x_t = [e_{t-1}; x_img].

    .. math::  x_{n,t} = [\\,e(\\text{inputs}_{n,t});\\ g_t\\, x^{\\text{img}}_n\\,]

    with ``g_t = 1`` at every step (``mode="every"``) or at ``t = 1`` only
    (``mode="first"``; zeros after).

    Parameters
    ----------
    inputs : (N, T) int token ids.
    feats : (N, F) image features.
    mode : "every" or "first".

    Returns
    -------
    x : (N, T, K + F) floats.
    """
    check_choice("mode", mode, MODES)
    inputs = check_ids("inputs", inputs, K)
    feats = check_float_array("feats", feats, ndim=2, shape_doc="(N, F)")
    N, T = inputs.shape
    if feats.shape[0] != N:
        raise ValueError(f"inputs and feats disagree: inputs has N = {N} rows, feats (shape "
                         f"{feats.shape}) has {feats.shape[0]} (one of the two is wrong)")
    onehot = np.eye(K, dtype=feats.dtype)[inputs]                   # (N, T, K)
    img = np.repeat(feats[:, None, :], T, axis=1)                   # (N, T, F)
    if mode == "first":
        img[:, 1:] = 0.0
    return np.concatenate([onehot, img], axis=2)                    # (N, T, K + F)


# --------------------------------------------------------------------------
# the model and its step function

def caption_spec(F: int, H: int = 32, cell: str = "rnn") -> ModelSpec:
    """The decoder's spec: one-hot letter and F image features in, K tokens out.

    Returns
    -------
    spec : ``ModelSpec(cell=cell, input="dense", D=K + F, H=H, K=K, loss="xent")``.
    """
    F = check_positive_int("F", F)
    return ModelSpec(cell=cell, input="dense", D=K + F, H=H, K=K, loss="xent")


def caption_state(spec: ModelSpec, feats: np.ndarray) -> tuple:
    """The decoder's initial state for :func:`caption_step_fn`.

    Parameters
    ----------
    spec : from :func:`caption_spec`.
    feats : (B, F) image features.

    Returns
    -------
    state : ``(cell_state, img)``: the cell's zero state (a tuple of (B, H))
        and the features still to be fed (B, F).
    """
    feats = check_float_array("feats", feats, ndim=2, shape_doc="(B, F)")
    if feats.shape[1] != spec.D - K:
        raise ValueError(f"feats and spec disagree: feats has F = {feats.shape[1]} features, "
                         f"spec.D = {spec.D} leaves F = {spec.D - K} (one of the two is wrong)")
    return initial_state(spec, feats.shape[0]), feats.copy()


def caption_step_fn(params: dict, spec: ModelSpec, mode: str = "every"):
    """A step function for the decoders of :mod:`rnnlib.generate` (greedy, beam search).

    .. math::

        x_t &= [e(\\text{token}_{t-1});\\ \\text{img}], \\\\
        (h_t, \\dots) &= \\text{cell}(x_t, \\text{state}_{t-1}), \\\\
        \\log p_t &= \\log\\mathrm{softmax}(V h_t + c)

    (one :func:`rnnlib.model.model_step_forward`). The image travels in the
    state, so beams carry it along; with ``mode="first"`` it is replaced by
    zeros after the first step.

    Returns
    -------
    step_fn : ``step_fn(token_ids (B,), (cell_state, img)) -> (log_probs (B, K),
        (new_cell_state, img'))``; :func:`caption_state` gives the first state.
    """
    check_choice("mode", mode, MODES)
    if not isinstance(spec, ModelSpec) or spec.D <= K or spec.K != K:
        raise ValueError(f"spec: expected a spec from caption_spec (D = K + F > {K}, K = {K}), "
                         f"got {describe(spec)}")
    check_model_params(params, spec)

    def step_fn(token_ids, state):
        cell_state, img = state
        token_ids = check_ids("token_ids", np.asarray(token_ids), K, ndim=1, shape_doc="(B,)")
        x_t = np.concatenate([np.eye(K, dtype=img.dtype)[token_ids], img], axis=1)  # (B, K + F)
        logits, new_state, _ = model_step_forward(params, spec, x_t, cell_state)    # (B, K)
        if mode == "first":
            img = np.zeros_like(img)             # the image is read once
        return log_softmax_rows(logits), (new_state, img)

    return step_fn


def decode_names(params: dict, spec: ModelSpec, feats: np.ndarray, mode: str = "every",
                 width: int | None = None) -> np.ndarray:
    """Name each image: greedy decoding (or a beam of ``width``) for up to T_MAX tokens.

    Parameters
    ----------
    params, spec : the trained decoder.
    feats : (N, F) image features.
    mode : how the decoder was trained to read the image ("every", "first").
    width : None for greedy decoding, else the beam width (end token ".").

    Returns
    -------
    names : (N,) array of str, the letters before the first end token (a
        string that is not in :data:`NAMES` is an invalid name).
    """
    step_fn = caption_step_fn(params, spec, mode)
    state = caption_state(spec, feats)
    if width is None:
        tokens, _ = greedy_decode(step_fn, state, END, T_MAX)        # (N, T_MAX)
        return np.array([tokens_to_name(row) for row in tokens])
    width = check_positive_int("width", width)
    out = []
    for n in range(feats.shape[0]):
        one = (tuple(s[n:n + 1] for s in state[0]), state[1][n:n + 1])
        seqs, _, _ = beam_search(step_fn, one, END, T_MAX, width, end_token=END)
        out.append(tokens_to_name(seqs[0]))
    return np.array(out)


def decode_trace(params: dict, spec: ModelSpec, feats: np.ndarray, mode: str = "every"):
    """Greedy decoding of one image, keeping every step's distribution.

    Parameters
    ----------
    feats : (F,) or (1, F) features of one image.

    Returns
    -------
    tokens : (S,) int, the emitted tokens up to and including the first end
        token (S <= T_MAX).
    probs : (S, K), the next-token distribution at each step.
    """
    feats = np.asarray(feats).reshape(1, -1)
    step_fn = caption_step_fn(params, spec, mode)
    state = caption_state(spec, feats)
    token = np.array([END])
    tokens, probs = [], []
    for _ in range(T_MAX):
        log_p, state = step_fn(token, state)
        token = log_p.argmax(axis=1)
        probs.append(np.exp(log_p[0]))
        tokens.append(int(token[0]))
        if token[0] == END:
            break
    return np.array(tokens), np.array(probs)


# --------------------------------------------------------------------------
# training and evaluation

def train_captioner(feats: np.ndarray, labels: np.ndarray, mode: str, seed: int,
                    H: int = 32, steps: int = 600, lr: float = 0.01, batch_size: int = 64,
                    cell: str = "rnn"):
    """Train the decoder with teacher forcing (Adam, masked cross-entropy).

    Parameters
    ----------
    feats : (N, F) training features; labels : (N,) ints 0..9.
    mode : "every" or "first" (how the image is fed).
    seed : int, seeds the initial weights and the mini-batch order.

    Returns
    -------
    params : trained nested dict; spec : ModelSpec; history : from :func:`rnnlib.training.train`.
    """
    inputs, targets, mask = name_sequences(labels)
    x = decoder_inputs(inputs, feats, mode)                         # (N, T_MAX, K + F)
    spec = caption_spec(feats.shape[1], H, cell)
    params = init_model(spec, np.random.default_rng(seed))
    params, history = train(params, spec, (x, targets, mask), steps=steps, lr=lr,
                            batch_size=batch_size, rng=np.random.default_rng(seed + 1000))
    return params, spec, history


def train_classifier(feats: np.ndarray, labels: np.ndarray, seed: int, H: int = 32,
                     steps: int = 600, lr: float = 0.01, batch_size: int = 64):
    """The plain classifier on the same features: the same model run for one step.

    .. math::

        h &= \\tanh(U x^{\\text{img}} + b), \\\\
        o &= V h + c

    (``ModelSpec(cell="rnn", D=F, H=H, K=10, output="last")`` on sequences
    of length 1: a one-hidden-layer network, ``W`` unused).

    Returns
    -------
    params, spec, history : as for :func:`train_captioner`.
    """
    feats = check_float_array("feats", feats, ndim=2, shape_doc="(N, F)")
    labels = _check_labels(labels)
    spec = ModelSpec(cell="rnn", input="dense", D=feats.shape[1], H=H, K=len(NAMES),
                     loss="xent", output="last")
    params = init_model(spec, np.random.default_rng(seed))
    params, history = train(params, spec, (feats[:, None, :], labels), steps=steps, lr=lr,
                            batch_size=batch_size, rng=np.random.default_rng(seed + 1000))
    return params, spec, history


def classify(params: dict, spec: ModelSpec, feats: np.ndarray) -> np.ndarray:
    """The classifier's most likely digit for each row of ``feats`` (N, F): ints (N,)."""
    logits, _ = model_forward(params, feats[:, None, :], spec)      # (N, 10)
    return logits.argmax(axis=1)


def held_out_loss(params: dict, spec: ModelSpec, feats: np.ndarray, labels: np.ndarray,
                  mode: str) -> float:
    """Teacher-forced cross-entropy per token on (held-out) images, end tokens included."""
    inputs, targets, mask = name_sequences(labels)
    outputs, _ = model_forward(params, decoder_inputs(inputs, feats, mode), spec)
    loss, _ = softmax_cross_entropy(outputs, targets, mask=mask)
    return float(loss)


def name_scores(names: np.ndarray, labels: np.ndarray) -> dict:
    """How well generated names match the digits.

    Returns
    -------
    scores : dict with ``"exact"`` (fraction of names equal to the true
        name), ``"invalid"`` (number of strings that are no digit's name)
        and ``"read"`` (N,) (the digit each name spells, -1 if invalid).
    """
    labels = _check_labels(labels)
    names = np.asarray(names)
    if names.shape != labels.shape:
        raise ValueError(f"names and labels disagree: names has shape {names.shape}, labels "
                         f"{labels.shape} (one of the two is wrong)")
    read = np.array([NAMES.index(s) if s in NAMES else -1 for s in names.tolist()])
    return {"exact": float(np.mean(read == labels)), "invalid": int(np.sum(read < 0)),
            "read": read}


def confusion(read: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Counts of (true digit, digit named): (10, 11), the last column for invalid names."""
    table = np.zeros((len(NAMES), len(NAMES) + 1), dtype=np.int64)
    np.add.at(table, (labels, np.where(read < 0, len(NAMES), read)), 1)
    return table


def split(n: int, seed: int, fraction: float = 0.3):
    """A seeded random split of ``n`` images: (train_idx, test_idx), 30 % held out."""
    return train_test_split(n, fraction, np.random.default_rng(seed))


def run_experiment(feats: np.ndarray, labels: np.ndarray, seeds, steps: int = 600,
                   H: int = 32, n_train: int | None = None,
                   progress: str | bool = False) -> dict:
    """Classifier, every-step and first-step decoders for each seed.

    Each seed draws its own split of the images (30 % held out), then the
    three models are trained on the same training part (``n_train`` of its
    images drawn at random, all by default) and tested on the same held-out
    part.

    Returns
    -------
    results : dict with, per model ("classifier", "every", "first"), a dict of
        per-seed lists: ``"acc"`` (exact-match accuracy; for the
        classifier the plain accuracy), ``"invalid"`` (invalid names) and,
        for the decoders, ``"loss"`` (held-out teacher-forced loss),
        ``"names"`` (the generated strings), ``"read"`` (the digit each
        names, -1 if invalid; for the classifier its prediction) and
        ``"params"``; plus ``"test"`` (the held-out indices)
        and ``"spec"``.
    """
    seeds = list(seeds)
    bar = Progress(3 * len(seeds), description="models trained", mode=progress,
                   every=3) if progress else None
    out = {m: {"acc": [], "invalid": [], "loss": [], "read": [], "names": [], "params": []}
           for m in ("classifier",) + MODES}
    out["test"] = []
    done = 0
    for seed in seeds:
        tr, te = split(len(labels), seed)
        if n_train is not None:             # a random part of the training images
            pick = np.random.default_rng(seed + 2000).permutation(len(tr))[:n_train]
            tr = np.sort(tr[pick])
        out["test"].append(te)
        p, s, _ = train_classifier(feats[tr], labels[tr], seed, H=H, steps=steps)
        pred = classify(p, s, feats[te])
        out["classifier"]["acc"].append(float(np.mean(pred == labels[te])))
        out["classifier"]["invalid"].append(0)
        out["classifier"]["read"].append(pred)
        out["classifier"]["params"].append(p)
        done += 1
        if bar:
            bar.update(done)
        for mode in MODES:
            p, spec, _ = train_captioner(feats[tr], labels[tr], mode, seed, H=H, steps=steps)
            names = decode_names(p, spec, feats[te], mode)
            sc = name_scores(names, labels[te])
            out[mode]["names"].append(names)
            out[mode]["acc"].append(sc["exact"])
            out[mode]["invalid"].append(sc["invalid"])
            out[mode]["read"].append(sc["read"])
            out[mode]["params"].append(p)
            out[mode]["loss"].append(held_out_loss(p, spec, feats[te], labels[te], mode))
            out["spec"] = spec
            done += 1
            if bar:
                bar.update(done)
    if bar:
        bar.close()
    return out


# --------------------------------------------------------------------------
# drawing (takes precomputed arrays; used by the chapter's player)

def decoding_drawer(images, traces, fontsize: float = 10.0):
    """A frame drawer for :func:`rnnlib.viz.render_frames`: decoding letter by letter.

    Frame ``i`` is one step of one image: the image, the letters emitted so
    far and the next-token distribution as bars on a log scale (the chosen
    token in red), with the chosen and the runner-up token's probability.

    Parameters
    ----------
    images : (M, 8, 8) the images shown.
    traces : list of M ``(tokens, probs, true_label)`` with ``tokens`` (S,)
        and ``probs`` (S, K) from :func:`decode_trace`.

    Returns
    -------
    draw : ``draw(fig, i) -> artists`` (blitting: the same artists every frame).
    index : list of (image m, step s) for each frame.
    """
    index = [(m, s) for m, (tokens, _, _) in enumerate(traces) for s in range(len(tokens))]
    labels = list(TOKENS)

    def draw(fig, i):
        m, s = index[i]
        tokens, probs, label = traces[m]
        if i == 0:
            ax_im, ax_p = fig.subplots(1, 2, width_ratios=(1, 3.2))
            art = {"im": ax_im.imshow(images[m], cmap="gray_r", vmin=0, vmax=1)}
            ax_im.set(xticks=[], yticks=[])
            art["truth"] = ax_im.set_title("", fontsize=fontsize)
            art["bars"] = ax_p.bar(np.arange(K), np.maximum(probs[s], 1e-9), bottom=1e-9,
                                   color="0.6")
            ax_p.set_yscale("log")
            ax_p.set(ylim=(1e-4, 1.6), xlim=(-0.6, K - 0.4))
            ax_p.set_ylabel("p(next token)", fontsize=fontsize)
            ax_p.set_yticks([1e-4, 1e-3, 1e-2, 1e-1, 1],
                            ["0.0001", "0.001", "0.01", "0.1", "1"], fontsize=fontsize - 1)
            ax_p.set_xticks(np.arange(K), labels, fontsize=fontsize - 1)
            ax_p.tick_params(axis="x", length=0)
            ax_p.grid(axis="y", alpha=0.3)
            art["text"] = ax_p.set_title("", fontsize=fontsize, loc="left")
            fig.subplots_adjust(left=0.02, right=0.98, top=0.84, bottom=0.12, wspace=0.5)
            fig.art_decoding = art
        art = fig.art_decoding
        art["im"].set_data(images[m])
        article = "an" if label[0] in "aeiou" else "a"
        art["truth"].set_text(f"{article} held-out {label}")
        chosen = tokens[s]
        for k, bar in enumerate(art["bars"]):
            bar.set_height(max(probs[s, k], 1e-9))
            bar.set_color("C3" if k == chosen else "0.6")
        so_far = tokens_to_name(tokens[:s]) or "."
        runner = int(np.argsort(probs[s])[-2])
        art["text"].set_text(f"step {s + 1}, after '{so_far}': {labels[chosen]} "
                             f"(p = {probs[s, chosen]:.2g}), next best {labels[runner]} "
                             f"({probs[s, runner]:.2g})")
        return [art["im"], art["truth"], art["text"], *art["bars"]]

    return draw, index
