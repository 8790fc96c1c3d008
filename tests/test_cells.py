"""The cell interface (rnnlib.cells): every registered cell, one contract.

* step and sequence functions agree on every traced value (1e-12), with
  and without masks;
* every cell's sequence and step backward pass a float64 gradient check,
  with masks and truncation, peepholes and forced gates included;
* the LSTM's readable path and its fast path agree on every value and
  every gradient (a bug in one cannot hide behind the other);
* every cell runs through the model, the bidirectional wrapper, seq2seq,
  teacher forcing and beam search without any edit there;
* no code outside the cells' own modules dispatches on a cell's name.
"""

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import rnnlib as rl
from rnnlib.cells import CELLS, get_cell

N, T, D, H = 3, 5, 4, 6
ROOT = Path(__file__).resolve().parents[1]

# every registered cell with every value of its options
VARIANTS = [(name, {key: value}) for name, cell in sorted(CELLS.items())
            for key, values in cell.options.items() for value in values] + \
           [(name, {}) for name, cell in sorted(CELLS.items()) if not cell.options]


def _ids(v):
    name, opts = v
    return name + "".join(f"-{k}={val}" for k, val in opts.items())


def _inputs(rng, cell):
    x = rng.standard_normal((N, T, D))
    state0 = tuple(rng.standard_normal((N, H)) for _ in cell.state)
    return x, state0


def _params(rng, cell, opts):
    p = cell.init(D, H, rng, np.float64, **opts)
    # non-zero biases and peepholes so that no bug hides behind a zero
    return {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in p.items()}


def test_registry_lists_the_cells_the_chapters_need():
    assert {"rnn", "lstm", "gru", "lstm_no_forget", "lstm_coupled", "lstm_no_output",
            "lstm_bn", "lstm_bn_input", "lstm_ln"} <= set(rl.cell_names())
    assert get_cell("lstm").state == ("h", "c")
    assert get_cell("gru").options["reset"] == ("after", "before")
    with pytest.raises(ValueError, match=r"cell: expected one of \[.*'rnn'.*\], got 'elman'"):
        get_cell("elman")
    with pytest.raises(ValueError, match="already registered"):
        rl.register_cell(get_cell("rnn"))


@pytest.mark.parametrize("variant", VARIANTS, ids=_ids)
@pytest.mark.parametrize("use_mask", [False, True])
def test_step_and_sequence_agree_on_every_value(rng, ragged_mask, variant, use_mask):
    name, opts = variant
    cell = get_cell(name)
    if use_mask and cell.couples_batch:
        pytest.skip(f"{name}: batch statistics over the valid rows differ from a step's")
    if not cell.stepwise:
        pytest.skip(f"{name}: statistics over all steps, not a step function in a loop")
    x, state0 = _inputs(rng, cell)
    p = _params(rng, cell, opts)
    mask = ragged_mask if use_mask else None
    states, cache = cell.forward(x, state0, p, mask=mask, **opts)
    state = state0
    for t in range(T):
        h_t, new_state, step_cache = cell.step_forward(x[:, t], state, p, **opts)
        m = 1.0 if mask is None else mask[:, t:t + 1]
        new_state = tuple(m * s + (1 - m) * old for s, old in zip(new_state, state))
        for k, s in zip(cell.state, new_state):
            np.testing.assert_allclose(cache["trace"][k][:, t], s, rtol=0, atol=1e-12)
        # every gate and candidate the step computed (masked steps included)
        step_values = step_cache.get("gates", {})
        if isinstance(step_values, np.ndarray):              # GRU: stacked [r, z, n]
            step_values = {k: step_values[:, j * H:(j + 1) * H] for j, k in enumerate("rzn")}
        if "a" in step_cache:                                # RNN: the pre-activation
            step_values = {"a": step_cache["a"]}
        assert step_values, f"{name}: the step cache exposes no gate values"
        for k, v in step_values.items():
            np.testing.assert_allclose(cache["trace"][k][:, t], v, rtol=0, atol=1e-12)
        state = new_state
    for k, s in zip(cell.state, states):
        np.testing.assert_array_equal(cache["trace"][k], s)


