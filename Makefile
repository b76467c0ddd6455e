# secureinfra.baseline — two commands: `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PORT ?= 4566
# The emulator enforces what real AWS enforces and moto does not (scripts/strict_aws.py);
# STRICT=0 turns that off.
STRICT ?= 1
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

PHONY_SLOW := integration-slow-a integration-slow-b integration-extra integration-main-a integration-main-b
.PHONY: $(PHONY_SLOW) help venv emulator emulator-stop demo converge check drift teardown aws-acceptance deployer-policy lint lock sanity changelog-lint ansible-test-units unit integration integration-main integration-slow integration-faults molecule localstack bench test test-long clean

help:
	@echo "make demo           set up, start the emulator, converge both regions, print a summary, verify every control"
	@echo "make test           lint + unit + sanity + integration + molecule (starts its own emulators)"
	@echo "make test-long      the long integration tests: strict real-AWS, deployer policy, many accounts, teardown, bad input, faults"
	@echo "make emulator       start moto server on 127.0.0.1:$(PORT) (unless something answers there)"
	@echo "make emulator-stop  stop the emulator started by make emulator"
	@echo "make check          dry run (--check --diff) of site.yml against the emulator"
	@echo "make drift          per-region drift report (dry run; exit 2 when a region drifts)"
	@echo "make verify         every control in every account x region: reports/verify.json, verify.html (exit 2 on a failure)"
	@echo "make teardown       remove the baseline: TEARDOWN_CONFIRM=<account id> [DESTROY_DATA=true] [TEARDOWN_AWS=1]"
	@echo "make aws-acceptance opt-in real-account run (BASELINE_AWS_ACCEPTANCE=1): converge, data path, check, drift, teardown"
	@echo "make localstack     LocalStack on the host, and the molecule localstack scenario against it"
	@echo "make sanity         ansible-test sanity (and the changelog lint) on a collection-shaped copy"

# The venv holds exactly requirements-dev.lock: every package pinned with its hashes, nothing
# resolved at install time (--no-deps), so a clone next month installs what CI ran; `pip check`
# fails when the lock is incomplete. `make lock` regenerates the locks from the top-level
# requirements (requirements-dev.in, requirements-ee.in, tests/matrix/lanes.yml).
LOCK := requirements-dev.lock
$(VENV)/.installed: $(LOCK)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip check
	touch $@

.PHONY: lock
lock: venv
	$(PY) scripts/lock.py $(if $(filter 1,$(UPGRADE)),--upgrade)

# ansible.cfg resolves secureinfra.baseline.* from collections/ (git-ignored): a link to this
# checkout, made here rather than committed (a collection may hold no symlink).
COLLECTION_LINK := collections/ansible_collections/secureinfra/baseline

venv: $(VENV)/.installed $(COLLECTION_LINK)

$(COLLECTION_LINK):
	mkdir -p $(@D)
	ln -sfn ../../.. $@

emulator: venv
	$(PY) scripts/emulator.py start --port $(PORT) $(if $(filter 1,$(STRICT)),--strict)

emulator-stop:
	$(PY) scripts/emulator.py stop --port $(PORT)

converge: emulator
	AWS_ENDPOINT_URL=http://127.0.0.1:$(PORT) $(BIN)/ansible-playbook site.yml

demo: converge
	AWS_ENDPOINT_URL=http://127.0.0.1:$(PORT) $(BIN)/ansible-playbook playbooks/demo.yml
	AWS_ENDPOINT_URL=http://127.0.0.1:$(PORT) $(PY) scripts/demo_data_path.py
	AWS_ENDPOINT_URL=http://127.0.0.1:$(PORT) $(BIN)/ansible-playbook playbooks/verify.yml

check: emulator
	AWS_ENDPOINT_URL=http://127.0.0.1:$(PORT) $(BIN)/ansible-playbook site.yml --check --diff

