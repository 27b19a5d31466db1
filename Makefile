# The course's commands. `make course` sets everything up and executes the notebooks;
# `make test` runs the whole test suite. Both create .venv/ on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# FORCE=1 lets `make course` and `make student` overwrite student notebooks holding changes.
STUDENT_FLAGS := $(if $(FORCE),--force)
# nbgrader runs `alembic` (from the venv) when it creates a gradebook.
WITH_VENV := PATH="$(CURDIR)/$(BIN):$$PATH"

.PHONY: course test install site serve bench student clean assignments grades \
	classroom-proxy hub lab

course: $(VENV)/.installed  ## install, fetch MNIST if missing, execute every notebook
	$(if $(FORCE),,$(BIN)/python scripts/make_student_notebooks.py --preflight)
	$(BIN)/python scripts/run_course.py
	$(BIN)/python scripts/make_student_notebooks.py $(STUDENT_FLAGS)

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

student: $(VENV)/.installed  ## write the student exercise notebooks (solutions removed; FORCE=1)
	$(BIN)/python scripts/make_student_notebooks.py $(STUDENT_FLAGS)

assignments: $(VENV)/.installed  ## nbgrader: source/ from the exercises + generate_assignment (EX=name)
	$(WITH_VENV) $(BIN)/python -m classroom.assignments $(EX)

grades: $(VENV)/.installed  ## nbgrader: export every grade to build/grading/grades.csv
	$(WITH_VENV) $(BIN)/nbgrader export --to $(or $(LSTM_GRADING_ROOT),build/grading)/grades.csv

classroom-proxy: classroom/node_modules/.bin/configurable-http-proxy  ## JupyterHub's proxy, from npm

classroom/node_modules/.bin/configurable-http-proxy: classroom/package.json classroom/package-lock.json
	npm ci --prefix classroom --no-audit --no-fund --loglevel=error
	touch $@

hub: $(VENV)/.installed classroom-proxy  ## JupyterHub for a class on this machine (as root)
	$(BIN)/jupyterhub -f classroom/jupyterhub_config.py

clean:
	rm -rf site build test-artifacts .pytest_cache classroom/node_modules
