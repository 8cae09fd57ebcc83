#!/usr/bin/env bash
# make grade: grade a whole class, one results file per student, then the leaderboard.
#
#   grade-class.sh CLASS_DIR OUT_DIR [--sessions "ladder/02-cuda-model ..."] [--students "alice bob"]
#                  [--jobs N] [--time-limit S] [--arch sm_XX] [--no-gpu] [--no-leaderboard]
#   grade-class.sh --report OUT_DIR      the verdict table and the leaderboard of results already
#                                        in OUT_DIR (the merge step of the Slurm array job)
#
# CLASS_DIR holds one folder per student, laid out like the student bundle:
#   CLASS_DIR/alice/ladder/02-cuda-model/02_saxpy_grid_stride.cu ...
# A missing exercise file is NOT_SUBMITTED. Without --sessions, the sessions graded are those in
# which anyone in the class handed in a file. --students grades some of the class (a Slurm task);
# --no-gpu hides the GPU from the runs (the no-GPU path on any machine); --jobs: parallel builds.
# An exercise's timing variants ("NAME+variant" in check --list) get its verdict when it is not run.
#
# For each student and session:
#   1. a scratch copy of the grader and the session's skeletons (nothing else of the workbook: no
#      solutions/, no tests/, no other student) in a fresh folder of its own, random name, mode 700;
#   2. each handed-in file scanned by grader/tools/scan first: a hit is DISQUALIFIED with file:line
#      and the reason, and the file is neither compiled nor run (the skeleton stays in its place);
#   3. the clean files copied over the skeletons and compiled one by one: an error is COMPILE_ERROR
#      with its first lines (the skeleton is put back so that the session's other exercises run);
#   4. each handed-in exercise run by the session's check (--only, --leaderboard: fresh inputs, poisoned
#      outputs and a full check around every timed repetition), one at a time on the GPU (a lock
#      file), in its own process with a time limit (the check's --time-limit, and `timeout` outside
#      it), with an empty environment, as the unprivileged user kwgrader when run as root. The check
#      draws its own secret seed from /dev/urandom and records it in the result. Its verdicts:
#      PASS, WRONG (the check's FAIL), CRASH, TIMEOUT, IMPOSSIBLE (above 100% of the roof), NO-GPU.
#
# Isolation when run as root: the user kwgrader is created if missing (no home, no shell). The
# student's code builds and runs as kwgrader in its scratch folder; the workbook, the class folder
# and OUT_DIR are made unreadable to it (chmod o-rwx, said in one line when it was needed).
# Not run as root, everything runs as the calling user, without that isolation (said in one line).
#
# Output: OUT_DIR/NAME.jsonl per student, records of the schema the check writes with --results
# (kernel-workbook-result/1), so `make leaderboard CLASS=OUT_DIR` reads them; OUT_DIR/logs/NAME/
# the build and check logs; OUT_DIR/leaderboard/ the leaderboard. A verdict table is printed last.
# Exit: 0 when graded (whatever the verdicts), 1 on a failure of the grading itself, 64 on usage.
set -u
umask 077
repo=$(cd "$(dirname "$0")/.." && pwd -P)
grader_user=kwgrader

die() { echo "grade: $*" >&2; exit "${2:-1}"; }
usage() { die "usage: grade-class.sh CLASS_DIR OUT_DIR [--sessions \"...\"] [--students \"...\"] [--jobs N] [--time-limit S] [--arch sm_XX] [--no-gpu] [--no-leaderboard] | --report OUT_DIR" 64; }

# ---- JSON helpers ---------------------------------------------------------------------------------
# A JSON string of printable ASCII: control characters (but newlines and tabs) and other bytes are
# dropped, so that no compiler message can break a record.
json_str() {
    local s
    s=$(printf '%s' "$1" | LC_ALL=C tr -cd '\11\12\40-\176')
    s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/ }; s=${s//$'\n'/\\n}
    printf '"%s"' "$s"
}
# field LINE NAME: the value of a string field of a record (escapes left as they are).
field() { printf '%s' "$1" | sed -n "s/.*\"$2\":\"\\(\\([^\"\\\\]\\|\\\\.\\)*\\)\".*/\\1/p"; }
# The record of a verdict the grader gives itself (no run): same schema as the check's.
record() {  # record FILE SESSION EXERCISE VERDICT MESSAGE
    printf '{"schema":"kernel-workbook-result/1","session":%s,"exercise":%s,"solution":false,"given":false,"verdict":%s,"message":%s,"seed":null,"when":"%s","gpu":"","shapes_checked":0,"shapes_passed":0,"timed":false}\n' \
        "$(json_str "$2")" "$(json_str "$3")" "$(json_str "$4")" "$(json_str "$5")" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$1"
}

