#!/usr/bin/env bash
# The additive churn model against InterpretML's EBM and scikit-learn's logistic regression, 5-fold stratified
# CV (scikit-learn StratifiedKFold, shuffled, seed 42), each fold trained and scored through the commands:
#   churn train --data train_K.csv --target T --model M --cv 0 ; churn score test_K.csv
# Usage: Scripts/bench/churn_gam.sh [mlc|telco] [additive|linear|auto]
# Prints our mean and pooled ROC AUC, our mean fit time per fold (whole `churn train` process), EBM's
# (interactions=10, interpret-core 0.7.8) and the ratio. Needs a release build; makes its own venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
set_name=${1:-mlc}
family=${2:-additive}
case "$set_name" in
  mlc) bash Scripts/fetch-mlc-churn.sh .data >/dev/null; data=.data/mlc_churn.csv; target=churn ;;
  telco) bash ../shared/data/fetch-public-data.sh .data >/dev/null; data=.data/telco.csv; target=churn ;;
  *) echo "mlc or telco" >&2; exit 64 ;;
esac
venv=Benchmarks/.work/venv-churn
"$venv/bin/python" -c 'import pandas, sklearn, interpret' 2>/dev/null || {
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pandas scikit-learn "interpret-core==0.7.8"
}
bin=.build/release/churn
[ -x "$bin" ] || { echo "build first: swift build -c release" >&2; exit 1; }
work=Benchmarks/.work/churn-gam-$set_name
rm -rf "$work"; mkdir -p "$work"
"$venv/bin/python" Scripts/bench/churn_gam_peer.py split "$data" "$target" "$work"
total=0
for k in 0 1 2 3 4; do
  store="$work/store_$k.sqlite"
  start=$(date +%s.%N)
  "$bin" train ${CML_TRAIN_ARGS:-} --data "$work/train_$k.csv" --target "$target" --model "$family" --cv 0 --store "$store" >"$work/train_$k.txt"
  end=$(date +%s.%N)
  total=$(echo "$total + $end - $start" | bc -l)
  "$bin" score "$work/test_$k.csv" --store "$store" --output "$work/scores_$k.csv" 2>/dev/null
done
echo "data: $data ($(($(wc -l <"$data") - 1)) customers); ours: --model $family"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$venv/bin/python" Scripts/bench/churn_gam_peer.py score "$target" "$work" | sed 's/^/ours /'
ours=$(echo "$total / 5" | bc -l)
printf 'ours fit_seconds_mean %.3f\n' "$ours"
"$venv/bin/python" Scripts/bench/churn_gam_peer.py peers "$data" "$target" "$work" | tee "$work/peers.txt"
ebm=$(awk '/^ebm_fit_seconds_mean/ {print $2}' "$work/peers.txt")
printf 'fit time ratio (ours / EBM) %.3f\n' "$(echo "$ours / $ebm" | bc -l)"
