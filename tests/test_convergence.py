"""Convergence experiments with fixed seeds: they fail if learning breaks.

Each test runs in well under 30 s on this 2-core machine when it has the
cores to itself (4.6 s, 0.9 s, 4.0 s and 1.7 s measured, in file order).
Under heavy load from other processes OpenBLAS's two threads fight for the
cores and the same tests took up to 28 s and 73 s (the char model); with
one BLAS thread (``OMP_NUM_THREADS=1``) they took at most 9 s under the
same load.

Measured when the thresholds were set (seeds as in the tests):

* adding problem, T = 50, H = 16, batch 32, Adam lr 0.02, clip norm 1:
  the LSTM's loss leaves the chance plateau (1/6) around step 350-400 and
  its held-out MSE after 600 steps is 0.0017; the tanh RNN with the same
  budget ends at 0.1617 (chance 0.1667). Other LSTM seeds need
  longer: seed 2 is still on the plateau at 600 steps, so the claim is
  "within 600 steps for this seed", not for every seed.
* character model on the shipped sonnets (K = 62 characters, uniform
  cross-entropy log 62 = 4.13): a GRU (H = 64, embedding 16) reaches a
  held-out loss of 1.92 nats per character after 400 Adam steps.
* scheduled sampling (inverse sigmoid, k = 25, 200 steps): the teacher-forcing
  probability falls from 0.96 to 0.009 and the loss of the last 20 steps
  (nearly free-running) averages 3.11 nats.
"""

import numpy as np
import pytest

from rnnlib.data import CharVocab, adding_baseline_mse, adding_problem, load_corpus, next_token_chunks
from rnnlib.model import ModelSpec, init_model, model_forward, model_loss
from rnnlib.teacher_forcing import scheduled_sampling_loss, teacher_forcing_probability
from rnnlib.training import train

pytestmark = pytest.mark.slow

T_ADD = 50
ADD_STEPS = 600          # the shared budget
ADD_LSTM_MSE = 0.05      # the LSTM must get below this (measured 0.0017)
ADD_RNN_MSE = 0.10       # the RNN must stay above this (measured 0.1617; chance 0.1667)


def _adding_run(cell):
    spec = ModelSpec(cell=cell, D=2, H=16, K=1, loss="mse", output="last")
    params = init_model(spec, np.random.default_rng(0))
    params, hist = train(params, spec, lambda r: adding_problem(32, T_ADD, r), optimizer="adam",
                         lr=0.02, steps=ADD_STEPS, clip=("norm", 1.0), rng=np.random.default_rng(1))
    x_test, y_test = adding_problem(1000, T_ADD, np.random.default_rng(123))
    pred, _ = model_forward(params, x_test, spec)
    return float(np.mean((pred - y_test) ** 2)), hist


def test_adding_problem_lstm_solves_it():
    mse, hist = _adding_run("lstm")
    assert not hist["stopped"]
    assert adding_baseline_mse() == pytest.approx(1 / 6)
    assert mse < ADD_LSTM_MSE, f"LSTM held-out MSE {mse:.4f} after {ADD_STEPS} steps"


def test_adding_problem_tanh_rnn_does_not_with_the_same_budget():
    mse, hist = _adding_run("rnn")
    assert not hist["stopped"]
    assert mse > ADD_RNN_MSE, f"tanh RNN held-out MSE {mse:.4f} after {ADD_STEPS} steps"


CHAR_STEPS = 400
CHAR_LOSS = 2.2          # nats per character on held-out chunks (measured 1.92; uniform 4.13)


def _char_data(T=25):
    text = load_corpus("sonnets")
    vocab = CharVocab(text)
    X, Y = next_token_chunks(vocab.encode(text), T)
    n = int(0.9 * len(X))
    return vocab, (X[:n], Y[:n]), (X[n:], Y[n:])


def test_char_model_loss_drops_below_stated_value():
    vocab, train_set, (X_te, Y_te) = _char_data()
    spec = ModelSpec(cell="gru", input="embedding", vocab=vocab.size, D=16, H=64, K=vocab.size)
    params = init_model(spec, np.random.default_rng(0))
    before, _ = model_loss(params, X_te, Y_te, spec)
    assert before == pytest.approx(np.log(vocab.size), abs=0.05)     # starts at chance
    params, hist = train(params, spec, train_set, optimizer="adam", lr=0.01, steps=CHAR_STEPS,
                         batch_size=32, clip=("norm", 5.0), rng=np.random.default_rng(1))
    after, _ = model_loss(params, X_te, Y_te, spec)
    assert after < CHAR_LOSS, f"held-out loss {after:.3f} after {CHAR_STEPS} steps"
    assert np.mean(hist["loss"][-50:]) < np.mean(hist["loss"][:50]) - 0.5


def test_scheduled_sampling_probability_follows_its_schedule():
    vocab, (X, Y), _ = _char_data(T=20)
    X, Y = X[:256], Y[:256]
    spec = ModelSpec(cell="gru", input="embedding", vocab=vocab.size, D=8, H=32, K=vocab.size)
    params = init_model(spec, np.random.default_rng(2))
    rng = np.random.default_rng(3)
    steps, k = 200, 25.0
    record = []

    def loss_fn(p, batch, step):
        prob = teacher_forcing_probability("inverse_sigmoid", step, k=k)
        loss, grads, info = scheduled_sampling_loss(p, spec, batch[0], batch[1], prob, rng)
        record.append((step, prob, info["teacher"][:, 1:].mean(), info["teacher"][:, 1:].size))
        return loss, grads

    params, hist = train(params, spec, (X, Y), loss_fn=loss_fn, lr=0.01, steps=steps,
                         batch_size=32, rng=np.random.default_rng(4))
    assert [r[0] for r in record] == list(range(steps))
    p = np.array([r[1] for r in record])
    np.testing.assert_allclose(p, k / (k + np.exp(np.arange(steps) / k)), rtol=1e-12)
    assert p[0] > 0.95 and p[-1] < 0.01 and np.all(np.diff(p) < 0)
    # the fraction of true tokens fed follows p: pooled over windows of 20 steps
    frac = np.array([r[2] for r in record])
    n = record[0][3]
    for lo in range(0, steps, 20):
        w = slice(lo, lo + 20)
        expect = p[w].mean()
        sd = np.sqrt(np.sum(p[w] * (1 - p[w]) * n)) / (20 * n)
        assert abs(frac[w].mean() - expect) < 4 * sd + 1e-12
    # and the model still learns while the schedule hands it more and more of
    # its own samples: the last 20 steps (nearly free-running) average 3.11
    # nats when measured, against log K = 4.13 at the start
    assert hist["loss"][0] == pytest.approx(np.log(vocab.size), abs=0.1)
    assert np.mean(hist["loss"][-20:]) < 3.4
