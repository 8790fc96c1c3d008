"""Shared fixtures for the engine tests (rnnlib issue 2)."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(20240611)


@pytest.fixture
def ragged_mask():
    """A post-padded (3, 5) mask: lengths 5, 3, 1."""
    m = np.ones((3, 5))
    m[1, 3:] = 0
    m[2, 1:] = 0
    return m


def bptt_k_reference(run, init_states, full_states, upstream, k, mask=None):
    """Brute-force BPTT(k) from the full backward pass on shortened inputs.

    For every step t, rerun the cell on steps s0 = max(0, t-k+1) .. t, starting
    from the forward pass's own state before s0 (a constant), with the upstream
    gradient of step t only, and add up what the full backward returns.

    run(s0, t, start_states, mask_sub, ups_sub) -> (dx_sub, dstart_tuple, grads)
    init_states: tuple of (N, S) initial states; full_states: tuple of (N, T, S)
    states from the forward pass; upstream: tuple of (N, T, S) gradients.
    Returns (dx pieces accumulated by the caller via the returned list).
    """
    T = full_states[0].shape[1]
    out = []
    for t in range(T):
        s0 = max(0, t - k + 1)
        start = init_states if s0 == 0 else tuple(st[:, s0 - 1] for st in full_states)
        ups = []
        for u in upstream:
            z = np.zeros((u.shape[0], t - s0 + 1, u.shape[2]), dtype=u.dtype)
            z[:, -1] = u[:, t]
            ups.append(z)
        m = None if mask is None else mask[:, s0:t + 1]
        dx, dstart, grads = run(s0, t, start, m, tuple(ups))
        out.append((s0, t, dx, dstart if s0 == 0 else None, grads))
    return out


def accumulate_reference(pieces, x_shape, state_shapes, param_shapes, dtype=np.float64):
    """Sum the pieces of :func:`bptt_k_reference` into (dx, dstates, grads)."""
    dx = np.zeros(x_shape, dtype=dtype)
    dstates = [np.zeros(s, dtype=dtype) for s in state_shapes]
    grads = {k: np.zeros(s, dtype=dtype) for k, s in param_shapes.items()}
    for s0, t, dxs, dstart, g in pieces:
        dx[:, s0:t + 1] += dxs
        if dstart is not None:
            for acc, d in zip(dstates, dstart):
                acc += d
        for k in grads:
            grads[k] += g[k]
    return dx, tuple(dstates), grads
