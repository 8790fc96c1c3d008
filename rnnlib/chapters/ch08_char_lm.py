"""Helpers for section 8.2, a character-level language model (``book/08_2_char_lm.ipynb``).

A character model reads a text one character at a time and gives, at
every step, a distribution over the next character. Everything here is
built from :mod:`rnnlib`: :class:`rnnlib.ModelSpec` with an embedding
input, :func:`rnnlib.training.train` (the LSTM's fast path), :func:`rnnlib.generate.make_step_fn`
and :func:`rnnlib.generate.sample_sequence`. The chapter-specific parts are the
measures (bits per character, the unigram and bigram baselines, the loss
as a function of how much context the model has read), checkpoints taken
during one training run, and the statistics used to find hidden units
that track something nameable (correlation with an indicator, the
accuracy of a threshold).

Shapes: ``L`` characters of text, ``H`` hidden units, ``K`` characters in
the vocabulary, ``T`` the training chunk length.
"""

from __future__ import annotations

import numpy as np

import rnnlib as rl
from rnnlib._validate import check_positive_int, check_real, check_rng, describe

__all__ = ["split_text", "ngram_bits", "char_lm_spec", "train_char_lm", "log_probs",
           "bits_per_char", "bits_by_context", "hidden_run", "sample_text", "tempered",
           "sample_stats", "unit_correlations", "fit_threshold", "threshold_accuracy",
           "train_structured_lm", "STRUCTURED_VOCAB"]

LOG2 = np.log(2.0)


def split_text(text: str, val_share: float = 0.1) -> tuple[str, str]:
    """Cut ``text`` into a training part and the last ``val_share`` of it.

    The cut is moved forward to the next blank line (for the sonnets: the
    end of a sonnet), so no poem is split between the two parts.

    Returns
    -------
    train, val : str, with ``train + val == text``.
    """
    if not isinstance(text, str) or len(text) < 10:
        raise ValueError(f"text: expected a str of at least 10 characters, got {describe(text)}")
    val_share = check_real("val_share", val_share, minimum=0.0, strict_min=True)
    if val_share >= 1:
        raise ValueError(f"val_share: expected a number in (0, 1), got {val_share}")
    cut = int(len(text) * (1 - val_share))
    blank = text.find("\n\n", cut)
    cut = blank + 2 if blank >= 0 else cut
    return text[:cut], text[cut:]


def ngram_bits(train_ids: np.ndarray, val_ids: np.ndarray, K: int, order: int = 1,
               alpha: float = 1.0) -> float:
    """Bits per character of an add-``alpha`` n-gram model of the training text, on ``val_ids``.

    .. math::

        p(k \\mid c) &= \\frac{n(c, k) + \\alpha}{n(c) + \\alpha K}, \\\\
        \\text{bits} &= -\\frac{1}{|V|}\\sum_{t \\in V} \\log_2 p(v_t \\mid c_t)

    where the context ``c`` occurs ``n(c)`` times in the training text and is
    followed by ``k`` ``n(c, k)`` times. The context is empty for ``order=1``
    (unigram) and the previous character for ``order=2`` (bigram; the first validation character is
    not scored). The unigram on the training text itself is its entropy.

    Parameters
    ----------
    train_ids, val_ids : (L,) int arrays of ids in [0, K).
    K : vocabulary size.
    order : 1 or 2.
    alpha : float > 0, additive smoothing (characters unseen in training
        keep a non-zero probability).

    Returns
    -------
    bits : float, bits per character.
    """
    K = check_positive_int("K", K)
    for name, ids in (("train_ids", train_ids), ("val_ids", val_ids)):
        if not isinstance(ids, np.ndarray) or ids.dtype.kind not in "iu" or ids.ndim != 1:
            raise TypeError(f"{name}: expected a 1-d integer array, got {describe(ids)}")
        if ids.size < 2 or ids.min() < 0 or ids.max() >= K:
            raise ValueError(f"{name}: expected at least 2 ids in [0, {K}), got {describe(ids)}")
    alpha = check_real("alpha", alpha, minimum=0.0, strict_min=True)
    if order == 1:
        counts = np.bincount(train_ids, minlength=K) + alpha                   # (K,)
        p = counts / counts.sum()
        return float(-np.mean(np.log2(p[val_ids])))
    if order == 2:
        counts = np.full((K, K), alpha)                                     # (K, K)
        np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1)
        p = counts / counts.sum(axis=1, keepdims=True)
        return float(-np.mean(np.log2(p[val_ids[:-1], val_ids[1:]])))
    raise ValueError(f"order: expected 1 or 2, got {order!r}")


