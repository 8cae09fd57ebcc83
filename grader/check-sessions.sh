#!/usr/bin/env bash
# make check: build and grade each session, one exercise file at a time.
#
# Each exercise's object is compiled on its own, so a file that does not compile is that
# exercise's COMPILE_ERROR (its first error lines in the report, the whole output in a log) and the
# session's other exercises are still graded: the check is then linked without the broken object
# (its launchers left unresolved, never called) and told which exercises were not built. A deleted
# exercise file is reported the same way, with how to get it back. Without a GPU only the CPU
# exercises are graded, and that is said once. A session that ARCH cannot build (its NEEDS_ARCH
# file lists other architectures) is not built: one line says which GPU it needs, and each of its
# exercise files gets the verdict NEEDS_ARCH.
#
# Called by the Makefile with: MAKE B G SRC ARCH SESSIONS OTHER_ARCH_SESSIONS RESULTS NVCC GENCODE
# LDLIBS CHECK_FLAGS (and ONE_SESSION=1 from a session folder).
# Exit: 0 when every exercise was graded and passed; 1 when one graded failed; 2 when everything
# graded passed but not everything could be graded here (no GPU, or a session needing another
# GPU). A session this GPU can never run is no failure of the student's, so it does not make the
# check fail; it is not a 0 either, which would say that all of the workbook passed. That is the
# rule the check itself follows for NO_GPU (grader/session.c).
set -u
read -r -a make_ <<<"${MAKE:-make}"
make_+=(--no-print-directory -s)
rm -f "$RESULTS"
mkdir -p "$(dirname "$RESULTS")"
cpu_only=()
probe=$("$G/tools/gpu-probe" 2>&1)
case $? in
    0) ;;
    2)  if [[ $probe == *"needs a CUDA GPU"* ]]; then
            echo "make check: this machine has no usable CUDA GPU: only the CPU exercises are graded"
            cpu_only=(--cpu-only)
        else
            echo "$probe"; exit 1    # another architecture: rebuilding is the answer
        fi ;;
    *) echo "$probe"; exit 1 ;;
esac

status=0 other_arch=0
for s in $SESSIONS; do
    if [[ " ${OTHER_ARCH_SESSIONS:-} " == *" $s "* ]]; then
        # Not built at all (it would not compile for ARCH): one line, one record per exercise file.
        line=$(grader/needs-arch.sh "$ARCH" "$s")
        echo "$line"
        for f in "$SRC/$s"/[0-9][0-9]_*.cu "$SRC/$s"/[0-9][0-9]_*.py; do
            [ -f "$f" ] || continue
            ex=$(basename "$f"); "$G/tools/record" write "$s" "${ex%.*}" NEEDS_ARCH "${line#"$s: "}" >>"$RESULTS" || status=1
        done
        other_arch=1
        continue
    fi
    dir=$B/$s
    mkdir -p "$dir"
    # What every exercise of the session needs and the student cannot break: the driver, given code.
    given=()
    for g in "$s"/given/*.cu; do [ -f "$g" ] && given+=("$dir/given/$(basename "$g" .cu).o"); done
    if ! "${make_[@]}" "$dir/check.o" "${given[@]}"; then status=1; continue; fi
    # The exercise files compiled side by side, each into a log of its own.
    exs=()
    for f in "$SRC/$s"/[0-9][0-9]_*.cu; do
        [ -f "$f" ] || continue
        ex=$(basename "$f" .cu)
        exs+=("$ex")
        while [ "$(jobs -rp | wc -l)" -ge "$(nproc 2>/dev/null || echo 2)" ]; do wait -n; done
        { "${make_[@]}" "$dir/$ex.o" >"$dir/$ex.build.log" 2>&1; echo $? >"$dir/$ex.build.rc"; } &
    done
    wait
    built=() not_built=()
    for ex in "${exs[@]}"; do
        log=$dir/$ex.build.log
        if [ "$(cat "$dir/$ex.build.rc" 2>/dev/null)" = 0 ]; then
            built+=("$dir/$ex.o")
            cat "$log"    # warnings stay visible
        else
            not_built+=(--not-built "$ex=$log")
            echo "make check: $s/$ex.cu does not compile; its exercise is COMPILE_ERROR (output: $log)"
        fi
        rm -f "$dir/$ex.build.rc"
    done
    check=$dir/check
    linked=0
    [ ${#not_built[@]} = 0 ] && "${make_[@]}" "$check" 2>"$dir/link.log" && linked=1
    # What the link had to install first (a Python session's pinned Triton: one line), or why it
    # could not; without that interpreter the check cannot be linked at all.
    grep -E '^(installing |ensure-python: )' "$dir/link.log" 2>/dev/null
    if grep -q '^ensure-python: ' "$dir/link.log" 2>/dev/null; then
        echo "make check: $s was not graded: its check embeds that Python (see the line above)"
        status=1; continue
    fi
    if [ $linked = 1 ]; then
        :
    else
        # Linked without what did not build: the launchers it should have defined get stubs that are
        # never called (the check is told not to run those exercises).
        check=$dir/check-partial
        link=("$G/grader.o" "$dir/check.o" "${built[@]}" "${given[@]}")
        missing=$($NVCC $GENCODE -o "$check" "${link[@]}" $LDLIBS 2>&1 | sed -n "s/.*undefined reference to \`\([A-Za-z_][A-Za-z0-9_]*\)'.*/\1/p" | sort -u)
        if [ -n "$missing" ]; then
            for name in $missing; do printf 'void %s(void) { __builtin_trap(); }\n' "$name"; done >"$dir/not-built-stubs.c"
            ${CC:-gcc} -c "$dir/not-built-stubs.c" -o "$dir/not-built-stubs.o" &&
                $NVCC $GENCODE -o "$check" "${link[@]}" "$dir/not-built-stubs.o" $LDLIBS || { status=1; continue; }
        fi
        [ -x "$check" ] || { status=1; continue; }
    fi
    # Exercise files that are gone: the check still lists the exercise. (A Python exercise, whose
    # skeleton is a .py file, is loaded by the check itself, which says when the file is missing.)
    while read -r name _; do
        stem=${name%%+*}
        [ -f "$SRC/$s/$stem.cu" ] || [ -f "$s/$stem.py" ] || [ -f "$SRC/$s/$stem.py" ] ||
            [[ " ${not_built[*]} " == *" $stem="* ]] || [[ " ${not_built[*]} " == *" $stem "* ]] ||
            not_built+=(--not-built "$stem")
    done < <("$check" --list 2>/dev/null)
    "$check" $CHECK_FLAGS "${cpu_only[@]}" "${not_built[@]}" || status=1
done
if [ ${#cpu_only[@]} -gt 0 ] && [ $status = 0 ] && [ ! -s "$RESULTS" ]; then
    # Without a GPU, sessions of GPU exercises only leave nothing to grade: say so, not "no results".
    echo "make check: every exercise here needs a CUDA GPU, so nothing was graded on this machine; run make check where there is one"
    exit 2
fi
"$G/tools/summary" "$RESULTS" || status=1
# Everything graded passed, but without a GPU (or the GPU a session needs) not everything was
# graded: 2, as the check says it.
[ $status = 0 ] && { [ ${#cpu_only[@]} -gt 0 ] || [ $other_arch = 1 ]; } && status=2
exit $status
