#!/usr/bin/env python3
"""Side by side: the PyTorch seed's own formula vs gram4j, same shapes, same machine, one run.

Times, for each shape, the seed's volume (`volume_computation`, float32 as the seed computes it)
and its loss forward + backward (the seed README's loss with autograd), then runs
`bin/gram bench --json` on the same shapes, and prints one table with the speed-ups.

Run from the repository root with Debian's torch:

    apt-get install -y python3-torch
    /usr/bin/python3 reference/compare_with_pytorch.py [--batch 1024] [--dim 512] [--k 3] [--repeats 5]

Timings are medians after one warm-up run. torch uses all cores (torch.get_num_threads()).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_fixtures import volume_computation  # noqa: E402  (the seed's formula)

torch.set_num_threads(os.cpu_count())  # the fixture generator pins torch to one thread; not here

REPO = Path(__file__).resolve().parent.parent


def seed_loss(anchor, inputs, temperature=0.07, label_smoothing=0.1):
    """The seed README's GRAM loss (one process)."""
    volume = volume_computation(anchor, *inputs) / temperature
    volume_t = volume_computation(anchor, *inputs).T / temperature
    bs = anchor.shape[0]
    targets = torch.linspace(0, bs - 1, bs, dtype=int)
    return (F.cross_entropy(-volume, targets, label_smoothing=label_smoothing)
            + F.cross_entropy(-volume_t, targets, label_smoothing=label_smoothing)) / 2


def median_ms(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def torch_times(batch, dim, k, repeats):
    g = torch.Generator().manual_seed(42)
    anchor = F.normalize(torch.randn(batch, dim, generator=g), dim=1)
    inputs = [F.normalize(torch.randn(batch, dim, generator=g), dim=1) for _ in range(k - 1)]

    def volume():
        with torch.no_grad():
            volume_computation(anchor, *inputs)

    def loss_backward():
        a = anchor.clone().requires_grad_(True)
        xs = [x.clone().requires_grad_(True) for x in inputs]
        seed_loss(a, xs).backward()

    return median_ms(volume, repeats), median_ms(loss_backward, repeats)


def gram4j_times(batch, dim, k, repeats):
    cmd = [str(REPO / "bin" / "gram"), "bench", "--op", "all", "--batch", str(batch), "--dim", str(dim),
           "--k", str(k), "--repeats", str(max(4 * repeats, 20)), "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = {r["op"]: r for r in (json.loads(line) for line in out.splitlines() if line.strip())}
    return rows["volume"], rows["loss-backward"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, nargs="+", default=[1024])
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()

    print(f"# {time.strftime('%Y-%m-%d')}  {platform.processor() or platform.machine()}  "
          f"cores={os.cpu_count()}  torch {torch.__version__} threads={torch.get_num_threads()}  float32")
    print(f"{'op':<15} {'shape':<20} {'PyTorch seed ms':>16} {'gram4j ms':>10} {'GEMM floor ms':>14} "
          f"{'speed-up':>9} {'gram4j/floor':>13}")
    for batch in args.batch:
        t_volume, t_loss = torch_times(batch, args.dim, args.k, args.repeats)
        g_volume, g_loss = gram4j_times(batch, args.dim, args.k, args.repeats)
        shape = f"B={batch} d={args.dim} k={args.k}"
        for op, t, g in (("volume", t_volume, g_volume), ("loss+backward", t_loss, g_loss)):
            print(f"{op:<15} {shape:<20} {t:>16.1f} {g['median_ms']:>10.1f} {g['floor_ms']:>14.1f} "
                  f"{t / g['median_ms']:>8.1f}x {g['ratio']:>13.2f}")


if __name__ == "__main__":
    main()
