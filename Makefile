# The only entry points, the same ones CI runs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# Two workers, one test file each at a time (module fixtures such as a simulated demo are made
# once): the suite is mostly waiting on SQLite, PostgreSQL and Chromium, not on the CPU.
PYTEST_ARGS ?= -n 2 --dist loadfile --durations=15
# Run on their own, in one process: schemathesis's generated tests do not spread over xdist
# workers (under --dist loadfile only 1 of 33 ran, and pytest reported no error).
SERIAL_TESTS := tests/test_api_fuzz.py

.PHONY: help demo install java test test-sqlite test-postgres lint bench i18n clean

help:
	@echo "make demo     - install, migrate, load demo data and serve on http://127.0.0.1:8000"
	@echo "make install  - create $(VENV) and install Tillit with its test and dev tools"
	@echo "make test     - install what the tests need (Chromium too) and run the suite on SQLite and PostgreSQL"
	@echo "make lint     - ruff, mypy and the import-linter layers contract"
	@echo "make bench    - run every benchmark in benchmarks/"
	@echo "make i18n     - extract messages and update the five catalogs"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,dev,spark]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/tillit demo

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
/usr/bin/chromium:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-dejavu-core

# Java for the analytics tests on Spark (PySpark starts a JVM); Debian's headless runtime.
java:
	@command -v java >/dev/null || { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q openjdk-17-jre-headless; }

# axe-core for the browser tests' accessibility checks (a test dependency, never served).
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q nodejs npm; }
	npm ci --no-audit --no-fund --silent
	@touch $@

test: install /usr/bin/chromium java node_modules/.installed test-sqlite test-postgres

test-sqlite: install
	@echo "== tests on SQLite"
	$(BIN)/pytest $(PYTEST_ARGS) --ignore=$(SERIAL_TESTS)
	$(BIN)/pytest -q $(SERIAL_TESTS)

test-postgres: install
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)'.replace('+psycopg',''), connect_timeout=3).close()" 2>/dev/null; then \
		echo "== tests on PostgreSQL ($(PG_TEST_URL))"; \
		TILLIT_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest $(PYTEST_ARGS) --ignore=$(SERIAL_TESTS) && \
		TILLIT_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q $(SERIAL_TESTS); \
	else \
		echo "== SKIPPED the PostgreSQL run: no server answers at $(PG_TEST_URL)"; \
	fi

lint: install
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: install
	@set -e; for script in benchmarks/*.py; do \
		echo "== $$script"; $(BIN)/python $$script; \
	done

i18n: install
	$(BIN)/pybabel extract -F babel.cfg -o src/tillit/locale/messages.pot --no-location --sort-output --project Tillit .
	$(BIN)/pybabel update -i src/tillit/locale/messages.pot -d src/tillit/locale --no-location --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules
