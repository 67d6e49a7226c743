# Baton: the commands a developer and CI use. See README.md.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: setup setup-demo build up demo test fidelity lint fmt clean bench mutants

setup: ## Install what test (and demo) need: python3-venv and Chromium (Debian) when missing, pinned moto into .venv
	@tools/setup.sh test

setup-demo: ## What demo and up need: python3-venv when missing, pinned moto into .venv (no browser)
	@tools/setup.sh demo

build:
	$(CARGO) build --workspace --all-targets

up: setup-demo ## Run the local stack in the foreground until Ctrl-C
	$(CARGO) run -q -p baton-local -- up $(if $(filter-out 0,$(VERBOSE)),--verbose,)

demo: setup-demo ## Start the stack, push the sample packages, show the release
	$(CARGO) run -q -p baton-local -- demo $(if $(filter-out 0,$(AUTO_APPROVE)),--auto-approve --exit,) $(if $(filter-out 0,$(VERBOSE)),--verbose,) $(DEMO_FLAGS)

test: setup ## Unit and end-to-end tests (the e2e tests start their own stacks)
	$(CARGO) test --workspace --all-targets --exclude baton-fidelity

fidelity: ## The platforms' own CLIs (pinned wrangler, anypoint-cli-v4) against the simulators; needs Node 20.3+
	@tools/fidelity.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf .venv .local

.PHONY: package check-template

package: ## Lambda zips for every function (arm64, cargo-lambda + zig from .venv-tools); fails over 4 MB
	@tools/package.sh

check-template: ## cfn-lint (pinned, installed into .venv-tools) on template.yaml
	@tools/check-template.sh

FUNCTIONS := ingest notify approve lifecycle deploy-pages deploy-cloudhub status drift announce

bench: setup-demo package ## Every measured figure in one table, also saved to target/bench.md (see docs/performance.md)
	$(CARGO) build -q --profile bench $(addprefix -p ,$(FUNCTIONS)) -p baton-bench
	mkdir -p target
	set -o pipefail; $(CARGO) run -q --profile bench -p baton-bench | tee target/bench.md

CARGO_MUTANTS_VERSION := 27.1.0
MUTANTS_JOBS ?= 2

mutants: ## Mutation testing of baton-domain by its own tests (about an hour; see docs/testing.md)
	@if [ "$$(cargo mutants --version 2>/dev/null)" != "cargo-mutants $(CARGO_MUTANTS_VERSION)" ]; then \
		$(CARGO) install cargo-mutants --locked --version $(CARGO_MUTANTS_VERSION); fi
	$(CARGO) mutants -p baton-domain -j $(MUTANTS_JOBS) $(MUTANTS_FLAGS)
