# Two commands: `make run` (set up, write the demo shop if the landing zone is empty, refresh)
# and `make test` (set up, run the whole test suite). Everything else is in `kpi --help`
# (the demo shop: `kpi-demo --help`; the benchmark: `kpi-bench --help`). `make bi` serves the
# published mart in Apache Superset, from its own environment (bi/).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.8
TOOLS := .tools
VENV := .venv
BI_VENV := bi/.venv
KPI := $(VENV)/bin/kpi
# uv's own cache (~/.cache/uv, or UV_CACHE_DIR): a second clone on the same machine installs
# from it instead of downloading every wheel again (Superset's environment alone is ~900 MB)
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: setup run test lint clean bi bi-setup

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

# Superset pins SQLAlchemy 1.4 and the pipeline 2.x: its own environment, from bi/uv.lock.
# Compiled up front too: uncompiled, each Superset start (provisioning, the server) compiled
# what it imports, 24 s instead of 14 s for provisioning in place.
$(BI_VENV)/.synced: bi/pyproject.toml bi/uv.lock $(TOOLS)/bin/uv
	cd bi && UV_PROJECT_ENVIRONMENT=$(CURDIR)/$(BI_VENV) $(CURDIR)/$(TOOLS)/bin/uv sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

bi-setup: $(BI_VENV)/.synced

run: setup
	$(VENV)/bin/kpi-demo --if-empty
	$(KPI) refresh

# The BI tests provision and query Superset: its environment too.
test: setup bi-setup
	$(VENV)/bin/pytest

bi: setup bi-setup
	$(KPI) bi

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) $(BI_VENV) $(TOOLS) .pytest_cache .ruff_cache
