"""Helpers for section 8.3, a hidden-state explorer (``book/08_3_state_explorer.ipynb``).

LSTMVis (Strobelt et al. 2018) lets a user test a hypothesis about what
hidden units track: select a span of text, keep the units that are *on*
(above a threshold) throughout it, and look at the other spans where the
same units are on. This module does that with plain arrays:

* :func:`on_units`: the units on throughout a selected span;
* :func:`match_spans`: the maximal runs where all of them are on, ranked
  by how exactly the selected set (and no other unit) is on there;
* :func:`structure_precision`: how many of the top matches share a named
  structure of the selection (inside brackets, first word of a line, ...).

The model is the small LSTM of section 8.2 trained on generated text
(:func:`rnnlib.chapters.ch08_char_lm.train_structured_lm`, re-exported
here, same seeds). Shapes: ``L`` characters, ``H`` units.
"""

from __future__ import annotations

import numpy as np

from rnnlib._validate import check_positive_int, check_real, describe
from rnnlib.chapters.ch08_char_lm import STRUCTURED_VOCAB, hidden_run, train_structured_lm

__all__ = ["train_structured_lm", "hidden_run", "STRUCTURED_VOCAB", "signed_units",
           "unit_names", "find_span", "word_indicator", "on_units", "match_spans",
           "span_share", "structure_precision", "random_unit_precision", "explore",
           "mean_defined"]


def _check_states(states):
    states = np.asarray(states, dtype=np.float64)
    if states.ndim != 2:
        raise ValueError(f"states: expected a 2-d array (L, H), got shape {states.shape}")
    return states


def _check_span(span, L, name="span"):
    if (not isinstance(span, tuple) or len(span) != 2
            or not all(isinstance(v, (int, np.integer)) for v in span)
            or not 0 <= span[0] < span[1] <= L):
        raise ValueError(f"{name}: expected (start, stop) with 0 <= start < stop <= {L}, "
                         f"got {span!r}")
    return int(span[0]), int(span[1])


def signed_units(states: np.ndarray) -> np.ndarray:
    r"""Standardise every unit over the text and give each sign its own column.

    .. math::

        z_{tj} = \frac{s_{tj} - \bar s_j}{\sigma_j}, \qquad
        u = [\, z, \; -z \,]

    LSTMVis thresholds raw hidden values, so it only sees units that are
    *on* when positive; a unit that tracks a structure by going negative
    (or a cell value on a scale of its own) is found here too. Column
    ``j < H`` is unit ``j``, column ``H + j`` is unit ``j`` negated.

    Parameters
    ----------
    states : (L, H) floats.

    Returns
    -------
    u : (L, 2H) float64 (a unit that never changes gives zeros).
    """
    states = _check_states(states)
    sd = states.std(axis=0)
    z = np.divide(states - states.mean(axis=0), sd, out=np.zeros_like(states),
                  where=sd > 0)
    return np.concatenate([z, -z], axis=1)


def unit_names(units, H: int) -> list[str]:
    """Names of columns of :func:`signed_units`: ``"+12"`` for unit 12, ``"-12"`` negated."""
    H = check_positive_int("H", H)
    return [f"+{j}" if j < H else f"-{j - H}" for j in np.asarray(units).tolist()]


def word_indicator(text: str, word: str) -> np.ndarray:
    """(L,) bool: the characters of every whole-word occurrence of ``word`` in ``text``."""
    import re
    if not isinstance(word, str) or not word.isalpha():
        raise ValueError(f"word: expected a word of letters, got {word!r}")
    out = np.zeros(len(text), bool)
    for m in re.finditer(rf"\b{word}\b", text):
        out[m.start():m.end()] = True
    return out


def find_span(indicator: np.ndarray, k: int = 0, min_length: int = 2) -> tuple[int, int]:
    """The ``k``-th maximal run of True in ``indicator`` at least ``min_length`` long.

    Parameters
    ----------
    indicator : (L,) bool.
    k : int >= 0.
    min_length : int >= 1.

    Returns
    -------
    span : (start, stop), half-open.
    """
    runs = _runs(np.asarray(indicator, dtype=bool))
    runs = [r for r in runs if r[1] - r[0] >= check_positive_int("min_length", min_length)]
    if not 0 <= k < len(runs):
        raise ValueError(f"k: expected an index below {len(runs)} (runs of length >= "
                         f"{min_length}), got {k}")
    return runs[k]


