#!/usr/bin/env bash
# The board demos, every one of them, found by file name (demo_*.c, demo_*.sh) so that a new demo
# is tested without being named here:
#   - make demo lists it, with a one-line summary and whether it needs a GPU;
#   - a demo that needs no GPU builds, then runs in under 60 s, exits 0 and prints lines that fit
#     a wide terminal (132 columns) with a large font;
#   - on a machine without a GPU, a demo that needs one says so in one line and exits non-zero
#     (no crash, no stack of CUDA errors), without building anything.
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
make=(make --no-print-directory -s)
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
has_gpu() { nvidia-smi -L 2>/dev/null | grep -q '^GPU'; }

listing=$("${make[@]}" demo 2>&1)
rc=$?
[ $rc -eq 0 ] && result PASS "make demo lists the demos" ||
    result FAIL "make demo lists the demos" "exit $rc: $listing"

# Every demo source outside the build and the solutions (demos live in the session folders only).
demos=$(find . \( -path ./build -o -path ./solutions -o -path ./.git \) -prune -o \
    \( -name 'demo_*.c' -o -name 'demo_*.sh' \) -print | sed 's,^\./,,' | sort)
[ -n "$demos" ] && result PASS "there are demos to test" ||
    result FAIL "there are demos to test" "no demo_*.c or demo_*.sh"

for f in $demos; do
    name=$(basename "$f" | sed 's/^demo_//; s/\.[a-z]*$//; s/_/-/g')
    line=$(printf '%s\n' "$listing" | grep -E "^  $name +\[")
    if printf '%s' "$line" | grep -qE "^  $name +\[(needs a GPU|no GPU needed)\] +[[:upper:]].{15,}"; then
        result PASS "demo-$name is listed with a summary and a GPU mark"
    else
        result FAIL "demo-$name is listed with a summary and a GPU mark" "$f; its line: '${line}'"
        continue
    fi

    if printf '%s' "$line" | grep -q "\[needs a GPU\]"; then
        if has_gpu; then
            echo "   (demo-$name needs a GPU and this machine has one: make gpu-test's territory, skipped)"
            continue
        fi
        out=$(timeout 60 "${make[@]}" demo-$name 2>/dev/null)
        rc=$?
        lines=$(printf '%s\n' "$out" | grep -c .)
        # Non-zero, but not 124 (timeout) nor 128 and up (killed by a signal: a crash).
        if [ $rc -ne 0 ] && [ $rc -lt 124 ] && [ "$lines" = 1 ] && printf '%s' "$out" | grep -q "needs a CUDA GPU"; then
            result PASS "demo-$name says in one line that it needs a GPU"
        else
            result FAIL "demo-$name says in one line that it needs a GPU" "exit $rc, $lines lines: $out"
        fi
        # And nothing else on stderr but make's own "Error 2" line.
        err=$("${make[@]}" demo-$name 2>&1 >/dev/null | grep -Ev '^make(\[[0-9]+\])?: \*\*\*')
        [ -z "$err" ] && result PASS "demo-$name prints no error besides that line" ||
            result FAIL "demo-$name prints no error besides that line" "$err"
    else
        if ! build=$(timeout 900 grader/demos.sh build "$name" 2>&1); then
            result FAIL "demo-$name builds" "$build"
            continue
        fi
        start=$(date +%s)
        out=$(timeout 60 "${make[@]}" demo-$name 2>&1)
        rc=$?
        took=$(($(date +%s) - start))
        if [ $rc -eq 0 ] && [ -n "$out" ]; then result PASS "demo-$name runs without a GPU (${took} s)"
        elif [ $rc -eq 124 ]; then result FAIL "demo-$name runs without a GPU" "still running after 60 s"
        else result FAIL "demo-$name runs without a GPU" "exit $rc: $(printf '%s' "$out" | tail -n 5)"; fi
        wide=$(printf '%s\n' "$out" | awk 'length > 132' | head -n 1)
        [ -z "$wide" ] && result PASS "demo-$name prints lines of at most 132 columns" ||
            result FAIL "demo-$name prints lines of at most 132 columns" "${#wide} columns: ${wide:0:60}..."
        if [ "$name" = kv-bytes ]; then   # tables read off the board: 100 columns, columns that line up
            wide=$(printf '%s\n' "$out" | awk 'length > 100' | head -n 1)
            [ -z "$wide" ] && result PASS "demo-$name prints lines of at most 100 columns" ||
                result FAIL "demo-$name prints lines of at most 100 columns" "${#wide} columns: ${wide:0:60}..."
            # Where each row puts its "total" and the end of each byte count ("... B"): one place per column.
            cols=$(printf '%s\n' "$out" | awk '
                / total +[0-9]+$/ { t[index($0, " total ")] = 1 }
                /^  [A-Za-z ]+ (FP32|BF16) +[0-9]+ B/ { s = ""; off = 0
                    while (match(substr($0, off + 1), /[0-9] B/)) { off += RSTART + 2; s = s " " off }
                    b[s] = 1 }
                END { nt = 0; nb = 0; for (k in t) nt++; for (k in b) nb++; print nt, nb }')
            [ "$cols" = "1 1" ] && result PASS "demo-$name lines up its totals and its byte counts" ||
                result FAIL "demo-$name lines up its totals and its byte counts" "places (totals, byte rows): $cols"
        fi
    fi
done

out=$("${make[@]}" demo-no-such-demo 2>/dev/null)
rc=$?
what="make demo-NAME for an unknown NAME says so"
[ $rc -ne 0 ] && printf '%s' "$out" | grep -q "no such demo" && result PASS "$what" || result FAIL "$what" "exit $rc: $out"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
