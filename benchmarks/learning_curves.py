"""Learning curves to the plateau: how many iterations and CPU-seconds each algorithm
needs on glyphs before its validation accuracy plateaus, and what it reaches.

Each algorithm is trained once by ``innerloop.training.train`` exactly as the workflow's
train rule trains it: the task setting, network, outer loop, validation tasks, plateau rule
and algorithm options of ``--config`` (defaults filled in from the schema; the first entry
of task.shots), on the glyph store that config prepares. ``--iterations``, ``--val-every``
``--val-tasks`` and the plateau's ``--window``/``--delta``/``--patience`` override the config, so that a
short maximum budget can be measured. Per algorithm it prints the status (converged or
budget reached, with the last window's slope in percentage points per 1,000 iterations), the
iterations trained and the CPU-seconds they took (``time.process_time`` of this process,
validation included), the best validation accuracy and its iteration, and the untrained
reference: the same learner, freshly initialised, scored under its own evaluation protocol
on the same validation tasks (``innerloop.evaluation.reference.untrained_reference``).
``--curves FILE`` writes every validation point (algorithm, iteration, accuracy, ci95,
cpu_s).

Where a run stops does not change the curve before it, so one long run per algorithm
(``--patience`` larger than its validations: it never stops early) answers for every
rule: ``--replay FILE`` reads such curves and prints where the plateau rule of the config
and of the overrides stops each one, at what CPU-seconds, and the best validation up to it.

    python benchmarks/learning_curves.py [--algorithms maml metasgd] [--iterations 600]
        [--val-every 25] [--val-tasks 40] [--window 3] [--delta 0.005] [--patience 3] [--seed 0]
        [--store DIR] [--threads 1] [--curves curves.csv]
    python benchmarks/learning_curves.py --replay curves.csv [--window 5] [--delta 0.005] [--patience 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def plateau_of(config: dict, args) -> dict:
    """train.plateau of ``config`` with the overrides of ``args``."""
    overrides = {"window": args.window, "delta": args.delta, "patience": args.patience}
    return {**config["train"]["plateau"], **{k: v for k, v in overrides.items() if v is not None}}


def spec_from_config(config: dict, algorithm: str, seed: int, args) -> "RunSpec":
    """The workflow's RunSpec of ``algorithm`` (rules/common.smk run_spec) with the overrides of ``args``."""
    from innerloop.runs import RunSpec

    train, plateau = config["train"], plateau_of(config, args)
    iterations = args.iterations or train["iterations"]
    return RunSpec(dataset=config["dataset"], algorithm=algorithm, seed=seed, ways=config["task"]["ways"],
                   shots=config["task"]["shots"][0], queries=config["task"]["queries"],
                   filters=config["model"]["filters"], iterations=iterations, meta_batch=train["meta_batch"],
                   inner_steps=train["inner_steps"], outer_lr=train["outer_lr"],
                   val_every=args.val_every or train["val_every"], val_tasks=args.val_tasks or train["val_tasks"],
                   val_seed=config["evaluation"]["seed"], checkpoint_every=iterations + 1,
                   options=config["algorithm_options"].get(algorithm, {}), plateau=plateau)


def glyph_store(config: dict, directory: Path | None):
    """The store of the config's glyphs (prepared into ``directory`` unless it is there already)."""
    from innerloop.data.registry import prepare_dataset
    from innerloop.data.store import load_store

    if config["dataset"] != "glyphs":
        raise SystemExit(f"this benchmark runs on glyphs; the config trains on {config['dataset']!r}")
    directory = directory or ROOT / "results" / "benchmarks" / "learning_curves" / "glyphs"
    if not (directory / "manifest.json").is_file():
        print(f"preparing glyphs into {directory} ...", file=sys.stderr, flush=True)
        prepare_dataset("glyphs", config["datasets"]["glyphs"], directory)
    return load_store(directory)


class CpuClock:
    """``time.process_time`` at each validation call, so that each validation point has its CPU-seconds."""

    def __init__(self):
        import innerloop.training as training

        self.training, self.evaluate, self.start, self.marks = training, training.evaluate, 0.0, []

    def __enter__(self):
        self.start = time.process_time()

        def timed(*a, **k):
            scores = self.evaluate(*a, **k)
            self.marks.append(time.process_time() - self.start)
            return scores
        self.training.evaluate = timed
        return self

    def __exit__(self, *exc):
        self.training.evaluate = self.evaluate
        self.total = time.process_time() - self.start


