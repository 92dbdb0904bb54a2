# Frontline: `make run` starts the product on the embedded default, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# test files run in parallel processes, each with its own PostgreSQL database and Redis db
TEST_WORKERS ?= 2
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint install clean bench

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Start Frontline on http://127.0.0.1:8000 (SQLite file, in-process worker, demo workspace).
run: $(STAMP)
	$(BIN)/frontline serve

## Lint, type-check, import contracts, then the whole test suite.
test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=30

lint: $(STAMP)
	$(BIN)/ruff check frontline tests benchmarks migrations
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache test-artifacts
