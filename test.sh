#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite: layering contracts, lint, types, pytest.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
export QT_QPA_PLATFORM=offscreen
echo "== import-linter"; .venv/bin/lint-imports
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy vferrors encryption videofeedback annotations clips
# On every core (pytest-xdist), a test file's tests together and in order; give -n 0 to run
# in this process. The quick tier: ./test.sh -m "not slow".
echo "== pytest"; exec .venv/bin/python -m pytest -n auto --dist loadfile "$@"
