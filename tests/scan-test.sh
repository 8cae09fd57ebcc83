#!/usr/bin/env bash
# Tests of the source scanner (grader/tools/scan.c):
#   1. it builds without warnings
#   2. every known cheat in tests/cheats gets its verdict from tests/cheats/expected.txt, and a
#      DISQUALIFIED one is reported exactly on the lines marked "// CHEAT: token | token ..." (or
#      "/* CHEAT: token | ... */" on a line that ends in a splice), naming those tokens (see
#      tests/cheats/README.md); a .cu there without a verdict fails
#   3. every skeleton and solution of every session folder, and under solutions/, scans clean. given/
#      folders are skipped: that code is the session's, not the student's (ladder/04's given cuBLAS
#      baseline includes library.h on purpose), and the class grader scans only the student's files
#   4. bad input and exit codes: a missing file (2), a file with a NUL byte (3), a 50 MB file and one
#      a byte over 1 MiB (3, refused unread), several files (the worst code), no arguments (64)
#   5. hostile sizes, made here at run time: 100k hits (the first 50 shown, then "... and N more")
#      and other near-1-MiB shapes each scan in under 2 s; --time-limit stops a scan with exit 2
# Prints PASS/FAIL lines and ends with "N passed, N failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# SCAN=path: test that binary (built by hand, e.g. gcc -O2 -std=c11 grader/tools/scan.c -o DIR/scan)
# instead of building build/sm_80/grader/tools/scan with make.
tool=${SCAN:-build/sm_80/grader/tools/scan}
cheats=tests/cheats
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scan-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/build.log"

# ---- 1. build --------------------------------------------------------------------------------
if [ -n "${SCAN:-}" ]; then
    [ -x "$tool" ] && result PASS "scan given: $tool" || { result FAIL "scan given" "$tool is not executable"; finish; }
