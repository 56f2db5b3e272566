#!/usr/bin/env bash
# Property-based test of both servers' HTTP APIs: schemathesis (PyPI, in a virtual environment this script makes)
# generates requests from the OpenAPI document each server serves at /openapi.json and checks that none gets a 5xx
# and every response fits the document. Trains both models on SampleData into a temporary store, starts both
# servers on free loopback ports, and stops them whatever happens. Bounded: 30 examples per operation, 5 minutes.
# Usage: Scripts/schemathesis-test.sh BIN_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1
VENV=.build/venv-schemathesis
if ! "$VENV/bin/st" --version >/dev/null 2>&1; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==4.*"
fi
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
STORE=$WORK/store.sqlite
"$BIN/recommend" train --interactions SampleData/ecommerce/interactions.csv --items SampleData/ecommerce/items.csv \
  --iterations 5 --store "$STORE" >/dev/null 2>&1
"$BIN/churn" train --data SampleData/churn/customers.csv --target churned --cv 0 --store "$STORE" >/dev/null 2>&1
passed=0
for tool in recommend churn; do
  "$BIN/$tool" serve --port 0 --store "$STORE" >"$WORK/$tool.out" 2>"$WORK/$tool.err" &
  PIDS+=($!)
  for _ in $(seq 1 100); do grep -q '^listening on ' "$WORK/$tool.out" && break; sleep 0.1; done
  URL=$(sed -n 's/^listening on //p' "$WORK/$tool.out")
  [ -n "$URL" ] || { echo "schemathesis: $tool serve did not start" >&2; cat "$WORK/$tool.err" >&2; exit 1; }
  echo "schemathesis: $tool serve at $URL"
  timeout 300 "$VENV/bin/st" run "$URL/openapi.json" -c not_a_server_error,response_schema_conformance -n 30 \
    --no-color >"$WORK/$tool.st" 2>&1 || { tail -80 "$WORK/$tool.st" >&2; echo "schemathesis: $tool failed" >&2; exit 1; }
  grep -E "generated, [0-9]+ passed" "$WORK/$tool.st"
  passed=$((passed + 1))
done
echo "schemathesis: $passed passed, 0 failed"