# ---- the report: verdict table and leaderboard ----------------------------------------------------
report() {  # report OUT_DIR [with_leaderboard]
    local out=$1 f line name n=0
    local -A count=()
    printf '\n%-16s %-44s %-14s %s\n' student exercise verdict "% peak, or why"
    for f in "$out"/*.jsonl; do
        [ -f "$f" ] || continue
        name=$(basename "$f" .jsonl)
        n=$((n + 1))
        while IFS= read -r line; do
            local v m pct
            v=$(field "$line" verdict)
            pct=$(printf '%s' "$line" | sed -n 's/.*"pct_peak":\([0-9.eE+-]*\).*/\1/p')
            if [ "$v" = PASS ]; then m=${pct:+$pct%}; else m=$(field "$line" message | sed 's/\\n/ | /g; s/\\"/"/g'); fi
            printf '%-16s %-44s %-14s %.90s\n' "$name" "$(field "$line" session)/$(field "$line" exercise)" "$v" "$m"
            count[$v]=$(( ${count[$v]:-0} + 1 ))
        done <"$f"
    done
    [ "$n" -gt 0 ] || { echo "grade: no results (*.jsonl) in $out"; return 1; }
    local summary=''
    for v in $(printf '%s\n' "${!count[@]}" | sort); do summary+=", ${count[$v]} $v"; done
    printf '\n%d students: %s\n' "$n" "${summary#, }"
    [ "${2:-1}" = 1 ] || return 0
    local tool=$repo/build/$arch/grader/tools/leaderboard
    if (umask 022; "$tool" "$out/leaderboard" "$out" >"$out/leaderboard.log" 2>&1); then
        echo "leaderboard: $out/leaderboard/leaderboard.md and leaderboard.html"
    else
        echo "grade: the leaderboard failed; see $out/leaderboard.log"; return 1
    fi
}

# ---- arguments --------------------------------------------------------------------------------------
class='' out='' sessions='' students='' jobs=$(nproc 2>/dev/null || echo 2) limit=120 arch='' no_gpu=0 board=1 report_only=0
positional=()
while [ $# -gt 0 ]; do
    case "$1" in
        --sessions) [ $# -ge 2 ] || usage; sessions=$2; shift 2 ;;
        --students) [ $# -ge 2 ] || usage; students=$2; shift 2 ;;
        --jobs) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
        --time-limit) [ $# -ge 2 ] || usage; limit=$2; shift 2 ;;
        --arch) [ $# -ge 2 ] || usage; arch=$2; shift 2 ;;
        --no-gpu) no_gpu=1; shift ;;
        --no-leaderboard) board=0; shift ;;
        --report) report_only=1; shift ;;
        -h|--help) usage ;;
        -*) echo "grade: unknown option $1" >&2; usage ;;
        *) positional+=("$1"); shift ;;
    esac
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs takes a positive number, got '$jobs'" 64
[[ $limit =~ ^[1-9][0-9]*$ ]] && [ "$limit" -le 3600 ] || die "--time-limit takes 1..3600 seconds, got '$limit'" 64
[ -n "$arch" ] || arch=$(make --no-print-directory -s -C "$repo" print-ARCH)
[[ $arch =~ ^sm_[0-9]+a?$ ]] || die "--arch looks like sm_80 or sm_90a, got '$arch'" 64
tools_needed=("build/$arch/grader/tools/leaderboard")

