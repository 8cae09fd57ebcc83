#!/usr/bin/env bash
# Before `make mini-gpu` runs the model on a student's kernels: one line for each kernel the
# engine uses (session 12's 01_gemv_bf16, session 14's 01-04) whose latest `make check` did not
# pass, so that a wrong text is blamed on the right file. It warns and never stops the run: the
# point of the engine is to see your kernels at work, finished or not.
#   engine-kernels.sh PROGRESS_TOOL HISTORY.jsonl
set -u
tool=$1 history=$2
cd "$(dirname "$0")/.." || exit 0
[ -x "$tool" ] || exit 0
if [ ! -s "$history" ]; then
    echo "mini-gpu: no make check has run yet: the model runs on kernels nobody has checked (make check SESSIONS=\"serving/12-serving finale/14-deepseek\")"
    exit 0
fi
"$tool" "$history" . serving/12-serving finale/14-deepseek 2>/dev/null | awk '
    /^[a-z]+\/[0-9][0-9]-/ { session = $1; next }
    session == "serving/12-serving" && $1 != "01_gemv_bf16" { next }
    session != "serving/12-serving" && session != "finale/14-deepseek" { next }
    session == "finale/14-deepseek" && $1 !~ /^0[1-4]_/ { next }   # 05 (several GPUs) is not in the engine
    $1 ~ /^0[0-9]_/ {
        if ($2 == "not") printf "mini-gpu: your %s/%s.cu has not been through make check yet\n", session, $1
        else if ($2 != "PASS") printf "mini-gpu: your %s/%s.cu failed its last make check (%s): expect a wrong text from it\n", session, $1, $2
    }'
exit 0
