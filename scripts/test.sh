#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs the test tools (scripts/test-env.sh),
# builds, runs the unit tests, the q parser gate, the host tests (local disk and the three
# cloud emulators, started here and stopped on exit) and the valgrind run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
start=$(date +%s)

step() { printf '\n==> %s\n' "$*"; }

step "test tools"
scripts/test-env.sh

step "build"
cargo build
cargo test --no-run

step "unit tests"
cargo test --lib

step "q parser gate (qls): no diagnostic of severity 1 or 2"
# qls 1.0.5 reports every global name as unresolved, even one defined on the line above:
# that lint says nothing about the code, so it is shown but does not fail the gate.
.tools/bin/python tests/tools/qls_check.py --ignore "cannot find name" init.q q/*.q \
  | grep -v ' hint ' || true
.tools/bin/python tests/tools/qls_check.py --ignore "cannot find name" init.q q/*.q >/dev/null

step "emulators"
export MLR_EMULATORS_RUN_DIR="$root/.tools/run-test"
trap 'scripts/emulators.sh stop || true' EXIT
scripts/emulators.sh start
export MLREGISTRY_TEST_ENV="$MLR_EMULATORS_RUN_DIR/emulators.env"

step "host tests (the extension loaded as q loads it)"
cargo test --test host -- --test-threads=1

step "valgrind (host tests without the cloud)"
scripts/valgrind.sh

echo
echo "all tests passed in $(( $(date +%s) - start )) s"
