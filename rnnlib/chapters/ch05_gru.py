"""Gated recurrent units: the numbers chapter 5 shows (``book/05_gru.ipynb``).

The GRU of :mod:`rnnlib.gru` keeps the fraction ``z_t`` of the old state,

.. math::  h_t = (1 - z_t) \\odot n_t + z_t \\odot h_{t-1},

so with the gates forced to ``r = 1`` and ``z = 0`` it is the Elman RNN
``h_t = tanh(U_n x_t + W_n h_{t-1} + b_n [+ b_hn])`` (:func:`rnn_params_of_gru`).
Texts that write the update the other way round, ``h_t = z_t n_t + (1 - z_t)
h_{t-1}`` (Chung et al. 2014), need ``z = 1`` instead; since
``sigma(-a) = 1 - sigma(a)``, such a GRU is rnnlib's GRU with the update
block of ``U``, ``W``, ``b`` negated (:func:`flip_update_gate`).

Also here: parameter counts from the dicts and by formula
(:func:`parameter_count`, :func:`parameter_formula`), the work of one step
by formula (:func:`step_operations`), the hidden size that meets a
parameter budget (:func:`hidden_for_budget`), the chapter's comparison of
RNN, LSTM and GRU on the adding problem (:func:`run_comparison`), and one
GRU unit's memory of a pulse (:func:`pulse_response`). Numerics only: the
chapter draws.
"""

from __future__ import annotations

import numpy as np

from rnnlib._validate import check_choice, check_positive_int, check_real, check_rng
from rnnlib.data import adding_problem
from rnnlib.gru import gru_forward
from rnnlib.init import init_lstm
from rnnlib.rnn import rnn_forward
from rnnlib.model import ModelSpec, flatten_params, init_model, model_loss
from rnnlib.training import train

__all__ = ["rnn_params_of_gru", "flip_update_gate", "parameter_count", "parameter_formula",
           "step_operations", "hidden_for_budget", "COMPARISON_MODELS", "comparison_model",
           "run_comparison", "smooth", "pulse_response"]

#: gate blocks per cell: how many (H, D) + (H, H) + (H,) groups its params stack
_BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}


def rnn_params_of_gru(params: dict, reset: str = "after") -> dict:
    """The Elman RNN a GRU becomes when its gates are forced to r = 1, z = 0.

    With ``r = 1`` the candidate is ``tanh(U_n x + b_n + W_n h + b_hn)``
    (reset="after") or ``tanh(U_n x + b_n + W_n h)`` (reset="before"), and
    with ``z = 0`` the new state is the candidate.

    Parameters
    ----------
    params : dict of a GRU, ``U`` (3H, D), ``W`` (3H, H), ``b`` (3H,)
        [, ``bhn`` (H,)].
    reset : "after" or "before".

    Returns
    -------
    dict with ``U`` (H, D), ``W`` (H, H), ``b`` (H,) for :func:`rnnlib.rnn.rnn_forward`.
    """
    check_choice("reset", reset, ("after", "before"))
    H = params["W"].shape[1]
    b = params["b"][2 * H:].copy()
    if reset == "after":
        b = b + params["bhn"]
    return {"U": params["U"][2 * H:].copy(), "W": params["W"][2 * H:].copy(), "b": b}


def flip_update_gate(params: dict) -> dict:
    """Negate the update block (rows H:2H of ``U``, ``W``, ``b``): z becomes 1 - z.

    ``sigma(-a) = 1 - sigma(a)``, so a GRU written with the other update
    convention, ``h_t = z_t n_t + (1 - z_t) h_{t-1}``, with parameters ``P``
    computes exactly what :func:`rnnlib.gru.gru_forward` computes with
    ``flip_update_gate(P)``. Applying it twice gives ``P`` back.

    Parameters
    ----------
    params : dict of a GRU (either reset convention).

    Returns
    -------
    dict : a copy with the update block negated.
    """
    H = params["W"].shape[1]
    out = {k: v.copy() for k, v in params.items()}
    for k in ("U", "W", "b"):
        out[k][H:2 * H] *= -1.0
    return out


