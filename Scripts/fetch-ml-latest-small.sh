#!/usr/bin/env bash
# Fetches MovieLens ml-latest-small (610 users, 9,724 rated movies, 100,836 ratings; GroupLens, 2018) into
# DIR/ml-latest-small.csv (default ./.data) — the second data set of issue 13's recommender benchmark. The file is
# GroupLens's ratings.csv unchanged (userId,movieId,rating,timestamp); its checksum is verified. Its license allows
# research use only and redistribution only under the same terms: never commit it.
set -euo pipefail
D=${1:-.data}; mkdir -p "$D"; D=$(cd "$D" && pwd)
want=80da8b3393dae325bbba5a31f291a6ba55d8d4f4396de3c456f2c1635b1b70e8
[ -s "$D/ml-latest-small.csv" ] && echo "$want  $D/ml-latest-small.csv" | sha256sum -c --quiet - && exit 0
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
curl -fsSL -o "$W/ml.zip" https://files.grouplens.org/datasets/movielens/ml-latest-small.zip
(cd "$W" && unzip -q -o ml.zip ml-latest-small/ratings.csv)
echo "$want  $W/ml-latest-small/ratings.csv" | sha256sum -c --quiet - || {
  echo "fetch-ml-latest-small: ratings.csv differs from the 2018 release this project measured on" >&2; exit 1; }
mv "$W/ml-latest-small/ratings.csv" "$D/ml-latest-small.csv"
wc -l "$D/ml-latest-small.csv"
