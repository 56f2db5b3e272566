#!/usr/bin/env bash
# Prints the python of a virtual environment holding kubernetes-validate (PyPI; it carries the Kubernetes JSON
# schemas, so validation needs no network) and PyYAML, made on first use under .build/.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.build/venv-kubernetes
if ! "$VENV/bin/python" -c "import kubernetes_validate, yaml" >/dev/null 2>&1; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q "kubernetes-validate==1.37.0" pyyaml >&2
fi
echo "$PWD/$VENV/bin/python"
