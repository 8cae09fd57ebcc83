// Tuning sweep for the decode path of session 14's FP8 masked grouped GEMM (03's solution,
// fp8_decode_given.cuh): warps a block (they split K) and blocks an SM the registers are fitted
// to, each a -D at compile time, one binary a variant. Timed at the
// engine's shapes (the scaled configuration: 8 experts of 4096 x 4096, 1 or 4 rows for each of 2
// or 4 chosen experts) with the L2 flushed as the grader flushes it, median of 30, against a
// device-to-device copy of the chosen experts' weight bytes. One line a variant; its checksum of D
// may differ between variants only where warps split K differently (the order of FP32 sums).
//   nvcc -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -DDECODE_WARPS=4 -Ifinale/14-deepseek \
//        -Igrader tests/gpu/session14/s14-decode-tune.cu grader/flush.cu finale/14-deepseek/given/tensor_map_e4m3.cu -o tune
#include <cstdint>
#include <cstdio>
#include <vector>

#include "../tune_timing.h"  // CK, st, flush_buf, flush_bytes, median_us
#include "../../../solutions/finale/14-deepseek/03_fp8_grouped_gemm.cu"

struct Case { int G, M_max, N, K; std::vector<int> count; };

int main() {
    CK(cudaStreamCreate(&st));
    int l2 = 0;
    CK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, 0));
    flush_bytes = 2 * (size_t)l2;
    CK(cudaMalloc(&flush_buf, flush_bytes));
    printf("W%d MINB%d RUNS%d", DECODE_WARPS, DECODE_MIN_BLOCKS, DECODE_SPLIT_RUNS);
    cudaFuncAttributes fa;
    CK(cudaFuncGetAttributes(&fa, fp8_masked_decode_kernel));
    int per_sm = 0;
    CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, fp8_masked_decode_kernel, DECODE_WARPS * 32, 0));
    printf("  regs %d spill %zu blocks/SM %d |", fa.numRegs, fa.localSizeBytes, per_sm);
    const Case cases[] = {{8, 1, 4096, 4096, {1, 0, 0, 0, 0, 0, 1, 0}}, {8, 4, 4096, 4096, {4, 0, 3, 0, 2, 0, 0, 1}},
                          {8, 1, 7168, 2048, {0, 1, 0, 1, 0, 0, 0, 0}}};
    for (const Case &c : cases) {
        const int KB = c.K / 128, NB = (c.N + 127) / 128;
        std::vector<uint8_t> hA((size_t)c.G * c.M_max * c.K), hB((size_t)c.G * c.N * c.K);
        std::vector<float> hsa((size_t)c.G * c.M_max * KB), hsb((size_t)c.G * NB * KB);
        uint32_t r = 12345;
        auto next = [&] { return r = r * 1664525u + 1013904223u; };
        for (auto &x : hA) x = (uint8_t)(next() >> 24) & 0x77;  // finite e4m3 codes of either sign
        for (auto &x : hB) x = (uint8_t)(next() >> 24) & 0xF7;
        for (auto &x : hsa) x = 0.01f * (1 + (next() >> 28));
        for (auto &x : hsb) x = 0.01f * (1 + (next() >> 28));
        uint8_t *A, *B, *src, *dst;
        float *sa, *sb;
        uint16_t *D;
        int *count;
        size_t weight_bytes = 0;
        for (int g = 0; g < c.G; g++) weight_bytes += c.count[g] ? (size_t)c.N * c.K : 0;
        CK(cudaMalloc(&A, hA.size()));
        CK(cudaMalloc(&B, hB.size()));
        CK(cudaMalloc(&sa, hsa.size() * 4));
        CK(cudaMalloc(&sb, hsb.size() * 4));
        CK(cudaMalloc(&D, (size_t)c.G * c.M_max * c.N * 2));
        CK(cudaMalloc(&count, c.G * 4));
        CK(cudaMalloc(&src, weight_bytes / 2));
        CK(cudaMalloc(&dst, weight_bytes / 2));
        CK(cudaMemset(src, 1, weight_bytes / 2));
        CK(cudaMemcpy(A, hA.data(), hA.size(), cudaMemcpyHostToDevice));
        CK(cudaMemcpy(B, hB.data(), hB.size(), cudaMemcpyHostToDevice));
        CK(cudaMemcpy(sa, hsa.data(), hsa.size() * 4, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(sb, hsb.data(), hsb.size() * 4, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(count, c.count.data(), c.G * 4, cudaMemcpyHostToDevice));
        CK(cudaMemset(D, 0, (size_t)c.G * c.M_max * c.N * 2));
        auto run = [&] { launch_masked_decode(A, sa, B, sb, D, count, c.G, c.M_max, c.N, c.K, st); };
        const float us = median_us(run);
        // A copy of the same weight bytes: half read, half written
        const float copy = median_us([&] { CK(cudaMemcpyAsync(dst, src, weight_bytes / 2, cudaMemcpyDeviceToDevice, st)); });
        std::vector<uint16_t> hD((size_t)c.G * c.M_max * c.N);
        CK(cudaMemcpy(hD.data(), D, hD.size() * 2, cudaMemcpyDeviceToHost));
        uint64_t h = 1469598103934665603ull;
        for (uint16_t v : hD) h = (h ^ v) * 1099511628211ull;
        printf("  G%d M%d %dx%d %6.2f us %5.1f%% of copy (%5.2f) sum %016llx", c.G, c.M_max, c.N, c.K, us,
               100 * copy / us, copy, (unsigned long long)h);
        cudaFree(A), cudaFree(B), cudaFree(sa), cudaFree(sb), cudaFree(D), cudaFree(count), cudaFree(src), cudaFree(dst);
    }
    printf("\n");
    return 0;
}
