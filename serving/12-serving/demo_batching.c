/* Board demo: continuous batching turns the decode GEMV into skinny GEMMs (M = 1 to 64), and where
 * the tensor cores start to pay: gemv_bf16 against cuBLAS at each M. Needs a GPU.
 *
 *   make demo-batching             W 14336 x 4096 (an FFN projection of an 8B model, 117 MB)
 *   make demo-batching N=4096      W N x 4096; a second argument sets K
 *
 * Each weight is read once and used 2M times (a multiply and an add per batch row), so the work is
 * about M FLOP per byte of weights. The CUDA cores' FMAs turn compute-bound near FP32 rate / HBM
 * bandwidth (67 / 4.8 = 14 FLOP/byte on an H200), the tensor cores near BF16 rate / bandwidth
 * (about 200): a GEMV on CUDA cores holds the bandwidth roof to about M = 8 and then slows in
 * proportion to M, while cuBLAS's tensor-core GEMM takes the same time from M = 1 to M = 64.
 *
 * Uses the hidden solutions where they exist (a mentor's checkout), else the student's files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exercises.h"
#include "grader.h"
#include "library.h"
#include "roofs.h"

#define CHECK(call)                                                                                    \
    do {                                                                                               \
        cudaError_t e_ = (call);                                                                       \
        if (e_ != cudaSuccess) {                                                                       \
            fprintf(stderr, "demo: %s failed at %s:%d: %s\n", #call, __FILE__, __LINE__, cudaGetErrorString(e_)); \
            exit(1);                                                                                   \
        }                                                                                              \
    } while (0)

#define MAX_M 64
#define REPS 15
static const int BATCHES[] = {1, 2, 4, 8, 16, 32, 64};
#define N_BATCHES (int)(sizeof BATCHES / sizeof BATCHES[0])

/* bfloat16 bits of a float, rounded to nearest even. */
static uint16_t to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}
static float from_bf16(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static int by_value(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Median of REPS launches in milliseconds, each after the L2 is overwritten (W would otherwise be
 * partly read from the cache), timed with events on the stream. */
static float time_ms(int which, const uint16_t *W, const uint16_t *X, uint16_t *Y, int M, int N, int K, void *flush,
                     size_t flush_bytes, cudaStream_t s) {
    cudaEvent_t start, stop;
    float t[REPS];
    CHECK(cudaEventCreate(&start));
    CHECK(cudaEventCreate(&stop));
    for (int r = -1; r < REPS; r++) {  /* r = -1: warm-up (cuBLAS chooses its kernel on a new shape) */
        CHECK(cudaMemsetAsync(flush, r & 0xff, flush_bytes, s));
        CHECK(cudaEventRecord(start, s));
        if (which == 0) gemv_bf16(W, X, Y, M, N, K, s);
        else gr_lib_gemm_bf16_nt(M, N, K, X, W, Y, s);
        CHECK(cudaGetLastError());
        CHECK(cudaEventRecord(stop, s));
        CHECK(cudaEventSynchronize(stop));
        if (r >= 0) CHECK(cudaEventElapsedTime(&t[r], start, stop));
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    qsort(t, REPS, sizeof t[0], by_value);
    return t[REPS / 2];
}

int main(int argc, char **argv) {
    const int N = argc > 1 && argv[1][0] ? atoi(argv[1]) : 14336, K = argc > 2 ? atoi(argv[2]) : 4096;
    if (N < 256 || N > 65536 || K < 256 || K > 65536 || K % 8) {
        fprintf(stderr, "demo-batching: N and K between 256 and 65536, K a multiple of 8 (got N = %s, K = %s)\n",
                argc > 1 ? argv[1] : "14336", argc > 2 ? argv[2] : "4096");
        return 64;
    }
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        printf("demo-batching needs a CUDA GPU, and this machine has none.\n");
        return 2;
    }
    struct cudaDeviceProp prop;
    CHECK(cudaGetDeviceProperties(&prop, 0));

    const size_t w_elems = (size_t)N * K, x_elems = (size_t)MAX_M * K, y_elems = (size_t)MAX_M * N;
    uint16_t *hW = malloc(w_elems * 2), *hX = malloc(x_elems * 2), *hY = malloc(y_elems * 2), *hL = malloc(y_elems * 2);
    if (!hW || !hX || !hY || !hL) { fprintf(stderr, "demo: out of memory\n"); return 1; }
    uint64_t state = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < w_elems + x_elems; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        const float v = (float)((state >> 40) & 0xFFFFFF) / 16777216.0f * 2.0f - 1.0f;
        if (i < w_elems) hW[i] = to_bf16(v * 0.05f);
        else hX[i - w_elems] = to_bf16(v);
    }
    uint16_t *W, *X, *Y, *L;
    void *flush;
    const size_t flush_bytes = 2 * (size_t)(prop.l2CacheSize > (4 << 20) ? prop.l2CacheSize : (4 << 20));
    CHECK(cudaMalloc((void **)&W, w_elems * 2));
    CHECK(cudaMalloc((void **)&X, x_elems * 2));
    CHECK(cudaMalloc((void **)&Y, y_elems * 2));
    CHECK(cudaMalloc((void **)&L, y_elems * 2));
    CHECK(cudaMalloc(&flush, flush_bytes));
    CHECK(cudaMemcpy(W, hW, w_elems * 2, cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(X, hX, x_elems * 2, cudaMemcpyHostToDevice));
    cudaStream_t s;
    CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));

    const gr_roof *roof = gr_roof_lookup(prop.name);
    const double w_bytes = 2.0 * N * K;
    printf("\n  Y = X W^T, W %d x %d in BF16 (%.0f MB) on the %s, batch M = 1 .. %d\n", N, K, w_bytes / 1e6, prop.name,
           MAX_M);
    if (roof)
        printf("  roofs: HBM %.1f TB/s, FP32 (CUDA cores) %.0f TFLOP/s, BF16 (tensor cores) %.0f TFLOP/s\n",
               roof->hbm_gbs / 1e3, roof->tflops[GR_ROOF_FP32], roof->tflops[GR_ROOF_BF16]);
    printf("\n  %4s  %29s  %29s  %s\n", "", "gemv_bf16 (CUDA cores)", "cuBLAS (tensor cores)", "faster");
    printf("  %4s  %9s %9s %9s  %9s %9s %9s\n", "M", "us", "W GB/s", "TFLOP/s", "us", "W GB/s", "TFLOP/s");
    fflush(stdout);

    int crossover = 0, wrong_at = 0;
    double worst = 0;
    for (int b = 0; b < N_BATCHES; b++) {
        const int M = BATCHES[b];
        const double flop = 2.0 * M * N * K;
        const float ours = time_ms(0, W, X, Y, M, N, K, flush, flush_bytes, s);
        const float lib = time_ms(1, W, X, L, M, N, K, flush, flush_bytes, s);
        CHECK(cudaMemcpy(hY, Y, (size_t)M * N * 2, cudaMemcpyDeviceToHost));
        CHECK(cudaMemcpy(hL, L, (size_t)M * N * 2, cudaMemcpyDeviceToHost));
        double diff = 0, big = 0;
        for (size_t i = 0; i < (size_t)M * N; i++) {
            const double y = from_bf16(hY[i]), l = from_bf16(hL[i]);
            diff = isfinite(y) ? fmax(diff, fabs(y - l)) : INFINITY;
            big = fmax(big, fabs(l));
        }
        const double rel = big > 0 ? diff / big : diff;
        if (!(rel <= 2e-2) && !wrong_at) { wrong_at = M; worst = rel; }
        if (lib < ours && !crossover) crossover = M;
        printf("  %4d  %9.1f %9.0f %9.1f  %9.1f %9.0f %9.1f  %s %.2fx\n", M, ours * 1e3, w_bytes / ours / 1e6,
               flop / ours / 1e9, lib * 1e3, w_bytes / lib / 1e6, flop / lib / 1e9, lib < ours ? "cuBLAS" : "gemv",
               lib < ours ? ours / lib : lib / ours);
        fflush(stdout);
    }
    printf("\n");
    if (wrong_at)
        printf("  careful: gemv_bf16 disagrees with cuBLAS from M = %d on (largest difference %.2g of the largest\n"
               "  output): finish 01_gemv_bf16.cu (make check) and its times will mean something.\n\n",
               wrong_at, worst);
    const double fp32 = roof ? roof->tflops[GR_ROOF_FP32] : 0, bf16 = roof ? roof->tflops[GR_ROOF_BF16] : 0;
    const double hbm_tbs = roof ? roof->hbm_gbs / 1e3 : 0;
    if (crossover)
        printf("  crossover: from M = %d on, cuBLAS's tensor cores win.\n", crossover);
    else
        printf("  crossover: none up to M = %d; the GEMV kept up all the way.\n", MAX_M);
    printf("  why: each 2-byte weight is read once and used for 2M FLOP: about M FLOP a byte.\n");
    if (roof)
        printf("  FMAs on the CUDA cores go compute-bound past %.0f / %.1f = %.0f FLOP a byte, the tensor cores\n"
               "  past %.0f / %.1f = %.0f. Beyond M ~ %.0f the GEMV's time grows with M; cuBLAS's stays the time\n"
               "  it takes to read W.\n",
               fp32, hbm_tbs, fp32 / hbm_tbs, bf16, hbm_tbs, bf16 / hbm_tbs, fp32 / hbm_tbs);
    else
        printf("  FMAs on the CUDA cores go compute-bound at some 10 FLOP a byte, the tensor cores at about 200.\n");
    printf("  (gemv_bf16 takes the batch 8 rows at a time, rereading W for each 8: from M = 16 the bytes it moves\n"
           "  grow too. The W GB/s columns count W once.)\n\n");

    cudaFree(W); cudaFree(X); cudaFree(Y); cudaFree(L); cudaFree(flush);
    cudaStreamDestroy(s);
    free(hW); free(hX); free(hY); free(hL);
    return 0;
}
