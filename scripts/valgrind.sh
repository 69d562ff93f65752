#!/usr/bin/env bash
# Runs the host tests under valgrind: any definite leak or memory error outside libe's own
# memory pool fails the run. Usage: scripts/valgrind.sh (after `cargo build` and
# `cargo test --no-run`).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(cargo test --test host --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m["target"]["name"]=="host" and m.get("executable"):
        print(m["executable"])' | tail -n 1)
[ -n "$bin" ] || { echo "valgrind.sh: host test binary not found" >&2; exit 1; }
MLREGISTRY_QUIET=1 valgrind -q --error-exitcode=9 --leak-check=full \
  --show-leak-kinds=definite --errors-for-leak-kinds=definite \
  --suppressions=tests/valgrind.supp "$bin" --test-threads=1 --skip cloud
