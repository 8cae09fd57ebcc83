#!/usr/bin/env bash
# The board demos. Each is a program demo_NAME.c (or demo_NAME.sh) in a session folder; the first
# sentence of its opening comment says what it shows, and "Needs a GPU." in that comment marks the
# ones that do. Those stop at once, in one line and with exit status 2, on a machine without one;
# so does a demo of a session the build's architecture cannot build (its NEEDS_ARCH file).
#   demos.sh list          the catalogue
#   demos.sh build NAME    build one (the test builds before it times a run)
#   demos.sh run NAME [N]  build and run one (make demo-NAME [N=...])
set -u
cd "$(dirname "$0")/.."
sources() { ls -d */[0-9][0-9]-*/demo_*.c */[0-9][0-9]-*/demo_*.sh 2>/dev/null | sort -t/ -k2; }
name_of() { basename "$1" | sed 's/^demo_//; s/\.[a-z]*$//; s/_/-/g'; }
# header_of FILE: its opening comment (a C /* ... */ block, or a script's # lines after the #! line).
header_of() {
    case "$1" in
        *.sh) sed -n '1{/^#!/d}; /^#/!q; p' "$1" ;;
        *) sed -n '0,/\*\//p' "$1" ;;
    esac
}
# summary_of FILE: the first sentence of its opening comment, without a leading "Board demo:".
summary_of() {
    header_of "$1" | sed 's,^/\* *,,; s,^ *\* *,,; s,^# *,,; s,\*/,,' | tr '\n' ' ' |
        sed 's/\. .*/./; s/^Board demo: *//; s/^./\u&/'
}
needs_gpu() { header_of "$1" | grep -q "Needs a GPU"; }
# has_gpu: nvidia-smi lists a GPU (the Makefile detects the architecture the same way).
has_gpu() { nvidia-smi -L 2>/dev/null | grep -q '^GPU'; }

case "${1:-list}" in
list)
    echo "Board demos (make demo-NAME):"
    for f in $(sources); do
        gpu="no GPU needed"
        needs_gpu "$f" && gpu="needs a GPU"
        printf '  %-24s %-16s %s\n' "$(name_of "$f")" "[$gpu]" "$(summary_of "$f")"
    done ;;
build|run)
    what=$1
    want=${2:?demos.sh $1 NAME}
    for f in $(sources); do
        [ "$(name_of "$f")" = "$want" ] || continue
        session=$(dirname "$f")
        shift 2
        # Said before anything is built: a GPU demo on a machine without one is one plain line.
        if [ $what = run ] && needs_gpu "$f" && ! has_gpu; then
            echo "demo-$want needs a CUDA GPU, and this machine has none."
            exit 2
        fi
        case "$f" in
        *.sh) [ $what = build ] && exit 0; exec bash "$f" "$@" ;;
        esac
        arch=$(make --no-print-directory print-ARCH)
        # A session this architecture cannot build (its NEEDS_ARCH file): one line, as without a GPU.
        if [ -n "$(make --no-print-directory print-OTHER_ARCH_SESSIONS SESSIONS="$session")" ]; then
            grader/needs-arch.sh "$arch" "$session"
            exit 2
        fi
        NVCC=$(make --no-print-directory print-NVCC) grader/ensure-deps.sh build || exit 1
        # Mentors' checkouts have the solutions; the student bundle uses the student's files.
        sol=0; [ -d "solutions/$session" ] && sol=1
        variant=$([ $sol = 1 ] && echo solution || echo student)
        bin="build/$arch/$variant/$session/$(basename "${f%.c}")"
        make --no-print-directory -s SOLUTION=$sol "$bin" >/dev/null || { echo "demo-$want: the build failed (make SOLUTION=$sol $bin)"; exit 1; }
        [ $what = build ] && exit 0
        exec "$bin" "$@"
    done
    echo "demo-$want: no such demo; 'make demo' lists them"
    exit 64 ;;
*)
    echo "usage: demos.sh list | build NAME | run NAME [ARGS]"; exit 64 ;;
esac
