"""Rule prepare_dataset: build one dataset and write it in the store format."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import logging

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")

import json

from innerloop.data.registry import prepare_dataset, task_requirements
from innerloop.data.store import content_digest
from innerloop.io import write_text_atomic

dataset = snakemake.wildcards.dataset
prepare_dataset(dataset, dict(snakemake.params.options), Path(snakemake.output.manifest).parent,
                requirements=task_requirements(snakemake.config, dataset))
# Last: what the jobs downstream depend on (rules/common.smk, store).
manifest = json.loads(Path(snakemake.output.manifest).read_text())
write_text_atomic(snakemake.output.content, f"{content_digest(manifest)}  {dataset}\n")
