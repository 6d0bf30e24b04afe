"""Cross-domain evaluation: image conversion and a run evaluated on another dataset's tasks."""

import numpy as np
import pandas as pd
import pytest
import torch

from innerloop.data.sampler import TaskSampler
from innerloop.data.store import load_store, write_store
from innerloop.evaluation.cross_domain import LUMA, ConvertedSampler, convert_images
from innerloop.evaluation.loading import load_for_evaluation
from innerloop.runs import RunSpec
from innerloop.scoring import evaluate
from innerloop.training import train


def test_grey_to_rgb_repeats_and_rgb_to_grey_is_luma():
    grey = torch.rand(2, 1, 4, 4)
    rgb = convert_images(grey, (3, 4, 4))
    assert rgb.shape == (2, 3, 4, 4) and all(torch.equal(rgb[:, c], grey[:, 0]) for c in range(3))
    colour = torch.rand(2, 3, 4, 4)
    expected = sum(w * colour[:, c] for c, w in enumerate(LUMA))
    torch.testing.assert_close(convert_images(colour, (1, 4, 4))[:, 0], expected)


def test_resize_keeps_constant_images_constant_and_range():
    x = torch.full((1, 1, 8, 8), 0.25)
    y = convert_images(x, (1, 28, 28))
    assert y.shape == (1, 1, 28, 28)
    torch.testing.assert_close(y, torch.full_like(y, 0.25))
    z = convert_images(torch.rand(3, 1, 30, 30), (1, 12, 12))
    assert z.min() >= 0 and z.max() <= 1
    with pytest.raises(ValueError, match="cannot convert 2-channel"):
        convert_images(torch.rand(1, 2, 4, 4), (3, 4, 4))


def test_converted_sampler_draws_the_same_tasks(tiny_store):
    sampler = TaskSampler(tiny_store, "test", 3, 1, 2, seed=5)
    converted = ConvertedSampler(sampler, (3, 20, 20))
    a, b = sampler.task(4), converted.task(4)
    assert b.support_x.shape == (3, 3, 20, 20) and a.classes == b.classes
    assert torch.equal(a.query_y, b.query_y)


def test_a_run_is_evaluated_on_another_datasets_tasks(tmp_path, tiny_store):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(6 * 6, 3, 10, 10), dtype=np.uint8)
    classes = pd.DataFrame({"class_id": range(6), "name": [f"d{i}" for i in range(6)], "alphabet": "other",
                            "split": "test"})
    other = load_store(write_store(tmp_path / "other", images, np.repeat(np.arange(6), 6), classes,
                                   dataset="other", params={}))
    spec = RunSpec(dataset="tiny", algorithm="maml", seed=0, ways=3, shots=1, queries=2, filters=4, iterations=2,
                   meta_batch=1, inner_steps=1, outer_lr=1e-3, val_every=2, val_tasks=2, val_seed=0,
                   checkpoint_every=2, options={"inner_lr": 0.1})
    train(spec, tiny_store, model_path=tmp_path / "model.pt", log_path=tmp_path / "log.csv",
          validation_path=tmp_path / "val.csv", checkpoint_path=tmp_path / "ckpt.pt", device=torch.device("cpu"),
          progress=False)
    learner, _, sampler = load_for_evaluation(tmp_path / "model.pt", other.path, split="test", seed=3,
                                              device=torch.device("cpu"))
    assert isinstance(sampler, ConvertedSampler) and sampler.task(0).support_x.shape[1:] == (1, 16, 16)
    accuracy = evaluate(learner, sampler.tasks(4), torch.device("cpu"))
    assert accuracy.shape == (4,) and ((0 <= accuracy) & (accuracy <= 1)).all()


def test_conversion_is_described_as_convert_images_does_it():
    from innerloop.evaluation.cross_domain import describe_conversion

    assert describe_conversion((1, 28, 28), (1, 28, 28)) == "none needed (both 1×28×28)"
    text = describe_conversion((3, 84, 84), (1, 28, 28))
    assert text.startswith("RGB to greyscale") and "84×84 to 28×28" in text
    assert describe_conversion((1, 28, 28), (3, 28, 28)) == "greyscale repeated to RGB"


