"""A trained model is loaded only after its checksum is checked, and only with one."""

import pytest

from innerloop.checkpoints import CheckpointCorruptError, checksum_path
from innerloop.runs import RunSpec
from innerloop.training import build_run, load_model, save_model

SPEC = RunSpec(dataset="tiny", algorithm="maml", seed=0, ways=3, shots=1, queries=2, filters=4, iterations=1,
               meta_batch=1, inner_steps=1, outer_lr=1e-3, val_every=1, val_tasks=1, val_seed=0,
               checkpoint_every=1, options={"inner_lr": 0.1, "first_order": False})


@pytest.fixture
def model_path(tmp_path):
    path = tmp_path / "model.pt"
    save_model(path, build_run(SPEC, (1, 16, 16)), SPEC, (1, 16, 16), 0, {"status": "converged"})
    return path


def test_a_model_with_its_checksum_loads(model_path):
    learner, spec, status = load_model(model_path)
    assert spec == SPEC and status == {"status": "converged"}


def test_a_model_without_its_checksum_is_an_error_naming_the_file_and_the_fix(model_path):
    checksum_path(model_path).unlink()
    with pytest.raises(CheckpointCorruptError) as error:
        load_model(model_path)
    message = str(error.value)
    assert str(model_path) in message and f"{model_path}.sha256" in message
    assert "delete" in message and "rerun" in message


def test_a_flipped_bit_is_an_error(model_path):
    data = bytearray(model_path.read_bytes())
    data[len(data) // 2] ^= 1
    model_path.write_bytes(bytes(data))
    with pytest.raises(CheckpointCorruptError, match="does not match"):
        load_model(model_path)
