#!/usr/bin/env bash
# make profile's choice of what to profile, without a GPU or ncu (grader/profile.sh --kernels): the
# kernels of an exercise are found in its own file and in the local headers it includes (session
# 13's 05 keeps its kernel in the given frame: before, make profile fell back to "every kernel" and
# caught the grader's own L2 flush), and an exercise with +variants counts its own launches only
# (check --only NAME --exact). Builds session 13's solution checker for sm_80. Ends with
# "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
S=blackwell/13-nvfp4
B=build/sm_80/solution
if ! timeout 1200 make --no-print-directory -s -j2 ARCH=sm_80 SOLUTION=1 SESSIONS=$S "$B/$S/check" >/dev/null 2>&1; then
    result FAIL "session 13's solution checker builds for sm_80"
    echo "$passed passed, $failed failed"
    exit 1
fi
kernels() { bash grader/profile.sh --kernels --build "$B" --source solutions --sessions "$S" "$1" 2>&1; }

out=$(kernels 05_nvfp4_gemv_fused)
if grep -q '^kernels: .*nvfp4_fused_kernel' <<<"$out" && grep -q 'nvfp4_fused_given.cuh' <<<"$out"; then
    result PASS "05's kernel is found in the given frame it includes"
else result FAIL "05's kernel is found in the given frame it includes" "$out"; fi
grep -q 'every kernel' <<<"$out" && result FAIL "05 is not profiled as 'every kernel'" "$out" ||
    result PASS "05 is not profiled as 'every kernel'"
out=$(kernels 02_nvfp4_gemv_table)
grep -q '^kernels: .*nvfp4_gemv_table_kernel' <<<"$out" && result PASS "02's kernel is found in its own file" ||
    result FAIL "02's kernel is found in its own file" "$out"
out=$(kernels 07_no_such_exercise)
rc=$?
[ $rc -eq 64 ] && grep -q "no exercise" <<<"$out" && result PASS "an unknown exercise is named in one line, exit 64" ||
    result FAIL "an unknown exercise is named in one line, exit 64" "exit $rc: $out"

# The exercise alone with --exact, not its +variants (whose small launches shifted the count).
# Without a GPU each selected entry gets one NO_GPU row: 1 with --exact, 3 without.
if ! nvidia-smi -L >/dev/null 2>&1; then
    rows() { "$B/$S/check" --only 05_nvfp4_gemv_fused "$@" 2>&1 | grep -c '^   05_nvfp4_gemv_fused.* NO_GPU'; }
    exact=$(rows --exact) all=$(rows)
    [ "$exact" = 1 ] && [ "$all" = 3 ] &&
        result PASS "check --only 05_nvfp4_gemv_fused --exact selects 1 entry, without --exact 3" ||
        result FAIL "check --only 05_nvfp4_gemv_fused --exact selects 1 entry, without --exact 3" "$exact and $all"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
