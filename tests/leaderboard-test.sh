#!/usr/bin/env bash
# Tests of the class leaderboard (grader/tools/leaderboard.c) on the sample class in tests/leaderboard/class:
#   alice  honest, fast          bob    honest, slow         carol  fast, one exercise failing at her latest run
#   dave   disqualified in ladder/03-memory (a side stream)  erin   a broken file (last line truncated)
#   frank  nothing passed in ladder/03-memory (not ranked there), one slow pass in 04
#   grace  handed in nothing (only the given exercise's record passes)
# then on bad input of every kind (empty, binary, very long lines, foreign, out-of-range, no results).
# Prints PASS/FAIL lines and ends with "N passed, N failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
check() {  # check what command...: PASS when the command succeeds
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then result PASS "$what"; else result FAIL "$what"; fi
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# BUILD=DIR (make's variable, from the environment) builds the tool elsewhere than build/.
tool=$(make --no-print-directory print-BUILD)/sm_80/grader/tools/leaderboard
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leaderboard-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if make --no-print-directory -s ARCH=sm_80 "$tool" >"$tmp/build.log" 2>&1 && [ -x "$tool" ]; then
    result PASS "leaderboard builds"
else
    result FAIL "leaderboard builds" "$(tail -n 5 "$tmp/build.log")"
    finish
fi
if grep -q 'leaderboard.c.*warning' "$tmp/build.log"; then result FAIL "leaderboard compiles without warnings"
else result PASS "leaderboard compiles without warnings"; fi

# ---- the sample class ---------------------------------------------------------------------------
out=$tmp/out
timeout 60 "$tool" "$out" tests/leaderboard/class >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
check "exit 0 on the sample class (rc $rc)" test "$rc" = 0
md=$out/leaderboard.md html=$out/leaderboard.html
check "leaderboard.md written" test -s "$md"
check "leaderboard.html written" test -s "$html"

# The rows of one session's Markdown table: "rank student passed geomean".
rows() { awk -v s="## $1" '$0 == s {on = 1; next} /^## / {on = 0} on && /^\| [0-9D]/' "$md" |
         awk -F' *\\| *' '{print $2, $3, $4, $5}'; }
mem=$(rows ladder/03-memory) gemm=$(rows ladder/04-gemm-tiling)
order=$(echo "$mem" | awk '{printf "%s ", $2}')
# alice and bob pass 5/5, carol 4/5 (so below bob despite her higher mean), dave disqualified, last;
# frank (nothing passed) and grace (nothing handed in) are not rows of the table.
check "ladder/03-memory order: alice bob carol dave (got: $order)" test "$order" = "alice bob carol dave "
order=$(echo "$gemm" | awk '{printf "%s ", $2}')
# per session: dave is ranked (first) in ladder/04-gemm-tiling; carol timed out once: 2/3; frank 1/3.
check "ladder/04-gemm-tiling order: dave alice bob carol frank (got: $order)" test "$order" = "dave alice bob carol frank "
# Worked by hand:
#   alice, ladder/03-memory: (25 * 50 * 80 * 50 * 80)^(1/5) = (4e8)^(1/5) = e^(19.8070 / 5) = e^3.9614 = 52.53
#   bob,   ladder/03-memory: (10 * 20 * 40 * 20 * 40)^(1/5) = (5^5 * 2^11)^(1/5) = 5 * 2^2.2 = 5 * 4.5948 = 22.97
#   carol, ladder/03-memory, over the 4 she passed (her latest 03 is a FAIL, her latest 05 a PASS at 90):
#          (30 * 60 * 60 * 90)^(1/4) = 9720000^(1/4) = 55.84
#   alice, ladder/04-gemm-tiling (00_cublas_sgemm is given, not ranked): (1 * 9 * 14)^(1/3) = 126^(1/3) = 5.01
line() { echo "$1" | awk -v n="$2" '$2 == n'; }
check "alice: rank 1, 5/5, geometric mean 52.53" test "$(line "$mem" alice)" = "1 alice 5/5 52.53"
check "bob: rank 2, 5/5, geometric mean 22.97" test "$(line "$mem" bob)" = "2 bob 5/5 22.97"
check "carol: rank 3, 4/5, geometric mean 55.84 (the latest record counts)" test "$(line "$mem" carol)" = "3 carol 4/5 55.84"
check "alice in ladder/04-gemm-tiling: 3/3, 5.01 (the given exercise not ranked)" test "$(line "$gemm" alice)" = "2 alice 3/3 5.01"
check "carol's failing exercise shows FAIL" grep -q '^| 3 | carol | 4/5 | 55.84 | 30.0 | 60.0 | FAIL | 60.0 | 90.0 |$' "$md"
check "dave shown DISQUALIFIED in ladder/03-memory (MD)" test "$(line "$mem" dave)" = "DISQUALIFIED dave 4/5 -"
check "dave shown DISQUALIFIED in the HTML" grep -q '<tr class="dq"><td>DISQUALIFIED</td><td class="name">dave</td>' "$html"
check "frank in ladder/04-gemm-tiling: rank 5, 1/3, 0.60 (one pass is enough to be ranked)" \
    test "$(line "$gemm" frank)" = "5 frank 1/3 0.60"
check "the ranking rule is stated in the output" grep -q 'by exercises passed; then by the geometric mean' "$md"

# Listed apart below the table: one line per group, in the session's section.
section() { awk -v s="## $1" '$0 == s {on = 1; next} /^## / {on = 0} on' "$md"; }
has() { grep -qx -- "$2" <<<"$1"; }   # has TEXT LINE: TEXT holds the whole line LINE
pos() { grep -n -m1 -- "$2" <<<"$1" | cut -d: -f1; }
mem_sec=$(section ladder/03-memory) gemm_sec=$(section ladder/04-gemm-tiling)
check "ladder/03-memory: frank not ranked, with the verdicts of what he handed in" \
    has "$mem_sec" 'Not ranked: no exercise passed: frank (1 FAIL, 1 COMPILE_ERROR).'
check "ladder/03-memory: grace handed in nothing" has "$mem_sec" 'Handed in nothing: grace.'
check "ladder/04-gemm-tiling: grace handed in nothing (a given exercise's PASS is not hers)" \
    has "$gemm_sec" 'Handed in nothing: grace.'
check "ladder/04-gemm-tiling: nobody listed as not ranked" bash -c "! grep -q 'Not ranked' <<<\"\$1\"" _ "$gemm_sec"
check "grace is in no table row" bash -c "! grep -q '^| .* | grace |' '$md'"
t=$(pos "$mem_sec" '^| DISQUALIFIED | dave') n=$(pos "$mem_sec" '^Not ranked') h=$(pos "$mem_sec" '^Handed in nothing')
c=$(pos "$mem_sec" '^!\[')
check "the lists come after the table and before the charts (lines $t, $n, $h, ${c:-no chart})" \
    test "${t:-0}" -gt 0 -a "$t" -lt "${n:-0}" -a "${n:-0}" -lt "${h:-0}" -a "${h:-0}" -lt "${c:-999999}"
check "the HTML lists them too" grep -q '<p class="apart">Not ranked: no exercise passed: frank (1 FAIL, 1 COMPILE_ERROR).</p>' "$html"
check "  ... and grace" grep -q '<p class="apart">Handed in nothing: grace.</p>' "$html"
check "the ranking chart's data holds the ranked only: alice bob carol" \
    bash -c "[ \"\$(grep -v '^#' '$out/rank-ladder-03-memory.dat' | cut -f1,2 | tr '\t\n' '. ')\" = '1.alice 2.bob 3.carol ' ]"
check "  ... in ladder/04-gemm-tiling with frank 5th" grep -qP '^5\tfrank\t0\.6000\t1\t3$' "$out/rank-ladder-04-gemm-tiling.dat"
n=$(grep -c 'warning' "$tmp/stderr")
check "exactly one warning on stderr (got $n)" test "$n" = 1
check "the warning names erin.jsonl" grep -q 'warning: tests/leaderboard/class/erin.jsonl skipped: line 5' "$tmp/stderr"
for s in alice bob carol dave frank; do
    check "$s in leaderboard.md" grep -q "| $s |" "$md"
    check "$s in leaderboard.html" grep -q "<td class=\"name\">$s</td>" "$html"
done
check "erin (broken file) in neither output" bash -c "! grep -q erin '$md' '$html'"
check "the HTML has no script and no external asset" bash -c "! grep -Eqi '<script|<link|https?://|src=\"/' '$html'"
for f in rank-ladder-03-memory.dat spread-ladder-03-memory.dat rank-ladder-04-gemm-tiling.dat spread-ladder-04-gemm-tiling.dat; do
    check "gnuplot data $f" test -s "$out/$f"
done
check "spread of 02_sgemm_coalesced: min 4, median 9.5, max 12 over 4 students" \
    grep -qP '^1\t02_sgemm_coalesced\t4\.0000\t9\.5000\t12\.0000\t4$' "$out/spread-ladder-04-gemm-tiling.dat"
if command -v gnuplot >/dev/null; then
    for f in rank-ladder-03-memory spread-ladder-03-memory rank-ladder-04-gemm-tiling spread-ladder-04-gemm-tiling; do
        check "chart $f.png drawn (PNG)" bash -c "head -c 8 '$out/$f.png' | grep -q PNG"
        check "chart $f.png embedded in the HTML" grep -q "<img src=\"$f.png\"" "$html"
    done
else
    echo "   (gnuplot is not installed: charts not checked)"
    check "without gnuplot the tool says so" grep -q 'gnuplot is not installed' "$tmp/stdout"
fi
# Without gnuplot on PATH: one line says so, the tables are still written.
timeout 60 env PATH=/nonexistent "$PWD/$tool" "$tmp/nogp" tests/leaderboard/class/alice.jsonl >"$tmp/nogp.out" 2>&1
rc=$?
check "without gnuplot: exit 0, says so, still writes MD and HTML" \
    bash -c "[ $rc = 0 ] && grep -q 'gnuplot is not installed' '$tmp/nogp.out' && [ -s '$tmp/nogp/leaderboard.md' ] && [ -s '$tmp/nogp/leaderboard.html' ]"
check "  ... in one line that says how to install it" \
    test "$(grep gnuplot "$tmp/nogp.out")" = "leaderboard: gnuplot is not installed: the charts are skipped (Debian: apt-get install gnuplot-nox)"

# The ranking chart names who is not in it, under the bars: a stand-in gnuplot records its commands.
mkdir -p "$tmp/fakebin"
printf '#!/bin/sh\nprintf "%%s\\n" "$2" >>"$GNUPLOT_LOG"\n' >"$tmp/fakebin/gnuplot"
chmod +x "$tmp/fakebin/gnuplot"
timeout 60 env PATH="$tmp/fakebin:$PATH" GNUPLOT_LOG="$tmp/gp.log" "$tool" "$tmp/fake" tests/leaderboard/class >/dev/null 2>&1
want="kind='rank'; dat='rank-ladder-03-memory.dat'; png='rank-ladder-03-memory.png'; ttl='ladder/03-memory'; "
want+='set xlabel "not ranked (no exercise passed): frank\nhanded in nothing: grace\ndisqualified: dave" font ",10"'
check "the ranking chart lists those not ranked below it, one line per group" grep -qxF "$want" "$tmp/gp.log"
check "  ... and ladder/04-gemm-tiling's lists grace only" \
    grep -qF "ttl='ladder/04-gemm-tiling'; set xlabel \"handed in nothing: grace\" font" "$tmp/gp.log"
check "  ... and the spread charts list nobody" bash -c "! grep \"kind='spread'\" '$tmp/gp.log' | grep -q xlabel"

# A session nobody passed: no ranking, only the lists.
timeout 60 "$tool" "$tmp/nobody" tests/leaderboard/class/grace.jsonl >/dev/null 2>&1
rc=$?
n=$(grep -c '^Nobody is ranked: nobody passed an exercise of this session.$' "$tmp/nobody/leaderboard.md")
check "nobody passed: exit 0, each session says nobody is ranked (rc $rc, $n of 2)" test "$rc:$n" = "0:2"
check "  ... with no table" bash -c "! grep -q '^| rank' '$tmp/nobody/leaderboard.md'"
check "  ... and grace handed in nothing" test "$(grep -c '^Handed in nothing: grace.$' "$tmp/nobody/leaderboard.md")" = 2

# A class folder of sources (not results): one line says to grade it first.
timeout 20 "$tool" "$tmp/sources" tests/class >"$tmp/src.out" 2>&1
rc=$?
check "a class folder of .cu files: exit 64, one line saying make grade CLASS=tests/class OUT=... first (rc $rc)" \
    bash -c "[ $rc = 64 ] && [ \$(grep -c . '$tmp/src.out') = 1 ] && grep -q 'run make grade CLASS=tests/class OUT=DIR first' '$tmp/src.out'"
check "  ... and writes nothing" test ! -e "$tmp/sources"

# ---- bad input: never a crash, one warning per bad file -----------------------------------------
bad=$tmp/bad
mkdir -p "$bad/empty-dir" "$bad/files"
good=$(head -n 1 tests/leaderboard/class/alice.jsonl)
: >"$bad/files/empty.jsonl"
printf '\n\n  \n' >"$bad/files/blank.jsonl"
head -c 8192 /dev/urandom >"$bad/files/junk.jsonl"
printf '{"schema":"kernel-workbook-result/1","session":"s","exercise":"e","verdict":"PASS","when":"x","message":"%s"}\n' \
    "$(head -c 300000 /dev/zero | tr '\0' a)" >"$bad/files/long.jsonl"
printf '{"schema":"kernel-workbook-result/1","session":"s","exercise":"e","verdict":"PASS","when":"x","message":"%s"}\n' \
    "$(head -c 5000 /dev/zero | tr '\0' a)" >"$bad/files/longfield.jsonl"
head -c 200000 /dev/zero | tr '\0' '{' >"$bad/files/braces.jsonl"
echo "${good/kernel-workbook-result\/1/other-tool\/2}" >"$bad/files/foreign.jsonl"
echo '{"schema":"kernel-workbook-result/1","session":"ladder/03-memory","verdict":"PASS","when":"2026-12-01T10:00:00Z"}' >"$bad/files/noexercise.jsonl"
echo "${good/\"pct_peak\":25/\"pct_peak\":150}" >"$bad/files/over100.jsonl"
echo "${good/\"pct_peak\":25/\"pct_peak\":-3}" >"$bad/files/negative.jsonl"
echo "${good/\"pct_peak\":25/\"pct_peak\":NaN}" >"$bad/files/nan.jsonl"
echo "${good/\"pct_peak\":25/\"pct_peak\":\"fast\"}" >"$bad/files/string.jsonl"
echo '[1,2,3]' >"$bad/files/array.json"
cp handouts/bench/h100-2026-11-22.jsonl "$bad/files/solutions.jsonl"   # the hidden solutions' records
nbad=$(ls "$bad/files" | wc -l)
for f in "$bad"/files/*; do
    timeout 20 "$tool" "$tmp/o1" "$f" >/dev/null 2>"$tmp/e1"
    rc=$?
    w=$(grep -c "warning: $f skipped" "$tmp/e1")
    check "$(basename "$f"): exit 1, one warning naming it (rc $rc, $w)" test "$rc:$w" = "1:1"
done
timeout 60 "$tool" "$tmp/o2" "$bad/files" tests/leaderboard/class/alice.jsonl >/dev/null 2>"$tmp/e2"
rc=$?
n=$(grep -c warning "$tmp/e2")
check "bad files with one good one: exit 0, $nbad warnings (rc $rc, $n)" test "$rc:$n" = "0:$nbad"
check "  ... and the good student is ranked" grep -q '| 1 | alice | 5/5 | 52.53 |' "$tmp/o2/leaderboard.md"
timeout 20 "$tool" "$tmp/o3" "$bad/empty-dir" >/dev/null 2>"$tmp/e3"
rc=$?
check "a directory with no results: exit 1, says so (rc $rc)" bash -c "[ $rc = 1 ] && grep -q 'no \*.json or \*.jsonl' '$tmp/e3'"
check "  ... and writes nothing" test ! -e "$tmp/o3"
timeout 20 "$tool" "$tmp/o4" "$bad/no-such-file.jsonl" >/dev/null 2>&1
check "a missing file: exit 1" test $? = 1
timeout 20 "$tool" >/dev/null 2>&1
check "no arguments: exit 64" test $? = 64
timeout 20 "$tool" "$tmp/o5" >/dev/null 2>&1
check "no results argument: exit 64" test $? = 64
mkdir -p "$bad/again" && cp tests/leaderboard/class/alice.jsonl "$bad/again/alice.jsonl"
timeout 20 "$tool" "$tmp/o6" tests/leaderboard/class/alice.jsonl "$bad/again/alice.jsonl" >/dev/null 2>"$tmp/e6"
rc=$?
check "the same student twice: exit 0, the second file named in one warning" \
    bash -c "[ $rc = 0 ] && [ \$(grep -c warning '$tmp/e6') = 1 ] && grep -q 'again/alice.jsonl skipped' '$tmp/e6'"

finish
