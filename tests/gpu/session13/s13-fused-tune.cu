// Tuning sweep for session 13's fused NVFP4 GEMV (05's solution): the frame's knobs, rows a warp
// (ROWS), chunks of each row in flight (UNROLL) and blocks an SM the registers are fitted to
// (MIN_BLOCKS, -DMINB), timed on the three bench shapes with the L2 flushed as the grader flushes
// it (grader/flush.cu), median of 30, against a device-to-device copy that moves the same bytes
// (half read, half written: the grader's yardstick). Every variant's output must equal the default
// launcher's bit for bit (the sums run in the same order whatever the knobs). One line a variant.
//   nvcc -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -DMINB=2 -Iblackwell/13-nvfp4 -Igrader \
//        tests/gpu/session13/s13-fused-tune.cu grader/flush.cu -o tune2
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../tune_timing.h"  // CK, st, flush_buf, flush_bytes, median_us
#include "../../../solutions/blackwell/13-nvfp4/05_nvfp4_gemv_fused.cu"

struct Shape { int M, K, L; };
struct Data {
    Shape s;
    uint8_t *a, *sfa, *b, *sfb, *copy_src, *copy_dst;
    uint16_t *c_ref, *c;
    size_t bytes;  // what the grader counts: a, sfa, b, sfb read, c written
};

// Random codes; scales near 2^-4 (e4m3 exponent field 3 or 4) so that no FP16 sum overflows.
static void fill(std::vector<uint8_t> &v, bool scale) {
    for (auto &x : v) x = scale ? (uint8_t)(0x18 + rand() % 16) : (uint8_t)rand();
}

static Data make_data(Shape s) {
    Data d{s};
    const size_t na = (size_t)s.L * s.M * (s.K / 2), nsa = (size_t)s.L * s.M * (s.K / 16);
    const size_t nb = (size_t)s.L * (s.K / 2), nsb = (size_t)s.L * (s.K / 16);
    std::vector<uint8_t> ha(na), hsa(nsa), hb(nb), hsb(nsb);
    fill(ha, false), fill(hsa, true), fill(hb, false), fill(hsb, true);
    CK(cudaMalloc(&d.a, na));
    CK(cudaMalloc(&d.sfa, nsa));
    CK(cudaMalloc(&d.b, nb));
    CK(cudaMalloc(&d.sfb, nsb));
    CK(cudaMemcpy(d.a, ha.data(), na, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d.sfa, hsa.data(), nsa, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d.b, hb.data(), nb, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d.sfb, hsb.data(), nsb, cudaMemcpyHostToDevice));
    CK(cudaMalloc(&d.c_ref, (size_t)s.L * s.M * 2));
    CK(cudaMalloc(&d.c, (size_t)s.L * s.M * 2));
    d.bytes = na + nsa + nb + nsb + (size_t)s.L * s.M * 2;
    CK(cudaMalloc(&d.copy_src, d.bytes / 2));
    CK(cudaMalloc(&d.copy_dst, d.bytes / 2));
    CK(cudaMemset(d.copy_src, 1, d.bytes / 2));
    nvfp4_gemv_fused(d.a, d.sfa, d.b, d.sfb, d.c_ref, s.M, s.K, s.L, st);
    CK(cudaStreamSynchronize(st));
    return d;
}

static bool same(const Data &d) {
    const size_t n = (size_t)d.s.L * d.s.M;
    std::vector<uint16_t> x(n), y(n);
    CK(cudaMemcpy(x.data(), d.c_ref, n * 2, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(y.data(), d.c, n * 2, cudaMemcpyDeviceToHost));
    return x == y;
}

template <int ROWS, int UNROLL>
static void variant(std::vector<Data> &all) {
    printf("R%d U%d MINB%d", ROWS, UNROLL, MINB);
    auto kernel = nvfp4_fused_kernel<FusedChunk<E2m1PairsBits>, E2m1PairsBits, ROWS, UNROLL, MINB>;
    cudaFuncAttributes fa;
    CK(cudaFuncGetAttributes(&fa, kernel));
    int per_sm = 0;
    CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, GEMV_THREADS, 0));
    printf("  regs %d spill %zu blocks/SM %d |", fa.numRegs, fa.localSizeBytes, per_sm);
    for (auto &d : all) {
        const dim3 grid((unsigned)((d.s.M + GEMV_WARPS * ROWS - 1) / (GEMV_WARPS * ROWS)), (unsigned)d.s.L);
        CK(cudaMemset(d.c, 0xFF, (size_t)d.s.L * d.s.M * 2));
        auto run = [&] {
            kernel<<<grid, GEMV_THREADS, 0, st>>>(d.a, d.sfa, d.b, d.sfb, d.c, d.s.M, d.s.K);
        };
        run();
        CK(cudaStreamSynchronize(st));
        const bool ok = same(d);
        const float us = median_us(run);
        const float copy = median_us([&] { CK(cudaMemcpyAsync(d.copy_dst, d.copy_src, d.bytes / 2, cudaMemcpyDeviceToDevice, st)); });
        printf("  %dx%dx%d %6.2f us %5.1f%% of copy (%5.2f)%s", d.s.M, d.s.K, d.s.L, us, 100 * copy / us, copy, ok ? "" : " WRONG");
    }
    printf("\n");
    fflush(stdout);
}

int main() {
    CK(cudaStreamCreate(&st));
    int l2 = 0;
    CK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, 0));
    flush_bytes = 2 * (size_t)l2;
    CK(cudaMalloc(&flush_buf, flush_bytes));
    std::vector<Data> all;
    for (Shape s : {Shape{7168, 16384, 1}, Shape{4096, 7168, 8}, Shape{7168, 2048, 4}}) all.push_back(make_data(s));
    variant<1, 2>(all);
    variant<1, 4>(all);
    variant<2, 1>(all);
    variant<2, 2>(all);
    variant<4, 1>(all);
    return 0;
}
