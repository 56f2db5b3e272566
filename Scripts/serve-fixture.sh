# Sourced by the scripts that test the servers: trains both models on SampleData into a temporary store and starts
# `TOOL serve --port 0` on free loopback ports; every server started is stopped when the script exits, whatever
# happens. Needs BIN (the directory of the built executables).
WORK=$(mktemp -d)
PIDS=()
serve_cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap serve_cleanup EXIT
STORE=$WORK/store.sqlite
"$BIN/recommend" train --interactions SampleData/ecommerce/interactions.csv --items SampleData/ecommerce/items.csv \
  --iterations 5 --store "$STORE" >/dev/null 2>&1
"$BIN/churn" train --data SampleData/churn/customers.csv --target churned --cv 0 --store "$STORE" >/dev/null 2>&1

# serve_start TOOL: starts `TOOL serve --port 0` in this shell (so that the cleanup knows its pid) and sets URL.
serve_start() {
  "$BIN/$1" serve --port 0 --store "$STORE" >"$WORK/$1.out" 2>"$WORK/$1.err" &
  PIDS+=($!)
  URL=""
  for _ in $(seq 1 100); do
    URL=$(sed -n 's/^listening on //p' "$WORK/$1.out")
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  echo "$1 serve did not start" >&2
  cat "$WORK/$1.err" >&2
  exit 1
}
