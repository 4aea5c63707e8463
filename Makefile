# recaudo: `make test` and `make synth` on a machine with only Python 3.11+, node and make.
SHELL := bash
.DEFAULT_GOAL := help

PYTHON ?= python3
# The Lambda's own Python (python3.13) runs the venv, the tests, the local stack's workers and writes the
# layer's bytecode, when the machine has it. pyenv's shim names python3.13 even when it is not the active
# version and then fails, so each candidate is asked for its version.
LAMBDA_PYTHON_VERSION := 3.13
comma := ,
ifndef LAMBDA_PYTHON
LAMBDA_PYTHON := $(shell for p in "$$(command -v python$(LAMBDA_PYTHON_VERSION))" $(HOME)/.pyenv/versions/$(LAMBDA_PYTHON_VERSION)*/bin/python$(LAMBDA_PYTHON_VERSION); do \
	[ -x "$$p" ] && "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(LAMBDA_PYTHON_VERSION))))' 2>/dev/null && { echo "$$p"; break; }; done)
endif
VENV_PYTHON := $(or $(LAMBDA_PYTHON),$(PYTHON))
TOOLS := .tools
UV_VERSION := 0.13.8
UV := $(abspath $(TOOLS))/bin/uv
RUN := $(UV) run --locked --no-sync

export UV
export UV_PYTHON ?= $(VENV_PYTHON)
export LAYER_PYTHON ?= $(LAMBDA_PYTHON)
export UV_PYTHON_DOWNLOADS := never
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1

# two workers (the machine has two cores); e2e tests stay together in one of them
PYTEST_ARGS ?= -n 2 --dist loadgroup
PORT ?= 8787

.PHONY: help deps lint format test test-unit synth run openapi bench bench-local clean

help:
	@echo "make test       install everything (first run) and run the whole suite"
	@echo "make lint       ruff (rules and format check) and mypy; CI runs it before the tests"
	@echo "make format     apply ruff's fixes and formatter"
	@echo "make synth      write cdk.out offline, without Docker (builds the layer once)"
	@echo "make run        synthesize and serve the whole app on localhost (PORT=$(PORT)); Ctrl-C stops it"
	@echo "make openapi    regenerate docs/openapi.json from the handlers"
	@echo "make bench      print the benchmarks: cold start, warm overhead, cobranzas import, recargas, RADIAN polling, UNO paymentDue"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The stamp names the interpreter: a venv made with another Python is rebuilt, not reused.
SYNCED := .venv/.synced-$(notdir $(VENV_PYTHON))

$(SYNCED): $(UV) pyproject.toml uv.lock
	@[ -n "$(LAMBDA_PYTHON)" ] || echo "note: no Python $(LAMBDA_PYTHON_VERSION) (the Lambda's) on this machine; using $(PYTHON)"
	$(UV) sync --locked
	@rm -f .venv/.synced-*
	@touch $@

deps: $(SYNCED)

lint: deps
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy

format: deps
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

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
	$(RUN) python benchmarks/recargas.py
	$(RUN) python benchmarks/radian.py
	$(RUN) python benchmarks/cuotas.py

clean:
	rm -rf cdk.out build .pytest_cache .local
	find . -name __pycache__ -type d -prune -not -path "./.venv/*" -exec rm -rf {} +
