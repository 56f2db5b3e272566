#!/usr/bin/env bash
# Records what every command prints (stdout, stderr, exit code, files it writes) on SampleData/ and, when
# present, the public data in .data/, so that a refactoring can be shown to change nothing a user sees.
#
# Usage:
#   Scripts/compare-behaviour.sh capture BIN_DIR OUT_DIR   # run the executables in BIN_DIR, record into OUT_DIR
#   Scripts/compare-behaviour.sh diff OUT_A OUT_B           # compare two records; exit 1 when they differ
#
# Typical use: build the old commit, capture into /tmp/before; build the new one, capture into /tmp/after;
# then diff. Elapsed times ("0.12s", "in 1.3s") and ISO creation times are masked, since they differ run to
# run; everything else is compared byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."

mask() {
  sed -E \
    -e "s#${WORK_DIR:-/nonexistent}#<work>#g" \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9:]+)/<time>/g' \
    -e 's/checkpoint of [^)]*\)/checkpoint of <time>)/g' \
    -e 's/[0-9]+\.[0-9]+ ?s\b/<secs>/g' \
    -e 's/\(([0-9]+\.[0-9]+)s\)/(<secs>)/g' \
    -e 's/[0-9]+ per second/<rate> per second/g' \
    -e 's/p50 [0-9.]+ µs, p99 [0-9.]+ µs, p99.9 [0-9.]+ µs/<latency>/g' \
    -e 's/code_version +[^ ]+/code_version <v>/g'
}

