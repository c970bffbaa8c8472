# One-line entry points; README and .ci/run call these.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup test lint typecheck contracts contracts-check demo up bench crosscheck vectors clean

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Running the rollup needs only Python: the contract artifacts are committed.
setup: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

# solc-js, to rebuild the contracts; running the rollup needs only the committed artifacts
node_modules/solc/package.json: package-lock.json
	npm ci --silent --no-audit --no-fund
	@touch $@

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The committed artifacts must be what the sources compile to.
contracts: setup node_modules/solc/package.json
	$(BIN)/python -m l1_contracts.build

contracts-check: setup node_modules/solc/package.json
	$(BIN)/python -m l1_contracts.build --check

typecheck: setup
	$(BIN)/mypy

test: setup lint contracts-check
	$(BIN)/python -m pytest -q -n 2 -m "not slow" --durations=15

# The long-running local stack (devnet, contracts, sequencer with its batcher, verifier) until Ctrl-C.
up: setup
	$(BIN)/mlrollup up

# The main job: the rollup's story end to end on a temporary local stack (mlrollup demo, docs/demo.md).
demo: setup
	$(BIN)/mlrollup demo

# The paper's workload through the state transition, and the throughput benchmarks.
bench: setup
	$(BIN)/python -m bench.paper
	$(BIN)/python -m bench.stf
	$(BIN)/python -m bench.sequencer

# Long randomized cross-checks: thousands of cases, outside CI.
crosscheck: setup
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -q -m slow

vectors: setup
	$(BIN)/python -m tests.vectors.generate tests/vectors

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
