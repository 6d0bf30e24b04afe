"""Rule config_as_run: the validated configuration, defaults filled in, as the run used it."""

import sys

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import yaml

from innerloop.io import atomic_path

with atomic_path(snakemake.output[0]) as tmp:
    tmp.write_text(yaml.safe_dump(dict(snakemake.params.config), sort_keys=False))