@pytest.mark.parametrize("variant", VARIANTS, ids=_ids)
@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("truncate", [None, 2])
def test_sequence_gradients(rng, ragged_mask, variant, use_mask, truncate):
    name, opts = variant
    cell = get_cell(name)
    x, state0 = _inputs(rng, cell)
    p = _params(rng, cell, opts)
    if truncate is not None:
        # truncation changes the gradient, not the function: compare with the
        # cell's own full backward on a problem where both coincide (T <= k)
        x = x[:, :2]
    names = ["x"] + [f"s{k}" for k in range(len(cell.state))]

    def fwd(x, params, mask=None, **states):
        out, cache = cell.forward(x, tuple(states[f"s{k}"] for k in range(len(cell.state))),
                                  params, mask=mask, **opts)
        return (*out, cache)

    def bwd(*args):
        *d, cache = args
        dx, ds, grads = cell.backward(tuple(d), cache, truncate=truncate)
        return (dx, *ds, grads)

    inputs = {"x": x, **{f"s{k}": s for k, s in enumerate(state0)}}
    mask = (ragged_mask[:, :x.shape[1]] if use_mask else None)
    if truncate is not None and not cell.truncates:
        with pytest.raises(ValueError, match="truncate"):
            rl.check_gradients(fwd, bwd, inputs, p, rng, mask=mask)
        return
    errors = rl.check_gradients(fwd, bwd, inputs, p, rng, mask=mask)
    assert set(errors) == set(names) | set(p)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("variant", VARIANTS, ids=_ids)
def test_step_gradients(rng, variant):
    name, opts = variant
    cell = get_cell(name)
    x, state0 = _inputs(rng, cell)
    p = _params(rng, cell, opts)

    def fwd(x_t, params, **states):
        h, new, cache = cell.step_forward(x_t, tuple(states[f"s{k}"] for k in range(len(new_names))),
                                          params, **opts)
        return (*new, cache)

    new_names = cell.state

    def bwd(*args):
        *d, cache = args
        dx, ds, grads = cell.step_backward(tuple(d), cache)
        return (dx, *ds, grads)

    inputs = {"x_t": x[:, 0], **{f"s{k}": s for k, s in enumerate(state0)}}
    errors = rl.check_gradients(fwd, bwd, inputs, p, rng)
    assert max(errors.values()) < 1e-7, errors


# --------------------------------------------------------------------------
# the LSTM: readable path == fast path; forced gates

