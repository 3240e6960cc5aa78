# `make run` and `make test` work on a fresh clone: they create .venv, install, and go.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Demo identity for `make run`; a real deployment sets its own in the environment.
DEMO_ENV := COMMHUB_ORG_NAME="$${COMMHUB_ORG_NAME:-Northwind Cloud Partner Programme}" \
	COMMHUB_POSTAL_ADDRESS="$${COMMHUB_POSTAL_ADDRESS:-Northwind Cloud Ltd, 1 Harbour Street, Bristol BS1 4QA, United Kingdom}"

.PHONY: install run test lint typecheck unit bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/commhub init
	$(BIN)/commhub content import
	$(DEMO_ENV) $(BIN)/commhub demo-data
	$(DEMO_ENV) $(BIN)/commhub serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest

test: lint typecheck unit

bench: install
	$(BIN)/python benchmarks/contacts_import.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