drift: emulator
	AWS_ENDPOINT_URL=http://127.0.0.1:$(PORT) $(BIN)/ansible-playbook playbooks/drift.yml $(DRIFT_ARGS); rc=$$?; [ $$rc -eq 0 ] && exit 0; \
	  status=$$($(PY) -c 'import json, sys; print(json.load(open(sys.argv[1]))["status"])' "$${ANSIBLE_DRIFT_REPORT_DIR:-reports}/drift.json" 2>/dev/null); \
	  [ $$rc -eq 2 ] && [ "$$status" = drift ] && exit 2; echo "make drift: the dry run failed (ansible-playbook exit $$rc)" >&2; exit 1

# Every control the baseline promises, in every account x region (playbooks/verify.yml,
# docs/verify.md): reports/verify.json, reports/verify.html, one summary line; exit 2 when a
# control fails.
.PHONY: verify browser
verify: emulator
	AWS_ENDPOINT_URL=http://127.0.0.1:$(PORT) $(BIN)/ansible-playbook playbooks/verify.yml

# prowler 5.46.0, verify's outside judge (tests/integration/test_prowler.py, in make test-long), in
# its own venv: .venv-prowler (git-ignored), Python 3.12 (pyenv's or on PATH), exactly
# requirements-prowler.lock with its hashes, installed by the dev venv's uv (pip takes ten times
# as long), then checked.
PROWLER_VENV := .venv-prowler
PROWLER_LOCK := requirements-prowler.lock
PYTHON312 ?= $(shell $(PY) -c "import sys; sys.path.insert(0, 'tests'); from support.pythons import find_python; print(find_python('3.12') or '')")
.PHONY: prowler
prowler: $(PROWLER_VENV)/.installed

$(PROWLER_VENV)/.installed: $(PROWLER_LOCK) $(VENV)/.installed
	@test -n "$(PYTHON312)" || { echo "make prowler: no Python 3.12 (pyenv's or python3.12 on PATH)" >&2; exit 1; }
	test -x $(PROWLER_VENV)/bin/python || $(BIN)/uv venv --quiet --python $(PYTHON312) $(PROWLER_VENV)
	$(BIN)/uv pip install --quiet --python $(PROWLER_VENV)/bin/python --require-hashes --no-deps -r $(PROWLER_LOCK)
	$(BIN)/uv pip check --python $(PROWLER_VENV)/bin/python
	touch $@

# Debian's headless Chromium for the browser test of the verify report
# (tests/integration/test_verify_browser.py; BASELINE_SKIP_BROWSER=1 skips that test).
browser:
	scripts/install_browser.sh

