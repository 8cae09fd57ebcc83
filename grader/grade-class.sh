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
#   4. each compiled object checked against the object policy (grader/tools/objcheck: it may define
#      only its exercise's launchers and its own kernels, reference only the session's allow-list,
#      and run nothing before main or after exit): a breach is DISQUALIFIED naming the symbol;
#   5. each handed-in exercise run by the session's check (--only, --leaderboard: secret seed from the
#      kernel, fresh inputs, poisoned outputs and a full check around every timed repetition), one at
#      a time on the GPU (a lock file), with a time limit (the check's --time-limit, and `timeout`
#      outside it), with an empty environment. The check's parent process, which runs no student
#      code, writes the records into a descriptor this script opened (--results-fd): the student's
#      processes can neither reach nor replace them. Verdicts: PASS, FAIL, CRASH, TIMEOUT,
#      IMPOSSIBLE (above 100% of the roof), DISQUALIFIED (also: work off the given stream), NO_GPU.
# A session that the grading architecture cannot build (its NEEDS_ARCH file lists others: Hopper's
# session graded with --arch sm_80) is neither built nor run: one line in the log says which GPU
# it needs, and each exercise a student handed in gets NEEDS_ARCH (not handed in: NOT_SUBMITTED).
#
# Isolation when run as root: each concurrent grading slot has a user of its own (kwgrader1,
# kwgrader2, ...; created if missing, no home, no shell). A student's turn builds as that user in a
# scratch folder only it can read; before the run the folder is handed to root (only tmp/ stays
# writable). A slot is held with a machine-wide lock, so that concurrent gradings never share a
# user; after each turn every process of the slot's user is killed and waited for (the check's own
# parent already kills what an exercise left behind, and its children cannot fork). The workbook, the class folder and OUT_DIR are made unreadable to those
# users (chmod o-rwx, said in one line when it was needed).
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

# ---- records: written and read by the record tool (grader/tools/record.c), never by hand -----------------
record() {  # record FILE SESSION EXERCISE VERDICT MESSAGE
    "$record_tool" write "$2" "$3" "$4" "$5" >>"$1"
}

