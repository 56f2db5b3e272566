#!/usr/bin/env bash
# Churn benchmark: CommerceML's `churn train --cv 0` (linear; the default family choice, auto, which fits both
# families; and additive against our linear) and `churn score`
# against pandas + scikit-learn on the
# same 1,000,000-row Telco-like CSV (Kaggle layout: customerID, Yes/No strings, blank TotalCharges as " ";
# from Scripts/gen_churn.py), in the same run. Prints wall seconds and peak memory of each and the ratios.
# Every figure is the median of 3 runs.
# Usage: Scripts/bench/churn.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1000000}
WORK=Benchmarks/.work
mkdir -p "$WORK"
bash Scripts/bootstrap.sh
command -v bc >/dev/null || apt-get install -y -qq bc >/dev/null
VENV=$WORK/venv-churn
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import sklearn, pandas" 2>/dev/null || "$VENV/bin/pip" install -q scikit-learn pandas
DATA=$WORK/telco-$ROWS.csv
[ -s "$DATA" ] || python3 Scripts/gen_churn.py kaggle "$DATA" "$ROWS"
swift build -c release --product churn >/dev/null
BIN=$(swift build -c release --show-bin-path)/churn
STORE=$WORK/churn-bench.sqlite
rm -f "$STORE" "$STORE"-wal "$STORE"-shm
measure() { /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>&1; cat "$WORK/time.txt"; }
# The median (by seconds) of three runs: prints "seconds peak_kb".
median3() { for _ in 1 2 3; do measure "$@"; done | sort -n | sed -n 2p; }
read -r ours_train ours_train_kb < <(median3 "$BIN" train --data "$DATA" --target Churn --cv 0 --model linear --store "$STORE")
AUTO_STORE=$WORK/churn-bench-auto.sqlite
rm -f "$AUTO_STORE" "$AUTO_STORE"-wal "$AUTO_STORE"-shm
read -r ours_auto _ < <(median3 "$BIN" train --data "$DATA" --target Churn --cv 0 --store "$AUTO_STORE")
ADDITIVE_STORE=$WORK/churn-bench-additive.sqlite
rm -f "$ADDITIVE_STORE" "$ADDITIVE_STORE"-wal "$ADDITIVE_STORE"-shm
read -r ours_additive ours_additive_kb < <(median3 "$BIN" train --data "$DATA" --target Churn --cv 0 --model additive --store "$ADDITIVE_STORE")
read -r ours_additive_score _ < <(median3 "$BIN" score "$DATA" --output "$WORK/scores-additive.csv" --store "$ADDITIVE_STORE")
read -r ours_score ours_score_kb < <(median3 "$BIN" score "$DATA" --output "$WORK/scores.csv" --store "$STORE")
# Memory must not grow with the rows: score a tenth of the file too.
head -n $((ROWS / 10 + 1)) "$DATA" >"$WORK/telco-tenth.csv"
read -r _ ours_tenth_kb < <(measure "$BIN" score "$WORK/telco-tenth.csv" --output "$WORK/scores-tenth.csv" --store "$STORE")
peer() { "$VENV/bin/python" -W ignore Scripts/bench/churn_peer.py "$@" | awk '/^seconds/ {s=$2} /^peak_rss_mb/ {m=$2} END {print s, m}'; }
peer_train=$(for _ in 1 2 3; do peer train "$DATA"; done | sort -n | sed -n 2p | cut -d' ' -f1)
read -r peer_score peer_score_mb < <(for _ in 1 2 3; do peer score "$DATA" "$WORK/peer-scores.csv"; done | sort -n | sed -n 2p)
echo "data: $DATA ($ROWS rows, $(wc -c <"$DATA") bytes)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-44s %10s %10s %7s\n' "" "CommerceML" "peer" "ratio"
printf '%-44s %10.2f %10.2f %7.2f\n' "train (seconds)" "$ours_train" "$peer_train" "$(echo "$ours_train / $peer_train" | bc -l)"
printf '%-44s %10.2f %10.2f %7.2f\n' "default train, auto: both families (seconds)" "$ours_auto" "$peer_train" "$(echo "$ours_auto / $peer_train" | bc -l)"
printf '%-44s %10.2f %10.2f %7.2f\n' "score (seconds)" "$ours_score" "$peer_score" "$(echo "$ours_score / $peer_score" | bc -l)"
printf '%-44s %10.2f %10.2f %7.2f\n' "additive train (s) against our linear" "$ours_additive" "$ours_train" "$(echo "$ours_additive / $ours_train" | bc -l)"
printf '%-44s %10.2f %10.2f %7.2f\n' "additive score (s) against the peer" "$ours_additive_score" "$peer_score" "$(echo "$ours_additive_score / $peer_score" | bc -l)"
printf '%-44s %10d %10d\n' "score peak memory (MiB), whole file" "$((ours_score_kb / 1024))" "$peer_score_mb"
printf '%-44s %10d\n' "score peak memory (MiB), a tenth of the file" "$((ours_tenth_kb / 1024))"
