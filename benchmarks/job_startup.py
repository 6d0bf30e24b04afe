"""What a workflow job spends before its first computation: the interpreter, the imports,
loading the store and loading the trained model.

Each phase runs ``--repeats`` times, each time in a fresh interpreter (as a Snakemake job
starts), and the script prints the median wall and CPU seconds of each:

- ``interpreter``: ``python -c pass``;
- ``import torch``;
- ``job imports``: what an evaluation job imports (``innerloop.evaluation.run``, which
  imports the training, probe and CKA modules and torch);
- ``load store``: :func:`innerloop.data.store.load_store` of the store, its files' sha256
  checked, after the imports;
- ``load run``: :func:`innerloop.evaluation.run.load_run`, everything an evaluation job
  loads (the model, the store, the fixed test-task sampler), after the imports.

The store and the model are those of a finished default run (``--results``, ``results/``
by default), so run it after ``make report``, or name them::

    python benchmarks/job_startup.py [--repeats 5] [--store DIR] [--model FILE]

Compare the total with a job's CPU time in ``results/tables/rule_times.csv``.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

TIMED = """
import json, resource, time
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
{setup}
wall1, cpu1 = time.perf_counter(), cpu()
{timed}
print(json.dumps({{"wall": time.perf_counter() - wall1, "cpu": cpu() - cpu1}}))
"""


def phases(store: Path, model: Path) -> dict[str, tuple[str, str]]:
    """Phase name -> (set-up code, timed code), each run in its own interpreter."""
    imports = "import torch; import innerloop.evaluation.run"
    return {
        "import torch": ("", "import torch"),
        "job imports": ("", imports),
        "load store": (imports + "; from innerloop.data.store import load_store",
                       f"load_store({str(store)!r})"),
        "load run": (imports + "; from innerloop.evaluation.run import load_run",
                     f"load_run({str(model)!r}, {str(store)!r}, 2024, torch.device('cpu'))"),
    }


def measure(setup: str, timed: str) -> dict:
    code = TIMED.format(setup=setup, timed=timed)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def interpreter() -> dict:
    """``python -c pass`` as its parent sees it: wall and the child's CPU seconds."""
    import resource
    import time

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": time.perf_counter() - wall,
            "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)}


def find_run(results: Path) -> tuple[Path, Path]:
    """The store and a trained model of the default run under ``results``."""
    models = sorted(results.glob("runs/*/*/*/seed*/model.pt"))
    if not models:
        raise SystemExit(f"no trained model under {results}/runs: run `make report` first, or pass --store and --model")
    model = models[0]
    dataset = model.relative_to(results / "runs").parts[0]
    store = results / "data" / dataset
    if not (store / "manifest.json").is_file():
        raise SystemExit(f"no store of {dataset} at {store}: pass --store")
    return store, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--store", type=Path, help="a prepared store directory (default: the run's under --results)")
    parser.add_argument("--model", type=Path, help="a trained model.pt (default: the first run's under --results)")
    args = parser.parse_args()
    store, model = (args.store, args.model) if args.store and args.model else find_run(args.results)
    print(f"store {store}, model {model}; {args.repeats} fresh interpreters per phase; median seconds")
    rows = {"interpreter": [interpreter() for _ in range(args.repeats)]}
    for name, (setup, timed) in phases(store, model).items():
        rows[name] = [measure(setup, timed) for _ in range(args.repeats)]
    print(f"{'phase':<14} {'wall':>7} {'CPU':>7}")
    for name, samples in rows.items():
        wall = statistics.median(s["wall"] for s in samples)
        cpu = statistics.median(s["cpu"] for s in samples)
        print(f"{name:<14} {wall:7.2f} {cpu:7.2f}")


if __name__ == "__main__":
    main()
