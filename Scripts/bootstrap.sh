#!/usr/bin/env bash
# Installs the system packages CommerceML builds against (OpenBLAS with its LAPACK, SQLite headers) when they
# are missing. Idempotent: does nothing when everything is there. Needs root (or sudo) for apt-get.
set -euo pipefail
needed=(libopenblas-dev libsqlite3-dev pkg-config)
missing=()
for p in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "bootstrap: installing ${missing[*]}" >&2
if ! command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap: apt-get not found; install these packages with your system's package manager: ${missing[*]}" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "bootstrap: need root to install ${missing[*]}; run as root or install them yourself" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq || ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "bootstrap: apt-get could not install ${missing[*]} (no network or no package source?)" >&2
  exit 1
fi
