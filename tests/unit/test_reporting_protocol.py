"""The evaluation protocol: untrained references and the protocol table."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from innerloop.algorithms import ALGORITHMS
from innerloop.config import load_config, load_schema, validate_config
from innerloop.data.sampler import fixed_tasks
from innerloop.evaluation.reference import untrained_reference
from innerloop.reporting.protocol import describe_protocol, protocol_table
from innerloop.scoring import evaluate
import innerloop.stats.summaries  # noqa: F401  (test_reporting.synthetic_frames reads it as an attribute)
from innerloop.runs import RunSpec
from innerloop.training import build_run, load_model, train

ROOT = Path(__file__).resolve().parents[2]
CPU = torch.device("cpu")


def default_config():
    return validate_config(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()))


def spec(algorithm, **overrides):
    fields = dict(dataset="tiny", algorithm=algorithm, seed=3, ways=3, shots=1, queries=2, filters=4, iterations=4,
                  meta_batch=2, inner_steps=2, outer_lr=0.05, val_every=100, val_tasks=2, val_seed=9,
                  checkpoint_every=100, options={"inner_lr": 0.1})
    return RunSpec(**{**fields, **overrides})


def trained(tmp_path, run, store):
    train(run, store, model_path=tmp_path / "model.pt", log_path=tmp_path / "log.csv",
          validation_path=tmp_path / "val.csv", checkpoint_path=tmp_path / "ckpt.pt", device=CPU, progress=False)
    return load_model(tmp_path / "model.pt")[0]


def test_untrained_reference_is_the_run_before_its_first_iteration(tmp_path, tiny_store):
    """scratch trains nothing, so its reference is its meta-test score exactly; MAML's
    reference is the same seed's initialisation, which training moves away from."""
    tasks = fixed_tasks(tiny_store, "test", 3, 1, 2, seed=0, n=6)
    run = spec("scratch", options={"finetune_steps": 3})
    np.testing.assert_array_equal(untrained_reference(run, tiny_store, tasks, CPU),
                                  evaluate(trained(tmp_path / "s", run, tiny_store), tasks, CPU))
    run = spec("maml")
    learner = trained(tmp_path / "m", run, tiny_store)
    reference = untrained_reference(run, tiny_store, tasks, CPU)
    fresh = build_run(run, tiny_store.image_shape, 10)
    np.testing.assert_array_equal(reference, evaluate(fresh, tasks, CPU))
    task = tasks[0]
    before, after = (lr.predict(lr.adapt(task.support_x, task.support_y, meta_gradient=False), task.query_x)
                     for lr in (fresh, learner))
    assert not torch.allclose(before, after)  # the reference is not the trained network


def comparison_config():
    """The default experiment with every algorithm (config/presets/comparison.yaml)."""
    return validate_config(load_config(ROOT / "config/config.yaml", ROOT / "config/presets/comparison.yaml",
                                       sources=False))


def test_default_protocol_shares_evaluation_steps_within_each_family():
    """Every meta-learner of the full comparison (the default's settings, every algorithm)
    adapts train.inner_steps steps at evaluation (unless its source fixes its own: the LSTM
    meta-learner's enhanced version); every transfer baseline fine-tunes the same number of steps."""
    config, schema = comparison_config(), load_schema()
    rows = {a: describe_protocol(config, schema, a) for a in config["algorithms"]}
    transfer = {a: rows[a]["eval_steps"] for a in ("scratch", "finetune", "baselinepp", "multitask")}
    assert len(set(transfer.values())) == 1, transfer
    own = {"lstm_meta_plus"}  # Huisman et al.: 8 updates
    meta = {a: r["eval_steps"] for a, r in rows.items() if a not in transfer and a not in own and a != "protonet"}
    assert set(meta.values()) == {config["train"]["inner_steps"]}, meta
    assert "published (the study" in rows["maml"]["rates"] and "inner_lr 0.01" in rows["maml"]["rates"]
    assert "published (Li et al. 2017)" in rows["metasgd"]["rates"]
    epochs = config["algorithm_options"]["finetune"]["epochs"]
    assert rows["finetune"]["training"].startswith(f"{epochs} epochs of mini-batches of 16")
    assert rows["multitask"]["train_inner_steps"] == 0 and "tasks" in rows["multitask"]["training"]
    assert rows["scratch"]["training"].startswith("none")


def test_protocol_table_puts_the_untrained_reference_beside_the_accuracy():
    config = default_config()
    config["algorithms"] = ["maml", "finetune"]
    config["algorithm_options"]["finetune"]["finetune_lr"] = 0.05
    runs = pd.DataFrame({"algorithm": ["maml", "maml", "finetune", "finetune"], "setting": "5w1s", "seed": [0, 1, 0, 1],
                         "accuracy": [0.6, 0.7, 0.5, 0.7]})
    untrained = runs.assign(accuracy=[0.3, 0.4, 0.2, 0.2])
    table = protocol_table(config, load_schema(), runs, untrained).set_index("algorithm")
    assert table.loc["maml", "accuracy"] == pytest.approx(0.65) and table.loc["maml", "untrained"] == pytest.approx(0.35)
    assert table.loc["finetune", "margin"] == pytest.approx(0.4)
    assert table.loc["maml", "n_seeds"] == 2
    assert "finetune_lr 0.05 (config)" in table.loc["finetune", "rates"]
    assert set(table.index) <= set(ALGORITHMS)


def test_protocol_table_gives_the_tuned_rate_the_runs_trained_with():
    """The tuning stage's choice is on top of the configured options, as in training: the
    table names the chosen rate and says it was tuned, per setting."""
    config = default_config()
    config["algorithms"] = ["maml"]
    runs = pd.DataFrame({"algorithm": "maml", "setting": ["5w1s", "5w5s"], "seed": 0, "accuracy": [0.6, 0.8]})
    chosen = {("maml", "5w1s"): {"options": {"inner_lr": 0.1}, "candidates": [{}, {}, {}]}}
    table = protocol_table(config, load_schema(), runs, runs.assign(accuracy=0.3), chosen).set_index("setting")
    assert "inner_lr 0.1 (tuned on meta-validation, best of 3)" in table.loc["5w1s", "rates"]
    configured = config["algorithm_options"]["maml"]["inner_lr"]
    assert f"inner_lr {configured:g} (" in table.loc["5w5s", "rates"] and "tuned" not in table.loc["5w5s", "rates"]


def test_protocol_table_is_in_the_reports_comparison_section(tmp_path):
    from test_reporting import CAPTION_DIR, TEMPLATE_DIR, synthetic_frames, synthetic_provenance, synthetic_setup

    from innerloop.reporting import figures as F
    from innerloop.reporting import render as R
    from innerloop.reporting.tables import protocol_html

    config = default_config()
    config["algorithms"] = ["maml"]
    runs = pd.DataFrame({"algorithm": ["maml"], "setting": "5w1s", "seed": [0], "accuracy": [0.61]})
    table = protocol_table(config, load_schema(), runs, runs.assign(accuracy=[0.33]))
    png = F.save_figure(F.draw_meta_test_accuracy(synthetic_frames()["meta_test"]), tmp_path / "fig")[0]
    context = R.build_context(frames=synthetic_frames(), setup=synthetic_setup(), provenance=synthetic_provenance(),
                              figures=dict.fromkeys(R.FIGURE_KEYS, png), caption_dir=CAPTION_DIR)
    context["tables"]["protocol"] = protocol_html(table)
    html = R.render_html(context, TEMPLATE_DIR, tmp_path / "report.html").read_text()
    section = html[html.index('<section id="comparison">'):]
    section = section[:section.index("</section>")]
    assert 'id="tab-protocol"' in section
    for text in ("Untrained reference", "61.0%", "33.0%", "+28.0", "published (the study"):
        assert text in section, text
