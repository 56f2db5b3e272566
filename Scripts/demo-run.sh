#!/usr/bin/env bash
# Runs the demo of the three apps on SampleData/ with the executables in BIN_DIR (Scripts/demo.sh builds them;
# Scripts/container.sh test passes a directory of commands that run them inside the container image).
# Usage: Scripts/demo-run.sh BIN_DIR [WORK_DIR]
#   The model store and the outputs go to WORK_DIR (default: a temporary directory, removed at the end); the three
#   reports, with the models they describe, to WORK_DIR/reports when WORK_DIR is given, else to ./reports.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1
if [ $# -ge 2 ]; then
  DEMO=$2
  REPORTS="$DEMO/reports"
else
  DEMO=$(mktemp -d)
  trap 'rm -rf "$DEMO"' EXIT
  REPORTS=reports
fi
export COMMERCEML_STORE="$DEMO/commerceml.sqlite"

step() { printf '\n$ %s\n' "$*"; "$@"; }

for app in recommend churn fraud; do
  step "$BIN/$app" --help
done
echo
echo "== the model store: nothing trained yet"
step "$BIN/recommend" models list

echo
echo "== recommend: an e-commerce shop's purchases (SampleData/ecommerce)"
step "$BIN/recommend" train --interactions SampleData/ecommerce/interactions.csv --items SampleData/ecommerce/items.csv \
  --value-column quantity --timestamp-column timestamp
step "$BIN/recommend" U-0001 -n 5
step "$BIN/recommend" similar P-0001 -n 5
step "$BIN/recommend" U-9999 --history P-0001,P-0002 -n 3
step "$BIN/recommend" evaluate --interactions SampleData/ecommerce/interactions.csv --value-column quantity
step "$BIN/recommend" models list

echo
echo "== churn: a subscription business's customers (SampleData/churn)"
step "$BIN/churn" train --data SampleData/churn/customers.csv --target churned --time-column snapshot_date
step "$BIN/churn" score SampleData/churn/customers_new.csv --output "$DEMO/scores.csv"
step head -n 6 "$DEMO/scores.csv"
step "$BIN/churn" evaluate --data SampleData/churn/customers.csv
step "$BIN/churn" drift --data SampleData/churn/customers_new.csv
step "$BIN/churn" explain --term "s(support_calls)"
step "$BIN/churn" models list

echo
echo "== fraud: a card transaction feed (SampleData/fraud)"
step "$BIN/fraud" train --data SampleData/fraud/history.csv
echo
echo "$ $BIN/fraud stream --stats < SampleData/fraud/stream.csv > \"$DEMO/decisions.csv\""
"$BIN/fraud" stream --stats <SampleData/fraud/stream.csv >"$DEMO/decisions.csv"
step head -n 4 "$DEMO/decisions.csv"
echo
echo "$ grep -v ',approve,' \"$DEMO/decisions.csv\" | head -n 6"
grep -v ',approve,' "$DEMO/decisions.csv" | head -n 6
step "$BIN/fraud" models list

echo
echo "== reports: one HTML page per app, with SVG charts (open them in a browser; nothing is fetched)"
step bash Scripts/sample-reports.sh "$BIN" "$REPORTS"
echo "reports written: $REPORTS/churn-report.html, $REPORTS/recommend-report.html, $REPORTS/fraud-report.html"
echo
echo "demo finished"