def char_lm_spec(K: int, cell: str = "lstm", H: int = 128, D: int = 32,
                 dtype: str = "float32") -> rl.ModelSpec:
    """The model: character ids -> embedding (K, D) -> ``cell`` with H units -> K logits."""
    return rl.ModelSpec(cell=cell, input="embedding", vocab=K, D=D, H=H, K=K,
                        loss="xent", dtype=dtype)


def train_char_lm(train_ids: np.ndarray, K: int, *, seed: int, cell: str = "lstm",
                  H: int = 128, D: int = 32, T: int = 64, steps: int = 400,
                  lr: float = 1e-2, batch_size: int = 32, checkpoints=(),
                  progress=False) -> tuple[dict, rl.ModelSpec, dict, dict]:
    """Train a character model with Adam on chunks of the text; keep checkpoints.

    The text is cut into non-overlapping chunks of ``T`` characters
    (:func:`rnnlib.data.text.next_token_chunks`), each read from a zero state;
    :func:`rnnlib.training.train` draws shuffled batches of them, clips the gradient
    norm at 1 and runs ``steps`` Adam steps. A checkpoint at step ``s`` is a
    copy of the parameters after ``s`` steps, taken inside the one
    training run (so the optimizer's moments are not reset).

    Parameters
    ----------
    train_ids : (L,) int array of character ids in [0, K).
    K : vocabulary size.
    seed : int; the initial weights use ``default_rng([seed, 0])``, the
        batches ``default_rng([seed, 1])``.
    cell, H, D : the model (:func:`char_lm_spec`).
    T : chunk length (truncation of backpropagation through time).
    steps, lr, batch_size : the optimizer run.
    checkpoints : step numbers in [0, steps] to copy the parameters at.
    progress : passed to :func:`rnnlib.training.train`.

    Returns
    -------
    params : nested dict, the trained parameters.
    spec : ModelSpec.
    history : dict from :func:`rnnlib.training.train` (``"loss"`` in nats per character).
    snapshots : {step: params} for every step in ``checkpoints``.
    """
    steps = check_positive_int("steps", steps)
    marks = sorted({int(s) for s in checkpoints})
    if marks and not (0 <= marks[0] and marks[-1] <= steps):
        raise ValueError(f"checkpoints: expected steps in [0, {steps}], got {marks}")
    spec = char_lm_spec(K, cell, H, D)
    inputs, targets = rl.data.next_token_chunks(train_ids, T)         # (N, T) each
    params = rl.init_model(spec, np.random.default_rng([seed, 0]))
    snapshots = {}

    def copy(p):
        return {k: copy(v) if isinstance(v, dict) else v.copy() for k, v in p.items()}

    def loss_fn(p, batch, step):
        if step in marks:
            snapshots[step] = copy(p)                  # the parameters after `step` steps
        return rl.model_loss(p, batch[0], batch[1], spec)

    params, history = rl.train(params, spec, (inputs, targets), optimizer="adam", lr=lr,
                               steps=steps, clip=("norm", 1.0), batch_size=batch_size,
                               rng=np.random.default_rng([seed, 1]), loss_fn=loss_fn,
                               progress=progress)
    if steps in marks:
        snapshots[steps] = params
    return params, spec, history, snapshots


