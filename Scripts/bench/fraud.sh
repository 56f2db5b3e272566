#!/usr/bin/env bash
# Fraud benchmark: `fraud stream` against River 0.26 on the same simulated stream, in the same run.
# River's pipeline (Scripts/bench/river_peer.py): per-card TimeRolling mean and sum of the amount over 1, 7 and
# 30 days, StandardScaler, LogisticRegression, predict then learn per transaction (its CSV parsed before the
# timer). Ours: `fraud stream < file > /dev/null` with all features, rules, reasons, delayed labels and
# checkpoints, the whole process timed, pinned to one core. River runs on the first RIVER_ROWS transactions.
# Each of ROUNDS rounds (default 5) runs ours then River; the ratio printed is the median of the rounds' ratios.
# Usage: [ROUNDS=5] Scripts/bench/fraud.sh [CARDS] [RIVER_ROWS]
set -euo pipefail
cd "$(dirname "$0")/../.."
CARDS=${1:-25000}
RIVER_ROWS=${2:-100000}
ROUNDS=${ROUNDS:-5}
WORK=Benchmarks/.work
mkdir -p "$WORK"
bash Scripts/bootstrap.sh
command -v bc >/dev/null || apt-get install -y -qq bc >/dev/null
VENV=$WORK/venv-river
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import river" 2>/dev/null || "$VENV/bin/pip" install -q "river==0.26.*"
swift build -c release --product fraud >/dev/null
BIN=$(swift build -c release --show-bin-path)/fraud
ALL=$WORK/fraud-$CARDS.csv
[ -s "$ALL" ] || "$BIN" simulate --days 90 --cards "$CARDS" --merchants 2000 --seed 3 --output "$ALL" 2>/dev/null
# Train on the first 30 days; stream the rest.
HISTORY=$WORK/fraud-history.csv
STREAM=$WORK/fraud-stream.csv
awk -F, 'NR == 1 || $2 < "2026-01-31"' "$ALL" >"$HISTORY"
awk -F, 'NR == 1 || $2 >= "2026-01-31"' "$ALL" >"$STREAM"
STORE=$WORK/fraud-bench.sqlite
rm -f "$STORE" "$STORE"-wal "$STORE"-shm
"$BIN" train --data "$HISTORY" --store "$STORE" >/dev/null
ROWS=$(($(wc -l <"$STREAM") - 1))
# Ours and River alternate, ROUNDS times each, and the ratio is the median of the pairs' ratios: this machine's
# speed drifts by a factor of two over minutes, which moves both alike within a pair.
times=()
rivers=()
ratios=()
for _ in $(seq "$ROUNDS"); do
  cp "$STORE" "$WORK/fraud-run.sqlite"
  rm -f "$WORK/fraud-run.sqlite-wal" "$WORK/fraud-run.sqlite-shm"
  start=$(date +%s.%N)
  taskset -c 0 "$BIN" stream --store "$WORK/fraud-run.sqlite" <"$STREAM" >/dev/null 2>&1
  t=$(echo "$(date +%s.%N) - $start" | bc)
  r=$(taskset -c 0 "$VENV/bin/python" -W ignore Scripts/bench/river_peer.py "$STREAM" "$RIVER_ROWS" | awk '/^per_second/ {print $2}')
  times+=("$t")
  rivers+=("$r")
  ratios+=("$(echo "$ROWS / $t / $r" | bc -l)")
done
middle=$(((ROUNDS + 1) / 2))
best=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "${middle}p")
ours=$(echo "$ROWS / $best" | bc -l)
river=$(printf '%s\n' "${rivers[@]}" | sort -n | sed -n "${middle}p")
ratio=$(printf '%s\n' "${ratios[@]}" | sort -n | sed -n "${middle}p")
cp "$STORE" "$WORK/fraud-run.sqlite"
rm -f "$WORK/fraud-run.sqlite-wal" "$WORK/fraud-run.sqlite-shm"
taskset -c 0 "$BIN" stream --stats --store "$WORK/fraud-run.sqlite" <"$STREAM" 2>"$WORK/fraud-stats.txt" >/dev/null
echo "River runs (tx/s): ${rivers[*]}; ours (s): ${times[*]}; pair ratios: $(printf '%.1f ' "${ratios[@]}")"
echo "stream: $STREAM ($ROWS transactions, $CARDS cards; River on the first $RIVER_ROWS)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); both pinned to one core"
printf '%-36s %12.0f\n' "CommerceML fraud stream (tx/s)" "$ours"
printf '%-36s %12.0f\n' "River 0.26 pipeline (tx/s)" "$river"
printf '%-36s %12.1f\n' "ratio (ours / River, median pair)" "$ratio"
grep -E "latency|state per" "$WORK/fraud-stats.txt" | sed 's/^fraud: /  /'
