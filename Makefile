# Two commands do all the set-up on a fresh machine:  make demo  and  make test.
PYTHON ?= python3
VENV ?= .venv
TEST_VENV ?= .venv-test
DEMO_DIR ?= .demo
DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000
AXE ?= .cache/axe/node_modules/axe-core/axe.min.js

.PHONY: demo install test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e .
	touch $@

install: $(VENV)/.installed

## demo: install, then serve a demo runner (12 weeks of generated runs, a plan, a calendar feed)
## from its own database under $(DEMO_DIR); prints the page and feed URLs; Ctrl+C stops it
demo: install
	RUNSTRENGTH_DATA_DIR=$(DEMO_DIR) $(VENV)/bin/runstrength demo --host $(DEMO_HOST) --port $(DEMO_PORT)

## test: a fresh virtual environment with the project and its dev tools, lint, then the suite
test: $(AXE)
	rm -rf $(TEST_VENV)
	$(PYTHON) -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/pip install --quiet --upgrade pip
	$(TEST_VENV)/bin/pip install --quiet -e '.[dev]'
	$(MAKE) lint
	$(TEST_VENV)/bin/python -m pytest

# axe-core for the browser tests' accessibility checks, from the npm registry, fetched once
# into .cache/ (which ignores itself in git). Without npm those checks skip (they fail in CI).
$(AXE):
	@mkdir -p .cache && printf '*\n' > .cache/.gitignore
	@if command -v npm >/dev/null 2>&1; then \
		npm install --no-save --no-audit --no-fund --silent --prefix .cache/axe axe-core@4; \
	else echo "npm not found: accessibility checks will be skipped (apt-get install npm)"; fi

## lint: ruff and mypy --strict, in the environment `make test` built
lint:
	$(TEST_VENV)/bin/ruff check service integrations tests bench
	$(TEST_VENV)/bin/ruff format --check service integrations tests bench
	$(TEST_VENV)/bin/mypy --strict service integrations

bench: install
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	$(VENV)/bin/python bench/fit_import.py
	$(VENV)/bin/python bench/planning.py
	$(VENV)/bin/python bench/dashboard.py
	$(VENV)/bin/python bench/strava_load.py

clean:
	rm -rf $(VENV) $(TEST_VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
