"""BatchNorm's forward, first and second backward: PyTorch's against ``batch_norm_rows``.

Second-order MAML differentiates every support step's backward pass, so the batched Conv4
(:mod:`innerloop.models.batched`) takes BatchNorm's double backward once per block per inner
step. This times, on the matrix ``(rows, channels)`` that the batched Conv4 normalises,
``F.batch_norm`` (training mode) and :func:`innerloop.models.norm.batch_norm_rows` through
the same three passes: the forward, the first backward with ``create_graph`` and the backward
of a loss of its gradients. The rows are the support sets' ``N * H * W`` of blocks 1 to 4 at
``--sizes`` (5-way 1-shot: N = 5), the channels ``--tasks`` x ``--filters``. The two run
interleaved, ``--repeats`` times each, after one warm-up each, on ``--threads`` threads with
freed memory kept (as the workflow's jobs); the table gives medians and their ratio.

    python benchmarks/batch_norm.py [--sizes 28 84] [--tasks 4] [--filters 32] [--repeats 9] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.nn import functional as F

from innerloop.devices import keep_freed_memory
from innerloop.models.norm import batch_norm_rows

SUPPORT = 5  # 5-way 1-shot


def three_passes(norm, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, gy: torch.Tensor) -> None:
    y = norm(x, weight, bias)
    gx, gw, gb = torch.autograd.grad(y, (x, weight, bias), gy, create_graph=True)
    torch.autograd.grad((gx * gy).sum() + gw.sum() + gb.sum(), (x, weight))  # (gb does not depend on bias)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[28, 84])
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    keep_freed_memory()
    torch.set_num_threads(args.threads)
    norms = {"F.batch_norm": lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-5),
             "batch_norm_rows": lambda x, w, b: batch_norm_rows(x, w, b, 1e-5)}
    print(f"forward + first backward (create_graph) + second backward; {args.threads} threads; "
          f"median of {args.repeats}, interleaved")
    print("| image | block | rows x channels | F.batch_norm (ms) | batch_norm_rows (ms) | ratio |")
    print("|---|---|---|---|---|---|")
    generator = torch.Generator().manual_seed(0)
    for size in args.sizes:
        side = size
        for block in range(1, 5):
            rows, channels = SUPPORT * side * side, args.tasks * args.filters
            x = torch.randn(rows, channels, generator=generator).requires_grad_(True)
            weight = torch.rand(channels, generator=generator).requires_grad_(True)
            bias = torch.randn(channels, generator=generator).requires_grad_(True)
            gy = torch.randn(rows, channels, generator=generator)
            times: dict[str, list[float]] = {name: [] for name in norms}
            for norm in norms.values():
                three_passes(norm, x, weight, bias, gy)
            for _ in range(args.repeats):
                for name, norm in norms.items():
                    start = time.perf_counter()
                    three_passes(norm, x, weight, bias, gy)
                    times[name].append(time.perf_counter() - start)
            ours, theirs = statistics.median(times["batch_norm_rows"]), statistics.median(times["F.batch_norm"])
            print(f"| {size}x{size} | {block} | {rows} x {channels} | {theirs * 1e3:.2f} | {ours * 1e3:.2f} | "
                  f"{theirs / ours:.2f}x |", flush=True)
            side //= 2


if __name__ == "__main__":
    main()
