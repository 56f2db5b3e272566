#!/usr/bin/env bash
# HTTP serving benchmark, wrk on loopback, same machine and run:
#   recommendations for the MovieLens-100K users in turn at 64 connections: `recommend serve` against FastAPI +
#   uvicorn (2 workers) around implicit's ALS `recommend` (same data, 64 factors, 15 iterations, seen items
#   filtered); then the same load on `recommend serve` while another process trains, promotes and rolls back
#   (non-2xx counted); the resident memory of `recommend serve` holding the 200,000-user × 30,000-item bench model
#   (Benchmarks/.work/bench-1.sqlite from Scripts/bench/recommend.sh) against that model's size;
#   churn V2 `infer` with 1-customer and 100-customer bodies: `churn serve` against MLServer (mlserver-sklearn, 2
#   parallel workers) serving a scikit-learn OneHotEncoder + LogisticRegression pipeline trained on the same Telco
#   file, both sent the same V2 bodies (one input per column, MLServer's pandas codec).
# Prints requests per second, p50/p99 latency, the ratios, and the CPU model.
# Usage: Scripts/bench/serve.sh [SECONDS]   (needs .data/ml100k.csv and .data/telco.csv:
#   ../shared/data/fetch-public-data.sh .data)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
WORK=Benchmarks/.work/serve
mkdir -p "$WORK"
bash Scripts/bootstrap.sh
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
VENV=Benchmarks/.work/venv-serve
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import implicit, fastapi, uvicorn, pandas, scipy" 2>/dev/null ||
  "$VENV/bin/pip" install -q "implicit==0.7.*" fastapi "uvicorn[standard]" pandas scipy numpy
DATA=.data/ml100k.csv
[ -s "$DATA" ] || { echo "serve.sh: $DATA is missing; run ../shared/data/fetch-public-data.sh .data" >&2; exit 1; }
TELCO=.data/telco.csv
[ -s "$TELCO" ] || { echo "serve.sh: $TELCO is missing; run ../shared/data/fetch-public-data.sh .data" >&2; exit 1; }
# MLServer in a virtual environment of its own (its pins differ from FastAPI's); uvloop 0.22 and later break its
# worker processes ("no current event loop"), so an older one is pinned.
MLS_VENV=Benchmarks/.work/venv-mlserver
[ -x "$MLS_VENV/bin/python" ] || python3 -m venv "$MLS_VENV"
"$MLS_VENV/bin/python" -c "import mlserver, mlserver_sklearn, sklearn, pandas" 2>/dev/null ||
  "$MLS_VENV/bin/pip" install -q "mlserver==1.7.*" "mlserver-sklearn==1.7.*" "uvloop<0.22"
swift build -c release --product recommend >/dev/null
swift build -c release --product churn >/dev/null
BIN=$(swift build -c release --show-bin-path)
PIDS=()
# Every server stopped: SIGTERM, then SIGKILL (children too) for one still up after 10 s — MLServer 1.7 can hang in
# its own shutdown (its metrics files removed twice).
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 100); do
    alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      pkill -KILL -P "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { for _ in $(seq 1 300); do curl -sf "$1" >/dev/null 2>&1 && return; sleep 0.1; done; echo "serve.sh: $1 never answered" >&2; exit 1; }
