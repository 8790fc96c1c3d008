"""Milliseconds per widget frame: an LSTM trace (N=1, T=30, D=3, H=16) animated.

What is timed, per repeat, in one process (after one warm-up call, since the
first figure of a process costs ~0.2 s of font loading):

* forward: ``lstm_forward`` on a seeded input (the model part);
* animate: ``animate_trace(cache["trace"], inputs=x)``, i.e. rendering all
  T frames (persistent Agg figure, blitting, drawn for 2x screens: 5.8 in
  at 240 pixels per inch, 1392 px wide, shown 696 px wide) as one
  background PNG and one transparent overlay PNG per step, and building
  the widget; reported per frame;
* sizes: the background and the median overlay PNG, and the bytes the
  widget embeds in a page (``widget_payload_bytes``; budget 1 MB).

Target (issue 4): under 50 ms median per frame. Run:
    .venv/bin/python benchmarks/widget_frame.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

from rnnlib.init import init_lstm  # noqa: E402
from rnnlib.lstm import lstm_forward  # noqa: E402
from rnnlib.viz import animate_trace, png_size, widget_payload_bytes  # noqa: E402

N, T, D, H = 1, 30, 3, 16
SEED = 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((N, T, D))
    params = init_lstm(D, H, rng=rng)

    def once():
        t0 = time.perf_counter()
        _, _, cache = lstm_forward(x, None, None, params)
        t1 = time.perf_counter()
        c1 = time.process_time()
        widget = animate_trace(cache["trace"], inputs=x, title="LSTM")
        t2 = time.perf_counter()
        cpu.append(time.process_time() - c1)
        return t1 - t0, t2 - t1, widget

    cpu = []

    once()  # warm-up: fonts, first figure
    cpu.clear()
    forward, animate = [], []
    widget = None
    for _ in range(args.repeats):
        f, a, widget = once()
        forward.append(f)
        animate.append(a)
    per_frame = [1000 * a / T for a in animate]
    frames = [bytes(c.value) for c in widget.frames]
    background = bytes(widget.background.value) if widget.background is not None else b""
    print(f"LSTM trace N={N} T={T} D={D} H={H}, {args.repeats} repeats, medians:")
    print(f"  forward pass          {1000 * statistics.median(forward):8.2f} ms")
    print(f"  animate_trace         {1000 * statistics.median(animate):8.1f} ms for {T} frames")
    print(f"  per frame             {statistics.median(per_frame):8.1f} ms "
          f"(min {min(per_frame):.1f}, max {max(per_frame):.1f}); target < 50 ms")
    print(f"  per frame, CPU time   {1000 * statistics.median(cpu) / T:8.1f} ms "
          "(this process; less sensitive to the machine's load)")
    width, height = png_size(frames[0])
    print(f"  frame pixels          {width} x {height} (shown at {widget.frames[0].layout.width})")
    print(f"  background PNG        {len(background) / 1e3:8.1f} kB (once)")
    print(f"  overlay PNG           {statistics.median(len(f) for f in frames) / 1e3:8.1f} kB median per step")
    print(f"  widget payload        {widget_payload_bytes(widget) / 1e6:8.3f} MB (budget 1 MB)")


if __name__ == "__main__":
    main()
