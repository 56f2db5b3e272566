#!/usr/bin/env bash
# Registering and loading one version (MIB MiB in 4 parts, best of 3) through the PostgreSQL registry against the
# SQLite store, on a throwaway server from Debian's packages (Scripts/postgres-fixture.sh, Unix socket). Prints both
# and the ratios; then the active version loaded again by a fresh process (best of 5), as a server starting does.
# Usage: Scripts/bench/postgres_store.sh [MIB]   (default 256; builds the helper in release)
set -euo pipefail
cd "$(dirname "$0")/../.."
mib=${1:-256}
swift build -c release --product store-test-helper >/dev/null
helper=.build/release/store-test-helper
source Scripts/postgres-fixture.sh
work=$(mktemp -d)
trap 'rm -rf "$work"; pg_fixture_stop' EXIT
read -r _ sreg _ sload < <("$helper" register-load "$work/bench.sqlite" bench "$mib")
read -r _ preg _ pload < <("$helper" register-load "$PGURL&schema=bench" bench "$mib")
echo "version of $mib MiB in 4 parts, best of 3"
echo "SQLite:     register $sreg s, load $sload s"
echo "PostgreSQL: register $preg s, load $pload s"
echo "ratio PostgreSQL/SQLite: register $(echo "scale=2; $preg / $sreg" | bc), load $(echo "scale=2; $pload / $sload" | bc)"
read -r _ sagain < <("$helper" load "$work/bench.sqlite" bench 5)
read -r _ pagain < <("$helper" load "$PGURL&schema=bench" bench 5)
echo "load by a fresh process, best of 5: SQLite $sagain s, PostgreSQL $pagain s, ratio $(echo "scale=2; $pagain / $sagain" | bc)"
