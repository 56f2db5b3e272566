#!/usr/bin/env bash
# Installs what is missing, builds the release executables, and runs each app on SampleData/.
# Usage: Scripts/demo.sh   (the demo's model store goes to a temporary directory, removed at the end; the three
# reports, with the models they describe, to ./reports)
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/bootstrap.sh
echo "== building release executables (a clean build takes a few minutes)"
swift build -c release
exec bash Scripts/demo-run.sh "$(swift build -c release --show-bin-path)"
