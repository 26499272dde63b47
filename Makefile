# kvcredit: `make demo` and `make test` work on a fresh clone (see README).
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
DEMO_DIR ?= demo-data
# The database tests run again on this PostgreSQL; where none answers they skip, saying why.
KVCREDIT_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
export KVCREDIT_TEST_DATABASE_URL

.PHONY: demo test install install-test lint bench bench-cli clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src/kvcredit/scoring src/kvcredit/lending/domain src/kvcredit/fund/domain \
		src/kvcredit/money.py src/kvcredit/errors.py
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest
	@# The database tests again on PostgreSQL (they skip, saying why, where there is none).
	KVCREDIT_TEST_BACKEND=postgresql $(BIN)/pytest tests/integration tests/e2e

demo: install
	mkdir -p $(DEMO_DIR)
	$(BIN)/kvcredit synth enterprises 5000 --seed 2017 --out $(DEMO_DIR)/enterprises.xlsx
	$(BIN)/kvcredit evaluate $(DEMO_DIR)/enterprises.xlsx --policy chongqing-kvc \
		--out $(DEMO_DIR)/evaluations.xlsx --errors $(DEMO_DIR)/errors.csv

bench: install-test
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/evaluate.py

# End to end: kvcredit synth + kvcredit evaluate of a 1,000,000-row Parquet file, peak memory.
bench-cli: install
	$(BIN)/python bench/evaluate_cli.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache .hypothesis
