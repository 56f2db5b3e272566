#!/usr/bin/env bash
# The store and the process under limits a unit test cannot set up: a store an unprivileged user may read but not
# write (a read-only file in a read-only directory), a read-only mount, a full disk, an unwritable or missing
# working directory, an address-space limit (ulimit -v). Runs the built executables (debug by default, or BIN=...) as a user would and checks exit codes,
# messages and the files left beside the store. Needs root (mount, setpriv); prints "N passed, N failed".
# Usage: Scripts/store-limits-test.sh [BIN]
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-$(swift build --show-bin-path)}
SAMPLE=$PWD/SampleData
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
  echo "store-limits: needs root and setpriv (mount a small file system, run as another user); skipped"
  exit 0
fi
WORK=$(mktemp -d)
MOUNTS=()
SERVERS=()
cleanup() {
  for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "store-limits: FAIL: $*" >&2; }
# check NAME EXPECTED_CODE EXPECTED_STDERR_SUBSTRING -- command...: runs the command, compares.
check() {
  local name=$1 code=$2 want=$3
  shift 4
  local out err rc
  out=$("$@" 2>"$WORK/err")
  rc=$?
  err=$(cat "$WORK/err")
  if [ "$rc" -ne "$code" ]; then bad "$name: exit $rc, expected $code; stderr: $err"; return; fi
  if [ -n "$want" ] && [[ "$err" != *"$want"* ]]; then bad "$name: stderr lacks '$want': $err"; return; fi
  if [ "$code" -eq 0 ] && [ -z "$out" ] && [[ "$name" != *batch* ]]; then bad "$name: no output"; return; fi
  ok
}
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# One store with a model of each app.
STORE=$WORK/train/store.sqlite
mkdir -p "$WORK/train"
for _ in 1 2; do
  "$BIN/recommend" train --interactions "$SAMPLE/ecommerce/interactions.csv" --store "$STORE" >/dev/null 2>&1
  "$BIN/churn" train --data "$SAMPLE/churn/customers.csv" --target churned --model additive --cv 0 --store "$STORE" \
    >/dev/null 2>&1
done
head -n 2001 "$SAMPLE/fraud/history.csv" >"$WORK/history.csv"
"$BIN/fraud" train --data "$SAMPLE/fraud/history.csv" --store "$STORE" >/dev/null 2>&1
head -n 101 "$SAMPLE/churn/customers_new.csv" >"$WORK/customers.csv"
printf 'user_id\nU-0001\nU-0002\n' >"$WORK/users.csv"
chmod 755 "$WORK"
mkdir -p "$WORK/out"
chmod 777 "$WORK/out"
chmod 644 "$WORK/customers.csv" "$WORK/users.csv"

# Every reading command of every app, against the store at $1, run by "$2" (empty: root).
readers() {
  local store=$1 as=$2 label=$3
  check "$label recommend USER" 0 "" -- $as "$BIN/recommend" U-0001 -n 3 --store "$store"
  check "$label recommend similar" 0 "" -- $as "$BIN/recommend" similar P-0001 -n 3 --store "$store"
  check "$label recommend batch" 0 "" -- $as "$BIN/recommend" batch --users "$WORK/users.csv" \
    --output "$WORK/out/batch.csv" --store "$store"
  [ -s "$WORK/out/batch.csv" ] && ok || bad "$label recommend batch wrote nothing"
  rm -f "$WORK/out/batch.csv"
  check "$label recommend models list" 0 "" -- $as "$BIN/recommend" models list --store "$store"
  check "$label churn models show" 0 "" -- $as "$BIN/churn" models show --store "$store"
  check "$label churn score" 0 "" -- $as "$BIN/churn" score "$WORK/customers.csv" --store "$store"
  check "$label churn explain" 0 "" -- $as "$BIN/churn" explain --store "$store"
  check "$label fraud models list" 0 "" -- $as "$BIN/fraud" models list --store "$store"
}

