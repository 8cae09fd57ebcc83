#!/usr/bin/env bash
# The Slurm path of the class grader (grader/slurm/) on a one-node cluster started here from
# Debian's packages (slurm-wlm, munge): munged, slurmctld and slurmd run in the foreground of this
# script with a slurm.conf of their own in a temporary folder (no GPUs, free ports), no systemd.
# Three students of tests/class (alice, dave, mallory) are graded as an array job of two tasks
# (two students a task) in the no-GPU path, then merged; their verdicts must match the "without
# GPU" column of their expected-verdicts.txt. Everything stops on exit, failure or timeout (15 min).
# Needs root (the daemons, and slurm-wlm installed when missing: grader/ensure-deps.sh slurm);
# skipped otherwise (CI runs as root).
# Prints PASS/FAIL lines and ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
if [ -z "${SLURM_TEST_INNER:-}" ]; then   # the overall time limit
    SLURM_TEST_INNER=1 timeout -k 20 900 bash "$0" "$@"
    rc=$?
    [ $rc = 124 ] && echo "FAIL  the Slurm test finished within 15 minutes" && echo "0 passed, 1 failed"
    exit $rc
fi
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
field() { printf '%s\n' "$1" | build/sm_80/grader/tools/record get "$2"; }

if [ "$(id -u)" != 0 ]; then echo "SKIP  the Slurm test needs root (it starts munged, slurmctld and slurmd as root)"; finish; fi
if ! deps=$(grader/ensure-deps.sh slurm 2>&1); then result FAIL "slurm-wlm and munge installed" "$deps"; finish; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slurm-test.XXXXXX")
chmod 755 "$tmp"
pids=() jobs_submitted=()
cleanup() {
    trap - EXIT TERM INT
    [ ${#jobs_submitted[@]} -gt 0 ] && SLURM_CONF=$tmp/slurm.conf timeout 10 scancel "${jobs_submitted[@]}" 2>/dev/null
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'result FAIL "interrupted"; finish' TERM INT

# ---- the cluster -------------------------------------------------------------------------------------
free_port() {  # a TCP port nobody listens on
    local p
    while :; do
        p=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}
node=$(hostname -s)
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/munge"
chmod 700 "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
socket=$tmp/munge/munge.socket
munged --foreground --force --key-file="$tmp/munge/munge.key" --socket="$socket" --pid-file="$tmp/munge/munged.pid" \
    --log-file="$tmp/munge/munged.log" --seed-file="$tmp/munge/munged.seed" >"$tmp/munged.out" 2>&1 &
pids+=($!)
cat >"$tmp/slurm.conf" <<EOF
ClusterName=kwtest
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
slurmctld -D -i -f "$SLURM_CONF" >"$tmp/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N "$node" -f "$SLURM_CONF" >"$tmp/slurmd.out" 2>&1 &
pids+=($!)
state=''
for _ in $(seq 60); do
    state=$(sinfo -h -N -n "$node" -o '%t' 2>/dev/null | head -n 1)
    case "$state" in idle*|mix*|alloc*) break ;; esac
    sleep 1
done
case "$state" in
    idle*|mix*|alloc*) result PASS "a one-node Slurm cluster is up (node $node, $(nproc) CPUs)" ;;
    *) result FAIL "a one-node Slurm cluster is up" "node state '${state:-none}': $(tail -n 3 "$tmp/slurmctld.log" "$tmp/slurmd.log" "$tmp/munged.out" 2>/dev/null | tr '\n' ' ')"
       finish ;;
esac

# ---- the array job and the merge ----------------------------------------------------------------------
class=$tmp/class out=$tmp/out
mkdir -p "$class"
for n in alice dave mallory; do cp -r "tests/class/$n" "$class/"; done
GRADE_ARGS="--no-gpu --arch sm_80 --time-limit 60" grader/slurm/submit.sh "$class" "$out" --chunk 2 --cpu-only -- --cpus-per-task=1 \
    >"$tmp/submit.out" 2>&1
rc=$?
read -r array merge < <(sed -n 's/^array job \([0-9]*\) .*merge job \([0-9]*\);.*/\1 \2/p' "$tmp/submit.out")
if [ $rc = 0 ] && [ -n "${merge:-}" ]; then
    jobs_submitted=("$array" "$merge")
    result PASS "submit.sh submits the array job and the merge job ($(cat "$tmp/submit.out"))"
else
    result FAIL "submit.sh submits the array job and the merge job" "exit $rc: $(cat "$tmp/submit.out")"; finish
fi
for _ in $(seq 600); do
    [ -z "$(squeue -h -j "$array,$merge" 2>/dev/null)" ] && break
    sleep 1
done
if [ -z "$(squeue -h -j "$array,$merge" 2>/dev/null)" ]; then result PASS "the jobs finished"
else result FAIL "the jobs finished within 10 minutes" "$(squeue 2>&1 | tail -n 5 | tr '\n' ' ')"; finish; fi
jobs_submitted=()

tasks=$(ls "$out"/slurm/kw-grade-"$array"_*.out 2>/dev/null | wc -l)
[ "$tasks" = 2 ] && result PASS "two array tasks ran (two students each at most)" ||
    result FAIL "two array tasks ran" "$tasks task logs in $out/slurm"
merge_log=$out/slurm/kw-grade-merge-$merge.out
if grep -q '^leaderboard: ' "$merge_log" 2>/dev/null && [ -s "$out/leaderboard/leaderboard.md" ]; then
    result PASS "the merge job printed the table and wrote the leaderboard"
else
    result FAIL "the merge job printed the table and wrote the leaderboard" "$(tail -n 5 "$merge_log" 2>/dev/null | tr '\n' ' ')"
fi
for n in alice dave mallory; do
    res=$out/$n.jsonl bad=''
    if [ ! -s "$res" ]; then result FAIL "$n: results written by an array task"; continue; fi
    while read -r ex want _; do
        case "$ex" in ''|'#'*) continue ;; esac
        got=$(field "$(grep -F "\"session\":\"${ex%/*}\",\"exercise\":\"${ex##*/}\"" "$res")" verdict)
        [ "$got" = "$want" ] || bad+=" $ex: expected $want, got ${got:-none};"
    done <"tests/class/$n/expected-verdicts.txt"
    other=$(grep -v '"verdict":"NOT_SUBMITTED"' "$res" | grep -c .)
    listed=$(grep -vc '^#' "tests/class/$n/expected-verdicts.txt")
    [ "$other" = "$listed" ] || bad+=" $other handed-in records, $listed expected;"
    [ -z "$bad" ] && result PASS "$n: verdicts as expected without a GPU" || result FAIL "$n: verdicts" "$bad"
done
finish
