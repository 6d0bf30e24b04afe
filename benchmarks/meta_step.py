"""Meta-training step time and peak memory of MAML (second / first order) and Meta-SGD.

5-way 1-shot, 15 queries per class, meta-batch 4, 5 inner steps, Conv4 with 64 filters,
at 28x28 and 84x84, on random images (speed does not depend on the pixels). Each
configuration runs in its own process so that its peak memory is its own: peak resident
set size on the CPU, ``torch.cuda.max_memory_allocated`` on a GPU.

    python benchmarks/meta_step.py [--steps 10] [--device auto] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch

CONFIGS = [(name, size) for size in (28, 84) for name in ("maml", "fomaml", "metasgd")]
WAYS, SHOTS, QUERIES, META_BATCH, INNER_STEPS, FILTERS = 5, 1, 15, 4, 5, 64


def measure(name: str, size: int, steps: int, device: torch.device) -> dict:
    from innerloop.algorithms import build_learner
    from innerloop.data.sampler import Task
    from innerloop.models import Conv4, init_params

    generator = torch.Generator().manual_seed(0)
    model = Conv4(1, WAYS, FILTERS, size)
    algorithm, options = {"maml": ("maml", {}), "fomaml": ("maml", {"first_order": True}),
                          "metasgd": ("metasgd", {})}[name]
    if algorithm == "maml":
        options = {"inner_lr": 0.01, **options}
    learner = build_learner(algorithm, options, model=model, init=init_params(model, generator),
                            inner_steps=INNER_STEPS, generator=generator).to(device)
    optimiser = torch.optim.Adam(learner.meta_parameters().values(), lr=1e-3)
    tasks = [Task(torch.rand(WAYS * SHOTS, 1, size, size, generator=generator),
                  torch.arange(WAYS).repeat_interleave(SHOTS),
                  torch.rand(WAYS * QUERIES, 1, size, size, generator=generator),
                  torch.arange(WAYS).repeat_interleave(QUERIES), tuple(range(WAYS))).to(device)
             for _ in range(META_BATCH)]

    def step():
        optimiser.zero_grad(set_to_none=True)
        for task in tasks:
            loss, _ = learner.outer_loss(task)
            (loss / META_BATCH).backward()
        optimiser.step()
        if device.type == "cuda":
            torch.cuda.synchronize()

    step()  # warm-up
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    peak = (torch.cuda.max_memory_allocated() if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {"algorithm": name, "image_size": size, "device": str(device), "threads": torch.get_num_threads(),
            "median_step_s": statistics.median(times), "min_step_s": min(times), "peak_memory_mib": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10, help="timed meta-training steps per configuration")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--one", nargs=2, metavar=("ALGORITHM", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    from innerloop.training import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.steps, resolve_device(args.device))))
        return

    print(f"meta-training step: {WAYS}-way {SHOTS}-shot, {QUERIES} queries, meta-batch {META_BATCH}, "
          f"{INNER_STEPS} inner steps, Conv4 {FILTERS} filters; median of {args.steps} steps")
    print(f"{'algorithm':<10} {'size':>5} {'device':>8} {'step (s)':>10} {'min (s)':>9} {'peak MiB':>10}")
    for name, size in CONFIGS:
        cmd = [sys.executable, __file__, "--one", name, str(size), "--steps", str(args.steps), "--device", args.device]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        print(f"{r['algorithm']:<10} {r['image_size']:>5} {r['device']:>8} {r['median_step_s']:>10.3f} "
              f"{r['min_step_s']:>9.3f} {r['peak_memory_mib']:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
