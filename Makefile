# Atlas — local commands. A fresh clone needs only `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY_VERSION ?= 3.11
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
ROOT       := $(abspath .)
VENV       := $(ROOT)/.venv
SODA_VENV  := $(ROOT)/.venv-soda
PY         := $(VENV)/bin/python
STAMP      := $(ROOT)/.setup-stamp
LOCKS      := requirements/airflow.lock requirements/dev.lock requirements/soda.lock

# Every make target runs with a disposable AIRFLOW_HOME and HOME so nothing leaks into ~/.
export ATLAS_ROOT              := $(ROOT)
export AIRFLOW_HOME            ?= $(ROOT)/.airflow
export HOME                    := $(ROOT)/.home
export PYTHONPATH              := $(ROOT)/plugins:$(ROOT)/dags
export AIRFLOW__CORE__DAGS_FOLDER := $(ROOT)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(ROOT)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__PARALLELISM ?= 4
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export SCARF_ANALYTICS         := false
export DO_NOT_TRACK            := 1
export ATLAS_SODA_EXECUTABLE   ?= $(SODA_VENV)/bin/soda
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
# pyarrow's allocator for the archive's Parquet work (as the Dockerfile sets it): see bench/bench_archive.py
export ARROW_DEFAULT_MEMORY_POOL ?= jemalloc