@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("truncate", [None, 1, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lstm_readable_and_fast_paths_agree(rng, ragged_mask, use_mask, truncate, dtype):
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0, c0 = (rng.standard_normal((N, H)).astype(dtype) for _ in range(2))
    p = rl.init_lstm(D, H, rng, dtype)
    mask = ragged_mask if use_mask else None
    hf, cf, fast = rl.lstm_forward(x, h0, c0, p, mask=mask, path="fast")
    hr, cr, slow = rl.lstm_forward(x, h0, c0, p, mask=mask, path="readable")
    assert fast["path"] == "fast" and slow["path"] == "readable"
    tol = 1e-12 if dtype == np.float64 else 2e-6
    for k in ("i", "f", "g", "o", "c", "h"):
        np.testing.assert_allclose(fast["trace"][k], slow["trace"][k], rtol=0, atol=tol, err_msg=k)
    dh, dc = (rng.standard_normal((N, T, H)).astype(dtype) for _ in range(2))
    for dcs in (None, dc):
        a = rl.lstm_backward(dh, fast, dc=dcs, truncate=truncate)
        b = rl.lstm_backward(dh, slow, dc=dcs, truncate=truncate)
        for ga, gb in zip(a[:3], b[:3]):
            np.testing.assert_allclose(ga, gb, rtol=0, atol=tol * 10)
        for key in a[3]:
            np.testing.assert_allclose(a[3][key], b[3][key], rtol=0, atol=tol * 10, err_msg=key)


def test_lstm_auto_path_and_fast_refusal(rng):
    x = rng.standard_normal((N, T, D))
    p = rl.init_lstm(D, H, rng)
    assert rl.lstm_forward(x, None, None, p)[2]["path"] == "fast"
    assert rl.lstm_forward(x, None, None, p, force={"f": 1.0})[2]["path"] == "readable"
    with pytest.raises(ValueError, match="path: 'fast' runs the standard LSTM"):
        rl.lstm_forward(x, None, None, p, force={"f": 1.0}, path="fast")


def test_lstm_variants_have_their_own_parameter_counts(rng):
    for variant, rows in (("standard", 4), ("no_forget", 3), ("coupled", 3), ("no_output", 3)):
        p = rl.init_lstm(D, H, rng, variant=variant, peephole=True)
        assert p["U"].shape == (rows * H, D) and p["W"].shape == (rows * H, H)
        peeps = {k for k in p if k.startswith("p_")}
        assert peeps == {"standard": {"p_i", "p_f", "p_o"}, "no_forget": {"p_i", "p_o"},
                         "coupled": {"p_i", "p_o"}, "no_output": {"p_i", "p_f"}}[variant]


def test_lstm_variant_rules_hold_in_the_trace(rng):
    x = rng.standard_normal((N, T, D))
    for name, check in (("lstm_no_forget", lambda tr: np.all(tr["f"] == 1)),
                        ("lstm_coupled", lambda tr: np.allclose(tr["f"], 1 - tr["i"], atol=0)),
                        ("lstm_no_output", lambda tr: np.all(tr["o"] == 1))):
        cell = get_cell(name)
        _, cache = cell.forward(x, cell.zero_state(N, H), cell.init(D, H, rng))
        assert check(cache["trace"]), name


def test_standard_lstm_with_forget_forced_open_is_the_no_forget_lstm(rng):
    """f forced to 1 on the standard LSTM = the NFG variant with the f rows removed."""
    x = rng.standard_normal((N, T, D))
    p = rl.init_lstm(D, H, rng)
    keep = np.r_[0:H, 2 * H:4 * H]                                   # rows of i, g, o
    p3 = {"U": p["U"][keep], "W": p["W"][keep], "b": p["b"][keep]}
    h1, c1, _ = rl.lstm_forward(x, None, None, p, force={"f": 1.0})
    h2, c2, _ = rl.lstm_forward(x, None, None, p3, variant="no_forget")
    np.testing.assert_allclose(h1, h2, rtol=0, atol=1e-14)
    np.testing.assert_allclose(c1, c2, rtol=0, atol=1e-14)


@pytest.mark.parametrize("gates", [{"f": 0.0}, {"f": "array"}, {"i": 1.0, "o": "array"}])
@pytest.mark.parametrize("variant", ["standard", "coupled"])
def test_lstm_forced_gates_are_constants_in_the_backward(rng, ragged_mask, gates, variant):
    x = rng.standard_normal((N, T, D))
    h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    p = rl.init_lstm(D, H, rng, variant=variant, peephole=True)
    force = {k: (rng.uniform(0, 1, (N, T, H)) if v == "array" else v) for k, v in gates.items()}
    h, c, cache = rl.lstm_forward(x, h0, c0, p, force=force, variant=variant, peephole=True)
    for k, v in force.items():
        np.testing.assert_array_equal(cache["trace"][k], np.broadcast_to(v, (N, T, H)))
    errors = rl.check_gradients(
        lambda x, h0, c0, params, mask=None: rl.lstm_forward(
            x, h0, c0, params, mask=mask, force=force, variant=variant, peephole=True),
        lambda dh, dc, cache: rl.lstm_backward(dh, cache, dc=dc),
        {"x": x, "h0": h0, "c0": c0}, p, rng, mask=ragged_mask)
    assert max(errors.values()) < 1e-7, errors


def test_force_checks_name_the_gate(rng):
    x = rng.standard_normal((N, T, D))
    p = rl.init_lstm(D, H, rng)
    with pytest.raises(ValueError, match=r"force: expected gates among \['i', 'f', 'o'\], got 'g'"):
        rl.lstm_forward(x, None, None, p, force={"g": 0.5})
    with pytest.raises(ValueError, match=r"force\['f'\]: expected a gate value in \[0, 1\], got 2.0"):
        rl.lstm_forward(x, None, None, p, force={"f": 2.0})
    with pytest.raises(ValueError, match=r"force\['f'\]: expected a 3-d array of shape \(N, T, H\), "
                                         r"got shape \(3, 6\)"):
        rl.lstm_forward(x, None, None, p, force={"f": np.ones((N, H))})
    with pytest.raises(ValueError, match=r"force\['f'\]: expected shape \(N, T, H\) = \(3, 5, 6\), "
                                         r"got \(3, 4, 6\)"):
        rl.lstm_forward(x, None, None, p, force={"f": np.ones((N, 4, H))})
    with pytest.raises(ValueError, match=r"force: expected gates among \['r', 'z'\], got 'f'"):
        rl.gru_forward(x, None, rl.init_gru(D, H, rng), force={"f": 0.0})


# --------------------------------------------------------------------------
# the GRU: forced gates, the RNN special case

@pytest.mark.parametrize("reset", ["after", "before"])
@pytest.mark.parametrize("force", [{"z": 0.0}, {"r": "array"}, {"r": 1.0, "z": "array"}])
def test_gru_forced_gates_gradients(rng, ragged_mask, reset, force):
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    p = _params(rng, get_cell("gru"), {"reset": reset})
    force = {k: (rng.uniform(0, 1, (N, T, H)) if v == "array" else v) for k, v in force.items()}
    errors = rl.check_gradients(
        lambda x, h0, params, mask=None: rl.gru_forward(x, h0, params, mask=mask, reset=reset,
                                                        force=force),
        rl.gru_backward, {"x": x, "h0": h0}, p, rng, mask=ragged_mask)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("reset", ["after", "before"])
def test_gru_with_z_shut_and_r_open_is_the_tanh_rnn(rng, reset):
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    p = rl.init_gru(D, H, rng, reset=reset)
    h, _ = rl.gru_forward(x, h0, p, reset=reset, force={"z": 0.0, "r": 1.0})
    # the candidate block as an Elman RNN: U_n, W_n, b_n (+ b_hn)
    rnn = {"U": p["U"][2 * H:], "W": p["W"][2 * H:],
           "b": p["b"][2 * H:] + (p["bhn"] if reset == "after" else 0)}
    h_rnn, _ = rl.rnn_forward(x, h0, rnn)
    np.testing.assert_allclose(h, h_rnn, rtol=0, atol=1e-14)


# --------------------------------------------------------------------------
# every cell through the code that works on "any cell"

# The whole-model checks below differentiate one scalar, a mean cross-entropy
# near log K, whose gradients are 1e-4 to 1e-6: central differences then
# carry a rounding error of about eps |L| / h = 4e-10 absolute, up to 1e-6
# relative. The cells themselves are checked at 1e-7 above, with a random
# upstream gradient on every output (rnnlib.gradcheck).
COMPOSITE_TOL = 1e-6


@pytest.mark.parametrize("variant", VARIANTS, ids=_ids)
def test_every_cell_runs_through_model_bidirectional_seq2seq_and_beam(rng, ragged_mask, variant):
    name, opts = variant
    kw = {"activation": opts["activation"]} if "activation" in opts else \
        {"cell_options": opts}
    # the model, unidirectional and bidirectional, gradient-checked through model_loss
    for bi in (False, True):
        spec = rl.ModelSpec(cell=name, input="embedding", vocab=5, D=3, H=4, K=5,
                            bidirectional=bi, **kw)
        params = rl.model.unflatten_params(         # no zero biases, no tiny gains
            {k: v + 0.3 * rng.standard_normal(v.shape)
             for k, v in rl.model.flatten_params(rl.init_model(spec, rng)).items()})
        ids = rng.integers(0, 5, (N, T))
        tgt = rng.integers(0, 5, (N, T))
        loss, grads = rl.model_loss(params, ids, tgt, spec, mask=ragged_mask)
        flat_p, flat_g = rl.model.flatten_params(params), rl.model.flatten_params(grads)
        # (batch norm makes the loss nearly invariant to the scale of W, so its
        # gradient there is ~1e-10 and finite differences are noise: the cell
        # checks above cover W with a random upstream gradient)
        keys = ("out.V", "embed.E") if get_cell(name).couples_batch else \
            ("rnn.W", "rnn_fw.W", "out.V", "embed.E")
        for key in keys:
            if key not in flat_p:
                continue
            num = rl.numerical_gradient(
                lambda: rl.model_loss(params, ids, tgt, spec, mask=ragged_mask)[0], flat_p[key])
            assert rl.rel_error(flat_g[key], num) < COMPOSITE_TOL, (bi, key)
    # one step at a time (teacher forcing): equal to the whole-sequence model
    spec = rl.ModelSpec(cell=name, input="embedding", vocab=5, D=3, H=4, K=5, **kw)
    params = rl.init_model(spec, rng)
    ids, tgt = rng.integers(0, 5, (N, T)), rng.integers(0, 5, (N, T))
    if not get_cell(name).stepwise:
        with pytest.raises(ValueError, match="cannot run one step at a time"):
            rl.scheduled_sampling_loss(params, spec, ids, tgt, 1.0, np.random.default_rng(0))
        return
    loss_tf, grads_tf, _ = rl.scheduled_sampling_loss(params, spec, ids, tgt, 1.0,
                                                      np.random.default_rng(0))
    loss_seq, grads_seq = rl.model_loss(params, ids, tgt, spec)
    assert abs(loss_tf - loss_seq) < 1e-12
    for key, g in rl.model.flatten_params(grads_seq).items():
        np.testing.assert_allclose(rl.model.flatten_params(grads_tf)[key], g, atol=1e-12)
    if get_cell(name).couples_batch:                  # batch statistics: no generation
        with pytest.raises(ValueError, match="normalises with the statistics of the batch"):
            rl.make_step_fn(params, spec)
        return
    # generation: greedy = beam of width 1
    step_fn = rl.make_step_fn(params, spec)
    greedy, lp = rl.greedy_decode(step_fn, rl.initial_state(spec, 1), 0, 4)
    seqs, scores, _ = rl.beam_search(step_fn, rl.initial_state(spec, 1), 0, 4, width=1)
    np.testing.assert_array_equal(seqs[0], greedy[0])
    assert abs(scores[0] - lp[0]) < 1e-12
    # seq2seq with this cell as encoder and decoder
    s2s = rl.init_seq2seq(6, 5, 3, 4, rng, cell=name, context="both",
                          cell_options={k: v for k, v in opts.items()})
    src, tin, tout = rng.integers(0, 6, (N, 4)), rng.integers(0, 5, (N, T)), rng.integers(0, 5, (N, T))
    loss, grads = rl.seq2seq_loss(s2s, src, tin, tout, cell=name, cell_options=opts)
    for key in ("enc.W", "dec.U", "enc_embed.E"):
        arr = rl.model.flatten_params(s2s)[key]
        num = rl.numerical_gradient(
            lambda: rl.seq2seq_loss(s2s, src, tin, tout, cell=name, cell_options=opts)[0], arr)
        assert rl.rel_error(rl.model.flatten_params(grads)[key], num) < COMPOSITE_TOL, key
    seqs, _, _ = rl.seq2seq_beam(s2s, src[:1], 0, 3, width=2, cell=name, cell_options=opts)
    assert len(seqs) == 2


def test_model_spec_expresses_cell_options():
    spec = rl.ModelSpec(cell="gru", cell_options={"reset": "before"})
    assert spec.cell_kwargs == {"reset": "before"}
    assert hash(spec) == hash(rl.ModelSpec(cell="gru", cell_options={"reset": "before"}))
    with pytest.raises(ValueError, match=r"spec.cell_options\['reset'\]: expected one of"):
        rl.ModelSpec(cell="gru", cell_options={"reset": "sideways"})
    with pytest.raises(TypeError, match="cell 'lstm' takes the options"):
        rl.ModelSpec(cell="lstm", cell_options={"reset": "before"})
    with pytest.raises(ValueError, match="spec.activation: cell 'gru' has no activation"):
        rl.ModelSpec(cell="gru", activation="relu")


# --------------------------------------------------------------------------
# no dispatch on a cell's name outside the cells' own modules

CELL_MODULES = {"rnnlib/rnn.py", "rnnlib/lstm.py", "rnnlib/gru.py", "rnnlib/cells.py",
                "rnnlib/jordan.py", "rnnlib/lstm_norm.py"}


def test_no_dispatch_on_cell_names_outside_the_cells():
    names = "|".join(re.escape(n) for n in rl.cell_names())
    pattern = re.compile(rf"""(cell\w*|\.cell)\s*(==|!=|\bin\b)\s*\(?["']({names})["']""")
    offenders = []
    for path in sorted((ROOT / "rnnlib").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in CELL_MODULES:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert not offenders, "dispatch on a cell's name:\n" + "\n".join(offenders)


def test_no_module_imports_another_modules_underscore_names():
    """(The package's one private module, ``_validate``, is shared by design.)"""
    pattern = re.compile(r"from\s+[.\w]+\s+import\s+(\([^)]*\)|[^\n]*)")
    offenders = []
    for path in sorted((ROOT / "rnnlib").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for m in pattern.finditer(text):
            names = [n.strip().split(" as ")[0] for n in m.group(1).strip("()").split(",")]
            bad = [n for n in names if n.startswith("_") and n not in ("__future__", "_validate")]
            if bad:
                offenders.append(f"{path.relative_to(ROOT)}: {bad}")
    assert not offenders, offenders
