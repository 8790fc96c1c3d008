"""Time LSTM forward+backward: rnnlib (numpy) against torch.nn.LSTM on the CPU.

Run from the repository root::

    .venv/bin/python benchmarks/lstm_vs_torch.py            # all sizes, float32 and float64
    .venv/bin/python benchmarks/lstm_vs_torch.py --quick    # fewer repeats

For each (N, T, D, H) and dtype it prints the median time of one
forward+backward pass (upstream gradient on every h[:, t]), the ratio
rnnlib / torch, and the achieved GFLOP/s next to a plain numpy matmul
measured in the same process. Both run in one process, so
``OMP_WAIT_POLICY=PASSIVE`` is set before torch is imported: otherwise
torch's OpenMP threads keep spinning after each torch call and slow the
next numpy call down.

FLOP count (matrix products only, multiply-add = 2): the forward pass is
2 N T 4H (D + H); the backward pass does the same products twice more
(input and recurrent gradients, weight gradients), 3x the forward in all.
This is not a timed test; figures go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

SIZES = [(1, 50, 10, 32), (32, 50, 64, 128), (64, 100, 128, 256)]


def median_time(fn, repeats, min_time=0.0):
    fn()                                            # warm up
    times = []
    start = time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_gflops(dtype, n=1024, repeats=7):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    t = median_time(lambda: np.matmul(a, b, out=out), repeats)
    return 2 * n ** 3 / t / 1e9


def lstm_flops(N, T, D, H):
    return 3 * 2 * N * T * 4 * H * (D + H)


def bench_rnnlib(N, T, D, H, dtype, repeats):
    from rnnlib import init_lstm, lstm_backward, lstm_forward
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    dh = rng.standard_normal((N, T, H)).astype(dtype)
    params = init_lstm(D, H, rng, dtype)

    def step():
        h, c, cache = lstm_forward(x, None, None, params)
        lstm_backward(dh, cache)
    return median_time(step, repeats, min_time=1.0)


def bench_torch(N, T, D, H, dtype, repeats):
    import torch
    tdt = torch.float32 if dtype == np.float32 else torch.float64
    torch.manual_seed(0)
    m = torch.nn.LSTM(D, H, batch_first=True).to(tdt)
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((N, T, D)), dtype=tdt, requires_grad=True)
    dh = torch.tensor(rng.standard_normal((N, T, H)), dtype=tdt)

    def step():
        m.zero_grad(set_to_none=True)
        x.grad = None
        out, _ = m(x)
        out.backward(dh)
    return median_time(step, repeats, min_time=1.0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args(argv)
    repeats = 5 if args.quick else 15
    import torch
    print(f"numpy {np.__version__}, torch {torch.__version__}, torch threads "
          f"{torch.get_num_threads()}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")
    peak = {dt: matmul_gflops(dt) for dt in (np.float32, np.float64)}
    print(f"numpy matmul 1024^3: float32 {peak[np.float32]:.0f} GFLOP/s, "
          f"float64 {peak[np.float64]:.0f} GFLOP/s")
    print()
    print("| size (N, T, D, H) | dtype | rnnlib ms | torch ms | rnnlib/torch "
          "| rnnlib GFLOP/s (% of matmul) | torch GFLOP/s (% of matmul) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for size in SIZES:
        for dt in (np.float32, np.float64):
            t_np = bench_rnnlib(*size, dt, repeats)
            t_t = bench_torch(*size, dt, repeats)
            f = lstm_flops(*size) / 1e9
            name = np.dtype(dt).name
            print(f"| {size} | {name} | {1e3 * t_np:.2f} | {1e3 * t_t:.2f} | "
                  f"{t_np / t_t:.2f} | {f / t_np:.1f} ({100 * f / t_np / peak[dt]:.0f}%) | "
                  f"{f / t_t:.1f} ({100 * f / t_t / peak[dt]:.0f}%) |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
