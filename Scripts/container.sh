#!/usr/bin/env bash
# The container image commerceml:VERSION, built and tested with podman on this machine.
#
# Usage:
#   Scripts/container.sh build   release executables (the Swift standard library and Foundation linked statically)
#                                in an image holding them, the system libraries they load (OpenBLAS with its LAPACK,
#                                SQLite, the C and C++ runtimes) and nothing else: no shell, no package manager, no
#                                toolchain. The libraries come from a Debian root file system made with debootstrap
#                                --variant=minbase from the mirror apt uses; the image is imported with podman import.
#   Scripts/container.sh test    the image as a user runs it: the SampleData demo of the three apps, each command in
#                                its own container with a read-only root file system, then each server from the
#                                host (ready within 2 s, answering, stopped by SIGTERM with exit 0).
#
# Installs podman, runc and debootstrap when they are missing (apt-get; needs root, or sudo). Podman runs with runc
# (crun refuses this machine's hybrid cgroups) and no default ulimits, through the containers.conf it writes to
# .build-container/. COMMERCEML_IMAGE names another tag. The last figures go to .build-container/figures.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
WORK=$REPO/.build-container
VERSION=$(bash Scripts/version.sh)
IMAGE=${COMMERCEML_IMAGE:-commerceml:$VERSION}
APP_UID=10001
SUITE=bookworm
# The packages whose libraries the executables load (libopenblas0-pthread brings libgfortran5 and libquadmath0).
PACKAGES=libopenblas0-pthread,libsqlite3-0
# The goal for the image's size, which the test holds it under (37 MB of it are OpenBLAS, with kernels for
# every x86-64 processor; ICU's data, 34 MB in Foundation's static library, is linked trimmed to 5 MB: icu_data).
SIZE_GOAL=120000000
# Release, the Swift standard library and Foundation linked statically, and only the symbols the dynamic loader
# needs exported (the static standard library's link arguments export the 50,000 of every module: 5 MB).
SWIFT_FLAGS=(-c release --static-swift-stdlib --scratch-path "$WORK/swift" -Xlinker --no-export-dynamic)

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 64
}
[ $# -eq 1 ] || usage
case $1 in build | test) ;; *) usage ;; esac

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || {
    echo "container: needs root for apt-get, debootstrap and podman; run as root" >&2
    exit 1
  }
  exec sudo -E env "PATH=$PATH" bash "$0" "$@"
fi

install_tools() {
  local missing=()
  for p in podman runc debootstrap containernetworking-plugins iptables curl binutils python3; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "container: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
      echo "container: apt-get could not install ${missing[*]}" >&2
      exit 1
    }
  fi
}

configure_podman() {
  mkdir -p "$WORK"
  cat >"$WORK/containers.conf" <<'EOF'
# Written by Scripts/container.sh: runc (crun refuses hybrid cgroups) and no default ulimits (refused here).
[containers]
default_ulimits = []

[engine]
runtime = "runc"
EOF
  export CONTAINERS_CONF=$WORK/containers.conf
}

# The mirror apt uses (the first deb URI of the main suite), else Debian's.
debian_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) {print $i; exit}}' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# A Debian minbase root file system with the libraries' packages, made once and kept while its recipe holds.
base_rootfs() {
  local base=$WORK/base mirror recipe
  mirror=$(debian_mirror)
  recipe="$SUITE $mirror $PACKAGES"
  if [ -f "$WORK/base.recipe" ] && [ "$(cat "$WORK/base.recipe")" = "$recipe" ] && [ -x "$base/usr/bin/ldd" ]; then
    return 0
  fi
  echo "== debootstrap --variant=minbase $SUITE from $mirror (with $PACKAGES)"
  rm -rf "$base" "$WORK/base.recipe"
  if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$base" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 20 "$WORK/debootstrap.log" >&2
    echo "container: debootstrap failed (log: $WORK/debootstrap.log)" >&2
    exit 1
  fi
  echo "$recipe" >"$WORK/base.recipe"
}

