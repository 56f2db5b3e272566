#!/usr/bin/env bash
# What a restart for better BLAS kernels would cost each command: the whole-process time of `--help` (a process
# start: the dynamic loader, the Swift runtime, OpenBLAS's start) beside serving one user and scoring a small
# file, each the median of hyperfine runs. A command that restarts (KernelRestart in CommandLineSupport) pays
# about one more process start; on a processor whose model OpenBLAS knows, no command restarts.
# Usage: Scripts/bench/restart_cost.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=Benchmarks/.work
mkdir -p "$WORK"
bash Scripts/bootstrap.sh
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
swift build -c release >/dev/null
BIN=$(swift build -c release --show-bin-path)
STORE=$WORK/restart.sqlite
rm -f "$STORE" "$STORE"-wal "$STORE"-shm
"$BIN/recommend" train --interactions SampleData/ecommerce/interactions.csv --store "$STORE" >/dev/null 2>&1
"$BIN/churn" train --data SampleData/churn/customers.csv --target churned --store "$STORE" >/dev/null 2>&1
head -21 SampleData/churn/customers.csv >"$WORK/restart-20.csv"
USER_ID=$(sed -n 2p SampleData/ecommerce/interactions.csv | cut -d, -f1)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); OpenBLAS kernels: $(OPENBLAS_VERBOSE=2 "$BIN/churn" --help 2>&1 | sed -n 's/^Core: //p')"
hyperfine -N -w 5 -r 40 --export-json "$WORK/restart.json" \
  "$BIN/recommend --help" "$BIN/recommend $USER_ID --store $STORE" \
  "$BIN/churn score $WORK/restart-20.csv --output $WORK/restart-scores.csv --store $STORE" >/dev/null
python3 - "$WORK/restart.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
start = r[0]["median"] * 1000
print(f"  process start (recommend --help)      median {start:6.1f} ms")
for name, res in (("recommend USER", r[1]), ("churn score, 20 rows", r[2])):
    t = res["median"] * 1000
    print(f"  {name:<36}  median {t:6.1f} ms; a restart would add about {start:.0f} ms (+{100 * start / t:.0f}%)")
PY
