"""Padding and masking of variable-length sequences, one-hot codes,
deterministic mini-batches and train/test splits.
"""

from __future__ import annotations

import numpy as np

from .._validate import (describe, check_choice, check_positive_int, check_probability,
                         check_rng)

__all__ = ["pad_sequences", "mask_from_lengths", "one_hot", "minibatches",
           "train_test_split", "bucket_batches", "padding_counts"]


def mask_from_lengths(lengths, maxlen: int | None = None) -> np.ndarray:
    """A (N, T) 0/1 mask with ``mask[n, t] = 1`` for ``t < lengths[n]``.

    Parameters
    ----------
    lengths : (N,) integer array or list of ints >= 0.
    maxlen : int >= 1 or None for ``max(lengths)``; lengths above it are cut.

    Returns
    -------
    mask : (N, T) float64 of 0.0 / 1.0 (T = maxlen).
    """
    arr = np.asarray(lengths)
    if arr.size == 0:
        raise ValueError("lengths: expected a non-empty batch (N >= 1), got 0 lengths")
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise TypeError(f"lengths: expected a 1-d sequence of integers, got {describe(lengths)}")
    if np.any(arr < 0):
        raise ValueError(f"lengths: expected lengths >= 0, got {int(arr.min())}")
    T = int(arr.max()) if maxlen is None else check_positive_int("maxlen", maxlen)
    if T < 1:
        raise ValueError("lengths: expected at least one length >= 1, got all zeros")
    return (np.arange(T)[None, :] < arr[:, None]).astype(np.float64)


def pad_sequences(seqs, maxlen: int | None = None, value=0, padding: str = "post",
                  truncating: str = "post"):
    """Stack sequences of different lengths into one array, with a mask.

    .. math::

        \\text{padded}_{n,t} &= s^{(n)}_t, \\\\
        \\text{mask}_{n,t} &= 1

    for ``t < L_n``, and ``value`` and 0 after (with ``padding="post"``).

    Parameters
    ----------
    seqs : non-empty list of arrays, each (L_n,) (e.g. token ids) or
        (L_n, D) with the same ``D`` and dtype kind; every ``L_n >= 1``.
    maxlen : int >= 1 or None for the longest ``L_n``. Longer sequences are
        cut to ``maxlen``.
    value : the padding value (cast to the sequences' dtype).
    padding : ``"post"`` (pad at the end, the usual choice for a recurrence
        run forward) or ``"pre"`` (pad at the start).
    truncating : ``"post"`` (keep the first ``maxlen`` steps) or ``"pre"``
        (keep the last ``maxlen``).

    Returns
    -------
    padded : (N, T) or (N, T, D) array, the dtype of the sequences.
    mask : (N, T) float64, 1.0 at real steps and 0.0 at padding.
    """
    if not isinstance(seqs, (list, tuple)):
        raise TypeError(f"seqs: expected a list of arrays, got {describe(seqs)}")
    if len(seqs) == 0:
        raise ValueError("seqs: expected a non-empty batch (N >= 1), got an empty list")
    check_choice("padding", padding, ("post", "pre"))
    check_choice("truncating", truncating, ("post", "pre"))
    arrs = []
    for i, s in enumerate(seqs):
        a = np.asarray(s)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"seqs[{i}]: expected a numeric array, got {describe(s)}")
        if a.ndim not in (1, 2):
            raise ValueError(f"seqs[{i}]: expected shape (L,) or (L, D), got {a.shape}")
        if a.shape[0] == 0:
            raise ValueError(f"seqs[{i}]: expected at least one step (L >= 1), got shape {a.shape}")
        arrs.append(a)
    tail = arrs[0].shape[1:]
    for i, a in enumerate(arrs):
        if a.shape[1:] != tail:
            raise ValueError(f"seqs[{i}]: expected shape (L,{' ' + str(tail[0]) if tail else ''}) "
                             f"like seqs[0], got {a.shape}")
    dtype = np.result_type(*arrs)
    lengths = np.array([a.shape[0] for a in arrs])
    T = int(lengths.max()) if maxlen is None else check_positive_int("maxlen", maxlen)
    N = len(arrs)
    padded = np.full((N, T) + tail, value, dtype=dtype)      # (N, T) or (N, T, D)
    mask = np.zeros((N, T))
    for n, a in enumerate(arrs):
        a = a[:T] if truncating == "post" else a[-T:]
        L = a.shape[0]
        if padding == "post":
            padded[n, :L], mask[n, :L] = a, 1.0
        else:
            padded[n, T - L:], mask[n, T - L:] = a, 1.0
    return padded, mask


def one_hot(ids: np.ndarray, K: int, dtype=np.float64) -> np.ndarray:
    """One-hot codes: ``out[..., k] = 1`` where ``ids == k``.

    Parameters
    ----------
    ids : integer array of any shape, e.g. (N, T), values in [0, K).
    K : int >= 1, number of classes.
    dtype : float32 or float64.

    Returns
    -------
    out : array of shape ``ids.shape + (K,)``, e.g. (N, T, K).
    """
    from ..embedding import check_ids
    K = check_positive_int("K", K)
    ids = check_ids("ids", ids, K, ndim=None, shape_doc="(...)")
    return np.eye(K, dtype=dtype)[ids]


