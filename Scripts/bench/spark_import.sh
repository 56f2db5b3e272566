#!/usr/bin/env bash
# `recommend import --spark-factors` of USERS users × ITEMS items × RANK factors against the time Spark's own export
# (the CSV write of train_als.py, in local mode on this machine's cores) takes to write the same factors. The
# interactions give every user one item and every item at least one user. Prints both times and the ratio.
# Usage: Scripts/bench/spark_import.sh [USERS] [ITEMS] [RANK]   (default 1000000 100000 64; release build first)
set -euo pipefail
cd "$(dirname "$0")/../.."
users=${1:-1000000}; items=${2:-100000}; rank=${3:-64}
bin=.build/release/recommend
[ -x "$bin" ] || { echo "build first: swift build -c release" >&2; exit 1; }
venv=.build/venv-spark
"$venv/bin/python" -c "import pyspark" 2>/dev/null || { python3 -m venv "$venv"; "$venv/bin/pip" install -q "pyspark>=4,<5" "pandas<3" pyarrow numpy; }
work=$(mktemp -d /tmp/commerceml-bench-import.XXXXXX)
trap 'rm -rf "$work"' EXIT
export PYSPARK_PYTHON="$PWD/$venv/bin/python"
spark=$("$venv/bin/spark-submit" --master "local[*]" --driver-memory 8g --conf spark.ui.enabled=false \
  Scripts/bench/spark_factors.py "$work/factors" "$users" "$items" "$rank" 2>"$work/spark.log" | tail -n 1)
awk -v u="$users" -v i="$items" 'BEGIN { print "user_id,item_id"; for (k = 0; k < u; k++) printf "u%d,i%d\n", k, k % i }' \
  >"$work/interactions.csv"
du -sh "$work/factors" | sed 's/^/factors on disk: /'
start=$(date +%s.%N)
"$bin" import --spark-factors "$work/factors" --interactions "$work/interactions.csv" --store "$work/store.sqlite"
end=$(date +%s.%N)
ours=$(echo "$end - $start" | bc)
echo "users=$users items=$items rank=$rank"
echo "spark export (CSV write): ${spark} s"
echo "recommend import (read, check, register): ${ours} s"
echo "ratio import/export: $(echo "scale=2; $ours / $spark" | bc)"
