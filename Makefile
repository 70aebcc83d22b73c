# userops — two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Dagster's run history lives in the checkout (git-ignored), shared by `make run` and `make dev`.
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup run test dev bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

setup: $(BIN)/.installed                 ## create .venv and install the project

run: setup                               ## sample data + every asset through Dagster
	$(BIN)/userops demo

test: setup                              ## the whole test suite
	$(BIN)/python -m pytest

dev: setup                               ## the Dagster UI on the same definitions and instance
	mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -m orchestration.definitions

bench: setup                             ## scale benchmarks (not part of `make test`)
	$(BIN)/python -m tests.bench.bench_components $(COMPONENTS_ARGS)
	$(BIN)/python -m tests.bench.bench_identity --truth $(IDENTITY_ARGS)
	$(BIN)/python -m tests.bench.bench_ingest $(BENCH_ARGS)

clean:                                   ## remove generated data, the warehouse and dbt output
	rm -rf data/landing data/ground_truth data/warehouse.duckdb* data/outbox target logs
