"""A small shipped English corpus and a character vocabulary.

The corpus lives in ``rnnlib/data/files/`` (provenance and licence in the
README there) and is read from the installed package, so nothing is
downloaded and the working directory does not matter.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from .._validate import check_positive_int, check_probability, check_rng, describe

__all__ = ["CORPORA", "load_corpus", "CharVocab", "next_token_chunks",
           "SYNTHETIC_WORDS", "structured_text", "structure_labels"]

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


#: The words of :func:`structured_text`: short, common words of the sonnets.
SYNTHETIC_WORDS = ("thy", "love", "thee", "doth", "time", "sweet", "beauty", "eyes",
                   "heart", "fair", "day", "night", "old", "youth", "still", "art",
                   "self", "true", "mine", "verse", "rose", "death", "praise", "summer")


def structured_text(n_lines: int, rng: np.random.Generator, *, words=SYNTHETIC_WORDS,
                    bracket_words=SYNTHETIC_WORDS[:6], quote_words=SYNTHETIC_WORDS[6:12],
                    line_words: tuple = (4, 9), p_bracket: float = 0.6,
                    p_quote: float = 0.6, p_comma: float = 0.15) -> str:
    r"""Lines of random words with brackets, quotes and commas: text with named structure.

    Each line is ``n`` items (``n`` uniform in ``line_words``) separated by
    single spaces and ends with ``".\n"``. An item is a word, or, at most
    once per line each, a bracketed group ``(w w ...)`` of 2 to 5 words from
    ``bracket_words`` or a quoted group ``"w ..."`` of 1 to 4 words from
    ``quote_words``. A comma may follow a word or a
    group outside brackets and quotes (never the last item), and neither
    brackets nor quotes nest, so a model that predicts the next character
    must remember whether it is inside a bracket (the next word is one of
    the few bracket words, ``)`` may come, ``,`` and ``.`` may not) and
    whether a ``"`` opens or closes a quote. This is the
    kind of structure Karpathy, Johnson and Fei-Fei found single LSTM cells
    tracking in real text.

    Parameters
    ----------
    n_lines : int >= 1, number of lines.
    rng : np.random.Generator.
    words : sequence of lower-case words (letters only), outside groups.
    bracket_words, quote_words : the words inside brackets / quotes.
    line_words : (lo, hi), items per line, inclusive, 1 <= lo <= hi.
    p_bracket, p_quote : probability that a line holds a bracketed / quoted group.
    p_comma : probability of a comma after an item outside groups.

    Returns
    -------
    text : str of ``n_lines`` lines, each ending with ``".\n"``.
    """
    n_lines = check_positive_int("n_lines", n_lines)
    check_rng(rng)
    groups = {}
    for name, value in (("words", words), ("bracket_words", bracket_words),
                        ("quote_words", quote_words)):
        value = tuple(value) if not isinstance(value, str) else ()
        if not value or not all(isinstance(w, str) and w.isalpha() and w.islower()
                                for w in value):
            raise ValueError(f"{name}: expected a non-empty sequence of lower-case words, "
                             f"got {describe(value)}")
        groups[name] = value
    if (not isinstance(line_words, tuple) or len(line_words) != 2
            or not all(isinstance(v, (int, np.integer)) for v in line_words)
            or not 1 <= line_words[0] <= line_words[1]):
        raise ValueError(f"line_words: expected (lo, hi) with 1 <= lo <= hi, got {line_words!r}")
    p_bracket = check_probability("p_bracket", p_bracket)
    p_quote = check_probability("p_quote", p_quote)
    p_comma = check_probability("p_comma", p_comma)

    def some_words(lo, hi, name="words"):
        pool = groups[name]
        return " ".join(pool[k] for k in rng.integers(0, len(pool), rng.integers(lo, hi + 1)))

    lines = []
    for _ in range(n_lines):
        n = int(rng.integers(line_words[0], line_words[1] + 1))
        items = [some_words(1, 1) for _ in range(n)]
        # at most one bracketed and one quoted group, at distinct positions
        slots = rng.permutation(n)
        if rng.random() < p_bracket:
            items[slots[0]] = "(" + some_words(2, 5, "bracket_words") + ")"
        if rng.random() < p_quote and n > 1:
            items[slots[1]] = '"' + some_words(1, 4, "quote_words") + '"'
        commas = rng.random(n) < p_comma
        line = ""
        for k, item in enumerate(items):
            line += item + ("," if commas[k] and k < n - 1 else "") + (" " if k < n - 1 else "")
        lines.append(line + ".\n")
    return "".join(lines)


def structure_labels(text: str) -> dict:
    r"""Per-character structure of a text, as the state *after reading* each character.

    .. math::

        b_t &= \#\text{"("} - \#\text{")"} \text{ in } s_{1..t}, \\
        \text{in\_brackets}_t &= [\, b_t > 0 \,], \\
        q_t &= \#\text{'"'} \text{ in } s_{1..t}, \\
        \text{in\_quotes}_t &= [\, q_t \text{ is odd} \,]

    and ``line_pos`` counts the characters read since the last newline (it is
    0 at a newline, 1 at the first character of a line).

    Parameters
    ----------
    text : str of length L >= 1.

    Returns
    -------
    labels : dict of (L,) arrays: ``"in_brackets"``, ``"in_quotes"``,
        ``"first_word"`` (inside the first word of a line, its letters
        only), ``"after_comma"`` (from a comma to the end of the next
        word), all bool; ``"line_pos"`` and ``"word_index"`` (0 for the
        first word of a line; a space belongs to the word after it), int64.
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {describe(text)}")
    if not text:
        raise ValueError("text: expected a non-empty string, got ''")
    L = len(text)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)        # (L,)
    depth = np.cumsum((codes == ord("(")).astype(np.int64)
                      - (codes == ord(")")).astype(np.int64))
    in_quotes = np.cumsum(codes == ord('"')) % 2 == 1
    newline = codes == ord("\n")
    idx = np.arange(L)
    last_nl = np.maximum.accumulate(np.where(newline, idx, -1))              # (L,)
    line_pos = idx - last_nl
    line_pos[last_nl < 0] = idx[last_nl < 0] + 1                            # first line
    line_pos[newline] = 0
    space = codes == ord(" ")
    # words seen in this line: spaces since the last newline
    spaces = np.cumsum(space)
    spaces_at_nl = np.maximum.accumulate(np.where(newline, spaces, 0))
    word_index = spaces - spaces_at_nl
    letter = np.array([c.isalpha() for c in text])
    first_word = (word_index == 0) & letter & ~newline
    # after a comma: the comma, the break after it and the next word, up to
    # (not including) the break that ends that word
    comma = codes == ord(",")
    brk = space | newline
    last_comma = np.maximum.accumulate(np.where(comma, idx, -1))             # (L,)
    n_brk = np.cumsum(brk)                                                  # breaks read so far
    since = n_brk - n_brk[np.maximum(last_comma, 0)]                        # breaks after the comma
    after_comma = (last_comma >= 0) & ((since == 0) | ((since == 1) & (
        ~brk | (idx == last_comma + 1))))
    return {"in_brackets": depth > 0, "in_quotes": in_quotes, "line_pos": line_pos,
            "word_index": word_index.astype(np.int64), "first_word": first_word,
            "after_comma": after_comma}
