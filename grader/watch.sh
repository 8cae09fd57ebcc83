#!/usr/bin/env bash
# make watch EX=NAME: checks one exercise each time its file is saved, until Ctrl-C.
#   watch.sh NAME [SESSION...]
# NAME is an exercise file's name without .cu (02_saxpy_grid_stride), a beginning that only one
# exercise has (02_saxpy_g), or the file's path. The SESSIONs limit the search (default: every
# folder GROUP/NN-name with a check.c). The check is the session's, limited to the exercise:
#   make -C SESSION check ONLY=NAME
# WATCH_CMD replaces it (run by bash, with WATCH_SESSION, WATCH_EXERCISE and WATCH_FILE set);
# WATCH_POLL=1 polls even where inotifywait is installed; WORKBOOK_ROOT moves the workbook (tests).
# A change is a new mtime, size or inode (editors that save by renaming make a new inode), looked
# at after every check too, so a save made while a check runs is not lost.
set -u
root=${WORKBOOK_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
ex=${1:-}
[ -n "$ex" ] || { echo "make watch: say which exercise, e.g. make watch EX=02_saxpy_grid_stride"; exit 64; }
shift
cd "$root" || exit 1
sessions=("$@")
[ ${#sessions[@]} -gt 0 ] || mapfile -t sessions < <(ls -d -- */[0-9][0-9]-*/check.c 2>/dev/null | sed 's,/check.c$,,')

# ---- which file ---------------------------------------------------------------------------------
name=$(basename -- "$ex")
name=${name%.cu}
file=
if [[ $ex == */* || $ex == *.cu ]] && [ -f "$ex" ]; then
    # A path (from the workbook root, or absolute): it must be an exercise of a session folder.
    dir=$(cd -- "$(dirname -- "$ex")" && pwd)
    for s in "${sessions[@]}"; do
        [ "$dir" = "$root/$s" ] && [[ $name == [0-9][0-9]_* ]] && file=$s/$name.cu
    done
    [ -n "$file" ] || { echo "make watch: $ex is not an exercise file (NN_name.cu) of a session folder"; exit 64; }
else
    exact=() starts=()
    for s in "${sessions[@]}"; do
        for f in "$s"/[0-9][0-9]_*.cu; do
            [ -f "$f" ] || continue
            b=$(basename "$f" .cu)
            [ "$b" = "$name" ] && exact+=("$f")
            [[ $b == "$name"* ]] && starts+=("$f")
        done
    done
    if [ ${#exact[@]} -eq 1 ]; then file=${exact[0]}
    elif [ ${#exact[@]} -gt 1 ]; then
        echo "make watch: $name is in ${#exact[@]} sessions (${exact[*]}); give its path, e.g. make watch EX=${exact[0]}"
        exit 64
    elif [ ${#starts[@]} -eq 1 ]; then file=${starts[0]}
    elif [ ${#starts[@]} -gt 1 ]; then
        shown=$(for f in "${starts[@]:0:6}"; do basename "$f" .cu; done | paste -sd' ')
        [ ${#starts[@]} -gt 6 ] && shown="$shown ..."
        echo "make watch: '$name' could be ${#starts[@]} exercises ($shown); give more of the name"
        exit 64
    else
        echo "make watch: no exercise named '$name' (an exercise file NN_name.cu of a session, e.g. 02_saxpy_grid_stride)"
        exit 64
    fi
fi
session=$(dirname "$file")
name=$(basename "$file" .cu)

# ---- the loop -----------------------------------------------------------------------------------
stamp() { stat -c '%y %s %i' -- "$file" 2>/dev/null; }

run_check() {
    [ -t 1 ] && printf '\033[H\033[2J'   # a fresh screen per run, as one reads it
    echo "== make watch: checking $file ($(date +%H:%M:%S))"
    if [ -n "${WATCH_CMD:-}" ]; then
        WATCH_SESSION=$session WATCH_EXERCISE=$name WATCH_FILE=$file bash -c "$WATCH_CMD"
    else
        make --no-print-directory -C "$session" check ONLY="$name"
    fi
    echo "== make watch: waiting for $file to be saved again (Ctrl-C stops)"
}

# Waits for something to happen in the file's folder, or a second (then the stamp decides).
if [ "${WATCH_POLL:-0}" != 1 ] && command -v inotifywait >/dev/null; then
    wait_change() { inotifywait -qq -t 2 -e close_write,moved_to,create,attrib -- "$session" 2>/dev/null; }
else
    wait_change() { sleep 1; }
fi

trap 'echo; echo "make watch: stopped"; exit 0' INT TERM
last=$(stamp)
run_check
while :; do
    now=$(stamp)
    if [ -n "$now" ] && [ "$now" != "$last" ]; then
        sleep 0.2            # an editor may write a file in more than one step
        last=$(stamp)
        run_check
        continue
    fi
    wait_change
done