# 1. A read-only file in a read-only directory, read by an unprivileged user.
mkdir -p "$WORK/ro"
cp "$STORE" "$WORK/ro/store.sqlite"
chown -R 65534 "$WORK/ro"
chmod 444 "$WORK/ro/store.sqlite"
chmod 555 "$WORK/ro"
readers "$WORK/ro/store.sqlite" nobody "read-only directory:"
check "read-only directory: promote" 66 "may not write" -- nobody "$BIN/recommend" models promote 1 \
  --store "$WORK/ro/store.sqlite"
check "read-only directory: train" 66 "read-only" -- nobody "$BIN/recommend" train \
  --interactions "$SAMPLE/ecommerce/interactions.csv" --store "$WORK/ro/store.sqlite"
[ -z "$(ls "$WORK/ro" | grep -v '^store.sqlite$')" ] && ok || bad "read-only directory: files left: $(ls "$WORK/ro")"

# 2. A writable directory but a read-only file (another user's store shared for reading).
mkdir -p "$WORK/rofile"
cp "$STORE" "$WORK/rofile/store.sqlite"
chmod 444 "$WORK/rofile/store.sqlite"
chmod 777 "$WORK/rofile"
readers "$WORK/rofile/store.sqlite" nobody "read-only file:"

# 3. A read-only mount, read by root.
mkdir -p "$WORK/romount-src" "$WORK/romount"
cp "$STORE" "$WORK/romount-src/store.sqlite"
if mount --bind "$WORK/romount-src" "$WORK/romount" && MOUNTS+=("$WORK/romount") \
  && mount -o remount,ro,bind "$WORK/romount"; then
  readers "$WORK/romount/store.sqlite" "" "read-only mount:"
  check "read-only mount: rollback" 66 "read-only file system" -- "$BIN/churn" models rollback \
    --store "$WORK/romount/store.sqlite"
  check "read-only mount: train" 66 "read-only" -- "$BIN/fraud" train --data "$WORK/history.csv" \
    --store "$WORK/romount/store.sqlite"
  check "read-only mount: new store" 66 "read-only file system" -- "$BIN/recommend" train \
    --interactions "$SAMPLE/ecommerce/interactions.csv" --store "$WORK/romount/new.sqlite"
else
  bad "read-only mount: cannot bind-mount"
fi

# 4. A full disk: reading works and leaves nothing; writing says "no space left on device", exit 66.
mkdir -p "$WORK/full"
size=$(($(stat -c %s "$STORE") / 1024 + 256))
if mount -t tmpfs -o size=${size}k tmpfs "$WORK/full"; then
  MOUNTS+=("$WORK/full")
  cp "$STORE" "$WORK/full/store.sqlite"
  dd if=/dev/zero of="$WORK/full/filler" bs=4k >/dev/null 2>&1
  readers "$WORK/full/store.sqlite" "" "full disk:"
  left=$(ls "$WORK/full" | grep -v -e '^store.sqlite$' -e '^filler$')
  [ -z "$left" ] && ok || bad "full disk: reading left $left"
  check "full disk: recommend train" 66 "no space left on device" -- "$BIN/recommend" train \
    --interactions "$SAMPLE/ecommerce/interactions.csv" --store "$WORK/full/store.sqlite"
  check "full disk: churn train" 66 "no space left on device" -- "$BIN/churn" train \
    --data "$SAMPLE/churn/customers.csv" --target churned --model linear --cv 0 --store "$WORK/full/store.sqlite"
  check "full disk: fraud train" 66 "no space left on device" -- "$BIN/fraud" train --data "$WORK/history.csv" \
    --store "$WORK/full/store.sqlite"
  check "full disk: new store" 66 "no space left on device" -- "$BIN/recommend" train \
    --interactions "$SAMPLE/ecommerce/interactions.csv" --store "$WORK/full/new.sqlite"
  rm -f "$WORK/full/filler"
  check "full disk freed: the store still reads" 0 "" -- "$BIN/recommend" models list --store "$WORK/full/store.sqlite"
  n=$("$BIN/recommend" models list --store "$WORK/full/store.sqlite" --format csv | grep -c '^recommender,')
  [ "$n" -eq 2 ] && ok || bad "full disk: $n recommender versions after the failed trainings, expected 2"
