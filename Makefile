# Two commands do all the set-up on a fresh machine:  make demo  and  make test.
PYTHON ?= python3
VENV ?= .venv
TEST_VENV ?= .venv-test
DEMO_DIR ?= .demo
SAMPLE ?= tests/data/sample/activities
SAMPLE_PREFS ?= tests/data/prefs/berlin_evenings.toml
SAMPLE_TODAY ?= 2026-11-22
SAMPLE_NEXT_WEEK ?= 2026-11-23

.PHONY: demo install test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e .
	touch $@

install: $(VENV)/.installed

## demo: install, import the bundled 12-week sample, show its mileage and next week's plan
demo: install
	rm -rf $(DEMO_DIR)
	RUNSTRENGTH_DATA_DIR=$(DEMO_DIR) $(VENV)/bin/runstrength db upgrade
	RUNSTRENGTH_DATA_DIR=$(DEMO_DIR) $(VENV)/bin/runstrength runner set --prefs $(SAMPLE_PREFS)
	RUNSTRENGTH_DATA_DIR=$(DEMO_DIR) $(VENV)/bin/runstrength import $(SAMPLE)
	RUNSTRENGTH_DATA_DIR=$(DEMO_DIR) $(VENV)/bin/runstrength mileage --today $(SAMPLE_TODAY)
	RUNSTRENGTH_DATA_DIR=$(DEMO_DIR) $(VENV)/bin/runstrength plan --today $(SAMPLE_TODAY) --start $(SAMPLE_NEXT_WEEK)

## test: a fresh virtual environment with the project and its dev tools, lint, then the suite
test:
	rm -rf $(TEST_VENV)
	$(PYTHON) -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/pip install --quiet --upgrade pip
	$(TEST_VENV)/bin/pip install --quiet -e '.[dev]'
	$(MAKE) lint
	$(TEST_VENV)/bin/python -m pytest

## lint: ruff and mypy --strict, in the environment `make test` built
lint:
	$(TEST_VENV)/bin/ruff check service integrations tests bench
	$(TEST_VENV)/bin/ruff format --check service integrations tests bench
	$(TEST_VENV)/bin/mypy --strict service integrations

bench: install
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	$(VENV)/bin/python bench/fit_import.py
	$(VENV)/bin/python bench/planning.py

clean:
	rm -rf $(VENV) $(TEST_VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