elif make --no-print-directory -s ARCH=sm_80 "$tool" >"$tmp/build.log" 2>&1 && [ -x "$tool" ]; then
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
# "LINE<TAB>TOKEN" for each token a file's markers ask for. Lines end at LF, CRLF or a lone CR, as
# the compiler counts them (tests/cheats has CR-only and CRLF files).
marked() {
    awk 'BEGIN { RS = "\r\n|\r|\n" }
         { t = ""
           if (match($0, /\/\* CHEAT: [^*]*\*\//)) { t = substr($0, RSTART + 10, RLENGTH - 12) }
           else if (match($0, /\/\/ CHEAT: .*$/)) { t = substr($0, RSTART + 10) }
           sub(/[ \t]+$/, "", t)
           if (t != "") { n = split(t, a, / \| /); for (i = 1; i <= n; i++) print NR "\t" a[i] } }' "$1" | sort
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
done < <(find ladder flashattn hopper serving blackwell finale solutions -name '[0-9][0-9]_*.cu' -not -path '*/given/*' | sort)
[ $count -gt 0 ] && result PASS "found $count skeletons and solutions to scan" ||
    result FAIL "found skeletons and solutions to scan"

# ---- 4. bad input and exit codes -----------------------------------------------------------------
# check NAME WANT_RC PATTERN [ARGS...]: the scanner run on ARGS exits WANT_RC with one line matching PATTERN.
check() {
    local what=$1 want=$2 pattern=$3; shift 3
    "$tool" "$@" >"$tmp/out" 2>&1
    local rc=$? lines
    lines=$(grep -c . "$tmp/out")
    if [ $rc -eq "$want" ] && [ "$lines" = 1 ] && grep -q -- "$pattern" "$tmp/out"; then result PASS "$what"
    else result FAIL "$what" "exit $rc, $lines lines: $(head -c 300 "$tmp/out" | tr '\n' ' ')"; fi
}
check "a missing file: exit 2, cannot read" 2 ': scan: cannot read (' "$tmp/no-such-file.cu"
check "a directory: exit 2, cannot read" 2 ': scan: cannot read (' "$tmp"
printf '__global__ void k() {}\n\0\1\2binary' >"$tmp/binary.cu"
check "a NUL byte: exit 3, refused, not a text file" 3 'binary.cu: scan: refused: not a text file (a NUL byte at offset 23)$' "$tmp/binary.cu"
yes 'int x;' | head -c $((50 << 20)) >"$tmp/big.cu"
t0=$EPOCHREALTIME
check "a 50 MB file: exit 3, refused, too large" 3 \
    'big.cu: scan: refused: too large (the file is 50.0 MiB; an exercise file may be at most 1 MiB)$' "$tmp/big.cu"
ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
[ "$ms" -lt 500 ] && result PASS "a 50 MB file is refused unread (${ms} ms)" || result FAIL "a 50 MB file is refused unread" "${ms} ms"
rm -f "$tmp/big.cu"
head -c $((1 << 20)) /dev/zero | tr '\0' '\n' >"$tmp/limit.cu"
"$tool" "$tmp/limit.cu" >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ ! -s "$tmp/out" ] && result PASS "a file of exactly 1 MiB: scanned, clean" ||
    result FAIL "a file of exactly 1 MiB: scanned, clean" "exit $rc"
printf '\n' >>"$tmp/limit.cu"
check "a file one byte over 1 MiB: exit 3, too large, in bytes" 3 \
    'refused: too large (the file is 1048577 bytes; an exercise file may be at most 1 MiB, 1048576 bytes)$' "$tmp/limit.cu"
"$tool" solutions/ladder/02-cuda-model/02_saxpy_grid_stride.cu "$cheats/device_sync.cu" "$tmp/no-such-file.cu" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q 'device_sync.cu:[0-9]*: DISQUALIFIED' "$tmp/out" &&
    result PASS "several files: each scanned, exit 2 when one is unreadable" ||
    result FAIL "several files: each scanned, exit 2 when one is unreadable" "exit $rc"
"$tool" "$cheats/device_sync.cu" "$tmp/binary.cu" solutions/ladder/02-cuda-model/02_saxpy_grid_stride.cu >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 3 ] && [ "$(grep -c . "$tmp/out")" = 2 ] && result PASS "several files: refused (3) outranks a hit (1)" ||
    result FAIL "several files: refused (3) outranks a hit (1)" "exit $rc"
"$tool" >/dev/null 2>&1
rc=$?
[ $rc -eq 64 ] && result PASS "no arguments: usage, exit 64" || result FAIL "no arguments: usage, exit 64" "exit $rc"
"$tool" --time-limit soon "$cheats/device_sync.cu" >/dev/null 2>&1
rc=$?
[ $rc -eq 64 ] && result PASS "--time-limit with no number: usage, exit 64" || result FAIL "--time-limit with no number: usage, exit 64" "exit $rc"

# ---- 5. hostile sizes ------------------------------------------------------------------------------
# timed NAME FILE: exit 1 or 0, at most 51 lines, under 2 s. Sets $ms and leaves the output in $tmp/out.
timed() {
    local t0=$EPOCHREALTIME
    "$tool" "$2" >"$tmp/out" 2>&1
    local rc=$? lines
    ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
    lines=$(grep -c . "$tmp/out")
    if [ $rc -le 1 ] && [ "$lines" -le 51 ] && [ "$ms" -lt 2000 ]; then result PASS "$1 (${ms} ms, $lines lines)"
    else result FAIL "$1" "exit $rc, $lines lines, ${ms} ms"; fi
}
awk 'BEGIN { for (i = 0; i < 100000; i++) print "fork();" }' >"$tmp/hits.cu"  # 800 KB
timed "100k hits, one a line: under 2 s" "$tmp/hits.cu"
[ "$(grep -c ': DISQUALIFIED: ' "$tmp/out")" = 50 ] && [ "$(tail -n 1 "$tmp/out")" = "$tmp/hits.cu: ... and 99950 more" ] &&
    result PASS "100k hits: the first 50 shown, then \"... and 99950 more\"" ||
    result FAIL "100k hits: the first 50 shown, then \"... and 99950 more\"" "$(tail -n 2 "$tmp/out" | tr '\n' ' ')"
"$tool" --time-limit 0.001 "$tmp/hits.cu" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && [ "$(cat "$tmp/out")" = "$tmp/hits.cu: scan: took longer than 0.001 s" ] &&
    result PASS "--time-limit 0.001: one line, exit 2" ||
    result FAIL "--time-limit 0.001: one line, exit 2" "exit $rc: $(head -c 200 "$tmp/out")"
# One line of ~1 MiB: distinct hits on it, then shapes that once rescanned or nested.
awk 'BEGIN { for (i = 0; i < 80000; i++) printf "cuMem%d; ", i; print "" }' >"$tmp/line.cu"
timed "80k distinct hits on one 1 MiB line: under 2 s" "$tmp/line.cu"
shape() {  # shape NAME UNIT: UNIT repeated to 1 MiB less a little, one line
    awk -v u="$2" 'BEGIN { n = int(1040000 / length(u)); for (i = 0; i < n; i++) printf "%s", u; print "" }' >"$tmp/shape.cu"
    timed "1 MiB of $1: under 2 s" "$tmp/shape.cu"
}
shape "a::a::...: one qualified name" 'a::'
shape "adjacent literals" '"a" '
shape "asm keywords" 'asm '
shape "__has_include(< without >" '__has_include(<'
shape "_Pragma operators" '_Pragma("x") '
shape "odd characters" '$\'
shape "unterminated literals" "'\""
shape "token pastes" '## '
shape "open parentheses" '('
printf 'R"0123456789abcdef(' >"$tmp/raw.cu"
awk 'BEGIN { for (i = 0; i < 1040000; i++) printf ")"; print "" }' >>"$tmp/raw.cu"
timed "a raw string of 1M ')' none of which ends it: under 2 s" "$tmp/raw.cu"
awk 'BEGIN { for (i = 0; i < 500000; i++) print "\\" }' >"$tmp/splices.cu"
timed "500k line splices: under 2 s" "$tmp/splices.cu"

finish
