#!/usr/bin/env bash
# finale/14-deepseek 01_mla_decode on a Hopper GPU (sm_90a): build the finale's check (solutions),
# check the solution at every shape, bench it (h16: % of the measured copy; h128: TFLOP/s),
# memcheck and racecheck at the small sizes, then rebuild the solution's object with other values
# of its -D knobs and time each with a microbenchmark (mla_decode alone, pages permuted as the
# grader deals them, and in order), and the most promising through the grader's bench too.
#
#   bash tests/gpu/session14/mla-variants.sh   from anywhere, OUT=dir for the logs; about 5-6 minutes
#
# Env: OUT (default build/mla-variants), MLA_BUILD (make's BUILD folder, default build),
# MLA_SKIP_BUILD=1 (use what MLA_BUILD holds), MLA_MICRO and MLA_VARIANTS (names from the FLAGS
# table below: timed by the microbenchmark, and by the grader), MLA_SANITIZE (default "memcheck
# racecheck"; empty: none), MLA_SKIP_CHECK=1 (no separate check: the bench checks every shape
# too), MLA_TIME_LIMIT (the check's limit a run, default 120 s). Logs under $OUT, in a few files:
# summary.txt (this output), build.log, check.log, bench.log, sanitizer.log, variants.log and
# results.jsonl (every grader record).
set -u
SELF=$(realpath "$0")
cd "$(dirname "$SELF")/../../.."   # the repository root
OUT=${OUT:-build/mla-variants}
mkdir -p "$OUT"
BUILD=${MLA_BUILD:-build}
ARCH=sm_90a
S=finale/14-deepseek
B=$BUILD/$ARCH/solution/$S
G=$BUILD/$ARCH/grader
ROOFS=$BUILD/roofs
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
TL=${MLA_TIME_LIMIT:-120}  # the check's limit a run, seconds
exec > >(tee "$OUT/summary.txt") 2>&1
export NCCL_NVLS_ENABLE=0

# One line a record: exercise, verdict, median, % of the measured roof, rate.
table() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
tag = sys.argv[2]
for line in open(sys.argv[1]):
    try: r = json.loads(line)
    except Exception: continue
    ms = r.get("median_ms")
    rate = ""
    if ms and r.get("flops"): rate = "%.1f TFLOP/s" % (r["flops"] / ms / 1e9)
    pct = r.get("pct_measured_roof")
    print("%-14s %-26s %-6s %9s ms  %6s%% of measured roof  %s  rel_err %s" % (
        tag, r.get("exercise"), r.get("verdict"), "%.4f" % ms if ms else "-",
        "%.1f" % pct if pct is not None else "-", rate, r.get("rel_error")))
EOF
}

echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD 2>/dev/null) (uncommitted changes: $(git status --short | wc -l))"
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw --format=csv

# A prebuilt check that does not run here (another machine's libraries) is rebuilt.
[ "${MLA_SKIP_BUILD:-0}" = 1 ] && ! "$B/check" --list >/dev/null 2>&1 && { echo "prebuilt check does not run: building"; MLA_SKIP_BUILD=0; }
if [ "${MLA_SKIP_BUILD:-0}" != 1 ]; then
    echo "== build ($BUILD)"
    if ! make -j16 BUILD="$BUILD" ARCH=$ARCH SOLUTION=1 SESSIONS=$S build >"$OUT/build.log" 2>&1; then
        tail -30 "$OUT/build.log"; echo "build failed"; exit 1
    fi
fi
# Registers, shared memory and spills of the solution's kernels, as built.
"$NVCC" -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -I$S -Igrader -Xptxas -v -c solutions/$S/01_mla_decode.cu \
    -o /tmp/mla_ptxas.o 2>&1 | grep -E "Compiling entry|registers|spill" | sed 's/ptxas info *: //' >>"$OUT/build.log"
