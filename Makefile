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

.PHONY: env report test lint typecheck pytest browser bench lab clean

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

# The report's browser test needs Debian's chromium: install it where we can (root or
# passwordless sudo); elsewhere the test skips, unless OPENHA_REQUIRE_BROWSER=1 (CI).
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "make browser: could not install chromium"; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	  (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "make browser: could not install chromium"; \
	else echo "make browser: chromium missing and no root: the browser test will skip"; fi

test: lint typecheck browser pytest

bench: $(STAMP)
	$(RUN) pytest --benchmark-only

lab: $(STAMP)
	$(RUN) jupyter lab notebooks

clean:
	rm -rf $(VENV) $(TOOLS) reports .pytest_cache .benchmarks