def run(spec, store, device) -> tuple[dict, pd.DataFrame]:
    from innerloop.data.sampler import fixed_tasks
    from innerloop.evaluation.reference import untrained_reference
    from innerloop.training import train

    val_tasks = fixed_tasks(store, "val", spec.ways, spec.shots, spec.queries, seed=spec.val_seed, n=spec.val_tasks)
    reference = float(np.mean(untrained_reference(spec, store, val_tasks, device)))
    with tempfile.TemporaryDirectory() as tmp, CpuClock() as clock:
        tmp = Path(tmp)
        learner = train(spec, store, model_path=tmp / "model.pt", log_path=tmp / "log.csv",
                        validation_path=tmp / "val.csv", checkpoint_path=tmp / "ckpt.pt", device=device,
                        progress=False)
        curve = pd.read_csv(tmp / "val.csv")
    curve = curve.assign(cpu_s=clock.marks[:len(curve)])
    status = learner.training_status
    return {"algorithm": spec.algorithm, "status": status["status"], "iterations": status["iterations"],
            "cpu_s": clock.total, "best_iteration": status["best_iteration"], "best": status["best_score"],
            "untrained": reference, "slope": status["last_window_slope"]}, curve.assign(algorithm=spec.algorithm)


def replay(curves: pd.DataFrame, rule, budget: int | None) -> None:
    """Where ``rule`` stops each recorded curve (cut at ``budget`` iterations)."""
    from innerloop.convergence import plateau_reached, run_status

    print(f"{rule.describe()}; budget {budget or 'as recorded'}")
    print(f"{'algorithm':<15} {'status':<32} {'iters':>6} {'CPU s':>8} {'best it':>8} {'best val':>9} "
          f"{'pp/1k it':>9}")
    for name, c in curves.groupby("algorithm", sort=False):
        c = c.sort_values("iteration")
        if budget:
            c = c[c["iteration"] <= budget]
        scores = c["accuracy"].tolist()
        stop = next((k for k in range(1, len(scores) + 1) if plateau_reached(scores[:k], rule)), len(scores))
        c = c.iloc[:stop]
        status = run_status(c["iteration"], c["accuracy"], rule)
        print(f"{name:<15} {status['status']:<32} {status['iterations']:>6} {c['cpu_s'].iloc[-1]:>8.1f} "
              f"{status['best_iteration']:>8} {status['best_score']:>9.3f} {status['last_window_slope'] * 100:>+9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, nargs="+", default=[ROOT / "config" / "config.yaml"],
                        help="config files, later ones override (as snakemake --configfile)")
    parser.add_argument("--algorithms", nargs="+", default=["maml", "metasgd"])
    parser.add_argument("--iterations", type=int, default=None, help="maximum budget (default: train.iterations)")
    parser.add_argument("--val-every", type=int, default=None, help="default: train.val_every")
    parser.add_argument("--val-tasks", type=int, default=None, help="default: train.val_tasks")
    parser.add_argument("--window", type=int, default=None, help="default: train.plateau.window")
    parser.add_argument("--delta", type=float, default=None, help="default: train.plateau.delta")
    parser.add_argument("--patience", type=int, default=None, help="default: train.plateau.patience")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--store", type=Path, default=None, help="a prepared glyph store (else prepared once)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (a workflow job on the CPU: 1)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--curves", type=Path, default=None, help="write every validation point to this CSV")
    parser.add_argument("--replay", type=Path, default=None, help="apply the plateau rule to recorded curves")
    args = parser.parse_args()

    from innerloop.config import load_config
    from innerloop.convergence import PlateauRule
    from innerloop.training import resolve_device

    torch.set_num_threads(args.threads)
    config = load_config(*args.config)
    if args.replay:
        replay(pd.read_csv(args.replay), PlateauRule.from_config(plateau_of(config, args)), args.iterations)
        return
    store = glyph_store(config, args.store)
    device = resolve_device(args.device)
    first = spec_from_config(config, args.algorithms[0], args.seed, args)
    print(f"glyphs {first.ways}-way {first.shots}-shot, {first.queries} queries, Conv4 {first.filters} filters, "
          f"meta-batch {first.meta_batch}, {first.inner_steps} inner steps, Adam {first.outer_lr:g}; budget "
          f"{first.iterations} iterations, validation every {first.val_every} on {first.val_tasks} tasks; "
          f"{PlateauRule.from_config(first.plateau).describe()}; seed {args.seed}, {args.threads} thread(s), "
          f"{device}")
    print(f"{'algorithm':<15} {'status':<32} {'iters':>6} {'CPU s':>8} {'best it':>8} {'best val':>9} "
          f"{'untrained':>10} {'pp/1k it':>9}", flush=True)
    curves = []
    for name in args.algorithms:
        row, curve = run(spec_from_config(config, name, args.seed, args), store, device)
        curves.append(curve)
        print(f"{row['algorithm']:<15} {row['status']:<32} {row['iterations']:>6} {row['cpu_s']:>8.1f} "
              f"{row['best_iteration']:>8} {row['best']:>9.3f} {row['untrained']:>10.3f} {row['slope'] * 100:>+9.2f}",
              flush=True)
        if args.curves:  # after every algorithm, so that a long run's finished curves are kept
            pd.concat(curves, ignore_index=True).to_csv(args.curves, index=False)


if __name__ == "__main__":
    main()
