#!/usr/bin/env bash
# Session 13, exercise 06 without a GPU: Blackwell's e2m1 conversion (PTX cvt.rn.f16x2.e2m1x2,
# SASS F2FP.F16.E2M1.UNPACK_B) is in the solution's sm_100a machine code, and only there: the
# sm_90a and sm_80 builds take exercise 05's bit decode instead (no E2M1 instruction), and the
# shipped skeleton holds none on sm_100a (its TODO is the instruction). Also compiles every rung
# 02-06, skeleton and solution, for sm_80, sm_90a and sm_100a. cuobjdump comes from
# grader/sass.sh --find-tools (the CUDA toolkit's, or installed with pip where it is missing).
# Builds in build/nvfp4-sm100-test/ only. Ends with "N passed, N failed"; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/.."
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
work=build/nvfp4-sm100-test
mkdir -p "$work"
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]

session=blackwell/13-nvfp4
compile() {  # compile SRC ARCH OBJ [extra flags]: the Makefile's flags for an exercise object
    local src=$1 arch=$2 obj=$3; shift 3
    nvcc -O3 -std=c++17 -lineinfo -Xcompiler -Wall -diag-suppress 550 "$@" \
        -gencode=arch=compute_${arch#sm_},code=$arch -I$session -Igrader -c "$src" -o "$obj" >"$obj.log" 2>&1
}

for arch in sm_80 sm_90a sm_100a; do
    for src in $session/0[2-6]_nvfp4_gemv_*.cu solutions/$session/0[2-6]_nvfp4_gemv_*.cu; do
        [ -f "$src" ] || continue
        kind=solution; extra=()
        case $src in solutions/*) ;; *) kind=skeleton; extra=(-diag-suppress 177) ;; esac
        name=$(basename "$src" .cu)
        obj="$work/$kind-$name-$arch.o"
        if compile "$src" "$arch" "$obj" "${extra[@]}"; then result PASS "$kind $name builds for $arch"
        else result FAIL "$kind $name builds for $arch" "$(grep -m 2 -i error "$obj.log" | tr '\n' ' ')"; fi
    done
done

if ! cuobjdump=$(bash grader/sass.sh --find-tools 2>"$work/find-tools.log" | tail -n 1) || [ ! -x "$cuobjdump" ]; then
    result FAIL "cuobjdump found (grader/sass.sh --find-tools)" "$(tail -n 2 "$work/find-tools.log" | tr '\n' ' ')"
else
    count() {  # count OBJ: the E2M1 conversions in its SASS, or -1 when it cannot be read
        [ -f "$1" ] || { echo -1; return; }
        "$cuobjdump" -sass "$1" 2>/dev/null >"$1.sass" || { echo -1; return; }
        grep -c 'F2FP\.F16\.E2M1\.UNPACK_B' "$1.sass"
    }
    n=$(count "$work/solution-06_nvfp4_gemv_sm100-sm_100a.o")
    [ "$n" -gt 0 ] && result PASS "solution 06 on sm_100a: $n F2FP.F16.E2M1.UNPACK_B (the e2m1 conversion)" ||
        result FAIL "solution 06 on sm_100a holds F2FP.F16.E2M1.UNPACK_B" "found $n"
    for arch in sm_90a sm_80; do
        n=$(count "$work/solution-06_nvfp4_gemv_sm100-$arch.o")
        [ "$n" -eq 0 ] && result PASS "solution 06 on $arch: no E2M1 conversion (05's bit decode)" ||
            result FAIL "solution 06 on $arch has no E2M1 conversion" "found $n"
    done
    n=$(count "$work/skeleton-06_nvfp4_gemv_sm100-sm_100a.o")
    [ "$n" -eq 0 ] && result PASS "skeleton 06 on sm_100a: no E2M1 conversion yet (the TODO)" ||
        result FAIL "skeleton 06 on sm_100a has no E2M1 conversion" "found $n"
    n=$(count "$work/solution-05_nvfp4_gemv_fused-sm_100a.o")
    [ "$n" -eq 0 ] && result PASS "solution 05 on sm_100a: no E2M1 conversion (bit decode everywhere)" ||
        result FAIL "solution 05 on sm_100a has no E2M1 conversion" "found $n"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
