"""One MAML meta-step, side by side: innerloop (batched and per-task loop), learn2learn,
higher and a plain functional loop.

The step is the same in every implementation: Conv4 (``--filters``; BatchNorm with batch
statistics), 5-way 1-shot, 15 queries, meta-batch 4, 5 inner SGD steps at ``inner_lr``,
cross-entropy, the query loss's meta-gradient (second or first order) and one Adam step.
Each (implementation, image size, order, filters) is timed in its own process (peak
memory is that process's: peak resident set size, and its growth over the resident size
just before the first step), ``--steps`` steps after one warm-up step, on ``--threads``
threads. The implementations run interleaved, A B C D E for one configuration, then the
next configuration, and the whole round ``--repetitions`` times, so that drift of a
shared machine hits all alike; the table gives the median over all timed steps of all
rounds, the ratio of learn2learn's median to each one (above 1: faster than
learn2learn), and the fraction of the machine's fp32 matrix-product peak that the step
reaches (convolution and matrix-product FLOPs of the step, counted by
``torch.utils.flop_counter`` on the per-task loop, over the time; the peak is measured
here, as the best of a few 2048x2048 fp32 products on the same threads).

``--baseline PATH`` adds a column ``innerloop@baseline``: the batched path of the innerloop
checkout at ``PATH`` (a git worktree of an earlier commit, say), imported in place of this
one's, interleaved with the rest, so a change to the engine is measured before and after in
one run.

``--allocators`` runs every process under each of glibc's allocator settings named, as
its own column of the interleaving: ``default`` (glibc as it starts) and ``keep-freed``
(:func:`innerloop.devices.keep_freed_memory`, which every workflow job that runs torch turns
on through ``Job.threads()``: freed memory is reused instead of being unmapped and faulted in
again). The ratio to learn2learn is always to learn2learn under the same setting.

learn2learn and higher are optional (``pip install .[bench]``; see the README for
learn2learn on Python 3.11); a missing one is reported and skipped.

    python benchmarks/peers.py [--sizes 28 84] [--orders second first] [--filters 32 64]
                               [--steps 3] [--repetitions 2] [--threads 2]
                               [--allocators default keep-freed] [--baseline PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPLEMENTATIONS = ("innerloop", "innerloop_loop", "learn2learn", "higher", "functional")
BASELINE = "innerloop@baseline"  # the batched path of the checkout given by --baseline
WAYS, SHOTS, QUERIES, META_BATCH, INNER_STEPS, INNER_LR, OUTER_LR = 5, 1, 15, 4, 5, 0.1, 1e-3


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def matmul_peak(threads: int, n: int = 2048, repeats: int = 5) -> float:
    """Best fp32 GFLOP/s of an n x n matrix product on ``threads`` threads."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(f) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def make_step(implementation: str, size: int, filters: int, second_order: bool):
    """``(step, count)``: a function that runs one meta-step, and one that counts its FLOPs."""
    import torch
    from torch.nn import functional as F

    from innerloop.algorithms import MAML
    from innerloop.data.sampler import Task
    from innerloop.models import Conv4, init_params

    generator = torch.Generator().manual_seed(0)
    model = Conv4(1, WAYS, filters, size)
    init = init_params(model, generator)
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(init[n])
    tasks = [Task(torch.rand(WAYS * SHOTS, 1, size, size, generator=generator),
                  torch.arange(WAYS).repeat_interleave(SHOTS),
                  torch.rand(WAYS * QUERIES, 1, size, size, generator=generator),
                  torch.arange(WAYS).repeat_interleave(QUERIES), tuple(range(WAYS))) for _ in range(META_BATCH)]

    if implementation.startswith("innerloop"):
        learner = MAML(model, init, inner_steps=INNER_STEPS, inner_lr=INNER_LR, first_order=not second_order)
        learner.batch_tasks = implementation == "innerloop"
        learner.cpu_batch_pixels = size * size  # the batched path at every size, to measure it
        optimiser = learner.make_optimiser(OUTER_LR)

        def step():
            optimiser.zero_grad(set_to_none=True)
            learner.accumulate_tasks(tasks, 1 / META_BATCH)
            optimiser.step()

    elif implementation == "learn2learn":
        import learn2learn as l2l

        maml = l2l.algorithms.MAML(model, lr=INNER_LR, first_order=not second_order)
        optimiser = torch.optim.Adam(maml.parameters(), lr=OUTER_LR)

        def step():
            optimiser.zero_grad(set_to_none=True)
            for task in tasks:
                clone = maml.clone()
                for _ in range(INNER_STEPS):
                    clone.adapt(F.cross_entropy(clone(task.support_x), task.support_y))
                (F.cross_entropy(clone(task.query_x), task.query_y) / META_BATCH).backward()
            optimiser.step()

    elif implementation == "higher":
        import higher

        optimiser = torch.optim.Adam(model.parameters(), lr=OUTER_LR)
        inner = torch.optim.SGD(model.parameters(), lr=INNER_LR)

        def step():
            optimiser.zero_grad(set_to_none=True)
            for task in tasks:
                with higher.innerloop_ctx(model, inner, copy_initial_weights=False,
                                          track_higher_grads=second_order) as (fmodel, diffopt):
                    for _ in range(INNER_STEPS):
                        diffopt.step(F.cross_entropy(fmodel(task.support_x), task.support_y))
                    (F.cross_entropy(fmodel(task.query_x), task.query_y) / META_BATCH).backward()
            optimiser.step()

    elif implementation == "functional":
        from torch.func import functional_call

        params = dict(model.named_parameters())
        optimiser = torch.optim.Adam(params.values(), lr=OUTER_LR)

        def step():
            optimiser.zero_grad(set_to_none=True)
            for task in tasks:
                fast = dict(params)
                for _ in range(INNER_STEPS):
                    loss = F.cross_entropy(functional_call(model, fast, (task.support_x,)), task.support_y)
                    grads = torch.autograd.grad(loss, list(fast.values()), create_graph=second_order)
                    fast = {n: p - INNER_LR * g for (n, p), g in zip(fast.items(), grads)}
                (F.cross_entropy(functional_call(model, fast, (task.query_x,)), task.query_y) / META_BATCH).backward()
            optimiser.step()

    else:
        raise ValueError(f"unknown implementation {implementation!r}")

    def count() -> int:
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as counter:
            step()
        return counter.get_total_flops()

    return step, count