def parameter_count(params: dict) -> int:
    """Number of numbers in a (nested) parameter dict.

    Parameters
    ----------
    params : dict of arrays, possibly nested (e.g. from :func:`rnnlib.model.init_model`).

    Returns
    -------
    int : the sum of the arrays' sizes.
    """
    return int(sum(v.size for v in flatten_params(params).values()))


def parameter_formula(cell: str, D: int, H: int, reset: str = "after",
                      convention: str = "rnnlib") -> int:
    """Parameters of one recurrent layer by formula.

    With ``g`` gate blocks (RNN 1, GRU 3, LSTM 4), rnnlib keeps one bias per
    block and PyTorch two (input and hidden), which add up inside the
    nonlinearity and are therefore one parameter too many:

    ===========  =========================  ===========================
    cell         rnnlib                     PyTorch (``numel``)
    ===========  =========================  ===========================
    RNN          ``H (D + H + 1)``          ``H (D + H + 2)``
    LSTM         ``4H (D + H + 1)``         ``4H (D + H + 2)``
    GRU          ``3H (D + H + 1) + H``     ``3H (D + H + 2)``
    ===========  =========================  ===========================

    The GRU's extra ``H`` in rnnlib is ``b_hn`` (reset="after"), which sits
    inside ``r * (W_n h + b_hn)`` and cannot be merged; with reset="before"
    it is ``3H (D + H + 1)``.

    Parameters
    ----------
    cell : "rnn", "lstm" or "gru".
    D, H : int.
    reset : the GRU's reset convention ("after" or "before").
    convention : "rnnlib" or "torch".

    Returns
    -------
    int
    """
    check_choice("cell", cell, tuple(_BLOCKS))
    check_choice("reset", reset, ("after", "before"))
    check_choice("convention", convention, ("rnnlib", "torch"))
    D, H = check_positive_int("D", D), check_positive_int("H", H)
    g = _BLOCKS[cell]
    if convention == "torch":
        return g * H * (D + H + 2)
    extra = H * _UNMERGED_BIASES.get((cell, reset), 0)
    return g * H * (D + H + 1) + extra


#: per unit and step: sigmoids, tanhs, elementwise products by a gate or mixing
_STEP_COUNTS = {
    "rnn": (0, 1, 0),            # tanh
    "lstm": (3, 2, 3),           # i, f, o; g and tanh(c); f*c, i*g, o*tanh(c)
    "gru": (2, 1, 2),            # r, z; n; r*(.), z*(h - n)
}
#: recurrent products that wait for another one in the same step (default 1):
#: the GRU with reset="before" needs r_t before its candidate's product
_WAITING_PRODUCTS = {("gru", "before"): 2}
#: bias vectors per unit that cannot be merged into b: the GRU's b_hn
_UNMERGED_BIASES = {("gru", "after"): 1}


def step_operations(cell: str, D: int, H: int, reset: str = "after") -> dict:
    """The work of one step of one sequence, counted from the equations.

    Returns
    -------
    dict with
        ``multiply_adds``: of the matrix products, ``g H (D + H)`` (every
        weight of ``U`` and ``W`` is used once);
        ``recurrent_products``: matrix products with ``h_{t-1}`` (or
        ``r * h_{t-1}``) that must wait for the previous step: 1, except 2
        for the GRU with reset="before", whose candidate product needs
        ``r_t`` first;
        ``sigmoids`` and ``tanhs``: nonlinearities evaluated (per unit
        counts times H);
        ``products``: elementwise multiplications by gates and mixings.
    """
    check_choice("cell", cell, tuple(_BLOCKS))
    check_choice("reset", reset, ("after", "before"))
    D, H = check_positive_int("D", D), check_positive_int("H", H)
    g = _BLOCKS[cell]
    sig, tanh, prod = _STEP_COUNTS[cell]
    rec = _WAITING_PRODUCTS.get((cell, reset), 1)
    return {"multiply_adds": g * H * (D + H), "recurrent_products": rec,
            "sigmoids": sig * H, "tanhs": tanh * H, "products": prod * H}


