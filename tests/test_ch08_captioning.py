"""Tests for rnnlib.chapters.ch08_captioning (section 8.4, image features into every step)."""

import numpy as np
import pytest

import rnnlib as rl
from rnnlib.chapters import ch08_captioning as ch
from rnnlib.gradcheck import numerical_gradient, rel_error
from rnnlib.model import flatten_params, unflatten_params


def _images(n=5, seed=0):
    return np.random.default_rng(seed).random((n, 8, 8))


def _model(mode="every", seed=0, F=7, H=5, cell="rnn"):
    """A small random decoder with non-zero biases, and features for 4 images."""
    rng = np.random.default_rng(seed)
    spec = ch.caption_spec(F, H, cell)
    params = rl.init_model(spec, rng)
    params = unflatten_params({k: v + 0.3 * rng.standard_normal(v.shape)
                               for k, v in flatten_params(params).items()})
    feats = rng.random((4, F))
    return spec, params, feats


def test_tokens_and_names():
    assert ch.K == 16 and ch.TOKENS[ch.END] == "." and ch.T_MAX == 6
    assert set("".join(ch.NAMES)) == set(ch.TOKENS[1:])
    inputs, targets, mask = ch.name_sequences(np.array([1, 7]))
    assert ch.tokens_to_name(inputs[0, 1:]) == "one"
    assert ch.tokens_to_name(targets[0]) == "one" and ch.tokens_to_name(targets[1]) == "seven"
    assert inputs[0, 0] == ch.END and targets[0, 3] == ch.END
    assert mask.sum(axis=1).tolist() == [4.0, 6.0]
    # teacher forcing: each input is the previous target
    assert np.array_equal(inputs[:, 1:] * mask[:, 1:], targets[:, :-1] * mask[:, 1:])


def test_image_features_equal_explicit_loops():
    images = _images(3)
    f = np.random.default_rng(1).standard_normal((2, 3, 3))
    feats, maps, pooled = ch.image_features(images, f, return_maps=True)
    assert maps.shape == (3, 2, 6, 6) and pooled.shape == (3, 2, 3, 3)
    for n in range(3):
        for c in range(2):
            for i in range(6):
                for j in range(6):
                    want = max(0.0, np.sum(f[c] * images[n, i:i + 3, j:j + 3]))
                    assert np.isclose(maps[n, c, i, j], want, rtol=1e-13, atol=1e-14)
    assert pooled[1, 0, 2, 1] == maps[1, 0, 4:6, 2:4].max()
    assert np.array_equal(feats[2], pooled[2].ravel())


def test_conv_classifier_gradient_float64():
    rng = np.random.default_rng(7)
    images, labels = rng.random((5, 8, 8)), np.array([0, 3, 3, 9, 1])
    params = {"conv": {"w": rng.standard_normal((3, 3, 3)), "b": 0.1 * rng.standard_normal(3)},
              "out": rl.init_affine(27, 10, rng)}
    params["out"]["c"] = 0.2 * rng.standard_normal(10)
    flat = flatten_params(params)
    nested = unflatten_params(flat)

    def f():
        return ch.conv_classifier_loss(nested, images, labels)[0]

    _, grads = ch.conv_classifier_loss(params, images, labels)
    for name, g in flatten_params(grads).items():
        assert rel_error(numerical_gradient(f, flat[name]), g) < 1e-7, name


def test_learned_filters_reduce_the_loss():
    images, labels = rl.data.load_digits()
    params, hist = ch.train_conv_features(images[:300], labels[:300], 0, steps=60)
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    feats = ch.image_features(images[:4], params["conv"]["w"], bias=params["conv"]["b"])
    assert feats.shape == (4, 72) and np.all(feats >= 0)


def test_image_features():
    feats, maps, pooled = ch.image_features(_images(4), return_maps=True)
    assert feats.shape == (4, 72) and maps.shape == (4, 8, 6, 6) and pooled.shape == (4, 8, 3, 3)
    assert np.all(feats >= 0) and np.array_equal(feats[2], pooled[2].ravel())
    assert ch.FILTERS.shape == (8, 3, 3) and len(ch.FILTER_NAMES) == 8
    assert np.allclose(ch.FILTERS.sum(axis=(1, 2)), 0)          # edges, not brightness
    # a vertical edge dark -> bright to the right excites filter 0 only (of 0 and 4)
    step = np.zeros((1, 8, 8))
    step[0, :, 4:] = 1.0
    _, m, _ = ch.image_features(step, return_maps=True)
    assert m[0, 0].max() == pytest.approx(1.0) and m[0, 4].max() == 0.0


@pytest.mark.parametrize("mode", ["every", "first"])
def test_decoder_inputs(mode):
    spec, params, feats = _model()
    inputs, _, _ = ch.name_sequences(np.array([0, 3, 5, 9]))
    x = ch.decoder_inputs(inputs, feats, mode)
    assert x.shape == (4, ch.T_MAX, ch.K + 7)
    assert np.array_equal(x[..., :ch.K].argmax(axis=2), inputs)
    assert np.array_equal(x[:, 0, ch.K:], feats)
    if mode == "every":
        assert np.array_equal(x[:, 3, ch.K:], feats)
    else:
        assert np.all(x[:, 1:, ch.K:] == 0)


