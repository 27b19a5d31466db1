# The course's commands; `make help` lists them. `make course` sets everything up and
# executes the notebooks; `make test` runs the whole test suite, `make check` its fast part.
# Every target creates .venv/ on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# FORCE=1 lets `make course` and `make student` overwrite student notebooks holding changes.
STUDENT_FLAGS := $(if $(FORCE),--force)
# nbgrader runs `alembic` (from the venv) when it creates a gradebook.
WITH_VENV := PATH="$(CURDIR)/$(BIN):$$PATH"

.PHONY: help course test check lint install lab site serve bench student clean \
	assignments autograde grades classroom-proxy hub site-mermaid notebook-setup

help:  ## list the targets and what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

course: $(VENV)/.installed  ## install, fetch MNIST if missing, execute every notebook
	$(if $(FORCE),,$(BIN)/python scripts/make_student_notebooks.py --preflight)
	$(BIN)/python scripts/run_course.py
	$(BIN)/python scripts/make_student_notebooks.py $(STUDENT_FLAGS)

test: $(VENV)/.installed  ## everything: unit tests, slow tests, every notebook re-run by nbval
	$(BIN)/python -m pytest

check: lint  ## the fast tier (a few minutes): lint + tests without nbval and slow tests
	$(BIN)/python -m pytest --no-nbval -m "not slow"

lint: $(VENV)/.installed  ## ruff over the repository (configured in pyproject.toml)
	$(BIN)/ruff check .

install: $(VENV)/.installed  ## create .venv and install the pinned requirements

lab: $(VENV)/.installed  ## open the course in JupyterLab on notebooks/ (pairs, data, imports set up)
	$(BIN)/python scripts/lab.py $(LAB_ARGS)

# Says what it does at each step: the first install fetches and unpacks about 6 GB (PyTorch
# with its CUDA libraries, JupyterLab, MkDocs), several minutes on a laptop. pip lists each
# package as it gets it; the later runs only check them.
$(VENV)/.installed: requirements.txt pyproject.toml
	@echo ">>> make install: the course's Python environment in $(VENV)/ (the first time about 6 GB, several minutes)"
	@test -x $(BIN)/python || { echo ">>> creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo ">>> updating pip"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo ">>> installing the pinned packages of requirements.txt (PyTorch, JupyterLab, MkDocs, ...)"
	@$(BIN)/python -m pip install -r requirements.txt
	@echo ">>> installing lstm_helpers from this checkout (editable) and the JupyterLab settings"
	@$(BIN)/python -m pip install --quiet --no-deps -e .
	@$(BIN)/python scripts/lab.py --install-settings
	@touch $@
	@echo ">>> make install: done; .venv/bin/python is ready"

site: $(VENV)/.installed site-mermaid  ## build the static site into site/ (renders stored outputs, trains nothing)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

serve: $(VENV)/.installed site-mermaid  ## serve the site on http://127.0.0.1:8000, rebuilt on every change
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs serve --dev-addr 127.0.0.1:8000

bench: $(VENV)/.installed  ## speed: tutorial vs course vs floor, Models A-C (~8 min, idle machine)
	$(BIN)/python -m benchmarks.speed --accuracy-models AC

notebook-setup: $(VENV)/.installed  ## rewrite every notebook's set-up cell and Colab/Binder links (then make student)
	$(BIN)/python scripts/notebook_setup.py

student: $(VENV)/.installed  ## write the student exercise notebooks (solutions removed; FORCE=1)
	$(BIN)/python scripts/make_student_notebooks.py $(STUDENT_FLAGS)

assignments: $(VENV)/.installed  ## nbgrader: source/ from the exercises + generate_assignment (EX=name)
	$(WITH_VENV) $(BIN)/python -m classroom.assignments $(EX)

autograde: $(VENV)/.installed  ## nbgrader autograde EX=name, every student, then who needs attention
	$(WITH_VENV) $(BIN)/python -m classroom.autograde $(EX)

grades: $(VENV)/.installed  ## nbgrader: export every grade to build/grading/grades.csv
	$(WITH_VENV) $(BIN)/nbgrader export --to $(or $(LSTM_GRADING_ROOT),build/grading)/grades.csv

# The site draws its diagrams with its own copy of Mermaid (npm, pinned by the lock file).
site-mermaid: site_hooks/node_modules/mermaid/dist/mermaid.min.js  ## Mermaid for the site's diagrams, from npm

site_hooks/node_modules/mermaid/dist/mermaid.min.js: site_hooks/package.json site_hooks/package-lock.json
	@echo ">>> installing Mermaid for the site's diagrams (npm ci --prefix site_hooks)"
	npm ci --prefix site_hooks --no-audit --no-fund --loglevel=error
	touch $@

classroom-proxy: classroom/node_modules/.bin/configurable-http-proxy  ## JupyterHub's proxy, from npm

classroom/node_modules/.bin/configurable-http-proxy: classroom/package.json classroom/package-lock.json
	npm ci --prefix classroom --no-audit --no-fund --loglevel=error
	touch $@

hub: $(VENV)/.installed classroom-proxy  ## JupyterHub for a class on this machine (as root)
	$(BIN)/jupyterhub -f classroom/jupyterhub_config.py

clean:  ## remove built and generated files (the site, test artifacts, caches, npm packages)
	rm -rf site build test-artifacts .pytest_cache classroom/node_modules site_hooks/node_modules
