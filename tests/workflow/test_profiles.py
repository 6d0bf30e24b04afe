"""What each job asks for, as Snakemake plans it: the rules' own request (a GPU and two
threads for a job that runs a network, when the jobs compute on CUDA), and the SLURM
profile's per-rule runtime, memory and GPU (profiles/slurm/config.yaml)."""

import re
from pathlib import Path

import pytest
import yaml
from snakemake_executor_plugin_slurm.utils import set_gres_string

from workflow_copy import ROOT, copy_workflow, network_rules, snakemake

SLURM = ROOT / "profiles/slurm/config.yaml"
#: Two runs: every rule has jobs, and the plan is quick.
FEW = "seeds: [0]\nalgorithms: [maml, metasgd]\n"


def planned(cwd: Path, *args: str) -> dict[str, list[tuple[dict[str, str], int]]]:
    """Rule -> (resources, threads) of each job a dry run of the whole DAG plans."""
    result = snakemake(cwd, "-n", "--forceall", "--nolock", "--cores", "8", "--configfile",
                       "config/presets/smoke.yaml", "few.yaml", *args, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs: dict[str, list] = {}
    for block in re.split(r"^(?=(?:local)?rule \w+:)", result.stdout, flags=re.M):
        if m := re.match(r"(?:local)?rule (\w+):", block):
            found = re.search(r"^\s+resources: (.*)$", block, re.M)
            resources = dict(item.split("=", 1) for item in found[1].split(", ")) if found else {}
            threads = re.search(r"^\s+threads: (\d+)$", block, re.M)
            jobs.setdefault(m[1], []).append((resources, int(threads[1]) if threads else 1))
    assert jobs, result.stdout[-3000:]
    return jobs


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    cwd = copy_workflow(tmp_path_factory.mktemp("profiles"))
    (cwd / "few.yaml").write_text(FEW)
    (cwd / "cuda.yaml").write_text("train: {device: cuda}\n")
    (cwd / "profiles").mkdir()
    (cwd / "profiles/slurm").mkdir()
    (cwd / "profiles/slurm/config.yaml").write_text(SLURM.read_text())
    return cwd


def test_network_jobs_ask_for_a_gpu_and_two_threads_only_when_they_compute_on_cuda(workflow):
    network = network_rules()
    on_cpu, on_cuda = planned(workflow), planned(workflow, "cuda.yaml")
    assert network <= set(on_cpu), sorted(network - set(on_cpu))
    assert set(on_cpu) - network, "no planned job runs without a network"
    for rule in on_cpu:
        expected = ({"gpu": "1"}, 2) if rule in network else ({}, 1)
        for resources, threads in on_cuda[rule]:
            assert ({"gpu": resources["gpu"]} if "gpu" in resources else {}, threads) == expected, rule
        for resources, threads in on_cpu[rule]:
            assert (resources.get("gpu", "0"), threads) == ("0", 1), rule


def test_the_slurm_profile_sets_each_rules_request_and_names_only_rules_that_exist(workflow):
    profile = yaml.safe_load(SLURM.read_text())
    jobs = planned(workflow, "--profile", "profiles/slurm", "--slurm-no-account")
    per_rule, per_thread = profile["set-resources"], profile.get("set-threads", {})
    assert set(per_rule) | set(per_thread) <= set(jobs), sorted((set(per_rule) | set(per_thread)) - set(jobs))
    network = network_rules()
    assert {rule for rule, request in per_rule.items() if request.get("gpu")} == network
    for rule, planned_jobs in jobs.items():
        wanted = {**profile["default-resources"], **per_rule.get(rule, {})}
        for resources, threads in planned_jobs:
            assert {key: resources.get(key) for key in wanted} == {key: str(v) for key, v in wanted.items()}, rule
            assert threads == per_thread.get(rule, 1), rule  # the rules' own on a machine without CUDA
            assert resources.get("gpu", "0") == ("1" if rule in network else "0"), rule


class FakeJob:
    """The part of a Snakemake job the SLURM plugin's gres helper reads."""

    def __init__(self, resources):
        self.resources = type("Resources", (dict,), {"__getattr__": dict.get})(resources)


def test_a_gpu_model_in_the_network_request_reaches_every_network_job():
    """The comment in the profile says: add gpu_model to `&network`; sbatch then gets
    --gpus=<model>:1 for every network rule and no --gpus for the others."""
    text = SLURM.read_text()
    assert text.count("&network {gpu: 1,") == 1
    per_rule = yaml.safe_load(text.replace("&network {gpu: 1,", "&network {gpu: 1, gpu_model: a100,"))["set-resources"]
    plain = yaml.safe_load(text)["set-resources"]
    for rule, request in per_rule.items():
        network = rule in network_rules()
        assert set_gres_string(FakeJob(request)).strip() == ("--gpus=a100:1" if network else ""), rule
        assert set_gres_string(FakeJob(plain[rule])).strip() == ("--gpus=1" if network else ""), rule


def test_the_slurm_profile_requests_gpus_per_job_and_the_workstation_limits_them():
    slurm = yaml.safe_load(SLURM.read_text())
    assert slurm["executor"] == "slurm"
    # A workflow-wide gpu limit would let one network job run at a time on the whole cluster.
    assert "resources" not in slurm
    assert {"runtime", "mem_mb"} <= set(slurm["default-resources"])
    workstation = yaml.safe_load((ROOT / "profiles/workstation/config.yaml").read_text())
    assert "executor" not in workstation
    # Several network jobs share a card (each under 620 MiB of GPU memory).
    assert workstation["resources"] == ["gpu=4"]
