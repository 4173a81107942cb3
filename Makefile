# The two commands of the README: `make run` (install, then run the DrChrono suite against the
# local sandbox) and `make test` (install, then the test suite). Both install what they need first.
VENV := .venv
PY := $(VENV)/bin/python
REPORTS := reports

.PHONY: install run replay test lint

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/harness run --junit $(REPORTS)/junit.xml --json $(REPORTS)/summary.json --html $(REPORTS)/report.html

replay: install
	$(VENV)/bin/harness run --replay --junit $(REPORTS)/junit.xml --json $(REPORTS)/summary.json

test: install
	$(PY) -m pytest -n 2

lint: install
	$(VENV)/bin/ruff check harness tests benchmarks
	$(VENV)/bin/ruff format --check harness tests benchmarks
	$(VENV)/bin/mypy harness tests benchmarks
