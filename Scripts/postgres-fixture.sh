# Sourced by the scripts that need a PostgreSQL server: installs Debian's postgresql when missing, starts a throwaway
# server (its own data directory, listening only on a Unix socket in a temporary directory) and sets PGURL to a
# CommerceML store URL on it. The server is stopped and its files removed when the script exits, whatever happens.
# A script that sets its own EXIT trap calls pg_fixture_stop from it.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
  echo "== installing PostgreSQL (Debian's postgresql package)"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
PG_WORK=$(mktemp -d /tmp/commerceml-pg.XXXXXX)
# initdb and the server refuse to run as root: as root they run as Debian's postgres user.
pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" -eq 0 ] && chown postgres "$PG_WORK"
pg_fixture_stop() {
  if [ -n "${PG_WORK:-}" ] && [ -f "$PG_WORK/data/postmaster.pid" ]; then
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_WORK/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "${PG_WORK:-}" ] && rm -rf "$PG_WORK"
  PG_WORK=""
}
trap pg_fixture_stop EXIT
pg_as_owner "$PG_BIN/initdb" -D "$PG_WORK/data" -U postgres --auth=trust -E UTF8 --no-locale >"$PG_WORK/initdb.log" 2>&1 ||
  { cat "$PG_WORK/initdb.log" >&2; exit 1; }
pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_WORK/data" -l "$PG_WORK/server.log" -w \
  -o "-c listen_addresses='' -c unix_socket_directories='$PG_WORK' -p 5432 -c max_connections=200" start >/dev/null ||
  { cat "$PG_WORK/server.log" >&2; exit 1; }
"$PG_BIN/createdb" -h "$PG_WORK" -U postgres commerceml
PGURL="postgresql://postgres@/commerceml?host=$PG_WORK"
echo "PostgreSQL $("$PG_BIN/postgres" --version | grep -oE '[0-9]+\.[0-9]+') on $PG_WORK/.s.PGSQL.5432"
