# `make run` and `make test` work on a fresh clone: they create .venv, install, and go.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The demo's sender identity (organisation name, postal address) for `make run`.
DEMO_ENV := set -a && . ./demo.env && set +a &&

.PHONY: install run test lint typecheck unit bench graph clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(DEMO_ENV) $(BIN)/commhub init
	$(DEMO_ENV) $(BIN)/commhub content import
	$(DEMO_ENV) $(BIN)/commhub series apply series.yml
	$(DEMO_ENV) $(BIN)/commhub demo-data --history 6
	$(DEMO_ENV) $(BIN)/commhub serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

# Spread over the machine's cores (pytest-xdist); each worker has its own databases.
unit: install
	$(BIN)/pytest -n auto

test: lint typecheck unit

bench: install
	$(BIN)/python benchmarks/contacts_import.py
	$(BIN)/python benchmarks/send.py
	$(BIN)/python benchmarks/pages.py
	$(BIN)/python benchmarks/feeds.py

graph: install
	$(BIN)/python -m tests.package_graph

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
