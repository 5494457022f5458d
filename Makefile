# Quick start: `make demo` and `make test`. Each bootstraps .venv from nothing but python3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9

.PHONY: demo test check lint typecheck generate codegen-check import bench clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(BIN)/uv
	$(BIN)/uv sync --frozen --quiet
	@touch $@

demo: $(VENV)/.synced
	$(BIN)/kiwoom demo

test: $(VENV)/.synced
	$(BIN)/python -m pytest

# Everything CI checks besides the tests.
check: lint typecheck codegen-check

lint: $(VENV)/.synced
	$(BIN)/ruff check src codegen tests bench
	$(BIN)/ruff format --check src codegen tests bench

typecheck: $(VENV)/.synced
	$(BIN)/mypy

generate: $(VENV)/.synced
	$(BIN)/python -m codegen generate

# The committed generated code must be exactly what the catalogue and templates produce.
codegen-check: generate
	@stale="$$(git status --porcelain -- src/kiwoom/_generated docs/api.md)"; \
	if [ -n "$$stale" ]; then \
		echo "$$stale" >&2; \
		echo "generated code is stale: run 'make generate' and commit" >&2; \
		exit 1; \
	fi

# Re-import spec/ from Kiwoom's official catalogue (downloads it into a cache outside the repo).
import: $(VENV)/.synced
	$(BIN)/python -m codegen import

bench: $(VENV)/.synced
	$(BIN)/python bench/decode.py
	$(BIN)/python bench/import_time.py
	$(BIN)/python bench/limiter.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
