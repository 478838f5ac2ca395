#!/usr/bin/env bash
# Sets everything up, then runs videofeedback (by default: the demo).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
if [ $# -eq 0 ]; then set -- demo; fi
exec .venv/bin/videofeedback "$@"
