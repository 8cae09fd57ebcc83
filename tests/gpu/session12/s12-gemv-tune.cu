// Tuning sweep for session 12's GEMV solutions (01 with -DEX=1, 02 with -DEX=2): the knobs of
// launch_pass<MT, R, U, MINB>(..., target_warps_per_sm) timed on the bench shapes, the L2 flushed
// before every launch as the grader flushes it (grader/flush.cu), median of 30, against a
// device-to-device copy of the same weight bytes.
// Each variant's output is compared with the default launcher's. Prints one line a variant.
//   nvcc -O3 -std=c++17 -arch=sm_90a -DEX=1 -Iserving/12-serving -Igrader tests/gpu/session12/s12-gemv-tune.cu grader/flush.cu -o tune1
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../tune_timing.h"  // CK, st, flush_buf, flush_bytes, median_us

#if EX == 1
#include "../solutions/serving/12-serving/01_gemv_bf16.cu"
#else
#include "../solutions/serving/12-serving/02_rmsnorm_qkv.cu"
#endif

static float bf(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

int main() {
    int dev = 0;
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, dev));
    flush_bytes = 2 * (size_t)p.l2CacheSize;
    CK(cudaMalloc(&flush_buf, flush_bytes));
    CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    const size_t maxW = (size_t)14336 * 4096, maxX = (size_t)8 * 14336, maxY = (size_t)8 * 14336;
    uint16_t *W, *X, *G, *Y, *Y0, *C;
    CK(cudaMalloc((void **)&W, maxW * 2));
    CK(cudaMalloc((void **)&C, maxW * 2));
    CK(cudaMalloc((void **)&X, maxX * 2));
    CK(cudaMalloc((void **)&G, 14336 * 2));
    CK(cudaMalloc((void **)&Y, maxY * 2));
    CK(cudaMalloc((void **)&Y0, maxY * 2));
    std::vector<uint16_t> h(maxW);
    uint64_t s = 1;
    for (auto &v : h) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        v = (uint16_t)(0x3C00 + ((s >> 40) & 0x7F) + (((s >> 50) & 1) << 15));  // +-[0.0078, 0.0156)
    }
    CK(cudaMemcpy(W, h.data(), maxW * 2, cudaMemcpyHostToDevice));
    for (size_t i = 0; i < maxX; i++) h[i] = (uint16_t)(0x3F80 + (i % 61));  // about 1 .. 1.5
    CK(cudaMemcpy(X, h.data(), maxX * 2, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(G, h.data(), 14336 * 2, cudaMemcpyHostToDevice));
    printf("GPU %s, %d SMs, L2 %d MB\n", p.name, p.multiProcessorCount, p.l2CacheSize >> 20);

#if EX == 1
    struct Sh { int M, N, K; } shapes[] = {{1, 14336, 4096}, {1, 4096, 14336}, {1, 4096, 4096}, {8, 14336, 4096}};
#else
    struct Sh { int M, N, K; } shapes[] = {{1, 6144, 4096}, {1, 14336, 4096}, {8, 6144, 4096}};
#endif
    for (auto sh : shapes) {
        const int M = sh.M, N = sh.N, K = sh.K, K8 = K / 8;
        const double wbytes = 2.0 * N * K;
        const float copy = median_us([&] { cudaMemcpyAsync(C, W, (size_t)wbytes / 2, cudaMemcpyDeviceToDevice, st); });
        // A copy reads and writes: the copy rate is (read + write) / time. Half the weights copied.
        const double copy_gbs = wbytes / copy / 1e3;
        printf("\n== M=%d N=%d K=%d  weights %.1f MB; copy of half of them read+write: %.1f us, %.0f GB/s\n", M, N, K,
               wbytes / 1e6, copy, copy_gbs);
        const uint4 *W4 = (const uint4 *)W, *X4 = (const uint4 *)X;
        __nv_bfloat16 *Yb = (__nv_bfloat16 *)Y;
#if EX == 1
        auto dflt = [&] { gemv_bf16(W, X, Y0, M, N, K, st); };
#else
        const uint4 *G4 = (const uint4 *)G;
        const float eps = 1e-5f;
        auto dflt = [&] { rmsnorm_qkv(X, G, eps, W, Y0, M, N, K, st); };
#endif
        float t0 = median_us(dflt);
        printf("  %-34s %8.2f us %7.0f GB/s %5.1f%% of copy\n", "default launcher", t0, wbytes / t0 / 1e3,
               100.0 * wbytes / t0 / 1e3 / copy_gbs);
        std::vector<uint16_t> ref((size_t)M * N), got((size_t)M * N);
        CK(cudaMemcpy(ref.data(), Y0, ref.size() * 2, cudaMemcpyDeviceToHost));
        auto report = [&](const char *name, float t) {
            CK(cudaMemcpy(got.data(), Y, got.size() * 2, cudaMemcpyDeviceToHost));
            double d = 0, big = 0;
            for (size_t i = 0; i < got.size(); i++) {
                d = std::max(d, (double)std::fabs(bf(got[i]) - bf(ref[i])));
                big = std::max(big, (double)std::fabs(bf(ref[i])));
            }
            printf("  %-34s %8.2f us %7.0f GB/s %5.1f%% of copy%s\n", name, t, wbytes / t / 1e3,
                   100.0 * wbytes / t / 1e3 / copy_gbs, d <= 1e-2 * big ? "" : "  WRONG");
        };
#if EX == 1
#define VAR(MT, R, U, MINB, TW)                                                                              \
    if (M <= MT && (MT == 1) == (M == 1))                                                                     \
        report("MT=" #MT " R=" #R " U=" #U " MINB=" #MINB " TW=" #TW,                                        \
               median_us([&] { launch_pass<MT, R, U, MINB>(W4, X4, Yb, M, N, K8, st, TW); }));
        VAR(1, 1, 8, 3, 48) VAR(1, 1, 8, 3, 24) VAR(1, 1, 8, 3, 64) VAR(1, 1, 8, 2, 48) VAR(1, 1, 16, 2, 48)
        VAR(1, 1, 16, 1, 48) VAR(1, 1, 4, 4, 48) VAR(1, 1, 4, 4, 64) VAR(1, 2, 4, 3, 48) VAR(1, 2, 8, 2, 48)
        VAR(1, 4, 2, 3, 48) VAR(1, 1, 8, 4, 64)
        VAR(8, 4, 2, 2, 48) VAR(8, 4, 2, 1, 48) VAR(8, 4, 1, 3, 48) VAR(8, 2, 2, 3, 48) VAR(8, 2, 4, 2, 48)
        VAR(8, 4, 2, 2, 24) VAR(8, 1, 4, 3, 48) VAR(8, 2, 1, 4, 64)
#else
#define VAR(MT, R, U, MINB, TW)                                                                              \
    if (M <= MT && (MT == 1) == (M == 1))                                                                     \
        report("MT=" #MT " R=" #R " U=" #U " MINB=" #MINB " TW=" #TW,                                        \
               median_us([&] { launch_pass<MT, R, U, MINB>(W4, X4, G4, eps, Yb, M, N, K8, st, TW); }));
        VAR(1, 1, 8, 2, 48) VAR(1, 1, 8, 3, 48) VAR(1, 1, 8, 2, 24) VAR(1, 1, 4, 3, 48) VAR(1, 1, 4, 4, 64)
        VAR(1, 1, 16, 1, 48) VAR(1, 2, 4, 3, 48) VAR(1, 3, 4, 2, 48)
        VAR(8, 3, 2, 2, 48) VAR(8, 3, 1, 3, 48) VAR(8, 1, 4, 3, 48) VAR(8, 2, 2, 3, 48)
#endif
    }
    return 0;
}
