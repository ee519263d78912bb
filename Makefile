# Pipeline provisioner. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
# checkov lives apart from .venv (its bc-python-hcl2 replaces python-hcl2's `hcl2` module); `make .venv-checkov/.installed` builds it.
CHECKOV_VENV := .venv-checkov
CHECKOV_REQUIREMENTS := policy/checkov-requirements.txt

# What `make setup` installs. dev (the default): the project with its test tools (the dev extras) and
# cdktf-cli, for developers. build: the project alone, all that synth, check and the policy gate need
# (the pipeline's synth builds set SETUP_PROFILE=build in their environment, so `make scan` keeps to it).
# A dev install holds everything the build profile installs, so it counts as that too.
SETUP_PROFILE ?= dev
ifeq ($(SETUP_PROFILE),dev)
PROJECT_SPEC := .[dev]
SETUP_NEEDS := node_modules/.installed
INSTALLED_MODULES := cdktf, cdktf_cdktf_provider_aws, hcl2, yaml, pytest, xdist
else ifeq ($(SETUP_PROFILE),build)
PROJECT_SPEC := .
SETUP_NEEDS :=
INSTALLED_MODULES := cdktf, cdktf_cdktf_provider_aws, hcl2, yaml
else
$(error SETUP_PROFILE=$(SETUP_PROFILE): must be dev (the default) or build)
endif
VENV_STAMP := $(VENV)/.installed-$(SETUP_PROFILE)

# Every target (and every script it runs) uses the project's own terraform CLI config, never ~/.terraformrc.
export TF_CLI_CONFIG_FILE := $(CURDIR)/.provisioner/terraform.rc
export CHECKPOINT_DISABLE := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
export PATH := $(CURDIR)/node_modules/.bin:$(VENV)/bin:$(PATH)

# Test workers: one per core (at most 4), plus one for each of the two emulator modules (tests/integration/),
# which spend most of their minutes in the AWS provider's own waits. Files keep their collection order, so
# those two, the longest, start first, each on a worker of its own; every other file goes to whichever
# worker is free. `make test TEST_WORKERS=N` overrides.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(min(os.cpu_count() or 1, 4) + 2)')

.PHONY: help setup synth scan plan demo test bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: $(VENV_STAMP) $(SETUP_NEEDS) ## create .venv, install cdktf-cli, write the terraform CLI config (SETUP_PROFILE=build: the project only)
	@$(PY) -m provisioner terraform-config

$(VENV_STAMP): pyproject.toml
	@echo "==> python virtualenv .venv (project$(if $(filter dev,$(SETUP_PROFILE)), + dev tools))"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '$(PROJECT_SPEC)' > $(VENV)/pip.log 2>&1 \
		|| { tail -n 30 $(VENV)/pip.log; echo "pip install failed: full log in .venv/pip.log" >&2; exit 1; }
	@$(PY) -c 'import $(INSTALLED_MODULES)'
	@touch $@ $(if $(filter dev,$(SETUP_PROFILE)),$(VENV)/.installed-build)

node_modules/.installed: package.json package-lock.json
	@echo "==> cdktf-cli from package-lock.json"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

synth: setup ## synthesize every stack into cdktf.out/
	@$(PY) main.py

scan: synth $(CHECKOV_VENV)/.installed ## policy gate: checkov + own rules over cdktf.out/ (report in reports/)
	@$(PY) -m provisioner scan

$(CHECKOV_VENV)/.installed: $(CHECKOV_REQUIREMENTS)
	@echo "==> checkov virtualenv .venv-checkov (pinned by $(CHECKOV_REQUIREMENTS))"
	@rm -rf $(CHECKOV_VENV)
	@$(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(CHECKOV_REQUIREMENTS) > $(CHECKOV_VENV)/pip.log 2>&1 \
		|| { tail -n 30 $(CHECKOV_VENV)/pip.log; echo "pip install failed: full log in .venv-checkov/pip.log" >&2; exit 1; }
	@CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --version > /dev/null
	@touch $@

plan: setup ## synth + plan every workload stack, one combined summary (cdktf.out/plan-summary.md)
	@$(PY) -m provisioner plan --output cdktf.out/plan-summary.md

demo: setup ## everything end to end on a local multi-account AWS (moto): state, cdktf deploy, the deployed pipelines run locally
	@$(PY) -m provisioner demo

test: ## run the whole test suite (what CI runs), a file per worker, the emulator modules first; lists the ten slowest
	@# The three installs (.venv, node_modules, .venv-checkov) are independent: side by side.
	@$(MAKE) --no-print-directory --jobs=3 setup $(CHECKOV_VENV)/.installed
	@$(PY) -m pytest --numprocesses=$(TEST_WORKERS) --dist=loadfile --no-loadscope-reorder --durations=10

bench: setup ## benchmarks: synth time, peak memory, exit time against an empty app (repo, 1/30/50 envs), plan-summary on 6,000 resources; fails when a synth goal is missed
	@status=0; $(PY) -m tests.bench.synth_bench || status=$$?; $(PY) -m tests.bench.plan_summary_bench; exit $$status

clean: ## remove generated output (keeps .venv, .venv-checkov and node_modules)
	@rm -rf cdktf.out .cdktf.out.* .pytest_cache reports
