#!/usr/bin/env bash
# HTTP fraud decisions, wrk on loopback, same machine and run: `fraud serve` against FastAPI + uvicorn around River
# 0.26's pipeline with the features of the River peer of Scripts/bench/fraud.sh (Scripts/bench/fraud_serve_peer.py:
# per-card rolling mean and sum of the amount over 1, 7 and 30 days, StandardScaler, LogisticRegression; each
# transaction enters the rolling state and is scored; one uvicorn worker, as the cards' state is one).
# The stream of Scripts/bench/fraud.sh (25,000 cards; trained on its first 30 days, ours by `fraud train`, River's
# pipeline on the history's last 200,000 transactions) is sent as prepared JSON bodies, each transaction once and
# in time order (wrk thread k of 2 sends bodies k, k+2, ...), to a server started fresh for each run:
#   1. single-transaction bodies at 64 connections, both servers;
#   2. 100-transaction array bodies at 64 connections, both servers (transactions per second = requests × 100);
#   3. single-transaction bodies to `fraud serve` while another process trains version 2 (activated), rolls back
#      to 1 and promotes 2 again: non-2xx counted, the version that scores afterwards checked.
# Prints requests and transactions per second, p50/p99 latency, non-2xx, the ratios, and the CPU model.
# Usage: Scripts/bench/fraud_serve.sh [SECONDS]   (default 10 s per run)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
WORK=Benchmarks/.work/fraud-serve
mkdir -p "$WORK"
bash Scripts/bootstrap.sh
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
command -v bc >/dev/null || apt-get install -y -qq bc >/dev/null
VENV=Benchmarks/.work/venv-serve
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import river, fastapi, uvicorn" 2>/dev/null ||
  "$VENV/bin/pip" install -q "river==0.26.*" fastapi "uvicorn[standard]"
swift build -c release --product fraud >/dev/null
BIN=$(swift build -c release --show-bin-path)/fraud

