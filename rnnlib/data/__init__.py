"""Data sets for the book, generated or shipped in the repository; nothing is
downloaded.

- :mod:`~rnnlib.data.tasks`: memory tasks (adding problem, copy, parity,
  delayed XOR) with their chance-level losses; variable-length token tasks
  (majority, "appears again", the token k steps away).
- :mod:`~rnnlib.data.timeseries`: sine and noisy sine waves, the Mackey-Glass
  series, sliding windows and multi-horizon targets.
- :mod:`~rnnlib.data.text`: a shipped public-domain corpus, a character
  vocabulary, and generated text with brackets and quotes (with labels).
- :mod:`~rnnlib.data.digits`: 8x8 digit images read row by row.
- :mod:`~rnnlib.data.batching`: padding and masks, one-hot codes,
  deterministic mini-batches, length buckets, train/test splits.

Shipped files and their provenance: ``rnnlib/data/files/README.md``.
"""

from .batching import (bucket_batches, mask_from_lengths, minibatches, one_hot, pad_sequences,
                       padding_counts, train_test_split)
from .digits import as_sequences, load_digits
from .tasks import (BINARY_BASELINE_CE, adding_baseline_mse, adding_problem, copy_baseline_ce,
                    appears_again, appears_again_ceiling, copy_task, delayed_xor,
                    future_token, parity, token_majority)
from .streams import segmented_sum_stream
from .text import (CORPORA, CharVocab, load_corpus, next_token_chunks, structure_labels,
                   structured_text)
from .timeseries import horizon_targets, mackey_glass, noisy_sine, sine_wave, windows
