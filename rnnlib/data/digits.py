"""Small 8x8 images of handwritten digits, read row by row as sequences.

The data are the 1,797 test images of the UCI "Optical Recognition of
Handwritten Digits" set (Alpaydin & Kaynak 1998), as shipped in
scikit-learn's package data; the file is copied into
``rnnlib/data/files/digits.csv.gz`` (provenance and licence in the README
there), so scikit-learn is not needed. Each pixel counts the on-pixels of a
4x4 block of a 32x32 bitmap, an integer in 0..16.
"""

from __future__ import annotations

import functools
import gzip
from importlib import resources

import numpy as np

from .._validate import check_choice, check_float_array

__all__ = ["load_digits", "as_sequences"]


@functools.lru_cache(maxsize=1)
def _read():
    path = resources.files("rnnlib.data").joinpath("files", "digits.csv.gz")
    with path.open("rb") as raw, gzip.open(raw, "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.int64)   # (1797, 65)
    data.setflags(write=False)
    return data


def load_digits():
    """The 1,797 digit images scaled to [0, 1] and their labels.

    .. math::  \\text{images}_{n,r,c} = \\text{pixel}_{n,r,c} / 16

    Returns
    -------
    images : (1797, 8, 8) float64 in [0, 1]; ``images[n, r, c]`` is row ``r``,
        column ``c`` (a new array on every call).
    labels : (1797,) int64 digit classes 0..9.
    """
    data = _read()
    images = data[:, :64].reshape(-1, 8, 8) / 16.0          # (n, 8, 8)
    labels = data[:, 64].copy()
    return images, labels


def as_sequences(images: np.ndarray, order: str = "rows") -> np.ndarray:
    """Read each image as a sequence: one row (or column) per time step.

    With ``order="rows"`` and ``"columns"`` respectively,

    .. math::

        x_{n,t,d} &= \\text{images}_{n,t,d}, \\\\
        x_{n,t,d} &= \\text{images}_{n,d,t},

    so an 8x8 image becomes ``T = 8`` steps of ``D = 8`` features, the
    setting of the Keras "MNIST read row by row" example.

    Parameters
    ----------
    images : (N, R, C) float array.
    order : ``"rows"`` (T = R, D = C) or ``"columns"`` (T = C, D = R).

    Returns
    -------
    x : (N, T, D) float array (a copy).
    """
    images = check_float_array("images", images, ndim=3, shape_doc="(N, R, C)")
    check_choice("order", order, ("rows", "columns"))
    if order == "rows":
        return images.copy()
    return np.ascontiguousarray(images.transpose(0, 2, 1))  # (N, C, R)
