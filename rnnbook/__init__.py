"""The book's own tooling (not numerics: those are in :mod:`rnnlib`).

* :mod:`rnnbook.claims`: the claims registry, read from ``book/claims/``
  (needs PyYAML, declared as rnnlib's ``book`` extra).
* :mod:`rnnbook.execute`: the book build executes the notebooks one kernel
  per core into MyST-NB's jupyter-cache before Sphinx reads them.
"""
