"""rnnlib.data: tasks and their chance levels, time series, corpus, digits, batching."""

import math

import numpy as np
import pytest

from rnnlib import data
from rnnlib.data import (BINARY_BASELINE_CE, CharVocab, adding_baseline_mse, adding_problem,
                         as_sequences, copy_baseline_ce, copy_task, delayed_xor,
                         load_corpus, load_digits, mask_from_lengths, minibatches,
                         next_token_chunks, noisy_sine, one_hot, pad_sequences, parity,
                         sine_wave, train_test_split, windows)


def rng(seed=0):
    return np.random.default_rng(seed)


# --- tasks ----------------------------------------------------------------------

def test_adding_problem_structure_and_baseline():
    x, y = adding_problem(20000, 50, rng())
    assert x.shape == (20000, 50, 2) and y.shape == (20000, 1)
    m = x[..., 1]
    np.testing.assert_array_equal(m.sum(axis=1), 2.0)
    np.testing.assert_array_equal(m[:, :25].sum(axis=1), 1.0)       # one marker per half
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * m).sum(axis=1), rtol=1e-15)
    assert adding_baseline_mse() == pytest.approx(1 / 6, rel=1e-15)
    mse_const = float(np.mean((y - 1.0) ** 2))                       # predict the mean, 1
    assert mse_const == pytest.approx(0.1667, abs=0.005)
    assert mse_const == pytest.approx(adding_baseline_mse(), abs=0.005)


def test_adding_problem_deterministic():
    a = adding_problem(4, 9, rng(5))
    b = adding_problem(4, 9, rng(5))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_copy_task_layout_and_baseline():
    T_delay, S, L = 7, 8, 10
    x, y = copy_task(500, T_delay, S, rng(), length=L)
    T_total = T_delay + 2 * L
    assert x.shape == y.shape == (500, T_total) and x.dtype == np.int64
    blank, delim = S, S + 1
    np.testing.assert_array_equal(y[:, -L:], x[:, :L])              # recall the symbols
    assert np.all(x[:, :L] < S)
    np.testing.assert_array_equal(x[:, L + T_delay - 1], delim)
    assert np.all(x[:, L:L + T_delay - 1] == blank) and np.all(x[:, -L:] == blank)
    assert np.all(y[:, :-L] == blank)
    # memoryless strategy: blank with certainty, then uniform over the S symbols
    probs = np.zeros((T_total, S + 2))
    probs[:-L, blank] = 1.0
    probs[-L:, :S] = 1.0 / S
    ce = -np.mean(np.log(probs[np.arange(T_total)[None, :], y]))
    assert ce == pytest.approx(copy_baseline_ce(T_delay, S, L), rel=1e-12)
    assert copy_baseline_ce(100, 8) == pytest.approx(10 * math.log(8) / 120, rel=1e-15)


def test_parity_and_delayed_xor():
    x, y = parity(1000, 12, rng())
    assert x.shape == (1000, 12, 1) and y.shape == (1000,)
    np.testing.assert_array_equal(y, x[..., 0].sum(axis=1).astype(int) % 2)
    _, yr = parity(3, 6, rng(), per_step=True)
    assert yr.shape == (3, 6)
    assert abs(y.mean() - 0.5) < 0.05                                # balanced classes
    p = np.full(y.shape, 0.5)
    assert -np.mean(np.log(p)) == pytest.approx(BINARY_BASELINE_CE, rel=1e-15)
    x, y, mask = delayed_xor(200, 15, 3, rng())
    b = x[..., 0].astype(int)
    for t in range(4, 15):
        np.testing.assert_array_equal(y[:, t], b[:, t - 3] ^ b[:, t - 4])
    np.testing.assert_array_equal(mask[:, :4], 0.0)
    np.testing.assert_array_equal(mask[:, 4:], 1.0)


# --- time series ----------------------------------------------------------------

