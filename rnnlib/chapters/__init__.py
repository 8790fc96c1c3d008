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
* :mod:`rnnlib.chapters.ch04_lstm`: the LSTM step gate by gate, the memory
  cell view, the adding problem and the forget-gate experiments.
* :mod:`rnnlib.chapters.ch05_gru`: the GRU's plain-RNN special case and
  update conventions, parameter and operation counts, the RNN / LSTM / GRU
  comparison on the adding problem, one unit's memory of a pulse.
* :mod:`rnnlib.chapters.ch06_batch_norm`: batch normalization in a small
  feed-forward network and in LSTMs, per-step statistics.
* :mod:`rnnlib.chapters.ch07_teacher_forcing`: teacher forcing, free
  running, scheduled sampling, beam search and encoder-decoders, measured.
* Chapter 8 (practice), one module per section notebook
  ``book/08_N_name.ipynb``: :mod:`~rnnlib.chapters.ch08_variable_length`
  (padding, masking, bucketing), :mod:`~rnnlib.chapters.ch08_char_lm`
  (a character model of the sonnets and its interpretable units),
  :mod:`~rnnlib.chapters.ch08_state_explorer` (spans and matching units, after
  LSTMVis), :mod:`~rnnlib.chapters.ch08_captioning` (digit names spelled from
  image features), :mod:`~rnnlib.chapters.ch08_forecasting` (Mackey-Glass
  against baselines), :mod:`~rnnlib.chapters.ch08_bidirectional_tagging`
  (taggers that need the future) and :mod:`~rnnlib.chapters.ch08_pytorch`
  (the same models in PyTorch).
"""
