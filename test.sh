#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite: layering contracts, lint, types, pytest.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
export QT_QPA_PLATFORM=offscreen
echo "== import-linter"; .venv/bin/lint-imports
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy vferrors encryption videofeedback annotations clips ui
# pytest on one worker more than there are cores (pytest-xdist; a test file's tests together
# and in order: the extra worker fills the time tests wait on ffmpeg, the store and Qt), then the
# tests that record or wait in real time, one at a time (tests/conftest.py, REALTIME).
# The quick tier: ./test.sh -m "not slow" (every real-time test is in the slow tier, so its
# real-time phase selects nothing: exit 5, "no test selected", is not a failure).
# The files are spread heavy ones first, the longest in parts (tests/scheduling.py).
# The run's read-only test templates (the demo library tests copy), built once for both phases.
VIDEOFEEDBACK_TEST_SHARED="$(mktemp -d "${TMPDIR:-/tmp}/videofeedback-tests-shared-XXXXXX")"
export VIDEOFEEDBACK_TEST_SHARED
trap 'rm -rf "$VIDEOFEEDBACK_TEST_SHARED"' EXIT
pytest_phase() { .venv/bin/python -m pytest "$@" || { status=$?; [ "$status" -eq 5 ] || return "$status"; }; }
echo "== pytest"; pytest_phase -n "$(( $(nproc) + 1 ))" --dist loadfile --realtime=skip "$@"
echo "== pytest (real-time tests, one at a time)"; pytest_phase -n 0 --realtime=only "$@"
