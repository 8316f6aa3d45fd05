# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint install typecheck

# (Re)install whenever the pinned requirements change.
$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(INSTALLED)

# Migrates, seeds and runs the Stripe sandbox, a Celery worker and beat, and the web
# server until Ctrl-C (config/demo.py). Ports: DEMO_PORT, SANDBOX_PORT; state: VAR_DIR.
demo: install
	$(BIN)/python -m config.demo

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy core accounts shop payments notifications

# Benchmarks on the real stack (gunicorn, PostgreSQL, Redis, Celery workers, the Stripe
# sandbox) in a database of their own (marketplace_bench): prints the figures and writes
# bench/RESULTS.md. Needs PostgreSQL and Redis (BENCH_PG_URL, BENCH_REDIS_URL) and, for
# the load, wrk if installed. About 7 minutes; see bench/README.md. Not a test.
.PHONY: bench
bench: install
	$(BIN)/python -m bench
