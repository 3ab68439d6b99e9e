#!/usr/bin/env bash
# The static checks CI runs before the tests: formatting, lint, type check, in that order, with
# the pinned Deno (or $DENO). The first that fails ends the run non-zero, and the last line is
# then `0 passed, 1 failed`, the summary line the test command ends with, so CI's log reads alike.
set -uo pipefail
deno="${DENO:-./node_modules/.bin/deno}"
for step in "fmt --check" "lint" "task check"; do
  echo "[ci] deno $step"
  # shellcheck disable=SC2086
  if ! "$deno" $step; then
    echo "[ci] deno $step failed"
    echo "0 passed, 1 failed"
    exit 1
  fi
done
