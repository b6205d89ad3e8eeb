#!/usr/bin/env bash
# Creates .venv beside the checkout and installs SkinSeg into it (editable, with the dev tools).
# Re-running is cheap: pip only installs what changed. Needs Python 3.10+ and network access to PyPI (install time
# only; SkinSeg itself never uses the network).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
