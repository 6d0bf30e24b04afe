# The README's two commands are `make report` and `make test`; both set everything up.
VENV   ?= .venv
PY     := $(VENV)/bin/python
SMK    := $(VENV)/bin/snakemake
# One job per core: on the CPU each network job uses one thread (rules/common.smk).
CORES  ?= $(shell nproc)
# Network jobs at once on the GPU(s): each needs under 620 MiB of GPU memory and two cores,
# so half the cores (README: "GPU"). Without CUDA the jobs request no GPU and this is unused.
GPU_JOBS ?= $(shell echo $$(( $$(nproc) / 2 > 0 ? $$(nproc) / 2 : 1 )))
# System packages (tools/system_packages.sh, installed only where missing): graphviz draws the
# rule graph and Pango the PDF (WeasyPrint) of the report; the tests also use poppler-utils
# (PDF pages) and chromium (the HTML report in a browser). Without root the script names
# each missing package and what needs it, and the workflow skips those outputs.

.PHONY: setup setup-python system-packages system-packages-test report smoke test test-fast lint benchmark clean-results

setup: setup-python system-packages

setup-python: $(VENV)/.installed

system-packages:
	@bash tools/system_packages.sh report

system-packages-test:
	@bash tools/system_packages.sh test

# requirements.lock: the exact version of every Python package (torch 2.14.1 / torchvision
# 0.29.1 from local files where present); the package itself goes in without dependencies,
# and `pip check` confirms the lock satisfies pyproject.toml.
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m pip check
	touch $@

report: setup
	$(SMK) --cores $(CORES) --resources gpu=$(GPU_JOBS)

smoke: setup
	$(SMK) --cores 2 --resources gpu=1 --configfile config/presets/smoke.yaml

# The workflow suite and the unit and algorithm suites as two pytest processes at once
# (tools/run_tests.sh says why); each fails when it collects no test (pytest's exit 5).
test: setup-python system-packages-test
	PYTEST=$(VENV)/bin/pytest bash tools/run_tests.sh

# The unit and algorithm suites only (tests/unit, tests/algorithms): no Snakemake run, no SLURM
# cluster, so their tests can share the cores (pytest-xdist, one worker per core). The workflow
# suite stays one process: its smoke DAG is a session fixture that must run once.
test-fast: setup-python
	$(VENV)/bin/pytest -ra --durations=15 -n $(CORES) --dist worksteal tests/unit tests/algorithms; rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no tests"; [ $$rc -eq 0 ]

lint: setup
	$(SMK) --lint

benchmark: setup
	$(PY) benchmarks/meta_step.py

clean-results:
	find results -mindepth 1 ! -name .gitkeep -delete
