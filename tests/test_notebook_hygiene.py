"""Committed notebooks are clean and every one is in the table of contents.

* no outputs, no execution counts, no saved widget state (the build
  executes the notebooks; outputs in git would go stale and bloat diffs);
* valid nbformat 4 with a python3 kernelspec (what nbval and the build run);
* every notebook under book/ is listed in _toc.yml, and every _toc.yml
  entry exists (as .ipynb or .md).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
SKIP_PARTS = {".ipynb_checkpoints", "_build", "_vendor", "_ext"}


def _notebooks():
    return sorted(p for p in BOOK.rglob("*.ipynb")
                  if not SKIP_PARTS & set(p.relative_to(ROOT).parts))


NOTEBOOKS = _notebooks()
IDS = [p.relative_to(ROOT).as_posix() for p in NOTEBOOKS]


def _toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if isinstance(node.get(key), str):
                files.append(node[key])
        for value in node.values():
            if isinstance(value, (list, dict)):
                files.extend(_toc_files(value))
    elif isinstance(node, list):
        for item in node:
            files.extend(_toc_files(item))
    return files


def _toc():
    return yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))


def _strip_suffix(entry: str) -> str:
    for suffix in (".ipynb", ".md"):
        if entry.endswith(suffix):
            return entry[: -len(suffix)]
    return entry


@pytest.mark.skipif(not NOTEBOOKS, reason="no notebook under book/ yet")
@pytest.mark.parametrize("path", NOTEBOOKS or [None], ids=IDS or ["none"])
def test_committed_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert dirty == [], (
        f"{path.name}: code cells {dirty} carry outputs or execution counts; strip them "
        "(e.g. `.venv/bin/jupyter nbconvert --clear-output --inplace {path.name}`)")
    assert "widgets" not in nb.metadata, f"{path.name}: saved widget state in metadata"
    spec = nb.metadata.get("kernelspec", {})
    assert spec.get("name") == "python3", f"{path.name}: kernelspec {spec!r}, expected python3"


def test_every_notebook_is_in_the_toc():
    listed = {_strip_suffix(f) for f in _toc_files(_toc())}
    missing = [p.relative_to(ROOT).with_suffix("").as_posix() for p in NOTEBOOKS]
    missing = [m for m in missing if m not in listed]
    assert missing == [], f"notebooks not in _toc.yml (add them or delete them): {missing}"


def test_every_toc_entry_exists():
    entries = _toc_files(_toc())
    assert entries, "_toc.yml lists no files"
    absent = [e for e in entries
              if not any((ROOT / (_strip_suffix(e) + s)).is_file() for s in (".ipynb", ".md"))]
    assert absent == [], f"_toc.yml lists files that do not exist: {absent}"
