#!/usr/bin/env bash
# EASE's fit against numpy's inverse of the same Gram matrix, in the same run: ml-latest-small itself when given
# (Scripts/fetch-ml-latest-small.sh: 610 users, 9,724 items, 100,836 ratings, each one interaction), else a synthetic
# catalogue of its size (610 users, ITEMS items, 100,000 interactions; Scripts/bench/gen_interactions.py). Ours: the fit
# (XᵀX, the Cholesky inverse, the weights) as `recommend train --algorithm ease` reports it, and the whole process;
# numpy: `np.linalg.inv(XᵀX + λI)` alone (float64), after building X with pandas/scipy.
# Usage: Scripts/bench/ease.sh [ITEMS | .data/ml-latest-small.csv]
set -euo pipefail
cd "$(dirname "$0")/../.."
ARG=${1:-9000}
WORK=Benchmarks/.work
mkdir -p "$WORK"
VENV=$WORK/venv-rec
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import pandas, scipy, numpy" 2>/dev/null || "$VENV/bin/pip" install -q pandas scipy numpy
if [ -f "$ARG" ]; then
  DATA=$ARG
else
  DATA=$WORK/ease-$ARG.csv
  [ -s "$DATA" ] || "$VENV/bin/python" Scripts/bench/gen_interactions.py "$DATA" 610 "$ARG" 100000 7
fi
# The file's own user and item columns (the first two).
IFS=, read -r UCOL ICOL _ <"$DATA"
BIN=.build/release/recommend
[ -x "$BIN" ] || { echo "build first: swift build -c release" >&2; exit 1; }
STORE=$WORK/ease-bench.sqlite
rm -f "$STORE" "$STORE"-wal "$STORE"-shm
start=$(date +%s.%N)
"$BIN" train --interactions "$DATA" --user-column "$UCOL" --item-column "$ICOL" --algorithm ease --lambda 500 --store "$STORE" 2>"$WORK/ease.log" >/dev/null
whole=$(echo "$(date +%s.%N) - $start" | bc)
ours=$(grep -oE 'iteration  1/1 .* ([0-9.]+)s$' "$WORK/ease.log" | grep -oE '[0-9.]+s$' | tr -d s)
numpy=$("$VENV/bin/python" - "$DATA" "$UCOL" "$ICOL" <<'PY'
import sys, time
import numpy as np, pandas as pd, scipy.sparse as sp
ucol, icol = sys.argv[2], sys.argv[3]
df = pd.read_csv(sys.argv[1], dtype={ucol: str, icol: str})
u = df[ucol].astype("category").cat.codes.to_numpy()
i = df[icol].astype("category").cat.codes.to_numpy()
X = sp.csr_matrix((np.ones(len(df)), (u, i)))
X.data[:] = 1
G = (X.T @ X).toarray() + 500 * np.eye(X.shape[1])
start = time.perf_counter()
P = np.linalg.inv(G)
print(f"{time.perf_counter() - start:.3f} {X.shape[1]}")
PY
)
read -r numpy_inv items <<<"$numpy"
echo "data: $DATA ($items items)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-40s %8.3f s\n' "ours: EASE fit (Gram, inverse, weights)" "$ours"
printf '%-40s %8.3f s\n' "ours: whole recommend train process" "$whole"
printf '%-40s %8.3f s\n' "numpy: np.linalg.inv of the Gram alone" "$numpy_inv"
printf '%-40s %8.2f\n' "ratio (our fit / numpy inv)" "$(echo "$ours / $numpy_inv" | bc -l)"
