# The two commands of the README: `make run` (install, then run the DrChrono suites against the
# local sandbox: the smoke suite, then the full collection of every API operation) and
# `make test` (install, then the test suite). Both install what they need first.
VENV := .venv
PY := $(VENV)/bin/python
REPORTS := reports

.PHONY: install run replay test test-slow lint constraints

# Exact versions from constraints.txt (pyproject.toml has ranges): every install is the one CI tested.
$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

FULL := collections/drchrono-api.postman_collection.json

run: install
	$(VENV)/bin/harness run --junit $(REPORTS)/junit.xml --json $(REPORTS)/summary.json --html $(REPORTS)/report.html
	$(VENV)/bin/harness run $(FULL) --junit $(REPORTS)/full-junit.xml --json $(REPORTS)/full-summary.json --html $(REPORTS)/full-report.html

replay: install
	$(VENV)/bin/harness run --replay --junit $(REPORTS)/junit.xml --json $(REPORTS)/summary.json

# The quick suite (slow tests deselected: fuzzing, many processes); CI runs test-slow too.
test: install
	$(PY) -m pytest -n 2 -m "not slow"

test-slow: install
	$(PY) -m pytest -n 2 -m slow

lint: install
	$(VENV)/bin/ruff check harness drchrono_sandbox tests benchmarks
	$(VENV)/bin/ruff format --check harness drchrono_sandbox tests benchmarks
	$(VENV)/bin/mypy harness drchrono_sandbox tests benchmarks

# Re-resolve pyproject.toml's ranges in a scratch venv and rewrite constraints.txt's pins (its
# comment header is kept). Review the diff, run `make test`, commit.
constraints:
	rm -rf .constraints-venv
	python3 -m venv .constraints-venv
	.constraints-venv/bin/pip install -q --upgrade pip
	.constraints-venv/bin/pip install -q -e '.[dev]'
	{ grep '^#' constraints.txt; .constraints-venv/bin/pip freeze --all --exclude-editable \
	  | grep -v '^pip==' | LC_ALL=C sort -f; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .constraints-venv