def log_probs(params: dict, spec: rl.ModelSpec, ids: np.ndarray, pieces: int = 1
              ) -> np.ndarray:
    """Log-probability (nats) the model gives each next character of ``ids``.

    The text is read as ``pieces`` consecutive parts of equal length, run
    as one batch, each from a zero state (``pieces=1``: one long run, the
    state carried through the whole text).

    Parameters
    ----------
    ids : (L,) int array.
    pieces : int >= 1.

    Returns
    -------
    logp : (M,) float64, ``logp[t] = log p(ids[t + 1] | ids[: t + 1])``
        within its piece; ``M = pieces * ((L - 1) // pieces)``.
    """
    pieces = check_positive_int("pieces", pieces)
    n = (ids.size - 1) // pieces
    if n < 1:
        raise ValueError(f"pieces: expected at most {ids.size - 1} pieces, got {pieces}")
    x = ids[:pieces * n].reshape(pieces, n)                           # (P, n)
    y = ids[1:pieces * n + 1].reshape(pieces, n)
    out, _ = rl.model_forward(params, x, spec)                        # (P, n, K)
    logits = out.astype(np.float64)
    lp = rl.log_softmax(logits, axis=-1)
    return np.take_along_axis(lp, y[..., None], axis=-1)[..., 0].ravel()


def bits_per_char(params: dict, spec: rl.ModelSpec, ids: np.ndarray, pieces: int = 1) -> float:
    """Mean bits per character, ``-mean(log2 p)``, of :func:`log_probs`."""
    return float(-log_probs(params, spec, ids, pieces).mean() / LOG2)


