"""Rule prepare_dataset: build one dataset and write it in the store format."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import logging

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")

from innerloop.data.registry import prepare_dataset, task_requirements

dataset = snakemake.wildcards.dataset
prepare_dataset(dataset, dict(snakemake.params.options), Path(snakemake.output.manifest).parent,
                requirements=task_requirements(snakemake.config, dataset))
