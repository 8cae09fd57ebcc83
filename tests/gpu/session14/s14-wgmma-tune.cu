// Tile widths of the Hopper path of session 14's FP8 grouped GEMM (03's solution,
// fp8_wgmma_given.cuh), timed side by side on the bench shapes: contiguous 4 groups x 8192 rows,
// N 4096, K 7168 (TFLOP/s) and masked 32 groups of up to 64 rows (GB/s of weights), median of 20
// with the L2 flushed as the grader flushes it. The outputs of the widths must agree (the same
// products; only the FP32 order inside the tensor cores may differ): the largest difference is
// printed.
//   nvcc -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Ifinale/14-deepseek -Igrader \
//        tests/gpu/session14/s14-wgmma-tune.cu grader/flush.cu finale/14-deepseek/given/tensor_map_e4m3.cu -o wgmma-tune
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "../tune_timing.h"  // CK, st, flush_buf, flush_bytes, median_us
#include "../../../solutions/finale/14-deepseek/03_fp8_grouped_gemm.cu"

static float bf(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

int main() {
    CK(cudaStreamCreate(&st));
    int l2 = 0;
    CK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, 0));
    flush_bytes = 2 * (size_t)l2;
    CK(cudaMalloc(&flush_buf, flush_bytes));
    for (int masked = 0; masked < 2; masked++) {
        const int G = masked ? 32 : 4, rows_g = masked ? 64 : 8192, N = 4096, K = 7168, KB = K / 128, NB = N / 128;
        const long rows = (long)G * rows_g;
        std::vector<uint8_t> hA(rows * K), hB((size_t)G * N * K);
        std::vector<float> hsa(rows * KB), hsb((size_t)G * NB * KB);
        uint32_t r = 7;
        auto next = [&] { return r = r * 1664525u + 1013904223u; };
        for (auto &x : hA) x = (uint8_t)(next() >> 24) & 0x77;  // finite e4m3 of either sign, no NaN
        for (auto &x : hB) x = (uint8_t)(next() >> 24) & 0xF7;
        for (auto &x : hsa) x = 0.01f * (1 + (next() >> 28));
        for (auto &x : hsb) x = 0.01f * (1 + (next() >> 28));
        std::vector<int> table(masked ? G : G + 1);
        for (int g = 0; g < (int)table.size(); g++) table[g] = masked ? 1 + (int)(next() % rows_g) : g * rows_g;
        uint8_t *A, *B;
        float *sa, *sb;
        uint16_t *D1, *D2;
        int *tab;
        CK(cudaMalloc(&A, hA.size()));
        CK(cudaMalloc(&B, hB.size()));
        CK(cudaMalloc(&sa, hsa.size() * 4));
        CK(cudaMalloc(&sb, hsb.size() * 4));
        CK(cudaMalloc(&D1, rows * N * 2));
        CK(cudaMalloc(&D2, rows * N * 2));
        CK(cudaMalloc(&tab, table.size() * 4));
        CK(cudaMemcpy(A, hA.data(), hA.size(), cudaMemcpyHostToDevice));
        CK(cudaMemcpy(B, hB.data(), hB.size(), cudaMemcpyHostToDevice));
        CK(cudaMemcpy(sa, hsa.data(), hsa.size() * 4, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(sb, hsb.data(), hsb.size() * 4, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(tab, table.data(), table.size() * 4, cudaMemcpyHostToDevice));
        CK(cudaMemset(D1, 0, rows * N * 2));
        CK(cudaMemset(D2, 0, rows * N * 2));
        double flops = 0;
        for (int g = 0; g < G; g++) flops += 2.0 * (masked ? table[g] : rows_g) * N * K;
        const double bytes = (double)G * N * K;
        const int tiles = masked ? G * ((rows_g + WG_BM - 1) / WG_BM) : (int)((rows + WG_BM - 1) / WG_BM) + G;
        auto run = [&](auto bn, uint16_t *D) {
            constexpr int BN = decltype(bn)::value;
            bool ok = masked ? launch_fp8_wgmma<MaskedWgTiles, BN>(A, rows, sa, B, G, sb, D, MaskedWgTiles{tab, rows_g},
                                                                  tiles, N, K, st)
                             : launch_fp8_wgmma<ContiguousWgTiles, BN>(A, rows, sa, B, G, sb, D,
                                                                      ContiguousWgTiles{tab, G}, tiles, N, K, st);
            if (!ok) { fprintf(stderr, "the Hopper path refused\n"); exit(1); }
        };
        const float us128 = median_us([&] { run(std::integral_constant<int, 128>(), D1); }, 20);
        const float us192 = median_us([&] { run(std::integral_constant<int, 192>(), D2); }, 20);
        std::vector<uint16_t> x(rows * N), y(rows * N);
        CK(cudaMemcpy(x.data(), D1, x.size() * 2, cudaMemcpyDeviceToHost));
        CK(cudaMemcpy(y.data(), D2, y.size() * 2, cudaMemcpyDeviceToHost));
        double worst = 0, scale = 0;
        for (size_t i = 0; i < x.size(); i++) {
            worst = fmax(worst, fabs((double)bf(x[i]) - bf(y[i])));
            scale = fmax(scale, fabs((double)bf(x[i])));
        }
        printf("%s G%d x %d x %d x %d: BN 128 %.1f us (%.0f TFLOP/s, %.0f GB/s of B) | BN 192 %.1f us (%.0f TFLOP/s, "
               "%.0f GB/s) | largest difference %.3g of %.3g\n", masked ? "masked" : "contiguous", G, rows_g, N, K,
               us128, flops / us128 * 1e-6, bytes / us128 * 1e-3, us192, flops / us192 * 1e-6, bytes / us192 * 1e-3,
               worst, scale);
        cudaFree(A), cudaFree(B), cudaFree(sa), cudaFree(sb), cudaFree(D1), cudaFree(D2), cudaFree(tab);
    }
    return 0;
}
