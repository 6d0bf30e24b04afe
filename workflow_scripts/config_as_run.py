"""Rule config_as_run: the validated configuration, defaults filled in, as the run used it."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import yaml

from innerloop.io import atomic_path

with atomic_path(snakemake.output[0]) as tmp:
    tmp.write_text(yaml.safe_dump(dict(snakemake.params.config), sort_keys=False))
