# The course's commands; `make help` lists them. `make course` sets everything up and
# executes the notebooks; `make test` runs the whole test suite, `make check` its fast part.
# Every target creates .venv/ on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help course test check lint install site serve bench student clean

help:  ## list the targets and what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

course: $(VENV)/.installed  ## install, fetch MNIST if missing, execute every notebook
	$(BIN)/python scripts/run_course.py
	$(BIN)/python scripts/make_student_notebooks.py

test: $(VENV)/.installed  ## everything: unit tests, slow tests, every notebook re-run by nbval
	$(BIN)/python -m pytest

check: lint  ## the fast tier (a few minutes): lint + tests without nbval and slow tests
	$(BIN)/python -m pytest --no-nbval -m "not slow"

lint: $(VENV)/.installed  ## ruff over the repository (configured in pyproject.toml)
	$(BIN)/ruff check .

install: $(VENV)/.installed  ## create .venv and install the pinned requirements

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

site: $(VENV)/.installed  ## build the static site into site/ (renders stored outputs, trains nothing)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

serve: $(VENV)/.installed  ## serve the site on http://127.0.0.1:8000, rebuilt on every change
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs serve --dev-addr 127.0.0.1:8000

bench: $(VENV)/.installed  ## speed: tutorial vs course vs floor, Models A-C (~8 min, idle machine)
	$(BIN)/python -m benchmarks.speed --accuracy-models AC

student: $(VENV)/.installed  ## write the student exercise notebooks (solutions removed)
	$(BIN)/python scripts/make_student_notebooks.py

clean:  ## remove built and generated files (the site, test artifacts, caches)
	rm -rf site build test-artifacts .pytest_cache
