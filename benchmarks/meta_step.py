"""Meta-training step time and peak memory of every algorithm.

One meta-training step is exactly what ``innerloop.training.fit`` does per iteration:
``learner.accumulate_tasks(tasks, 1 / meta_batch)`` for the tasks of a meta-batch (one
batch, or task by task with ``--loop``), then the learner's own optimiser's ``step()``. The
task setting (ways, first entry of shots, queries, meta-batch, inner steps) and each
algorithm's options come from the workflow's config (``--config``: files merged as
Snakemake merges them, defaults filled in from the schema); the network is Conv4 with
``--filters`` filters (default 32, as the default config) on random ``--sizes`` images
(default 28x28; 84 is the paper's miniImageNet size), since speed does not depend on the
pixels. Each (algorithm, size) runs in its own process so that its peak memory is its
own: peak resident set size on the CPU, ``torch.cuda.max_memory_allocated`` on a GPU.
Each process keeps freed memory, as the workflow's jobs do (``innerloop.devices``).
Algorithms the schema knows but ``innerloop.algorithms.ALGORITHMS`` does not register yet
are skipped with a note, and so is a learner that is not meta-trained (train from scratch).

    python benchmarks/meta_step.py [--steps 10] [--sizes 28 84] [--filters 32] [--device auto]
                                   [--threads N] [--algorithms maml metasgd ...] [--loop]
                                   [--config config/config.yaml config/presets/omniglot.yaml]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
N_CLASSES = 64  # classes of the (pretend) store: the width of the transfer baselines' pre-training head


def setting(config_paths: list[Path]) -> dict:
    """The workflow's task setting and algorithm options, defaults filled in."""
    from innerloop.config import load_config

    # The datasets' directories are not checked: the steps run on random images.
    config = load_config(*config_paths, sources=False)
    return {"ways": config["task"]["ways"], "shots": config["task"]["shots"][0],
            "queries": config["task"]["queries"], "meta_batch": config["train"]["meta_batch"],
            "inner_steps": config["train"]["inner_steps"], "outer_lr": config["train"]["outer_lr"],
            "options": config["algorithm_options"]}


def random_store(size: int, per_class: int):
    """A training split of N_CLASSES classes of ``per_class`` random ``size`` x ``size``
    images (speed does not depend on the pixels), for the learners' ``training_data``."""
    import numpy as np
    import pandas as pd

    from innerloop.data.store import Store

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(N_CLASSES * per_class, 1, size, size), dtype=np.uint8)
    classes = pd.DataFrame({"class_id": range(N_CLASSES), "name": [f"c{i}" for i in range(N_CLASSES)],
                            "alphabet": "random", "split": "train"})
    return Store(images, np.repeat(np.arange(N_CLASSES), per_class), classes, {"dataset": "random"}, ROOT)


def measure(name: str, size: int, filters: int, steps: int, device: torch.device, config_paths: list[Path],
            loop: bool = False) -> dict:
    """Median and minimum seconds of ``steps`` timed meta-training steps after one warm-up step."""
    from innerloop.algorithms import build_learner
    from innerloop.models import Conv4, init_params
    from innerloop.runs import RunSpec

    s = setting(config_paths)
    ways, shots, queries = s["ways"], s["shots"], s["queries"]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    generator = torch.Generator().manual_seed(0)
    model = Conv4(1, ways, filters, size)
    learner = build_learner(name, s["options"].get(name, {}), model=model, init=init_params(model, generator),
                            inner_steps=s["inner_steps"], generator=generator, n_classes=N_CLASSES).to(device)
    result = {"algorithm": name, "image_size": size, "filters": filters, "device": str(device),
              "threads": torch.get_num_threads()}
    if not learner.meta_trained:
        return {**result, "note": "not meta-trained: no meta-training step"}
    learner.batch_tasks = not loop
    optimiser = learner.make_optimiser(s["outer_lr"])
    # The meta-batch the learner's own training_data gives fit's first iteration: episodes for
    # the meta-learners; labelled batches for those that pre-train (finetune and Baseline++ one
    # mini-batch, multitask each task's images under their global labels).
    spec = RunSpec(dataset="random", algorithm=name, seed=0, ways=ways, shots=shots, queries=queries,
                   filters=filters, iterations=1, meta_batch=s["meta_batch"], inner_steps=s["inner_steps"],
                   outer_lr=s["outer_lr"], val_every=1, val_tasks=1, val_seed=1, checkpoint_every=1,
                   options=s["options"].get(name, {}))
    source, spec = learner.training_data(random_store(size, shots + queries), spec)
    tasks = [source.task(i).to(device) for i in range(spec.meta_batch)]
    result["note"] = "batched" if learner.batches(tasks) else "per-task loop"

    def step():
        optimiser.zero_grad(set_to_none=True)
        learner.accumulate_tasks(tasks, 1 / len(tasks))
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
    if device.type == "cuda":
        peak, extra = torch.cuda.max_memory_allocated(), float("nan")
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        extra = peak - rss_before
    return {**result, "median_step_s": statistics.median(times), "min_step_s": min(times),
            "peak_memory_mib": peak / 2**20, "peak_over_start_mib": extra / 2**20, "note": result["note"]}


