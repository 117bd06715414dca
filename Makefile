# The two commands users and CI rely on: `make deploy` and `make test`.
# Both work on a bare machine with python3 and make: they build .venv/ from
# the pinned requirements and start the local AWS endpoint themselves.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
LOCAL_AWS_PORT ?= 5000
LOCAL_ENDPOINT := http://127.0.0.1:$(LOCAL_AWS_PORT)
LOCAL_API_PORT ?= 3000
API_NAME ?= tasks-api-local
LOCAL_API := $(BIN)/python tools/local_api.py
LAUNCHER := $(BIN)/python tools/local_endpoint.py
STACK_ENV := local
# Integration test files run on this many pytest-xdist workers, a file per worker at a time, each worker with
# its own endpoint on a free port.
TEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadfile
# MITOGEN=1 runs deploy and smoke with the Mitogen strategy (docs/performance.md); the default is Ansible's own.
MITOGEN ?= 0
WITH_STRATEGY := $(if $(filter 1,$(MITOGEN)),eval "$$($(BIN)/python tools/mitogen_strategy.py)" &&,)
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help venv deploy smoke test test-faults lint sanity unit integration molecule local-up local-down local-status api-up api-down bench artifact ee-context docs lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## Build .venv/ from the pinned requirements

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

local-up: venv ## Start the local AWS endpoint on 127.0.0.1:$LOCAL_AWS_PORT unless one answers there
	$(LAUNCHER) up --port $(LOCAL_AWS_PORT)

local-down: api-down ## Stop the local endpoint that local-up started, and the API front (by their pids)
	@if [ -x $(BIN)/python ]; then $(LAUNCHER) down --port $(LOCAL_AWS_PORT); else echo "no .venv: nothing started"; fi

api-up: venv ## (Re)start the local API front on 127.0.0.1:$LOCAL_API_PORT, serving the API deployed on the local endpoint
	$(LOCAL_API) up --port $(LOCAL_API_PORT) --endpoint-url $(LOCAL_ENDPOINT) --api-name $(API_NAME)

api-down: ## Stop the local API front that api-up started (by its pid)
	@if [ -x $(BIN)/python ]; then $(LOCAL_API) down --port $(LOCAL_API_PORT); else echo "no .venv: nothing started"; fi

local-status: venv ## Say whether the local endpoint answers
	$(LAUNCHER) status --port $(LOCAL_AWS_PORT)

deploy: local-up ## Converge site.yml on the local endpoint, start the local API front, smoke-test, print the outputs
	$(WITH_STRATEGY) AWS_ENDPOINT_URL=$(LOCAL_ENDPOINT) ansible-playbook site.yml -i inventories/local -e stack_outputs_dir=$(CURDIR)/outputs
	$(MAKE) --no-print-directory api-up
	$(MAKE) --no-print-directory smoke
	@echo "Stack outputs (outputs/$(STACK_ENV).json):"
	@cat $(CURDIR)/outputs/$(STACK_ENV).json

smoke: venv ## Run the smoke playbook against the local stack (every route through the local API front)
	$(WITH_STRATEGY) AWS_ENDPOINT_URL=$(LOCAL_ENDPOINT) LOCAL_API_PORT=$(LOCAL_API_PORT) ansible-playbook playbooks/smoke.yml -i inventories/local -e stack_outputs_dir=$(CURDIR)/outputs

test: venv ## Run every test: lint, sanity, unit, integration, molecule
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory sanity
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory integration
	$(MAKE) --no-print-directory molecule

lint: venv ## ruff, yamllint, ansible-lint (production profile)
	ruff check .
	ruff format --check .
	yamllint --strict .
	ansible-lint

sanity: venv ## ansible-test sanity (every test that applies) and units (plugin tests) on a staged copy of the collection
	python tools/ansible_test.py

unit: venv ## Unit tests (filters, launcher corrections); no AWS
	pytest tests/unit

integration: venv ## Integration tests (every fault type once); each worker starts its own endpoint on a free port
	pytest tests/integration $(PYTEST_PARALLEL) -m "not faults"

test-faults: venv ## The full fault matrix: each fault type alone, and every kill point of an interrupted converge
	pytest tests/integration $(PYTEST_PARALLEL) -m faults

molecule: venv ## molecule test of the default scenario on a private endpoint
	MOLECULE_LOCAL_AWS_PORT=$$($(BIN)/python tools/free_port.py) MOLECULE_LOCAL_API_PORT=$$($(BIN)/python tools/free_port.py) \
		molecule test --scenario-name default

bench: venv ## The performance benchmark on private endpoints: prints the table, writes JSON and docs/performance.md
	python benchmarks/bench.py

artifact: venv ## Build the collection artifact into build/ (docs/installing.md)
	ansible-galaxy collection build --force --output-path build

ee-context: artifact ## Build the execution environment's build context into build/ee-context; no container engine needed
	rm -rf build/ee-context
	ansible-builder create -f execution-environment.yml -c build/ee-context --output-filename Containerfile

docs: venv ## Regenerate the generated docs: role pages, architecture diagram, OpenAPI reference
	python tools/render_role_docs.py
	python tools/render_architecture.py
	python tools/render_openapi.py

lock: ## Regenerate constraints.txt from a fresh resolve of requirements-dev.txt
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -r requirements-dev.txt
	.lock-venv/bin/python -m pip freeze --exclude-editable | sort -f > constraints.txt
	rm -rf .lock-venv

clean: api-down local-down ## Remove the venv, outputs and caches (the endpoint is stopped first)
	rm -rf $(VENV) outputs build .pytest_cache .ruff_cache .cache/ansible-test
