#!/usr/bin/env bash
# The test passes of `make test`, run by the Makefile after lint and types:
#   1. every test on the default SQLite database (browser tests included);
#   2. when CITYEVAL_TEST_DATABASE_URL names a PostgreSQL database, the web tests again on it
#      (browser tests left out).
# The two passes share nothing (each has its own database, temporary folders and free ports),
# so they run side by side: together they take about as long as the longer one instead of the
# sum. Pass 2 writes to test-artifacts/postgres-pass.log, printed whole when it ends.
# CITYEVAL_TEST_SERIAL=1 runs them one after the other, with both outputs live.
# Extra arguments are given to both pytest runs (e.g. `-x`, `-k name`).
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON=${CITYEVAL_TEST_PYTHON:-.venv/bin/python}
LOG=test-artifacts/postgres-pass.log
say() { printf 'make test: %s\n' "$*"; }

sqlite_pass() {
  say "pass 1: all tests on the default SQLite database"
  local start=$SECONDS rc
  env -u DATABASE_URL "$PYTHON" -m pytest "$@"
  rc=$?
  [ $rc -eq 5 ] && say "pytest collected no tests: that is a failure"
  say "SQLite pass: exit $rc after $((SECONDS - start))s"
  return $rc
}

postgres_pass() {
  say "pass 2: tests/web on PostgreSQL (CITYEVAL_TEST_DATABASE_URL), browser tests left out"
  local start=$SECONDS rc
  DATABASE_URL="$CITYEVAL_TEST_DATABASE_URL" "$PYTHON" -m pytest tests/web -m "not browser" "$@"
  rc=$?
  [ $rc -eq 5 ] && say "the PostgreSQL pass collected no tests: that is a failure"
  say "PostgreSQL pass: exit $rc after $((SECONDS - start))s"
  return $rc
}

if [ -z "${CITYEVAL_TEST_DATABASE_URL:-}" ]; then
  sqlite_pass "$@"
  rc=$?
  say "SKIPPED: PostgreSQL pass (set CITYEVAL_TEST_DATABASE_URL or run .ci/run)"
  exit $rc
fi

case "${CITYEVAL_TEST_SERIAL:-}" in
  1 | true | yes | on)
    sqlite_pass "$@"
    rc1=$?
    postgres_pass "$@"
    rc2=$?
    exit $((rc1 != 0 || rc2 != 0))
    ;;
esac

mkdir -p "$(dirname "$LOG")"
start=$SECONDS
say "the PostgreSQL pass runs alongside, into $LOG (printed when it ends)"
# Its own process group, so an interrupted `make test` stops it too.
set -m
postgres_pass "$@" >"$LOG" 2>&1 &
pg_pid=$!
set +m
trap 'kill -- -"$pg_pid" 2>/dev/null; exit 130' INT TERM
sqlite_pass "$@"
rc1=$?
if kill -0 "$pg_pid" 2>/dev/null; then say "waiting for the PostgreSQL pass"; fi
wait "$pg_pid"
rc2=$?
trap - INT TERM
say "the PostgreSQL pass's output ($LOG):"
cat "$LOG"
say "both passes: SQLite exit $rc1, PostgreSQL exit $rc2, $((SECONDS - start))s in all"
exit $((rc1 != 0 || rc2 != 0))
