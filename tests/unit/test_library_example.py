"""The README's library example runs as written, on a store and a model.pt made here."""

import re
from pathlib import Path

import pytest

import innerloop
from innerloop.runs import RunSpec
from innerloop.training import train

ROOT = Path(__file__).resolve().parents[2]


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "innerloop.load(" in b]
    assert len(blocks) == 1, "the README has one library example"
    return blocks[0]


@pytest.fixture(scope="module")
def trained(tiny_store, tmp_path_factory):
    work = tmp_path_factory.mktemp("example")
    spec = RunSpec(dataset="tiny", algorithm="maml", seed=0, ways=5, shots=1, queries=2, filters=4, iterations=2,
                   meta_batch=1, inner_steps=1, outer_lr=1e-3, val_every=2, val_tasks=2, val_seed=0,
                   checkpoint_every=2, options={"inner_lr": 0.01, "first_order": False})
    model = work / "model.pt"
    train(spec, tiny_store, model_path=model, log_path=work / "log.csv", validation_path=work / "val.csv",
          checkpoint_path=work / "ckpt.pt", device="cpu", progress=False)
    return spec, model


def test_load_returns_the_learner_and_its_spec(trained):
    spec, model = trained
    learner, loaded = innerloop.load(model)
    assert loaded == spec and learner.name == "maml"


def test_readme_library_example_runs(trained, tiny_store, capsys):
    spec, model = trained
    code = readme_example()
    assert len(code.strip().splitlines()) <= 15
    code = code.replace('"results/data/glyphs"', repr(str(tiny_store.path)))
    code = code.replace('"results/runs/glyphs/maml/5w1s/seed0/model.pt"', repr(str(model)))
    # The tiny store holds 10 test classes of 8 images: 15 queries per class do not fit.
    code = code.replace("queries=15", "queries=2")
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("adapted: ") and 0 <= float(out[0].split()[1]) <= 1
    algorithm, accuracy = out[1].split()
    assert algorithm == "maml" and 0 <= float(accuracy) <= 1
