#!/usr/bin/env bash
# Recommender benchmark: CommerceML's `recommend` against the implicit library's ALS (0.7, CPU) on the same
# synthetic data in the same run: 200,000 users × 30,000 items × 5,000,000 interactions (Scripts/bench/
# gen_interactions.py), factors 64, the same iterations, regularization and alpha, 1 and 2 threads, each
# pinned to that many CPUs with taskset.
# Prints training seconds per iteration and peak memory of both, the whole training process of both, the
# serving latency of one user against `recommend --help`, batch recommendation for all users against implicit's
# batched recommend, and the whole nightly job: `recommend batch --all -n 10 --threads 1` (one process: read the
# model from the store, recommend with seen items filtered, write the CSV) against the same job with implicit in
# a process of its own (load the saved factors, user × item matrix and ids, recommend with seen items filtered,
# write the same CSV layout with pandas).
# Usage: Scripts/bench/recommend.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ITER=${1:-10}
REG=20
ALPHA=1
WORK=Benchmarks/.work
mkdir -p "$WORK"
bash Scripts/bootstrap.sh
for tool in hyperfine bc; do command -v $tool >/dev/null || apt-get install -y -qq $tool >/dev/null; done
VENV=$WORK/venv-rec
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import implicit, pandas, scipy" 2>/dev/null || "$VENV/bin/pip" install -q "implicit==0.7.*" pandas scipy numpy
DATA=$WORK/synthetic-5m.csv
[ -s "$DATA" ] || "$VENV/bin/python" Scripts/bench/gen_interactions.py "$DATA" 200000 30000 5000000 42
swift build -c release --product recommend >/dev/null
BIN=$(swift build -c release --show-bin-path)/recommend
echo "data: $DATA ($(($(wc -l <"$DATA") - 1)) rows)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "settings: factors 64, iterations $ITER, regularization $REG, alpha $ALPHA"
for T in 1 2; do
  CPUS=$([ "$T" = 1 ] && echo 0 || echo 0,1)
  STORE=$WORK/bench-$T.sqlite
  rm -f "$STORE" "$STORE"-wal "$STORE"-shm
  OPENBLAS_NUM_THREADS=$T /usr/bin/time -f "peak_kb %M" -o "$WORK/ours-$T.time" taskset -c "$CPUS" "$BIN" train \
    --interactions "$DATA" --value-column count --factors 64 --iterations "$ITER" --regularization $REG --alpha $ALPHA \
    --threads "$T" --store "$STORE" 2>"$WORK/ours-$T.log" >/dev/null
  ours_iter=$(grep -oE '[0-9.]+s$' "$WORK/ours-$T.log" | tr -d s | awk '{s+=$1; n++} END {printf "%.3f", s/n}')
  ours_peak=$(awk '{printf "%.0f", $2/1024}' "$WORK/ours-$T.time")
  NIGHTLY_DIR=$WORK/nightly taskset -c "$CPUS" "$VENV/bin/python" Scripts/bench/implicit_peer.py "$DATA" 64 "$ITER" "$T" $ALPHA $REG >"$WORK/implicit-$T.out"
  imp_iter=$(awk '/^seconds_per_iteration/ {print $2}' "$WORK/implicit-$T.out")
  imp_peak=$(awk '/^peak_rss_mb/ {print $2}' "$WORK/implicit-$T.out")
  imp_batch=$(awk '/^batch_seconds/ {print $2}' "$WORK/implicit-$T.out")
  start=$(date +%s.%N)
  taskset -c "$CPUS" "$BIN" batch --all -n 10 --threads "$T" --output "$WORK/batch-$T.csv" --store "$STORE" 2>/dev/null
  ours_batch=$(echo "$(date +%s.%N) - $start" | bc)
  echo
  echo "threads $T"
  printf '  %-34s %10s %10s %8s\n' "" "CommerceML" "implicit" "ratio"
  printf '  %-34s %10.3f %10.3f %8.2f\n' "training seconds per iteration" "$ours_iter" "$imp_iter" "$(echo "$ours_iter / $imp_iter" | bc -l)"
  printf '  %-34s %10d %10d %8.2f\n' "peak memory of the process (MiB)" "$ours_peak" "$imp_peak" "$(echo "$ours_peak / $imp_peak" | bc -l)"
  printf '  %-34s %10.3f %10.3f %8.2f\n' "batch top-10 for all users (s)" "$ours_batch" "$imp_batch" "$(echo "$ours_batch / $imp_batch" | bc -l)"
done
echo
echo "whole train process, 5 iterations, one thread (read CSV, combine duplicates, index, fit, register; implicit:"
echo "pandas read_csv, CSR build, fit), median of 3:"
whole=$(for _ in 1 2 3; do
  rm -f "$WORK/whole.sqlite" "$WORK/whole.sqlite-wal" "$WORK/whole.sqlite-shm"
  s=$(date +%s.%N)
  OPENBLAS_NUM_THREADS=1 taskset -c 0 "$BIN" train --interactions "$DATA" --value-column count --factors 64 --iterations 5 \
    --regularization $REG --alpha $ALPHA --threads 1 --store "$WORK/whole.sqlite" >/dev/null 2>&1
  echo "$(date +%s.%N) - $s" | bc
done | sort -n | sed -n 2p)
imp_whole=$(for _ in 1 2 3; do
  FIT_ONLY=1 taskset -c 0 "$VENV/bin/python" Scripts/bench/implicit_peer.py "$DATA" 64 5 1 $ALPHA $REG | awk '/^process_seconds_to_fit/ {print $2}'
done | sort -n | sed -n 2p)
printf '  %-34s %10.3f %10.3f %8.2f\n' "whole process (s)" "$whole" "$imp_whole" "$(echo "$whole / $imp_whole" | bc -l)"
echo
echo "nightly job, one thread, whole process each (top 10 for all $(($(cut -d, -f1 "$DATA" | sort -u | wc -l) - 1)) users, seen items filtered, CSV written):"
start=$(date +%s.%N)
OPENBLAS_NUM_THREADS=1 taskset -c 0 "$BIN" batch --all -n 10 --threads 1 --output "$WORK/nightly-ours.csv" --store "$WORK/bench-1.sqlite" 2>/dev/null
ours_nightly=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N)
taskset -c 0 "$VENV/bin/python" Scripts/bench/implicit_peer.py --nightly "$WORK/nightly" 10 1 >/dev/null
imp_nightly=$(echo "$(date +%s.%N) - $start" | bc)
printf '  %-34s %10.3f %10.3f %8.2f
' "nightly batch job (s)" "$ours_nightly" "$imp_nightly" "$(echo "$ours_nightly / $imp_nightly" | bc -l)"
echo
echo "serving one user, whole process, against 'recommend --help' (hyperfine, 30 runs each):"
USER_ID=$(sed -n 2p "$DATA" | cut -d, -f1)
hyperfine -N -w 5 -r 30 --export-json "$WORK/serve.json" "$BIN --help" "$BIN $USER_ID --store $WORK/bench-2.sqlite" >/dev/null
python3 - "$WORK/serve.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
help_, user = r[0]["median"] * 1000, r[1]["median"] * 1000
print(f"  recommend --help   median {help_:.1f} ms")
print(f"  recommend USER     median {user:.1f} ms   ratio {user / help_:.2f}")
PY