def bits_by_context(params: dict, spec: rl.ModelSpec, ids: np.ndarray, T: int,
                    stride: int | None = None) -> np.ndarray:
    """Bits per character as a function of how many characters the model has read.

    Chunks of ``T + 1`` characters start every ``stride`` characters
    (default ``T // 4``), each read from a zero state; entry ``t`` is the
    mean loss of predicting character ``t + 1`` of a chunk after reading
    ``t + 1`` characters (``t = 0``: the model has seen one character,
    like a bigram model).

    Returns
    -------
    bits : (T,) float64.
    """
    T = check_positive_int("T", T)
    stride = check_positive_int("stride", stride if stride is not None else max(T // 4, 1))
    starts = np.arange(0, ids.size - T - 1, stride)
    if starts.size == 0:
        raise ValueError(f"T: expected T <= {ids.size - 2}, got {T}")
    windows = ids[starts[:, None] + np.arange(T + 1)]                 # (N, T + 1)
    out, _ = rl.model_forward(params, windows[:, :-1], spec)          # (N, T, K)
    lp = rl.log_softmax(out.astype(np.float64), axis=-1)
    lp = np.take_along_axis(lp, windows[:, 1:, None], axis=-1)[..., 0]   # (N, T)
    return -lp.mean(axis=0) / LOG2


def hidden_run(params: dict, spec: rl.ModelSpec, ids: np.ndarray) -> dict:
    """The model's states after reading each character of ``ids`` (one run, zero start).

    Returns
    -------
    trace : dict of (L, H) float64 arrays: ``"h"`` and, for an LSTM, ``"c"``
        (row ``t``: after reading ``ids[t]``).
    """
    _, cache = rl.model_forward(params, ids[None, :], spec)
    trace = cache["rnn"]["trace"]
    return {k: np.asarray(trace[k][0], dtype=np.float64) for k in ("h", "c") if k in trace}


def sample_text(params: dict, spec: rl.ModelSpec, vocab, prompt: str, n: int,
                temperature: float, rng: np.random.Generator) -> tuple[str, float]:
    """Read ``prompt``, then sample ``n`` characters at ``temperature``.

    .. math:: p_\\tau(k) \\propto p(k)^{1/\\tau}

    Returns
    -------
    text : str, the ``n`` sampled characters (without the prompt).
    bits : float, their mean surprisal ``-log2 p(k)`` under the untempered model.
    """
    check_rng(rng)
    n = check_positive_int("n", n)
    if not isinstance(prompt, str) or not prompt:
        raise ValueError(f"prompt: expected a non-empty str, got {describe(prompt)}")
    step_fn = rl.make_step_fn(params, spec)
    state = rl.initial_state(spec, 1)
    ids = vocab.encode(prompt)
    for k in ids[:-1]:                                      # read the prompt
        _, state = step_fn(np.array([k]), state)
    tokens, logp = rl.sample_sequence(step_fn, state, int(ids[-1]), n,
                                      temperature=temperature, rng=rng)
    return vocab.decode(tokens[0]), float(-logp[0] / n / LOG2)


def tempered(p: np.ndarray, temperature: float) -> np.ndarray:
    """``p ** (1 / temperature)``, normalised: (K,) -> (K,)."""
    temperature = check_real("temperature", temperature, minimum=0.0, strict_min=True)
    p = np.asarray(p, dtype=np.float64)
    logq = np.log(np.maximum(p, 1e-300)) / temperature
    q = np.exp(logq - logq.max())
    return q / q.sum()


def sample_stats(sample: str, known_words: set) -> dict:
    """What a sample looks like: share of real words, distinct words, line lengths.

    Returns
    -------
    stats : dict with ``"real_words"`` (share of its words, lower-cased
        letters and apostrophes, that occur in ``known_words``),
        ``"distinct"`` (distinct words / words) and ``"n_words"``.
    """
    words = ["".join(c for c in w.lower() if c.isalpha() or c == "'").strip("'")
             for w in sample.split()]
    words = [w for w in words if w]
    if not words:
        return {"real_words": 0.0, "distinct": 0.0, "n_words": 0}
    return {"real_words": float(np.mean([w in known_words for w in words])),
            "distinct": len(set(words)) / len(words), "n_words": len(words)}


def unit_correlations(states: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pearson correlation of every unit with a target sequence.

    .. math::

        r_j = \\frac{\\sum_t (s_{tj} - \\bar s_j)(y_t - \\bar y)}
                   {\\sqrt{\\sum_t (s_{tj} - \\bar s_j)^2 \\sum_t (y_t - \\bar y)^2}}

    Parameters
    ----------
    states : (L, H) floats, one row per character.
    target : (L,) numbers (an indicator as 0/1, or a count).

    Returns
    -------
    r : (H,) float64; 0 for a unit (or target) that never changes.
    """
    states = np.asarray(states, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if states.ndim != 2 or target.shape != (states.shape[0],):
        raise ValueError(f"target: expected shape ({states.shape[0]},) for states of shape "
                         f"{states.shape} (L, H), got {target.shape}")
    s = states - states.mean(axis=0)
    y = target - target.mean()
    den = np.sqrt((s ** 2).sum(axis=0) * (y ** 2).sum())
    num = s.T @ y
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def fit_threshold(values: np.ndarray, indicator: np.ndarray) -> tuple[float, int, float]:
    """The threshold (and direction) that best separates ``indicator`` by ``values``.

    Predicts "on" where ``sign * values > sign * threshold`` and maximises
    the balanced accuracy (:func:`threshold_accuracy`) over every midpoint
    of the sorted values and both signs.

    Parameters
    ----------
    values : (L,) floats, e.g. one unit.
    indicator : (L,) bool, with both values present.

    Returns
    -------
    threshold : float.
    sign : +1 or -1.
    accuracy : float, the balanced accuracy on these values.
    """
    values = np.asarray(values, dtype=np.float64)
    indicator = np.asarray(indicator, dtype=bool)
    if values.ndim != 1 or indicator.shape != values.shape:
        raise ValueError(f"indicator: expected shape {values.shape} like values, "
                         f"got {indicator.shape}")
    n_on = int(indicator.sum())
    if n_on in (0, indicator.size):
        raise ValueError("indicator: expected both True and False entries, got only one")
    order = np.argsort(values, kind="stable")
    v, y = values[order], indicator[order]
    # calling "on" the top L - i values: true negatives = #off among the bottom i
    off_below = np.concatenate([[0], np.cumsum(~y)])                 # (L + 1,)
    on_above = n_on - np.concatenate([[0], np.cumsum(y)])            # true positives
    bal = 0.5 * (on_above / n_on + off_below / (y.size - n_on))      # sign +1
    bal_neg = 1.0 - bal                                              # sign -1
    mids = np.concatenate([[v[0] - 1], (v[:-1] + v[1:]) / 2, [v[-1] + 1]])
    i_pos, i_neg = int(bal.argmax()), int(bal_neg.argmax())
    if bal[i_pos] >= bal_neg[i_neg]:
        return float(mids[i_pos]), 1, float(bal[i_pos])
    return float(mids[i_neg]), -1, float(bal_neg[i_neg])


def threshold_accuracy(values: np.ndarray, indicator: np.ndarray, threshold: float,
                       sign: int) -> float:
    r"""Balanced accuracy of the answer ``sign * values > sign * threshold``.

    .. math::

        \tfrac12 \big(&P(\text{on} \mid \text{indicator}) \\
          &+ P(\text{off} \mid \text{not indicator})\big),

    so any constant answer scores 1/2 however rare the indicator is.
    """
    values = np.asarray(values, dtype=np.float64)
    indicator = np.asarray(indicator, dtype=bool)
    if not indicator.any() or indicator.all():
        raise ValueError("indicator: expected both True and False entries, got only one")
    said = sign * values > sign * threshold
    return float(0.5 * (said[indicator].mean() + (~said[~indicator]).mean()))


#: The characters of :func:`rnnlib.data.text.structured_text`, in id order.
STRUCTURED_VOCAB = rl.data.CharVocab('\n "(),.abdefghilmnoprstuvwy')


def train_structured_lm(seed: int, *, n_lines: int = 3000, H: int = 48, steps: int = 500,
                        lr: float = 1e-2, progress=False) -> tuple[dict, rl.ModelSpec, dict]:
    """A small LSTM character model of :func:`rnnlib.data.text.structured_text`.

    The training text is ``structured_text(n_lines, default_rng([seed, 2]))``;
    training as in :func:`rnnlib.chapters.ch08_char_lm.train_char_lm` (chunks of 64, batch 32, Adam).

    Returns
    -------
    params, spec : the trained model.
    history : dict from :func:`rnnlib.training.train`.
    """
    text = rl.data.text.structured_text(n_lines, np.random.default_rng([seed, 2]))
    ids = STRUCTURED_VOCAB.encode(text)
    params, spec, history, _ = train_char_lm(ids, STRUCTURED_VOCAB.size, seed=seed, H=H,
                                             D=16, steps=steps, lr=lr, progress=progress)
    return params, spec, history


def unit_report(states_fit: np.ndarray, target_fit: np.ndarray, states_test: np.ndarray,
                target_test: np.ndarray, unit: int | None = None) -> dict:
    """How well one unit tracks a 0/1 indicator, judged on text it was not picked on.

    With ``unit=None`` the unit with the largest ``|r|`` on the fitting
    text is chosen (:func:`unit_correlations`); a threshold is fitted there
    (:func:`fit_threshold`) and both are then applied to the test text.

    Parameters
    ----------
    states_fit, states_test : (L1, H) and (L2, H) unit values.
    target_fit, target_test : (L1,) and (L2,) bool indicators.
    unit : int in [0, H) or None.

    Returns
    -------
    report : dict with ``"unit"``, ``"r_fit"``, ``"r_test"`` (signed
        correlations), ``"threshold"``, ``"sign"``, ``"accuracy"`` (balanced
        accuracy on the test text, 1/2 for a constant answer) and
        ``"on_share"`` (share of test characters where the indicator holds).
    """
    r_fit = unit_correlations(states_fit, target_fit)
    if unit is None:
        unit = int(np.abs(r_fit).argmax())
    elif not 0 <= unit < states_fit.shape[1]:
        raise ValueError(f"unit: expected an int in [0, {states_fit.shape[1]}), got {unit}")
    threshold, sign, _ = fit_threshold(states_fit[:, unit], target_fit)
    r_test = unit_correlations(states_test[:, unit:unit + 1], target_test)[0]
    return {"unit": unit, "r_fit": float(r_fit[unit]), "r_test": float(r_test),
            "threshold": threshold, "sign": sign,
            "accuracy": threshold_accuracy(states_test[:, unit], target_test, threshold, sign),
            "on_share": float(np.mean(target_test))}