DBT_PROJECT := include/atlas_dbt
MANIFEST    := $(DBT_PROJECT)/target/manifest.json
SLICES      := $(DBT_PROJECT)/target/manifests/index.json
DBT_FILES   := $(shell find $(DBT_PROJECT) \( -path '*/target' -o -path '*/logs' \) -prune -o -type f \( -name '*.sql' -o -name '*.yml' \) -print)
SOURCES_DIR := $(or $(ATLAS_SOURCES_DIR),include/sources)
SOURCE_FILES := $(wildcard $(SOURCES_DIR)/*.yaml $(SOURCES_DIR)/*.yml)
GENERATED   := $(DBT_PROJECT)/target/generated.stamp
GENERATOR   := $(wildcard plugins/atlas/dbt/*.py plugins/atlas/config/*.py)
GENERATED_FILES := $(shell find $(DBT_PROJECT)/models/generated $(DBT_PROJECT)/snapshots/generated -type f 2>/dev/null)

.PHONY: help setup lock migrate demo validate run run-args up down test lint format bench clean

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

$(STAMP): $(LOCKS)
	@command -v uv >/dev/null 2>&1 || python$(PY_VERSION) -m pip install -q uv || python3 -m pip install -q uv
	@mkdir -p $(HOME) $(AIRFLOW_HOME)
	uv venv -q --allow-existing -p $(PY_VERSION) $(VENV)
	uv pip sync -q -p $(VENV)/bin/python requirements/airflow.lock requirements/dev.lock
	uv venv -q --allow-existing -p $(PY_VERSION) $(SODA_VENV)
	uv pip sync -q -p $(SODA_VENV)/bin/python requirements/soda.lock
	@touch $(STAMP)

# The per-source dbt files (sources, masked staging models, current-state tables, SCD2 snapshots)
# are generated from the source YAML files into $(DBT_PROJECT)/{models,snapshots}/generated; only
# files whose content changed are rewritten. The sources folder is a prerequisite too, so adding or
# removing a YAML regenerates; a hand-edited generated file is regenerated (restored) as well.
$(GENERATED): $(STAMP) $(SOURCES_DIR) $(SOURCE_FILES) $(GENERATOR) $(GENERATED_FILES)
	$(PY) -m atlas.dbt.generate --sources $(SOURCES_DIR) --project $(DBT_PROJECT)
	@mkdir -p $(@D) && touch $@

# The dbt manifest is built once here (dbt parse needs no database, ~3 s) so Cosmos renders
# DAGs from it instead of running `dbt ls` at every parse; generation runs first.
$(MANIFEST): $(STAMP) $(GENERATED) $(DBT_FILES)
	cd $(DBT_PROJECT) && $(VENV)/bin/dbt parse --quiet --profiles-dir . --target-path target
	@touch $(MANIFEST)

# One small manifest per source, so each DAG's Cosmos group renders from its own slice.
$(SLICES): $(MANIFEST)
	$(PY) -m atlas.dbt.manifest split
	@touch $(SLICES)

setup: $(STAMP) $(GENERATED) $(MANIFEST) $(SLICES)  ## create the three venvs from the lock files, generate the per-source dbt models and build the dbt manifest (idempotent)

lock:  ## re-resolve requirements*.txt into the lock files
	uv pip compile -q -p $(PY_VERSION) requirements.txt -o requirements/airflow.lock
	uv pip compile -q -p $(PY_VERSION) requirements/dev.txt -c requirements/airflow.lock -o requirements/dev.lock
	uv pip compile -q -p $(PY_VERSION) requirements/soda.txt -o requirements/soda.lock

migrate: setup  ## apply sql/ migrations to the atlas_warehouse connection
	$(PY) -m atlas.cli migrate

# docker-compose.yaml defaults no secret: this writes them to .env. Needs no venv (python3 does),
# so a machine with Docker only can run it before `docker compose up`.
.PHONY: secrets
secrets:  ## write .env for docker compose: a fresh Fernet key, JWT secret and passwords, mode 0600 (an existing .env is kept unless FORCE=1)
	$(if $(wildcard $(PY)),$(PY),python3) -m atlas_dev.secrets $(if $(filter 1,$(FORCE)),--force)

demo: setup  ## run the whole pipeline on the sample sources and print what happened
	$(PY) -m atlas_dev demo

# validate refreshes the generated dbt models and the manifest first when it can (so each DAG is
# built as Airflow will parse it); when a YAML is invalid that fails quietly and validate names it.
validate: $(STAMP)  ## check source YAML files (all, or FILES="a.yaml b.yaml"): problems with file, key and value; each DAG built; no database
	@$(MAKE) --no-print-directory -s $(SLICES) >/dev/null 2>&1 || echo "(dbt models and manifest not refreshed: run make setup once the files below are valid)"
	$(PY) -m atlas.cli validate $(FILES)

run: run-args setup  ## run one source for one day: make run SOURCE=crm DATE=2025-12-31 (embedded PostgreSQL unless AIRFLOW_CONN_ATLAS_WAREHOUSE is set)
	$(PY) -m atlas_dev run $(SOURCE) --date $(DATE)

run-args:
	@test -n "$(SOURCE)" || { echo "make run: SOURCE is missing: make run SOURCE=<source name> DATE=YYYY-MM-DD" >&2; exit 2; }
	@test -n "$(DATE)" || { echo "make run: DATE is missing: make run SOURCE=$(SOURCE) DATE=YYYY-MM-DD (the day to process)" >&2; exit 2; }

up: setup  ## start a local Airflow (api-server, scheduler, dag-processor, triggerer) on embedded PostgreSQL and S3 with the sample sources; prints the URL and login (PORT=8080, EXECUTOR=celery WORKERS=2)
	$(PY) -m atlas_dev up $(if $(PORT),--port $(PORT)) $(if $(EXECUTOR),--executor $(EXECUTOR)) $(if $(WORKERS),--workers $(WORKERS))

down:  ## stop every process `make up` started, and nothing else
	@if [ -x $(PY) ]; then $(PY) -m atlas_dev down; else echo "nothing to stop (no venv)"; fi

lint: setup  ## ruff lint + format check + mypy over plugins/atlas
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup  ## apply ruff formatting and fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: setup lint  ## setup + linters + the whole test suite, in parallel (TEST_WORKERS, default: one per core)
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

bench: setup  ## run every benchmark under bench/
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:  ## remove venvs and local state
	rm -rf $(VENV) $(SODA_VENV) $(STAMP) .airflow .home .pytest_cache
