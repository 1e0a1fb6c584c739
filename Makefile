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
# JupyterLab refuses to run as root unless told to (containers, CI runners).
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: help install report test battery lab bench sample lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name feedbacklib --display-name "Python (feedbacklib)" >/dev/null
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install the project with pinned versions

report: $(STAMP)  ## render the report (MONTH=YYYY-MM|last, INPUT=dir, CONFIG=file, OUTPUT=dir)
	$(BIN)/feedback-report run --month $(MONTH) --input $(INPUT) --config $(CONFIG) --output $(OUTPUT)

test: $(STAMP)  ## run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

battery: $(STAMP)  ## run the adversarial battery (bad inputs, faults, PII, security) and print what held
	$(BIN)/python -m tests.battery $(PYTEST_ARGS)

lab: $(STAMP)  ## open the notebooks in JupyterLab with the project's kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks --MappingKernelManager.default_kernel_name=feedbacklib $(LAB_FLAGS)

bench: $(STAMP)  ## run the benchmarks and print their figures
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

sample: $(STAMP)  ## regenerate data/sample from the deterministic generator
	$(BIN)/python -m feedbacklib.sample --out data/sample

lock: $(STAMP)  ## refresh the constraints file from the current environment
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -viE '^(feedbacklib|vadersentiment)' > $(CONSTRAINTS)

clean:  ## remove the virtual environment and caches (reports are kept)
	rm -rf $(VENV) .pytest_cache .hypothesis
