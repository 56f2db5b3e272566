#!/usr/bin/env bash
# CSV reader benchmark: TabularIO against pandas.read_csv (C engine) and Python's csv module on the same
# 1,000,000-row, 10-column file, in the same run. Prints the median of 3 runs of each and the ratios.
# Usage: Scripts/bench/csv_read.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1000000}
WORK=Benchmarks/.work
mkdir -p "$WORK"
bash Scripts/bootstrap.sh
VENV=$WORK/venv
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/python" -c "import pandas" 2>/dev/null || "$VENV/bin/pip" install -q "pandas>=2"
DATA=$WORK/orders-$ROWS.csv
[ -s "$DATA" ] || python3 Scripts/bench/gen_csv.py "$DATA" "$ROWS" 7
COMMERCEML_BENCHMARKS=1 swift build -c release --product csv-bench >/dev/null
ours=()
for _ in 1 2 3; do
  ours+=("$(.build/release/csv-bench "$DATA" | sed -E 's/.*seconds=([0-9.]+).*/\1/')")
done
ours_median=$(printf '%s\n' "${ours[@]}" | sort -n | sed -n 2p)
echo "file: $DATA ($(wc -c <"$DATA") bytes, $ROWS rows)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-22s %8s\n' "reader" "seconds"
printf '%-22s %8.3f\n' "CommerceML TabularIO" "$ours_median"
"$VENV/bin/python" Scripts/bench/csv_read.py "$DATA" 3 | while IFS='|' read -r label rows secs; do
  ratio=$(python3 -c "print(f'{$ours_median / $secs:.2f}')")
  printf '%-22s %8.3f   (ours/peer = %sx)\n' "$label" "$secs" "$ratio"
done
