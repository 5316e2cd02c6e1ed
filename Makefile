# Thin targets. `make run` and `make test` each set up their own virtual environment first.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
KG      := $(VENV)/bin/kg
STAMP   := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: run test test-fast lint build audit serve bench docs chromium clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[serve,test]'
	touch $@

## build the graph from the curated sources, then answer the flagship question
run: $(STAMP)
	$(KG) build
	$(KG) query flagship --param site=LiverMetastasis --param subtype=HRPositive --param mode=any

## set up, lint, and run the whole test suite (what CI runs)
test: $(STAMP) chromium lint
	$(PY) -m pytest -q

## the edit-run loop: no servers, no browser, no reasoner-heavy end-to-end checks (under a minute)
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not integration and not browser and not slow"

## ruff and mypy --strict, as configured in pyproject.toml
lint: $(STAMP)
	$(VENV)/bin/ruff check kg tests benchmarks
	$(VENV)/bin/mypy kg

build: $(STAMP)
	$(KG) build --report

audit: $(STAMP)
	$(KG) audit

serve: $(STAMP)
	$(KG) serve

docs: $(STAMP)
	$(KG) docs
	$(KG) query --docs > docs/queries.md

bench: $(STAMP)
	$(VENV)/bin/pip install -q -e '.[bench]'
	$(PY) benchmarks/run.py

## Debian's Chromium for the browser test (root only; the test skips with a reason otherwise)
chromium:
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "warning: could not install chromium; the browser test will be skipped"

clean:
	rm -rf build test-output .pytest_cache
