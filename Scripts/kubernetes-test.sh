#!/usr/bin/env bash
# Validates deploy/kubernetes/ (Scripts/tests/kubernetes_manifests.py): the Kubernetes schemas, strict, at 1.30 and
# the newest kubernetes-validate knows; the image tag, user, probes, ports, grace period, volumes and Secret; each
# memory request against the peak measured in the container when FIGURES (Scripts/container.sh's) is given.
# Usage: Scripts/kubernetes-test.sh [FIGURES]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(bash Scripts/kubernetes-venv.sh)
"$PY" Scripts/tests/kubernetes_manifests.py check "$(bash Scripts/version.sh)" "$@"