# ---- the report: verdict table and leaderboard ----------------------------------------------------
report() {  # report OUT_DIR [with_leaderboard]
    local out=$1 files=()
    for f in "$out"/*.jsonl; do [ -f "$f" ] && [ ! -L "$f" ] && files+=("$f"); done
    [ ${#files[@]} -gt 0 ] || { echo "grade: no results (*.jsonl) in $out"; return 1; }
    "$record_tool" table "${files[@]}"
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
tools_needed=("build/$arch/grader/tools/leaderboard" "build/$arch/grader/tools/record")
record_tool=$repo/build/$arch/grader/tools/record

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
# OUT_DIR and the class must not overlap either way: the results are rewritten, the class never.
out_abs=$(realpath -m "$out")
case "$out_abs/" in "$class"/*) die "OUT_DIR ($out) must not be inside the class folder ($class)" 64 ;; esac
case "$class/" in "$out_abs"/*) die "the class folder ($class) must not be inside OUT_DIR ($out): grading rewrites OUT_DIR" 64 ;; esac
case "$repo/" in "$out_abs"/*) die "OUT_DIR ($out) must not hold the workbook" 64 ;; esac
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd -P)

# Students: the folders of the class, or those asked for.
all_students=() skipped=()
for d in "$class"/*/; do
    [ -d "$d" ] || continue
    n=$(basename "$d")
    if [ -L "$class/$n" ]; then skipped+=("grade: skipped '$n': a student's folder is a folder, not a link (it points to $(readlink "$class/$n"))"); continue; fi
    if [[ $n =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then all_students+=("$n")
    else echo "grade: skipped the folder '$n': a student's folder name uses letters, digits, '.', '_' and '-'" >&2; fi
done
[ ${#all_students[@]} -gt 0 ] || die "no student folders in $class (expected $class/NAME/ladder/...)"
if [ -n "$students" ]; then
    for n in $students; do
        [[ " ${all_students[*]} " == *" $n "* ]] || die "no student '$n' in $class (or a folder that is a link)" 64
    done
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
            if compgen -G "$class/$n/$s/[0-9][0-9]_*.cu" >/dev/null || compgen -G "$class/$n/$s/[0-9][0-9]_*.py" >/dev/null; then
                sessions+="$s "; break
            fi
        done
    done
    [ -n "$sessions" ] || die "nobody in $class handed in an exercise file (expected e.g. $class/NAME/ladder/01-gpu-vs-cpu/02_vector_add.cu)"
fi

for line in "${skipped[@]}"; do echo "$line" >&2; done
# Sessions this architecture cannot build: said once here, recorded per student in grade_session.
other_arch=" $(make --no-print-directory -s -C "$repo" ARCH="$arch" SESSIONS="$sessions" print-OTHER_ARCH_SESSIONS) "
buildable=$(make --no-print-directory -s -C "$repo" ARCH="$arch" SESSIONS="$sessions" print-BUILDABLE_SESSIONS)
for s in $other_arch; do echo "grade: $("$repo/grader/needs-arch.sh" "$arch" "$s")"; done
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
NVCC=nvcc "$repo/grader/ensure-deps.sh" build >&2 || exit 1
cuda_bin=$(dirname "$(command -v nvcc)")
echo "grade: ${#todo[@]} students, sessions: $sessions(arch $arch, $limit s per exercise, $jobs builds at a time)"
make --no-print-directory -s -C "$repo" ARCH="$arch" "build/$arch/grader/tools/scan" "build/$arch/grader/tools/objcheck" "${tools_needed[@]}" >"$out/tools.log" 2>&1 ||
    die "building the grader's tools failed; see $out/tools.log"
scan=$repo/build/$arch/grader/tools/scan
objcheck=$repo/build/$arch/grader/tools/objcheck

# ---- who runs the student's code ----------------------------------------------------------------------
# One user per grading slot (kwgrader1 .. kwgraderJOBS): two students graded at once never share an
# identity, so neither can see, signal or read the other's processes and files.
if [ "$(id -u)" = 0 ]; then
    slot_users=()
    for i in $(seq 1 "$jobs"); do
        u=$grader_user$i
        if ! id -u "$u" >/dev/null 2>&1; then
            useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u" ||
                die "could not create the user $u"
        fi
        slot_users+=("$u")
    done
    # The workbook (solutions/, tests/, .git, build/), the class and the results: out of their reach.
    slot_locks=/run/lock; [ -w "$slot_locks" ] || slot_locks=/tmp
    probe_user=${slot_users[0]}
    for d in "$repo" "$class" "$out"; do
        if setpriv --reuid="$probe_user" --regid="$probe_user" --clear-groups test -x "$d" 2>/dev/null ||
           setpriv --reuid="$probe_user" --regid="$probe_user" --clear-groups test -r "$d" 2>/dev/null; then
            chmod o-rwx "$d" && echo "grade: $d was readable by the grading users: made it unreadable to other users (chmod o-rwx)"
            ! setpriv --reuid="$probe_user" --regid="$probe_user" --clear-groups test -x "$d" 2>/dev/null ||
                die "$d is still reachable by $probe_user (an ACL or group?): refusing to grade"
        fi
    done
else
    echo "grade: not run as root: the students' code runs as $(id -un), without a user and folder of its own"
fi
# as_student USER COMMAND...: COMMAND as USER (as ourselves when not root). A command, not a
# function, so that it can follow timeout or env.
as_student() {
    local user=$1; shift
    if [ "$(id -u)" = 0 ]; then setpriv --reuid="$user" --regid="$user" --clear-groups --no-new-privs --inh-caps=-all -- "$@"
    else "$@"; fi
}
student_argv() {  # student_argv USER: sets priv=() to the command prefix that becomes USER
    if [ "$(id -u)" = 0 ]; then priv=(setpriv --reuid="$1" --regid="$1" --clear-groups --no-new-privs --inh-caps=-all --)
    else priv=(); fi
}
# end_turn USER: every process of USER killed and gone (it may have forked and called setsid).
end_turn() {
    [ "$(id -u)" = 0 ] || return 0
    local uid i
    uid=$(id -u "$1")
    for i in $(seq 1 100); do
        pkill -KILL -U "$uid" 2>/dev/null || return 0
        sleep 0.05
    done
    echo "grade: processes of $1 survived SIGKILL for 5 s" >&2
}

# ---- the base: grader and skeletons built once, copied for every student and session ---------------
# It lives in OUT_DIR/.base-ARCH, rebuilt when the sources change; a lock lets array tasks share it.
# Sessions built on CUTLASS's headers (session 11's CuTe): installed once beside the base build, and
# copied into a student's scratch tree where the Makefile looks for them (the student's build runs
# as its own user, with no network).
cutlass_dir=
cutlass_sessions=$(make --no-print-directory -s -C "$repo" print-CUTLASS_SESSIONS)
for cs in $cutlass_sessions; do
    case " $buildable " in *" $cs "*) cutlass_dir=$out/.deps/cutlass-$(make --no-print-directory -s -C "$repo" print-CUTLASS_VERSION) ;; esac
done
if [ -n "$cutlass_dir" ]; then
    # The workbook's own copy, where it has one (a GPU machine without a network has no PyPI).
    repo_cutlass=$(make --no-print-directory -s -C "$repo" print-CUTLASS_DIR)
    if [ ! -f "$cutlass_dir/include/cute/tensor.hpp" ] && [ -f "$repo_cutlass/include/cute/tensor.hpp" ]; then
        mkdir -p "$(dirname "$cutlass_dir")" && rm -rf "$cutlass_dir" && cp -a "$repo_cutlass" "$cutlass_dir"
    fi
    "$repo/grader/ensure-cutlass.sh" "$(make --no-print-directory -s -C "$repo" print-CUTLASS_VERSION)" "$cutlass_dir" >&2 ||
        die "CUTLASS's headers, which session 11 needs, could not be installed"
    chmod -R a+rX "$out/.deps"
fi
# Sessions with Python exercises (session 11's Triton files): the interpreter their check embeds,
# chosen (and Triton installed, if missing) once here; the students' builds only read its answer.
py_deps=
python_sessions=$(make --no-print-directory -s -C "$repo" print-PYTHON_SESSIONS)
for ps in $python_sessions; do
    case " $buildable " in *" $ps "*) py_deps=$out/.deps ;; esac
done
# The students' runs read it, and OUT_DIR is closed to them: as root, a folder of its own, kept
# between gradings (root's, readable by all).
[ -n "$py_deps" ] && [ "$(id -u)" = 0 ] && py_deps=${KW_PY_DEPS:-/var/tmp/kernel-workbook-python}
py_base=${PY_BASE:-}
ensure_python() { PYTHON="$py_base" "$repo/grader/ensure-python.sh" "$py_deps" "$1"; }
usable_by_students() { [ "$(id -u)" != 0 ] || setpriv --reuid="$probe_user" --regid="$probe_user" --clear-groups "$py_exe" -c 'import triton' 2>/dev/null; }
if [ -n "$py_deps" ]; then
    mkdir -p -m 755 "$py_deps" && chmod 755 "$py_deps"
    py_exe=$(ensure_python exe) && chmod -R a+rX "$py_deps" || die "the Python that session 11's check embeds could not be had"
    if ! usable_by_students && [ -z "$py_base" ] && [ -x /usr/bin/python3 ]; then
        echo "grade: $py_exe is closed to the grading users (it lives under a private folder): using /usr/bin/python3"
        py_base=/usr/bin/python3
        py_exe=$(ensure_python exe) && chmod -R a+rX "$py_deps" || die "the Python that session 11's check embeds could not be had"
    fi
    usable_by_students || die "the grading users cannot run $py_exe with Triton: install Python where they can read it (PY_BASE=...)"
    ensure_python ldflags >/dev/null || die "$py_exe cannot be embedded in session 11's check"
fi
base=$out/.base-$arch
exec {base_lock}>"$out/.base-$arch.lock"
flock "$base_lock"
stamp=$(cd "$repo" && { echo "$arch $sessions"; find Makefile grader $sessions -type f \( -name '*.[ch]' -o -name '*.cu' -o -name '*.cuh' -o -name '*.py' -o -name '*.mk' -o -name Makefile -o -name NEEDS_ARCH \) | sort | xargs sha256sum; } | sha256sum | cut -c1-16)
if [ "$(cat "$base/stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "grade: building the grader and the skeletons once (logs: $out/base.log)"
    rm -rf "$base"
    mkdir -p "$base/tree"
    cp -a "$repo/Makefile" "$repo/grader" "$base/tree/"
    for s in $sessions; do mkdir -p "$base/tree/$(dirname "$s")"; cp -a "$repo/$s" "$base/tree/$s"; done
    checkers=(); for s in $buildable; do checkers+=("build/$arch/student/$s/check"); done
    if [ ${#checkers[@]} -gt 0 ]; then   # none when every session graded needs another architecture
        make --no-print-directory -C "$base/tree" -j"$jobs" ARCH="$arch" SESSIONS="$buildable" ${cutlass_dir:+CUTLASS_DIR="$cutlass_dir"} ${py_deps:+PY_DEPS="$py_deps" PY_BASE="$py_base"} "${checkers[@]}" >"$out/base.log" 2>&1 ||
            die "the skeletons do not build; see $out/base.log"
        # The dependency files name the base's absolute paths; a scratch copy rebuilds by timestamps alone.
        find "$base/tree/build" -name '*.d' -delete
    fi
    # The object policy's lists: names a student file may not define (the grader, the check driver,
    # the libraries of the link) and names of the session's other files (another exercise's launcher).
    mkdir -p "$base/reserved"
    for s in $buildable; do
        slug=${s//\//_} bdir=$base/tree/build/$arch/student/$s
        bash "$repo/grader/policy/reserved-symbols.sh" "$base/reserved/$slug.txt" "$base/tree/build/$arch/grader/grader.o" \
            "$bdir/check.o" >>"$out/base.log" 2>&1 || die "listing the reserved symbols of $s failed; see $out/base.log"
        others=("$bdir"/[0-9][0-9]_*.o)
        [ -d "$bdir/given" ] && others+=("$bdir/given"/*.o)
        nm -g --defined-only "${others[@]}" 2>>"$out/base.log" | awk 'NF >= 3 {print $3}' | sort -u >"$base/reserved/$slug.session" ||
            die "listing the symbols of $s's files failed; see $out/base.log"
    done
    echo "$stamp" >"$base/stamp"
fi
flock -u "$base_lock"

gpu_lock=${TMPDIR:-/tmp}/kernel-workbook-gpu${CUDA_VISIBLE_DEVICES:+-${CUDA_VISIBLE_DEVICES//,/-}}.lock
work=$(mktemp -d "${TMPDIR:-/tmp}/kwgrade.XXXXXXXX") || die "no temporary folder"
chmod 711 "$work"   # each scratch folder under it is reachable by its name only
private=$work/records   # the records as the checks write them: root's alone
mkdir -m 700 "$private"
cleanup() { jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- one student ---------------------------------------------------------------------------------------
# The environment of everything the student's code touches: nothing of ours but the tools' path.
student_env=(env -i "PATH=$cuda_bin:/usr/local/bin:/usr/bin:/bin" "LANG=C.UTF-8")
[ -n "${LD_LIBRARY_PATH:-}" ] && student_env+=("LD_LIBRARY_PATH=$LD_LIBRARY_PATH")
if [ $no_gpu = 1 ]; then student_env+=("CUDA_VISIBLE_DEVICES=")
elif [ -n "${CUDA_VISIBLE_DEVICES+set}" ]; then student_env+=("CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"); fi

# in_scratch USER DIR COMMAND...: run as USER, in DIR, with the empty environment.
in_scratch() { local user=$1 dir=$2; shift 2; (cd "$dir" && as_student "$user" "${student_env[@]}" "HOME=$dir" "TMPDIR=$dir/tmp" "$@"); }

# strip_scratch TEXT DIR: TEXT without the scratch folder's path.
strip_scratch() { local t=$1; printf '%s' "${t//$2\//}"; }

grade_session() {  # grade_session STUDENT SESSION RESULTS LOGDIR USER
    local name=$1 s=$2 res=$3 logs=$4 user=$5 ex file real scratch log rc v line
    local slug=${s//\//_} all=()
    local mine=$class/$name
    if [[ $other_arch == *" $s "* ]]; then   # not buildable here: nothing of the student's is built or run
        line=$("$repo/grader/needs-arch.sh" "$arch" "$s")
        for file in "$base/tree/$s"/[0-9][0-9]_*.cu "$base/tree/$s"/[0-9][0-9]_*.py; do
            [ -f "$file" ] || continue
            ex=$(basename "$file"); ex=${ex%.*}; local ext=${file##*.}
            if [ -e "$mine/$s/$ex.$ext" ] || [ -L "$mine/$s/$ex.$ext" ]; then record "$res" "$s" "$ex" NEEDS_ARCH "${line#"$s: "}"
            else record "$res" "$s" "$ex" NOT_SUBMITTED "not handed in: no $s/$ex.$ext in the student's folder"; fi
        done
        return
    fi
    local -a to_build=() to_check=() to_run=()
    scratch=$(mktemp -d "$work/XXXXXXXXXXXX")
    cp -a "$base/tree/Makefile" "$base/tree/grader" "$scratch/"
    mkdir -p "$scratch/$(dirname "$s")" "$scratch/build/$arch/student/$(dirname "$s")" "$scratch/tmp"
    cp -a "$base/tree/$s" "$scratch/$s"
    cp -a "$base/tree/build/$arch/grader" "$scratch/build/$arch/"
    cp -a "$base/tree/build/$arch/student/$s" "$scratch/build/$arch/student/$s"
    if [ -n "$cutlass_dir" ] && [[ " $cutlass_sessions " == *" $s "* ]]; then
        mkdir -p "$scratch/build/deps" && cp -a "$cutlass_dir" "$scratch/build/deps/"
    fi
    local roofs=()
    if [ -d "$repo/build/roofs" ]; then cp -r "$repo/build/roofs" "$scratch/roofs"; roofs=(--roofs roofs); fi
    # What the object policy reads, copied in: the student's user cannot read the base or the workbook.
    mkdir -p "$scratch/.policy/own"
    cp "$base/reserved/$slug.txt" "$base/reserved/$slug.session" "$repo/grader/policy/base.txt" "$scratch/.policy/"
    cp "$base/tree/build/$arch/student/$s"/[0-9][0-9]_*.o "$scratch/.policy/own/"
    cp "$objcheck" "$scratch/.policy/objcheck"
    local policy=(--policy .policy/base.txt)
    if [ -f "$repo/$s/policy.txt" ]; then cp "$repo/$s/policy.txt" "$scratch/.policy/session.txt"; policy+=(--policy .policy/session.txt); fi

    # Timing variants of an exercise ("NAME+variant": the same file at another shape) share its verdict.
    local -A variants=()
    while read -r v _; do [[ $v == *+* ]] && variants[${v%%+*}]+=" $v"; done < <("$base/tree/build/$arch/student/$s/check" --list 2>/dev/null)
    record_all() { local e; for e in "$3" ${variants[$3]:-}; do record "$1" "$2" "$e" "$4" "$5"; done; }

    for file in "$base/tree/$s"/[0-9][0-9]_*.cu "$base/tree/$s"/[0-9][0-9]_*.py; do
        [ -f "$file" ] || continue
        ex=$(basename "$file"); ex=${ex%.*}
        local ext=${file##*.}
        all+=("$ex")
        file=$mine/$s/$ex.$ext
        if [ ! -e "$file" ] && [ ! -L "$file" ]; then
            record_all "$res.$ex" "$s" "$ex" NOT_SUBMITTED "not handed in: no $s/$ex.$ext in the student's folder"; continue
        fi
        if ! real=$(realpath -e "$file" 2>/dev/null); then
            record_all "$res.$ex" "$s" "$ex" NOT_SUBMITTED "not handed in: $s/$ex.$ext is a link to nothing (a dangling link)"; continue
        fi
        case "$real" in
            "$(realpath "$mine")"/*) ;;
            *) record_all "$res.$ex" "$s" "$ex" DISQUALIFIED "$s/$ex.$ext is a link to a file outside the student's folder"; continue ;;
        esac
        if [ ! -f "$real" ]; then record_all "$res.$ex" "$s" "$ex" NOT_SUBMITTED "not handed in: $s/$ex.$ext is not a regular file"; continue; fi
        if [ "$ext" = py ]; then
            # A Python file: the policy on its syntax tree (grader/python/policy.py: 1 and file:line
            # lines when it breaks a rule; a syntax error is one of them). Nothing to compile: the
            # check loads it, and the policy again, when it runs.
            (cd "$(dirname "$real")" && timeout -k 5 30 "$py_exe" -I "$repo/grader/python/policy.py" "$(basename "$real")") \
                >"$logs/$slug.$ex.scan" 2>&1
            rc=$?
            local lines
            lines=$(head -c 20000 "$logs/$slug.$ex.scan" | sed -E "s|^$ex\.py:([0-9]+): |$s/$ex.py:\1: DISQUALIFIED: |")
            if [ $rc = 1 ] && [[ $lines == *": syntax error:"* ]]; then
                record_all "$res.$ex" "$s" "$ex" COMPILE_ERROR "$(printf '%s\n' "$lines" | head -n 1 | sed 's/ DISQUALIFIED: / /')"; continue
            elif [ $rc = 1 ]; then
                local n_lines; n_lines=$(printf '%s\n' "$lines" | grep -c .)
                lines=$(printf '%s\n' "$lines" | head -n 3)
                [ "$n_lines" -gt 3 ] && lines+=" (and $((n_lines - 3)) more)"
                record_all "$res.$ex" "$s" "$ex" DISQUALIFIED "$lines"; continue
            elif [ $rc != 0 ]; then
                record_all "$res.$ex" "$s" "$ex" COMPILE_ERROR "the Python policy could not read $s/$ex.py (exit $rc): $(printf '%s' "$lines" | head -n 2)"; continue
            fi
            cp "$real" "$scratch/$s/$ex.py"
            to_run+=("$ex")
            continue
        fi
        timeout -k 5 30 "$scan" "$real" >"$logs/$slug.$ex.scan" 2>&1
        rc=$?
        local report
        report=$(head -c 20000 "$logs/$slug.$ex.scan")
        report=${report//"$real:"/"$s/$ex.cu:"}
        report=${report//"$real"/"$s/$ex.cu"}
        if [ $rc = 1 ] || [ $rc = 3 ]; then
            # 1: forbidden use (file:line: reason); 3: refused whole (too large, not text)
            local hits n_hits beyond
            hits=$(printf '%s\n' "$report" | grep -v '\.\.\. and [0-9]* more' | grep . | head -n 3)
            n_hits=$(printf '%s\n' "$report" | grep -v '\.\.\. and [0-9]* more' | grep -c .)
            beyond=$(printf '%s\n' "$report" | sed -n 's/.*\.\.\. and \([0-9]*\) more.*/\1/p' | head -n 1)
            n_hits=$((n_hits + ${beyond:-0}))
            [ "$n_hits" -gt 3 ] && hits+=" (and $((n_hits - 3)) more)"
            record_all "$res.$ex" "$s" "$ex" DISQUALIFIED "${hits:-$s/$ex.cu: DISQUALIFIED: the scanner refused the file}"
            continue
        elif [ $rc != 0 ]; then
            record_all "$res.$ex" "$s" "$ex" COMPILE_ERROR "the source scanner could not read $s/$ex.cu (exit $rc): $(printf '%s' "$report" | head -n 2)"; continue
        fi
        cp "$real" "$scratch/$s/$ex.cu"
        rm -f "$scratch/build/$arch/student/$s/$ex.o"   # compiled from the student's file, whatever the clocks say
        to_build+=("$ex")
    done
    # (The check's interpreter finds the Python files beside itself: the base build's check, copied
    # here, loads this scratch tree's files, no relink needed.)
    [ "$(id -u)" = 0 ] && chown -R "$user:$user" "$scratch"
    chmod 700 "$scratch"

    put_back_skeleton() {  # the skeleton and its object back, so that the session's other exercises run
        cp -a "$base/tree/$s/$1.cu" "$scratch/$s/$1.cu"
        cp -a "$base/tree/build/$arch/student/$s/$1.o" "$scratch/build/$arch/student/$s/$1.o"
        [ "$(id -u)" = 0 ] && chown "$user:$user" "$scratch/$s/$1.cu" "$scratch/build/$arch/student/$s/$1.o"
    }
    # Compile each handed-in file alone, so that an error is pinned on its exercise.
    for ex in "${to_build[@]}"; do
        log=$logs/$slug.$ex.build
        if in_scratch "$user" "$scratch" timeout -k 5 600 make --no-print-directory -s ARCH="$arch" SESSIONS="$s" "build/$arch/student/$s/$ex.o" >"$log" 2>&1; then
            to_check+=("$ex")
        else
            local first text
            text=$(strip_scratch "$(head -c 100000 "$log")" "$scratch")
            first=$(printf '%s\n' "$text" | grep -m 3 -i 'error')
            record_all "$res.$ex" "$s" "$ex" COMPILE_ERROR "${first:-$(printf '%s\n' "$text" | tail -n 3)}"
            put_back_skeleton "$ex"
        fi
    done
    # The object policy, on what the compiler made of the file.
    for ex in "${to_check[@]}"; do
        log=$logs/$slug.$ex.objcheck
        in_scratch "$user" "$scratch" timeout -k 5 60 .policy/objcheck "build/$arch/student/$s/$ex.o" \
            --own ".policy/own/$ex.o" --reserved ".policy/$slug.txt" \
            --session-symbols ".policy/$slug.session" "${policy[@]}" \
            --name "$s/$ex.cu" >"$log" 2>&1
        rc=$?
        if [ $rc = 0 ]; then to_run+=("$ex"); continue; fi
        local hits n_hits
        hits=$(head -c 20000 "$log" | grep . | head -n 3)
        n_hits=$(head -c 20000 "$log" | grep -c .)
        [ "$n_hits" -gt 3 ] && hits+=" (and $((n_hits - 3)) more)"
        if [ $rc = 1 ]; then record_all "$res.$ex" "$s" "$ex" DISQUALIFIED "$hits"
        else record_all "$res.$ex" "$s" "$ex" COMPILE_ERROR "the object policy could not read the compiled $s/$ex.cu (exit $rc): $hits"; fi
        put_back_skeleton "$ex"
    done
    if [ ${#to_run[@]} -gt 0 ] &&
       ! in_scratch "$user" "$scratch" timeout -k 5 300 make --no-print-directory -s ARCH="$arch" SESSIONS="$s" ${py_deps:+PY_DEPS="$py_deps" PY_BASE="$py_base"} "build/$arch/student/$s/check" >"$logs/$slug.link" 2>&1; then
        local first
        first=$(strip_scratch "$(head -c 100000 "$logs/$slug.link")" "$scratch" | grep -m 3 -iE 'error|undefined|multiple definition')
        # The policy already refused names of the grader: a clash left here is still a file that
        # tried to define one.
        if [[ $first == *"multiple definition"* ]]; then v=DISQUALIFIED; else v=COMPILE_ERROR; fi
        for ex in "${to_run[@]}"; do record_all "$res.$ex" "$s" "$ex" $v "linking the check failed: ${first:-see the link log}"; done
        to_run=()
    fi
    end_turn "$user"

    # Run. The scratch folder is root's from here on (only tmp/ stays the student's): nothing the
    # runs do can replace the check or the objects. One exercise at a time on the GPU; the check
    # writes its records into a descriptor opened here, in a folder only root can read.
    if [ "$(id -u)" = 0 ]; then
        chown -R "root:$user" "$scratch"; chmod -R g+rX,g-w,o-rwx "$scratch"
        chown -R "$user:$user" "$scratch/tmp"
    fi
    local priv; student_argv "$user"
    for ex in "${to_run[@]}"; do
        log=$logs/$slug.$ex.log
        local records=$private/$name.$slug.$ex.records
        : >"$records"
        (
            exec {gpu}>"$gpu_lock"
            flock "$gpu" || exit 99
            cd "$scratch" && "${priv[@]}" "${student_env[@]}" "HOME=$scratch" "TMPDIR=$scratch/tmp" \
                timeout -k 10 $((limit + 60)) "build/$arch/student/$s/check" --only "$ex" --leaderboard \
                --time-limit "$limit" --results-fd 3 "${roofs[@]}" {gpu}>&- 3>>"$records" </dev/null >"$log" 2>&1
        )
        rc=$?
        end_turn "$user"
        local why
        if "$record_tool" accept "$s" "$ex" <"$records" >>"$res.$ex" 2>"$records.why"; then
            :
        elif [ $rc = 124 ] || [ $rc = 137 ]; then
            record_all "$res.$ex" "$s" "$ex" TIMEOUT "the check did not finish within $((limit + 60)) s and was stopped"
        else
            why=$(head -c 300 "$records.why")
            record_all "$res.$ex" "$s" "$ex" CRASH "the check ended (status $rc) without a result (${why:-no record}): $(tail -n 2 "$log" | tr '\n' ' ')"
        fi
    done
    rm -rf "$scratch"
    for ex in "${all[@]}"; do cat "$res.$ex"; rm -f "$res.$ex"; done >>"$res"   # in exercise order
}

grade_student() {  # grade_student NAME: all sessions, then OUT_DIR/NAME.jsonl in one move
    local name=$1 s slot user
    local logs=$out/logs/$name res=$out/.$name.jsonl.part
    rm -rf "$logs" "$res"
    mkdir -p "$logs"
    # A grading slot of its own: its user is this student's alone while the slot is held.
    exec {slot}>/dev/null
    user=$(id -un)
    if [ "$(id -u)" = 0 ]; then
        while :; do
            for i in "${!slot_users[@]}"; do
                # Machine-wide locks: two class gradings at once (two mentors, two Slurm tasks on
                # one node) never hand one user to two students.
                exec {slot}>"$slot_locks/kernel-workbook-grading-${slot_users[$i]}.lock"
                if flock -n "$slot"; then user=${slot_users[$i]}; break 2; fi
                exec {slot}>&-
            done
            sleep 0.2
        done
    fi
    for s in $sessions; do grade_session "$name" "$s" "$res" "$logs" "$user"; done
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
