# Two commands: `make run` (set up, write the demo shop if the landing zone is empty, refresh)
# and `make test` (set up, run the whole test suite). Everything else is in `kpi --help`
# (the demo shop: `kpi-demo --help`; the benchmark: `kpi-bench --help`).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.8
TOOLS := .tools
VENV := .venv
KPI := $(VENV)/bin/kpi
export UV_CACHE_DIR ?= $(CURDIR)/.cache/uv
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: setup run test lint clean

setup: $(VENV)/.synced

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Installs exactly what uv.lock pins; fails if pyproject.toml and the lock disagree. Compiled
# up front: with PYTHONDONTWRITEBYTECODE set, every kpi and dbt process would compile ~2,000
# modules (~3 s each time).
$(VENV)/.synced: pyproject.toml uv.lock $(TOOLS)/bin/uv
	$(TOOLS)/bin/uv sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

run: setup
	$(VENV)/bin/kpi-demo --if-empty
	$(KPI) refresh

test: setup
	$(VENV)/bin/pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache
