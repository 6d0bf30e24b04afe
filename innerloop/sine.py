"""Few-shot sine-wave regression (Finn et al. 2017, Sec. 5.1; Huisman thesis Sec. 3.5).

A learner adapts the 1-40-40-1 ReLU network (:class:`~innerloop.models.MLP`) to the K
support points of a sine wave (:mod:`innerloop.data.sine`) and is scored by the mean
squared error on the query points::

    L_T(theta) = 1/|Q| sum_{(x, y) in Q} (f_theta(x) - y)^2

in the inner loop (support set) and the outer loop (query set) alike: the learner is
built by :func:`innerloop.algorithms.build_learner` and switched to regression
(``learner.regression = True``), so its loss and its metric are the MSE. Meta-training is
:func:`innerloop.training.fit`, the image runs' outer loop, on the sine sampler; a run is
described by a :class:`~innerloop.training.RunSpec` with ``dataset="sine"``, ``ways=1``,
``queries`` the query points per task and ``filters`` the width of the two hidden layers.

The thesis's two experiments, as data (the workflow's rules/sine.smk runs them):

* ``comparison`` (thesis Fig. 3.3): each configured algorithm on K-shot waves, scored on a
  fixed set of test tasks; the figure shows the median MSE over seeds.
* ``turtle_study`` (thesis Fig. 3.2): TURTLE on K-shot waves, first order (``fo_turtle``)
  and second order (``turtle``) x T inner steps x hidden layers of the update network,
  with the learning rates alpha of eq. 3.7 fixed, not learned (``learn_lr: false``,
  ``lr_init: alpha``), and the gradient as the only input of the update network, as in
  the thesis; first- and second-order MAML with the same T are the reference lines.
  Scored on fixed meta-validation tasks, as the thesis's figure is.

  The thesis fixes alpha = 1 with a randomly initialised update network. This
  repository's TURTLE starts its update network as g_phi(grad) = -grad, so alpha = 1 is
  plain gradient descent at rate 1, which diverges on this MLP (support losses reach
  inf within three steps on most tasks at T = 5). ``turtle_study.alpha`` therefore
  defaults to 0.01, MAML's inner learning rate: every TURTLE of the grid starts as its
  MAML reference line, and alpha is still a constant that scales g_phi's output.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from innerloop.algorithms import MetaLearner, build_learner
from innerloop.checkpoints import load_checked, save_checked
from innerloop.data.sine import SineSampler, sine_tasks
from innerloop.divergence import diverged_tasks, is_diverged
from innerloop.models import MLP, init_mlp
from innerloop.scoring import evaluate
from innerloop.training import RunSpec, fit

DATASET = "sine"
EXPERIMENTS = ("comparison", "turtle_study")
#: The split each experiment is scored on (the thesis's Fig. 3.2 shows meta-validation MSE).
EXPERIMENT_SPLIT = {"comparison": "test", "turtle_study": "val"}
#: What the TURTLE study fixes (the thesis): alpha not learned (its value is turtle_study.alpha),
#: the gradient as the only input of the update network.
TURTLE_STUDY_OPTIONS = {"learn_lr": False, "inputs": ["gradient"]}
ORDERS = ("first", "second")
#: (first order, second order) algorithm names of each family in the TURTLE study.
STUDY_ALGORITHMS = {"turtle": ("fo_turtle", "turtle"), "maml": ("fomaml", "maml")}


# --------------------------------------------------------------------------------------
# One run: build, train, save, load, evaluate
# --------------------------------------------------------------------------------------

def sine_spec(algorithm: str, seed: int, *, shots: int, queries: int | None, hidden_units: int,
              iterations: int, meta_batch: int, inner_steps: int, outer_lr: float, val_every: int,
              val_tasks: int, val_seed: int, checkpoint_every: int, options: dict | None = None,
              plateau: dict | None = None) -> RunSpec:
    """The :class:`RunSpec` of one sine run (``queries`` None: K query points, as Finn et al.;
    ``plateau``: the plateau rule on the validation MSE, None its defaults)."""
    return RunSpec(dataset=DATASET, algorithm=algorithm, seed=seed, ways=1, shots=shots,
                   queries=shots if queries is None else queries, filters=hidden_units, iterations=iterations,
                   meta_batch=meta_batch, inner_steps=inner_steps, outer_lr=outer_lr, val_every=val_every,
                   val_tasks=val_tasks, val_seed=val_seed, checkpoint_every=checkpoint_every,
                   options=dict(options or {}), plateau=dict(plateau or {}))


def _check_spec(spec: RunSpec) -> None:
    if spec.dataset != DATASET or spec.ways != 1:
        raise ValueError(f"not a sine run: dataset={spec.dataset!r}, ways={spec.ways} (expected 'sine', 1)")


def build_sine_run(spec: RunSpec, *, smooth: bool = False) -> MetaLearner:
    """The freshly initialised regression learner of ``spec`` (on the CPU).

    The MLP (hidden width ``spec.filters``) and every random initialisation of the
    learner come from one generator seeded with ``spec.seed``.
    """
    _check_spec(spec)
    generator = torch.Generator().manual_seed(spec.seed)
    model = MLP(hidden=(spec.filters, spec.filters), smooth=smooth)
    init = init_mlp(model, generator)
    learner = build_learner(spec.algorithm, spec.options, model=model, init=init, inner_steps=spec.inner_steps,
                            generator=generator, n_classes=0)
    learner.regression = True
    return learner


def train_sine(
    spec: RunSpec,
    *,
    model_path: Path,
    log_path: Path,
    validation_path: Path,
    checkpoint_path: Path,
    device: torch.device | str = "cpu",
    progress: bool = True,
    stop_after: int | None = None,
) -> MetaLearner:
    """Meta-train ``spec`` on sine waves (resuming from ``checkpoint_path``); save the model.

    Meta-training task ``i`` is task ``i`` of the ``train`` sampler seeded with
    ``spec.seed``; validation is the mean MSE on the first ``spec.val_tasks`` tasks of the
    ``val`` split seeded with ``spec.val_seed``. The logs (``iteration, loss, mse``; and
    ``iteration, mse, ci95``) are written by :func:`innerloop.training.fit`.
    """
    device = torch.device(device)
    learner = build_sine_run(spec).to(device)
    sampler = SineSampler("train", spec.shots, spec.queries, seed=spec.seed)
    val_tasks = sine_tasks("val", spec.shots, spec.queries, seed=spec.val_seed, n=spec.val_tasks)
    fit(learner, spec, sampler, val_tasks, log_path=log_path, validation_path=validation_path,
        checkpoint_path=checkpoint_path, device=device, progress=progress, stop_after=stop_after)
    save_sine_model(model_path, learner, spec, learner.training_status)
    return learner


def save_sine_model(path: Path, learner: MetaLearner, spec: RunSpec, status: dict) -> None:
    save_checked({"spec": asdict(spec), "state": learner.state_dict(), "status": status}, path)


def load_sine_model(path: Path, device: torch.device | str = "cpu") -> tuple[MetaLearner, RunSpec, dict]:
    """The learner saved by :func:`train_sine`, its spec and its training status."""
    saved = load_checked(path, what="model")
    spec = RunSpec(**saved["spec"])
    learner = build_sine_run(spec)
    learner.load_state_dict(saved["state"])
    return learner.to(device), spec, saved["status"]


def evaluate_sine(learner: MetaLearner, *, split: str = "test", shots: int, queries: int | None, seed: int,
                  n_tasks: int, device: torch.device | str = "cpu", steps: int | None = None) -> np.ndarray:
    """Query MSE after adaptation on each of the first ``n_tasks`` tasks of ``split`` (seed
    ``seed``): the same fixed tasks for every algorithm and run. ``steps`` None: the
    learner's ``eval_steps``."""
    if not learner.regression:
        raise ValueError("evaluate_sine needs a regression learner (learner.regression = True)")
    tasks = SineSampler(split, shots, queries, seed).tasks(n_tasks)
    return evaluate(learner, tasks, torch.device(device), steps=steps)


