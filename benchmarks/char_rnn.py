"""Characters per second for training the character-level RNN: rnnlib vs torch.

The model is min-char-rnn's: one-hot characters (K = 62 for the shipped
sonnets) -> Elman tanh RNN with H = 100 -> affine -> softmax cross-entropy,
sequence length 25, Adagrad (lr 0.1), gradients clipped to [-5, 5]. Every
variant trains through its usual training loop:

* rnnlib: :func:`rnnlib.training.train` with a :class:`rnnlib.model.ModelSpec`
  (one call, ``steps`` optimizer steps, the loop's own shuffled
  mini-batches), batch 1 (the classic one-sequence-at-a-time loop) and
  batch 32, float64 and float32;
* torch: ``nn.RNN`` + ``nn.Linear`` + ``F.cross_entropy`` +
  ``torch.optim.Adagrad`` and ``clip_grad_value_``, float32 and float64,
  same batches.

Run from the repository root::

    .venv/bin/python benchmarks/char_rnn.py                    # all variants
    .venv/bin/python benchmarks/char_rnn.py --quick            # fewer repeats
    .venv/bin/python benchmarks/char_rnn.py --blas-threads 1   # numpy's BLAS on one thread

At these sizes (products of 32 x 100 by 100 x 100 inside the time loop)
OpenBLAS's second thread costs more than it gives, and much more when other
processes share the two cores; ``--blas-threads 1`` shows it.

It prints chars/s (chars = batch x 25 per step), the median and the best of
several interleaved rounds (every variant of a library once per round, so a
burst of load from other processes hits all of them alike), and the ratio
rnnlib / torch of the medians for each batch size and dtype. By default
each library runs in its own process with ``OMP_WAIT_POLICY`` unset: in one
process (``--same-process``) torch needs ``OMP_WAIT_POLICY=PASSIVE`` (set
before torch is imported) or its spinning threads slow numpy down, yet
even so the batched numpy runs became 2-10x slower and erratic there, and
PASSIVE itself makes torch 1.5-2.4x slower at these sizes. This is not a timed test; figures go in
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import statistics
import time

import sys  # noqa: E402

# --blas-threads must act before numpy loads OpenBLAS
for _i, _arg in enumerate(sys.argv):
    if _arg == "--blas-threads" and _i + 1 < len(sys.argv):
        os.environ["OPENBLAS_NUM_THREADS"] = sys.argv[_i + 1]

import numpy as np  # noqa: E402

from rnnlib.data import CharVocab, load_corpus, next_token_chunks  # noqa: E402
from rnnlib.model import ModelSpec, init_model  # noqa: E402
from rnnlib.training import train  # noqa: E402

H, T, LR, CLIP = 100, 25, 0.1, 5.0


def corpus_batches():
    text = load_corpus("sonnets")
    vocab = CharVocab(text)
    X, Y = next_token_chunks(vocab.encode(text), T)
    return vocab.size, X, Y


def rnnlib_runner(K, X, Y, batch, dtype, steps):
    onehot = np.eye(K, dtype=dtype)[X]                        # (N, T, K) one-hot inputs
    spec = ModelSpec(cell="rnn", input="dense", D=K, H=H, K=K, dtype=np.dtype(dtype).name)
    params = init_model(spec, np.random.default_rng(0))

    def run():
        train(params, spec, (onehot, Y), optimizer="adagrad", lr=LR, steps=steps,
              clip=("value", CLIP), batch_size=batch, rng=np.random.default_rng(1))

    return run


def torch_runner(K, X, Y, batch, dtype, steps):
    import torch
    import torch.nn.functional as F

    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    torch.manual_seed(0)
    rnn = torch.nn.RNN(K, H, batch_first=True, nonlinearity="tanh").to(tdtype)
    out = torch.nn.Linear(H, K).to(tdtype)
    params = list(rnn.parameters()) + list(out.parameters())
    opt = torch.optim.Adagrad(params, lr=LR)
    onehot = torch.from_numpy(np.eye(K, dtype=dtype)[X])
    targets = torch.from_numpy(Y)
    rng = np.random.default_rng(1)
    N = len(X)

    def run():
        order = rng.permutation(N)
        for s in range(steps):
            rows = torch.from_numpy(order[(s * batch) % (N - batch):][:batch])
            x, y = onehot[rows], targets[rows]
            h, _ = rnn(x)
            loss = F.cross_entropy(out(h).reshape(-1, K), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_value_(params, CLIP)
            opt.step()

    return run


def measure(libraries, quick):
    """Time the variants of ``libraries`` in this process; return {key: (median, best)}."""
    repeats = 3 if quick else 5
    K, X, Y = corpus_batches()
    makers = {"rnnlib": rnnlib_runner, "torch": torch_runner}
    variants = []                      # (batch, dtype, library, runner, chars per run)
    for batch, steps in ((1, 100 if quick else 200), (32, 20 if quick else 40)):
        for dtype in (np.float64, np.float32):
            for lib in libraries:
                variants.append((batch, np.dtype(dtype).name, lib,
                                 makers[lib](K, X, Y, batch, dtype, steps), steps * batch * T))
    for v in variants:
        v[3]()                                                # warm up
    # interleaved rounds: every variant once per round, so a burst of load
    # from other processes hits all variants alike
    times = {v[:3]: [] for v in variants}
    for _ in range(repeats):
        for v in variants:
            t0 = time.perf_counter()
            v[3]()
            times[v[:3]].append(time.perf_counter() - t0)
    return {"|".join(map(str, v[:3])): (v[4] / statistics.median(times[v[:3]]),
                                        v[4] / min(times[v[:3]])) for v in variants}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    parser.add_argument("--no-torch", action="store_true", help="rnnlib only")
    parser.add_argument("--same-process", action="store_true",
                        help="time torch and rnnlib in one process (interleaved)")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="OpenBLAS threads for numpy (default: OpenBLAS's own choice)")
    parser.add_argument("--only", choices=["rnnlib", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:                                              # a child process: JSON out
        print(json.dumps(measure([args.only], args.quick)))
        return
    try:
        import importlib.util
        have_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    except ImportError:
        have_torch = False
    libraries = ["rnnlib"] + (["torch"] if have_torch else [])
    if args.same_process:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"             # before torch is imported
    print(f"char RNN: K={corpus_batches()[0]}, H={H}, T={T}, Adagrad lr={LR}, clip value {CLIP}; "
          f"numpy {np.__version__}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset') if args.same_process else 'unset'}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          + ("one process" if args.same_process else "one process per library"))
    if args.same_process:
        rate = measure(libraries, args.quick)
    else:
        rate = {}
        for lib in libraries:
            cmd = [sys.executable, os.path.abspath(__file__), "--only", lib]
            cmd += ["--quick"] if args.quick else []
            cmd += ["--blas-threads", str(args.blas_threads)] if args.blas_threads else []
            env = dict(os.environ)
            env.pop("OMP_WAIT_POLICY", None)     # alone, torch is fastest with its default
            out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                                 env=env).stdout
            rate.update(json.loads(out.strip().splitlines()[-1]))
    print("chars/s: median over rounds (best round in brackets)")
    print(f"{'batch':>5} {'dtype':>8} {'rnnlib':>22} {'torch':>22} {'rnnlib/torch':>13}")
    nan = (float("nan"), float("nan"))
    for batch in (1, 32):
        for dt in ("float64", "float32"):
            o, t = rate[f"{batch}|{dt}|rnnlib"], rate.get(f"{batch}|{dt}|torch", nan)
            print(f"{batch:>5} {dt:>8} {o[0]:>11,.0f} ({o[1]:>8,.0f}) {t[0]:>11,.0f} ({t[1]:>8,.0f})"
                  f" {o[0] / t[0]:>13.2f}")
    o, t = rate["32|float32|rnnlib"][0], rate.get("32|float32|torch", nan)[0]
    print(f"target: batched rnnlib float32 within 2x of torch float32 -> torch/rnnlib = {t / o:.2f} "
          f"({'met' if t / o <= 2 else 'NOT met'})")


if __name__ == "__main__":
    main()
