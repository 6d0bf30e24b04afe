"""Configuration: defaults, and errors that name the key."""

import copy

import pytest
import yaml

from innerloop.algorithms import ALGORITHMS
from innerloop.config import ConfigError, load_config, validate_config


def test_default_config_and_presets_are_valid():
    config = load_config("config/config.yaml")
    assert config["task"]["ways"] == 5 and config["train"]["inner_steps"] == 5
    assert config["algorithm_options"]["maml"]["inner_lr"] == 0.01
    assert len(config["seeds"]) >= 5, "the study's pair gets at least five seeds"
    assert config["evaluation"]["meta_test_tasks"] >= 200
    assert {"maml", "metasgd"} <= set(config["algorithms"]), "the default runs the study's pair"
    comparison = load_config("config/config.yaml", "config/presets/comparison.yaml")
    assert sorted(comparison["algorithms"]) == sorted(ALGORITHMS), "the comparison preset compares every algorithm"
    for preset in ("smoke", "five_shot"):
        load_config("config/config.yaml", f"config/presets/{preset}.yaml")
    for preset in ("paper", "omniglot"):  # read from disk: valid but for their roots, which are not here
        load_config("config/config.yaml", f"config/presets/{preset}.yaml", sources=False)
    paper = load_config("config/config.yaml", "config/presets/paper.yaml", sources=False)
    assert (paper["train"]["iterations"], paper["train"]["meta_batch"]) == (60000, 3)
    assert paper["dataset"] == "miniimagenet" and paper["datasets"]["miniimagenet"]["image_size"] == 84
    assert paper["cross_domain"] == [{"train": "miniimagenet", "test": "cub"}]
    assert (paper["task"]["ways"], paper["task"]["shots"], paper["task"]["queries"]) == (5, [1], 10)


@pytest.mark.parametrize(
    "change, key",
    [
        ({"algorithms": ["maml", "mamll"]}, "algorithms.1"),
        ({"task": {"ways": 0}}, "task.ways"),
        ({"task": {"ways": -5}}, "task.ways"),
        ({"train": {"iterations": "many"}}, "train.iterations"),
        ({"train": {"itrations": 5}}, "train.itrations"),
        ({"train": {"device": "gpu"}}, "train.device"),
        ({"algorithm_options": {"metasgd": {"lr_init_low": 0.5, "lr_init_high": 0.1}}},
         "algorithm_options.metasgd.lr_init_low"),
    ],
)
def test_bad_values_name_the_key(change, key):
    config = yaml.safe_load(open("config/config.yaml"))
    for section, value in change.items():
        if isinstance(value, dict) and isinstance(config.get(section), dict):
            config[section] = {**copy.deepcopy(config[section]), **value}
        else:
            config[section] = value
    with pytest.raises(ConfigError, match=f"'{key}'"):
        validate_config(config)


def test_a_key_that_moved_out_of_the_config_says_where_it_went():
    with pytest.raises(ConfigError, match=r"'resources' is no longer read: .*profiles/slurm/config.yaml: set-resources"):
        validate_config({"resources": {"gpu": True}})


def test_unknown_algorithm_lists_the_known_ones():
    with pytest.raises(ConfigError, match="allowed values: .*maml.*metasgd"):
        validate_config({"algorithms": ["reptil"]})


def test_cross_domain_pairs_must_name_configured_datasets():
    with pytest.raises(ConfigError, match=r"cross_domain\.0\.test.*'omniglot'"):
        validate_config({"cross_domain": [{"train": "glyphs", "test": "omniglot"}]})
    assert validate_config({"cross_domain": [{"train": "glyphs", "test": "digits"}]})["cross_domain"]


def test_sweep_datasets_must_be_configured_and_hold_a_task():
    from innerloop.config import sweep_datasets

    assert sweep_datasets(validate_config({})) == ["glyphs"]  # null: the main dataset
    with pytest.raises(ConfigError, match=r"'ablations\.inner_steps\.datasets\.1': 'mnistt'.*configured datasets"):
        validate_config({"ablations": {"inner_steps": {"datasets": ["glyphs", "mnistt"]}}})
    # digits has no training classes: a sweep cannot train on it, said before any job runs
    with pytest.raises(ConfigError, match=r"'task\.ways'.*'train' split of dataset 'digits', which has 0"):
        validate_config({"ablations": {"inner_steps": {"datasets": ["glyphs", "digits"]}}})
