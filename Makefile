# The course's commands. `make course` sets everything up and executes the notebooks;
# `make test` runs the whole test suite. Both create .venv/ on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: course test install site serve clean

course: $(VENV)/.installed  ## install, fetch MNIST if missing, execute every notebook
	$(BIN)/python scripts/run_course.py

test: $(VENV)/.installed  ## unit tests + every notebook re-executed by nbval
	$(BIN)/python -m pytest

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

clean:
	rm -rf site build test-artifacts .pytest_cache
