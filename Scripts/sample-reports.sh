#!/usr/bin/env bash
# Writes the three apps' HTML reports for models trained on SampleData/, into OUT_DIR (with the store they use):
#   churn-report.html      the churn model (churn train's default family choice), with drift of customers_new.csv
#   recommend-report.html  a recommender trained on the interactions before 2026-02-10, measured on the later ones
#   fraud-report.html      a fraud model trained on the history before 2026-01-21, evaluated on the days after,
#                          with the latency of a stream run over SampleData/fraud/stream.csv
# Prints one line per report: "sample-reports: NAME CHARTS" (the charts the command says it drew).
# Usage: Scripts/sample-reports.sh BIN_DIR OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(cd "$1" && pwd)
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
STORE="$OUT/reports.sqlite"
rm -f "$STORE" "$STORE-wal" "$STORE-shm"
run() { "$@" 2>"$OUT/last.err" || { cat "$OUT/last.err" >&2; exit 1; }; }
charts() { grep -oE '\(([0-9]+) charts\)' "$OUT/last.err" | grep -oE '[0-9]+'; }

run "$BIN/churn" train --data SampleData/churn/customers.csv --target churned --time-column snapshot_date \
  --store "$STORE" >/dev/null
run "$BIN/churn" report --data SampleData/churn/customers_new.csv --store "$STORE" --output "$OUT/churn-report.html"
echo "sample-reports: churn-report $(charts)"

CUT=2026-02-10
awk -F, -v cut="$CUT" 'NR == 1 || $4 < cut' SampleData/ecommerce/interactions.csv >"$OUT/interactions-early.csv"
awk -F, -v cut="$CUT" 'NR == 1 || $4 >= cut' SampleData/ecommerce/interactions.csv >"$OUT/interactions-later.csv"
run "$BIN/recommend" train --interactions "$OUT/interactions-early.csv" --items SampleData/ecommerce/items.csv \
  --value-column quantity --timestamp-column timestamp --store "$STORE" >/dev/null
# From the output directory, so that the page names the file it was measured on, not a temporary directory.
(cd "$OUT" && run "$BIN/recommend" report --interactions interactions-later.csv --store "$STORE" \
  --output recommend-report.html)
echo "sample-reports: recommend-report $(charts)"

awk -F, 'NR == 1 || $2 < "2026-01-21"' SampleData/fraud/history.csv >"$OUT/fraud-early.csv"
run "$BIN/fraud" train --data "$OUT/fraud-early.csv" --store "$STORE" >/dev/null
run "$BIN/fraud" stream --store "$STORE" --stats-file "$OUT/stream-stats.json" <SampleData/fraud/stream.csv >/dev/null
run "$BIN/fraud" report --data SampleData/fraud/history.csv --from 2026-01-21 --stats "$OUT/stream-stats.json" \
  --store "$STORE" --output "$OUT/fraud-report.html"
echo "sample-reports: fraud-report $(charts)"
rm -f "$OUT/last.err"
