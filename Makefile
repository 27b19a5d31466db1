# The course's commands. `make course` sets everything up and executes the notebooks;
# `make test` runs the whole test suite. Both create .venv/ on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: course test install lab site serve bench student clean

course: $(VENV)/.installed  ## install, fetch MNIST if missing, execute every notebook
	$(BIN)/python scripts/run_course.py
	$(BIN)/python scripts/make_student_notebooks.py

test: $(VENV)/.installed  ## unit tests + every notebook re-executed by nbval
	$(BIN)/python -m pytest

install: $(VENV)/.installed

lab: $(VENV)/.installed  ## open the course in JupyterLab on notebooks/ (pairs, data, imports set up)
	$(BIN)/python scripts/lab.py $(LAB_ARGS)

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
	$(BIN)/python -m lstm_helpers bench --accuracy-models AC

student: $(VENV)/.installed  ## write the student exercise notebooks (solutions removed)
	$(BIN)/python scripts/make_student_notebooks.py

clean:
	rm -rf site build test-artifacts .pytest_cache
