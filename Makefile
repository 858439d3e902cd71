# Every target sets itself up: a fresh clone needs only python3 (3.11+) on PATH.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

.PHONY: run test soak soak-memory soak-crash bench bench-setup lint lock setup clean

setup: $(STAMP)

$(STAMP): requirements/dev.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	UV_PYTHON_DOWNLOADS=never $(BIN)/uv pip sync --quiet --python $(BIN)/python requirements/dev.lock
	UV_PYTHON_DOWNLOADS=never $(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --config-settings editable_mode=compat -e .
	touch $(STAMP)

run: setup
	$(BIN)/algotrendy run

# The property suites' seed rotates with the commit (new schedules over time), and is printed so any run
# can be replayed: `make test PROPERTY_SEED=<seed>`.
PROPERTY_SEED ?= $(shell git rev-parse --short=8 HEAD 2>/dev/null | xargs -I{} printf '%d' 0x{} 2>/dev/null || echo 1)
SOAK_MINUTES ?= 30

test: setup
	@echo "property seed $(PROPERTY_SEED) (replay: make test PROPERTY_SEED=$(PROPERTY_SEED))"
	PROPERTY_SEED=$(PROPERTY_SEED) $(BIN)/python -m pytest -q -m "not soak and not live" -p no:cacheprovider \
		--hypothesis-seed=$(PROPERTY_SEED)

# The property suites alone, round after round with fresh seeds, for SOAK_MINUTES (each round's seed is
# printed; the first failure stops the soak with its replay command), then the crash soak. The memory soak
# is its own target, `make soak-memory`.
soak: setup
	$(BIN)/python -m tests.soak --minutes $(SOAK_MINUTES)
	$(MAKE) soak-crash

# kill -9 the daemon at 20 points (before connecting, mid-reconciliation, mid-trading) against an emulator
# in its own process: after every restart, no fill lost, none delivered twice (tests/integration/test_crash.py).
soak-crash: setup
	$(BIN)/python -m pytest -q -m "soak and crash" -p no:cacheprovider tests/integration/test_crash.py

bench-setup: setup
	UV_PYTHON_DOWNLOADS=never $(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements/bench.lock

bench: bench-setup
	$(BIN)/python -m bench

# RSS of the client with Binance + Bybit x 20 symbols, and its growth over a 35-minute paper-trading soak (12 paper traders per venue)
# (writes bench/results/memory.json, which `make bench` then reports).
soak-memory: bench-setup
	$(BIN)/python -m bench.memory --soak-minutes 35 --traders 12 --trade-every 0.5

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

# Regenerate the pinned lock files after changing dependencies in pyproject.toml (run.lock: the daemon's
# own dependencies only, at the versions dev.lock tests; deploy/Containerfile installs it).
lock: setup
	$(BIN)/uv pip compile --quiet --python-version 3.11 --extra dev pyproject.toml -o requirements/dev.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 --extra dev --extra bench pyproject.toml -o requirements/bench.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 pyproject.toml -c requirements/dev.lock -o requirements/run.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
