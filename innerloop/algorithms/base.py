"""What every meta-learner shares: its declaration, meta-parameters, the engine's choices, the
outer loop's hooks.

Each learner class declares itself: its config ``name``, its ``label`` in figures and
tables, its ``order`` there, its ``family`` (the block of the tables), its ``color``,
whether its learned inner learning rates are reported (``learns_rates``), which of the
config's restricted algorithm lists offer it (``sine_comparison``, ``inner_steps_sweep``)
and ``Options``, a frozen dataclass of its config options (``algorithm_options.<name>`` in
config/schema.yaml) with their defaults. :meth:`MetaLearner.from_config` fills a config's options from ``Options``.
A class that declares its own ``name`` is registered: :mod:`innerloop.algorithms` finds it in
its module and derives its tables from these declarations, and config/schema.yaml's algorithm
lists and any options block it lacks are derived from them (innerloop.catalog).

A learner holds the meta-initialisation ``theta`` (``self.init``) plus whatever else the
outer loop learns, in named groups in ``self.extra`` (Meta-SGD's rates, TURTLE's update
network, ...). A subclass states its choices by overriding

* ``adapts`` (which tensors move in the inner loop) and ``step`` (how one tensor moves);
  the loop itself is :func:`innerloop.algorithms.engine.adapt`;
* ``predict`` (the output of the network for given tensors: Conv4's linear head by
  default, a cosine head for Baseline++);
* the outer loop's hooks: ``accumulate`` (add one task's contribution to the
  meta-gradients: backward of the query loss by default, Reptile's interpolation
  direction), ``make_optimiser`` (Adam by default; hypergradient SGD for Alpha-MAML) and
  ``log_values`` (extra per-iteration log columns).

Every learner can clip its meta-gradient: with ``clip_grad_norm`` set (config option
``clip_grad_norm`` of any algorithm, off by default), :meth:`clip_meta_gradient` rescales
the accumulated ``.grad`` of all meta-parameters together to that norm before the outer
update (``torch.nn.utils.clip_grad_norm_``).

Classification uses cross-entropy and accuracy; a learner built with
``regression=True`` (sine waves) uses the mean squared error for both.

Many tasks at once. ``adapt_batch``, ``predict_batch``, ``outer_loss_batch`` and
``accumulate_tasks`` do for a stack of tasks (:func:`stack_tasks`: every tensor with a
leading task axis) what ``adapt``, ``predict``, ``outer_loss`` and ``accumulate`` do for
one: the same engine, run once on per-task copies of the parameters with the batched
forward of :mod:`innerloop.models.batched`, so a meta-batch or an evaluation batch
costs one set of batched operations instead of one Python iteration per task. The
per-task methods stay the reference; with ``batch_tasks = False`` (or when
:meth:`batch_unsupported` gives a reason: another model, a learner whose adaptation has
no batched form) the batch methods run them task by task.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch.nn import functional as F

from innerloop.algorithms import engine
from innerloop.algorithms.engine import StepContext
from innerloop.data.sampler import Task
from innerloop.devices import keeps_freed_memory
from innerloop.models import Params, batched, forward

#: Separator between a meta-parameter's group ("init", "lr", ...) and its tensor name.
SEP = "/"
#: Per-task methods and the batch methods that must implement the same rule.
BATCH_COUNTERPARTS = (("adapt", "adapt_batch"), ("predict", "predict_batch"), ("loss", "loss_batch"),
                      ("metric", "metric_batch"), ("support_loss", "support_loss_batch"),
                      ("outer_loss", "outer_loss_batch"), ("accumulate", "accumulate_tasks"))


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """The options of a learner that has none besides ``clip_grad_norm`` (which every learner
    takes, see :func:`innerloop.algorithms.build_learner`)."""


def _defined_by(cls: type, method: str) -> type:
    """The class in ``cls``'s method resolution order that defines ``method``."""
    return next(c for c in cls.__mro__ if method in vars(c))


