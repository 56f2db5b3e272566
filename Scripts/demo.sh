#!/usr/bin/env bash
# Installs what is missing, builds the release executables, and runs each app on SampleData/.
# Usage: Scripts/demo.sh   (the demo's model store goes to a temporary directory, removed at the end; the three
# reports, with the models they describe, to ./reports)
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/bootstrap.sh
echo "== building release executables (a clean build takes a few minutes)"
swift build -c release
BIN=$(swift build -c release --show-bin-path)
DEMO=$(mktemp -d)
trap 'rm -rf "$DEMO"' EXIT
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
step "$BIN/churn" train --data SampleData/churn/customers.csv --target churned
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
step bash Scripts/sample-reports.sh "$BIN" reports
echo "reports written: reports/churn-report.html, reports/recommend-report.html, reports/fraud-report.html"
echo
echo "demo finished"
