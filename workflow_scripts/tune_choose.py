"""Rule tune_choose: the best tuning candidate of one algorithm and setting."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

from innerloop.tuning import choice_record, read_json, write_json

w = snakemake.wildcards
record = choice_record(w.dataset, w.algorithm, f"{w.ways}w{w.shots}s", [read_json(p) for p in snakemake.input])
print(f"{w.algorithm} {w.ways}w{w.shots}s: chose {record['candidate']} (validation {record['best_score']:.4f})",
      file=sys.stderr)
write_json(record, Path(snakemake.output.chosen))
