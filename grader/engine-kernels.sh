#!/usr/bin/env bash
# Before `make mini-gpu` runs the model on a student's kernels: one line for each kernel the
# engine uses (the Makefile's ENGINE_EXERCISES, SESSION/NN_name) whose latest `make check` did not
# pass, so that a wrong text is blamed on the right file. It warns and never stops the run: the
# point of the engine is to see your kernels at work, finished or not.
#   engine-kernels.sh PROGRESS_TOOL HISTORY.jsonl SESSION/EXERCISE...
set -u
tool=$1 history=$2
shift 2
cd "$(dirname "$0")/.." || exit 0
[ -x "$tool" ] || exit 0
sessions=$(for e in "$@"; do echo "${e%/*}"; done | sort -u)
if [ ! -s "$history" ]; then
    echo "mini-gpu: no make check has run yet: the model runs on kernels nobody has checked (make check SESSIONS=\"$(echo $sessions)\")"
    exit 0
fi
# shellcheck disable=SC2086
"$tool" "$history" . $sessions 2>/dev/null | awk -v engine=" $* " '
    /^[a-z]+\/[0-9][0-9]-/ { session = $1; next }
    index(engine, " " session "/" $1 " ") == 0 { next }
    {
        if ($2 == "not") printf "mini-gpu: your %s/%s.cu has not been through make check yet\n", session, $1
        else if ($2 != "PASS") printf "mini-gpu: your %s/%s.cu failed its last make check (%s): expect a wrong text from it\n", session, $1, $2
    }'
exit 0
