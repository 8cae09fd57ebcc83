#!/usr/bin/env bash
# The board demos. Each is a program demo_NAME.c (or demo_NAME.sh) in a session folder; its first
# comment line says what it shows, and "Needs a GPU." in that comment marks the ones that do.
#   demos.sh list          the catalogue
#   demos.sh run NAME [N]  build and run one (make demo-NAME [N=...])
set -u
cd "$(dirname "$0")/.."
sources() { ls -d */[0-9][0-9]-*/demo_*.c */[0-9][0-9]-*/demo_*.sh 2>/dev/null | sort -t/ -k2; }
name_of() { basename "$1" | sed 's/^demo_//; s/\.[a-z]*$//; s/_/-/g'; }
summary_of() { sed -n '1,3p' "$1" | sed 's,^/\* *,,; s,^ *\* *,,; s,^# *,,' | tr '\n' ' ' | sed 's/\. .*/./'; }

case "${1:-list}" in
list)
    echo "Board demos (make demo-NAME):"
    for f in $(sources); do
        gpu="no GPU needed"
        grep -q "Needs a GPU" "$f" && gpu="needs a GPU"
        printf '  %-24s %-14s %s\n' "$(name_of "$f")" "[$gpu]" "$(summary_of "$f")"
    done ;;
run)
    want=${2:?demos.sh run NAME}
    for f in $(sources); do
        [ "$(name_of "$f")" = "$want" ] || continue
        session=$(dirname "$f")
        shift 2
        case "$f" in
        *.sh) exec bash "$f" "$@" ;;
        esac
        # Mentors' checkouts have the solutions; the student bundle uses the student's files.
        sol=0; [ -d "solutions/$session" ] && sol=1
        arch=$(make --no-print-directory print-ARCH)
        variant=$([ $sol = 1 ] && echo solution || echo student)
        bin="build/$arch/$variant/$session/$(basename "${f%.c}")"
        make --no-print-directory -s SOLUTION=$sol "$bin" >/dev/null || { echo "demo-$want: the build failed (make SOLUTION=$sol $bin)"; exit 1; }
        exec "$bin" "$@"
    done
    echo "demo-$want: no such demo; 'make demo' lists them"
    exit 64 ;;
*)
    echo "usage: demos.sh list | run NAME [ARGS]"; exit 64 ;;
esac
