"""Per-rule scheduler requests from the config (innerloop.cluster), what the SLURM executor
makes of them, and the two profiles."""

from pathlib import Path

import pytest
import yaml
from snakemake_executor_plugin_slurm.utils import set_gres_string

from innerloop.cluster import CONFIGURABLE_RULES, NETWORK_RULES, requests_gpu, rule_resources, rule_threads
from innerloop.config import ConfigError, load_config, validate_config

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = load_config(ROOT / "config/config.yaml")


def config_with(**resources):
    return validate_config({"resources": resources, "train": {"device": "cpu"}})


class FakeJob:
    """The part of a Snakemake job the plugin's gres helper reads."""

    def __init__(self, resources):
        self.resources = type("Resources", (dict,), {"__getattr__": dict.__getitem__})(resources)


@pytest.mark.parametrize("rule", NETWORK_RULES)
def test_network_rules_request_one_gpu_each_only_when_asked(rule):
    assert rule_resources(DEFAULT, rule, gpu=True)["gpu"] == 1
    assert rule_resources(DEFAULT, rule, gpu=False)["gpu"] == 0
    assert "gpu_model" not in rule_resources(DEFAULT, rule, gpu=True)


def test_runtime_memory_and_cpus_come_from_the_config():
    config = config_with(rules={"train": {"runtime": 90, "mem_mb": 1234, "cpus": 3}})
    assert rule_resources(config, "train", gpu=False) == {"runtime": 90, "mem_mb": 1234, "gpu": 0}
    assert rule_threads(config, "train", default=1) == 3
    # Rules left out request nothing themselves (the profile's default-resources apply).
    assert rule_resources(config, "evaluate_run", gpu=False) == {"gpu": 0}
    assert rule_threads(config, "evaluate_run", default=2) == 2
    assert rule_resources(config, "sine_run", gpu=True) == {}


def test_gpu_model_becomes_a_per_job_gpus_option_of_sbatch():
    config = config_with(gpu_model="a100")
    assert set_gres_string(FakeJob(rule_resources(config, "train", gpu=True))).strip() == "--gpus=a100:1"
    assert set_gres_string(FakeJob(rule_resources(DEFAULT, "train", gpu=True))).strip() == "--gpus=1"
    assert set_gres_string(FakeJob(rule_resources(config, "train", gpu=False))).strip() == ""


@pytest.mark.parametrize("setting, device, cuda, expected", [
    ("auto", "auto", True, True), ("auto", "auto", False, False), ("auto", "cuda:1", False, True),
    ("auto", "cpu", True, False), (True, "cpu", False, True), (False, "cuda", True, False),
])
def test_when_network_jobs_request_a_gpu(setting, device, cuda, expected):
    config = validate_config({"resources": {"gpu": setting}, "train": {"device": device}})
    assert requests_gpu(config, cuda) is expected


def test_every_configurable_rule_has_a_default_request():
    assert set(DEFAULT["resources"]["rules"]) == set(CONFIGURABLE_RULES)
    for rule in CONFIGURABLE_RULES:
        assert {"runtime", "mem_mb"} <= set(rule_resources(DEFAULT, rule, gpu=False)), rule


@pytest.mark.parametrize("resources, key", [
    ({"rules": {"trian": {"runtime": 5}}}, "resources.rules"),
    ({"rules": {"train": {"mem": 5}}}, "resources.rules.train.mem"),
    ({"gpu_model": "'a100'"}, "resources.gpu_model"),
    ({"gpu": "yes"}, "resources.gpu"),
])
def test_bad_resources_name_the_key(resources, key):
    with pytest.raises(ConfigError, match=f"'{key}'"):
        validate_config({"resources": resources})


def test_unknown_rule_is_an_error_naming_it():
    with pytest.raises(KeyError, match="report_pdf"):
        rule_resources(DEFAULT, "report_pdf", gpu=False)


def test_slurm_profile_requests_gpus_per_job_and_workstation_limits_them():
    slurm = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    assert slurm["executor"] == "slurm"
    # A workflow-wide gpu limit would let one network job run at a time on the whole cluster.
    assert "resources" not in slurm
    assert {"runtime", "mem_mb"} <= set(slurm["default-resources"])
    workstation = yaml.safe_load((ROOT / "profiles/workstation/config.yaml").read_text())
    assert "executor" not in workstation
    # Several network jobs share a card (each under 620 MiB of GPU memory).
    assert workstation["resources"] == ["gpu=4"]
