#!/usr/bin/env bash
# The hostile class (tests/hostile) graded without a GPU; `tests/hostile-test.sh --gpu` with one.
exec bash "$(dirname "$0")/grade-test.sh" "$@" tests/hostile