if [ $report_only = 1 ]; then
    [ ${#positional[@]} = 1 ] || usage
    out=${positional[0]}
    [ -d "$out" ] || die "no results folder $out"
    make --no-print-directory -s -C "$repo" ARCH="$arch" "${tools_needed[@]}" >/dev/null || die "building the leaderboard tool failed"
    report "$out" "$board"; exit $?
fi

[ ${#positional[@]} = 2 ] || usage
class=${positional[0]} out=${positional[1]}
[ -e "$class" ] || die "no class folder $class"
[ -d "$class" ] || die "$class is not a folder (one folder per student expected in it)"
class=$(cd "$class" && pwd -P)
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd -P)
case "$out/" in "$class"/*) die "OUT_DIR must not be inside the class folder" 64 ;; esac

# Students: the folders of the class, or those asked for.
all_students=()
for d in "$class"/*/; do
    [ -d "$d" ] || continue
    n=$(basename "$d")
    if [[ $n =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then all_students+=("$n")
    else echo "grade: skipped the folder '$n': a student's folder name uses letters, digits, '.', '_' and '-'" >&2; fi
done
[ ${#all_students[@]} -gt 0 ] || die "no student folders in $class (expected $class/NAME/ladder/...)"
if [ -n "$students" ]; then
    for n in $students; do [ -d "$class/$n" ] || die "no student '$n' in $class" 64; done
    read -r -a todo <<<"$students"
else
    todo=("${all_students[@]}")
fi

# Sessions: those asked for, or those in which anyone in the class handed in a file.
workbook_sessions=$(make --no-print-directory -s -C "$repo" print-ALL_SESSIONS)
if [ -n "$sessions" ]; then
    for s in $sessions; do
        [ -f "$repo/$s/check.c" ] || die "no session '$s' in the workbook (sessions: $workbook_sessions)" 64
    done
else
    for s in $workbook_sessions; do
        for n in "${all_students[@]}"; do
            if compgen -G "$class/$n/$s/[0-9][0-9]_*.cu" >/dev/null; then sessions+="$s "; break; fi
        done
    done
    [ -n "$sessions" ] || die "nobody in $class handed in an exercise file (expected e.g. $class/NAME/ladder/01-gpu-vs-cpu/02_vector_add.cu)"
fi

command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
NVCC=nvcc "$repo/grader/ensure-deps.sh" build >&2 || exit 1
cuda_bin=$(dirname "$(command -v nvcc)")
echo "grade: ${#todo[@]} students, sessions: $sessions(arch $arch, $limit s per exercise, $jobs builds at a time)"
make --no-print-directory -s -C "$repo" ARCH="$arch" "build/$arch/grader/tools/scan" "${tools_needed[@]}" >"$out/tools.log" 2>&1 ||
    die "building the grader's tools failed; see $out/tools.log"
scan=$repo/build/$arch/grader/tools/scan

# ---- who runs the student's code ----------------------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
    if ! id -u "$grader_user" >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$grader_user" ||
            die "could not create the user $grader_user"
    fi
    as_student() { setpriv --reuid="$grader_user" --regid="$grader_user" --clear-groups --no-new-privs --inh-caps=-all -- "$@"; }
    # The workbook (solutions/, tests/, .git, build/), the class and the results: out of its reach.
    for d in "$repo" "$class" "$out"; do
        if as_student test -x "$d" 2>/dev/null || as_student test -r "$d" 2>/dev/null; then
            chmod o-rwx "$d" && echo "grade: $d was readable by $grader_user: made it unreadable to other users (chmod o-rwx)"
            ! as_student test -x "$d" 2>/dev/null || die "$d is still reachable by $grader_user (an ACL or group?): refusing to grade"
        fi
    done
else
    as_student() { "$@"; }
    echo "grade: not run as root: the students' code runs as $(id -un), without a user and folder of its own"
fi

# ---- the base: grader and skeletons built once, copied for every student and session ---------------
# It lives in OUT_DIR/.base-ARCH, rebuilt when the sources change; a lock lets array tasks share it.
base=$out/.base-$arch
exec {base_lock}>"$out/.base-$arch.lock"
flock "$base_lock"
stamp=$(cd "$repo" && { echo "$arch $sessions"; find Makefile grader $sessions -type f \( -name '*.[ch]' -o -name '*.cu' -o -name '*.cuh' -o -name '*.mk' -o -name Makefile \) | sort | xargs sha256sum; } | sha256sum | cut -c1-16)
if [ "$(cat "$base/stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "grade: building the grader and the skeletons once (logs: $out/base.log)"
    rm -rf "$base"
    mkdir -p "$base/tree"
    cp -a "$repo/Makefile" "$repo/grader" "$base/tree/"
    for s in $sessions; do mkdir -p "$base/tree/$(dirname "$s")"; cp -a "$repo/$s" "$base/tree/$s"; done
    checkers=(); for s in $sessions; do checkers+=("build/$arch/student/$s/check"); done
    make --no-print-directory -C "$base/tree" -j"$jobs" ARCH="$arch" SESSIONS="$sessions" "${checkers[@]}" >"$out/base.log" 2>&1 ||
        die "the skeletons do not build; see $out/base.log"
    # The dependency files name the base's absolute paths; a scratch copy rebuilds by timestamps alone.
    find "$base/tree/build" -name '*.d' -delete
    echo "$stamp" >"$base/stamp"
fi
flock -u "$base_lock"

gpu_lock=${TMPDIR:-/tmp}/kernel-workbook-gpu${CUDA_VISIBLE_DEVICES:+-${CUDA_VISIBLE_DEVICES//,/-}}.lock
work=$(mktemp -d "${TMPDIR:-/tmp}/kwgrade.XXXXXXXX") || die "no temporary folder"
chmod 711 "$work"   # each scratch folder under it is reachable by its name only
cleanup() { jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- one student ---------------------------------------------------------------------------------------
# The environment of everything the student's code touches: nothing of ours but the tools' path.
student_env=(env -i "PATH=$cuda_bin:/usr/local/bin:/usr/bin:/bin" "LANG=C.UTF-8")
[ -n "${LD_LIBRARY_PATH:-}" ] && student_env+=("LD_LIBRARY_PATH=$LD_LIBRARY_PATH")
if [ $no_gpu = 1 ]; then student_env+=("CUDA_VISIBLE_DEVICES=")
elif [ -n "${CUDA_VISIBLE_DEVICES+set}" ]; then student_env+=("CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"); fi

# in_scratch DIR COMMAND...: run as the student, in DIR, with the empty environment.
in_scratch() { local dir=$1; shift; (cd "$dir" && as_student "${student_env[@]}" "HOME=$dir" "TMPDIR=$dir/tmp" "$@"); }

grade_session() {  # grade_session STUDENT SESSION RESULTS LOGDIR
    local name=$1 s=$2 res=$3 logs=$4 ex file real scratch log rc v line
    local slug=${s//\//_} all=()
    local mine=$class/$name
    local -a to_build=() to_run=()
    scratch=$(mktemp -d "$work/XXXXXXXXXXXX")
    cp -a "$base/tree/Makefile" "$base/tree/grader" "$scratch/"
    mkdir -p "$scratch/$(dirname "$s")" "$scratch/build/$arch/student/$(dirname "$s")" "$scratch/tmp" "$scratch/results"
    cp -a "$base/tree/$s" "$scratch/$s"
    cp -a "$base/tree/build/$arch/grader" "$scratch/build/$arch/"
    cp -a "$base/tree/build/$arch/student/$s" "$scratch/build/$arch/student/$s"
    local roofs=()
    if [ -d "$repo/build/roofs" ]; then cp -r "$repo/build/roofs" "$scratch/roofs"; roofs=(--roofs roofs); fi

    # Timing variants of an exercise ("NAME+variant": the same file at another shape) share its verdict.
    local -A variants=()
    while read -r v _; do [[ $v == *+* ]] && variants[${v%%+*}]+=" $v"; done < <("$base/tree/build/$arch/student/$s/check" --list 2>/dev/null)
    record_all() { local e; for e in "$3" ${variants[$3]:-}; do record "$1" "$2" "$e" "$4" "$5"; done; }

    for file in "$base/tree/$s"/[0-9][0-9]_*.cu; do
        ex=$(basename "$file" .cu)
        all+=("$ex")
        file=$mine/$s/$ex.cu
        if [ ! -e "$file" ] && [ ! -L "$file" ]; then
            record_all "$res.$ex" "$s" "$ex" NOT_SUBMITTED "not handed in: no $s/$ex.cu in the student's folder"; continue
        fi
        real=$(realpath -e "$file" 2>/dev/null)
        case "$real" in
            "$(realpath "$mine")"/*) ;;
            *) record_all "$res.$ex" "$s" "$ex" DISQUALIFIED "$s/$ex.cu is a link to a file outside the student's folder"; continue ;;
        esac
        if [ ! -f "$real" ]; then record_all "$res.$ex" "$s" "$ex" NOT_SUBMITTED "$s/$ex.cu is not a regular file"; continue; fi
        "$scan" "$real" >"$logs/$slug.$ex.scan" 2>&1
        rc=$?
        if [ $rc = 1 ]; then
            local hits
            hits=$(sed "s|^$real:|$s/$ex.cu:|" "$logs/$slug.$ex.scan")
            record_all "$res.$ex" "$s" "$ex" DISQUALIFIED "$(echo "$hits" | head -n 3)$( [ "$(echo "$hits" | wc -l)" -gt 3 ] && echo " (and $(( $(echo "$hits" | wc -l) - 3 )) more)")"
            continue
        elif [ $rc != 0 ]; then
            record_all "$res.$ex" "$s" "$ex" COMPILE_ERROR "$(sed "s|$real|$s/$ex.cu|" "$logs/$slug.$ex.scan" | head -n 2)"; continue
        fi
        cp "$real" "$scratch/$s/$ex.cu"
        rm -f "$scratch/build/$arch/student/$s/$ex.o"   # compiled from the student's file, whatever the clocks say
        to_build+=("$ex")
    done
    [ "$(id -u)" = 0 ] && chown -R "$grader_user:$grader_user" "$scratch"
    chmod 700 "$scratch"

    # Compile each handed-in file alone, so that an error is pinned on its exercise.
    for ex in "${to_build[@]}"; do
        log=$logs/$slug.$ex.build
        if in_scratch "$scratch" make --no-print-directory -s ARCH="$arch" SESSIONS="$s" "build/$arch/student/$s/$ex.o" >"$log" 2>&1; then
            to_run+=("$ex")
        else
            local first
            first=$(sed "s|$scratch/||g" "$log" | grep -m 3 -i 'error')
            record_all "$res.$ex" "$s" "$ex" COMPILE_ERROR "${first:-$(sed "s|$scratch/||g" "$log" | tail -n 3)}"
            cp -a "$base/tree/$s/$ex.cu" "$scratch/$s/$ex.cu"     # the skeleton back, and its object
            cp -a "$base/tree/build/$arch/student/$s/$ex.o" "$scratch/build/$arch/student/$s/$ex.o"
            [ "$(id -u)" = 0 ] && chown "$grader_user:$grader_user" "$scratch/$s/$ex.cu" "$scratch/build/$arch/student/$s/$ex.o"
        fi
    done
    if [ ${#to_run[@]} -gt 0 ] &&
       ! in_scratch "$scratch" make --no-print-directory -s ARCH="$arch" SESSIONS="$s" "build/$arch/student/$s/check" >"$logs/$slug.link" 2>&1; then
        local first
        first=$(sed "s|$scratch/||g" "$logs/$slug.link" | grep -m 3 -iE 'error|undefined|multiple definition')
        for ex in "${to_run[@]}"; do record_all "$res.$ex" "$s" "$ex" COMPILE_ERROR "linking the check failed: ${first:-see the link log}"; done
        to_run=()
    fi

    # Run: one exercise at a time on the GPU; the check draws its own seed and records it.
    for ex in "${to_run[@]}"; do
        log=$logs/$slug.$ex.log
        local out_json=$scratch/results/$ex.jsonl
        (
            exec {gpu}>"$gpu_lock"
            flock "$gpu" || exit 99
            in_scratch "$scratch" timeout -k 10 $((limit + 60)) "build/$arch/student/$s/check" --only "$ex" --leaderboard \
                --time-limit "$limit" --results "results/$ex.jsonl" "${roofs[@]}" {gpu}>&- </dev/null >"$log" 2>&1
        )
        rc=$?
        # The check's records: the exercise's own and its variants', of this session, each with a verdict.
        local ok=0 e records=''
        while IFS= read -r line; do
            e=$(field "$line" exercise)
            if [ "$(field "$line" schema)" != kernel-workbook-result/1 ] || [ "$(field "$line" session)" != "$s" ] ||
               { [ "$e" != "$ex" ] && [[ $e != "$ex+"* ]]; } || [ -z "$(field "$line" verdict)" ]; then ok=0; break; fi
            [ "$e" = "$ex" ] && ok=1
            # The check's FAIL (wrong, unwritten or out-of-bounds results) is WRONG in a class's records.
            records+="${line/,\"verdict\":\"FAIL\",/,\"verdict\":\"WRONG\",}"$'\n'
        done < <(grep . "$out_json" 2>/dev/null)
        if [ $ok = 1 ]; then
            printf '%s' "$records" >>"$res.$ex"
        elif [ $rc = 124 ] || [ $rc = 137 ]; then
            record_all "$res.$ex" "$s" "$ex" TIMEOUT "the check did not finish within $((limit + 60)) s and was stopped"
        else
            record_all "$res.$ex" "$s" "$ex" CRASH "the check ended (status $rc) without a result: $(tail -n 2 "$log" | tr '\n' ' ')"
        fi
    done
    rm -rf "$scratch"
    for ex in "${all[@]}"; do cat "$res.$ex"; rm -f "$res.$ex"; done >>"$res"   # in exercise order
}

grade_student() {  # grade_student NAME: all sessions, then OUT_DIR/NAME.jsonl in one move
    local name=$1 s
    local logs=$out/logs/$name res=$out/.$name.jsonl.part
    rm -rf "$logs" "$res"
    mkdir -p "$logs"
    for s in $sessions; do grade_session "$name" "$s" "$res" "$logs"; done
    mv "$res" "$out/$name.jsonl"
    echo "grade: $name done"
}

for name in "${todo[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    grade_student "$name" &
done
wait
trap - EXIT
cleanup
report "$out" "$board"
