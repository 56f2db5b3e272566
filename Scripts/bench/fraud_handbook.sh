#!/usr/bin/env bash
# The handbook benchmark protocol, end to end through the commands, or the online learning experiment.
#
# Usage: Scripts/bench/fraud_handbook.sh [options]
#   --seed N --customers N --terminals N --days N   the variant (defaults: the handbook's 42, 5000, 10000, 183)
#   --train-days N     days of labeled history fitted by `fraud train` (default 120)
#   --stream-days N    days streamed after the history by `fraud stream` (default 14)
#   --assess FIRST LAST  days (TX_TIME_DAYS, inclusive) assessed on the stream's output (default: the stream's
#                        second week)
#   --change-day N     simulate with `--change-day N` (scenario 3's frauds become small purchases)
#   --learn            stream with --learn as well, and assess both outputs
#   --peer             also fit the handbook's baseline features with scikit-learn (logistic regression, random
#                      forest, gradient boosting; Scripts/bench/fraud_handbook_peer.py) and assess them alike
#   --extra "ARGS"     more `fraud simulate` options (e.g. "--amount-threshold 300")
# Prints the handbook metrics (ROC AUC, average precision, card precision@100) of each stream output.
# Needs a release build (swift build -c release) and Python with pandas and scikit-learn (a venv made here).
set -euo pipefail
cd "$(dirname "$0")/../.."
seed=42 customers=5000 terminals=10000 days=183 train=120 stream=14 first="" last="" change="" learn=0 peer=0 extra=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) seed=$2; shift 2 ;;
    --customers) customers=$2; shift 2 ;;
    --terminals) terminals=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --train-days) train=$2; shift 2 ;;
    --stream-days) stream=$2; shift 2 ;;
    --assess) first=$2; last=$3; shift 3 ;;
    --change-day) change=$2; shift 2 ;;
    --learn) learn=1; shift ;;
    --peer) peer=1; shift ;;
    --extra) extra=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
[ -n "$first" ] || { first=$((train + 7)); last=$((train + stream - 1)); }
bin=.build/release/fraud
[ -x "$bin" ] || { echo "build first: swift build -c release" >&2; exit 1; }
work=Benchmarks/.work/handbook
mkdir -p "$work"
venv=Benchmarks/.work/venv-churn
if ! "$venv/bin/python" -c 'import pandas, sklearn' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pandas scikit-learn
fi
data="$work/all.csv"
# shellcheck disable=SC2086
"$bin" simulate --profile handbook --seed "$seed" --cards "$customers" --terminals "$terminals" --days "$days" \
  ${change:+--change-day "$change"} $extra --output "$data"
# The history (days before --train-days) and the stream after it, split on TX_TIME_DAYS (column 7).
awk -F, -v t="$train" 'NR == 1 || $7 < t' "$data" > "$work/history.csv"
awk -F, -v t="$train" -v e="$((train + stream))" 'NR == 1 || ($7 >= t && $7 < e)' "$data" > "$work/stream.csv"
map=transaction_id=TRANSACTION_ID,timestamp=TX_DATETIME,card=CUSTOMER_ID,merchant=TERMINAL_ID,amount=TX_AMOUNT,label=TX_FRAUD
store="$work/store.sqlite"
rm -f "$store" "$store-wal" "$store-shm"
/usr/bin/time -f "train: %e s, %M KB" "$bin" train --data "$work/history.csv" --map "$map" --labels-delay 7d \
  --store "$store" > "$work/train.txt"
"$bin" stream --map "$map" --store "$store" < "$work/stream.csv" > "$work/scores.csv"
echo "without learning (days $first-$last):"
"$venv/bin/python" Scripts/reference/handbook_metrics.py "$data" "$work/scores.csv" "$first" "$last"
if [ "$learn" = 1 ]; then
  "$bin" stream --map "$map" --store "$store" --learn < "$work/stream.csv" > "$work/scores-learn.csv"
  echo "with --learn (days $first-$last):"
  "$venv/bin/python" Scripts/reference/handbook_metrics.py "$data" "$work/scores-learn.csv" "$first" "$last"
fi
if [ "$peer" = 1 ]; then
  "$venv/bin/python" Scripts/bench/fraud_handbook_peer.py "$data" "$train" "$work"
  for model in logistic forest boosting; do
    echo "peer $model (days $first-$last):"
    "$venv/bin/python" Scripts/reference/handbook_metrics.py "$data" "$work/peer-$model.csv" "$first" "$last"
  done
fi