capture() {
  local bin=$1 out=$2
  rm -rf "$out"
  mkdir -p "$out"
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  WORK_DIR=$work
  export COMMERCEML_STORE="$work/store.sqlite"
  local n=0
  # run NAME CMD...: records stdout, stderr and the exit code of one command under a numbered name.
  run() {
    local name=$1
    shift
    n=$((n + 1))
    local base
    base=$(printf '%s/%03d-%s' "$out" "$n" "$name")
    set +e
    "$@" >"$base.out" 2>"$base.err" </dev/null
    echo $? >"$base.code"
    set -e
    mask <"$base.out" >"$base.out.m" && mv "$base.out.m" "$base.out"
    mask <"$base.err" >"$base.err.m" && mv "$base.err.m" "$base.err"
  }
  # run_in NAME INPUT CMD...: as run, with INPUT on standard input.
  run_in() {
    local name=$1 input=$2
    shift 2
    n=$((n + 1))
    local base
    base=$(printf '%s/%03d-%s' "$out" "$n" "$name")
    set +e
    "$@" >"$base.out" 2>"$base.err" <"$input"
    echo $? >"$base.code"
    set -e
    mask <"$base.out" >"$base.out.m" && mv "$base.out.m" "$base.out"
    mask <"$base.err" >"$base.err.m" && mv "$base.err.m" "$base.err"
  }
  # keep NAME FILE: records a file a command wrote.
  keep() {
    n=$((n + 1))
    if [ -f "$2" ]; then cp "$2" "$(printf '%s/%03d-%s.file' "$out" "$n" "$1")"; else
      echo "missing" >"$(printf '%s/%03d-%s.file' "$out" "$n" "$1")"
    fi
  }
  local R="$bin/recommend" C="$bin/churn" F="$bin/fraud"
  local E=SampleData/ecommerce S=SampleData/churn D=SampleData/fraud

  for app in recommend churn fraud; do
    run "$app-help" "$bin/$app" --help
    run "$app-models-empty" "$bin/$app" models list
  done

  # recommend
  run r-train "$R" train --interactions $E/interactions.csv --items $E/items.csv --value-column quantity \
    --timestamp-column timestamp
  run r-user "$R" U-0001 -n 5
  run r-user-json "$R" U-0001 -n 5 --format json
  run r-user-csv "$R" user U-0002 -n 3 --format csv --include-seen
  run r-similar "$R" similar P-0001 -n 5
  run r-history "$R" U-9999 --history P-0001,P-0002 -n 3
  run r-popular "$R" U-9999 -n 3
  run r-strict "$R" U-9999 --strict
  run r-history-bad "$R" U-9999 --history P-0001:x
  run r-history-unknown "$R" U-9999 --history NOPE
  run r-similar-unknown "$R" similar NOPE
  run r-n0 "$R" U-0001 -n 0
  run r-batch-all "$R" batch --all -n 5 --output "$work/batch.csv"
  keep r-batch-all "$work/batch.csv"
  printf 'user_id\nU-0001\nU-9999\nU-0003\n' >"$work/users.csv"
  run r-batch-users "$R" batch --users "$work/users.csv" -n 3 --output "$work/batch2.csv"
  keep r-batch-users "$work/batch2.csv"
  printf 'user_id\nU-0001\n""\n' >"$work/users-bad.csv"
  run r-batch-bad "$R" batch --users "$work/users-bad.csv" --output "$work/batch3.csv"
  run r-evaluate "$R" evaluate --interactions $E/interactions.csv --value-column quantity
  run r-evaluate-csv "$R" evaluate --interactions $E/interactions.csv --format csv -k 5 --iterations 5
  run r-evaluate-explicit "$R" evaluate --interactions $E/interactions.csv --value-column quantity \
    --feedback explicit --iterations 5
  run r-tune "$R" tune --interactions $E/interactions.csv --trials 3 --iterations 5 --model tuned
  run r-tune-explicit "$R" tune --interactions $E/interactions.csv --value-column quantity --feedback explicit \
    --trials 2 --model tuned-explicit
  run r-train-explicit "$R" train --interactions $E/interactions.csv --value-column quantity --feedback explicit \
    --iterations 5 --model explicit
  run r-user-explicit "$R" U-0001 -n 3 --model explicit
  run r-history-explicit "$R" U-9999 --history P-0001:4,P-0002:2 -n 3 --model explicit
  run r-history-explicit-bad "$R" U-9999 --history P-0001 --model explicit
  run r-wrong-kind "$R" train --interactions $E/interactions.csv --feedback explicit --iterations 2
  run r-missing-file "$R" train --interactions /nonexistent.csv
  run r-missing-column "$R" train --interactions $E/items.csv
  run r-models "$R" models list
  run r-models-all "$R" models list --all --format csv
  run r-models-show "$R" models show 1
  run r-promote "$R" models promote 1
  run r-rollback "$R" models rollback
  run r-rollback-again "$R" models rollback
  run r-no-model "$R" U-0001 --model nothing

  # churn
  run c-train "$C" train --data $S/customers.csv --target churned
  run c-score "$C" score $S/customers_new.csv --output "$work/scores.csv"
  keep c-score "$work/scores.csv"
  run c-score-stdout "$C" score $S/customers_new.csv --reasons 1 --threshold 0.5
  run c-evaluate "$C" evaluate --data $S/customers.csv
  run c-drift "$C" drift --data $S/customers_new.csv
  run c-drift-json "$C" drift --data $S/customers_new.csv --format json
  run c-train-l2 "$C" train --data $S/customers.csv --target churned --l2 1 --cv 3 --name churn-l2 \
    --design-matrix "$work/design.csv"
  keep c-design "$work/design.csv"
  run c-train-cost "$C" train --data $S/customers.csv --target churned --cost-fp 1 --cost-fn 5 --cv 2 \
    --name churn-cost
  run c-bad-target "$C" train --data $S/customers.csv --target nope
  run c-missing-file "$C" score /nonexistent.csv
  head -c 2000 $S/customers_new.csv >"$work/cut.csv"
  run c-score-cut "$C" score "$work/cut.csv"
  run c-score-cut-skip "$C" score "$work/cut.csv" --skip-bad-rows
  run c-models "$C" models list
  run c-no-model "$C" score $S/customers_new.csv --model nothing

  # fraud
  run f-simulate "$F" simulate --days 3 --cards 50 --merchants 10 --seed 7
  run f-train "$F" train --data $D/history.csv
  run_in f-stream $D/stream.csv "$F" stream
  run f-evaluate "$F" evaluate --data $D/history.csv
  run f-evaluate-json "$F" evaluate --data $D/history.csv --format json
  head -n 200 $D/stream.csv >"$work/s200.csv"
  printf 'garbage,line\n' >>"$work/s200.csv"
  run_in f-stream-resume "$work/s200.csv" "$F" stream --resume --dead-letter "$work/dead.csv" --checkpoint-every 50
  keep f-dead "$work/dead.csv"
  run_in f-stream-junk-map "$work/s200.csv" "$F" stream --format jsonl --map junk
  run_in f-stream-rules-only "$work/s200.csv" "$F" stream --model nothing
  run f-train-missing "$F" train --data /nonexistent.csv
  run f-evaluate-no-model "$F" evaluate --data $D/stream.csv --model nothing
  run f-models "$F" models list --all

  # The public data sets, when fetched (never committed).
  if [ -f .data/ml100k.csv ]; then
    run ml-evaluate "$R" evaluate --interactions .data/ml100k.csv --iterations 5
    run ml-evaluate-explicit "$R" evaluate --interactions .data/ml100k.csv --feedback explicit \
      --value-column rating --iterations 5
  fi
  if [ -f .data/telco.csv ]; then
    run telco-train "$C" train --data .data/telco.csv --target churn --model telco
    run telco-score "$C" score .data/telco.csv --model telco --output "$work/telco-scores.csv"
    keep telco-score "$work/telco-scores.csv"
  fi
  echo "recorded $n results in $out"
}

case "${1:-}" in
capture) capture "$2" "$3" ;;
diff)
  if diff -r "$2" "$3"; then echo "no difference"; else
    echo "the records differ" >&2
    exit 1
  fi
  ;;
*)
  echo "usage: $0 capture BIN_DIR OUT_DIR | diff OUT_A OUT_B" >&2
  exit 64
  ;;
esac