# ICU's data for the executable: the toolchain's package (the member of lib_FoundationICU.a that defines
# icudtNN_dat) trimmed by Scripts/container-icu-data.py to the root and English locales and everything not
# per-locale. Sets ICU_SYMBOL and ICU_FILE; the build links it through Sources/ICUDataOverride.
icu_data() {
  local swift_bin lib found member size
  swift_bin=$(readlink -f "$(command -v swift)")
  lib=$(dirname "$(dirname "$swift_bin")")/lib/swift_static/linux/lib_FoundationICU.a
  [ -f "$lib" ] || {
    echo "container: no $lib in the Swift toolchain" >&2
    exit 1
  }
  found=$(nm -A -S --defined-only "$lib" 2>/dev/null | awk '$NF ~ /^icudt[0-9]+_dat$/ && $(NF-1) ~ /^[Rr]$/')
  [ "$(wc -l <<<"$found")" = 1 ] && [ -n "$found" ] || {
    echo "container: $lib does not define exactly one ICU data symbol" >&2
    exit 1
  }
  member=$(cut -d: -f2 <<<"$found")
  ICU_SYMBOL=$(awk '{print $NF}' <<<"$found")
  size=$((16#$(awk '{print $(NF-2)}' <<<"$found")))
  mkdir -p "$WORK/icu"
  (cd "$WORK/icu" && ar p "$lib" "$member" >member.o)
  objcopy -O binary --only-section=.rodata "$WORK/icu/member.o" "$WORK/icu/full.dat"
  [ "$(stat -c %s "$WORK/icu/full.dat")" = "$size" ] || {
    echo "container: $member holds more than $ICU_SYMBOL in .rodata" >&2
    exit 1
  }
  ICU_FILE=$WORK/icu/$ICU_SYMBOL.trimmed
  python3 Scripts/container-icu-data.py "$WORK/icu/full.dat" "$ICU_FILE"
  rm -f "$WORK/icu/member.o" "$WORK/icu/full.dat"
}

build() {
  install_tools
  configure_podman
  echo "== the release executable commerceml (recommend, churn and fraud in one), Swift's libraries linked statically"
  bash Scripts/bootstrap.sh
  icu_data
  SWIFT_FLAGS+=(-Xcc "-DCOMMERCEML_ICU_DATA_FILE=\"$ICU_FILE\"" -Xcc "-DCOMMERCEML_ICU_DATA_SYMBOL=$ICU_SYMBOL")
  # The assembler's .incbin is no dependency the build tracks: assemble it afresh, so the link takes this data.
  rm -f "$WORK"/swift/*/release/ICUDataOverride.build/*.o
  swift build "${SWIFT_FLAGS[@]}" --product commerceml
  local bin linked
  bin=$(swift build "${SWIFT_FLAGS[@]}" --show-bin-path)
  linked=$(nm -S "$bin/commerceml" | awk -v s="$ICU_SYMBOL" '$NF == s {print $2}')
  [ -n "$linked" ] && [ $((16#$linked)) = "$(stat -c %s "$ICU_FILE")" ] || {
    echo "container: the executable's $ICU_SYMBOL is not the trimmed data (${linked:-missing})" >&2
    exit 1
  }
  base_rootfs

  echo "== the image's root file system"
  local base=$WORK/base root=$WORK/rootfs probe=/tmp/commerceml-probe
  rm -rf "$root" "$base$probe"
  mkdir -p "$root"/usr/{bin,lib/x86_64-linux-gnu,lib64,local/bin,share/doc} "$root"/{etc,data,tmp} "$base$probe"
  ln -s usr/bin "$root/bin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"
  install -m 0755 "$bin/commerceml" "$base$probe/commerceml"
  strip --strip-unneeded "$base$probe/commerceml"
  install -m 0755 "$base$probe/commerceml" "$root/usr/local/bin/commerceml"
  for app in recommend churn fraud; do ln -s commerceml "$root/usr/local/bin/$app"; done
  # Every library the executables load, found by the base system's own loader, copied under its soname.
  local libs path real dest
  libs=$(chroot "$base" ldd "$probe/commerceml" | awk '/=>/ {print $3} !/=>/ && $1 ~ /^\// {print $1}' | sort -u)
  if chroot "$base" ldd "$probe/commerceml" | grep -q "not found"; then
    chroot "$base" ldd "$probe/commerceml" >&2
    echo "container: a library the executables need is not in the base system" >&2
    exit 1
  fi
  local owners=()
  for path in $libs; do
    real=$(chroot "$base" readlink -f "$path")
    case $path in
      /lib64/*) dest=/usr/lib64/${path#/lib64/} ;;
      /lib/*) dest=/usr/lib/${path#/lib/} ;;
      *) dest=$path ;;
    esac
    install -D -m 0644 "$base$real" "$root$dest"
    # dpkg knows a file by the path its package installed it under (/lib or /usr/lib, on a merged /usr).
    owners+=("$({ chroot "$base" dpkg -S "$real" 2>/dev/null || chroot "$base" dpkg -S "$path" 2>/dev/null ||
      chroot "$base" dpkg -S "${real/#\/usr\/lib\//\/lib\/}" 2>/dev/null || true; } | head -n 1 | cut -d: -f1)")
  done
  chmod 0755 "$root"/usr/lib64/ld-linux-x86-64.so.2
  # The licenses of the packages the libraries come from.
  local pkg
  for pkg in $(printf '%s\n' "${owners[@]}" | sort -u); do
    [ -n "$pkg" ] && [ -f "$base/usr/share/doc/$pkg/copyright" ] &&
      install -D -m 0644 "$base/usr/share/doc/$pkg/copyright" "$root/usr/share/doc/$pkg/copyright"
  done
  rm -rf "${base:?}$probe"
  printf '/usr/lib/x86_64-linux-gnu\n/usr/lib64\n' >"$root/etc/ld.so.conf"
  ldconfig -r "$root"
  cp "$base/usr/lib/os-release" "$root/usr/lib/os-release"
  ln -s ../usr/lib/os-release "$root/etc/os-release"
  cat >"$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/usr/sbin/nologin
commerceml:x:$APP_UID:$APP_UID:CommerceML:/data:/usr/sbin/nologin
EOF
  cat >"$root/etc/group" <<EOF
root:x:0:
commerceml:x:$APP_UID:
EOF
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  chmod 1777 "$root/tmp"
  chown "$APP_UID:$APP_UID" "$root/data"
  tar --numeric-owner -C "$root" -cf "$WORK/rootfs.tar" .

  echo "== podman import $IMAGE"
  local revision created old
  revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
  git diff --quiet HEAD 2>/dev/null || revision="$revision-modified"
  created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  old=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
  podman import -q \
    --change "USER $APP_UID:$APP_UID" \
    --change "WORKDIR /data" \
    --change "VOLUME /data" \
    --change "ENV PATH=/usr/local/bin:/usr/bin" \
    --change "ENV COMMERCEML_STORE=/data/commerceml.sqlite" \
    --change "EXPOSE 8080" \
    --change 'CMD ["recommend", "--help"]' \
    --change "LABEL org.opencontainers.image.title=CommerceML" \
    --change "LABEL org.opencontainers.image.description=recommend, churn and fraud: machine learning for commerce" \
    --change "LABEL org.opencontainers.image.version=$VERSION" \
    --change "LABEL org.opencontainers.image.revision=$revision" \
    --change "LABEL org.opencontainers.image.source=$(git remote get-url origin 2>/dev/null || echo "$REPO")" \
    --change "LABEL org.opencontainers.image.created=$created" \
    --change "LABEL org.opencontainers.image.base.name=debian:$SUITE (libraries only)" \
    "$WORK/rootfs.tar" "$IMAGE" >/dev/null
  rm -f "$WORK/rootfs.tar"
  local new size
  new=$(podman image inspect --format '{{.Id}}' "$IMAGE")
  if [ -n "$old" ] && [ "$old" != "$new" ]; then podman image rm "$old" >/dev/null 2>&1 || true; fi
  size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
  echo "container: built $IMAGE, $size bytes ($((size / 1000000)) MB; goal <= $((SIZE_GOAL / 1000000)) MB)"
  echo "image_bytes=$size" >"$WORK/figures"
}

test_image() {
  install_tools
  configure_podman
  podman image exists "$IMAGE" || {
    echo "container: no image $IMAGE; run Scripts/container.sh build first" >&2
    exit 1
  }
  passed=0
  containers=()
  ok() {
    echo "ok: $*"
    passed=$((passed + 1))
  }
  fail() {
    echo "container: FAILED: $*" >&2
    exit 1
  }
  dir=$(mktemp -d /var/tmp/commerceml-container.XXXXXX)
  shim=$(mktemp -d /var/tmp/commerceml-container-bin.XXXXXX)
  cleanup() {
    local c
    for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
    rm -rf "$dir" "$shim"
  }
  trap cleanup EXIT
  # The work directory is the containers' volume: the image's user writes there (the demo's reports too).
  mkdir -p "$dir/reports"
  chown "$APP_UID:$APP_UID" "$dir" "$dir/reports"

  echo "== the image"
  local size user env labels files
  size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
  [ "$size" -le "$SIZE_GOAL" ] || fail "the image is $size bytes, above the $SIZE_GOAL-byte goal"
  ok "size $size bytes (goal <= $SIZE_GOAL)"
  user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
  [ "$user" = "$APP_UID:$APP_UID" ] || fail "the image runs as '$user', not $APP_UID"
  ok "runs as user $user, not root"
  env=$(podman image inspect --format '{{range .Config.Env}}{{.}} {{end}}' "$IMAGE")
  case " $env " in *" COMMERCEML_STORE=/data/commerceml.sqlite "*) ;; *) fail "COMMERCEML_STORE is not /data/commerceml.sqlite: $env" ;; esac
  [ "$(podman image inspect --format '{{range $k, $v := .Config.Volumes}}{{$k}}{{end}}' "$IMAGE")" = /data ] ||
    fail "the image declares no /data volume"
  ok "the store defaults to the volume /data"
  labels=$(podman image inspect --format '{{index .Labels "org.opencontainers.image.version"}} {{index .Labels "org.opencontainers.image.revision"}}' "$IMAGE")
  [ "${labels%% *}" = "$VERSION" ] && [ -n "${labels#* }" ] || fail "labels: '$labels'"
  ok "labels version $VERSION, revision ${labels#* }"
  local probe
  probe=$(podman create "$IMAGE")
  containers+=("$probe")
  files=$(podman export "$probe" | tar -t)
  podman rm "$probe" >/dev/null
  if grep -qE '(^|/)(bin/(sh|bash|dash|apt|apt-get|dpkg|gcc|cc|ld|swift[^/]*|python3?|perl))$|\.a$|/include/|/libswift' <<<"$files"; then
    grep -E '(^|/)(bin/(sh|bash|dash|apt|apt-get|dpkg|gcc|cc|ld|swift[^/]*|python3?|perl))$|\.a$|/include/|/libswift' <<<"$files" >&2
    fail "the image holds a shell, a package manager or a piece of a toolchain"
  fi
  ok "no shell, package manager or toolchain among its $(wc -l <<<"$files") paths"
  local app out
  for app in recommend churn fraud; do
    out=$(podman run --rm --read-only --network none "$IMAGE" "$app" --version)
    [ "$out" = "CommerceML $VERSION" ] || fail "$app --version printed '$out'"
  done
  ok "each of recommend, churn and fraud is an entry point (--version: CommerceML $VERSION)"

  echo "== the SampleData demo, each command in its own container (read-only root, the work directory a volume)"
  # Each command runs in the caller's directory (the repository, or a directory under the work volume), so that
  # relative paths mean inside what they mean outside.
  for app in recommend churn fraud; do
    cat >"$shim/$app" <<EOF
#!/usr/bin/env bash
exec podman run --rm -i --read-only --network none -v "$REPO/SampleData:$REPO/SampleData:ro" -v "$dir:$dir" \\
  -w "\$PWD" -e COMMERCEML_STORE "$IMAGE" $app "\$@"
EOF
    chmod +x "$shim/$app"
  done
  bash Scripts/demo-run.sh "$shim" "$dir" >"$dir/demo.log" 2>&1 || {
    tail -n 30 "$dir/demo.log" >&2
    fail "the demo failed inside the container"
  }
  grep -q "demo finished" "$dir/demo.log" || fail "the demo did not finish"
  [ "$(stat -c %u "$dir/commerceml.sqlite")" = "$APP_UID" ] || fail "the store was not written by user $APP_UID"
  for f in churn-report recommend-report fraud-report; do
    [ -s "$dir/reports/$f.html" ] || fail "the demo wrote no $f.html"
  done
  ok "the demo of the three apps ran inside the image ($(grep -c '^\$ ' "$dir/demo.log") commands; store and reports written by $APP_UID)"
  # ICU's data in the image holds the root and English locales only: other locales fall back to root, and
  # nothing the tools print depends on the locale or the time zone.
  local plain localized loc
  plain=$(for app in recommend churn fraud; do
    podman run --rm --read-only --network none -v "$dir:/data" "$IMAGE" $app models list
  done)
  for loc in de_DE.UTF-8 ja_JP.UTF-8 ar_EG.UTF-8; do
    localized=$(for app in recommend churn fraud; do
      podman run --rm --read-only --network none -v "$dir:/data" -e LANG=$loc -e LC_ALL=$loc -e TZ=Asia/Tokyo \
        "$IMAGE" $app models list
    done)
    [ "$localized" = "$plain" ] || fail "models list under LANG=$loc differs: $localized"
  done
  ok "the same models lists under LANG=de_DE, ja_JP and ar_EG (TZ=Asia/Tokyo) as without (trimmed ICU data)"

  echo "== the servers, from the host"
  local py
  py=$(bash Scripts/kubernetes-venv.sh)
  serve() { # APP: starts the server as its Deployment in deploy/kubernetes runs it, on the demo's store (the
    # volume at /data), and waits until it is ready (within the 2 s goal)
    local app=$1 start cid port t status cmd
    mapfile -t cmd < <("$py" Scripts/tests/kubernetes_manifests.py command "$app")
    [ "${cmd[0]}" = "$app" ] || fail "the $app Deployment runs '${cmd[*]}'"
    start=$(date +%s%N)
    cid=$(podman run -d --read-only -v "$dir:/data" -p 127.0.0.1::8080 "$IMAGE" "${cmd[@]}")
    containers+=("$cid")
    port=$(podman port "$cid" 8080/tcp | head -n 1 | sed 's/.*://')
    for _ in $(seq 1 200); do
      status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)
      [ "$status" = 200 ] && break
      sleep 0.02
    done
    [ "$status" = 200 ] || {
      podman logs "$cid" >&2
      fail "$app serve was not ready within 4 s"
    }
    t=$((($(date +%s%N) - start) / 1000000))
    t=$((t / 1000)).$(printf '%03d' $((t % 1000)))
    awk -v t="$t" 'BEGIN {exit !(t <= 2.0)}' || fail "$app serve took $t s to be ready (goal 2 s)"
    SERVE_CID=$cid
    SERVE_PORT=$port
    SERVE_READY=$t
  }
  terminate() { # APP: SIGTERM, which must end the server with exit 0
    local code
    podman stop -t 30 "$SERVE_CID" >/dev/null
    code=$(podman inspect --format '{{.State.ExitCode}}' "$SERVE_CID")
    [ "$code" = 0 ] || {
      podman logs "$SERVE_CID" >&2
      fail "$1 serve exited $code after SIGTERM"
    }
    podman rm "$SERVE_CID" >/dev/null
  }
  stop() { # APP: its peak memory, then terminate
    local app=$1 pid hwm
    pid=$(podman inspect --format '{{.State.Pid}}' "$SERVE_CID")
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
    terminate "$app"
    echo "${app}_serve_peak_rss_kib=$hwm" >>"$WORK/figures"
    echo "${app}_serve_ready_seconds=$SERVE_READY" >>"$WORK/figures"
    ok "$app serve: ready in $SERVE_READY s, answered, exit 0 on SIGTERM, peak RSS $((hwm / 1024)) MiB"
  }
  sed -i '/_peak_rss_kib=/d; /_ready_seconds=/d' "$WORK/figures" 2>/dev/null || true

  serve recommend
  local body cli
  body=$(curl -fsS "http://127.0.0.1:$SERVE_PORT/v1/users/U-0001/recommendations?n=5")
  cli=$("$shim/recommend" U-0001 -n 5 --format json --store "$dir/commerceml.sqlite")
  python3 -c 'import json, sys; a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2]); sys.exit(a != b)' \
    "$body" "$cli" || fail "the route and the command line disagree: $body / $cli"
  stop recommend

  serve churn
  body=$(curl -fsS -H 'Content-Type: text/csv' --data-binary @<(head -n 3 SampleData/churn/customers_new.csv) \
    "http://127.0.0.1:$SERVE_PORT/v1/score")
  python3 - "$body" "$dir/scores.csv" <<'EOF' || fail "churn serve's scores differ from churn score's: $body"
import csv, json, sys
body = json.loads(sys.argv[1])
rows = list(csv.DictReader(open(sys.argv[2])))[:2]
assert len(body["predictions"]) == 2, body
for p, r in zip(body["predictions"], rows):
    assert abs(p["probability"] - float(r["churn_probability"])) < 1e-6, (p, r)
EOF
  stop churn

  local transaction='{"transaction_id":"container-1","timestamp":"2026-01-29 00:04:09","card":"C299","merchant":"M49","amount":12.5}'
  serve fraud
  body=$(curl -fsS -X POST "http://127.0.0.1:$SERVE_PORT/v1/transactions" -d "$transaction")
  python3 -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(not (d["transaction_id"] == "container-1" and d["decision"] in ("approve", "review", "decline") and d["model_version"] >= 1))' \
    "$body" || fail "fraud serve answered: $body"
  stop fraud
  # The state it checkpointed on SIGTERM is what a restart resumes from.
  serve fraud
  body=$(curl -fsS -X POST "http://127.0.0.1:$SERVE_PORT/v1/transactions" -d "$transaction" -D -)
  grep -qi '^x-replayed: true' <<<"$body" || fail "after a restart, fraud serve did not remember container-1: $body"
  grep -q '"container-1"' "$dir/fraud-decisions.jsonl" || fail "no decision log line for container-1"
  terminate fraud
  ok "fraud serve resumed from its SIGTERM checkpoint in the volume (a retried transaction replayed, the decision log kept)"

  echo "== the CronJobs of deploy/kubernetes, as they run there"
  local job cmd host rows peak bin
  bin=$(swift build "${SWIFT_FLAGS[@]}" --show-bin-path)
  install -o "$APP_UID" -g "$APP_UID" -m 0644 SampleData/churn/customers_new.csv "$dir/customers.csv"
  for job in recommend-batch churn-score; do
    mapfile -t cmd < <("$py" Scripts/tests/kubernetes_manifests.py command "$job")
    podman run --rm --read-only --network none -v "$dir:/data" "$IMAGE" "${cmd[@]}" >"$dir/$job.log" 2>&1 || {
      cat "$dir/$job.log" >&2
      fail "the $job CronJob's command failed: ${cmd[*]}"
    }
    case $job in
      churn-score)
        rows=$(($(wc -l <"$dir/churn-scores.csv") - 1))
        [ "$rows" -eq $(($(wc -l <"$dir/customers.csv") - 1)) ] || fail "churn-scores.csv has $rows rows"
        ;;
      recommend-batch)
        [ "$(head -n 1 "$dir/recommendations.csv" | cut -d, -f1)" = user_id ] || fail "recommendations.csv's header"
        rows=$(($(wc -l <"$dir/recommendations.csv") - 1))
        [ "$rows" -gt 0 ] || fail "recommendations.csv is empty"
        ;;
    esac
    # Its peak memory: the same executable on the same store and files, under GNU time on the host.
    host=("${cmd[@]//\/data\//$dir/}")
    peak=$(/usr/bin/time -f %M "$bin/commerceml" "${host[@]}" --store "$dir/commerceml.sqlite" \
      2>&1 >/dev/null | tail -n 1)
    echo "${job}_peak_rss_kib=$peak" >>"$WORK/figures"
    ok "$job: ${cmd[*]} wrote $rows rows to the volume (peak RSS $((peak / 1024)) MiB)"
  done

  echo "container: $passed passed"
}

case $1 in
  build) build ;;
  test) test_image ;;
esac
