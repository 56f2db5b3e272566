#!/usr/bin/env bash
# Writes the OpenAPI documents the servers serve at /openapi.json into openapi/ (the committed copies, which a test
# checks against the code).
# Usage: Scripts/export-openapi.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product recommend >/dev/null
swift build --product churn >/dev/null
swift build --product fraud >/dev/null
BIN=$(swift build --show-bin-path)
"$BIN/recommend" serve --openapi >openapi/recommend.json
"$BIN/churn" serve --openapi >openapi/churn.json
"$BIN/fraud" serve --openapi >openapi/fraud.json