ALL=Benchmarks/.work/fraud-25000.csv
[ -s "$ALL" ] || "$BIN" simulate --days 90 --cards 25000 --merchants 2000 --seed 3 --output "$ALL" 2>/dev/null
HISTORY=$WORK/history.csv
STREAM=$WORK/stream.csv
awk -F, 'NR == 1 || $2 < "2026-01-31"' "$ALL" >"$HISTORY"
awk -F, 'NR == 1 || $2 >= "2026-01-31"' "$ALL" >"$STREAM"
STORE=$WORK/trained.sqlite
rm -f "$STORE" "$STORE"-wal "$STORE"-shm
"$BIN" train --data "$HISTORY" --store "$STORE" >/dev/null
# Version 2 for the promote run: the same features and label delay, fitted on the history's first 300,000.
SHORT=$WORK/history-300k.csv
head -n 300001 "$HISTORY" >"$SHORT"
{ head -n 1 "$HISTORY"; tail -n 200000 "$HISTORY"; } >"$WORK/history-last.csv"
"$VENV/bin/python" -W ignore Scripts/bench/fraud_serve_peer.py prepare "$WORK/history-last.csv" "$WORK/peer.pickle"
ROWS=$(($(wc -l <"$STREAM") - 1))
# Enough single bodies for 80,000 requests a second (each thread loads and formats its half before the run).
SINGLE=$((SECONDS_PER_RUN * 80000))
SINGLE=$((ROWS < SINGLE ? ROWS : SINGLE))
"$VENV/bin/python" Scripts/bench/fraud_serve_peer.py bodies "$STREAM" "$WORK/single.jsonl" "$SINGLE" 1
"$VENV/bin/python" Scripts/bench/fraud_serve_peer.py bodies "$STREAM" "$WORK/batch.jsonl" "$ROWS" 100

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      pkill -KILL -P "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() {
  for _ in $(seq 1 1200); do curl -sf "$1" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "fraud_serve.sh: $1 never answered" >&2
  exit 1
}
state_field() { curl -s "http://127.0.0.1:$PORT/v1/state" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
ms() { echo "$1" | awk '/us$/ {sub("us",""); printf "%.3f", $1/1000; next} /ms$/ {sub("ms",""); printf "%.3f", $1; next} /s$/ {sub("s",""); printf "%.3f", $1*1000}'; }
# wrk's summary: requests/s, p50 and p99 in ms, non-2xx count, bodies repeated.
run_wrk() {  # URL BODIES
  local out rps p50 p99 bad repeated
  out=$(WRK_BODIES=$2 WRK_THREADS=2 wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" --latency -s Scripts/bench/wrk_bodies.lua "$1")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  bad=$(echo "$out" | awk '/Non-2xx or 3xx responses/ {print $5}')
  repeated=$(echo "$out" | awk '/bodies repeated/ {print $3}')
  echo "$rps $(ms "$p50") $(ms "$p99") ${bad:-0} ${repeated:-0}"
}
PORT=0
start_ours() {  # a fresh copy of the trained store, a fresh server
  local run=$WORK/run.sqlite
  rm -f "$run" "$run"-wal "$run"-shm
  cp "$STORE" "$run"
  PORT=$(free_port)
  # No access log on either side (uvicorn's is off too); the two wrk threads drift apart by up to days of the
  # stream's time, so the allowed lateness is wide enough that none is refused (the refusals are printed).
  "$BIN" serve --no-access-log --allowed-lateness 90d --port "$PORT" --store "$run" >/dev/null 2>"$WORK/ours.err" &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$PORT/readyz"
}
start_peer() {
  PORT=$(free_port)
  (cd Scripts/bench && PEER_MODEL=$PWD/../../$WORK/peer.pickle exec "../../$VENV/bin/uvicorn" fraud_serve_peer:app \
    --workers 1 --port "$PORT" --log-level warning --no-access-log) >/dev/null 2>"$WORK/peer.err" &
  PIDS+=($!)
  local first
  first=$(head -n 1 "$WORK/single.jsonl")
  for _ in $(seq 1 1200); do
    curl -sf -H 'Content-Type: application/json' --data "$first" "http://127.0.0.1:$PORT/v1/transactions" \
      >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "fraud_serve.sh: the peer never answered" >&2
  exit 1
}
# Each server gets the same bodies from the start of the stream; the peer's probe above entered the first
# transaction once more, which moves its rolling sums by one amount of one card.

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "stream: $STREAM ($ROWS transactions, 25,000 cards), 64 connections, 2 wrk threads, ${SECONDS_PER_RUN} s each"
printf '  %-46s %12s %12s %8s\n' "" "CommerceML" "FastAPI+River" "ratio"
# Single-transaction bodies in three rounds, ours then the peer's in each (both sides' figures drift with the
# machine's speed from minute to minute): each round's ratio is printed and the median is the figure.
single_ratios=()
for round in single:1 single:2 single:3 batch:1; do
  kind=${round%%:*}
  per=1
  [ "$kind" = batch ] && per=100
  start_ours
  before=$(state_field transactions)
  read -r o_rps o_p50 o_p99 o_bad o_rep < <(run_wrk "http://127.0.0.1:$PORT/v1/transactions" "$WORK/$kind.jsonl")
  entered=$(($(state_field transactions) - before))
  late=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^commerceml_fraud_refused_total/ {n += $2} END {print n + 0}')
  cleanup
  start_peer
  read -r p_rps p_p50 p_p99 p_bad p_rep < <(run_wrk "http://127.0.0.1:$PORT/v1/transactions" "$WORK/$kind.jsonl")
  cleanup
  label="$per-transaction bodies"
  [ "$kind" = single ] && label="round ${round#*:}: $label" && single_ratios+=("$(echo "$o_rps / $p_rps" | bc -l)")
  printf '  %-46s %12.0f %12.0f %8.1f\n' "$label, transactions per second" "$(echo "$o_rps * $per" | bc -l)" \
    "$(echo "$p_rps * $per" | bc -l)" "$(echo "$o_rps / $p_rps" | bc -l)"
  printf '  %-46s %12.3f %12.3f\n' "latency p50 (ms)" "$o_p50" "$p_p50"
  printf '  %-46s %12.3f %12.3f\n' "latency p99 (ms)" "$o_p99" "$p_p99"
  printf '  %-46s %12s %12s\n' "non-2xx responses" "$o_bad" "$p_bad"
  printf '  %-46s %12s %12s\n' "bodies sent twice (ran out)" "$o_rep" "$p_rep"
  printf '  %-46s %12s   (refused by the clock rules: %s)\n' "transactions entered into the state" "$entered" "$late"
  if [ "$round" = single:3 ]; then
    printf '  %-46s %34.1f\n' "median ratio of the three single-body rounds" \
      "$(printf '%s\n' "${single_ratios[@]}" | sort -g | sed -n 2p)"
  fi
done

# Single-transaction load while another process trains version 2, rolls back to 1 and promotes 2 again.
start_ours
RUN=$WORK/run.sqlite
(
  sleep 1
  "$BIN" train --data "$SHORT" --store "$RUN" >/dev/null 2>&1
  sleep 1.5
  "$BIN" models rollback --store "$RUN" >/dev/null
  sleep 1.5
  "$BIN" models promote 2 --store "$RUN" >/dev/null
) &
CHANGER=$!
read -r r_rps r_p50 r_p99 r_bad r_rep < <(run_wrk "http://127.0.0.1:$PORT/v1/transactions" "$WORK/single.jsonl")
wait "$CHANGER"
served=$(state_field model_version)
adoptions=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^commerceml_fraud_model_adoptions_refused_total/ {print $2}')
cleanup
printf '  %-46s %12.0f   p99 %.3f ms, non-2xx %s, version %s scores after, adoptions refused %s\n' \
  "under train + rollback + promote, req/s" "$r_rps" "$r_p99" "$r_bad" "$served" "${adoptions:-?}"