grep -B1 -A1 "spill" "$OUT/build.log" | grep -E "[1-9][0-9]* bytes spill" && echo "note: spills (build.log)"
mkdir -p "$ROOFS"
"$G/tools/measure-roofs" --out "$ROOFS" --if-missing >>"$OUT/build.log" 2>&1 || echo "measure-roofs failed: no % of measured roof"
: >"$OUT/results.jsonl"

if [ "${MLA_SKIP_CHECK:-0}" != 1 ]; then  # (the bench below checks every shape too)
echo "== check, every shape $(date -u +%T)"
rm -f "$OUT/check.jsonl.tmp"
timeout 300 "$B/check" --solution --only 01_mla_decode --time-limit $TL --roofs "$ROOFS" --results "$OUT/check.jsonl.tmp" >"$OUT/check.log" 2>&1
echo "exit $?"
table "$OUT/check.jsonl.tmp" check; cat "$OUT/check.jsonl.tmp" >>"$OUT/results.jsonl"; rm -f "$OUT/check.jsonl.tmp"
fi

echo "== bench $(date -u +%T)"
timeout 300 "$B/check" --bench --solution --only 01_mla_decode --time-limit $TL --roofs "$ROOFS" --results "$OUT/bench.jsonl.tmp" >"$OUT/bench.log" 2>&1
echo "exit $?"
table "$OUT/bench.jsonl.tmp" bench; cat "$OUT/bench.jsonl.tmp" >>"$OUT/results.jsonl"; rm -f "$OUT/bench.jsonl.tmp"

SANITIZE=${MLA_SANITIZE-memcheck racecheck}
if [ -n "$SANITIZE" ] && command -v compute-sanitizer >/dev/null; then
    echo "== compute-sanitizer (small sizes) $(date -u +%T)"
    : >"$OUT/sanitizer.log"
    for tool in $SANITIZE; do
        timeout 240 compute-sanitizer --tool $tool --target-processes all --error-exitcode 99 \
            "$B/check" --only 01_mla_decode --small --solution --time-limit $TL >"$OUT/san.tmp" 2>&1
        rc=$?
        cat "$OUT/san.tmp" >>"$OUT/sanitizer.log"
        if [ $rc -eq 0 ] && grep -qE "ERROR SUMMARY|RACECHECK SUMMARY" "$OUT/san.tmp" &&
           ! grep -qE "ERROR SUMMARY: [1-9]|\([1-9][0-9]* errors" "$OUT/san.tmp"; then echo "PASS $tool"
        else echo "FAIL $tool (exit $rc; sanitizer.log)"; grep -m5 -E "Invalid|Race|ERROR" "$OUT/san.tmp"; fi
        rm -f "$OUT/san.tmp"
    done
fi

