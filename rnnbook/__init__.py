"""The book's own tooling (not numerics: those are in :mod:`rnnlib`).

* :mod:`rnnbook.claims`: the claims registry, read from ``book/claims/``
  (needs PyYAML, declared as rnnlib's ``book`` extra).
"""