else
  bad "full disk: cannot mount a tmpfs"
fi

# 5. An unwritable working directory and a missing directory: why, and exit 66.
mkdir -p "$WORK/locked"
chmod 555 "$WORK/locked"
check "unwritable directory" 66 "cannot create the store in .: permission denied" -- \
  bash -c "cd '$WORK/locked' && exec setpriv --reuid=65534 --regid=65534 --clear-groups '$BIN/recommend' train \
    --interactions '$SAMPLE/ecommerce/interactions.csv'"
check "missing directory" 66 "no such directory $WORK/nowhere" -- "$BIN/churn" train \
  --data "$SAMPLE/churn/customers.csv" --target churned --store "$WORK/nowhere/store.sqlite"
check "reading a missing store" 1 "no model store here" -- "$BIN/recommend" U-0001 \
  --store "$WORK/nowhere/store.sqlite"

# 6. A store this user may not read at all.
mkdir -p "$WORK/secret"
cp "$STORE" "$WORK/secret/store.sqlite"
chmod 600 "$WORK/secret/store.sqlite"
chmod 755 "$WORK/secret"
check "unreadable store" 66 "cannot read the store: permission denied" -- nobody "$BIN/recommend" models list \
  --store "$WORK/secret/store.sqlite"

# 7. An address-space limit (ulimit -v): too tight for OpenBLAS's work buffer, every training says so at once
# (exit 71, the limit that works named) instead of waiting forever; EASE's memory is checked against it before the
# fit (exit 64, with the remedy); with room enough, training works. Never a hang (timeout) or a crash.
limited() { # LIMIT_KB EXPECTED_CODE MESSAGE NAME -- command...
  local limit=$1 code=$2 want=$3 name=$4
  shift 5
  local rc
  (ulimit -v "$limit" && exec timeout 120 "$@") >/dev/null 2>"$WORK/err"
  rc=$?
  if [ "$rc" -ne "$code" ]; then bad "ulimit -v $limit: $name: exit $rc, expected $code: $(cat "$WORK/err")"; return; fi
  if [ -n "$want" ] && ! grep -q -- "$want" "$WORK/err"; then bad "ulimit -v $limit: $name: no '$want': $(cat "$WORK/err")"; return; fi
  ok
}
for tool in "recommend train --interactions $SAMPLE/ecommerce/interactions.csv" \
  "churn train --data $SAMPLE/churn/customers.csv --target churned --cv 0" \
  "fraud train --data $SAMPLE/fraud/history.csv"; do
  # shellcheck disable=SC2086
  limited 300000 71 "OpenBLAS reserves a 128 MiB work buffer" "${tool%% *}" -- $BIN/$tool --store "$WORK/ulimit.sqlite"
  # shellcheck disable=SC2086
  limited 2000000 0 "" "${tool%% *}" -- $BIN/$tool --store "$WORK/ulimit.sqlite"
done
awk 'BEGIN { srand(3); print "user_id,item_id"; for (u = 0; u < 12000; u++) for (k = 0; k < 12; k++) printf "U%d,I%d\n", u, int(rand() * 6000) }' \
  >"$WORK/wide.csv"
limited 700000 64 "EASE on 6000 items needs about" "recommend train --algorithm ease" -- "$BIN/recommend" train \
  --interactions "$WORK/wide.csv" --algorithm ease --store "$WORK/ulimit.sqlite"

# 8. Work whose memory is not known in advance (ALS on many interactions, a large churn file) under limits from too
# tight for OpenBLAS to ample: every run ends within the timeout with 0 or a clear error — exit 71 naming the
# limit when an allocation is refused ("out of memory"), whether by the Swift runtime, a C library or SQLite —
# never a hang (OpenBLAS waiting forever for a work buffer, 124 here) or a crash report (a signal). The sweep must
# see both outcomes, so that it tests the refusal and not only the room.
awk 'BEGIN { srand(5); print "user_id,item_id"; for (i = 0; i < 1000000; i++) printf "U%d,I%d\n", int(rand() * 80000), int(rand() * 20000) }' \
  >"$WORK/many.csv"
