#!/usr/bin/env bash
# Opens the three SampleData reports (Scripts/sample-reports.sh) in headless Chromium and checks them with
# Scripts/tests/report_browser.py: no console error, no network request, every chart's SVG sized and drawing its
# series. Installs Chromium (Debian's package) and websocket-client (PyPI, in a venv this script makes) when
# missing. With SHOTS_DIR, writes the screenshots there (docs/ for the README: Scripts/report-browser-test.sh BIN docs).
# Usage: Scripts/report-browser-test.sh BIN_DIR [SHOTS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1
SHOTS=${2:-}
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "report-browser: installing chromium" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
VENV=.build/venv-report-browser
if ! "$VENV/bin/python" -c "import websocket" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q websocket-client
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
bash Scripts/sample-reports.sh "$BIN" "$WORK" | tee "$WORK/charts.txt"
specs=()
while read -r _ name count; do
  shot="$WORK/$name.png"
  height=16000
  if [ -n "$SHOTS" ]; then
    mkdir -p "$SHOTS"
    shot="$SHOTS/$name.png"
    height=2400
  fi
  specs+=("$WORK/$name.html:$count:$shot:$height")
done <"$WORK/charts.txt"
"$VENV/bin/python" Scripts/tests/report_browser.py chromium "${specs[@]}"