# --------------------------------------------------------------------------------------
# The experiments
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    """One configuration of an experiment (trained once per seed)."""

    algorithm: str
    inner_steps: int
    options: dict[str, Any] = field(default_factory=dict)
    #: "first" or "second": the order of the meta-gradient.
    order: str = "second"
    #: Hidden layers of TURTLE's update network; None for other algorithms.
    hidden_layers: int | None = None
    #: "compared" (the comparison), "turtle" (a grid point of the study) or "reference" (its MAML lines).
    role: str = "compared"


def _order(algorithm: str, options: dict) -> str:
    first = algorithm.startswith("fo") or bool(options.get("first_order", False))
    return "first" if first else "second"


def comparison_variants(sine: dict) -> dict[str, Variant]:
    """Variant name -> :class:`Variant` of the method comparison (thesis Fig. 3.3): every
    algorithm of ``sine["comparison"]["algorithms"]`` with its ``sine["algorithm_options"]``
    and ``sine["inner_steps"]`` steps (unless its options set their own ``inner_steps``, as
    the enhanced meta-learner LSTM's 8 updates per task)."""
    out = {}
    for algorithm in sine["comparison"]["algorithms"]:
        options = dict(sine["algorithm_options"].get(algorithm, {}))
        steps = options.get("inner_steps")
        out[algorithm] = Variant(algorithm=algorithm, inner_steps=sine["inner_steps"] if steps is None else steps,
                                 options=options,
                                 order=_order(algorithm, options),
                                 hidden_layers=options.get("hidden_layers") if "turtle" in algorithm else None)
    return out


