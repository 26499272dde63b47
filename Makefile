# kvcredit: `make demo` and `make test` work on a fresh clone (see README).
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
DEMO_DIR ?= demo-data
TEMPLATES = $(wildcard src/kvcredit/*/templates)
# The database tests run again on this PostgreSQL; where none answers they skip, saying why.
KVCREDIT_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
export KVCREDIT_TEST_DATABASE_URL

.PHONY: demo test install install-test lint bench bench-cli clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/kvcredit i18n compile
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/kvcredit i18n compile
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src/kvcredit/scoring src/kvcredit/lending/domain src/kvcredit/fund/domain \
		src/kvcredit/money.py src/kvcredit/errors.py \
		src/kvcredit/roles.py src/kvcredit/statemachine.py src/kvcredit/enterprises/domain \
		src/kvcredit/lifecycles.py src/kvcredit/rulebook/domain.py src/kvcredit/documents/domain \
		src/kvcredit/jobs/domain.py
	$(BIN)/lint-imports
	$(BIN)/djlint --check $(TEMPLATES)
	$(BIN)/djlint --lint $(TEMPLATES)

test: lint
	@# The whole suite, tests/browser included (Playwright with Debian's chromium; skips without it).
	$(BIN)/pytest
	@# The database tests again on PostgreSQL (they skip, saying why, where there is none).
	KVCREDIT_TEST_BACKEND=postgresql $(BIN)/pytest tests/integration tests/e2e

# A fresh SQLite programme in $(DEMO_DIR) from a seed (kvcredit.demo: it migrates, loads the
# initial data and publishes its rulebooks in date order itself, so no `kvcredit init`), then
# the console.
DEMO_SEED ?= 2017
DEMO_ENTERPRISES ?= 5000
DEMO_BIND ?= 127.0.0.1:8000
DEMO_ENV = KVCREDIT_DATA_DIR=$(abspath $(DEMO_DIR))
demo: install
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	$(DEMO_ENV) $(BIN)/kvcredit demo load --seed $(DEMO_SEED) --enterprises $(DEMO_ENTERPRISES)
	@echo "The console: http://$(DEMO_BIND)/  (users and password above; Ctrl-C stops it)"
	@# A job worker beside the web server (docs/jobs.md); Ctrl-C (or the server ending) stops
	@# both.
	$(DEMO_ENV) $(BIN)/kvcredit worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEMO_ENV) $(BIN)/kvcredit serve --bind $(DEMO_BIND) --workers 2

bench: install-test
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/evaluate.py

# End to end: kvcredit synth + kvcredit evaluate of a 1,000,000-row Parquet file, peak memory.
bench-cli: install
	$(BIN)/python bench/evaluate_cli.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache .hypothesis