def test_cross_domain_identity_settings_order_and_labels():
    from innerloop.reporting.figures import setting_label
    from innerloop.runs import RunId
    from innerloop.stats.order import setting_order

    identity = RunId("mini_imagenet", "maml", 5, 5, 2).columns(target="cub")
    assert identity == {"dataset": "mini_imagenet", "algorithm": "maml", "setting": "mini_imagenet_to_cub_5w5s",
                        "ways": 5, "shots": 5, "seed": 2, "target": "cub"}
    # thesis Table 3.4: per direction, 1-shot before 5-shot (and 5 before 10 shots, not string order)
    assert setting_order(["b_to_a_5w10s", "a_to_b_5w5s", "b_to_a_5w5s", "a_to_b_5w1s"]) == \
        ["a_to_b_5w1s", "a_to_b_5w5s", "b_to_a_5w5s", "b_to_a_5w10s"]
    assert setting_label("glyphs_to_digits_5w1s") == "glyphs → digits, 5-way 1-shot"


def test_cross_domain_table_from_per_run_files(tmp_path):
    """The cross_domain_stats path: per-run files of two directions -> one table column per
    direction and setting, medians over seeds, and the probe's changes per direction."""
    from innerloop.reporting.tables import cross_domain_tables
    from innerloop.runs import RunId, read_runs
    from innerloop.stats import meta_test_summary, meta_test_table, probe_changes
    from innerloop.stats.summaries import meta_test_runs

    accuracy = {("a", "b", "maml"): [0.40, 0.42, 0.47], ("b", "a", "maml"): [0.30, 0.31, 0.35],
                ("a", "b", "metasgd"): [0.50, 0.52, 0.51]}
    tasks, probes = [], []
    for (train_on, test_on, alg), values in accuracy.items():
        for seed, acc in enumerate(values):
            d = tmp_path / f"runs/{train_on}/{alg}/5w1s/seed{seed}/cross_domain/{test_on}"
            d.mkdir(parents=True)
            run = RunId(train_on, alg, 5, 1, seed)
            run.tag(pd.DataFrame({"task": range(4), "accuracy": [acc - 0.01, acc + 0.01, acc, acc]}),
                    target=test_on).to_csv(d / "meta_test.csv", index=False)
            run.tag(pd.DataFrame({"iteration": range(3), "pre_adaptation": 0.5, "on_task": 0.6, "off_task": 0.45,
                                  "on_task_change": [0.1, 0.12, 0.08], "off_task_change": [-0.05, -0.04, -0.06]}),
                    target=test_on).to_csv(d / "probe.csv", index=False)
            tasks.append(d / "meta_test.csv")
            probes.append(d / "probe.csv")
    table = meta_test_table(meta_test_summary(meta_test_runs(read_runs(tasks))))
    assert list(table["algorithm"]) == ["maml", "metasgd"]
    assert table.loc[0, "a_to_b_5w1s_median"] == pytest.approx(0.42)
    assert table.loc[0, "b_to_a_5w1s_median"] == pytest.approx(0.31)
    assert np.isnan(table.loc[1, "b_to_a_5w1s_median"]) and table.loc[1, "b_to_a_5w1s_n_seeds"] == 0
    assert bool(table.loc[1, "a_to_b_5w1s_best"]) and not bool(table.loc[0, "a_to_b_5w1s_best"])
    changes = probe_changes(read_runs(probes))
    on = changes.query("algorithm == 'maml' and setting == 'a_to_b_5w1s' and change == 'on_task_change'")
    assert on["mean"].item() == pytest.approx(0.1) and on["n"].item() == 9
    html = cross_domain_tables(table, changes)
    assert "a → b, 5-way 1-shot" in html["cross_domain_table"] and "<strong>51.0" in html["cross_domain_table"]
    assert "+10.00 pp" in html["cross_domain_probe_changes"]
