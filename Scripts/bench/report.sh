#!/usr/bin/env bash
# Report cost: each report against the text command whose numbers it draws, in the same run, release build.
#   churn:     `churn report --data F` against `churn drift --data F` on a 1,000,000-row customer file
#              (Scripts/gen_churn.py), the model trained on its first 100,000 rows with 5-fold cross-validation
#   recommend: `recommend report` against `recommend measure` on a 200,000-user × 30,000-item model (64 factors,
#              trained on Scripts/bench/gen_interactions.py's 5,000,000 interactions) and 1,000,000 later ones
# Prints the median of three runs of each, the ratio (goal ≤ 2) and the HTML size (goal < 2 MB).
# Usage: Scripts/bench/report.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=Benchmarks/.work
mkdir -p "$WORK"
bash Scripts/bootstrap.sh
command -v bc >/dev/null || apt-get install -y -qq bc >/dev/null
swift build -c release --product churn >/dev/null
swift build -c release --product recommend >/dev/null
BIN=$(swift build -c release --show-bin-path)
seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null 2>&1; echo "$(date +%s.%N) - $s" | bc; }
median3() { for _ in 1 2 3; do seconds "$@"; done | sort -n | sed -n 2p; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

DATA=$WORK/telco-1000000.csv
[ -s "$DATA" ] || python3 Scripts/gen_churn.py kaggle "$DATA" 1000000
head -n 100001 "$DATA" >"$WORK/report-train.csv"
STORE=$WORK/report-churn.sqlite
rm -f "$STORE" "$STORE"-wal "$STORE"-shm
"$BIN/churn" train --data "$WORK/report-train.csv" --target Churn --store "$STORE" >/dev/null 2>&1
drift=$(median3 "$BIN/churn" drift --data "$DATA" --store "$STORE")
rm -f "$WORK/churn-report.html"
report=$(median3 sh -c "rm -f '$WORK/churn-report.html'; '$BIN/churn' report --data '$DATA' --store '$STORE' --output '$WORK/churn-report.html'")
size=$(stat -c %s "$WORK/churn-report.html")
printf '%-58s %8s %8s %6s %10s\n' "" "command" "report" "ratio" "HTML"
printf '%-58s %8.2f %8.2f %6.2f %9.0fK\n' "churn: 1,000,000 customers (report vs drift)" "$drift" "$report" \
  "$(echo "$report / $drift" | bc -l)" "$(echo "$size / 1024" | bc -l)"

VENV=$WORK/venv-rec
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import numpy" 2>/dev/null || "$VENV/bin/pip" install -q numpy
TRAIN=$WORK/synthetic-5m.csv
[ -s "$TRAIN" ] || "$VENV/bin/python" Scripts/bench/gen_interactions.py "$TRAIN" 200000 30000 5000000 42
LATER=$WORK/synthetic-later-1m.csv
[ -s "$LATER" ] || "$VENV/bin/python" Scripts/bench/gen_interactions.py "$LATER" 200000 30000 1000000 7
RSTORE=$WORK/report-rec.sqlite
if ! "$BIN/recommend" models list --store "$RSTORE" 2>/dev/null | grep -q recommender; then
  rm -f "$RSTORE" "$RSTORE"-wal "$RSTORE"-shm
  "$BIN/recommend" train --interactions "$TRAIN" --value-column count --factors 64 --iterations 10 \
    --store "$RSTORE" >/dev/null 2>&1
fi
measure=$(median3 "$BIN/recommend" measure --interactions "$LATER" --store "$RSTORE")
rreport=$(median3 sh -c "rm -f '$WORK/recommend-report.html'; '$BIN/recommend' report --interactions '$LATER' --store '$RSTORE' --output '$WORK/recommend-report.html'")
rsize=$(stat -c %s "$WORK/recommend-report.html")
printf '%-58s %8.2f %8.2f %6.2f %9.0fK\n' "recommend: 200,000 users, 1,000,000 later (report vs measure)" "$measure" \
  "$rreport" "$(echo "$rreport / $measure" | bc -l)" "$(echo "$rsize / 1024" | bc -l)"