# The knobs: name and -D flags. base = the defaults as committed (rebuilt the same way, a control);
# nomath* are measurements only (the ring's loads and barriers without the maths: wrong results,
# timed by the microbenchmark alone).
declare -A FLAGS=(
    [base]=""
    [l2]="-DMLA_L2_PREFETCH=256"
    [bulk]="-DMLA_BULK=1"
    [stages3]="-DMLA_RING_STAGES=3"
    [stages5]="-DMLA_RING_STAGES=5"
    [t16s4x2]="-DMLA_RING_TOKENS=16 -DMLA_RING_STAGES=4 -DMLA_MIN_CTAS=2"
    [nomath]="-DMLA_NO_MATH=1"
    [nomath_bulk]="-DMLA_NO_MATH=1 -DMLA_BULK=1"
)
MICRO=${MLA_MICRO:-base l2 bulk stages5 t16s4x2 nomath nomath_bulk}
VARIANTS=${MLA_VARIANTS:-l2 t16s4x2}
COPY_GBS=$(awk '$1 == "copy_gbs" { printf "%d", $2; exit }' "$ROOFS"/*.roofs 2>/dev/null)
COPY_GBS=${COPY_GBS:-4199}
: >"$OUT/variants.log"
echo "== building variants: $MICRO / $VARIANTS"
mkdir -p "$BUILD/mla-variants"
# The microbenchmark: mla_decode alone at the bench shapes, pages permuted (as the grader deals
# them) or in order, the L2 flushed before each launch, median of 50.
sed -n '/^#\/\/ MICRO-BEGIN/,/^#\/\/ MICRO-END/p' "$SELF" | sed '1d;$d' | sed 's/^#| \{0,1\}//' >"$BUILD/mla-variants/micro.cu"
pids=()
for v in $(echo $MICRO $VARIANTS | tr ' ' '\n' | sort -u); do
    d=$BUILD/mla-variants/$v
    mkdir -p "$d"
    rm -f "$d/01_mla_decode.o" "$d/micro" "$d/check"  # nothing stale is timed
    ( "$NVCC" -O3 -std=c++17 -lineinfo -Xcompiler -Wall -diag-suppress 550 ${FLAGS[$v]-} -gencode=arch=compute_90a,code=sm_90a \
          -I$S -Igrader -Xptxas -v -c solutions/$S/01_mla_decode.cu -o "$d/01_mla_decode.o" >"$d/build.log" 2>&1 &&
      "$NVCC" -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -I$S "$BUILD/mla-variants/micro.cu" "$d/01_mla_decode.o" \
          -o "$d/micro" >>"$d/build.log" 2>&1 &&
      "$NVCC" -gencode=arch=compute_90a,code=sm_90a -o "$d/check" "$G/grader.o" "$B/check.o" "$d/01_mla_decode.o" \
          "$B/02_moe_route.o" "$B/03_fp8_grouped_gemm.o" "$B/04_accept.o" $B/given/*.o -lcublas -lcublasLt >>"$d/build.log" 2>&1 ||
      echo "$v: build failed: $(grep -m3 error "$d/build.log")" ) &
    pids+=($!)
done
wait "${pids[@]}"  # (a bare wait would also wait for the tee that logs this script: forever)
echo "== microbenchmark (copy roof $COPY_GBS GB/s) $(date -u +%T)"
for v in $MICRO; do
    d=$BUILD/mla-variants/$v
    [ -x "$d/micro" ] || continue
    { echo "==== $v: ${FLAGS[$v]-}"; grep -E "registers|spill" "$d/build.log" | sed 's/ptxas info *: //'; } >>"$OUT/variants.log"
    grep -qE "[1-9][0-9]* bytes spill" "$d/build.log" && echo "$v: note: spills"
    for run in "16 0" "16 1" "128 0"; do
        printf "%-15s " "$v"; timeout 30 "$d/micro" $run "$COPY_GBS" 2>&1 | tail -1
    done
done
echo "== variants through the grader (every shape checked, then timed): $VARIANTS $(date -u +%T)"
for v in $VARIANTS; do
    d=$BUILD/mla-variants/$v
    [ -x "$d/check" ] || continue
    rm -f "$d/r.jsonl"
    echo "==== $v: ${FLAGS[$v]-}" >>"$OUT/variants.log"
    timeout 180 "$d/check" --bench --solution --only 01_mla_decode --time-limit $TL --roofs "$ROOFS" --results "$d/r.jsonl" >>"$OUT/variants.log" 2>&1 ||
        echo "$v: exit $?"
    table "$d/r.jsonl" "$v"; cat "$d/r.jsonl" >>"$OUT/results.jsonl"
done
echo "== done $(date -u +%FT%TZ)"
exit 0

#// MICRO-BEGIN (the microbenchmark's source, written out above)
#| // mla_decode timed alone at the bench shapes (B 128, context 4096, 512 + 64), the L2 flushed
#| // before each launch: argv[1] heads, argv[2] 1 = pages in order (identity block table), 0 = a
#| // random permutation as the grader deals them. Prints the median and its share of the copy.
#| #include <algorithm>
#| #include <cstdio>
#| #include <cstdlib>
#| #include <cstring>
#| #include <random>
#| #include <vector>
#| #include <cuda_runtime.h>
#| #include "exercises.h"
#| #define CK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { printf("CUDA %s line %d\n", cudaGetErrorString(e), __LINE__); exit(1); } } while (0)
#| __global__ void fill(uint16_t *p, size_t n, uint32_t seed) {
#|     for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
#|         uint32_t h = (uint32_t)i * 2654435761u ^ seed; h ^= h >> 15; h *= 2246822519u; h ^= h >> 13;
#|         float f = ((h & 0xFFFF) / 32768.0f) - 1.0f; uint32_t u; memcpy(&u, &f, 4); p[i] = (uint16_t)(u >> 16);
#|     }
#| }
#| int main(int argc, char **argv) {
#|     const int H = argc > 1 ? atoi(argv[1]) : 16, ident = argc > 2 ? atoi(argv[2]) : 0, copy_gbs = argc > 3 ? atoi(argv[3]) : 4199;
#|     const int B = 128, L = 4096, DL = 512, DR = 64, D = DL + DR, mb = L / 64;
#|     std::vector<int> len(B), table((size_t)B * mb, -1);
#|     len[0] = L;
#|     for (int j = 1; j < B; j++) len[j] = L - (j * L) / (4 * B);
#|     const long nb = (long)B * mb + B * mb / 8 + 1;
#|     std::vector<int> perm(nb);
#|     for (long i = 0; i < nb; i++) perm[i] = (int)i;
#|     std::mt19937 rng(1);
#|     if (!ident) std::shuffle(perm.begin(), perm.end(), rng);
#|     long next = 0; double tokens = 0, pages = 0;
#|     for (int b = 0; b < B; b++) { int p = (len[b] + 63) / 64; tokens += len[b]; pages += p;
#|         for (int i = 0; i < p; i++) table[(size_t)b * mb + i] = perm[next++]; }
#|     uint16_t *q, *kv, *out; int *dt, *dl; float *work; char *flush;
#|     CK(cudaMalloc(&q, (size_t)B * H * D * 2)); CK(cudaMalloc(&kv, (size_t)nb * 64 * D * 2));
#|     CK(cudaMalloc(&out, (size_t)B * H * DL * 2)); CK(cudaMalloc(&dt, table.size() * 4)); CK(cudaMalloc(&dl, B * 4));
#|     CK(cudaMalloc(&work, (size_t)B * H * 64 * (DL + 1) * 4)); CK(cudaMalloc(&flush, 256 << 20));
#|     fill<<<1024, 256>>>(q, (size_t)B * H * D, 1); fill<<<4096, 256>>>(kv, (size_t)nb * 64 * D, 2);
#|     CK(cudaMemcpy(dt, table.data(), table.size() * 4, cudaMemcpyHostToDevice)); CK(cudaMemcpy(dl, len.data(), B * 4, cudaMemcpyHostToDevice));
#|     cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
#|     std::vector<float> ts;
#|     for (int rep = 0; rep < 53; rep++) {
#|         CK(cudaMemsetAsync(flush, rep, 256 << 20));
#|         cudaEventRecord(e0);
#|         mla_decode(q, kv, dt, dl, mb, 0.0417f, out, B, 1, H, DL, DR, work, 0);
#|         cudaEventRecord(e1); CK(cudaEventSynchronize(e1));
#|         float ms; cudaEventElapsedTime(&ms, e0, e1); if (rep >= 3) ts.push_back(ms);
#|     }
#|     CK(cudaGetLastError());
#|     std::sort(ts.begin(), ts.end());
#|     const double ms = ts[ts.size() / 2];
#|     const double bytes = 2.0 * tokens * D + 2.0 * B * H * D + 2.0 * B * H * DL + 4 * pages + 4 * B;
#|     const double flops = (2.0 * D + 2.0 * DL) * H * tokens;
#|     printf("h%-3d %-9s median %7.1f us (min %7.1f)  %6.0f GB/s  %5.1f%% of copy %d  %6.1f TFLOP/s\n", H, ident ? "in-order" : "permuted",
#|            ms * 1e3, ts[0] * 1e3, bytes / ms / 1e6, 100.0 * bytes / ms / 1e6 / copy_gbs, copy_gbs, flops / ms / 1e9);
#|     return 0;
#| }
#// MICRO-END