ALLOCATORS = ("default", "keep-freed")


def measure(implementation: str, size: int, filters: int, second_order: bool, steps: int, threads: int,
            flops: bool, allocator: str = "default") -> dict:
    if allocator == "keep-freed":
        from innerloop.devices import keep_freed_memory

        if not keep_freed_memory():
            raise RuntimeError("keep-freed needs glibc's malloc (Linux)")
    import torch

    torch.set_num_threads(threads)
    step, count = make_step(implementation, size, filters, second_order)
    step()  # warm-up
    before = resident_bytes()
    times = [_timed(step) for _ in range(steps)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"times": times, "peak_mib": peak / 2**20, "growth_mib": (peak - before) / 2**20,
            "flops": count() if flops else None}


def available(implementation: str) -> str | None:
    """None when ``implementation`` can run here, else why not."""
    module = {"learn2learn": "learn2learn", "higher": "higher"}.get(implementation)
    if module is None:
        return None
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, cwd="/")
    return None if done.returncode == 0 else f"{module} is not installed ({(done.stderr.strip().splitlines() or [''])[-1]})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[28, 84])
    parser.add_argument("--orders", nargs="+", choices=["second", "first"], default=["second", "first"])
    parser.add_argument("--filters", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per process, after one warm-up step")
    parser.add_argument("--repetitions", type=int, default=2, help="interleaved rounds over all implementations")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--implementations", nargs="+", choices=IMPLEMENTATIONS, default=list(IMPLEMENTATIONS))
    parser.add_argument("--allocators", nargs="+", choices=ALLOCATORS, default=["default"],
                        help="glibc allocator settings, each its own column (see the docstring)")
    parser.add_argument("--baseline", type=Path, help="an innerloop checkout whose batched path is timed too")
    parser.add_argument("--allocator", choices=ALLOCATORS, default="default", help=argparse.SUPPRESS)
    parser.add_argument("--one", nargs=4, metavar=("IMPLEMENTATION", "SIZE", "FILTERS", "ORDER"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--flops", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        implementation, size, filters, order = args.one
        print(json.dumps(measure(implementation, int(size), int(filters), order == "second", args.steps,
                                 args.threads, args.flops, args.allocator)))
        return

    skipped = {i: why for i in args.implementations if (why := available(i))}
    implementations = [i for i in args.implementations if i not in skipped]
    if args.baseline is not None:
        if not (args.baseline / "innerloop" / "__init__.py").is_file():
            parser.error(f"--baseline {args.baseline}: no innerloop package there")
        implementations.append(BASELINE)
    for i, why in skipped.items():
        print(f"skipped {i}: {why}")
    peak = matmul_peak(args.threads)
    configs = [(s, f, o) for s in args.sizes for o in args.orders for f in args.filters]
    columns = [(i, a) for a in args.allocators for i in implementations]
    results: dict = {(c, column): {"times": [], "peak_mib": [], "growth_mib": []} for c in configs for column in columns}
    flops: dict = {}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": str(args.threads)}
    baseline_env = {**env, "PYTHONPATH": os.pathsep.join([str(args.baseline), os.environ.get("PYTHONPATH", "")])}
    print(f"MAML meta-step: Conv4, {WAYS}-way {SHOTS}-shot, {QUERIES} queries, meta-batch {META_BATCH}, "
          f"{INNER_STEPS} inner steps; {args.threads} threads; {args.steps} timed steps per process, "
          f"{args.repetitions} interleaved rounds; allocator {', '.join(args.allocators)}; "
          f"fp32 matmul peak {peak:.0f} GFLOP/s", flush=True)
    for repetition in range(args.repetitions):
        for config in configs:
            size, filters, order = config
            for implementation, allocator in columns:
                count = implementation == "innerloop_loop" and config not in flops
                cmd = [sys.executable, __file__, "--one", "innerloop" if implementation == BASELINE else implementation,
                       str(size), str(filters), order,
                       "--steps", str(args.steps), "--threads", str(args.threads), "--allocator", allocator]
                cmd += ["--flops"] if count else []
                done = subprocess.run(cmd, capture_output=True, text=True, cwd="/",
                                      env=baseline_env if implementation == BASELINE else env)
                if done.returncode != 0:
                    print(f"{implementation} {config} failed: {(done.stderr.strip().splitlines() or [''])[-1]}",
                          flush=True)
                    continue
                r = json.loads(done.stdout.strip().splitlines()[-1])
                entry = results[(config, (implementation, allocator))]
                entry["times"] += r["times"]
                entry["peak_mib"].append(r["peak_mib"])
                entry["growth_mib"].append(r["growth_mib"])
                if r["flops"] is not None:
                    flops[config] = r["flops"]
                print(f"  {size}x{size} {order} order, {filters} filters, {implementation} ({allocator}): median "
                      f"{statistics.median(r['times']):.3f} s, peak {r['peak_mib']:.0f} MiB", flush=True)
        print(f"round {repetition + 1} of {args.repetitions} done", flush=True)

    print()
    print(f"| size | order | filters | allocator | implementation | median step (s) | learn2learn / this | "
          f"fraction of fp32 peak | peak RSS (MiB) | growth over start (MiB) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for config in configs:
        size, filters, order = config
        for implementation, allocator in columns:
            entry = results[(config, (implementation, allocator))]
            if not entry["times"]:
                continue
            base = results.get((config, ("learn2learn", allocator)), {}).get("times")
            median = statistics.median(entry["times"])
            ratio = f"{statistics.median(base) / median:.2f}x" if base else "n/a"
            fraction = f"{flops[config] / median / 1e9 / peak:.1%}" if config in flops else "n/a"
            print(f"| {size}x{size} | {order} | {filters} | {allocator} | {implementation} | {median:.3f} | {ratio} | "
                  f"{fraction} | {max(entry['peak_mib']):.0f} | {max(entry['growth_mib']):.0f} |")
    for config, count in flops.items():
        print(f"FLOPs of one step at {config[0]}x{config[0]}, {config[2]} order, {config[1]} filters: "
              f"{count / 1e9:.1f} GFLOP (convolutions and matrix products)")


if __name__ == "__main__":
    main()
