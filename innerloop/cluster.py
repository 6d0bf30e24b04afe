"""What each rule asks a scheduler for: runtime, memory, CPUs and a GPU, from the config.

``rules/common.smk`` turns :func:`rule_resources` and :func:`rule_threads` into the
``resources:`` and ``threads:`` of the rules named in :data:`CONFIGURABLE_RULES`. The SLURM
executor plugin maps them onto ``sbatch`` per job: ``runtime`` -> ``-t`` (minutes),
``mem_mb`` -> ``--mem``, threads -> ``--cpus-per-task``, and ``gpu`` (with ``gpu_model``)
-> ``--gpus=[model:]1``. The ``gpu`` resource is therefore a per-job request; only the
local executor also reads it as a workflow-wide limit (``--resources gpu=1``: one network
job at a time on the one card).
"""

from __future__ import annotations

from typing import Any

#: Rules that run a network: they request the GPU when the workflow computes on one.
NETWORK_RULES = ("train", "evaluate_run", "cross_domain_evaluation", "ablation_train", "ablation_probe",
                 "ablation_cross_probe", "rate_sign_probe", "convergence_grid", "tune_run")
#: Rules whose resources ``resources.rules`` in the config may set (config/schema.yaml).
CONFIGURABLE_RULES = (*NETWORK_RULES, "sine_run")


def requests_gpu(config: dict[str, Any], cuda_available: bool) -> bool:
    """Whether network jobs request a GPU: ``resources.gpu`` if true/false; ``auto`` asks
    for one when the jobs compute on CUDA (``train.device`` cuda, or auto with CUDA here)."""
    gpu = config["resources"]["gpu"]
    if gpu != "auto":
        return bool(gpu)
    device = config["train"]["device"]
    return cuda_available if device == "auto" else device.startswith("cuda")


def _rule_block(config: dict[str, Any], rule: str) -> dict[str, Any]:
    if rule not in CONFIGURABLE_RULES:
        raise KeyError(f"rule {rule!r} takes no resources from the config; configurable rules: {CONFIGURABLE_RULES}")
    return config["resources"]["rules"].get(rule) or {}


def rule_resources(config: dict[str, Any], rule: str, *, gpu: bool) -> dict[str, Any]:
    """Snakemake resources of ``rule``: ``runtime`` (minutes) and ``mem_mb`` where the config
    sets them, and for a network rule ``gpu`` (1 when ``gpu`` is true, else 0) plus
    ``gpu_model`` when configured and a GPU is requested."""
    block = _rule_block(config, rule)
    resources = {key: block[key] for key in ("runtime", "mem_mb") if block.get(key) is not None}
    if rule in NETWORK_RULES:
        resources["gpu"] = 1 if gpu else 0
        model = config["resources"]["gpu_model"]
        if gpu and model:
            resources["gpu_model"] = model
    return resources


def rule_threads(config: dict[str, Any], rule: str, default: int) -> int:
    """Threads (= CPUs per SLURM job) of ``rule``: ``resources.rules.<rule>.cpus`` or ``default``."""
    cpus = _rule_block(config, rule).get("cpus")
    return default if cpus is None else cpus
