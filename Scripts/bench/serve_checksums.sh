#!/usr/bin/env bash
# The cost of part checksums when serving one user (issue 22, class 14): `recommend USER` on a model of
# 200,000 users × 30,000 items (1,000,000 synthetic interactions, 64 factors, ALS and EASE-sized parts aside) with
# its checksums, on the same store with the checksum rows removed (parts read unchecked, as a store written before
# them), and `recommend --help`, whole processes, hyperfine medians of 30 runs each. The goal: serving stays ≤ 3×
# `--help`.
# Usage: Scripts/bench/serve_checksums.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=Benchmarks/.work
mkdir -p "$WORK"
bash Scripts/bootstrap.sh
for tool in hyperfine sqlite3; do command -v $tool >/dev/null || apt-get install -y -qq $tool >/dev/null; done
VENV=$WORK/venv-rec
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import numpy" 2>/dev/null || "$VENV/bin/pip" install -q numpy
DATA=$WORK/synthetic-1m.csv
[ -s "$DATA" ] || "$VENV/bin/python" Scripts/bench/gen_interactions.py "$DATA" 200000 30000 1000000 42
swift build -c release --product recommend >/dev/null
BIN=$(swift build -c release --show-bin-path)/recommend
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
STORE=$WORK/serve-checked.sqlite
rm -f "$STORE" "$STORE"-wal "$STORE"-shm
"$BIN" train --interactions "$DATA" --value-column count --factors 64 --iterations 3 --store "$STORE" >/dev/null 2>&1
UNCHECKED=$WORK/serve-unchecked.sqlite
rm -f "$UNCHECKED" "$UNCHECKED"-wal "$UNCHECKED"-shm
cp "$STORE" "$UNCHECKED"
sqlite3 "$UNCHECKED" "DELETE FROM model_part_checksum"
USER_ID=$(sed -n 2p "$DATA" | cut -d, -f1)
hyperfine -N -w 5 -r 30 --export-json "$WORK/serve-checksums.json" "$BIN --help" \
  "$BIN $USER_ID --store $STORE" "$BIN $USER_ID --store $UNCHECKED" >/dev/null
python3 - "$WORK/serve-checksums.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
h, c, u = (x["median"] * 1000 for x in r)
print(f"  recommend --help              median {h:.1f} ms")
print(f"  recommend USER, checksums     median {c:.1f} ms   ratio to --help {c / h:.2f}")
print(f"  recommend USER, unchecked     median {u:.1f} ms   ratio to --help {u / h:.2f}")
print(f"  checksums cost                {c - u:+.1f} ms per request ({(c / u - 1) * 100:+.0f}%)")
PY