#: The chapter's four models: name -> (cell, forget-gate bias or None).
#: rnnlib's LSTM starts with forget bias 1; "LSTM" here uses 0 (PyTorch's).
COMPARISON_MODELS = {
    "RNN": ("rnn", None),
    "LSTM": ("lstm", 0.0),
    "LSTM, forget bias 1": ("lstm", 1.0),
    "GRU": ("gru", None),
}


def _spec(cell, H, D, K, loss, output):
    return ModelSpec(cell=cell, D=D, H=H, K=K, loss=loss, output=output)


def hidden_for_budget(cell: str, budget: int, D: int, K: int, loss: str = "mse",
                      output: str = "last", max_H: int = 64) -> tuple[int, int]:
    """The hidden size whose model (recurrent layer + output layer) has the
    number of parameters closest to ``budget``.

    Counts the parameters of :func:`rnnlib.model.init_model` for each ``H`` in
    ``1 .. max_H`` (ties go to the smaller ``H``).

    Returns
    -------
    (H, count) : the hidden size and its parameter count.
    """
    budget = check_positive_int("budget", budget)
    rng = np.random.default_rng(0)            # the values do not matter, only sizes
    best = None
    for H in range(1, check_positive_int("max_H", max_H) + 1):
        n = parameter_count(init_model(_spec(cell, H, D, K, loss, output), rng))
        if best is None or abs(n - budget) < abs(best[1] - budget):
            best = (H, n)
    return best


def comparison_model(name: str, H: int, D: int, K: int, rng: np.random.Generator,
                     loss: str = "mse", output: str = "last"):
    """Spec and freshly drawn parameters of one of :data:`COMPARISON_MODELS`.

    The LSTMs' forget-gate bias block ``b[H:2H]`` is drawn like every other
    bias, uniform(-1/sqrt(H), 1/sqrt(H)), plus the model's forget bias.

    Returns
    -------
    (spec, params)
    """
    check_choice("name", name, tuple(COMPARISON_MODELS))
    rng = check_rng(rng)
    cell, forget_bias = COMPARISON_MODELS[name]
    spec = _spec(cell, H, D, K, loss, output)
    params = init_model(spec, rng)
    if forget_bias is not None:
        params["rnn"] = init_lstm(D, H, rng, forget_bias=forget_bias)
    return spec, params


def run_comparison(budget: int, T: int, seeds, steps: int, lr: float = 1e-2,
                   batch: int = 32, n_test: int = 1000, test_seed: int = 12345,
                   names=tuple(COMPARISON_MODELS)) -> dict:
    """Train each model of :data:`COMPARISON_MODELS` on the adding problem.

    Every model gets the same budget of parameters (the closest ``H``, see
    :func:`hidden_for_budget`), the same batches per seed (generated from
    ``seed + 100``), Adam with learning rate ``lr`` for ``steps`` steps, and
    is scored by the mean squared error on one fixed test set of ``n_test``
    sequences (chance level 1/6).

    Parameters
    ----------
    budget : int, parameters per model (recurrent layer + output layer).
    T : int, sequence length of the adding problem.
    seeds : iterable of int; seed ``s`` draws the weights (``default_rng(s)``)
        and the batches (``default_rng(s + 100)``).
    steps : int, Adam steps per run.
    lr : float, learning rate.
    batch : int, sequences per batch.
    n_test, test_seed : size and seed of the test set.
    names : the models to run, keys of :data:`COMPARISON_MODELS`.

    Returns
    -------
    results : dict name -> dict with ``H``, ``params_count``,
        ``loss`` (S, steps) training losses, ``test_mse`` (S,),
        ``params`` (list of S trained parameter dicts), ``spec``.
    """
    T, steps = check_positive_int("T", T), check_positive_int("steps", steps)
    check_real("lr", lr, minimum=0.0, strict_min=True)
    seeds = [int(s) for s in seeds]
    x_test, y_test = adding_problem(n_test, T, np.random.default_rng(test_seed))
    results = {}
    for name in names:
        cell, _ = COMPARISON_MODELS[name]
        H, count = hidden_for_budget(cell, budget, D=2, K=1)
        losses, mses, trained = [], [], []
        for seed in seeds:
            spec, params = comparison_model(name, H, 2, 1, np.random.default_rng(seed))
            params, history = train(params, spec, lambda r: adding_problem(batch, T, r),
                                    optimizer="adam", lr=lr, steps=steps,
                                    rng=np.random.default_rng(seed + 100))
            mse, _ = model_loss(params, x_test, y_test, spec)
            losses.append(history["loss"])
            mses.append(mse)
            trained.append(params)
        results[name] = {"H": H, "params_count": count, "loss": np.array(losses),
                         "test_mse": np.array(mses), "params": trained, "spec": spec}
    return results


