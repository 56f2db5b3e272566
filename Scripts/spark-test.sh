#!/usr/bin/env bash
# CommerceML on Spark in local mode (PySpark 4 from PyPI, in a virtual environment this script makes, on the machine's
# Java 17, installed from Debian when missing): score_churn.py scores a customer file split into 4 partitions by
# running `churn score` on each, and must give the same rows as `churn score` on the whole file (order aside);
# train_als.py trains MLlib's implicit ALS on MovieLens 100K (fetched from PyPI, never committed) and `recommend
# import` registers its factors: NDCG@10 from `recommend evaluate --registered` on the held-out split must equal the
# script's own within 0.001; imported without the interactions, a user's list is the factors' own top dot products
# (nothing filtered) and an unknown user gets the average user's; the imported version serves users, similar items and batches, rolls back, and batch_recommend.py on 3
# partitions gives the rows of `recommend batch` on the whole user list.
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

echo "== train_als.py on MovieLens 100K, imported with recommend import"
ML=$(bash Scripts/fetch-ml100k.sh .data)
# A seeded random 80/20 split of the rows (the same split for Spark and for recommend evaluate).
"$VENV/bin/python" - "$ML" "$WORK/train.csv" "$WORK/test.csv" <<'PY'
import csv, random, sys
random.seed(7)
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as train, open(sys.argv[3], "w") as test:
    train.write("user_id,item_id\n")
    test.write("user_id,item_id\n")
    for row in csv.DictReader(f):
        (test if random.random() < 0.2 else train).write(f"{row['user_id']},{row['item_id']}\n")
PY
"${SUBMIT[@]}" Scripts/spark/train_als.py --interactions "$WORK/train.csv" --output "$WORK/factors" --rank 32 \
  --max-iter 10 --reg-param 0.1 --alpha 1.0 --checkpoint-dir "$WORK/checkpoints" --evaluate "$WORK/test.csv" \
  >"$WORK/als.json" 2>"$WORK/spark.log" || { tail -n 40 "$WORK/spark.log" >&2; exit 1; }
tail -n 1 "$WORK/als.json"
STORE=$WORK/recs.sqlite
"$BIN/recommend" import --spark-factors "$WORK/factors" --interactions "$WORK/train.csv" --store "$STORE"
"$BIN/recommend" evaluate --registered --interactions "$WORK/test.csv" --store "$STORE" --format json \
  >"$WORK/measure.json"
"$VENV/bin/python" - "$WORK/als.json" "$WORK/measure.json" <<'PY'
import json, sys
spark = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["ndcg_at_10"]
ours = next(q["ndcg"] for q in json.load(open(sys.argv[2]))["quality"] if q["name"] == "model")
print(f"NDCG@10: Spark's script {spark:.6f}, recommend evaluate --registered on the imported version {ours:.6f}")
sys.exit(0 if abs(spark - ours) <= 0.001 else "they differ by more than 0.001")
PY
passed=$((passed + 1))
USER_ID=$(sed -n 2p "$WORK/train.csv" | cut -d, -f1)
ITEM_ID=$(sed -n 2p "$WORK/train.csv" | cut -d, -f2)
"$BIN/recommend" "$USER_ID" -n 5 --store "$STORE" | grep -q " model" || { echo "no model recommendations" >&2; exit 1; }
# Seen items are filtered: none of the user's training items is recommended.
"$BIN/recommend" "$USER_ID" -n 50 --store "$STORE" >"$WORK/user.txt"
if awk -F, -v u="$USER_ID" 'NR > 1 && $1 == u { print $2 }' "$WORK/train.csv" | grep -qxFf - <(awk 'NR > 1 { print $2 }' "$WORK/user.txt"); then
  echo "a seen item was recommended" >&2
  exit 1
fi
"$BIN/recommend" "no-such-user" --store "$STORE" 2>&1 | grep -q "popularity" || { echo "no fallback" >&2; exit 1; }
"$BIN/recommend" similar "$ITEM_ID" --store "$STORE" >/dev/null
passed=$((passed + 1))
# Without --interactions: the user's top 10 are the factors' top 10 dot products, seen items included, and an
# unknown user gets the items of the mean user factors' top 10.
"$BIN/recommend" import --spark-factors "$WORK/factors" --model bare --store "$STORE" 2>/dev/null >/dev/null
"$BIN/recommend" "$USER_ID" --model bare --store "$STORE" --format csv >"$WORK/bare-user.csv"
"$BIN/recommend" no-such-user --model bare --store "$STORE" --format csv >"$WORK/bare-unknown.csv" 2>/dev/null
"$VENV/bin/python" - "$WORK/factors" "$USER_ID" "$WORK/bare-user.csv" "$WORK/bare-unknown.csv" <<'PY'
import csv, glob, sys
def read(sub):
    rows = {}
    for path in sorted(glob.glob(f"{sys.argv[1]}/{sub}/*.csv")):
        with open(path) as f:
            for r in csv.DictReader(f):
                rows[r["id"]] = [float(r[k]) for k in r if k != "id"]
    return rows
users, items = read("user_factors"), read("item_factors")
def top(vector):
    scores = {i: sum(a * b for a, b in zip(vector, f)) for i, f in items.items()}
    return sorted(scores, key=lambda i: -scores[i])[:10]
def listed(path, source):
    rows = list(csv.DictReader(open(path)))
    assert all(r["source"] == source for r in rows), f"{path}: not all {source}"
    return [r["item_id"] for r in rows]
mean = [sum(col) / len(users) for col in zip(*users.values())]
assert listed(sys.argv[3], "model") == top(users[sys.argv[2]]), "the user's list is not the factors' top 10"
assert listed(sys.argv[4], "average-user") == top(mean), "the unknown user's list is not the average user's top 10"
print("imported without interactions: the factors' own top 10, and the average user's for an unknown user")
PY
passed=$((passed + 1))
# A second import, then a rollback to the first.
"$BIN/recommend" import --spark-factors "$WORK/factors" --interactions "$WORK/train.csv" --store "$STORE" >/dev/null
"$BIN/recommend" models rollback --store "$STORE" | grep -q "rolled back from version 2 to version 1"
passed=$((passed + 1))

echo "== batch_recommend.py on 3 partitions against recommend batch on the whole list"
{ echo user_id; cut -d, -f1 "$WORK/test.csv" | tail -n +2 | sort -u | head -n 200; echo no-such-user; } >"$WORK/users.csv"
"$BIN/recommend" batch --users "$WORK/users.csv" --output "$WORK/batch.csv" -n 5 --store "$STORE" 2>/dev/null
"${SUBMIT[@]}" Scripts/spark/batch_recommend.py --users "$WORK/users.csv" --output "$WORK/spark-batch" \
  --store "$STORE" --binary "$BIN/recommend" -n 5 --partitions 3 2>"$WORK/spark.log" ||
  { tail -n 40 "$WORK/spark.log" >&2; exit 1; }
"$VENV/bin/python" Scripts/spark/check_same_rows.py "$WORK/batch.csv" "$WORK/spark-batch"
passed=$((passed + 1))
echo "spark: $passed passed"
