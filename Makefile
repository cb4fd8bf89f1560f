# The project's commands. Start with `make demo` and `make test`; `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The real Airbyte S3 source connector, in a virtualenv of its own (its pins clash with Airflow's).
SOURCE_S3_VENV := .venv-source-s3
SOURCE_S3_STAMP := $(SOURCE_S3_VENV)/.installed
UV_VERSION := $(shell sed -n 's/^uv==\([0-9.]*\).*/\1/p' requirements.lock)
SERVICES = $(PY) -m dev.embedded

.PHONY: help install lock manifest up down status env airflow test lint unit demo clean bench-stream bench-load bench-warehouse bench-dag bench-scale bench-parse bench-chaos

help: ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(STAMP) $(SOURCE_S3_STAMP) ## create .venv and .venv-source-s3 from their locks (seconds when nothing changed)

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "error: Python 3.11 is required, found " + sys.version.split()[0] + " at $(PYTHON); set PYTHON=/path/to/python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(VENV)/bin/uv || $(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@# --compile-bytecode: every process imports precompiled modules, also where PYTHONDONTWRITEBYTECODE=1 (as on
	@# CI here) would make each one compile Airflow, dbt and boto from source again (import airflow.sdk: 11.8 s -> 5.9 s).
	$(VENV)/bin/uv pip sync --quiet --compile-bytecode --python $(PY) --require-hashes requirements.lock
	@# The repo root on sys.path, as in the Astro image: `import include...` works everywhere.
	@$(PY) -c 'import site, pathlib; pathlib.Path(site.getsitepackages()[0], "heart_rate_project.pth").write_text("$(CURDIR)\n")'
	@touch $(STAMP)
	@echo "installed into $(VENV) ($$(du -sh $(VENV) | cut -f1))"

$(SOURCE_S3_STAMP): dev/airbyte/source-s3.lock $(STAMP)
	@test -x $(SOURCE_S3_VENV)/bin/python || $(PYTHON) -m venv --without-pip $(SOURCE_S3_VENV)
	$(VENV)/bin/uv pip sync --quiet --compile-bytecode --python $(SOURCE_S3_VENV)/bin/python --require-hashes dev/airbyte/source-s3.lock
	@touch $(SOURCE_S3_STAMP)
	@echo "installed the Airbyte S3 source into $(SOURCE_S3_VENV) ($$(du -sh $(SOURCE_S3_VENV) | cut -f1))"

lock: ## re-resolve requirements.lock and requirements.txt after editing requirements*.in
	@mkdir -p .local
	@# What the Astro Runtime bundles is pinned at its versions (tools/astro_runtime.json).
	$(PY) tools/pin_image_requirements.py --constraints > .local/runtime-constraints.txt
	$(VENV)/bin/uv pip compile requirements-dev.in --python-version 3.11 --universal \
		--constraint .local/runtime-constraints.txt --generate-hashes --no-header --quiet -o requirements.lock
	$(PY) tools/pin_image_requirements.py
	$(VENV)/bin/uv pip compile dev/airbyte/source-s3.in --python-version 3.11 --universal \
		--generate-hashes --no-header --quiet -o dev/airbyte/source-s3.lock

# Cosmos renders the DAG's dbt task groups from this manifest; `dbt parse` writes it (no warehouse needed).
DBT_SOURCES := $(shell find dbt/models dbt/macros dbt/seeds -type f) dbt/dbt_project.yml dbt/profiles.yml
dbt/target/manifest.json: $(STAMP) $(DBT_SOURCES)
	@cd dbt && ../$(VENV)/bin/dbt parse --quiet --project-dir . --profiles-dir . && echo "wrote $@"

manifest: dbt/target/manifest.json ## dbt parse: the manifest the DAG renders its dbt task groups from

up: install ## start the embedded services (S3, PostgreSQL, Kafka) on 127.0.0.1
	@$(SERVICES) up

down: ## stop the embedded services
	@if [ -x $(PY) ]; then $(SERVICES) down; fi

status: install ## show the embedded services' state
	@$(SERVICES) status

env: install ## print the connection settings (for your shell: eval the output of make -s env)
	@$(SERVICES) env

lint: install ## ruff, and the generated files are in step with their sources
	$(VENV)/bin/ruff check .
	$(PY) tools/pin_image_requirements.py --check
	$(PY) tools/event_contract_macro.py --check

unit: install manifest ## fast tests, no services
	$(VENV)/bin/pytest -m unit

airflow: up manifest ## the Airflow web UI on http://localhost:8080 (standalone, embedded services); Ctrl+C stops it
	@$(PY) -m dev.airflow_ui

TEST_WORKERS ?= 2
test: install lint manifest ## lint and the whole suite, in TEST_WORKERS parallel sessions (each with its own services)
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

demo: install manifest ## run the pipeline end to end on the embedded services and show the results
	@$(PY) -m dev.demo

clean: down ## stop services and delete .local (all local data)
	rm -rf .local

bench-stream: up ## producer, sink and encoding benchmarks (bench/stream_bench.py)
	$(PY) bench/stream_bench.py

bench-load: up ## embedded S3 loader throughput, 10k to 1M lines (bench/load_bench.py)
	$(PY) bench/load_bench.py

bench-dag: up manifest ## an hourly run with watcher and with local dbt execution, same data (bench/dag_run_bench.py)
	$(PY) bench/dag_run_bench.py

bench-scale: up manifest ## one event hour at 100,000 users (~2M readings), every stage timed, peak memory (bench/scale_bench.py)
	$(PY) bench/scale_bench.py

bench-parse: install manifest ## the DAG file's parse cost beyond `import airflow.sdk`, both modes (bench/dag_parse_bench.py)
	$(PY) bench/dag_parse_bench.py

bench-chaos: up ## three sinks in one group, randomly stopped and killed, against the single-sink lake (bench/sink_chaos.py)
	$(PY) bench/sink_chaos.py

bench-warehouse: up ## hourly dbt run cost at 1x and 10x history, and a full rebuild (bench/warehouse_bench.py)
	$(PY) bench/warehouse_bench.py