def _runs(mask):
    """Maximal runs of True in a (L,) bool array, as (start, stop) pairs."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[0::2], edges[1::2])]


def on_units(states: np.ndarray, span: tuple, threshold: float, *,
             off_before: bool = True) -> np.ndarray:
    """The units that are on throughout ``span`` (LSTMVis's selection).

    .. math::

        S = &\\{\\, j : s_{tj} > \\theta \\ \\text{for all } t \\in [a, b) \\,\\} \\\\
            &\\cap \\{\\, j : s_{a-1,j} \\le \\theta \\,\\}

    (the second set only with ``off_before`` and ``a > 0``: the units that
    switch on where the span starts, not those on all the time).

    Parameters
    ----------
    states : (L, H) floats, the units after each character.
    span : (a, b), half-open character range.
    threshold : float, ``theta``.
    off_before : also require the unit to be off just before the span.

    Returns
    -------
    units : (S,) int array, sorted.
    """
    states = _check_states(states)
    a, b = _check_span(span, states.shape[0])
    threshold = check_real("threshold", threshold)
    on = (states[a:b] > threshold).all(axis=0)                       # (H,)
    if off_before and a > 0:
        on &= states[a - 1] <= threshold
    return np.flatnonzero(on)


def match_spans(states: np.ndarray, units: np.ndarray, threshold: float, *,
                exclude: tuple | None = None, min_length: int = 2,
                top: int = 10, min_share: float = 1.0) -> list[dict]:
    """Other spans where all ``units`` are on, ranked as LSTMVis ranks matches.

    A candidate is a maximal run of characters where every selected unit
    is above ``threshold``, at least ``min_length`` long and not
    overlapping ``exclude``. Its score is

    .. math::

        \\text{score} = |S \\cap O| - |O \\setminus S|,

    where ``O`` is the set of units on throughout the candidate: the best
    matches have exactly the selected units on and no others. Ties go to
    the longer span, then the earlier one.

    Parameters
    ----------
    states : (L, H) floats.
    units : (S,) int array, ``S >= 1`` (from :func:`on_units`).
    threshold : float.
    exclude : optional (start, stop), the selection itself.
    min_length : int >= 1.
    top : int >= 1, number of matches returned.
    min_share : float in (0, 1], share of the selected units that must be on.

    Returns
    -------
    matches : list of dicts with ``"span"`` (start, stop), ``"score"``,
        ``"extra"`` (number of other units on throughout), best first.
    """
    states = _check_states(states)
    units = np.asarray(units)
    if units.ndim != 1 or units.size == 0 or units.dtype.kind not in "iu":
        raise ValueError(f"units: expected a non-empty 1-d int array, got {describe(units)}")
    if units.min() < 0 or units.max() >= states.shape[1]:
        raise ValueError(f"units: expected indices in [0, {states.shape[1]}), got {units}")
    threshold = check_real("threshold", threshold)
    min_length = check_positive_int("min_length", min_length)
    top = check_positive_int("top", top)
    ex = _check_span(exclude, states.shape[0], "exclude") if exclude is not None else None
    on = states > threshold                                          # (L, H)
    selected = np.zeros(states.shape[1], bool)
    selected[units] = True
    found = []
    min_share = check_real("min_share", min_share, minimum=0.0, strict_min=True)
    if min_share > 1:
        raise ValueError(f"min_share: expected a share in (0, 1], got {min_share}")
    need = max(1, int(np.ceil(min_share * units.size - 1e-9)))
    for a, b in _runs(on[:, units].sum(axis=1) >= need):
        if b - a < min_length or (ex is not None and a < ex[1] and ex[0] < b):
            continue
        O = on[a:b].mean(axis=0) > 0.5                               # (H,)
        extra = int((O & ~selected).sum())
        found.append({"span": (a, b), "score": int((O & selected).sum()) - extra,
                      "extra": extra})
    found.sort(key=lambda m: (-m["score"], -(m["span"][1] - m["span"][0]), m["span"][0]))
    return found[:top]


def span_share(span: tuple, indicator: np.ndarray) -> float:
    """Share of the characters of ``span`` where ``indicator`` holds."""
    indicator = np.asarray(indicator, dtype=bool)
    a, b = _check_span(span, indicator.size)
    return float(indicator[a:b].mean())


def structure_precision(matches: list, indicator: np.ndarray, majority: float = 0.5) -> float:
    """Share of ``matches`` whose characters mostly (> ``majority``) have the structure.

    Returns NaN for an empty list of matches.
    """
    if not matches:
        return float("nan")
    return float(np.mean([span_share(m["span"], indicator) > majority for m in matches]))


def random_unit_precision(states: np.ndarray, n_units: int, threshold: float,
                          indicator: np.ndarray, rng: np.random.Generator, *,
                          exclude: tuple | None = None, draws: int = 20, top: int = 10,
                          min_length: int = 2) -> float:
    """Precision of the matches of randomly chosen sets of ``n_units`` units (a control).

    The mean of :func:`structure_precision` over ``draws`` random sets
    (sets with no match are skipped; NaN if none has any, see
    :func:`mean_defined`).
    """
    states = _check_states(states)
    n_units = check_positive_int("n_units", n_units)
    out = []
    for _ in range(check_positive_int("draws", draws)):
        units = np.sort(rng.choice(states.shape[1], size=n_units, replace=False))
        m = match_spans(states, units, threshold, exclude=exclude, top=top,
                        min_length=min_length)
        if m:
            out.append(structure_precision(m, indicator))
    return mean_defined(out)


def explore(states: np.ndarray, span: tuple, indicator: np.ndarray, threshold: float, *,
            top: int = 10, min_length: int = 3, off_before: bool = False,
            min_share: float = 1.0) -> dict:
    """One selection, end to end: its units, its ranked matches, their precision.

    Parameters
    ----------
    states : (L, U) floats (e.g. :func:`signed_units`).
    span : (start, stop), the selection.
    indicator : (L,) bool, the structure the selection is meant to have.
    threshold, top, min_length, off_before, min_share : as for
        :func:`on_units` and :func:`match_spans`.

    Returns
    -------
    result : dict with ``"span"``, ``"units"`` (S,), ``"matches"`` (list
        from :func:`match_spans`), ``"precision"`` (NaN with no match),
        ``"selection_share"`` (share of the selection with the structure)
        and ``"chance"`` (share of all characters with it).
    """
    units = on_units(states, span, threshold, off_before=off_before)
    matches = (match_spans(states, units, threshold, exclude=span, min_length=min_length,
                           top=top, min_share=min_share) if units.size else [])
    return {"span": span, "units": units, "matches": matches,
            "precision": structure_precision(matches, indicator),
            "selection_share": span_share(span, indicator),
            "chance": float(np.mean(indicator))}


def mean_defined(values) -> float:
    """Mean of the entries that are not NaN; NaN if there is none (no warning)."""
    a = np.asarray(values, dtype=np.float64).ravel()
    ok = ~np.isnan(a)
    return float(a[ok].mean()) if ok.any() else float("nan")
