# One-line entry points; README and .ci/run call these.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup test lint typecheck demo up bench crosscheck vectors clean

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

typecheck: setup
	$(BIN)/mypy

test: setup lint
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

# The main job until the sequencer exists: the protocol benchmark and the paper's workload.
demo: setup
	$(BIN)/python -m bench.paper
	$(BIN)/python -m bench.stf

bench: setup
	$(BIN)/python -m bench.stf

# Long randomized cross-checks: thousands of cases, outside CI.
crosscheck: setup
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -q -m slow

vectors: setup
	$(BIN)/python -m protocol.vectors tests/vectors

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
