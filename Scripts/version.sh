#!/usr/bin/env bash
# Prints CommerceML's version, as the tools' --version gives it (CommerceMLVersion.current), without building them.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^ *public static let current = "\([^"]*\)".*/\1/p' Sources/Storage/ModelVersion.swift)
[ -n "$version" ] || { echo "version: none found in Sources/Storage/ModelVersion.swift" >&2; exit 1; }
echo "$version"
