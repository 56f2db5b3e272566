#!/usr/bin/env bash
# Calls the Open Inference Protocol v2 routes of `recommend serve` and `churn serve` with tritonclient (PyPI, in a
# virtual environment this script makes): trains both models on SampleData into a temporary store, starts both
# servers on free loopback ports, runs Scripts/tests/v2_client.py, and stops the servers whatever happens.
# Usage: Scripts/v2-client-test.sh BIN_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1
VENV=.build/venv-v2-client
if ! "$VENV/bin/python" -c "import tritonclient.http, numpy" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "tritonclient[http]" numpy
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
start() {  # start TOOL: runs `TOOL serve --port 0`, prints its URL
  "$BIN/$1" serve --port 0 --store "$STORE" >"$WORK/$1.out" 2>"$WORK/$1.err" &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    if grep -q '^listening on ' "$WORK/$1.out"; then
      sed -n 's/^listening on //p' "$WORK/$1.out"
      return
    fi
    sleep 0.1
  done
  echo "v2-client: $1 serve did not start" >&2
  cat "$WORK/$1.err" >&2
  exit 1
}
REC_URL=$(start recommend)
CHURN_URL=$(start churn)
"$VENV/bin/python" Scripts/tests/v2_client.py "$BIN" "$STORE" "$REC_URL" "$CHURN_URL" SampleData/churn/customers.csv