def minibatches(n: int, batch_size: int, rng: np.random.Generator | None,
                shuffle: bool = True, drop_last: bool = False):
    """Yield index arrays that split ``0 .. n-1`` into mini-batches.

    One call is one epoch; each index appears once. With ``shuffle`` the
    order is a permutation drawn from ``rng``, so the same seed gives the
    same batches. The last batch is smaller when ``batch_size`` does not
    divide ``n``, unless ``drop_last``.

    Parameters
    ----------
    n : int >= 1, number of examples.
    batch_size : int >= 1.
    rng : np.random.Generator (may be None when ``shuffle=False``).
    shuffle : bool.
    drop_last : bool, skip a final incomplete batch.

    Yields
    ------
    idx : (B,) int64 array of example indices, ``B <= batch_size``.
    """
    n = check_positive_int("n", n)
    batch_size = check_positive_int("batch_size", batch_size)
    if shuffle:
        order = check_rng(rng).permutation(n)
    else:
        order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    if stop == 0:
        raise ValueError(f"batch_size: with drop_last, expected batch_size <= n = {n}, "
                         f"got {batch_size}")
    return (order[i:i + batch_size] for i in range(0, stop, batch_size))


def train_test_split(n: int, fraction: float, rng: np.random.Generator):
    """Split the indices ``0 .. n-1`` at random into a training and a test part.

    Parameters
    ----------
    n : int >= 2, number of examples.
    fraction : float in [0, 1], the fraction of examples for the **test**
        part (``round(fraction * n)`` of them, like scikit-learn's
        ``test_size``); both parts must come out non-empty.
    rng : np.random.Generator.

    Returns
    -------
    train_idx : (n - n_test,) int64, sorted.
    test_idx : (n_test,) int64, sorted.
    """
    n = check_positive_int("n", n, minimum=2)
    fraction = check_probability("fraction", fraction)
    rng = check_rng(rng)
    n_test = int(round(fraction * n))
    if n_test < 1 or n_test > n - 1:
        raise ValueError(f"fraction: expected a test part with 1 .. {n - 1} of the {n} examples, "
                         f"got fraction {fraction} (n_test = {n_test})")
    perm = rng.permutation(n)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def _check_lengths(lengths) -> np.ndarray:
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        raise ValueError(f"lengths: expected a non-empty 1-d array of integer lengths (N,), "
                         f"got {describe(lengths)}")
    if np.any(arr < 1):
        raise ValueError(f"lengths: expected every length >= 1, got {int(arr.min())}")
    return arr.astype(np.int64)


def bucket_batches(lengths, batch_size: int, rng: np.random.Generator):
    """Mini-batches of sequences of similar length (one epoch).

    The examples are sorted by length, ties in random order, and cut into
    consecutive batches of ``batch_size``; the order of the batches is then
    shuffled. Each batch padded to its own longest sequence wastes few
    steps on padding. (The "sorted, then shuffled batches" form of
    bucketing; Doetsch et al. 2017 compare it with other strategies.)

    Parameters
    ----------
    lengths : (N,) integer array of sequence lengths >= 1.
    batch_size : int >= 1.
    rng : np.random.Generator (tie order and batch order).

    Returns
    -------
    batches : list of (B,) int64 index arrays, ``B <= batch_size``; each
        index appears once.
    """
    arr = _check_lengths(lengths)
    batch_size = check_positive_int("batch_size", batch_size)
    rng = check_rng(rng)
    shuffled = rng.permutation(arr.size)                    # random order among equal lengths
    order = shuffled[np.argsort(arr[shuffled], kind="stable")]
    batches = [order[i:i + batch_size] for i in range(0, arr.size, batch_size)]
    return [batches[j] for j in rng.permutation(len(batches))]


def padding_counts(lengths, batches) -> tuple[int, int]:
    """Real and padded steps when every batch is padded to its longest sequence.

    .. math::

        \\text{real} &= \\sum_n L_n, \\\\
        \\text{padded} &= \\sum_b |b| \\max_{n \\in b} L_n - \\text{real}

    Parameters
    ----------
    lengths : (N,) integer array of sequence lengths >= 1.
    batches : iterable of index arrays into ``lengths``.

    Returns
    -------
    real, padded : ints, the steps that hold data and the padded steps an
        epoch over ``batches`` processes.
    """
    arr = _check_lengths(lengths)
    real = padded = 0
    for i, idx in enumerate(batches):
        idx = np.asarray(idx)
        if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
            raise ValueError(f"batches[{i}]: expected a non-empty 1-d integer index array, "
                             f"got {describe(idx)}")
        if idx.min() < 0 or idx.max() >= arr.size:
            raise ValueError(f"batches[{i}]: expected indices in [0, {arr.size - 1}], "
                             f"got {int(idx.min() if idx.min() < 0 else idx.max())}")
        L = arr[idx]
        real += int(L.sum())
        padded += int(L.size * L.max() - L.sum())
    return real, padded
