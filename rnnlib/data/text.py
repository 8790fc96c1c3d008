"""A small shipped English corpus and a character vocabulary.

The corpus lives in ``rnnlib/data/files/`` (provenance and licence in the
README there) and is read from the installed package, so nothing is
downloaded and the working directory does not matter.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from .._validate import describe, check_positive_int

__all__ = ["CORPORA", "load_corpus", "CharVocab", "next_token_chunks"]

#: Shipped corpora by name: file name in ``rnnlib/data/files``.
CORPORA = {
    "sonnets": "sonnets.txt",   # Shakespeare's 154 sonnets, ~96 kB, 62 distinct characters
}


def load_corpus(name: str = "sonnets") -> str:
    """Return the text of a shipped corpus.

    Parameters
    ----------
    name : a key of :data:`CORPORA` (``"sonnets"``: Shakespeare's Sonnets,
        1609, public domain; 95,728 characters).

    Returns
    -------
    text : str (UTF-8, ``\\n`` line ends).
    """
    if name not in CORPORA:
        raise ValueError(f"name: expected one of {sorted(CORPORA)}, got {name!r}")
    path = resources.files("rnnlib.data").joinpath("files", CORPORA[name])
    return path.read_text(encoding="utf-8")


class CharVocab:
    """Map characters to ids ``0 .. K-1`` and back.

    The vocabulary is the sorted set of characters in ``text``, so the same
    text always gives the same ids. A thin class: it holds only the two
    lookup tables, fixed at construction.

    Attributes
    ----------
    chars : list of str, ``chars[k]`` is the character with id ``k``.
    size : int, ``K``.
    """

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError(f"text: expected a str, got {describe(text)}")
        if not text:
            raise ValueError("text: expected a non-empty string, got ''")
        self.chars = sorted(set(text))
        self._index = {c: i for i, c in enumerate(self.chars)}
        self._table = np.array(self.chars, dtype=object)

    @property
    def size(self) -> int:
        """Vocabulary size ``K``."""
        return len(self.chars)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"CharVocab(size={self.size})"

    def encode(self, s: str) -> np.ndarray:
        """Ids of the characters of ``s``: an int64 array of shape (len(s),).

        A character outside the vocabulary raises ``ValueError``.
        """
        if not isinstance(s, str):
            raise TypeError(f"s: expected a str, got {describe(s)}")
        try:
            return np.fromiter((self._index[c] for c in s), dtype=np.int64, count=len(s))
        except KeyError as err:
            raise ValueError(f"s: character {err.args[0]!r} is not in the vocabulary "
                             f"of {self.size} characters") from None

    def decode(self, ids) -> str:
        """The string of a 1-d sequence of ids in ``[0, K)`` (array or list of ints)."""
        arr = np.asarray(ids)
        if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind == "f"):
            raise TypeError(f"ids: expected integer ids, got {describe(ids)}")
        if arr.ndim != 1:
            raise ValueError(f"ids: expected a 1-d sequence of ids, got shape {arr.shape}")
        if arr.size == 0:
            return ""
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= self.size:
            bad = lo if lo < 0 else hi
            raise ValueError(f"ids: expected ids in [0, {self.size - 1}], got {bad}")
        return "".join(self._table[arr.astype(np.int64)])


def next_token_chunks(ids: np.ndarray, T: int):
    """Cut a long id sequence into non-overlapping (input, next-token target) chunks.

    .. math::

        \\text{inputs}_{n,t} &= \\text{ids}_{nT + t}, \\\\
        \\text{targets}_{n,t} &= \\text{ids}_{nT + t + 1},

    the training pairs of a character-level language model (min-char-rnn
    walks the text in such chunks of ``T = 25``). The tail that does not
    fill a whole chunk is dropped.

    Parameters
    ----------
    ids : (L,) integer array.
    T : int >= 1, chunk length.

    Returns
    -------
    inputs : (N, T) int64 with ``N = (L - 1) // T``.
    targets : (N, T) int64.
    """
    if not isinstance(ids, np.ndarray) or ids.dtype.kind not in "iu":
        raise TypeError(f"ids: expected an integer numpy array, got {describe(ids)}")
    if ids.ndim != 1:
        raise ValueError(f"ids: expected a 1-d array of shape (L,), got shape {ids.shape}")
    T = check_positive_int("T", T)
    N = (ids.size - 1) // T
    if N < 1:
        raise ValueError(f"T: expected T <= len(ids) - 1 = {ids.size - 1}, got {T}")
    inputs = ids[:N * T].reshape(N, T).astype(np.int64)
    targets = ids[1:N * T + 1].reshape(N, T).astype(np.int64)
    return inputs, targets