def smooth(values, width: int = 20) -> np.ndarray:
    """Moving average over the last axis with a window of ``width`` (shorter at the start).

    Entry ``t`` is the mean of ``values[..., max(0, t - width + 1) : t + 1]``.

    Parameters
    ----------
    values : array-like, shape (..., S)
    width : int >= 1

    Returns
    -------
    ndarray, shape (..., S)
    """
    v = np.asarray(values, dtype=float)
    width = check_positive_int("width", width)
    c = np.cumsum(v, axis=-1)
    out = c.copy()
    out[..., width:] = c[..., width:] - c[..., :-width]
    n = np.minimum(np.arange(1, v.shape[-1] + 1), width)
    return out / n


def pulse_response(b_z: float, b_r: float, w: float, T: int = 40, u: float = 2.0,
                   reset: str = "after") -> dict:
    """One GRU unit (D = H = 1) reading a pulse ``x_1 = 1`` and zeros after.

    The weights: update gate ``z = sigma(b_z)`` (no input or recurrent
    weight, so it is the same at every step), reset gate
    ``r = sigma(w h_{t-1} + b_r)``, candidate input weight ``u``, recurrent
    weight ``w`` and no candidate biases. The plain RNN with the same ``u``,
    ``w`` is what the GRU becomes at ``r = 1, z = 0``.

    Returns
    -------
    dict with ``h``, ``z``, ``r``, ``n`` (T,) of the GRU, ``h_rnn`` (T,) of
    the RNN, and ``memory``: the number of steps after the pulse until
    ``|h_t|`` first falls below half of ``|h_1|`` (T if it never does).
    """
    for name, v in (("b_z", b_z), ("b_r", b_r), ("w", w), ("u", u)):
        check_real(name, v)
    T = check_positive_int("T", T)
    check_choice("reset", reset, ("after", "before"))
    p = {"U": np.array([[0.0], [0.0], [u]]), "W": np.array([[w], [0.0], [w]]),
         "b": np.array([b_r, b_z, 0.0])}
    if reset == "after":
        p["bhn"] = np.zeros(1)
    x = np.zeros((1, T, 1))
    x[0, 0, 0] = 1.0
    h, cache = gru_forward(x, None, p, reset=reset)
    trace = {k: cache["trace"][k][0, :, 0] for k in ("r", "z", "n", "h")}
    h_rnn, _ = rnn_forward(x, None, rnn_params_of_gru(p, reset))
    below = np.nonzero(np.abs(trace["h"]) < 0.5 * abs(trace["h"][0]))[0]
    memory = int(below[0]) if below.size else T
    return {**trace, "h_rnn": h_rnn[0, :, 0], "memory": memory}
