#!/usr/bin/env bash
# A session that builds for one architecture only (its NEEDS_ARCH file, as hopper/10-beat-cublas's
# says sm_90a), in a scratch copy of the workbook holding ladder/01-gpu-vs-cpu and a made-up
# session hopper/99-fake whose first exercise uses wgmma (no sm_80 build of it can compile):
#   - make build and make build SOLUTION=1 at sm_80 leave it out and succeed; at sm_90a it is built;
#   - make check without a GPU says once, in one line, that it needs a Hopper GPU, records
#     NEEDS_ARCH for each of its exercise files, still grades the other session, and exits 2 (all
#     that was graded passed) as it does for the missing GPU; the summary counts the skipped;
#   - the session's own make check, make progress and the record tool take the verdict;
#   - the class grader gives NEEDS_ARCH to what a student handed in, without building it, and the
#     leaderboard lists that student as not graded rather than as failing.
# Builds already made (build/sm_80: the grader, session 01) are copied in, so this takes well under
# a minute. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
src_build=$(make --no-print-directory print-BUILD)
unset MAKEFLAGS MFLAGS MAKELEVEL SOLUTION BUILD SESSIONS ARCH   # the caller's make must not steer ours
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
has_gpu() { nvidia-smi -L 2>/dev/null | grep -q '^GPU'; }

