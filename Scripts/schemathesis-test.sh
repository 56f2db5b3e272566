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
source Scripts/serve-fixture.sh
passed=0
for tool in recommend churn; do
  serve_start "$tool"
  echo "schemathesis: $tool serve at $URL"
  timeout 300 "$VENV/bin/st" run "$URL/openapi.json" -c not_a_server_error,response_schema_conformance -n 30 \
    --no-color >"$WORK/$tool.st" 2>&1 || { tail -80 "$WORK/$tool.st" >&2; echo "schemathesis: $tool failed" >&2; exit 1; }
  grep -E "generated, [0-9]+ passed" "$WORK/$tool.st"
  passed=$((passed + 1))
done
echo "schemathesis: $passed passed, 0 failed"
