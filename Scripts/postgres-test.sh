#!/usr/bin/env bash
# The PostgreSQL registry against a real server (Scripts/postgres-fixture.sh starts one from Debian's packages on a
# Unix socket and stops it at the end): the whole store test suite that runs on SQLite runs again on PostgreSQL
# (StorageTests with COMMERCEML_TEST_POSTGRES: kill -9 during registration and checkpoints, concurrent readers and
# writers, concurrent first registrations, rollback chains), then two `recommend serve` processes on one PostgreSQL
# registry must both switch within 1 s of a `recommend models promote`, and back after a rollback.
# Usage: Scripts/postgres-test.sh BIN_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1
source Scripts/postgres-fixture.sh
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
  pg_fixture_stop
}
trap cleanup EXIT
passed=0

echo "== the store test suite on PostgreSQL"
LOG=$WORK/storage-tests.log
COMMERCEML_TEST_POSTGRES=$PGURL swift test --skip-build --filter StorageTests >"$LOG" 2>&1 || true
grep -E "✘|Test run with" "$LOG" || true
if ! grep -qE "Test run with [0-9]+ tests .*passed" "$LOG"; then
  echo "postgres: the store tests failed on PostgreSQL" >&2
  tail -n 60 "$LOG" >&2
  exit 1
fi
runs=$(grep -oE 'Test run with [0-9]+ tests' "$LOG" | grep -oE '[0-9]+')
echo "store tests: $runs tests passed, each backend-parameterized one on SQLite and on PostgreSQL"
passed=$((passed + runs))

echo "== two recommend serve processes on one PostgreSQL registry switch on a promote"
STORE="$PGURL&schema=serve_test"
"$BIN/recommend" train --interactions SampleData/ecommerce/interactions.csv --items SampleData/ecommerce/items.csv \
  --iterations 3 --store "$STORE" >/dev/null
"$BIN/recommend" train --interactions SampleData/ecommerce/interactions.csv --items SampleData/ecommerce/items.csv \
  --iterations 4 --store "$STORE" >/dev/null
URLS=()
for k in 1 2; do
  "$BIN/recommend" serve --port 0 --store "$STORE" >"$WORK/serve$k.out" 2>"$WORK/serve$k.err" &
  PIDS+=($!)
  url=""
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^listening on //p' "$WORK/serve$k.out")
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "serve $k did not start" >&2; cat "$WORK/serve$k.err" >&2; exit 1; }
  URLS+=("$url")
done
serving_version() { curl -sf "$1/v1/model" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])'; }
for url in "${URLS[@]}"; do
  [ "$(serving_version "$url")" = 2 ] || { echo "a server does not serve version 2 at start" >&2; exit 1; }
done
# wait_for VERSION: seconds until both servers serve VERSION (fails after 5 s).
wait_for() {
  python3 - "$1" "${URLS[@]}" <<'PY'
import json, sys, time, urllib.request
want, urls = int(sys.argv[1]), sys.argv[2:]
start = time.monotonic()
pending = set(urls)
while pending and time.monotonic() - start < 5:
    for url in list(pending):
        with urllib.request.urlopen(url + "/v1/model") as r:
            if json.load(r)["version"] == want:
                pending.discard(url)
    time.sleep(0.02)
if pending:
    sys.exit("servers %s still not on version %d after 5 s" % (sorted(pending), want))
print("%.3f" % (time.monotonic() - start))
PY
}
"$BIN/recommend" models promote 1 --store "$STORE" >/dev/null
t1=$(wait_for 1)
"$BIN/recommend" models rollback --store "$STORE" >/dev/null
t2=$(wait_for 2)
echo "both servers on version 1 ${t1} s after the promote, back on version 2 ${t2} s after the rollback"
python3 -c "import sys; sys.exit(0 if max($t1, $t2) < 1.0 else 'a switch took 1 s or more')"
passed=$((passed + 1))
# The servers answer recommendations from the promoted model, not only its number.
curl -sf "${URLS[0]}/v1/users/$(sed -n 2p SampleData/ecommerce/interactions.csv | cut -d, -f1)/recommendations" >/dev/null
passed=$((passed + 1))

echo "== models copy: PostgreSQL -> SQLite -> another PostgreSQL schema, the same versions and answers"
"$BIN/recommend" models copy --from "$STORE" --to "$WORK/copy.sqlite" >/dev/null
"$BIN/recommend" models copy --from "$WORK/copy.sqlite" --to "$PGURL&schema=copy_test" >/dev/null
USER_ID=$(sed -n 2p SampleData/ecommerce/interactions.csv | cut -d, -f1)
k=0
for where in "$STORE" "$WORK/copy.sqlite" "$PGURL&schema=copy_test"; do
  "$BIN/recommend" models list --store "$where" --format csv >"$WORK/list.$k"
  "$BIN/recommend" "$USER_ID" --store "$where" >"$WORK/recs.$k"
  if ! cmp -s "$WORK/list.$k" "$WORK/list.0" || ! cmp -s "$WORK/recs.$k" "$WORK/recs.0"; then
    echo "models copy: $where differs from the PostgreSQL original" >&2
    diff "$WORK/list.0" "$WORK/list.$k" >&2 || true
    exit 1
  fi
  k=$((k + 1))
done
passed=$((passed + 1))
echo "postgres: $passed passed"
