#!/usr/bin/env bash
# Installs SkinSeg and its test tools into .venv (first run only takes a few minutes) and runs the whole test suite.
# Extra arguments go to pytest, e.g. `bash test.sh tests/core -k checkpoint`.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup-venv.sh
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
exec .venv/bin/python -m pytest "$@"