def test_sine_and_windows():
    x = sine_wave(5, 60, rng(), period=(8.0, 12.0), amplitude=2.0)
    assert x.shape == (5, 60, 1)
    assert np.max(np.abs(x)) <= 2.0
    # a sine obeys x_{t+1} = 2 cos(w) x_t - x_{t-1}: find w from three values, check the rest
    s = x[0, :, 0]
    c = (s[2] + s[0]) / (2 * s[1])
    np.testing.assert_allclose(s[2:], 2 * c * s[1:-1] - s[:-2], atol=1e-12)
    noisy, clean = noisy_sine(200, 100, rng(1), noise=0.3)
    assert np.std(noisy - clean) == pytest.approx(0.3, rel=0.02)
    inp, tgt = windows(np.arange(10.0), width=3)
    assert inp.shape == (7, 3, 1) and tgt.shape == (7, 1)
    np.testing.assert_array_equal(inp[2, :, 0], [2, 3, 4])
    np.testing.assert_array_equal(tgt[:, 0], np.arange(3.0, 10.0))
    inp, tgt = windows(np.arange(20.0).reshape(2, 10, 1), width=4, horizon=2)
    assert inp.shape == (2 * 5, 4, 1)
    np.testing.assert_array_equal(inp[5, :, 0], [10, 11, 12, 13])
    assert tgt[5, 0] == 15.0


# --- text -----------------------------------------------------------------------

