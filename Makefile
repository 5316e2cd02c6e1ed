# Thin targets. `make run` and `make test` each set up their own virtual environment first.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
KG      := $(VENV)/bin/kg
STAMP   := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: run test build audit serve bench docs chromium clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[serve,test]'
	touch $@

## build the graph from the curated sources, then answer the flagship question
run: $(STAMP)
	$(KG) build
	$(KG) query flagship --param site=LiverMetastasis --param subtype=HRPositive --param mode=any

## set up and run the whole test suite (what CI runs)
test: $(STAMP) chromium
	$(PY) -m pytest -q

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
