#!/usr/bin/env bash
# The whole test suite: installs missing system packages, builds, runs every test, and checks formatting.
# Usage: Scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/bootstrap.sh
echo "== build"
swift build --build-tests
echo "== test"
swift test --skip-build
echo "== format"
swift format lint --strict --recursive Package.swift Sources Tests Benchmarks/Sources
echo "== all checks passed"
