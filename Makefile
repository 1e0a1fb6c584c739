# feedbacklib — every target creates .venv and installs from the committed
# constraints on first use, so a fresh clone needs only Python 3.11+, git and make.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
MONTH ?= last
INPUT ?= data/sample
CONFIG ?= feedback.toml
OUTPUT ?= reports
PYTEST_ARGS ?=
# pytest-xdist workers for make test (one per core; each test file stays on one worker)
TEST_WORKERS ?= auto
# JupyterLab refuses to run as root unless told to (containers, CI runners).
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: help install report test lint battery lab bench sample lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

EXTRAS ?= test,lab
ROWS ?= 100000 1000000

# The first run installs about 150 pinned packages (2-5 minutes); it says so, shows each package
# as pip reaches it, keeps pip's full output in $(VENV)/install.log and prints its end on failure.
$(STAMP): pyproject.toml $(CONSTRAINTS)
	@echo "make: installing feedbacklib into $(VENV) with the pinned versions of $(CONSTRAINTS)"
	@echo "      (pandas, scikit-learn, statsmodels, nltk, pyarrow, papermill; jupyterlab, itables, ipywidgets; pytest, ruff, mypy and their"
	@echo "      dependencies, about 150 packages; extras [$(EXTRAS)]; 2-5 minutes the first time, then again only"
	@echo "      when pyproject.toml or the constraints change)"
	@test -x $(BIN)/python || { echo "make: creating the virtual environment $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@set -o pipefail; start=$$(date +%s); \
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar off -c $(CONSTRAINTS) -e ".[$(EXTRAS)]" 2>&1 \
	  | tee $(VENV)/install.log \
	  | awk '/^(Collecting|Processing) /{n++; k=split($$2, p, "/"); name=p[k]; sub(/-[0-9].*$$/, "", name); \
	      printf "  [%3d] %s\n", n, name; fflush()} \
	      /^Installing collected packages/{print "  installing the packages into the environment..."; fflush()}' \
	  || { echo "make: the install failed; the end of $(VENV)/install.log:"; tail -n 25 $(VENV)/install.log; exit 1; }; \
	echo "make: installed in $$(( $$(date +%s) - start )) s (pip's output: $(VENV)/install.log)"
	@$(BIN)/python -m ipykernel install --sys-prefix --name feedbacklib --display-name "Python (feedbacklib)" >/dev/null
	@echo "make: registered the Jupyter kernel 'Python (feedbacklib)'"
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install the project with pinned versions

report: $(STAMP)  ## render the report (MONTH=YYYY-MM|last, INPUT=dir, CONFIG=file, OUTPUT=dir)
	$(BIN)/feedback-report run --month $(MONTH) --input $(INPUT) --config $(CONFIG) --output $(OUTPUT)

test: lint  ## run the linter, the type checker and the whole test suite
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)  ## run the linter (ruff) and the type checker (mypy); make test runs it first
	$(BIN)/ruff check feedbacklib tests benchmarks
	$(BIN)/mypy

battery: $(STAMP)  ## run the adversarial battery (bad inputs, faults, PII, security) and print what held
	$(BIN)/python -m tests.battery $(PYTEST_ARGS)

lab: $(STAMP)  ## open the notebooks in JupyterLab with the project's kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks --MappingKernelManager.default_kernel_name=feedbacklib $(LAB_FLAGS)

bench: $(STAMP)  ## run the benchmarks (ROWS="100000 1000000"); says first what it runs and how long
	$(BIN)/python -m benchmarks --rows $(ROWS) $(BENCH_ARGS)

sample: $(STAMP)  ## regenerate data/sample from the deterministic generator
	$(BIN)/python -m feedbacklib.sample --out data/sample

lock: $(STAMP)  ## refresh the constraints file from the current environment
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -viE '^(feedbacklib|vadersentiment)' > $(CONSTRAINTS)

clean:  ## remove the virtual environment and caches (reports are kept)
	rm -rf $(VENV) .pytest_cache .hypothesis
