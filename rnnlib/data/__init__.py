"""Data sets for the book, generated or shipped in the repository; nothing is
downloaded.

- :mod:`~rnnlib.data.tasks`: memory tasks (adding problem, copy, parity,
  delayed XOR) with their chance-level losses.
- :mod:`~rnnlib.data.timeseries`: sine and noisy sine waves, sliding windows.
- :mod:`~rnnlib.data.text`: a shipped public-domain corpus and a character
  vocabulary.
- :mod:`~rnnlib.data.digits`: 8x8 digit images read row by row.
- :mod:`~rnnlib.data.batching`: padding and masks, one-hot codes,
  deterministic mini-batches, train/test splits.

Shipped files and their provenance: ``rnnlib/data/files/README.md``.
"""

from .batching import mask_from_lengths, minibatches, one_hot, pad_sequences, train_test_split
from .digits import as_sequences, load_digits
from .tasks import (BINARY_BASELINE_CE, adding_baseline_mse, adding_problem, copy_baseline_ce,
                    copy_task, delayed_xor, parity)
from .streams import segmented_sum_stream
from .text import CORPORA, CharVocab, load_corpus, next_token_chunks
from .timeseries import noisy_sine, sine_wave, windows
