# The two commands: `make run` (app + worker + Klaviyo sandbox + demo shop) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/notifyme
TEST_REDIS_URL ?= redis://127.0.0.1:6379/9

.PHONY: setup run test lint bench services theme-check audit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,sandbox,sentry]'
	touch $@

setup: $(VENV)/.installed

services:
	scripts/ensure-services.sh redis postgres

run: setup
	scripts/ensure-services.sh redis
	DEBUG=1 $(BIN)/python scripts/dev.py

test: setup services lint
	scripts/ensure-chromium.sh
	# DEBUG=1: the suite uses the development defaults (tests/settings.py sets it too).
	DEBUG=1 DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest $(PYTEST_ARGS)

# Shopify's theme-check on the theme app extension (tools/theme-check: pinned in its
# package-lock.json, installed with `npm ci`; the linter itself runs offline).
THEME_CHECK := tools/theme-check
$(THEME_CHECK)/node_modules/.installed: $(THEME_CHECK)/package.json $(THEME_CHECK)/package-lock.json
	cd $(THEME_CHECK) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

theme-check: $(THEME_CHECK)/node_modules/.installed
	node $(THEME_CHECK)/check.js extensions/notifyme-theme

lint: setup theme-check
	$(BIN)/ruff check .
	$(BIN)/mypy notifyme integrations sandboxes
	# DEBUG=1: the development settings (production ones refuse to load without their secrets).
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

# Known vulnerabilities in the installed environment (pip-audit --strict) and in tools/theme-check
# (npm audit --audit-level=high). Fails closed when a vulnerability source is unreachable.
audit: setup
	BIN=$(BIN) scripts/audit.sh

# Every benchmark, one after another, into bench/REPORT.md (hours on 2 cores; BENCH_ARGS="--only
# webhook_burst,webhook_to_event" for some). Uses its own databases and Redis dbs, not the suite's.
bench: setup services
	$(BIN)/python bench/report.py $(BENCH_ARGS)
