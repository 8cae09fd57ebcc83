#!/usr/bin/env bash
# The class that hands in Python (tests/class-python), graded without a GPU: the verdicts the
# Python policy gives (DISQUALIFIED, COMPILE_ERROR) and NO_GPU for the rest.
exec bash "$(dirname "$0")/grade-test.sh" tests/class-python