def test_every_step_image_is_the_plain_rnn_with_concatenated_weights():
    spec, params, feats = _model(H=6)
    inputs, _, _ = ch.name_sequences(np.array([0, 3, 7, 8]))
    _, cache = rl.model_forward(params, ch.decoder_inputs(inputs, feats, "every"), spec)
    Uc, W, b = params["rnn"]["U"], params["rnn"]["W"], params["rnn"]["b"]
    U, V = Uc[:, :ch.K], Uc[:, ch.K:]
    h = np.zeros((4, 6))
    for t in range(ch.T_MAX):
        e = np.eye(ch.K)[inputs[:, t]]
        h = np.tanh(e @ U.T + h @ W.T + feats @ V.T + b)
        assert np.allclose(h, cache["h"][:, t], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", ["every", "first"])
@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_step_fn_follows_the_teacher_forced_forward(mode, cell):
    spec, params, feats = _model(mode, cell=cell)
    labels = np.array([2, 4, 6, 8])
    inputs, _, _ = ch.name_sequences(labels)
    logits, _ = rl.model_forward(params, ch.decoder_inputs(inputs, feats, mode), spec)
    step_fn = ch.caption_step_fn(params, spec, mode)
    state = ch.caption_state(spec, feats)
    for t in range(ch.T_MAX):
        log_p, state = step_fn(inputs[:, t], state)
        assert np.allclose(log_p, rl.generate.log_softmax_rows(logits[:, t]), rtol=1e-12,
                           atol=1e-13)


@pytest.mark.parametrize("mode", ["every", "first"])
def test_greedy_beam_and_trace_agree(mode):
    spec, params, feats = _model(mode, seed=3)
    greedy = ch.decode_names(params, spec, feats, mode)
    assert np.array_equal(ch.decode_names(params, spec, feats, mode, width=1), greedy)
    for n in range(4):
        tokens, probs = ch.decode_trace(params, spec, feats[n], mode)
        assert ch.tokens_to_name(tokens) == greedy[n]
        assert np.allclose(probs.sum(axis=1), 1) and probs.shape == (len(tokens), ch.K)
        assert np.array_equal(probs.argmax(axis=1), tokens)


def test_loss_gradient_through_every_step_inputs():
    """The masked teacher-forced loss of the decoder, checked in float64."""
    spec, params, feats = _model(seed=5)
    inputs, targets, mask = ch.name_sequences(np.array([1, 3, 7, 0]))
    x = ch.decoder_inputs(inputs, feats, "every")
    flat = flatten_params(params)
    nested = unflatten_params(flat)

    def f():
        return rl.model_loss(nested, x, targets, spec, mask=mask)[0]

    _, grads = rl.model_loss(params, x, targets, spec, mask=mask)
    for name, g in flatten_params(grads).items():
        assert rel_error(numerical_gradient(f, flat[name]), g) < 1e-7, name


def test_scores_and_confusion():
    names = np.array(["zero", "one", "too", "three", "one"])
    labels = np.array([0, 1, 2, 3, 4])
    sc = ch.name_scores(names, labels)
    assert sc["exact"] == pytest.approx(0.6) and sc["invalid"] == 1
    assert sc["read"].tolist() == [0, 1, -1, 3, 1]
    table = ch.confusion(sc["read"], labels)
    assert table.shape == (10, 11) and table.sum() == 5
    assert table[2, 10] == 1 and table[4, 1] == 1 and table[3, 3] == 1


def test_training_learns_on_a_small_split():
    images, labels = rl.data.load_digits()
    feats = ch.image_features(images[:400])
    tr, te = ch.split(400, 0)
    p, spec, hist = ch.train_captioner(feats[tr], labels[tr], "every", 0, H=16, steps=150)
    assert hist["loss"][-1] < 0.3 * hist["loss"][0]
    sc = ch.name_scores(ch.decode_names(p, spec, feats[te], "every"), labels[:400][te])
    assert sc["exact"] > 0.5
    pc, sc_spec, _ = ch.train_classifier(feats[tr], labels[tr], 0, H=16, steps=150)
    assert np.mean(ch.classify(pc, sc_spec, feats[te]) == labels[:400][te]) > 0.5


@pytest.mark.parametrize("call,words", [
    (lambda: ch.decoder_inputs(np.zeros((2, 3), int), np.zeros((2, 4)), "all"), ["mode"]),
    (lambda: ch.decoder_inputs(np.zeros((2, 3), int), np.zeros((3, 4)), "every"),
     ["inputs and feats", "N = 2"]),
    (lambda: ch.name_sequences(np.array([10])), ["labels", "[0, 9]"]),
    (lambda: ch.image_features(np.zeros((1, 8, 8)), np.zeros((2, 3, 4))), ["params['w']", "(M, k, k)"]),
    (lambda: ch.image_features(np.zeros((1, 7, 8))), ["x", "multiples"]),
    (lambda: ch.caption_state(ch.caption_spec(7), np.zeros((2, 5))), ["feats and spec", "F = 5"]),
    (lambda: ch.name_scores(np.array(["one"]), np.array([1, 2])), ["names and labels"]),
])
def test_bad_input_raises_naming_the_argument(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for w in words:
        assert w in str(err.value)


def test_decoding_drawer_renders_one_frame_per_step():
    import matplotlib
    matplotlib.use("Agg")
    from rnnlib import viz
    spec, params, feats = _model(seed=2)
    traces = [ch.decode_trace(params, spec, feats[n]) + (ch.NAMES[n],) for n in range(2)]
    draw, index = ch.decoding_drawer(_images(2), traces)
    assert index == [(m, s) for m in range(2) for s in range(len(traces[m][0]))]
    frames = viz.render_frames(draw, len(index), figsize=(5.7, 2.2), dpi=40)
    assert len(frames) == len(index) and all(f[:4] == b"\x89PNG" for f in frames)
