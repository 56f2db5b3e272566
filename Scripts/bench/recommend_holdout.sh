#!/usr/bin/env bash
# The hidden-holdout protocol of issue 13 on a public file: a fixed per-user 80/20 split (Python, seed 2026),
# `recommend tune` on the training part with several --seed values, `recommend batch --all -n 10`, NDCG@10 on the
# held-out part; also the defaults of each family trained on the training part.
# Usage: Scripts/bench/recommend_holdout.sh [DATA] [TRIALS] [SEEDS...]   (default .data/ml100k.csv 24 1 2 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
data=${1:-.data/ml100k.csv}; trials=${2:-24}; shift 2 || true
seeds=${*:-1 2 3}
[ -s "$data" ] || bash ../shared/data/fetch-public-data.sh .data >/dev/null
venv=Benchmarks/.work/venv-churn
"$venv/bin/python" -c 'import pandas, numpy' 2>/dev/null || { python3 -m venv "$venv"; "$venv/bin/pip" install -q pandas; }
bin=.build/release/recommend
[ -x "$bin" ] || { echo "build first: swift build -c release" >&2; exit 1; }
work=Benchmarks/.work/rec-holdout; rm -rf "$work"; mkdir -p "$work"
"$venv/bin/python" Scripts/bench/recommend_holdout.py split "$data" "$work"
# the file's own user and item column names (MovieLens 100K: user_id,item_id; ml-latest-small: userId,movieId)
IFS=, read -r ucol icol _ <"$work/train.csv"
cols=(--user-column "$ucol" --item-column "$icol")
for fam in als ease; do
  "$bin" train --interactions "$work/train.csv" "${cols[@]}" --algorithm "$fam" --store "$work/$fam.sqlite" >/dev/null 2>&1
  "$bin" batch --all -n 10 --output "$work/$fam.csv" --store "$work/$fam.sqlite" 2>/dev/null
  echo "defaults, --algorithm $fam: $("$venv/bin/python" Scripts/bench/recommend_holdout.py ndcg "$work/test.csv" "$work/$fam.csv")"
done
for seed in $seeds; do
  "$bin" tune --interactions "$work/train.csv" "${cols[@]}" --trials "$trials" --seed "$seed" --store "$work/tune-$seed.sqlite" >"$work/tune-$seed.txt" 2>/dev/null
  "$bin" batch --all -n 10 --output "$work/tune-$seed.csv" --store "$work/tune-$seed.sqlite" 2>/dev/null
  echo "tune --seed $seed ($(grep -A1 '^chosen:' "$work/tune-$seed.txt" | tail -1 | sed 's/^ *//')): $("$venv/bin/python" Scripts/bench/recommend_holdout.py ndcg "$work/test.csv" "$work/tune-$seed.csv")"
done
