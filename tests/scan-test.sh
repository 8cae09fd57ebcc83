#!/usr/bin/env bash
# Tests of the source scanner (grader/tools/scan.c):
#   1. it builds without warnings
#   2. every known cheat in tests/cheats gets its verdict from tests/cheats/expected.txt, and a
#      DISQUALIFIED one is reported exactly on the lines marked "// CHEAT: token | token ...", naming
#      those tokens (see tests/cheats/README.md); a .cu there without a verdict fails
#   3. every skeleton and solution under ladder/, flashattn/ and solutions/ scans clean. given/
#      folders are skipped: that code is the session's, not the student's (ladder/04's given cuBLAS
#      baseline includes library.h on purpose), and the class grader scans only the student's files
#   4. bad input: a missing file, a binary file, no arguments
# Prints PASS/FAIL lines and ends with "N passed, N failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
result() {  # result PASS|FAIL what [detail]
    if [ "$1" = PASS ]; then passed=$((passed + 1)); printf 'PASS  %s\n' "$2"
    else failed=$((failed + 1)); printf 'FAIL  %s  %s\n' "$2" "${3:-}"; fi
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

tool=build/sm_80/grader/tools/scan
cheats=tests/cheats
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scan-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ---- 1. build --------------------------------------------------------------------------------
if make --no-print-directory -s ARCH=sm_80 "$tool" >"$tmp/build.log" 2>&1 && [ -x "$tool" ]; then
    result PASS "scan builds"
else
    result FAIL "scan builds" "$(tail -n 5 "$tmp/build.log")"
    finish
fi
# make only rebuilds when scan.c changed: compile it once more here to see its warnings.
if gcc -std=c11 -Wall -Wextra -Werror -c grader/tools/scan.c -o "$tmp/scan.o" >"$tmp/warn.log" 2>&1 &&
   ! grep -q 'scan.c.*warning' "$tmp/build.log"; then
    result PASS "scan compiles with -std=c11 -Wall -Wextra without warnings"
else
    result FAIL "scan compiles with -std=c11 -Wall -Wextra without warnings" "$(head -n 5 "$tmp/warn.log")"
fi

# ---- 2. the known cheats -----------------------------------------------------------------------
# "LINE<TAB>TOKEN" for each token a file's markers ask for.
marked() {
    awk '{ if (match($0, /\/\/ CHEAT: .*$/)) {
               t = substr($0, RSTART + 10); sub(/[ \t\r]+$/, "", t)
               n = split(t, a, / \| /); for (i = 1; i <= n; i++) print NR "\t" a[i] } }' "$1" | sort
}
# "LINE<TAB>TOKEN" for each line the scanner printed about file $1 (anything else: "BAD<TAB>line").
reported() {
    awk -v f="$1" '{
        if (index($0, f ":") == 1) {
            rest = substr($0, length(f) + 2)
            if (match(rest, /^[0-9]+: DISQUALIFIED: .* \(/) && substr(rest, length(rest)) == ")") {
                split(rest, p, ":"); print p[1] "\t" substr(rest, RLENGTH + 1, length(rest) - RLENGTH - 1); next
            }
        }
        print "BAD\t" $0 }' "$2" | sort
}

declare -A verdict_of=()
while read -r file verdict rest; do
    case "$file" in ''|'#'*) continue ;; esac
    verdict_of[$file]=$verdict
    path=$cheats/$file
    if [ ! -f "$path" ]; then result FAIL "$file: exists" "listed in expected.txt"; continue; fi
    "$tool" "$path" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    case "$verdict" in
    CLEAN)
        if [ $rc -eq 0 ] && [ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ]; then result PASS "$file: CLEAN"
        else result FAIL "$file: CLEAN" "exit $rc: $(head -n 3 "$tmp/out" "$tmp/err" | tr '\n' ' ')"; fi ;;
    DISQUALIFIED)
        if [ $rc -eq 1 ] && [ -s "$tmp/out" ]; then result PASS "$file: DISQUALIFIED"
        else result FAIL "$file: DISQUALIFIED" "exit $rc"; fi
        want=$(marked "$path") got=$(reported "$path" "$tmp/out")
        if [ -z "$want" ]; then
            result FAIL "$file: reports point at the cheat lines" "no // CHEAT: marker in the file"
        elif [ "$want" = "$got" ]; then
            result PASS "$file: reports point at the cheat lines ($(echo "$want" | cut -f1 | sort -un | tr '\n' ' ' | sed 's/ $//'))"
        else
            result FAIL "$file: reports point at the cheat lines" \
                "$(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | sed 's/^</missing/; s/^>/unexpected/' | tr '\t\n' ' ;')"
        fi ;;
    *)
        result FAIL "$file: verdict" "unknown verdict '$verdict' in expected.txt" ;;
    esac
done <"$cheats/expected.txt"
for path in "$cheats"/*.cu; do
    f=$(basename "$path")
    [ -n "${verdict_of[$f]:-}" ] || result FAIL "$f: has a verdict in expected.txt"
done

# ---- 3. the workbook's own files scan clean -----------------------------------------------------
count=0
while IFS= read -r path; do
    count=$((count + 1))
    "$tool" "$path" >"$tmp/out" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && [ ! -s "$tmp/out" ]; then result PASS "$path scans clean"
    else result FAIL "$path scans clean" "exit $rc: $(head -n 3 "$tmp/out" | tr '\n' ' ')"; fi
done < <(find ladder flashattn solutions -name '*.cu' -not -path '*/given/*' | sort)
[ $count -gt 0 ] && result PASS "found $count skeletons and solutions to scan" ||
    result FAIL "found skeletons and solutions to scan"

# ---- 4. bad input ------------------------------------------------------------------------------
"$tool" "$tmp/no-such-file.cu" >"$tmp/out" 2>&1
rc=$? lines=$(grep -c . "$tmp/out")
[ $rc -eq 2 ] && [ "$lines" = 1 ] && result PASS "a missing file: exit 2, one line" ||
    result FAIL "a missing file: exit 2, one line" "exit $rc, $lines lines"
printf '__global__ void k() {}\n\0\1\2binary' >"$tmp/binary.cu"
"$tool" "$tmp/binary.cu" >"$tmp/out" 2>&1
rc=$? lines=$(grep -c . "$tmp/out")
[ $rc -eq 2 ] && [ "$lines" = 1 ] && result PASS "a binary file: exit 2, one line" ||
    result FAIL "a binary file: exit 2, one line" "exit $rc, $lines lines"
"$tool" solutions/ladder/02-cuda-model/02_saxpy_grid_stride.cu "$cheats/device_sync.cu" "$tmp/no-such-file.cu" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q 'device_sync.cu:[0-9]*: DISQUALIFIED' "$tmp/out" &&
    result PASS "several files: each scanned, exit 2 when one is unreadable" ||
    result FAIL "several files: each scanned, exit 2 when one is unreadable" "exit $rc"
"$tool" >/dev/null 2>&1
rc=$?
[ $rc -eq 64 ] && result PASS "no arguments: usage, exit 64" || result FAIL "no arguments: usage, exit 64" "exit $rc"

finish
