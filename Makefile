# The README's two commands are `make report` and `make test`; both set everything up.
VENV   ?= .venv
PY     := $(VENV)/bin/python
SMK    := $(VENV)/bin/snakemake
# One job per core: on the CPU each network job uses one thread (rules/common.smk).
CORES  ?= $(shell nproc)
# System packages: graphviz draws the rule graph; poppler-utils renders PDF pages and chromium
# opens the HTML report in the tests.
APT_PACKAGES := graphviz poppler-utils chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-packages report smoke test test-fast lint benchmark clean-results

setup: $(VENV)/.installed system-packages

system-packages:
	@command -v dot >/dev/null && command -v pdftoppm >/dev/null && command -v chromium >/dev/null || \
	  ($(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES))

# torch 2.14.1 / torchvision 0.29.1 are pinned in pyproject.toml (pip takes them from local files where present).
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

report: setup
	$(SMK) --cores $(CORES) --resources gpu=1

smoke: setup
	$(SMK) --cores 2 --resources gpu=1 --configfile config/presets/smoke.yaml

# pytest exits 5 when it collects no test: that must fail, not pass silently.
test: setup
	$(VENV)/bin/pytest -ra --durations=15; rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no tests"; [ $$rc -eq 0 ]

# The unit and algorithm tests only: no end-to-end Snakemake run, no SLURM cluster.
test-fast: setup
	$(VENV)/bin/pytest -ra --durations=15 -m "not workflow and not slurm"; rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no tests"; [ $$rc -eq 0 ]

lint: setup
	$(SMK) --lint

benchmark: setup
	$(PY) benchmarks/meta_step.py

clean-results:
	find results -mindepth 1 ! -name .gitkeep -delete
