"""Faults: diverged runs, corrupt or truncated files, interrupted writes, datasets too small."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from innerloop import divergence as D
from innerloop.checkpoints import CheckpointCorruptError, load_checked, save_checked
from innerloop.data import registry
from innerloop.data.store import DatasetTooSmallError, StoreCorruptError, check_task_fits, load_store, write_store
from innerloop.evaluation.learning_rates import LAYERS, values_by_layer
from innerloop.io import write_csv, write_text_atomic
from innerloop.reporting import render as R
from innerloop.reporting import tables as T
from innerloop.runs import RunId, RunSpec, read_runs
from innerloop.stats import lr_table, meta_test_summary, probe_changes, probe_summary, probe_vs_reference
from innerloop.stats.summaries import meta_test_runs
from innerloop.training import load_model, train


def spec(algorithm, options, **overrides):
    base = dict(dataset="tiny", algorithm=algorithm, seed=3, ways=3, shots=1, queries=2, filters=4,
                iterations=6, meta_batch=2, inner_steps=2, outer_lr=0.01, val_every=2, val_tasks=3,
                val_seed=9, checkpoint_every=2, options=options)
    return RunSpec(**{**base, **overrides})


def run_dir(root, algorithm, seed=3):
    return root / "runs" / "tiny" / algorithm / "3w1s" / f"seed{seed}"


def run(directory, s, store):
    paths = dict(model_path=directory / "model.pt", log_path=directory / "train_log.csv",
                 validation_path=directory / "validation.csv", checkpoint_path=directory / "ckpt" / "checkpoint.pt")
    train(s, store, device=torch.device("cpu"), progress=False, **paths)
    return paths


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_store):
    """A MAML run that finishes, and an Alpha-MAML run whose outer rate beta = 1e25 makes
    the second meta-batch loss NaN."""
    root = tmp_path_factory.mktemp("runs")
    done = run(run_dir(root, "maml"), spec("maml", {"inner_lr": 0.1}), tiny_store)
    diverged = run(run_dir(root, "alpha_maml"), spec("alpha_maml", {"inner_lr": 0.01, "outer_lr": 1e25}), tiny_store)
    return {"root": root, "done": done, "diverged": diverged}


# --------------------------------------------------------------------------
# Divergence
# --------------------------------------------------------------------------

def test_a_run_whose_loss_becomes_nan_stops_as_diverged(runs):
    paths = runs["diverged"]
    learner, _, status = load_model(paths["model_path"])  # written: the train rule succeeds
    log = pd.read_csv(paths["log_path"])
    assert status["status"] == "diverged" and status["diverged_at"] == 2
    assert list(log["iteration"]) == [1] and np.isfinite(log.to_numpy(dtype=float)).all()
    assert status["last_finite_loss"] == pytest.approx(log["loss"].iloc[0])
    assert status["rates"]["beta"] == 1e25 and math.isfinite(status["rates"]["alpha"])
    assert "loss" in status["reason"]
    assert not paths["checkpoint_path"].exists()  # the diverged state is never checkpointed
    assert D.is_diverged(status) and not D.is_diverged(load_model(runs["done"]["model_path"])[2])


def test_an_outer_learning_rate_that_blows_up_the_weights_diverges(tmp_path, tiny_store):
    paths = run(tmp_path, spec("maml", {"inner_lr": 0.1}, outer_lr=1e30), tiny_store)
    status = load_model(paths["model_path"])[2]
    assert status["status"] == "diverged" and status["diverged_at"] == 2 and status["rates"] == {}
    assert math.isfinite(status["last_finite_loss"])


def test_rate_summary_of_per_element_rates(tiny_store):
    from innerloop.training import build_run

    learner = build_run(spec("metasgd", {"lr_init_low": 0.01, "lr_init_high": 0.02}), tiny_store.image_shape)
    rates = D.learning_rate_summary(learner)
    assert 0.01 <= rates["lr_min"] <= rates["lr_mean"] <= rates["lr_max"] <= 0.02


def _write_tables(root, diverged_seed=2):
    """Per-run meta-test, probe and learning-rate tables of MAML seeds 0-2, one diverged."""
    rng = np.random.default_rng(0)
    meta, probe, layers = [], [], []
    for seed in range(3):
        d = run_dir(root, "maml", seed)
        if seed == diverged_seed:
            tasks, iters, lrs = D.diverged_meta_test(20), D.diverged_probe(10), D.diverged_lr_layers(LAYERS)
        else:
            tasks = pd.DataFrame({"task": range(20), "accuracy": rng.uniform(0.3, 0.7, 20)})
            iters = pd.DataFrame({"iteration": range(10), **{c: rng.uniform(0, 1, 10) for c in D.PROBE_COLUMNS}})
            lrs = pd.DataFrame({"layer": LAYERS, "mean": rng.normal(size=5), "std": 1.0, "median": 0.0,
                                "fraction_negative": 0.5, "n": 10})
        for df, name, paths in ((tasks, "meta_test.csv", meta), (iters, "probe.csv", probe),
                                (lrs, "learning_rates.csv", layers)):
            write_csv(RunId("glyphs", "maml", 5, 1, seed).tag(df), d / name)
            paths.append(d / name)
    return meta, probe, layers


def test_stats_average_only_the_runs_that_did_not_diverge(tmp_path):
    meta, probe, layers = _write_tables(tmp_path)
    tasks = read_runs(meta)
    per_run = meta_test_runs(tasks)
    assert sorted(per_run["seed"]) == [0, 1] and "status" not in per_run.columns
    assert np.isfinite(per_run["accuracy"]).all()
    summary = meta_test_summary(per_run)
    finite = tasks[tasks["seed"] != 2].groupby("seed")["accuracy"].mean()
    assert summary["n_seeds"].item() == 2 and summary["mean"].item() == pytest.approx(finite.mean())

    iterations = read_runs(probe)
    for table in (probe_summary(iterations), probe_changes(iterations), probe_vs_reference(iterations)):
        assert set(table["n"]) == {20}  # 2 runs x 10 probe iterations
        assert np.isfinite(table["mean"]).all()
    expected = iterations.loc[iterations["seed"] != 2, "on_task"].mean()
    assert probe_summary(iterations).set_index("phase").loc["on_task", "mean"] == pytest.approx(expected)

    lr = lr_table(read_runs(layers))
    assert set(lr["n_seeds"]) == {2} and np.isfinite(lr["mean"]).all()
    assert values_by_layer({}).empty  # a diverged run's (empty) learned-rate file


def test_diverged_runs_table_and_report_section(runs, tmp_path):
    from test_reporting import CAPTION_DIR, TEMPLATE_DIR, synthetic_frames, synthetic_provenance, synthetic_setup

    models = [runs["done"]["model_path"], runs["diverged"]["model_path"]]
    table = D.diverged_runs(models)
    assert list(table.columns) == D.DIVERGED_RUN_COLUMNS
    assert table[["algorithm", "seed", "iteration"]].values.tolist() == [["alpha_maml", 3, 2]]
    assert "beta=1e+25" in table["rates"].item()
    assert D.diverged_runs(models[:1]).empty

    write_csv(table, tmp_path / "diverged_runs.csv")
    html_table = T.diverged_runs_html(pd.read_csv(tmp_path / "diverged_runs.csv"))
    assert T.diverged_runs_html(pd.read_csv(tmp_path / "diverged_runs.csv").iloc[:0]) == ""

    from innerloop.reporting import figures as F

    png = F.save_figure(F.draw_meta_test_accuracy(synthetic_frames()["meta_test"]), tmp_path / "fig")[0]
    context = R.build_context(frames=synthetic_frames(), setup=synthetic_setup(), provenance=synthetic_provenance(),
                              figures=dict.fromkeys(R.FIGURE_KEYS, png), caption_dir=CAPTION_DIR)
    plain = R.render_html(context, TEMPLATE_DIR, tmp_path / "plain.html").read_text()
    context["tables"]["diverged_runs"] = html_table
    shown = R.render_html(context, TEMPLATE_DIR, tmp_path / "shown.html").read_text()
    assert 'id="tab-diverged-runs"' not in plain and "diverged" not in plain.lower()
    training = shown[shown.index('<section id="training">'):]
    training = training[:training.index("</section>")]
    assert 'id="tab-diverged-runs"' in training and "Alpha-MAML" in training and "1e+25" in training


# --------------------------------------------------------------------------
# Corrupt or truncated files
# --------------------------------------------------------------------------

def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_middle_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_truncate, _flip_middle_byte])
def test_corrupt_model_names_the_file_and_what_to_delete(tmp_path, runs, damage):
    model = tmp_path / "model.pt"
    model.write_bytes(runs["done"]["model_path"].read_bytes())
    (tmp_path / "model.pt.sha256").write_bytes(runs["done"]["model_path"].with_suffix(".pt.sha256").read_bytes())
    load_model(model)
    damage(model)
    with pytest.raises(CheckpointCorruptError) as caught:
        load_model(model)
    assert str(model) in str(caught.value) and "delete" in str(caught.value)
    assert model.exists() and (tmp_path / "model.pt.sha256").exists()  # nothing removed


def test_truncated_checkpoint_without_checksum_is_still_reported(tmp_path, runs):
    checkpoint = tmp_path / "checkpoint.pt"
    checkpoint.write_bytes(runs["done"]["model_path"].read_bytes()[:1000])
    with pytest.raises(CheckpointCorruptError, match="cannot be read.*delete"):
        load_checked(checkpoint, what="checkpoint")


def test_model_without_checksum_is_refused(tmp_path, runs):
    model = tmp_path / "model.pt"
    model.write_bytes(runs["done"]["model_path"].read_bytes())
    with pytest.raises(CheckpointCorruptError, match="no checksum file.*delete"):
        load_model(model)


@pytest.mark.parametrize("damage", [_truncate, _flip_middle_byte])
def test_corrupt_checkpoint_stops_the_run_naming_it(tmp_path, tiny_store, damage):
    s = spec("maml", {"inner_lr": 0.1}, iterations=2)
    paths = run(tmp_path, s, tiny_store)
    checkpoint = paths["checkpoint_path"]
    damage(checkpoint)
    paths["model_path"].unlink()
    with pytest.raises(CheckpointCorruptError) as caught:
        run(tmp_path, s, tiny_store)
    assert str(checkpoint) in str(caught.value) and "delete" in str(caught.value)
    assert checkpoint.exists() and not paths["model_path"].exists()


@pytest.mark.parametrize("name", ["images.npy", "labels.npy", "classes.csv", "manifest.json"])
@pytest.mark.parametrize("damage", [_truncate, _flip_middle_byte])
def test_corrupt_store_file_names_it_and_the_directory_to_delete(tmp_path, tiny_store, name, damage):
    path = write_store(tmp_path / "store", tiny_store.images, tiny_store.labels, tiny_store.classes, "tiny", {})
    before = sorted(p.name for p in path.iterdir())
    damage(path / name)
    with pytest.raises(StoreCorruptError) as caught:
        load_store(path)
    message = str(caught.value)
    assert name in message and str(path) in message and "delete" in message.lower()
    assert sorted(p.name for p in path.iterdir()) == before


# --------------------------------------------------------------------------
# Interrupted writes
# --------------------------------------------------------------------------

class DiskFull(OSError):
    pass


def test_a_failing_csv_writer_leaves_no_file(tmp_path, monkeypatch):
    def half_written(self, data):  # the table's bytes, cut off by a full disk
        with open(self, "wb") as f:
            f.write(data[:6])
        raise DiskFull("No space left on device")

    from pathlib import Path

    monkeypatch.setattr(Path, "write_bytes", half_written)
    for name in ("table.csv", "table.csv.gz"):
        with pytest.raises(DiskFull):
            write_csv(pd.DataFrame({"a": [1], "b": [2]}), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_torch_save_leaves_the_old_file_and_no_checksum_mismatch(tmp_path, monkeypatch):
    target = tmp_path / "checkpoint.pt"
    save_checked({"x": torch.zeros(3)}, target)
    old = target.read_bytes()

    def half_written(obj, path):
        path.write_bytes(b"PK\x03\x04 truncated")
        raise DiskFull("No space left on device")

    monkeypatch.setattr(torch, "save", half_written)
    with pytest.raises(DiskFull):
        save_checked({"x": torch.ones(3)}, target)
    assert target.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]


def test_an_interrupted_text_write_keeps_the_old_content(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    write_text_atomic(target, "complete")
    monkeypatch.setattr("os.replace", lambda *a: (_ for _ in ()).throw(DiskFull("interrupted")))
    with pytest.raises(DiskFull):
        write_text_atomic(target, "half")
    assert target.read_text() == "complete" and [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_an_interrupted_store_write_leaves_no_manifest(tmp_path, tiny_store, monkeypatch):
    from innerloop.data import store as S

    path = write_store(tmp_path / "store", tiny_store.images, tiny_store.labels, tiny_store.classes, "tiny", {})
    real = S.write_bytes_atomic

    def failing(target, data):
        if target.name == "labels.npy":
            raise DiskFull("No space left on device")
        return real(target, data)

    monkeypatch.setattr(S, "write_bytes_atomic", failing)
    with pytest.raises(DiskFull):
        write_store(path, tiny_store.images, tiny_store.labels, tiny_store.classes, "tiny", {})
    assert not (path / "manifest.json").exists()
    with pytest.raises(FileNotFoundError, match="did not finish"):
        load_store(path)


# --------------------------------------------------------------------------
# Datasets too small for the tasks
# --------------------------------------------------------------------------

def test_task_fits_reports_the_numbers(tiny_store):
    labels, classes = tiny_store.labels, tiny_store.classes  # 10 classes per split, 8 images each
    check_task_fits(labels, classes, dataset="tiny", ways=10, shots=3, queries=5)
    with pytest.raises(DatasetTooSmallError, match=r"'train' split has 10 classes, fewer than ways = 11"):
        check_task_fits(labels, classes, dataset="tiny", ways=11, shots=1, queries=1)
    with pytest.raises(DatasetTooSmallError, match=r"only 8 images, fewer than shots \+ queries = 1 \+ 8 = 9"):
        check_task_fits(labels, classes, dataset="tiny", ways=5, shots=1, queries=8, splits=["test"])


def test_prepare_dataset_fails_before_writing_when_too_small(tmp_path, tiny_store, monkeypatch):
    def tiny_builder():
        return np.asarray(tiny_store.images), np.asarray(tiny_store.labels), tiny_store.classes.copy()

    monkeypatch.setitem(registry.DATASETS, "toy", tiny_builder)
    config = {"dataset": "toy", "task": {"ways": 12, "shots": [1], "queries": 2}, "cross_domain": []}
    with pytest.raises(DatasetTooSmallError, match=r"'toy'.*12-way.*10 classes"):
        registry.prepare_dataset("toy", {}, tmp_path / "toy", requirements=registry.task_requirements(config, "toy"))
    assert not (tmp_path / "toy").exists() or not any((tmp_path / "toy").iterdir())
    config["task"]["ways"] = 5
    registry.prepare_dataset("toy", {}, tmp_path / "toy", requirements=registry.task_requirements(config, "toy"))
    assert load_store(tmp_path / "toy").manifest["n_classes"] == 30


def test_task_requirements_by_role():
    config = {"dataset": "glyphs", "task": {"ways": 5, "shots": [1, 5], "queries": 10},
              "cross_domain": [{"train": "glyphs", "test": "digits"}, {"train": "omniglot", "test": "cub"}]}
    assert registry.task_requirements(config, "glyphs") == {"ways": 5, "shots": 5, "queries": 10,
                                                            "splits": ["train", "val", "test"]}
    assert registry.task_requirements(config, "digits")["splits"] == ["test"]
    assert registry.task_requirements(config, "cub") is None


def test_every_writer_goes_through_a_temporary_name():
    """Static audit: every call that writes a file in innerloop/ and workflow_scripts/ sits in
    an ``atomic_path`` block (or writes to memory, or is the job's log)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    writer = re.compile(r"\.to_csv\(|\.savefig\(|torch\.save\(|np\.save[z_a-z]*\(|\.write_pdf\(|\.write_(text|bytes)\("
                        r"|open\([^)]*[\"'][wa]b?[\"']")
    in_memory = re.compile(r"to_csv\((index|lineterminator)|np\.save\(buffer|savefig\(buffer|sys\.stderr = open\(snakemake\.log")
    unguarded = []
    for path in [*sorted((root / "innerloop").rglob("*.py")), *sorted((root / "workflow_scripts").glob("*.py"))]:
        if path.name == "io.py":
            continue
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if writer.search(line) and not in_memory.search(line):
                if not any("atomic_path(" in previous for previous in lines[max(0, i - 3):i + 1]):
                    unguarded.append(f"{path.relative_to(root)}:{i + 1}: {line.strip()}")
    assert not unguarded, "writes without a temporary name:\n" + "\n".join(unguarded)


