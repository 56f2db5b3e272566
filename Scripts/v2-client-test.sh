#!/usr/bin/env bash
# Calls the Open Inference Protocol v2 routes of `recommend serve` and `churn serve` with tritonclient (PyPI, in a
# virtual environment this script makes): with Scripts/serve-fixture.sh, trains both models on SampleData and starts both
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
source Scripts/serve-fixture.sh
serve_start recommend
REC_URL=$URL
serve_start churn
CHURN_URL=$URL
"$VENV/bin/python" Scripts/tests/v2_client.py "$BIN" "$STORE" "$REC_URL" "$CHURN_URL" SampleData/churn/customers.csv
