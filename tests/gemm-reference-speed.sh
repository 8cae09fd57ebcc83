#!/usr/bin/env bash
# How fast the grader's CPU references of a matrix product go, before and after they computed their
# sampled rows together (tests/bench/gemm_reference_speed.c): the library's build (AVX2 where the
# processor has it) and the baseline build. A benchmark: it prints, it judges nothing but that the
# rows both ways computed are the same bits. Arguments: [N K [ROWS]] (8192 8192 66). Builds in
# build/gemm-reference-speed/.
set -u
cd "$(dirname "$0")/.."
work=${GEMM_REFERENCE_SPEED_DIR:-build/gemm-reference-speed}
mkdir -p "$work"
cc=${CC:-cc}
flags=(-O2 -g -std=c11 -Wall -Wextra -D_GNU_SOURCE -Igrader)   # the Makefile's CFLAGS
status=0
for build in library baseline; do
    extra=()
    [ $build = baseline ] && extra=(-DREF_MATMUL_BASELINE_ONLY)
    if ! "$cc" "${flags[@]}" "${extra[@]}" tests/bench/gemm_reference_speed.c grader/ref/matmul.c -lm \
            -o "$work/speed-$build" 2>"$work/build-$build.log"; then
        echo "gemm-reference-speed: the $build build failed: $(head -n 3 "$work/build-$build.log" | tr '\n' ' ')"
        exit 1
    fi
    echo "== $build build"
    "$work/speed-$build" "$@" || status=1
done
exit $status