def expected_algorithms() -> list[str]:
    """Every algorithm the config schema accepts, in its order."""
    from innerloop.config import load_schema

    return list(load_schema()["properties"]["algorithms"]["items"]["enum"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10, help="timed meta-training steps per configuration")
    parser.add_argument("--sizes", type=int, nargs="+", default=[28], help="image sizes (84: miniImageNet's)")
    parser.add_argument("--filters", type=int, default=32, help="Conv4 filters (the default config's 32)")
    parser.add_argument("--algorithms", nargs="+", default=None, help="default: every algorithm of the schema")
    parser.add_argument("--config", type=Path, nargs="+", default=[ROOT / "config" / "config.yaml"],
                        help="task setting and algorithm options: config files merged left to right, as "
                             "Snakemake's --configfile (e.g. config/config.yaml config/presets/omniglot.yaml)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--loop", action="store_true", help="one task at a time (the reference loop), not batched")
    parser.add_argument("--one", nargs=2, metavar=("ALGORITHM", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    from innerloop.training import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.one:
        from innerloop.devices import keep_freed_memory

        keep_freed_memory()  # as every job of the workflow does
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.filters, args.steps,
                                 resolve_device(args.device), args.config, args.loop)))
        return

    from innerloop.algorithms import ALGORITHMS

    s = setting(args.config)
    print(f"meta-training step: {s['ways']}-way {s['shots']}-shot, {s['queries']} queries, meta-batch "
          f"{s['meta_batch']}, {s['inner_steps']} inner steps, Conv4 {args.filters} filters; median of "
          f"{args.steps} steps after one warm-up; one process per row")
    print(f"{'algorithm':<15} {'size':>5} {'device':>7} {'step (s)':>9} {'min (s)':>8} {'peak MiB':>9} "
          f"{'+MiB':>7}  note")
    for name in args.algorithms or expected_algorithms():
        if name not in ALGORITHMS:
            print(f"{name:<15} {'':>5} {'':>7} {'':>9} {'':>8} {'':>9} {'':>7}  skipped: not registered in "
                  "innerloop.algorithms.ALGORITHMS", flush=True)
            continue
        for size in args.sizes:
            cmd = [sys.executable, __file__, "--one", name, str(size), "--steps", str(args.steps), "--device",
                   args.device, "--filters", str(args.filters), "--config", *map(str, args.config)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            if args.loop:
                cmd.append("--loop")
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                print(f"{name:<15} {size:>5} {'':>7} {'':>9} {'':>8} {'':>9} {'':>7}  failed: {last}", flush=True)
                continue
            r = json.loads(done.stdout)
            if "median_step_s" not in r:
                print(f"{name:<15} {size:>5} {r['device']:>7} {'':>9} {'':>8} {'':>9} {'':>7}  {r['note']}",
                      flush=True)
                continue
            extra = "" if r["peak_over_start_mib"] != r["peak_over_start_mib"] else f"{r['peak_over_start_mib']:.0f}"
            print(f"{name:<15} {size:>5} {r['device']:>7} {r['median_step_s']:>9.3f} {r['min_step_s']:>8.3f} "
                  f"{r['peak_memory_mib']:>9.0f} {extra:>7}  {r['note']}", flush=True)
    print("peak MiB: peak resident set size of the process (CPU) or peak CUDA memory allocated (GPU); "
          "+MiB (CPU): growth of the peak from just before the learner was built")


if __name__ == "__main__":
    main()
