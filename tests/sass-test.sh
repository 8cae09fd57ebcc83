#!/usr/bin/env bash
# make sass (grader/sass.sh) without a GPU:
#   - cuobjdump and nvdisasm are found, or installed with pip where they are missing;
#   - every session with a SASS file: the file is well formed, each solution's object holds its
#     signature and each skeleton named on a `skeleton` line holds that line's words, built for the
#     session's last TARGETS architecture, the newest GPU it builds for (sm_90a without one);
#   - Hopper's instructions as this CUDA's cuobjdump prints them: tests/sass/10-hopper-probe holds
#     one kernel per idea of session 10 (TMA load, multicast and store, bulk copies, mbarriers,
#     wgmma, setmaxnreg, cluster barriers) and its SASS file names the families each must show;
#     the session is sm_90a only (NEEDS_ARCH), so make sass reads it for sm_90a unasked;
#   - a wgmma skeleton whose mma is not written yet: nvcc's empty HGMMA is not counted;
#   - the errors, each one line: no EX, an unknown exercise, a prefix of several, an ARCH the
#     session does not build for, a file that does not compile, a signature not yet held.
# Ends with "N passed, N failed"; exit 1 on a failure.
set -u
cd "$(dirname "$0")/.." || exit 1
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
unset ARCH SOLUTION FULL EX SESSIONS
build=${BUILD:-build}
make_=(make --no-print-directory BUILD="$build")
probe=tests/sass/10-hopper-probe

if tools=$(bash grader/sass.sh --find-tools 2>&1); then result PASS "cuobjdump found: $(echo "$tools" | tail -n 1)"
else
    result FAIL "cuobjdump and nvdisasm found or installed" "$(echo "$tools" | tail -n 2 | tr '\n' ' ')"
    echo; echo "$passed passed, $failed failed"; exit 1
fi

# sass SESSION ARCH [--solution] [--signature WORDS] EXERCISE: the verdict alone (--quiet)
sass() { local s=$1 a=$2; shift 2; bash grader/sass.sh --make make --build-root "$build" --arch "$a" --arch-given --sessions "$s" --quiet "$@" 2>&1; }

