// Session 10's yardstick on a GPU: gr_lib_gemm_bf16_nt (grader/library.cu), C = A * B^T in BF16 with
// A M x K, B N x K, C M x N row-major, the faster of cublasGemmEx and cuBLASLt's top algorithms.
//
//  1. Every candidate (cublasGemmEx and each cuBLASLt algorithm the heuristic offers) and the
//     chosen one against a CPU product at small and odd shapes, M = 1 and K = 1 among them, and
//     once with pointers off 256-byte alignment (cublasGemmEx only, by design).
//  2. Which candidate wins at 4096^3 and 8192^3, every candidate's time, the chosen one's median of
//     20 launches, and a few of its elements against the CPU.
//
// Not part of make test (it needs a GPU). From the repository root:
//
//   mkdir -p build
//   nvcc -O2 -std=c++17 -arch=sm_90a -Igrader tests/gpu/gemm_nt_lib_test.cu grader/library.cu -lcublas -lcublasLt -o build/gemm_nt_lib_test
//   build/gemm_nt_lib_test
//
// (-arch=sm_80 on an A100; any arch works, the GEMMs are cuBLAS's.) Exit status 0: all correct.
// tests/library-test.sh checks the same calls without a GPU, against a CPU stand-in for the libraries.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "library.h"

#define CUDA_OK(call)                                                                                   \
    do {                                                                                                \
        cudaError_t e_ = (call);                                                                        \
        if (e_ != cudaSuccess) {                                                                        \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_));      \
            exit(2);                                                                                    \
        }                                                                                               \
    } while (0)

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_random(void) {  // xorshift64*
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}
static float uniform_signed(void) { return (float)(next_random() >> 40) / 8388608.0f - 1.0f; }  // [-1, 1)
static uint16_t to_bf16(float f) {  // round to nearest even
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}
static float from_bf16(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

struct Problem {
    int M, N, K;
    std::vector<uint16_t> A, B;  // host copies, M x K and N x K
    uint16_t *dA, *dB, *dC;       // device, each `offset` elements into its allocation
    void *base[3];
};

static void problem_make(Problem *p, int M, int N, int K, int offset) {
    p->M = M;
    p->N = N;
    p->K = K;
    p->A.resize((size_t)M * K);
    p->B.resize((size_t)N * K);
    for (auto &x : p->A) x = to_bf16(uniform_signed());
    for (auto &x : p->B) x = to_bf16(uniform_signed());
    size_t n[3] = {(size_t)M * K, (size_t)N * K, (size_t)M * N};
    uint16_t **d[3] = {&p->dA, &p->dB, &p->dC};
    for (int i = 0; i < 3; i++) {
        CUDA_OK(cudaMalloc(&p->base[i], (n[i] + offset) * 2));
        *d[i] = (uint16_t *)p->base[i] + offset;
    }
    CUDA_OK(cudaMemcpy(p->dA, p->A.data(), n[0] * 2, cudaMemcpyHostToDevice));
    CUDA_OK(cudaMemcpy(p->dB, p->B.data(), n[1] * 2, cudaMemcpyHostToDevice));
}

static void problem_free(Problem *p) {
    for (int i = 0; i < 3; i++) CUDA_OK(cudaFree(p->base[i]));
}

// C[i][j] against the CPU: within 2^-8 of itself (BF16 rounding) plus 1e-5 of sum |a||b| (FP32
// accumulation, loosely). A wrong transpose or leading dimension errs by the size of C itself.
static bool element_ok(const Problem *p, const uint16_t *C, long i, long j, double *worst) {
    double ref = 0, mag = 0;
    for (long k = 0; k < p->K; k++) {
        double t = (double)from_bf16(p->A[i * p->K + k]) * from_bf16(p->B[j * p->K + k]);
        ref += t;
        mag += fabs(t);
    }
    double got = from_bf16(C[i * p->N + j]), err = fabs(got - ref), allowed = 0x1p-8 * fabs(ref) + 1e-5 * mag;
    if (!(err <= allowed)) {
        fprintf(stderr, "    C[%ld][%ld] = %g, expected %g\n", i, j, got, ref);
        *worst = INFINITY;
        return false;
    }
    if (mag > 0 && err / mag > *worst) *worst = err / mag;
    return true;
}

// All elements (or `samples` random ones when > 0) of C as it is now on the device.
static bool check_output(const Problem *p, int samples, const char *what) {
    std::vector<uint16_t> C((size_t)p->M * p->N);
    CUDA_OK(cudaMemcpy(C.data(), p->dC, C.size() * 2, cudaMemcpyDeviceToHost));
    double worst = 0;
    int bad = 0;
    if (samples > 0) {
        for (int s = 0; s < samples && bad < 5; s++) {
            long i = (long)(next_random() % (uint64_t)p->M), j = (long)(next_random() % (uint64_t)p->N);
            bad += !element_ok(p, C.data(), i, j, &worst);
        }
    } else {
        for (long i = 0; i < p->M && bad < 5; i++)
            for (long j = 0; j < p->N && bad < 5; j++) bad += !element_ok(p, C.data(), i, j, &worst);
    }
    printf("  %-28s %s (worst error %.1e of sum |a||b|)\n", what, bad ? "WRONG" : "ok", worst);
    return bad == 0;
}

// Every candidate (-1: cublasGemmEx, i: cuBLASLt's i-th), then the chosen one, on NaN-poisoned C.
// Off alignment only the chosen call: it must go to cublasGemmEx, and cuBLASLt's algorithms assume
// 256-byte alignment.
static bool check_shape(int M, int N, int K, int offset) {
    Problem p;
    problem_make(&p, M, N, K, offset);
    printf("%d x %d x %d%s\n", M, N, K, offset ? " (pointers off 256-byte alignment)" : "");
    bool ok = true;
    size_t c_bytes = (size_t)M * N * 2;
    for (int which = -1; offset == 0; which++) {
        CUDA_OK(cudaMemset(p.dC, 0xFF, c_bytes));
        if (!gr_lib_gemm_bf16_nt_candidate(M, N, K, which, p.dA, p.dB, p.dC, 0)) {
            if (which < 0) { printf("  cublasGemmEx refused the call\n"); ok = false; }
            break;
        }
        CUDA_OK(cudaDeviceSynchronize());
        char what[64];
        snprintf(what, sizeof what, which < 0 ? "cublasGemmEx" : "cuBLASLt algorithm %d", which);
        ok &= check_output(&p, 0, what);
    }
    CUDA_OK(cudaMemset(p.dC, 0xFF, c_bytes));
    gr_lib_gemm_bf16_nt(M, N, K, p.dA, p.dB, p.dC, 0);
    CUDA_OK(cudaDeviceSynchronize());
    const char *chosen = gr_lib_gemm_bf16_nt_name(M, N, K);  // NULL off alignment: nothing was chosen
    ok &= check_output(&p, 0, chosen ? chosen : "gr_lib_gemm_bf16_nt");
    problem_free(&p);
    return ok;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

// The choice at a large shape: every candidate's time, then the chosen call timed as the grader
// would (median of 20, each between events on a stream), and 64 of its elements checked.
static bool bench_shape(int n) {
    Problem p;
    problem_make(&p, n, n, n, 0);
    cudaStream_t stream;
    cudaEvent_t start, stop;
    CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    CUDA_OK(cudaEventCreate(&start));
    CUDA_OK(cudaEventCreate(&stop));
    gr_lib_gemm_bf16_nt(n, n, n, p.dA, p.dB, p.dC, stream);  // the first call chooses
    CUDA_OK(cudaStreamSynchronize(stream));
    char line[1024];
    gr_lib_gemm_bf16_nt_describe(n, n, n, line, sizeof line);
    printf("%d^3: %s\n", n, line);
    float ms[20];
    for (int r = 0; r < 20; r++) {
        CUDA_OK(cudaEventRecord(start, stream));
        gr_lib_gemm_bf16_nt(n, n, n, p.dA, p.dB, p.dC, stream);
        CUDA_OK(cudaEventRecord(stop, stream));
        CUDA_OK(cudaEventSynchronize(stop));
        CUDA_OK(cudaEventElapsedTime(&ms[r], start, stop));
    }
    qsort(ms, 20, sizeof ms[0], cmp_float);
    double med = 0.5 * (ms[9] + ms[10]);
    printf("  %s: median %.4f ms, %.0f TFLOP/s\n", gr_lib_gemm_bf16_nt_name(n, n, n), med,
           2.0 * n * (double)n * n / (med * 1e-3) / 1e12);
    bool ok = check_output(&p, 64, "64 elements of the chosen");
    CUDA_OK(cudaEventDestroy(start));
    CUDA_OK(cudaEventDestroy(stop));
    CUDA_OK(cudaStreamDestroy(stream));
    problem_free(&p);
    return ok;
}

int main(void) {
    cudaDeviceProp prop;
    CUDA_OK(cudaGetDeviceProperties(&prop, 0));
    printf("GPU: %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
    const int shapes[][3] = {{1, 17, 8}, {1, 1, 1}, {17, 17, 17}, {33, 127, 1}, {127, 65, 33},
                             {64, 64, 64}, {257, 136, 72}, {1000, 520, 264}};
    bool ok = true;
    for (const auto &s : shapes) ok &= check_shape(s[0], s[1], s[2], 0);
    ok &= check_shape(127, 65, 40, 8);
    ok &= bench_shape(4096);
    ok &= bench_shape(8192);
    printf("%s\n", ok ? "all correct" : "SOME RESULTS WRONG");
    return ok ? 0 : 1;
}
