"""On a GPU: ``auto`` picks CUDA, every algorithm meta-trains, saves, reloads and is
evaluated and probed on it, and the second-order meta-gradient computed on CUDA equals the
CPU one in float64.

Skipped where there is no CUDA device (CI has none). On a GPU machine:
``pytest tests/algorithms/test_cuda.py``.
"""

from pathlib import Path

import pytest
import torch
from reference import smooth_problem

from innerloop.algorithms import ALGORITHMS
from innerloop.algorithms.maml import MAML
from innerloop.config import load_config
from innerloop.data.sampler import TaskSampler, fixed_tasks
from innerloop.evaluation.probe import feature_probe
from innerloop.runs import RunSpec
from innerloop.scoring import evaluate
from innerloop.training import load_model, resolve_device, train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

CUDA = torch.device("cuda")
#: The default experiment's options per algorithm, the schema's defaults filled in.
OPTIONS = load_config(Path(__file__).resolve().parents[2] / "config/config.yaml")["algorithm_options"]


def test_auto_picks_cuda():
    assert resolve_device("auto") == torch.device("cuda")


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_meta_trains_and_evaluates_on_cuda(tmp_path, tiny_store, algorithm):
    spec = RunSpec(dataset="tiny", algorithm=algorithm, seed=0, ways=3, shots=1, queries=2, filters=4, iterations=4,
                   meta_batch=2, inner_steps=2, outer_lr=0.01, val_every=2, val_tasks=2, val_seed=1,
                   checkpoint_every=2, options=OPTIONS.get(algorithm, {}))
    paths = dict(model_path=tmp_path / "model.pt", log_path=tmp_path / "log.csv",
                 validation_path=tmp_path / "val.csv", checkpoint_path=tmp_path / "ckpt.pt")
    learner = train(spec, tiny_store, device=CUDA, progress=False, **paths)
    assert {t.device.type for t in learner.meta_parameters().values()} == {"cuda"}
    assert learner.training_status["device"] == "cuda"
    assert learner.training_status["status"] in ("budget reached, still improving", "not meta-trained")

    loaded, _, _ = load_model(paths["model_path"], CUDA)
    for name, tensor in learner.meta_parameters().items():
        assert torch.equal(tensor.detach(), loaded.meta_parameters()[name].detach()), name
    accuracy = evaluate(loaded, fixed_tasks(tiny_store, "test", 3, 1, 2, seed=5, n=4), CUDA)
    assert len(accuracy) == 4 and ((0 <= accuracy) & (accuracy <= 1)).all()
    probe = feature_probe(loaded, TaskSampler(tiny_store, "test", 3, 1, 2, seed=5), 2, CUDA, progress=False)
    assert len(probe) == 2 and probe[["pre_adaptation", "on_task", "off_task"]].notna().all().all()


def test_second_order_meta_gradient_on_cuda_equals_the_cpu_one():
    model, init, task = smooth_problem()
    grads = {}
    for device in (torch.device("cpu"), CUDA):
        moved = {k: v.detach().to(device) for k, v in init.items()}
        on = type(task)(**{k: v.to(device) if torch.is_tensor(v) else v for k, v in vars(task).items()})
        learner = MAML(model.to(device), moved, inner_steps=2, inner_lr=0.5)
        loss, _ = learner.outer_loss(on)
        params = learner.meta_parameters()
        grads[device.type] = {k: g.cpu() for k, g in zip(params, torch.autograd.grad(loss, list(params.values())))}
    for name, cpu in grads["cpu"].items():
        torch.testing.assert_close(grads["cuda"][name], cpu, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", ["maml", "metasgd", "turtle", "lstm_meta_plus"])
def test_batched_meta_gradient_on_cuda_equals_the_loop(case):
    from test_batched import learner_for, meta_gradients, problem, relative

    model, init, tasks = problem(smooth=False)
    model = model.to(CUDA)
    tasks = [task.__class__(**{k: (v.to(CUDA) if torch.is_tensor(v) else v) for k, v in vars(task).items()})
             for task in tasks]
    learner = learner_for(case, model, {k: v.to(CUDA) for k, v in init.items()}).to(CUDA)
    assert learner.batches(tasks)
    _, _, batched_grads = meta_gradients(learner, tasks, batch=True)
    _, _, loop_grads = meta_gradients(learner, tasks, batch=False)
    for group in {k.split("/")[0] for k in loop_grads}:
        assert relative(batched_grads, loop_grads, group)[0] < 1e-9, group


@pytest.mark.parametrize("case", ["maml", "fomaml", "metasgd", "anil", "reptile", "maml_fd"])
@pytest.mark.parametrize("batch", [True, False], ids=["batched", "loop"])
def test_graphed_meta_steps_equal_the_eager_ones(case, batch):
    """Three replayed meta-steps of the captured graph, each on new tasks, move the
    meta-parameters as three eager steps do (float64), from the same start."""
    from test_batched import learner_for, problem

    from innerloop.algorithms import graphed

    model, init, tasks = problem(smooth=False)
    batches = [tasks] + [problem(smooth=False, seed=s)[2] for s in (1, 2)]
    batches = [[type(t)(**{k: (v.to(CUDA) if torch.is_tensor(v) else v) for k, v in vars(t).items()}) for t in b]
               for b in batches]
    learners = [learner_for(case, model.to(CUDA), {k: v.to(CUDA) for k, v in init.items()}).to(CUDA)
                for _ in range(2)]
    for learner in learners:
        learner.batch_tasks = batch
    said = []
    eager, replayed = learners
    opt_eager, opt_graph = eager.make_optimiser(1e-2), replayed.make_optimiser(1e-2)
    graphed.make_capturable(opt_eager)
    step = graphed.capture(replayed, opt_graph, batches[0], 1 / len(tasks), log=said.append)
    assert step is not None, said
    for tasks in batches:
        expected, _ = graphed.eager_step(eager, opt_eager, tasks, 1 / len(tasks))
        losses, _ = step(tasks)
        torch.testing.assert_close(losses, expected, rtol=1e-9, atol=1e-12)
    for (name, a), b in zip(eager.meta_parameters().items(), replayed.meta_parameters().values()):
        torch.testing.assert_close(b, a, rtol=1e-9, atol=1e-12, msg=name)
