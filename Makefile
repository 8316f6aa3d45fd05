# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv installs the pinned requirements in seconds where pip takes about 20 s for the
# runtime alone (README: "A fast first start"); pip is the fallback if uv cannot run.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
RUNTIME := $(VENV)/.runtime-installed
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint install typecheck

$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# (Re)install whenever the pinned requirements change: the demo needs only the
# runtime ones; tests, lint and type checks the development ones too.
$(RUNTIME): requirements.txt | $(UV)
	$(UV) pip install --quiet --python $(BIN)/python -r requirements.txt \
	  || $(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(INSTALLED): requirements.txt requirements-dev.txt | $(UV)
	$(UV) pip install --quiet --python $(BIN)/python -r requirements-dev.txt \
	  || $(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(RUNTIME)

install: $(INSTALLED)

# Migrates, seeds and runs the Stripe sandbox, a Celery worker and beat, and the web
# server until Ctrl-C (config/demo.py). Ports: DEMO_PORT, SANDBOX_PORT; state: VAR_DIR.
demo: $(RUNTIME)
	$(BIN)/python -m config.demo

# Two workers by default (pytest-xdist; TEST_WORKERS=0 runs in one process). Each has
# its own test database, sandbox, Celery queue and cache keys; a module stays on one
# worker, so a module's shared fixtures are made once; modules are handed out in the
# order tests/conftest.py puts them (the longest first), not by their number of tests.
TEST_WORKERS ?= 2
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy core accounts shop payments notifications ops

# Benchmarks on the real stack (gunicorn, PostgreSQL, Redis, Celery workers, the Stripe
# sandbox) in a database of their own (marketplace_bench): prints the figures and writes
# bench/RESULTS.md. Needs PostgreSQL and Redis (BENCH_PG_URL, BENCH_REDIS_URL) and, for
# the load, wrk if installed. About 7 minutes; see bench/README.md. Not a test.
.PHONY: bench
bench: install
	$(BIN)/python -m bench

# The fault suite (tests/chaos/): the real stack (gunicorn, a Celery worker and beat, the
# Stripe sandbox, a private redis-server, PostgreSQL database marketplace_chaos) with
# the broker, the worker, the database and the web server taken down under load, and a
# webhook storm; prints the table and writes tests/chaos/RESULTS.md. Needs PostgreSQL
# (CHAOS_PG_URL) and redis-server. About 7 minutes. `make test` runs a short version.
.PHONY: chaos
chaos: install
	$(BIN)/python -m tests.chaos.run --write
