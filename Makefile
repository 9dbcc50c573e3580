# The two commands of the README: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run serve test services browser lint typecheck pytest

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# The main job on the embedded default (SQLite, serverless broker, simulated mailbox).
run: install
	$(BIN)/crmsync demo

serve: install
	$(BIN)/crmsync serve

services:
	bash scripts/services-up

# Headless Chromium for the add-in's browser tests.
browser:
	bash scripts/browser-up

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install services browser
	$(BIN)/pytest

test: lint typecheck pytest
