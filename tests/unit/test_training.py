"""Meta-training: resuming from a checkpoint ends exactly where an uninterrupted run does."""

import pandas as pd
import pytest
import torch

from innerloop.runs import RUN_COLUMNS, RunId, RunSpec
from innerloop.training import Interrupted, load_model, train


def spec(algorithm, **overrides):
    base = dict(dataset="tiny", algorithm=algorithm, seed=3, ways=3, shots=1, queries=2, filters=4,
                iterations=6, meta_batch=2, inner_steps=2, outer_lr=0.01, val_every=2, val_tasks=3,
                val_seed=9, checkpoint_every=100,
                options={"maml": {"inner_lr": 0.1}, "metasgd": {}}[algorithm])
    return RunSpec(**{**base, **overrides})


def run(tmp_path, s, store, stop_after=None):
    paths = dict(model_path=tmp_path / "model.pt", log_path=tmp_path / "train_log.csv",
                 validation_path=tmp_path / "validation.csv", checkpoint_path=tmp_path / "ckpt" / "checkpoint.pt")
    train(s, store, device=torch.device("cpu"), progress=False, stop_after=stop_after, run=RunId.from_spec(s), **paths)
    return paths


@pytest.mark.parametrize("algorithm", ["maml", "metasgd"])
def test_resume_equals_uninterrupted(tmp_path, tiny_store, algorithm):
    s = spec(algorithm)
    whole = run(tmp_path / "whole", s, tiny_store)

    with pytest.raises(Interrupted):
        run(tmp_path / "split", s, tiny_store, stop_after=3)
    assert (tmp_path / "split" / "ckpt" / "checkpoint.pt").exists()
    assert not (tmp_path / "split" / "model.pt").exists()
    resumed = run(tmp_path / "split", s, tiny_store)

    a, _, status_a = load_model(whole["model_path"])
    b, _, status_b = load_model(resumed["model_path"])
    assert status_b["resumed_from"] == 3
    for key, tensor in a.state_dict().items():
        assert torch.equal(tensor, b.state_dict()[key]), key
    for name in ("log_path", "validation_path"):
        pd.testing.assert_frame_equal(pd.read_csv(whole[name]), pd.read_csv(resumed[name]), check_exact=True)
    log = pd.read_csv(whole["log_path"])
    assert list(log["iteration"]) == list(range(1, 7))
    for name in ("log_path", "validation_path"):  # each log says which run wrote it
        table = pd.read_csv(whole[name])
        assert list(table.columns[:6]) == list(RUN_COLUMNS)
        assert table[["algorithm", "seed"]].drop_duplicates().values.tolist() == [[algorithm, s.seed]]
    assert list(pd.read_csv(whole["validation_path"])["iteration"]) == [2, 4, 6]


def test_training_changes_parameters_and_seed_matters(tmp_path, tiny_store):
    one = load_model(run(tmp_path / "a", spec("maml"), tiny_store)["model_path"])[0].state_dict()
    two = load_model(run(tmp_path / "b", spec("maml", seed=4), tiny_store)["model_path"])[0].state_dict()
    assert any(not torch.equal(one[k], two[k]) for k in one)


def test_checkpoint_of_another_configuration_is_not_resumed(tmp_path, tiny_store):
    with pytest.raises(Interrupted):
        run(tmp_path, spec("maml"), tiny_store, stop_after=3)
    paths = run(tmp_path, spec("maml", outer_lr=0.02), tiny_store)
    assert load_model(paths["model_path"])[2]["resumed_from"] == 0


def test_a_gzipped_table_is_the_same_bytes_whenever_it_is_written(tmp_path, monkeypatch):
    """The gzip header carries no timestamp and no (temporary) file name: the workflow's
    .csv.gz tables are byte-deterministic, whatever their name and time of writing."""
    import gzip
    import time

    import pandas as pd

    from innerloop.io import write_csv

    table = pd.DataFrame({"task": [0, 1], "accuracy": [0.5, 0.75]})
    write_csv(table, tmp_path / "a.csv.gz")
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)
    write_csv(table, tmp_path / "b.csv.gz")
    assert (tmp_path / "a.csv.gz").read_bytes() == (tmp_path / "b.csv.gz").read_bytes()
    assert gzip.decompress((tmp_path / "a.csv.gz").read_bytes()).decode() == "task,accuracy\n0,0.5\n1,0.75\n"