# wrk's summary: requests/s, p50 and p99 in ms, non-2xx count.
run_wrk() {  # URL LUA
  local out
  out=$(WRK_PATHS=$WORK/paths.txt WRK_BODY=${WRK_BODY:-} wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" --latency -s "$2" "$1")
  local rps p50 p99 bad
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  bad=$(echo "$out" | awk '/Non-2xx or 3xx responses/ {print $5}')
  echo "$rps $(ms "$p50") $(ms "$p99") ${bad:-0}"
}
ms() { echo "$1" | awk '/us$/ {sub("us",""); printf "%.3f", $1/1000; next} /ms$/ {sub("ms",""); printf "%.3f", $1; next} /s$/ {sub("s",""); printf "%.3f", $1*1000}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
STORE=$WORK/ml100k.sqlite
rm -f "$STORE" "$STORE"-wal "$STORE"-shm
"$BIN/recommend" train --interactions "$DATA" --value-column rating --factors 64 --iterations 15 --store "$STORE" \
  >/dev/null 2>&1
"$VENV/bin/python" Scripts/bench/serve_peer_recommend.py prepare "$DATA" "$WORK/peer" >/dev/null
cut -d, -f1 "$DATA" | tail -n +2 | sort -u | sed 's|^|/v1/users/|; s|$|/recommendations?n=10|' >"$WORK/paths.txt"
echo "data: $DATA ($(($(wc -l <"$DATA") - 1)) ratings, $(wc -l <"$WORK/paths.txt") users in turn), 64 connections, 2 wrk threads, ${SECONDS_PER_RUN} s each"

OURS_PORT=$(free_port)
# No access log on either side: uvicorn runs at --log-level warning, which writes none.
OPENBLAS_NUM_THREADS=1 "$BIN/recommend" serve --port "$OURS_PORT" --store "$STORE" --no-access-log >/dev/null \
  2>"$WORK/ours.err" &
PIDS+=($!)
wait_http "http://127.0.0.1:$OURS_PORT/readyz"
PEER_PORT=$(free_port)
(cd Scripts/bench && PEER_DIR=$PWD/../../$WORK/peer OPENBLAS_NUM_THREADS=1 exec "../../$VENV/bin/uvicorn" \
  serve_peer_recommend:app --workers 2 --port "$PEER_PORT" --log-level warning) >/dev/null 2>"$WORK/peer.err" &
PIDS+=($!)
wait_http "http://127.0.0.1:$PEER_PORT/v1/users/1/recommendations?n=10"
# Three rounds, ours then the peer's in each: the machine's speed drifts from minute to minute (both sides' figures
# moved by a quarter between runs), so each round's ratio is printed and the median of the three is the figure.
printf '  %-44s %12s %12s %8s\n' "" "CommerceML" "FastAPI+implicit" "ratio"
ratios=()
for round in 1 2 3; do
  read -r o_rps o_p50 o_p99 o_bad < <(run_wrk "http://127.0.0.1:$OURS_PORT" Scripts/bench/wrk_paths.lua)
  read -r p_rps p_p50 p_p99 p_bad < <(run_wrk "http://127.0.0.1:$PEER_PORT" Scripts/bench/wrk_paths.lua)
  ratio=$(echo "$o_rps / $p_rps" | bc -l)
  ratios+=("$ratio")
  printf '  %-44s %12.0f %12.0f %8.1f\n' "round $round: recommendations, requests per second" "$o_rps" "$p_rps" "$ratio"
  printf '  %-44s %12.3f %12.3f\n' "latency p50 (ms)" "$o_p50" "$p_p50"
  printf '  %-44s %12.3f %12.3f\n' "latency p99 (ms)" "$o_p99" "$p_p99"
  printf '  %-44s %12s %12s\n' "non-2xx responses" "$o_bad" "$p_bad"
done
printf '  %-44s %34.1f\n' "median ratio of the three rounds" "$(printf '%s\n' "${ratios[@]}" | sort -g | sed -n 2p)"

# The same load while another process trains (version 2 promoted), rolls back and promotes again.
(
  sleep 1
  "$BIN/recommend" train --interactions "$DATA" --value-column rating --factors 32 --iterations 5 --store "$STORE" >/dev/null 2>&1
  sleep 1
  "$BIN/recommend" models rollback --store "$STORE" >/dev/null
  sleep 1
  "$BIN/recommend" models promote 2 --store "$STORE" >/dev/null
) &
CHANGER=$!
read -r r_rps r_p50 r_p99 r_bad < <(run_wrk "http://127.0.0.1:$OURS_PORT" Scripts/bench/wrk_paths.lua)
wait "$CHANGER"
served=$(curl -s "http://127.0.0.1:$OURS_PORT/v1/model" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
printf '  %-44s %12.0f   p99 %.3f ms, non-2xx %s, serving version %s after\n' "under train + rollback + promote, req/s" "$r_rps" "$r_p99" "$r_bad" "$served"

BENCH=Benchmarks/.work/bench-1.sqlite
if [ -s "$BENCH" ]; then
  BIG_PORT=$(free_port)
  "$BIN/recommend" serve --port "$BIG_PORT" --store "$BENCH" >/dev/null 2>"$WORK/big.err" &
  BIG=$!
  PIDS+=($BIG)
  wait_http "http://127.0.0.1:$BIG_PORT/readyz"
  curl -s "http://127.0.0.1:$BIG_PORT/v1/users/U000001/recommendations?n=10" >/dev/null || true
  model_mb=$(curl -s "http://127.0.0.1:$BIG_PORT/v1/model" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["artifact_bytes"]/1048576))')
  rss_mb=$(awk '/VmRSS/ {print int($2/1024)}' /proc/$BIG/status)
  anon_mb=$(awk '/RssAnon/ {print int($2/1024)}' /proc/$BIG/status)
  file_mb=$(awk '/RssFile/ {print int($2/1024)}' /proc/$BIG/status)
  echo "  memory holding the 200k-user x 30k-item model: RSS ${rss_mb} MiB for a ${model_mb} MiB model (+$((rss_mb - model_mb)) MiB)"
  # The file-backed part is the executable's and the libraries' pages, which a server holding no model maps too.
  echo "    of which anonymous (heap, the model) ${anon_mb} MiB (+$((anon_mb - model_mb)) MiB), file-backed (code) ${file_mb} MiB"
fi

# Churn: V2 infer, the same bodies to both servers.
CHURN_STORE=$WORK/telco.sqlite
rm -f "$CHURN_STORE" "$CHURN_STORE"-wal "$CHURN_STORE"-shm
"$BIN/churn" train --data "$TELCO" --target churn --model linear --cv 0 --store "$CHURN_STORE" >/dev/null 2>&1
CHURN_PORT=$(free_port)
"$BIN/churn" serve --port "$CHURN_PORT" --store "$CHURN_STORE" >/dev/null 2>"$WORK/churn.err" &
PIDS+=($!)
wait_http "http://127.0.0.1:$CHURN_PORT/readyz"
curl -s "http://127.0.0.1:$CHURN_PORT/v2/models/churn" >"$WORK/churn-metadata.json"
MLS_HTTP=$(free_port)
MLS_GRPC=$(free_port)
MLS_METRICS=$(free_port)
rm -rf "$WORK/mlserver"
"$MLS_VENV/bin/python" Scripts/bench/serve_peer_churn.py prepare "$TELCO" "$WORK/churn-metadata.json" "$WORK/mlserver" \
  "$MLS_HTTP" "$MLS_GRPC" "$MLS_METRICS" 2 >/dev/null
(cd "$WORK/mlserver/model" && exec "$PWD/../../../venv-mlserver/bin/mlserver" start .) >/dev/null 2>"$WORK/mlserver.err" &
PIDS+=($!)
wait_http "http://127.0.0.1:$MLS_HTTP/v2/models/churn/ready"
for body in 1 100; do
  for url in "http://127.0.0.1:$CHURN_PORT" "http://127.0.0.1:$MLS_HTTP"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      --data "@$WORK/mlserver/body-$body.json" "$url/v2/models/churn/infer")
    [ "$code" = 200 ] || { echo "serve.sh: $url answered $code to the $body-customer body" >&2; exit 1; }
  done
done
printf '  %-44s %12s %12s %8s\n' "" "CommerceML" "MLServer" "ratio"
for body in 1 100; do
  read -r c_rps c_p50 c_p99 c_bad < <(WRK_BODY=$WORK/mlserver/body-$body.json run_wrk \
    "http://127.0.0.1:$CHURN_PORT/v2/models/churn/infer" Scripts/bench/wrk_post.lua)
  read -r m_rps m_p50 m_p99 m_bad < <(WRK_BODY=$WORK/mlserver/body-$body.json run_wrk \
    "http://127.0.0.1:$MLS_HTTP/v2/models/churn/infer" Scripts/bench/wrk_post.lua)
  printf '  %-44s %12.0f %12.0f %8.1f\n' "churn infer, $body customer(s), requests per second" "$c_rps" "$m_rps" \
    "$(echo "$c_rps / $m_rps" | bc -l)"
  printf '  %-44s %12.3f %12.3f\n' "latency p50 (ms)" "$c_p50" "$m_p50"
  printf '  %-44s %12.3f %12.3f\n' "latency p99 (ms)" "$c_p99" "$m_p99"
  printf '  %-44s %12s %12s\n' "non-2xx responses" "$c_bad" "$m_bad"
done
