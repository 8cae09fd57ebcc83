#!/usr/bin/env bash
# The mini-model's GPU engine (finale/14-deepseek/engine) on a machine without a GPU: it builds
# for sm_80 against the solutions and against the skeletons (the engine links whichever kernels
# the build has), and every bad input gets one line and exit status 2: no GPU, a --speculative or
# --tokens out of range, an empty prompt, a missing or corrupt weights file, an unknown option.
# Its tokens against the CPU engine's are make gpu-test's (tests/gpu-test.sh); the PyTorch
# yardstick's decoder is checked on the CPU where a PyTorch is installed. Ends with
# "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
work=$(mktemp -d "${TMPDIR:-/tmp}/engine-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
make=(make --no-print-directory -s ARCH=sm_80)

for variant in solution student; do
    flag=$([ $variant = solution ] && echo SOLUTION=1 || echo SOLUTION=)
    if timeout 1200 "${make[@]}" -j2 $flag "build/sm_80/$variant/mini-gpu" >"$work/build-$variant.log" 2>&1; then
        result PASS "mini-gpu builds for sm_80 on the ${variant}s' kernels"
    else
        result FAIL "mini-gpu builds for sm_80 on the ${variant}s' kernels" "$(tail -n 3 "$work/build-$variant.log" | paste -sd ';' -)"
    fi
done
E=build/sm_80/solution/mini-gpu
[ -x $E ] || { echo "$passed passed, $failed failed"; exit 1; }

# expect WHAT PATTERN ARGS...: exit status 2 and exactly one line on stderr, matching PATTERN.
expect() {
    local what=$1 pattern=$2 out rc lines; shift 2
    out=$(timeout 60 "$E" "$@" 2>&1 >/dev/null)
    rc=$?
    lines=$(printf '%s\n' "$out" | grep -c .)
    if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && printf '%s' "$out" | grep -qE "$pattern"; then result PASS "$what"
    else result FAIL "$what" "exit $rc, $lines line(s): $(printf '%s' "$out" | head -n 3 | paste -sd ';' -)"; fi
}
expect "--speculative 8 is refused in one line" "speculative wants a number from 0 to 7" --speculative 8
expect "--tokens 0 is refused in one line" "tokens wants a number" --tokens 0
expect "an empty prompt is refused in one line" "prompt is empty" --prompt ""
expect "--scaled with --compare is refused in one line" "scaled runs greedy on random weights" --scaled --compare
expect "--scaled with an unknown configuration is refused in one line" "scaled takes v3 or 4096 .*not v2" --scaled v2
expect "an unknown option gets the usage line" "^usage: mini-gpu" --fast
expect "a missing weights file is named in one line" "nope.bin: .*(cannot|No such)" --weights "$work/nope.bin"
head -c 5000 finale/mini/weights/mini.bin >"$work/short.bin"
expect "a truncated weights file is refused in one line" "short.bin: " --weights "$work/short.bin"
expect "--ep 1 is refused in one line" "ep wants a number from 2 to 8" --ep 1
expect "--ep with --compare is refused in one line" "ep compares with one GPU itself" --ep 2 --compare
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
    expect "no GPU: one line, exit 2" "no CUDA GPU usable here"
    # Expert parallelism forks a process a GPU: without them, one line from rank 0 and no hang.
    expect "no GPU, --ep 2: one line, exit 2" "ep 2 runs on 2 GPUs, and this machine has 0|ep needs NCCL, and this build has none" --ep 2 --tokens 4
    expect "no GPU, --scaled --ep 2: one line, exit 2" "ep 2 runs on 2 GPUs, and this machine has 0|ep needs NCCL, and this build has none" --scaled --ep 2 --tokens 4
fi
# make mini-gpu on a student's kernels names, in one line each, those whose last check failed or
# that were never checked (grader/engine-kernels.sh, from the make check history), and nothing for
# kernels that pass.
"${make[@]}" build/sm_80/grader/tools/progress >/dev/null 2>&1
engine_exercises=$("${make[@]}" -s print-ENGINE_EXERCISES)
record() {  # record SESSION EXERCISE VERDICT
    printf '{"schema":"kernel-workbook-result/1","session":"%s","exercise":"%s","solution":false,"given":false,"verdict":"%s","message":"","seed":"0x1","when":"2026-11-30T04:41:26Z","gpu":"NVIDIA H200","timed":false}\n' "$1" "$2" "$3"
}
{ record serving/12-serving 01_gemv_bf16 PASS; record finale/14-deepseek 01_mla_decode PASS
  record finale/14-deepseek 02_moe_route PASS; record finale/14-deepseek 03_fp8_grouped_gemm FAIL
  record finale/14-deepseek 03_fp8_grouped_gemm+masked FAIL; record serving/12-serving 02_rmsnorm_qkv FAIL; } >"$work/history.jsonl"
out=$(bash grader/engine-kernels.sh build/sm_80/grader/tools/progress "$work/history.jsonl" $engine_exercises)
if [ "$(printf '%s\n' "$out" | grep -c .)" -eq 2 ] && [[ $out == *"03_fp8_grouped_gemm.cu failed its last make check"* ]] &&
    [[ $out == *"04_accept.cu has not been through make check"* ]]; then
    result PASS "make mini-gpu names the student's failing and unchecked engine kernels, one line each"
else
    result FAIL "make mini-gpu names the student's failing and unchecked engine kernels, one line each" "$out"
fi
{ record finale/14-deepseek 03_fp8_grouped_gemm PASS; record finale/14-deepseek 03_fp8_grouped_gemm+masked PASS
  record finale/14-deepseek 04_accept PASS; } >>"$work/history.jsonl"
out=$(bash grader/engine-kernels.sh build/sm_80/grader/tools/progress "$work/history.jsonl" $engine_exercises)
[ -z "$out" ] && result PASS "make mini-gpu says nothing when the engine's kernels pass" ||
    result FAIL "make mini-gpu says nothing when the engine's kernels pass" "$out"

# The PyTorch yardstick (bench_torch_mini.py): its cached decoder, in float32 on the CPU, gives the
# golden file's greedy bytes (where a PyTorch is installed: Debian's python3-torch is enough); and
# without a GPU the bench run says so in one line and exits 0, so make bench goes on.
py=
for p in python3 /usr/bin/python3; do "$p" -c "import torch" 2>/dev/null && { py=$p; break; }; done
if [ -n "$py" ]; then
    out=$(timeout 300 "$py" finale/14-deepseek/bench_torch_mini.py --check-cpu 2>&1)
    [ $? -eq 0 ] && result PASS "the PyTorch yardstick's decoder reproduces the golden greedy bytes on the CPU" ||
        result FAIL "the PyTorch yardstick's decoder reproduces the golden greedy bytes on the CPU" "$out"
    if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
        out=$(timeout 120 "$py" finale/14-deepseek/bench_torch_mini.py 2>&1)
        [ $? -eq 0 ] && [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ] && [[ $out == *"no CUDA GPU"* ]] &&
            result PASS "the PyTorch yardstick without a GPU: one line, exit 0" ||
            result FAIL "the PyTorch yardstick without a GPU: one line, exit 0" "$out"
    fi
else
    out=$(timeout 60 python3 finale/14-deepseek/bench_torch_mini.py 2>&1)
    [ $? -eq 0 ] && [[ $out == *"has no PyTorch"* ]] &&
        result PASS "the PyTorch yardstick without PyTorch: one line, exit 0" ||
        result FAIL "the PyTorch yardstick without PyTorch: one line, exit 0" "$out"
    echo "SKIP  the PyTorch yardstick's decoder on the CPU: no python3 with torch here (apt-get install python3-torch)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
