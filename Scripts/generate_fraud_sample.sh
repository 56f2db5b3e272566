#!/usr/bin/env bash
# Regenerates SampleData/fraud from the project's own simulator: 35 days of 600 cards; the first 28 days
# (labeled) are history.csv, the last 7 days (labels removed) are stream.csv.
# Usage: Scripts/generate_fraud_sample.sh   (needs a built `fraud`: swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build -c release --show-bin-path)/fraud
ALL=$(mktemp)
trap 'rm -f "$ALL"' EXIT
"$BIN" simulate --days 35 --cards 600 --merchants 120 --fraud-share 0.1 --seed 7 --output "$ALL"
awk -F, 'NR == 1 || $2 < "2026-01-29"' "$ALL" >SampleData/fraud/history.csv
awk -F, 'BEGIN {OFS = ","} (NR == 1 || $2 >= "2026-01-29") {NF = NF - 1; print}' "$ALL" >SampleData/fraud/stream.csv
wc -l SampleData/fraud/*.csv
