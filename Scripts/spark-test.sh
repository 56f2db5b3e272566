#!/usr/bin/env bash
# CommerceML on Spark in local mode (PySpark 4 from PyPI, in a virtual environment this script makes, on the machine's
# Java 17, installed from Debian when missing): score_churn.py scores a customer file split into 4 partitions by
# running `churn score` on each, and must give the same rows as `churn score` on the whole file (order aside).
# Usage: Scripts/spark-test.sh BIN_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(cd "$1" && pwd)
if ! command -v java >/dev/null 2>&1; then
  echo "== installing Java 17 (Debian's openjdk-17-jre-headless)"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
VENV=.build/venv-spark
if ! "$VENV/bin/python" -c "import pyspark, pandas, pyarrow, numpy" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "pyspark>=4,<5" "pandas<3" pyarrow numpy
fi
export PYSPARK_PYTHON="$PWD/$VENV/bin/python"
SUBMIT=("$VENV/bin/spark-submit" --master "local[2]" --conf spark.ui.enabled=false
  --conf spark.sql.shuffle.partitions=4 --driver-java-options "-Dlog4j2.level=ERROR"
  --py-files Scripts/spark/commerceml_spark.py)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
passed=0

echo "== score_churn.py on 4 partitions against churn score on the whole file"
"$BIN/churn" train --data SampleData/churn/customers.csv --target churned --cv 0 --store "$WORK/store.sqlite" >/dev/null
"$BIN/churn" score SampleData/churn/customers_new.csv --store "$WORK/store.sqlite" --output "$WORK/whole.csv" 2>/dev/null
"${SUBMIT[@]}" Scripts/spark/score_churn.py --input SampleData/churn/customers_new.csv --output "$WORK/spark-scores" \
  --store "$WORK/store.sqlite" --binary "$BIN/churn" --partitions 4 2>"$WORK/spark.log" ||
  { tail -n 40 "$WORK/spark.log" >&2; exit 1; }
parts=$(ls "$WORK/spark-scores"/part-*.csv | wc -l)
echo "Spark wrote $parts part files"
[ "$parts" -ge 2 ] || { echo "spark: expected several partitions' outputs" >&2; exit 1; }
"$VENV/bin/python" Scripts/spark/check_same_rows.py "$WORK/whole.csv" "$WORK/spark-scores"
passed=$((passed + 1))
echo "spark: $passed passed"
