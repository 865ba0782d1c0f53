# Two commands do all set-up on a machine with python3 (>= 3.11) and make:
#   make report   -> .venv from uv.lock, then the comparison report for the default scenario
#   make test     -> .venv from uv.lock, then lint, types, tests, doctests and notebooks
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.openha-synced
RUN := $(UV) run --frozen --no-sync

.PHONY: env report test lint typecheck pytest bench lab clean

env: $(STAMP)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

report: $(STAMP)
	$(RUN) openha report --out reports/default --force

lint: $(STAMP)
	$(RUN) ruff check openha tests benchmarks notebooks
	$(RUN) ruff format --check openha tests benchmarks

typecheck: $(STAMP)
	$(RUN) mypy

pytest: $(STAMP)
	OPENHA_FAST=1 $(RUN) pytest --benchmark-skip -q

test: lint typecheck pytest

bench: $(STAMP)
	$(RUN) pytest --benchmark-only

lab: $(STAMP)
	$(RUN) jupyter lab notebooks

clean:
	rm -rf $(VENV) $(TOOLS) reports .pytest_cache .benchmarks
