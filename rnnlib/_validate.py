"""Input checks shared by every public function of rnnlib.

Each check raises a ``ValueError`` (or ``TypeError`` for a wrong type) whose
message names the argument, what was expected and what was received, e.g.::

    x: expected a 3-d array of shape (N, T, D), got shape (5, 3)

so that bad input never reaches numpy and fails there with a broadcasting
error.
"""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)


class NonFiniteError(ValueError):
    """A float input holds NaN or inf (a ``ValueError``, so ``except ValueError`` sees it).

    :func:`rnnlib.training.train` catches exactly this one to tell a diverged run
    (an intermediate overflowed) from a programming error.
    """


def describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:120]


def check_float_array(name: str, value, ndim: int | None = None,
                      shape_doc: str | None = None, dtype=None,
                      allow_empty: bool = False) -> np.ndarray:
    """Return ``value`` as a float ndarray after checking type, rank and values.

    ``value`` must already be a numpy array of float32 or float64 (no silent
    conversion from ints or lists: that would hide mistakes). ``dtype``, when
    given, is the dtype it must match (the dtype of ``x`` for parameters).
    NaN and inf are rejected.
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {describe(value)}")
    if value.dtype.type not in FLOAT_DTYPES:
        raise TypeError(
            f"{name}: expected dtype float32 or float64, got dtype {value.dtype}")
    if dtype is not None and value.dtype != np.dtype(dtype):
        raise TypeError(
            f"{name}: expected dtype {np.dtype(dtype)} (the dtype of x), "
            f"got dtype {value.dtype}")
    if ndim is not None and value.ndim != ndim:
        doc = f" of shape {shape_doc}" if shape_doc else ""
        raise ValueError(
            f"{name}: expected a {ndim}-d array{doc}, got shape {value.shape}")
    if not allow_empty and value.size == 0:
        doc = f" {shape_doc}" if shape_doc else ""
        raise ValueError(
            f"{name}: expected a non-empty array{doc}, got shape {value.shape}")
    if not np.all(np.isfinite(value)):
        bad = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
        raise NonFiniteError(
            f"{name}: expected finite values, got {bad} NaN or inf "
            f"entr{'y' if bad == 1 else 'ies'}")
    return value


def check_shape(name: str, value: np.ndarray, expected: tuple, doc: str) -> None:
    """Raise unless ``value.shape == expected``; ``doc`` spells it in letters."""
    if tuple(value.shape) != tuple(expected):
        raise ValueError(
            f"{name}: expected shape {doc} = {tuple(expected)}, got {value.shape}")


def check_sequence(name: str, x, last_doc: str = "D") -> np.ndarray:
    """Check a batch-first sequence array (N, T, F) with N, T, F >= 1."""
    x = check_float_array(name, x, ndim=3, shape_doc=f"(N, T, {last_doc})",
                          allow_empty=True)
    N, T, F = x.shape
    if T == 0:
        raise ValueError(
            f"{name}: expected at least one time step (T >= 1), got shape "
            f"{x.shape} (an empty sequence)")
    if N == 0:
        raise ValueError(f"{name}: expected a non-empty batch (N >= 1), got shape {x.shape}")
    if F == 0:
        raise ValueError(f"{name}: expected at least one feature ({last_doc} >= 1), got shape {x.shape}")
    return x


def check_mask(mask, N: int, T: int, dtype) -> np.ndarray | None:
    """Check a (N, T) mask of 0/1 values and return it as ``dtype`` (or None).

    Booleans and integer or float arrays holding only 0 and 1 are accepted.
    """
    if mask is None:
        return None
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"mask: expected a numpy array of shape (N, T), got {describe(mask)}")
    if mask.shape != (N, T):
        raise ValueError(f"mask: expected shape (N, T) = {(N, T)}, got {mask.shape}")
    if mask.dtype.kind not in "biuf":
        raise TypeError(f"mask: expected a boolean or numeric array, got dtype {mask.dtype}")
    if mask.dtype.kind != "b":
        ok = (mask == 0) | (mask == 1)
        if not np.all(ok):
            bad = mask[~ok].ravel()[:3]
            raise ValueError(f"mask: expected only 0 and 1 values, got {bad.tolist()}")
    return mask.astype(dtype)


def check_params(params, expected: dict, dtype, where: str = "params") -> dict:
    """Check a params dict against ``expected = {key: (shape, doc)}``.

    Missing or extra keys, wrong shapes, dtypes or non-finite values raise.
    """
    if not isinstance(params, dict):
        raise TypeError(f"{where}: expected a dict of arrays, got {describe(params)}")
    missing = sorted(set(expected) - set(params))
    extra = sorted(set(params) - set(expected))
    if missing or extra:
        raise ValueError(
            f"{where}: expected keys {sorted(expected)}, got {sorted(params)}"
            + (f" (missing {missing})" if missing else "")
            + (f" (unexpected {extra})" if extra else ""))
    for key, (shape, doc) in expected.items():
        value = check_float_array(f"{where}['{key}']", params[key],
                                  ndim=len(shape), shape_doc=doc, dtype=dtype)
        check_shape(f"{where}['{key}']", value, shape, doc)
    return params


def check_width(x_name: str, width: int, params, key: str = "U", letter: str = "D",
                where: str = "params") -> None:
    """Raise, naming both, if ``params[key]``'s columns disagree with the input's width.

    A mismatch between an input and a weight matrix may be either one's
    fault, so the message names both, e.g.
    ``x and params['U'] disagree: x has D = 3 features, params['U']
    (shape (5, 2)) has D = 2 columns (one of the two is wrong)``.
    Does nothing when ``params[key]`` is not a 2-d array (the full
    parameter check reports that).
    """
    W = params.get(key) if isinstance(params, dict) else None
    if isinstance(W, np.ndarray) and W.ndim == 2 and W.shape[1] != width:
        raise ValueError(
            f"{x_name} and {where}['{key}'] disagree: {x_name} has {letter} = {width} "
            f"features, {where}['{key}'] (shape {W.shape}) has {letter} = {W.shape[1]} "
            f"columns (one of the two is wrong)")


def check_choice(name: str, value, choices) -> None:
    if value not in choices:
        listed = sorted(choices, key=lambda c: (c is not None, repr(c)))  # None sorts too
        raise ValueError(f"{name}: expected one of {listed}, got {value!r}")


def check_positive_int(name: str, value, allow_none: bool = False, minimum: int = 1):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer >= {minimum}, got {describe(value)}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def check_probability(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a probability in [0, 1], got {describe(value)}")
    if not (0.0 <= float(value) <= 1.0):
        raise ValueError(f"{name}: expected a probability in [0, 1], got {value}")
    return float(value)


def check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng: expected a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {describe(rng)}")
    return rng


# --- generic checks added for the training toolkit (issue 3) ---------------

def check_array_dict(name: str, value, allow_nonfinite: bool = False) -> dict:
    """Check a non-empty dict of float arrays (parameters or gradients).

    ``allow_nonfinite=True`` lets NaN/inf through (gradient norms are
    computed on diverged gradients so the caller can see and report them).
    """
    if not isinstance(value, dict):
        raise TypeError(f"{name}: expected a dict of arrays, got {describe(value)}")
    if not value:
        raise ValueError(f"{name}: expected a non-empty dict of arrays, got an empty dict")
    for key, arr in value.items():
        if allow_nonfinite:
            if not isinstance(arr, np.ndarray):
                raise TypeError(f"{name}['{key}']: expected a numpy array, got {describe(arr)}")
            if arr.dtype.type not in FLOAT_DTYPES:
                raise TypeError(f"{name}['{key}']: expected dtype float32 or float64, "
                                f"got dtype {arr.dtype}")
        else:
            check_float_array(f"{name}['{key}']", arr, allow_empty=True)
    return value


def check_matching_dicts(name_a: str, a: dict, name_b: str, b: dict) -> None:
    """Raise unless dicts ``a`` and ``b`` have the same keys and array shapes."""
    if set(a) != set(b):
        missing = sorted(set(a) - set(b))
        extra = sorted(set(b) - set(a))
        raise ValueError(
            f"{name_b}: expected the keys of {name_a} {sorted(a)}, got {sorted(b)}"
            + (f" (missing {missing})" if missing else "")
            + (f" (unexpected {extra})" if extra else ""))
    for key in a:
        if np.shape(a[key]) != np.shape(b[key]):
            raise ValueError(
                f"{name_b}['{key}']: expected the shape of {name_a}['{key}'] "
                f"{np.shape(a[key])}, got {np.shape(b[key])}")


def check_real(name: str, value, minimum: float | None = None,
               maximum: float | None = None, strict_min: bool = False) -> float:
    """Check a finite real number, optionally bounded, and return it as float.

    ``strict_min=True`` requires ``value > minimum`` instead of ``>=``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a real number, got {describe(value)}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    if minimum is not None and (v <= minimum if strict_min else v < minimum):
        op = ">" if strict_min else ">="
        raise ValueError(f"{name}: expected a number {op} {minimum}, got {value}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name}: expected a number <= {maximum}, got {value}")
    return v
