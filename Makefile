# PyDCOS developer commands. On a fresh Debian 12 machine, as root:
#   make cluster      a real cluster on test hosts, installed by Ansible (make cluster-destroy)
#   make local        start a local cluster on loopback (make local-stop stops it)
#   make test         install everything, lint, typecheck and run the whole suite (CI: .ci/run)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
SRC := $(wildcard daemons dnsproxy minuteman tests bench tools exhibitor)
PYTEST_ARGS ?=
LOCAL_ARGS ?=
MASTERS ?= 1
AGENTS ?= 2
PUBLIC_AGENTS ?= 0

.PHONY: help deps lint format typecheck test unit integration molecule bench local local-stop \
	local-status clean release cluster cluster-destroy ui-tour

help:
	@echo "make cluster [MASTERS=1|3] [AGENTS=N]     a cluster on nspawn test hosts, via ansible-playbook"
	@echo "make cluster-destroy                     remove it, every node and trace"
	@echo "make ui-tour                             walk make cluster's web UI in chromium (screenshots)"
	@echo "make local | local-stop | local-status   a PyDCOS cluster on 127.0.0.1 (master :5050,"
	@echo "                                         Mesos-DNS :61053/:8123, DNS proxy :8053,"
	@echo "                                         Marathon :8080, Metronome :9000, Admin Router"
	@echo "                                         :8880, login bootstrapuser/deleteme)"
	@echo "make test                               deps + lint + typecheck + unit and integration tests"
	@echo "make deps | lint | format | typecheck | unit | integration | molecule | bench | release | clean"

deps:
	@bash scripts/bootstrap.sh

# ansible-lint reads .ansible-lint (production profile; offline: no collection installs, no
# version check); the venv's bin on PATH lets it find ansible-playbook for its syntax checks.
lint: deps
	$(PY) -m ruff check $(SRC)
	$(PY) -m ruff format --check $(SRC)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/ansible-lint --offline

format: deps
	$(PY) -m ruff check --fix $(SRC)
	$(PY) -m ruff format $(SRC)

typecheck: deps
	$(PY) -m mypy

# pytest exits 5 when it collected no test: that fails `make test` (a suite that ran nothing).
# The 25 slowest tests are listed at the end: where the suite's time goes.
test: deps lint typecheck
	@echo "$(PY) -m pytest tests/unit tests/integration -q --durations=25 $(PYTEST_ARGS)"
	@rc=0; $(PY) -m pytest tests/unit tests/integration -q --durations=25 $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$rc

unit: deps
	$(PY) -m pytest tests/unit -q $(PYTEST_ARGS)

integration: deps
	$(PY) -m pytest tests/integration -q $(PYTEST_ARGS)

# The Molecule lifecycle alone (make test runs it too, from tests/integration/test_molecule.py).
molecule: deps
	cd tests && PATH="$(abspath $(VENV))/bin:$$PATH" molecule test -s cluster

# The wheelhouse the roles install on nodes (build/release; skipped when sources are unchanged).
release: deps
	$(PY) -m tools.release build

cluster: deps
	$(PY) -m tools.cluster up --masters $(MASTERS) --agents $(AGENTS) --public-agents $(PUBLIC_AGENTS)

# The web UI of `make cluster`'s cluster walked in chromium (tools/ui_tour.py): screenshots
# and first-paint times in test-results/ui-tour.
ui-tour: deps
	$(PY) -m tools.ui_tour --url http://198.18.0.11

# Needs only the standard library and the host tools: works before `make deps` too.
cluster-destroy:
	@$$( [ -x $(PY) ] && echo $(PY) || echo python3 ) -m tools.cluster down

# Each benchmark runs alone; one that takes --quick gets it here.
bench: deps
	@shopt -s nullglob; for b in bench/*.py; do \
		flag=; grep -q -- '--quick' "$$b" && flag=--quick; \
		echo "== $$b $$flag"; $(PY) "$$b" $$flag; \
	done

local: deps
	$(PY) -m tools.localcluster up $(LOCAL_ARGS)

# Stopping needs only the standard library: it works before `make deps` too.
local-stop:
	@$$( [ -x $(PY) ] && echo $(PY) || echo python3 ) -m tools.localcluster down $(LOCAL_ARGS)

local-status:
	@$$( [ -x $(PY) ] && echo $(PY) || echo python3 ) -m tools.localcluster status $(LOCAL_ARGS)

clean: local-stop
	rm -rf .local .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist *.egg-info test-results
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