def test_corpus_and_vocab():
    text = load_corpus("sonnets")
    assert len(text) == 95728 and text.startswith("THE SONNETS")
    vocab = CharVocab(text)
    assert vocab.size == len(vocab) == 62
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert ids.min() == 0 and ids.max() == vocab.size - 1
    assert vocab.decode(ids) == text
    assert vocab.decode([]) == ""
    assert vocab.chars == sorted(vocab.chars)
    x, y = next_token_chunks(ids, 25)
    assert x.shape == y.shape == ((len(text) - 1) // 25, 25)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    np.testing.assert_array_equal(y[0], ids[1:26])


# --- digits ---------------------------------------------------------------------

def test_digits():
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float64
    assert images.min() == 0.0 and images.max() == 1.0
    assert labels.shape == (1797,) and set(labels.tolist()) == set(range(10))
    assert np.all(np.abs(images * 16 - np.round(images * 16)) < 1e-12)   # multiples of 1/16
    images[0, 0, 0] = 9.0                                            # a copy: cache untouched
    assert load_digits()[0][0, 0, 0] == 0.0
    seq = as_sequences(images[:5])
    assert seq.shape == (5, 8, 8)
    np.testing.assert_array_equal(seq[1, 3], images[1, 3])           # step t = row t
    col = as_sequences(images[:5], order="columns")
    np.testing.assert_array_equal(col[1, 3], images[1, :, 3])


def test_shipped_data_under_1mb():
    from importlib import resources
    files = resources.files("rnnlib.data").joinpath("files")
    total = sum(f.stat().st_size if hasattr(f, "stat") else len(f.read_bytes())
                for f in (files.joinpath(n) for n in ("sonnets.txt", "digits.csv.gz", "README.md")))
    assert total < 1_000_000
    names = {p.name for p in files.iterdir()}
    assert {"sonnets.txt", "digits.csv.gz", "README.md"} <= names


# --- batching -------------------------------------------------------------------

def test_pad_sequences():
    seqs = [np.array([1, 2, 3]), np.array([4]), np.array([5, 6])]
    padded, mask = pad_sequences(seqs, value=-1)
    np.testing.assert_array_equal(padded, [[1, 2, 3], [4, -1, -1], [5, 6, -1]])
    np.testing.assert_array_equal(mask, [[1, 1, 1], [1, 0, 0], [1, 1, 0]])
    assert padded.dtype.kind == "i" and mask.dtype == np.float64
    padded, mask = pad_sequences(seqs, padding="pre", maxlen=2)
    np.testing.assert_array_equal(padded, [[1, 2], [0, 4], [5, 6]])
    np.testing.assert_array_equal(mask, [[1, 1], [0, 1], [1, 1]])
    padded, _ = pad_sequences(seqs, maxlen=2, truncating="pre")
    np.testing.assert_array_equal(padded[0], [2, 3])
    feats = [np.ones((3, 2)), np.ones((1, 2))]
    padded, mask = pad_sequences(feats)
    assert padded.shape == (2, 3, 2)
    np.testing.assert_array_equal(mask, mask_from_lengths([3, 1]))


def test_minibatches_and_split():
    batches = list(minibatches(10, 4, rng(3)))
    assert [len(b) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(10))
    again = list(minibatches(10, 4, rng(3)))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    assert [len(b) for b in minibatches(10, 4, None, shuffle=False, drop_last=True)] == [4, 4]
    np.testing.assert_array_equal(next(iter(minibatches(10, 4, None, shuffle=False))),
                                  [0, 1, 2, 3])
    tr, te = train_test_split(100, 0.2, rng(4))
    assert len(tr) == 80 and len(te) == 20
    np.testing.assert_array_equal(np.sort(np.concatenate([tr, te])), np.arange(100))
    oh = one_hot(np.array([[0, 2], [1, 1]]), 3)
    assert oh.shape == (2, 2, 3)
    np.testing.assert_array_equal(oh.argmax(-1), [[0, 2], [1, 1]])


# --- bad input ------------------------------------------------------------------

@pytest.mark.parametrize("call,exc,name", [
    (lambda: adding_problem(0, 10, rng()), ValueError, "n"),
    (lambda: adding_problem(5, 1, rng()), ValueError, "T"),
    (lambda: adding_problem(5, 10, 0), TypeError, "rng"),
    (lambda: copy_task(5, 0, 8, rng()), ValueError, "T_delay"),
    (lambda: copy_task(5, 3, 8.0, rng()), TypeError, "n_symbols"),
    (lambda: parity(5, -3, rng()), ValueError, "T"),
    (lambda: delayed_xor(5, 4, 3, rng()), ValueError, "T"),
    (lambda: delayed_xor(5, 10, -1, rng()), ValueError, "delay"),
    (lambda: sine_wave(2, 10, rng(), period=(0.0, 5.0)), ValueError, "period"),
    (lambda: noisy_sine(2, 10, rng(), noise=-0.1), ValueError, "noise"),
    (lambda: windows(np.arange(5.0), width=5), ValueError, "width"),
    (lambda: windows(np.arange(5), width=2), TypeError, "series"),
    (lambda: load_corpus("hamlet"), ValueError, "name"),
    (lambda: CharVocab("abc").encode("abd"), ValueError, "s"),
    (lambda: CharVocab("abc").decode(np.array([0, 3])), ValueError, "ids"),
    (lambda: CharVocab("abc").decode(np.array([0.0, 1.0])), TypeError, "ids"),
    (lambda: CharVocab(""), ValueError, "text"),
    (lambda: next_token_chunks(np.arange(5), 5), ValueError, "T"),
    (lambda: as_sequences(np.ones((8, 8))), ValueError, "images"),
    (lambda: pad_sequences([]), ValueError, "seqs"),
    (lambda: pad_sequences([np.array([])]), ValueError, r"seqs\[0\]"),
    (lambda: pad_sequences([np.ones((2, 3)), np.ones((2, 4))]), ValueError, r"seqs\[1\]"),
    (lambda: pad_sequences([np.ones(2)], maxlen=-1), ValueError, "maxlen"),
    (lambda: pad_sequences([np.ones(2)], padding="mid"), ValueError, "padding"),
    (lambda: mask_from_lengths([3, -1]), ValueError, "lengths"),
    (lambda: mask_from_lengths([]), ValueError, "lengths"),
    (lambda: mask_from_lengths([1.5]), TypeError, "lengths"),
    (lambda: minibatches(0, 4, rng()), ValueError, "n"),
    (lambda: minibatches(10, 0, rng()), ValueError, "batch_size"),
    (lambda: minibatches(3, 4, rng(), drop_last=True), ValueError, "batch_size"),
    (lambda: minibatches(10, 4, None), TypeError, "rng"),
    (lambda: train_test_split(10, 1.5, rng()), ValueError, "fraction"),
    (lambda: train_test_split(10, -0.1, rng()), ValueError, "fraction"),
    (lambda: train_test_split(10, 0.0, rng()), ValueError, "fraction"),
    (lambda: one_hot(np.array([0, 3]), 3), ValueError, "ids"),
])
def test_bad_input(call, exc, name):
    with pytest.raises(exc, match=name):
        call()
