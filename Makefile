# Two commands on a fresh machine with python3: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test bench lint format install dev clean constraints

demo: install
	$(BIN)/cityeval demo --serve

# `make test`: lint and types, then every test on the default SQLite database (browser tests
# included) and, side by side with it, the web tests again on PostgreSQL when
# CITYEVAL_TEST_DATABASE_URL names one (browser tests left out there): see tools/test_passes.sh.
# `.ci/run` starts a PostgreSQL and sets CITYEVAL_REQUIRE_ALL=1, which turns a skipped
# PostgreSQL pass or missing Chromium into a failure.
test: dev
	@case "$${CITYEVAL_REQUIRE_ALL:-}" in 1|true|yes|on) [ -n "$${CITYEVAL_TEST_DATABASE_URL:-}" ] || { \
	  echo "make test: FAILED: CITYEVAL_REQUIRE_ALL=1 but CITYEVAL_TEST_DATABASE_URL is not set," \
	    "so the PostgreSQL pass cannot run (.ci/run sets it)"; exit 1; };; esac
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	CITYEVAL_TEST_PYTHON=$(BIN)/python tools/test_passes.sh

bench: dev
	$(BIN)/python bench/run.py $(ARGS)

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed node_modules/.installed

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "cityeval needs Python 3.11 or newer as '$(PYTHON)'"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "Could not create a virtual environment: on Debian/Ubuntu run 'apt-get install python3-venv'"; exit 1; }

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install -c constraints.txt -e .
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.installed pyproject.toml constraints.txt
	$(PIP) install -c constraints.txt -e '.[dev]'
	@touch $@

# axe-core for the accessibility browser test, pinned by package.json and package-lock.json.
# Without npm it is left out with a note (that test then skips, or fails under CITYEVAL_REQUIRE_ALL=1).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --ignore-scripts --no-audit --no-fund && touch $@; \
	else echo "npm not found: axe-core not installed, so the accessibility browser test is skipped (apt-get install npm)"; fi

# Regenerate the pins after changing dependencies in pyproject.toml.
constraints:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install -q -e '.[dev]'
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^cityeval' > constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .mypy_cache build src/*.egg-info
