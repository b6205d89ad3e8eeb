#!/usr/bin/env bash
# Installs SkinSeg into .venv (the first run takes a few minutes) and starts the desktop app on the bundled model.
#   bash start.sh [PHOTO_OR_FOLDER]        opens the app, optionally on a photo or a folder of photos
# The command line tool is .venv/bin/skinseg (see README).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")" && pwd)
bash "$ROOT/scripts/setup-venv.sh"
exec "$ROOT/.venv/bin/skinseg-app" "$@"