def test_all_finite_finds_one_bad_element():
    good = [torch.zeros(3, 4), torch.ones(5)]
    assert D.all_finite(good) and D.all_finite([])
    for bad in (float("nan"), float("inf"), -float("inf")):
        tensors = [t.clone() for t in good]
        tensors[1][2] = bad
        assert not D.all_finite(tensors), bad
    assert not D.all_finite([torch.tensor([float("inf"), -float("inf")])])


def test_a_diverged_meta_sgd_run_s_rate_sign_probe_is_nan_and_left_out_of_the_ablation():
    from innerloop.evaluation.ablations import RATE_VARIANTS
    from innerloop.stats.ablations import rate_ablation_table

    rng = np.random.default_rng(1)
    frames = []
    for seed in range(3):
        if seed == 2:
            probe = D.diverged_rate_probe(5, RATE_VARIANTS)
            assert probe["variant"].tolist() == [v for v in RATE_VARIANTS for _ in range(5)]
            assert probe[[*D.PROBE_COLUMNS, "fraction_negative"]].isna().all().all()
        else:
            probe = pd.concat([pd.DataFrame({"variant": v, "iteration": range(5),
                                             **{c: rng.uniform(0, 1, 5) for c in D.PROBE_COLUMNS},
                                             "fraction_negative": 0.3}) for v in RATE_VARIANTS], ignore_index=True)
        frames.append(RunId("glyphs", "metasgd", 5, 1, seed).tag(probe))
    table = rate_ablation_table(D.drop_diverged(pd.concat(frames, ignore_index=True)))
    assert set(table["n"].dropna()) == {10}  # 2 finite runs x 5 probe iterations
    assert np.isfinite(table.loc[table["variant"] != "as_trained", "mean"]).all()
