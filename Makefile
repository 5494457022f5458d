# Quick start: `make demo` and `make test`. Each bootstraps .venv from nothing but python3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9

.PHONY: demo test check lint typecheck generate codegen-check import bench bench-clients \
	bench-realtime clean cassettes cassettes-live

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock src/kiwoom/_speedups.c setup.py | $(BIN)/uv
	$(BIN)/uv sync --frozen --all-extras --quiet
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

# Re-record cassettes/rest/ from our own construction, and cassettes/rest/sim/ from the
# simulator (no network needed).
cassettes: $(VENV)/.synced
	KIWOOM_CASSETTES=build $(BIN)/python -m pytest tests/test_cassettes.py \
		tests/sim/test_sim_cassettes.py --record-mode=rewrite

# Re-record the per-API cassettes against Kiwoom's mock-trading server (needs
# KIWOOM_APPKEY / KIWOOM_SECRETKEY of a mock-trading account; queries only, no orders).
cassettes-live: $(VENV)/.synced
	KIWOOM_CASSETTES=live $(BIN)/python -m pytest tests/test_cassettes.py -k test_live --record-mode=rewrite

bench: $(VENV)/.synced bench/.venv/.installed
	$(BIN)/python bench/decode.py
	$(BIN)/python bench/import_time.py
	$(BIN)/python bench/client_cpu.py
	$(BIN)/python bench/realtime.py
	$(BIN)/python bench/realtime_e2e.py
	$(BIN)/python bench/realtime_cold.py
	$(BIN)/python bench/realtime_callbacks.py
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/limiter.py
	$(BIN)/python bench/sim.py
	$(BIN)/python bench/shared_limit.py
	$(BIN)/python bench/relay.py

# The benchmarks' own environment: the reference wrapper kiwoom-restful 0.4.0, aiohttp,
# uvloop and picows (another socket library, measured only), never in our lock
# (kiwoom-restful's package is also named `kiwoom`, so it cannot share our environment; each
# benchmarked client runs in a process of its own). Re-run when this list changes.
BENCH_PACKAGES := kiwoom-restful==0.4.0 aiohttp uvloop msgspec picows==2.3.1
bench/.venv/.installed: Makefile
	$(PYTHON) -m venv bench/.venv
	bench/.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
		$(BENCH_PACKAGES)
	@touch $@

# In process (where the decode's time goes), then end to end over loopback WebSockets.
bench-realtime: $(VENV)/.synced bench/.venv/.installed
	$(BIN)/python bench/realtime.py
	$(BIN)/python bench/realtime_e2e.py

# Client CPU per request vs raw httpx, raw aiohttp and kiwoom-restful, against a local server.
bench-clients: $(VENV)/.synced bench/.venv/.installed
	$(BIN)/python bench/client_cpu.py

clean:
	rm -rf $(VENV) bench/.venv .pytest_cache .mypy_cache .ruff_cache
