"""rnnbook.execute: the book build's parallel pre-execution into MyST-NB's cache."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("jupyter_cache")
from rnnbook.execute import execute_into_cache, uncached  # noqa: E402


def _nb(path, source):
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "c1",
                     "metadata": {}, "outputs": [], "source": [source]}],
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                      "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_executes_uncached_notebooks_in_parallel_and_in_their_folder(tmp_path):
    from jupyter_cache import get_cache
    a = _nb(tmp_path / "a.ipynb", "import os; print(os.path.basename(os.getcwd()))")
    b = _nb(tmp_path / "b.ipynb", "print(6 * 7)")
    cache = tmp_path / "cache"
    assert uncached([a, b], cache) == [a, b]
    lines = []
    done = execute_into_cache([a, b], cache, workers=2, timeout=60, log=lines.append)
    assert set(done) == {str(a), str(b)}
    assert uncached([a, b], cache) == []
    assert any("Executed notebook in" in line for line in lines)
    outputs = sorted(get_cache(str(cache)).get_cache_bundle(r.pk).nb.cells[0].outputs[0]["text"]
                     for r in get_cache(str(cache)).list_cache_records())
    assert outputs == ["42\n", f"{tmp_path.name}\n"]
    # nothing left to do: nothing runs
    assert execute_into_cache([a, b], cache, workers=2, log=lines.append) == {}


def test_a_failing_notebook_is_not_cached_and_loses_its_stale_copy(tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("ok", encoding="utf-8")
    nb = _nb(tmp_path / "f.ipynb", "print(open('data.txt').read())")
    cache = tmp_path / "cache"
    execute_into_cache([nb], cache, workers=1, log=lambda s: None)
    assert uncached([nb], cache) == []
    data.unlink()   # same notebook (same cache key); re-executed, it now fails
    lines = []
    assert execute_into_cache([nb], cache, workers=1, force=True, log=lines.append) == {}
    assert any("failed (CellExecutionError)" in line for line in lines), lines
    assert uncached([nb], cache) == [nb]   # MyST-NB will run it and report the error


def test_workers_must_be_a_positive_int(tmp_path):
    nb = _nb(tmp_path / "a.ipynb", "1")
    with pytest.raises(ValueError, match="workers: expected a positive int, got 0"):
        execute_into_cache([nb], tmp_path / "cache", workers=0)
