"""Chapter helpers: computations that only one chapter of the book shows.

One rule names them: the helpers of ``book/NN_name.ipynb`` live in
``rnnlib/chapters/chNN_name.py`` and are imported in that chapter as
``from rnnlib.chapters import chNN_name as chapter``. Anything a second
chapter needs moves out of here into a topical module of :mod:`rnnlib`.

* :mod:`rnnlib.chapters.ch01_rnn`: the all-ones toy network, memory probes.
* :mod:`rnnlib.chapters.ch02_bptt`: BPTT written out by hand, by the
  source notes' formulas, and chunked truncation.
* :mod:`rnnlib.chapters.ch03_vanishing_exploding`: Jacobian products,
  gradient norm against lag, the loss cliff.
* :mod:`rnnlib.chapters.ch05_gru`: the GRU's plain-RNN special case and
  update conventions, parameter and operation counts, the RNN / LSTM / GRU
  comparison on the adding problem, one unit's memory of a pulse.
"""
