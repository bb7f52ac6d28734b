# bulkadmin: `make run` starts everything on an embedded MongoDB; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint format install browser clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

install: $(BIN)/.installed

# The web server's port: make run PORT=8001
PORT ?= 8000
run: install
	$(BIN)/python manage.py rundev --port $(PORT)

# Django's tables on a throwaway PostgreSQL cluster (SQLite when none can run; see the script).
test: install lint browser
	scripts/test-postgres.sh $(BIN)/python -m pytest

# While developing: everything but the slow, browser, subprocess and fuzz tests (CI runs them all).
test-fast: install
	$(BIN)/python -m pytest -m "not slow and not browser and not subprocess and not fuzz"

# The browser tests drive Debian's Chromium; install it when we can (root with apt-get).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } || \
		echo "Chromium is not installed: the browser tests will be skipped (apt-get install chromium)."

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var
