#!/usr/bin/env bash
# Installs SkinSeg into .venv (first run only) and starts it.
# Until the desktop app lands, this segments the photos or folders you name with the bundled model:
#   bash start.sh PHOTO_OR_FOLDER... [--out DIR]      (masks go to ./skinseg-masks unless --out is given)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")" && pwd)
bash "$ROOT/scripts/setup-venv.sh"
out_given=no
for arg in "$@"; do [ "$arg" = "--out" ] && out_given=yes; done
if [ "$#" -eq 0 ]; then
  exec "$ROOT/.venv/bin/skinseg" --help
elif [ "$out_given" = yes ]; then
  exec "$ROOT/.venv/bin/skinseg" predict "$@"
else
  exec "$ROOT/.venv/bin/skinseg" predict "$@" --out skinseg-masks
fi