def turtle_study_variants(sine: dict) -> dict[str, Variant]:
    """Variant name -> :class:`Variant` of the TURTLE study (thesis Fig. 3.2).

    The grid is ``orders x inner_steps x hidden_layers`` of ``sine["turtle_study"]``;
    TURTLE's options are ``sine["algorithm_options"]`` with the thesis's fixed choices
    (:data:`TURTLE_STUDY_OPTIONS`, ``lr_init`` = the study's ``alpha``) and the grid's
    hidden layers. The references are first-order (``fomaml``) and second-order
    (``maml``) MAML for every order and T.
    Names: ``turtle-t5-h3``, ``fo_turtle-t1-h1``, ``maml-t5``, ``fomaml-t1``.
    """
    study, options = sine["turtle_study"], sine["algorithm_options"]
    out = {}
    for order in study["orders"]:
        if order not in ORDERS:
            raise ValueError(f"sine.turtle_study.orders: unknown order {order!r}; expected one of {list(ORDERS)}")
        second = order == "second"
        turtle, maml = (STUDY_ALGORITHMS[family][second] for family in ("turtle", "maml"))
        for steps in study["inner_steps"]:
            for layers in study["hidden_layers"]:
                opts = {**options.get(turtle, {}), **TURTLE_STUDY_OPTIONS, "lr_init": study["alpha"],
                        "hidden_layers": layers}
                if second:
                    opts["first_order"] = False
                out[f"{turtle}-t{steps}-h{layers}"] = Variant(turtle, steps, opts, order, layers, "turtle")
            opts = dict(options.get(maml, {}))
            if second:
                opts["first_order"] = False
            out[f"{maml}-t{steps}"] = Variant(maml, steps, opts, order, None, "reference")
    return out


def experiment_variants(sine: dict, experiment: str) -> dict[str, Variant]:
    """The variants of ``experiment`` ("comparison" or "turtle_study") under config block ``sine``."""
    if experiment == "comparison":
        return comparison_variants(sine)
    if experiment == "turtle_study":
        return turtle_study_variants(sine)
    raise ValueError(f"unknown sine experiment {experiment!r}; expected one of {list(EXPERIMENTS)}")


def variant_spec(sine: dict, experiment: str, variant: str, seed: int) -> RunSpec:
    """The :class:`RunSpec` of one run of an experiment under config block ``sine``."""
    variants = experiment_variants(sine, experiment)
    if variant not in variants:
        raise ValueError(f"sine experiment {experiment!r} has no variant {variant!r}; known: {sorted(variants)}")
    v = variants[variant]
    return sine_spec(v.algorithm, seed, shots=sine["shots"], queries=sine["queries"],
                     hidden_units=sine["hidden_units"], iterations=sine["iterations"], meta_batch=sine["meta_batch"],
                     inner_steps=v.inner_steps, outer_lr=sine["outer_lr"], val_every=sine["val_every"],
                     val_tasks=sine["val_tasks"], val_seed=sine["eval_seed"],
                     checkpoint_every=sine["checkpoint_every"], options=v.options, plateau=sine.get("plateau"))


#: Directory of one run of an experiment (the workflow's layout, rules/sine.smk).
RUN_DIR = "results/sine/{experiment}/{variant}/seed{seed}"


def run_files(sine: dict, experiment: str, filename: str) -> list[str]:
    """``RUN_DIR/filename`` of every run of ``experiment``: variant x seed."""
    return [f"{RUN_DIR}/{filename}".format(experiment=experiment, variant=variant, seed=seed)
            for variant in experiment_variants(sine, experiment) for seed in sine["seeds"]]


def run_identity(sine: dict, experiment: str, variant: str, seed: int) -> dict[str, Any]:
    """The columns that say which run a per-task MSE table belongs to (``hidden_layers``
    None for algorithms without an update network)."""
    v = experiment_variants(sine, experiment)[variant]
    return {"experiment": experiment, "variant": variant, "algorithm": v.algorithm, "role": v.role,
            "order": v.order, "inner_steps": v.inner_steps, "hidden_layers": v.hidden_layers, "seed": seed,
            "split": EXPERIMENT_SPLIT[experiment]}


def evaluation_settings(sine: dict, experiment: str) -> dict[str, Any]:
    """Where the runs of ``experiment`` are scored: keywords of :func:`evaluate_sine`
    (split, K, query points, seed and number of the fixed tasks)."""
    return {"split": EXPERIMENT_SPLIT[experiment], "shots": sine["shots"], "queries": sine["eval_queries"],
            "seed": sine["eval_seed"], "n_tasks": sine["eval_tasks"]}


def score_run(learner: MetaLearner, identity: dict[str, Any], evaluation: dict[str, Any],
              device: torch.device | str = "cpu") -> pd.DataFrame:
    """One row per fixed evaluation task: the run's ``identity`` columns, ``task``, ``mse``.

    A run that diverged in training is not evaluated: its MSEs are NaN and a ``status``
    column says ``diverged`` (:mod:`innerloop.divergence`)."""
    if is_diverged(getattr(learner, "training_status", None)):
        table = diverged_tasks(evaluation["n_tasks"], "mse")
    else:
        mse = evaluate_sine(learner, device=device, **evaluation)
        table = pd.DataFrame({"task": np.arange(len(mse)), "mse": mse})
    for i, (key, value) in enumerate(identity.items()):
        table.insert(i, key, pd.NA if value is None else value)
    return table
