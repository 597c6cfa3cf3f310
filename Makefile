# Poise: one-command setup for a fresh Debian/Ubuntu machine.
#   make demo   - install what is needed, run the whole system: broker, collector + dashboard, 12 desks
#   make test   - install what is needed, run ruff, mypy and the whole pytest suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.poise-installed
EXTRAS ?= edge,broker,train,dev
PYTEST_ARGS ?=
OUT := out

# Extra prerequisites of `test`, appended by mk/*.mk fragments (node modules, ...).
TEST_DEPS :=
.DEFAULT_GOAL := test

# Area fragments (demo, firmware, model, ...): included before the rules that use TEST_DEPS.
-include mk/*.mk

.PHONY: all system venv demo test test-slow lint typecheck bench clean
all: test

system:
	bash scripts/bootstrap-system.sh

$(STAMP): pyproject.toml scripts/bootstrap-system.sh
	bash scripts/bootstrap-system.sh
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ".[$(EXTRAS)]"
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check edge broker models bench tests

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: $(STAMP) $(TEST_DEPS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-slow: $(STAMP) $(TEST_DEPS)
	$(PY) -m pytest -m slow $(PYTEST_ARGS)


clean:
	rm -rf $(OUT) .pytest_cache .mypy_cache .ruff_cache