work=$(mktemp -d "${TMPDIR:-/tmp}/needs-arch.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT   # KEEP=1 keeps the scratch copy to look into
# Timestamps kept (cp -p), so that the copied objects stay newer than their sources (and their
# dependency files, which name the headers, rebuild what a changed header touches).
s1=ladder/01-gpu-vs-cpu fake=hopper/99-fake
git ls-files -z --cached --others --exclude-standard Makefile grader $s1 solutions/$s1 |
    xargs -0 cp -p --parents -t "$work/" 2>/dev/null
for d in grader student/$s1; do
    [ -d "$src_build/sm_80/$d" ] && mkdir -p "$work/build/sm_80/$(dirname "$d")" && cp -a "$src_build/sm_80/$d" "$work/build/sm_80/$(dirname "$d")/"
done
# Their dependency files name the headers (so that a changed header rebuilds what it touches) and
# each object by its path under the build folder, which is build/ here.
find "$work/build" -name '*.d' -exec sed -i "s|^$src_build/|build/|" {} +

# The made-up Hopper session: session 02's files, its first exercise given a Hopper-only instruction.
mkdir -p "$work/$(dirname $fake)" && cp -r ladder/02-cuda-model "$work/$fake"
sed -i "s,^SESSION := .*,SESSION := $fake," "$work/$fake/Makefile"
printf '__global__ void hopper_only(void) { asm volatile("wgmma.fence.sync.aligned;"); }\n' >>"$work/$fake/01_rgb_to_grey.cu"
echo sm_90a >"$work/$fake/NEEDS_ARCH"
mkdir -p "$work/solutions/$fake" && cp "$work/$fake"/[0-9][0-9]_*.cu "$work/solutions/$fake/"
cd "$work" || exit 1
make=(make --no-print-directory -s)
line="$fake: needs a Hopper GPU (sm_90a: H100, H200, H800); this build targets sm_80: skipped"
record=build/sm_80/grader/tools/record

# ---- which sessions each architecture builds ----------------------------------------------------
got=$("${make[@]}" ARCH=sm_80 print-BUILDABLE_SESSIONS)/$("${make[@]}" ARCH=sm_80 print-OTHER_ARCH_SESSIONS)
[ "$got" = "$s1/$fake" ] && result PASS "at sm_80 the Hopper session is left out" ||
    result FAIL "at sm_80 the Hopper session is left out" "buildable/other: $got"
got=$("${make[@]}" ARCH=sm_90a print-BUILDABLE_SESSIONS)/$("${make[@]}" ARCH=sm_90a print-OTHER_ARCH_SESSIONS)
[ "$got" = "$s1 $fake/" ] && result PASS "at sm_90a every session is built" ||
    result FAIL "at sm_90a every session is built" "buildable/other: $got"
# make test's compile check of the session (its TARGETS file says sm_90a): it is in the build.
"${make[@]}" -n ARCH=sm_90a SESSIONS=$fake build 2>&1 | grep -q -- "-c $fake/01_rgb_to_grey.cu" &&
    result PASS "make build ARCH=sm_90a compiles the Hopper session" ||
    result FAIL "make build ARCH=sm_90a compiles the Hopper session" "not in make -n's commands"

if "${make[@]}" -j2 ARCH=sm_80 build >build-sm80.log 2>&1; then result PASS "make build ARCH=sm_80 succeeds"
else result FAIL "make build ARCH=sm_80 succeeds" "$(grep -m 3 -i error build-sm80.log)"; fi
# The solutions' build is not made here (it would compile session 01 again): what it would do.
if out=$("${make[@]}" -n ARCH=sm_80 SOLUTION=1 build 2>&1) && ! grep -q 99-fake <<<"$out"; then
    result PASS "make build ARCH=sm_80 SOLUTION=1 leaves the Hopper session out"
else result FAIL "make build ARCH=sm_80 SOLUTION=1 leaves the Hopper session out" "$(grep -m 2 '99-fake\|rror' <<<"$out")"; fi

# ---- make check without a GPU -------------------------------------------------------------------
if has_gpu; then
    echo "   (this machine has a GPU: the no-GPU make check is make gpu-test's; skipped)"
else
    cp "solutions/$s1/01_matmul_cpu.cu" "$s1/"   # the CPU exercise passes: nothing graded fails
    out=$(timeout 300 "${make[@]}" ARCH=sm_80 check 2>&1)
    rc=$?
    rec=build/sm_80/student/results.jsonl
    n=$(grep -cxF "$line" <<<"$out")
    [ "$n" = 1 ] && result PASS "make check says in one line that the session needs Hopper" ||
        result FAIL "make check says in one line that the session needs Hopper" "said $n times: $(grep -m 3 99-fake <<<"$out")"
    verdicts=$(grep -F "\"session\":\"$fake\"" "$rec" 2>/dev/null | while read -r r; do "$record" get verdict <<<"$r"; done | sort | uniq -c | xargs)
    [ "$verdicts" = "3 NEEDS_ARCH" ] && result PASS "one NEEDS_ARCH record per exercise file" ||
        result FAIL "one NEEDS_ARCH record per exercise file" "got: ${verdicts:-none}"
    [ "$(grep -F "\"session\":\"$fake\"" "$rec" | head -n 1 | "$record" get message)" = "${line#"$fake: "}" ] &&
        result PASS "the record says why" || result FAIL "the record says why" "$(head -n 1 "$rec")"
    grep -q "01_matmul_cpu *PASS" <<<"$out" && result PASS "the other session is still graded" ||
        result FAIL "the other session is still graded" "$(tail -n 5 <<<"$out")"
    grep -q "all 1 exercises pass (3 more skipped: their session needs another GPU)" <<<"$out" &&
        result PASS "the summary counts the skipped apart" || result FAIL "the summary counts the skipped apart" "$(tail -n 1 <<<"$out")"
    # make says "Error 2" with the recipe's own status (its exit status is 2 for any failed recipe).
    grep -q "check\] Error 2$" <<<"$out" && result PASS "status 2, as for the missing GPU: not a failure, not everything graded" ||
        result FAIL "status 2, as for the missing GPU" "exit $rc: $(tail -n 1 <<<"$out")"
    [ ! -e build/sm_80/student/$fake ] && ! grep -qE "wgmma|ptxas" <<<"$out" &&
        result PASS "nothing of the Hopper session was compiled" ||
        result FAIL "nothing of the Hopper session was compiled" "$(ls build/sm_80/student/$fake 2>&1 | head -n 3)"

    # The session's own make check: the line, nothing graded, exit 2.
    out=$(timeout 120 "${make[@]}" -C $fake check ARCH=sm_80 2>&1)
    rc=$?
    [ "$(grep -cxF "$line" <<<"$out")" = 1 ] && grep -q "no exercise graded here (3 more skipped" <<<"$out" &&
        grep -q "check\] Error 2$" <<<"$out" &&
        result PASS "make -C $fake check: the line, nothing graded, status 2" ||
        result FAIL "make -C $fake check: the line, nothing graded, status 2" "exit $rc: $(tr '\n' ' ' <<<"$out")"

    # make progress: the verdict shown, never the next exercise to open.
    out=$("${make[@]}" ARCH=sm_80 progress 2>&1)
    grep -qE "^  01_rgb_to_grey +NEEDS_ARCH" <<<"$out" && grep -q "^Next: $s1/02_vector_add.cu" <<<"$out" &&
        result PASS "make progress shows NEEDS_ARCH and sends the student elsewhere" ||
        result FAIL "make progress shows NEEDS_ARCH and sends the student elsewhere" "$(tail -n 4 <<<"$out" | tr '\n' ' ')"
    out=$("${make[@]}" ARCH=sm_80 SESSIONS=$fake progress 2>&1)
    grep -q "^Every exercise this GPU can grade passes; the rest need another GPU." <<<"$out" &&
        result PASS "make progress of the skipped session alone: nothing to do here" ||
        result FAIL "make progress of the skipped session alone: nothing to do here" "$(tail -n 2 <<<"$out" | tr '\n' ' ')"
fi

# ---- the record tool -------------------------------------------------------------------------------
r=$("$record" write $fake 02_saxpy_grid_stride NEEDS_ARCH "${line#"$fake: "}")
[ "$("$record" get verdict <<<"$r")" = NEEDS_ARCH ] && result PASS "record write and get take NEEDS_ARCH" ||
    result FAIL "record write and get take NEEDS_ARCH" "$r"
"$record" accept $fake 02_saxpy_grid_stride <<<"$r" >/dev/null && result PASS "record accept takes NEEDS_ARCH" ||
    result FAIL "record accept takes NEEDS_ARCH"

# ---- the class grader and the leaderboard ------------------------------------------------------
class=$work/class out=$work/graded
mkdir -p "$class/alice/$fake" "$class/bob"
cp "$fake/01_rgb_to_grey.cu" "$class/alice/$fake/"
log=$(timeout 300 bash grader/grade-class.sh "$class" "$out" --arch sm_80 --sessions $fake --jobs 1 2>&1)
rc=$?
[ $rc = 0 ] && [ "$(grep -cxF "grade: $line" <<<"$log")" = 1 ] &&
    result PASS "the class grader says the line once and grades" ||
    result FAIL "the class grader says the line once and grades" "exit $rc: $(tail -n 5 <<<"$log" | tr '\n' ' ')"
v() { grep -F "\"exercise\":\"$2\"" "$out/$1.jsonl" 2>/dev/null | "$record" get verdict; }
[ "$(v alice 01_rgb_to_grey)/$(v alice 02_saxpy_grid_stride)/$(v bob 01_rgb_to_grey)" = NEEDS_ARCH/NOT_SUBMITTED/NOT_SUBMITTED ] &&
    result PASS "handed in: NEEDS_ARCH, unbuilt; not handed in: NOT_SUBMITTED" ||
    result FAIL "handed in: NEEDS_ARCH, unbuilt; not handed in: NOT_SUBMITTED" \
        "$(v alice 01_rgb_to_grey)/$(v alice 02_saxpy_grid_stride)/$(v bob 01_rgb_to_grey)"
grep -qE "^alice +$fake/01_rgb_to_grey +NEEDS_ARCH" <<<"$log" && grep -q "1 NEEDS_ARCH" <<<"$log" &&
    result PASS "the verdict table shows and counts NEEDS_ARCH" || result FAIL "the verdict table shows and counts NEEDS_ARCH"
md=$out/leaderboard/leaderboard.md
grep -q "Nobody is ranked: this session was not graded on this GPU (NEEDS_ARCH)." "$md" 2>/dev/null &&
    grep -q "^Not graded (NEEDS_ARCH: the session needs another GPU): alice\.$" "$md" && grep -q "^Handed in nothing: bob\.$" "$md" &&
    ! grep -q "^Not ranked: no exercise passed" "$md" &&
    result PASS "the leaderboard lists alice as not graded, not as failing" ||
    result FAIL "the leaderboard lists alice as not graded, not as failing" "$(grep -A4 "^## $fake" "$md" 2>/dev/null | tr '\n' ' ')"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
