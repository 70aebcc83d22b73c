# userops — two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Dagster's run history lives in the checkout (git-ignored), shared by `make run` and `make dev`.
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup browser bi-setup bi run test test-fast dev bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

setup: $(BIN)/.installed                 ## create .venv and install the project

run: setup                               ## sample data + every asset through Dagster
	$(BIN)/userops demo

# The report and UI tests drive Debian's Chromium; a CJK font lets charts carry Chinese labels.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
browser:                                 ## Debian's chromium and a CJK font for the browser tests
	@if ! command -v chromium >/dev/null || [ ! -f $(CJK_FONT) ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; }; \
	fi

# Apache Superset in a virtual environment of its own: its pins (Flask, SQLAlchemy 1.4, pandas)
# clash with Dagster's. The packages after duckdb-engine are ones Superset 6.1.0 imports undeclared.
BI_VENV := .venv-bi
$(BI_VENV)/.installed: orchestration/bi/constraints.txt
	$(PYTHON) -m venv $(BI_VENV)
	$(BI_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BI_VENV)/bin/python -m pip install --quiet -c orchestration/bi/constraints.txt \
	  apache-superset duckdb-engine flask-caching rich cachetools
	touch $@

bi-setup: $(BI_VENV)/.installed          ## install Apache Superset into .venv-bi

bi: setup bi-setup                       ## Apache Superset with the userops dashboard on the serving copy
	$(BIN)/userops bi

test: setup browser bi-setup             ## the whole test suite
	$(BIN)/python -m pytest

# The edit loop: the unit tests of orchestration/lib and the dbt project's conventions, no pipeline run.
test-fast: setup                         ## the tests that run no pipeline (seconds to a few minutes)
	$(BIN)/python -m pytest tests/orchestration tests/test_dbt_conventions.py tests/test_generator.py

dev: setup                               ## the Dagster UI on the same definitions and instance
	mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev

bench: setup                             ## scale benchmarks (not part of `make test`)
	$(BIN)/python -m tests.bench.bench_components $(COMPONENTS_ARGS)
	$(BIN)/python -m tests.bench.bench_identity --truth $(IDENTITY_ARGS)
	$(BIN)/python -m tests.bench.bench_ingest $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.bench_daily $(DAILY_ARGS)

clean:                                   ## remove generated data, the warehouse and dbt output
	rm -rf data/landing data/ground_truth data/warehouse.duckdb* data/outbox data/reports data/serving target logs .superset_home