python3 Scripts/gen_churn.py kaggle "$WORK/churn-many.csv" 150000
refused=0
fitted=0
for limit in $(seq 470000 60000 990000); do
  for run in "recommend train --interactions $WORK/many.csv --iterations 2" \
    "churn train --data $WORK/churn-many.csv --target Churn --cv 0"; do
    rm -f "$WORK/sweep.sqlite" "$WORK/sweep.sqlite-wal" "$WORK/sweep.sqlite-shm"
    # shellcheck disable=SC2086
    (ulimit -v "$limit" && exec timeout 120 $BIN/$run --store "$WORK/sweep.sqlite") >/dev/null 2>"$WORK/err"
    rc=$?
    last=$(tail -n 1 "$WORK/err")
    case $rc in
      0) fitted=$((fitted + 1)); ok ;;
      71)
        if grep -q -e "error: out of memory" -e "error: .*: out of memory" -e "OpenBLAS reserves" "$WORK/err"; then
          refused=$((refused + 1)); ok
        else bad "ulimit -v $limit: ${run%% --*}: exit 71 without the reason: $last"; fi ;;
      *) bad "ulimit -v $limit: ${run%% --*}: exit $rc (a hang is 124, a crash above 128): $last" ;;
    esac
  done
done
if [ "$refused" -gt 0 ] && [ "$fitted" -gt 0 ]; then ok; else bad "the limit sweep saw $refused refusals and $fitted fits (wants both)"; fi

# 9. A server run by a user who may not write the store's directory reads the store as immutable, and follows what
# the store's owner does meanwhile: a training that activates a new version and a rollback are each served within
# seconds (the server opens the changed file again), with no error logged and nothing left beside the store.
mkdir -p "$WORK/shared"
cp "$STORE" "$WORK/shared/store.sqlite"
chmod 755 "$WORK/shared"
chmod 644 "$WORK/shared/store.sqlite"
# (setpriv itself, not the function: the pid taken is then the server's.)
setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/recommend" serve --port 0 \
  --store "$WORK/shared/store.sqlite" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVERS+=($!)
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on //p' "$WORK/serve.out")
  [ -n "$url" ] && break
  sleep 0.1
done
served_version() {
  python3 -c 'import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1] + "/v1/model", timeout=5))["version"])' "$url" 2>/dev/null
}
# wait_for VERSION: whether the server serves VERSION within 10 s.
wait_for() {
  for _ in $(seq 1 100); do
    [ "$(served_version)" = "$1" ] && return 0
    sleep 0.1
  done
  return 1
}
if [ -z "$url" ]; then
  bad "immutable server: did not start: $(cat "$WORK/serve.err")"
else
  before=$(served_version)
  [ "$before" = 2 ] && ok || bad "immutable server: serves version '$before' at the start, expected 2"
  "$BIN/recommend" train --interactions "$SAMPLE/ecommerce/interactions.csv" --iterations 3 \
    --store "$WORK/shared/store.sqlite" >/dev/null 2>&1
  wait_for 3 && ok || bad "immutable server: version 3, trained by the owner, not served within 10 s (serves '$(served_version)')"
  "$BIN/recommend" models rollback --store "$WORK/shared/store.sqlite" >/dev/null 2>&1
  wait_for 2 && ok || bad "immutable server: the rollback to version 2 not served within 10 s (serves '$(served_version)')"
  pid=${SERVERS[-1]}
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  SERVERS=()
  [ "$rc" -eq 0 ] && ok || bad "immutable server: exit $rc after SIGTERM"
  grep -q -i "error" "$WORK/serve.err" && bad "immutable server: logged an error: $(grep -i error "$WORK/serve.err" | head -n 3)" || ok
  left=$(ls "$WORK/shared" | grep -v '^store.sqlite$')
  [ -z "$left" ] && ok || bad "immutable server: files left beside the store: $left"
fi

echo "store-limits: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
