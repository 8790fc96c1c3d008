"""rnnlib: the numpy recurrent-network library behind the textbook.

Every number, figure and animation in the book is computed here, and the
tests check it (float64 gradient checks, parity with PyTorch).

Shape letters, used in every docstring:

=====  ==========================================
``N``  batch size (number of sequences)
``T``  time steps (sequence length)
``D``  input features per step
``H``  hidden units
``K``  output classes / vocabulary size
=====  ==========================================

Arrays are batch-first: an input sequence is ``x`` of shape (N, T, D) and
hidden states are ``h`` of shape (N, T, H). Weight matrices follow the
book's column-vector equations, ``h_t = tanh(U x_t + W h_{t-1} + b)``, so
``U`` is (H, D), ``W`` is (H, H) and the code computes ``x @ U.T``.

Building blocks come as forward/backward pairs of plain functions: the
forward returns outputs and a ``cache``; the backward takes upstream
gradients and the cache and returns gradients named ``d`` + forward name.
Recurrent caches hold ``cache["trace"]``: every per-step value
(gates, candidate, cell, hidden) as (N, T, H) arrays, for the widgets.

Every recurrent cell is registered in :mod:`rnnlib.cells` with one
interface (parameters, state names, step and sequence forward/backward);
the model, the bidirectional wrapper, seq2seq, teacher forcing and the
decoders work on any registered cell. :mod:`rnnlib.sequence` holds what a
sequence adds to a step (layouts, masks, BPTT and its truncation).
"""

# --- engine: cells, losses, gradient checks (issue 2) ---------------------
from ._validate import NonFiniteError
from .activations import (ACTIVATIONS, activation_backward, apply_activation, identity,
                          identity_derivative, log_softmax, log_softmax_backward, relu,
                          relu_derivative, sigmoid, sigmoid_derivative, softmax,
                          softmax_backward, softmax_jacobian, tanh, tanh_derivative)
from .cells import CELLS, Cell, cell_names, get_cell, register_cell
from .affine import affine_backward, affine_forward
from .bidirectional import bidirectional_backward, bidirectional_forward
from .gradcheck import check_gradients, numerical_gradient, rel_error
from .gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .init import (init_affine, init_gru, init_jordan, init_lstm, init_rnn,
                   set_spectral_radius)
from .interop import params_from_torch, params_to_torch
from .jordan import jordan_backward, jordan_forward
from .losses import mse_loss, softmax_cross_entropy
from .lstm import (LSTM_VARIANTS, lstm_backward, lstm_forward, lstm_gates_backward,
                   lstm_gates_forward, lstm_step_backward, lstm_step_forward)
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from .lstm_norm import (init_lstm_norm, lstm_norm_backward, lstm_norm_forward,
                        lstm_norm_step_backward, lstm_norm_step_forward)

# --- training toolkit (issue 3) -------------------------------------------
from .clip import clip_by_global_norm, clip_by_value, global_norm
from .optim import OPTIMIZERS, adagrad, adam, momentum, rmsprop, sgd
from .regularization import l1_penalty, l2_penalty
from .normalization import (batchnorm_backward, batchnorm_forward, init_norm_params,
                            layernorm_backward, layernorm_forward,
                            temporal_batchnorm_backward, temporal_batchnorm_forward)
from .embedding import embedding_backward, embedding_forward, init_embedding
from .conv import conv2d_backward, conv2d_forward, maxpool_backward, maxpool_forward
from . import data
from .model import (Model, ModelSpec, init_model, model_backward, model_forward, model_loss,
                    model_step_backward, model_step_forward)
from .training import TrainingDiverged, batch_stream, train
from .progress import Progress
from .generate import (beam_search, greedy_decode, initial_state, make_step_fn,
                       sample_sequence)
from .teacher_forcing import scheduled_sampling_loss, teacher_forcing_probability
from .seq2seq import (init_seq2seq, seq2seq_backward, seq2seq_beam, seq2seq_forward,
                      seq2seq_greedy, seq2seq_loss, seq2seq_step_fn)

# --- chapter helpers ------------------------------------------------------