class MetaLearner:
    """Base class: a meta-initialisation adapted by the shared inner-loop engine."""

    # -- the declaration: every registered learner states its own name, label, order, family,
    # color and Options (tests/algorithms/test_declarations.py); the flags may be inherited --
    #: Config name: the algorithm enum and the ``algorithm_options`` key of config/schema.yaml.
    #: A subclass of this package that states its own ``name`` is registered (innerloop.algorithms).
    name = "base"
    #: Display name in figures and tables.
    label = ""
    #: Where tables and figures list it within its family (ascending; distinct across learners).
    order = 0
    #: Block of the tables (:data:`innerloop.stats.order.GROUP_LABELS`): "transfer" for the
    #: transfer-learning baselines of Chen et al. (2019), "meta" for the meta-learners.
    family = "meta"
    #: Colour of the algorithm in every figure.
    color = ""
    #: Whether :meth:`learning_rates` are learned inner rates, reported in Table 1 and Fig. 6.
    learns_rates = False
    #: Offered by the sine-wave comparison (config ``sine.comparison.algorithms``).
    sine_comparison = False
    #: Offered by the inner-steps sweep (config ``ablations.inner_steps.algorithms``).
    inner_steps_sweep = False
    #: The config options (beyond ``clip_grad_norm``) and their defaults, as constructor keywords.
    Options: type = NoOptions

    #: Whether the outer loop trains anything (False for train-from-scratch).
    meta_trained = True
    #: Cross-entropy/accuracy (False) or mean squared error (True, sine-wave regression).
    regression = False
    #: Whether meta-training differentiates through the adaptation (False: the transfer
    #: baselines, which adapt only at evaluation; ``meta_gradient`` then has no effect).
    meta_gradient_through_adaptation = True
    #: Adapt the tasks of a meta-batch or evaluation batch together (False: one at a time).
    batch_tasks = True
    #: Why this learner's adaptation has no batched form (None: it has one).
    no_batched_adaptation: str | None = None
    #: Largest input (values per example: channels x height x width) batched on the CPU
    #: while freed memory is returned to the system (see :meth:`batches`).
    cpu_batch_pixels = 32 * 32 * 3
    #: Largest norm of the meta-gradient (all meta-parameters together) at an outer update; None: no clip.
    clip_grad_norm: float | None = None

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, second_order: bool = True):
        if inner_steps < 0:
            raise ValueError(f"inner_steps must be >= 0, got {inner_steps}")
        self.model = model
        self.init = _leaves(init)
        self.inner_steps = inner_steps
        #: Adaptation steps at evaluation time (meta-test, probe) unless the caller says otherwise.
        self.eval_steps = inner_steps
        #: How meta-training differentiates through the inner gradients (engine.Gradient).
        self.gradient = engine.SECOND_ORDER if second_order else engine.FIRST_ORDER
        #: Further meta-parameter groups the outer loop learns, by name (e.g. {"lr": ...}).
        self.extra: dict[str, Params] = {}

    @property
    def second_order(self) -> bool:
        """Whether the meta-gradient differentiates through the inner gradients (second
        order or finite differences)."""
        return self.gradient.keeps_graph

    @classmethod
    def from_config(
        cls,
        options: dict,
        *,
        model: nn.Module,
        init: Params,
        inner_steps: int,
        generator: torch.Generator,
        n_classes: int = 0,
    ):
        """Build from the algorithm's config options (missing ones take :attr:`Options`' defaults).

        ``generator`` seeds any random initialisation beyond ``init``; ``n_classes`` is
        the number of classes in the dataset's store (for learners that pre-train a
        classifier over all meta-training classes). Learners that need either override
        this.
        """
        return cls(model, init, inner_steps=inner_steps, **cls.with_defaults(options))

    @classmethod
    def with_defaults(cls, options: dict) -> dict:
        """Config ``options`` completed from :attr:`Options`, as constructor keywords; an
        option :attr:`Options` does not list is a TypeError (as a constructor would raise)."""
        known = [f.name for f in dataclasses.fields(cls.Options)]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise TypeError(f"{cls.name}: unknown options {unknown}; its options are {known}")
        resolved = cls.Options(**options)
        return {key: getattr(resolved, key) for key in known}

    # -- the engine's choices -------------------------------------------------------
    def adapts(self, name: str) -> bool:
        """Whether parameter ``name`` moves in the inner loop (all of them by default)."""
        return True

    def step(self, name: str, param: torch.Tensor, grad: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        """One inner update of one tensor; see :data:`engine.StepRule`."""
        raise NotImplementedError

    def learning_rates(self) -> Params | None:
        """Per-element inner-loop learning rates, for algorithms that learn them."""
        return None

    # -- shared machinery ---------------------------------------------------------------
    def meta_parameters(self) -> dict[str, torch.Tensor]:
        """Everything the outer optimiser updates, flat and in a stable order."""
        groups = {"init": self.init, **self.extra}
        return {f"{g}{SEP}{n}": t for g, tensors in groups.items() for n, t in tensors.items()}

    def predict(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        """The network's output (logits, or regression values) with tensors ``params``."""
        return forward(self.model, params, x)

    def loss(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(output, y) if self.regression else F.cross_entropy(output, y)

    def metric(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Accuracy (classification) or mean squared error (regression), detached."""
        with torch.no_grad():
            if self.regression:
                return F.mse_loss(output, y)
            return (output.argmax(1) == y).float().mean()

    @property
    def metric_name(self) -> str:
        return "mse" if self.regression else "accuracy"

    def support_loss(self, x: torch.Tensor, y: torch.Tensor):
        """``params -> L_support(params)``; the images follow the parameters' precision
        (the finite-difference gradients may be taken in float64: ``engine.Gradient.dtype``)."""
        def loss(params: Params) -> torch.Tensor:
            dtype = next(iter(params.values())).dtype
            return self.loss(self.predict(params, x if x.dtype == dtype else x.to(dtype)), y)

        return loss

    def adapt(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        steps: int | None = None,
        params: Params | None = None,
        meta_gradient: bool = True,
    ) -> Params:
        """Adapt ``params`` (default: the meta-initialisation) to the support set (x, y).

        With ``meta_gradient=True`` the result stays differentiable with respect to the
        meta-parameters (to the order the learner was built with) and ``steps`` defaults
        to ``inner_steps``; with ``False`` it is a plain evaluation-time adaptation, the
        result is detached and ``steps`` defaults to ``eval_steps``.
        """
        return self._adapt(x, y, steps, params, meta_gradient)

    def _adapt(self, x: torch.Tensor, y: torch.Tensor, steps: int | None, params: Params | None,
               meta_gradient: bool, tasks: int | None = None) -> Params:
        """What :meth:`adapt` and :meth:`adapt_batch` share (``tasks``: the support sets and the
        result carry a leading task axis): where to start, the mode, the steps, the detaching."""
        meta_gradient = meta_gradient and self.meta_gradient_through_adaptation
        mode = engine.Mode.TRAINING if meta_gradient else engine.Mode.EVALUATION
        params = self.init if params is None else params
        if not meta_gradient:
            params = {n: p.detach() for n, p in params.items()}
        if steps is None:
            steps = self.inner_steps if meta_gradient else self.eval_steps
        if tasks is not None:
            params = batched.stack(params, tasks)
        adapted = self.inner_loop(params, x, y, steps=steps, mode=mode, tasks=tasks)
        if not meta_gradient:
            adapted = {n: p.detach() for n, p in adapted.items()}
        return adapted

    def inner_loop(self, params: Params, x: torch.Tensor, y: torch.Tensor, *, steps: int, mode: engine.Mode,
                   tasks: int | None) -> Params:
        """Adapted ``params`` (with the task axis when ``tasks``): the engine's loop on this
        learner's support loss, with its choices (``adapts``, ``step``, ``gradient``), on the
        tensors :meth:`pack` hands it. A learner whose adaptation is no inner loop
        (ProtoNet's prototypes) overrides this."""
        support_loss = self.support_loss(x, y) if tasks is None else self.support_loss_batch(x, y)
        names = [n for n in params if self.adapts(n)]
        with torch.enable_grad():
            adapted, _ = engine.adapt(
                lambda packed: support_loss({**params, **self.unpack(packed, params, names, tasks)}),
                self.pack(params, names, tasks),
                steps=steps,
                step=self.packed_step(names),
                adapts=lambda name: True,
                gradient=self.gradient,
                mode=mode,
            )
        return {**params, **self.unpack(adapted, params, names, tasks)}

    # -- how the engine sees the adapted tensors -------------------------------------------
    def pack(self, params: Params, names: list[str], tasks: int | None) -> Params:
        """The tensors the engine adapts, from the adapted tensors ``names`` of ``params``
        (by default those tensors themselves; a coordinate-wise learner packs them into one)."""
        return {n: params[n] for n in names}

    def unpack(self, packed: Params, params: Params, names: list[str], tasks: int | None) -> Params:
        """The adapted tensors ``names`` from the engine's ``packed`` ones (inverse of :meth:`pack`)."""
        return packed

    def packed_step(self, names: list[str]) -> engine.StepRule:
        """The step rule on the packed tensors (by default :meth:`step`)."""
        return self.step

    def outer_loss(self, task: Task) -> tuple[torch.Tensor, torch.Tensor]:
        """Query loss after adapting to the support set, and the query metric (detached)."""
        adapted = self.adapt(task.support_x, task.support_y)
        output = self.predict(adapted, task.query_x)
        return self.loss(output, task.query_y), self.metric(output, task.query_y)

    # -- many tasks at once ---------------------------------------------------------------
    def batch_unsupported(self) -> str | None:
        """Why the tasks cannot be adapted together here (None: they can).

        Besides a stated reason and the model, a subclass that overrides a per-task method
        (``adapt``, ``predict``, ...) without its batch counterpart keeps the loop, so a
        new learner is never batched with a rule it does not have.
        """
        if self.no_batched_adaptation:
            return self.no_batched_adaptation
        for one, many in BATCH_COUNTERPARTS:
            if _defined_by(type(self), one) is not _defined_by(type(self), many) and issubclass(
                    _defined_by(type(self), one), _defined_by(type(self), many)):
                return f"{type(self).__name__} overrides {one} but not {many}"
        return batched.unsupported(self.model)

    def batches(self, tasks: list[Task]) -> bool:
        """Whether ``tasks`` run as one batch: batching on, supported, one shape for all, and
        on the CPU, images of at most ``cpu_batch_pixels`` values unless the process keeps
        freed memory (:func:`innerloop.devices.keep_freed_memory`, as the workflow's jobs do).

        Measured with ``benchmarks/peers.py`` at 84x84: where glibc maps every large block
        afresh, the batch's activations (all tasks at once) are faulted in on every step and
        the batch is slower than the loop; with freed memory kept it is faster. Either way
        it holds every task's graph at once, where the loop frees each after its backward.
        """
        if not self.batch_tasks or len(tasks) < 2 or self.batch_unsupported() is not None:
            return False
        first = tasks[0]
        if (first.support_x.device.type == "cpu" and first.support_x[0].numel() > self.cpu_batch_pixels
                and not keeps_freed_memory()):
            return False
        return all(t.support_x.shape == first.support_x.shape and t.query_x.shape == first.query_x.shape
                   for t in tasks)

    def predict_batch(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        """:meth:`predict` of every task: ``params`` and ``x`` with a leading task axis."""
        return batched.forward(self.model, params, x)

    def loss_batch(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """:meth:`loss` of every task, ``(T,)``."""
        if self.regression:
            return (output - y).square().flatten(1).mean(1)
        return F.cross_entropy(output.flatten(0, 1), y.flatten(), reduction="none").view(y.shape).mean(1)

    def metric_batch(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """:meth:`metric` of every task, ``(T,)``, detached."""
        with torch.no_grad():
            if self.regression:
                return (output - y).square().flatten(1).mean(1)
            return (output.argmax(-1) == y).float().mean(1)

    def support_loss_batch(self, x: torch.Tensor, y: torch.Tensor):
        """:meth:`support_loss` of every task: ``params -> (T,)`` support losses."""
        def loss(params: Params) -> torch.Tensor:
            dtype = next(iter(params.values())).dtype
            return self.loss_batch(self.predict_batch(params, x if x.dtype == dtype else x.to(dtype)), y)

        return loss

    def adapt_batch(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        steps: int | None = None,
        params: Params | None = None,
        meta_gradient: bool = True,
    ) -> Params:
        """:meth:`adapt` of every task: support sets ``x``, ``y`` with a leading task axis;
        returns the adapted tensors with that axis (``params``, without it, is where every
        task starts)."""
        return self._adapt(x, y, steps, params, meta_gradient, tasks=x.shape[0])

    def outer_loss_batch(self, tasks: Task) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`outer_loss` of every task of stacked ``tasks``: ``(T,)`` losses and metrics."""
        adapted = self.adapt_batch(tasks.support_x, tasks.support_y)
        output = self.predict_batch(adapted, tasks.query_x)
        return self.loss_batch(output, tasks.query_y), self.metric_batch(output, tasks.query_y)

    # -- the outer loop's hooks ---------------------------------------------------------
    def training_data(self, store, spec):
        """What the outer loop draws item ``i`` from (``.task(i)``) and the spec it runs:
        the run's episodic tasks of the training split and ``spec`` itself by default."""
        from innerloop.data.sampler import TaskSampler

        return TaskSampler(store, "train", spec.ways, spec.shots, spec.queries, seed=spec.seed), spec

    def accumulate(self, task: Task, weight: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Add ``weight`` times this task's meta-gradient to the ``.grad`` of the meta-parameters.

        Returns the (detached) query loss and metric for the log. The default is the
        backward pass of the query loss after adaptation; backward per task frees each
        task's graph, and with ``weight = 1 / meta_batch`` the sum is the meta-batch mean.
        """
        loss, metric = self.outer_loss(task)
        (loss * weight).backward()
        return loss.detach(), metric

    def accumulate_tasks(self, tasks: list[Task], weight: float) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`accumulate` of every task of ``tasks`` (each with ``weight``), as one batch
        when :meth:`batches` allows; returns the ``(T,)`` losses and metrics (detached)."""
        if not self.batches(tasks):
            pairs = [self.accumulate(task, weight) for task in tasks]
            return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])
        losses, metrics = self.outer_loss_batch(stack_tasks(tasks))
        (losses.sum() * weight).backward()
        return losses.detach(), metrics

    def clip_meta_gradient(self) -> float | None:
        """Rescale the accumulated meta-gradient to norm ``clip_grad_norm`` if it is larger.

        Returns the norm before clipping (None when the learner does not clip).
        """
        if self.clip_grad_norm is None:
            return None
        grads = [p for p in self.meta_parameters().values() if p.grad is not None]
        return float(torch.nn.utils.clip_grad_norm_(grads, self.clip_grad_norm))

    def make_optimiser(self, outer_lr: float) -> torch.optim.Optimizer:
        """The optimiser of the meta-parameters (Adam at ``outer_lr`` by default)."""
        return torch.optim.Adam(self.meta_parameters().values(), lr=outer_lr)

    def log_values(self) -> dict[str, float]:
        """Extra columns of the per-iteration training log (e.g. Alpha-MAML's alpha and beta)."""
        return {}

    # -- state ------------------------------------------------------------------------
    def to(self, device: torch.device | str) -> "MetaLearner":
        self.model.to(device)
        self.init = _leaves(self.init, device)
        self.extra = {group: _leaves(tensors, device) for group, tensors in self.extra.items()}
        return self

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu().clone() for k, v in self.meta_parameters().items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        current = self.meta_parameters()
        if set(state) != set(current):
            missing, unexpected = set(current) - set(state), set(state) - set(current)
            raise KeyError(f"state does not match {self.name}: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
        for key, tensor in current.items():
            with torch.no_grad():
                tensor.copy_(state[key])


def _leaves(params: Params, device: torch.device | str | None = None) -> Params:
    """Detached copies that are leaves requiring grad (what an optimiser can own)."""
    return {n: p.detach().to(device).clone().requires_grad_(True) for n, p in params.items()}


def stack_tasks(tasks: list[Task]) -> Task:
    """One :class:`Task` whose tensors stack ``tasks``' along a new leading task axis
    (``classes``: the tuple of each task's classes)."""
    return Task(support_x=torch.stack([t.support_x for t in tasks]),
                support_y=torch.stack([t.support_y for t in tasks]),
                query_x=torch.stack([t.query_x for t in tasks]),
                query_y=torch.stack([t.query_y for t in tasks]),
                classes=tuple(getattr(t, "classes", ()) for t in tasks))