# Removes what the site made (playbooks/teardown.yml, docs/teardown.md). Refuses unless
# TEARDOWN_CONFIRM names the account of every host; DESTROY_DATA=true also deletes the buckets and
# tables and schedules the key's deletion (30 days). Against the emulator (PORT) unless
# TEARDOWN_AWS=1 (then AWS_PROFILE / the usual credentials, and TEARDOWN_INVENTORY, default
# inventories/aws). TEARDOWN_ARGS: more ansible-playbook arguments (--check --diff, -l us-east-1).
TEARDOWN_CONFIRM ?=
DESTROY_DATA ?= false
TEARDOWN_INVENTORY ?= inventories/aws
TEARDOWN_ARGS ?=
teardown: venv
	@test -n "$(TEARDOWN_CONFIRM)" || { echo "make teardown: set TEARDOWN_CONFIRM=<account id> (comma-separated for several accounts)" >&2; exit 2; }
	$(if $(filter 1,$(TEARDOWN_AWS)),,AWS_ENDPOINT_URL=http://127.0.0.1:$(PORT)) $(BIN)/ansible-playbook playbooks/teardown.yml \
	  $(if $(filter 1,$(TEARDOWN_AWS)),-i $(TEARDOWN_INVENTORY)) \
	  -e teardown_confirm=$(TEARDOWN_CONFIRM) -e teardown_destroy_data=$(DESTROY_DATA) $(TEARDOWN_ARGS)

# Opt-in real-account acceptance run (scripts/aws_acceptance.py, docs/acceptance.md): skips, saying
# why, unless BASELINE_AWS_ACCEPTANCE=1 and credentials that STS accepts. Against real AWS unless
# AWS_ENDPOINT_URL is set. Converges both regions with a unique prefix, runs the data path,
# check mode, drift, then tears everything down, data included.
aws-acceptance: venv
	$(PY) scripts/aws_acceptance.py

# files/iam/deployer-policy.json from the requests of converge, rerun, dry runs and drift, on a
# private recording emulator (port 4660, or DEPLOYER_POLICY_PORT).
deployer-policy: venv
	$(PY) scripts/deployer_policy.py generate

# Whole-site runs on a private emulator (bench/bench_runs.py): first converge, no-op reruns and
# check mode, mitogen's strategy vs Ansible's linear; writes bench/RESULTS.md. Not part of make test.
bench: venv
	$(PY) bench/bench_runs.py

# The execution environment's build context (docs/awx.md): the collection
# tarball into build/, then `ansible-builder create` into build/ee. No container engine needed.
.PHONY: ee
ee: venv
	$(BIN)/ansible-galaxy collection build --force --output-path build .
	$(BIN)/ansible-builder create --file execution-environment.yml --context build/ee --output-filename Containerfile

# ansible-lint exits 0 when a plugin's documentation does not load: ansible's loader only prints
# an "[ERROR]: ..." line. Such a line fails the target.
lint: venv
	$(BIN)/yamllint --strict .
	$(BIN)/ruff check plugins files tests bench scripts
	set -o pipefail; $(BIN)/ansible-lint --profile production 2>&1 | awk '{ print } \
	  /^(\033\[[0-9;]*m)?\[ERROR\]/ { errors++ } \
	  END { if (errors) { print "make lint: " errors " [ERROR] line(s) from ansible-lint" > "/dev/stderr"; exit 1 } }'

# `ansible-test sanity` on a copy of the tracked files laid out as
# ansible_collections/secureinfra/baseline (scripts/sanity.py, --local). pylint runs on plugins/
# (the Python that ships); docs/testing.md ("Sanity tests") says why and what cannot run here.
sanity: venv changelog-lint
	$(PY) scripts/sanity.py sanity --skip-test pylint
	$(PY) scripts/sanity.py sanity --test pylint plugins/

# Fragments, changelogs/changelog.yaml, and CHANGELOG.rst as antsibull-changelog generates it.
changelog-lint: venv
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-changelog lint-changelog-yaml --strict changelogs/changelog.yaml
	tmp=$$(mktemp) && $(BIN)/antsibull-changelog generate --output $$tmp --output-format rst && \
	  diff -u CHANGELOG.rst $$tmp; rc=$$?; rm -f $$tmp; \
	  if [ $$rc -ne 0 ]; then echo "CHANGELOG.rst is stale: run antsibull-changelog generate" >&2; fi; exit $$rc

# tests/unit through `ansible-test units` (same tests as `make unit`, on the collection copy).
ansible-test-units: venv
	$(PY) scripts/sanity.py units

unit: venv
	$(BIN)/pytest -q tests/unit

# The integration tests: `integration-main` in `make test`; the long ones in `make test-long`, two
# processes side by side (own emulator ports):
# - integration-slow, in two halves that run side by side (integration-slow-a, -b), in CI:
#   a: the upgrade of an account each earlier release converged (tests/upgrade/releases.yml),
#      prowler against verify, prowler's checks of the security services;
#   b: the deployer policy under moto's IAM enforcement, the AWX-style run;
# - integration-extra (make test-long, not CI: its length does not fit CI's hour beside the
#   matrix): concurrent runs under the state lock (docs/locking.md), the strict real-AWS
#   scenarios, ten killed first converges and their reruns, two accounts x two regions, the
#   teardown, orphans reported and removed;
# - integration-faults: the 135 bad-input cases (one run of as many hosts), the verify
#   breakages, the rollout tolerance, and the fault tests (drift repaired, throttling, endpoint
#   gone mid-run).
FAULT_TESTS := tests/integration/test_fault_drift_repair.py tests/integration/test_fault_throttling.py \
  tests/integration/test_fault_emulator_down.py
SLOW_A_TESTS := tests/integration/test_upgrade.py tests/integration/test_prowler.py \
  tests/integration/test_security_services_prowler.py
SLOW_B_TESTS := tests/integration/test_deployer_policy.py tests/integration/test_awx_runner.py
EXTRA_TESTS := tests/integration/test_concurrent_runs.py tests/integration/test_real_aws_rules.py \
  tests/integration/test_fault_killed.py tests/integration/test_multi_account.py \
  tests/integration/test_teardown.py tests/integration/test_orphans.py
SLOW_TESTS := $(SLOW_A_TESTS) $(SLOW_B_TESTS) $(EXTRA_TESTS)
FAULTS_TESTS := tests/integration/test_bad_input.py tests/integration/test_verify_breakages.py \
  tests/integration/test_rollout.py $(FAULT_TESTS)
LONG_TESTS := $(SLOW_TESTS) $(FAULTS_TESTS)

integration: integration-main integration-slow integration-faults

# integration-main in two halves side by side (the tests wait on the emulator's AWS delays as much
# as they compute): a, its own tests, port 4610; b, every other test of tests/integration but the
# long ones and the matrix lanes' (tests/integration/matrix), port 4630.
MAIN_A_TESTS := tests/integration/test_session_refresh.py tests/integration/test_tags_group_vars.py \
  tests/integration/test_account_settings.py tests/integration/test_security_services.py

integration-main: integration-main-a integration-main-b

integration-main-a: venv
	TEST_EMULATOR_PORT=4610 $(BIN)/pytest -q --durations=10 $(MAIN_A_TESTS)

integration-main-b: venv
	TEST_EMULATOR_PORT=4630 $(BIN)/pytest -q --durations=10 tests/integration \
	  --ignore=tests/integration/matrix $(addprefix --ignore=,$(LONG_TESTS) $(MAIN_A_TESTS))

# Ports: each lane's tests use its port and up to 32 above it.
integration-slow: integration-slow-a integration-slow-b integration-extra

integration-slow-a: venv prowler
	TEST_EMULATOR_PORT=4650 $(BIN)/pytest -q --durations=10 $(SLOW_A_TESTS)

integration-slow-b: venv prowler
	TEST_EMULATOR_PORT=4700 $(BIN)/pytest -q --durations=10 $(SLOW_B_TESTS)

integration-extra: venv
	TEST_EMULATOR_PORT=4800 $(BIN)/pytest -q --durations=10 $(EXTRA_TESTS)

integration-faults: venv
	TEST_EMULATOR_PORT=4670 $(BIN)/pytest -q --durations=10 $(FAULTS_TESTS)

# molecule 26, ansible-native (extensions/molecule/): the default scenario starts and stops its own
# emulator (port MOLECULE_PORT, strict unless STRICT=0), so plain `molecule test` works too. Then
# the localstack scenario: it skips, saying so, unless a LocalStack answers at LOCALSTACK_ENDPOINT.
MOLECULE_PORT ?= 4580
molecule: venv
	SECUREINFRA_MOLECULE_PORT=$(MOLECULE_PORT) STRICT=$(STRICT) $(BIN)/molecule test -s default
	$(BIN)/molecule test -s localstack

# LocalStack on the host (scripts/localstack.py: its own Python 3.13 venv, .venv-localstack, from
# requirements-localstack.txt) on LOCALSTACK_PORT, the localstack scenario against it, then stop.
LOCALSTACK_PORT ?= 4726
localstack: venv
	$(PY) scripts/localstack.py setup
	$(PY) scripts/localstack.py start --port $(LOCALSTACK_PORT)
	LOCALSTACK_ENDPOINT=http://127.0.0.1:$(LOCALSTACK_PORT) $(BIN)/molecule test -s localstack; \
	  rc=$$?; $(PY) scripts/localstack.py stop --port $(LOCALSTACK_PORT); exit $$rc

# Debian's headless Chromium for the report's browser test (`make browser`, apt, root),
# then lint, the unit tests and ansible-test sanity side by side (two cores), then the two halves
# of the integration tests beside molecule. `make test-long` runs the long integration tests;
# .ci/run runs both.
test: venv browser
	$(MAKE) --no-print-directory -j2 --output-sync=target lint unit sanity
	$(MAKE) --no-print-directory -j3 --output-sync=target integration-main-a integration-main-b molecule

test-long: venv prowler
	$(MAKE) --no-print-directory -j2 --output-sync=target integration-slow-a integration-slow-b \
	  integration-extra integration-faults

# CI after `make test` (.ci/run): the long integration lanes and the matrix lanes, two at a time,
# the longest first (faults about 15 min, slow-a 14, slow-b 9, each matrix lane 7: so no long lane
# runs alone at the end), then the matrix table.
.PHONY: ci-long
ci-long: venv prowler
	rm -rf tests/output/matrix
	$(MAKE) --no-print-directory -j2 --output-sync=target integration-faults integration-slow-a \
	  integration-slow-b $(addprefix matrix-,$(MATRIX_LANES)); \
	  rc=$$?; $(MAKE) --no-print-directory matrix-table || rc=1; exit $$rc

# The version matrix (noxfile.py, tests/matrix/lanes.yml): one lane per supported ansible release
# (12, 13, 14: ansible-core 2.19, 2.20, 2.21, on Python 3.12), each from its own lock: ansible-test
# sanity with that version's ignore file, the unit tests, and converge / rerun / check / verify on
# its own emulator. Lanes run two at a time (each has its own HOME and emulator port), then the
# table (tests/output/matrix/table.md). One lane: `make matrix-ansible-14` or `nox -s ansible-14`.
MATRIX_LANES := $(shell sed -n 's/^  \(ansible-[0-9][0-9]*\):$$/\1/p' tests/matrix/lanes.yml)
.PHONY: matrix matrix-table $(addprefix matrix-,$(MATRIX_LANES))
matrix: venv
	rm -rf tests/output/matrix
	$(MAKE) --no-print-directory -j2 --output-sync=target $(addprefix matrix-,$(MATRIX_LANES)); \
	  rc=$$?; $(MAKE) --no-print-directory matrix-table || rc=1; exit $$rc

$(addprefix matrix-,$(MATRIX_LANES)): matrix-%: venv
	$(BIN)/nox -s $*

matrix-table: venv
	$(BIN)/nox -s matrix-table

# Fault tolerance alone (issue 10, 2b-2d; docs/fault-tolerance.md): drift named and repaired, a 20%
# throttling proxy, the endpoint closing mid-run. Private emulators on FAULT_PORT+3..+7.
FAULT_PORT ?= 4690
.PHONY: fault
fault: venv
	TEST_EMULATOR_PORT=$(FAULT_PORT) $(BIN)/pytest -q --durations=10 $(FAULT_TESTS)

# Ten first converges killed with SIGKILL at seeded points, each rerun (issue 10, 2a;
# docs/fault-tolerance.md): one private emulator on FAULT_KILLED_PORT+8, forwarders on +9..+19.
# Prints and writes tests/output/fault-killed.txt (kills, kill points, reruns, duplicates).
FAULT_KILLED_PORT ?= 4700
.PHONY: fault-killed
fault-killed: venv
	TEST_EMULATOR_PORT=$(FAULT_KILLED_PORT) $(BIN)/pytest -q -s --durations=10 tests/integration/test_fault_killed.py

clean:
	-$(PY) scripts/emulator.py stop --port $(PORT)
	rm -rf .emulator tests/output .pytest_cache
