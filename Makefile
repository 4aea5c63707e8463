# recaudo: `make test` and `make synth` on a machine with only Python 3.11+, node and make.
SHELL := bash
.DEFAULT_GOAL := help

PYTHON ?= python3
TOOLS := .tools
UV_VERSION := 0.13.8
UV := $(abspath $(TOOLS))/bin/uv
RUN := $(UV) run --locked --no-sync

export UV
export UV_PYTHON ?= $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1

# two workers (the machine has two cores); e2e tests stay together in one of them
PYTEST_ARGS ?= -n 2 --dist loadgroup
PORT ?= 8787

.PHONY: help deps test test-unit synth run openapi bench bench-local clean

help:
	@echo "make test       install everything (first run) and run the whole suite"
	@echo "make synth      write cdk.out offline, without Docker (builds the layer once)"
	@echo "make run        synthesize and serve the whole app on localhost (PORT=$(PORT)); Ctrl-C stops it"
	@echo "make openapi    regenerate docs/openapi.json from the handlers"
	@echo "make bench      print the cold-start, warm-overhead and cobranzas-import benchmarks"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked
	@touch $@

deps: .venv/.synced

test: deps
	$(RUN) pytest $(PYTEST_ARGS)

test-unit: deps
	$(RUN) pytest tests/unit $(PYTEST_ARGS)

synth: deps
	$(RUN) python -m infra.app

run: synth
	$(RUN) python -m local_stack --port $(PORT)

openapi: deps
	$(RUN) python scripts/openapi.py --write

bench: deps
	$(RUN) python benchmarks/handlers.py
	$(RUN) python benchmarks/local_stack.py
	$(RUN) python benchmarks/cobranzas.py

clean:
	rm -rf cdk.out build .pytest_cache .local
	find . -name __pycache__ -type d -prune -not -path "./.venv/*" -exec rm -rf {} +