# ---- every session's SASS file --------------------------------------------------------------------
for s in $("${make_[@]}" -s print-ALL_SESSIONS); do
    [ -f "$s/SASS" ] || continue
    arch=sm_90a
    [ -f "$s/TARGETS" ] && arch=$(awk '{print $NF; exit}' "$s/TARGETS")   # the last: the newest GPU it builds for
    bad=$(awk -v s="$s" '
        /^[ \t]*(#|$)/ { next }
        { skel = $1 == "skeleton"; name = skel ? $2 : $1; first = skel ? 3 : 2
          if (name !~ /^[0-9][0-9]_[A-Za-z0-9_]+$/) { print NR ": no exercise name"; next }
          if (NF < first) { print NR ": no words"; next }
          for (i = first; i <= NF; i++) if ($i !~ /^!?[A-Z][A-Za-z0-9_.]*$/) print NR ": bad word " $i
          key = (skel ? "skeleton " : "") name
          if (key in seen) print NR ": " key " twice"; seen[key] = 1
          cmd = "test -f " s "/" name ".cu"; if (system(cmd) != 0) print NR ": no " s "/" name ".cu" }' "$s/SASS")
    [ -z "$bad" ] && result PASS "$s/SASS is well formed" || result FAIL "$s/SASS is well formed" "$(echo $bad)"
    while read -r first rest; do
        case $first in ''|'#'*) continue ;; esac
        if [ "$first" = skeleton ]; then
            read -r name words <<<"$rest"
            out=$(sass "$s" "$arch" --signature "$words" "$name")
            [ $? = 0 ] && result PASS "skeleton $s/$name holds $words ($arch)" ||
                result FAIL "skeleton $s/$name holds $words ($arch)" "$(echo $out | cut -c1-300)"
        else
            out=$(sass "$s" "$arch" --solution "$first")
            [ $? = 0 ] && result PASS "solution $s/$first holds its signature $rest ($arch)" ||
                result FAIL "solution $s/$first holds its signature $rest ($arch)" "$(echo $out | cut -c1-300)"
        fi
    done <"$s/SASS"
done

# ---- Hopper's mnemonics, through make sass as a student calls it ----------------------------------
out=$("${make_[@]}" sass SESSIONS=$probe EX=01_hopper_probe 2>&1)
rc=$?
if [ $rc = 0 ] && grep -q "^signature of 01_hopper_probe ($probe/SASS): holds" <<<"$out"; then
    result PASS "the Hopper probe holds its signature (HGMMA UTMALDG MULTICAST UTMASTG SYNCS ...)"
else
    result FAIL "the Hopper probe holds its signature" "exit $rc: $(grep -A4 '^signature' <<<"$out" | tr '\n' ' ')"
fi
grep -q "^(reading sm_90a: $probe builds for sm_90a only)" <<<"$out" && grep -q "compiled for sm_90a" <<<"$out" &&
    result PASS "a session for sm_90a only is read for sm_90a without ARCH" ||
    result FAIL "a session for sm_90a only is read for sm_90a without ARCH" "$(head -n 2 <<<"$out" | tr '\n' ' ')"
# One block per kernel, in the file's order, by its demangled name.
kernels=$(grep '^kernel ' <<<"$out" | sed 's/^kernel //; s/(.*//' | tr '\n' ' ')
[ "$kernels" = "probe_tma_load probe_tma_store probe_multicast probe_bulk_copy probe_wgmma probe_setmaxnreg " ] &&
    result PASS "kernels listed in source order by name" || result FAIL "kernels listed in source order by name" "$kernels"
grep -q '^kernel probe_wgmma(float\*, unsigned long, unsigned long)$' <<<"$out" &&
    result PASS "kernel names demangled" || result FAIL "kernel names demangled"
# Per kernel: the counts and their words (the wgmma kernel: one HGMMA, one QGMMA, fence and wait).
wg=$(sed -n '/^kernel probe_wgmma/,/^kernel /p' <<<"$out")
grep -qE '^  HGMMA +1   warpgroup MMA' <<<"$wg" && grep -qE '^    \.64x16x16\.F32\.BF16 +1$' <<<"$wg" &&
    grep -qE '^  QGMMA +1 ' <<<"$wg" && grep -qE '^    \.ARRIVE +1   wgmma.fence' <<<"$wg" &&
    grep -qE '^  UTMALDG +0 ' <<<"$wg" &&
    result PASS "a kernel's block: family counts, opcodes, plain words, zeros of the signature" ||
    result FAIL "a kernel's block: family counts, opcodes, plain words, zeros of the signature" "$(echo $wg | cut -c1-300)"
wide=$(awk 'length($0) >= 100' <<<"$out")
[ -z "$wide" ] && result PASS "make sass prints under 100 columns" || result FAIL "make sass prints under 100 columns" "$(head -n 2 <<<"$wide")"

out=$("${make_[@]}" sass SESSIONS=$probe EX=02_wgmma_unfinished 2>&1)
[ $? = 0 ] && grep -q "1 empty HGMMA not counted" <<<"$out" && grep -qE '^  HGMMA +0 ' <<<"$out" &&
    result PASS "nvcc's empty HGMMA for a lone wgmma.commit_group is not counted" ||
    result FAIL "nvcc's empty HGMMA for a lone wgmma.commit_group is not counted" "$(echo $out | cut -c1-300)"

out=$("${make_[@]}" sass SESSIONS=$probe EX=02_wgmma_unfinished FULL=1 2>&1)
grep -qE '^  /\*[0-9a-f]{4}\*/ WARPGROUP\.ARRIVE$' <<<"$out" && ! grep -q '/\* 0x' <<<"$out" &&
    result PASS "FULL=1 lists every instruction, without encodings" || result FAIL "FULL=1 lists every instruction, without encodings"

# ---- errors: one line each, non-zero exit -------------------------------------------------------
error_case() {  # error_case WHAT PATTERN make-arguments...: exit non-zero, one "make sass:" line matching PATTERN
    local what=$1 pattern=$2 out rc lines
    shift 2
    out=$("${make_[@]}" sass "$@" 2>&1)
    rc=$?
    lines=$(grep -c '^make sass:' <<<"$out")
    if [ $rc != 0 ] && [ "$lines" = 1 ] && grep -q "^make sass: .*$pattern" <<<"$out"; then result PASS "$what"
    else result FAIL "$what" "exit $rc, $lines lines: $(echo $out | cut -c1-200)"; fi
}
error_case "no EX: one line" "EX=NAME"
error_case "an unknown exercise: one line" "no exercise '99_no_such_exercise'" EX=99_no_such_exercise
error_case "a prefix of several exercises: one line" "start with '0'" EX=0 SESSIONS=$probe
error_case "an ARCH the session does not build for: one line" "builds for sm_90a only.*no sm_80 object" EX=01_hopper_probe SESSIONS=$probe ARCH=sm_80
out=$("${make_[@]}" sass SESSIONS=$probe EX=03_does_not_compile 2>&1)
[ $? != 0 ] && grep -q "undeclared_name" <<<"$out" && grep -q "^make sass: .*03_does_not_compile.cu does not compile for sm_90a" <<<"$out" &&
    result PASS "a file that does not compile: nvcc's error, then one line" ||
    result FAIL "a file that does not compile: nvcc's error, then one line" "$(echo $out | cut -c1-200)"
out=$(sass $probe sm_90a --signature "HMMA !UTMALDG" 01_hopper_probe)
[ $? = 1 ] && grep -q "your kernels have no HMMA yet" <<<"$out" && grep -q "have 2 UTMALDG: this exercise should have none" <<<"$out" &&
    result PASS "a signature not held: what is missing, what should not be there (exit 1)" ||
    result FAIL "a signature not held: what is missing, what should not be there (exit 1)" "$(echo $out | cut -c1-200)"

echo
echo "$passed passed, $failed failed"
[ $failed = 0 ]
