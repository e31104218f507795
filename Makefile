# The two commands a new user needs: `make demo` and `make test`. Each sets up .venv from scratch.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export MPLBACKEND := Agg
export RAY_USAGE_STATS_ENABLED := 0
DATA ?= $(or $(URBANDRIVE_DATA),../shared/data)
DEMO_OUT ?= out/demo

.PHONY: demo test bench lint clean install

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and explicitly: the local CPU wheel, never the CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/urbandrive demo --data $(DATA) --out $(DEMO_OUT)

test: $(STAMP)
	$(PY) -m pytest -q -n 2

bench: $(STAMP)
	$(VENV)/bin/urbandrive bench --json out/bench.json

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache
