// grader/library.cu's GEMM yardsticks without a GPU: linked against fake_cuda.cpp, which computes
// what cuBLAS and cuBLASLt are documented to compute for the arguments they get, so the row-major
// product each yardstick promises must come out of the column-major calls it makes. Also the
// choice of gr_lib_gemm_bf16_nt: the fastest candidate kept, only it called afterwards, its name.
// Prints PASS/FAIL lines (tests/library-test.sh runs it); exit status 1 on any failure.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fake_cuda.h"
#include "library.h"

static int n_failed;

static void result(bool ok, const char *what, const char *detail = "") {
    printf(ok ? "PASS  %s\n" : "FAIL  %s  %s\n", what, detail);
    n_failed += !ok;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float uniform_signed(void) {  // xorshift64*: [-1, 1)
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (float)((rng_state * 0x2545F4914F6CDD1Dull) >> 40) / 8388608.0f - 1.0f;
}
static uint16_t to_bf16(float f) {
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

// A, B and C of C = A B^T (A M x K, B N x K, C M x N, BF16), `offset` elements into 256-byte
// aligned allocations, and C's row-major definition computed here.
struct Nt {
    int M, N, K;
    std::vector<uint16_t> a, b, c, want;
    uint16_t *A, *B, *C;
};

static void nt_make(Nt *t, int M, int N, int K, int offset) {
    t->M = M;
    t->N = N;
    t->K = K;
    t->a.resize((size_t)M * K + offset + 128);  // + 128 elements: room to slide off alignment
    t->b.resize((size_t)N * K + offset + 128);
    t->c.resize((size_t)M * N + offset + 128);
    // vector storage is 16-byte aligned: step to the next 256-byte boundary, then offset.
    auto aligned = [offset](std::vector<uint16_t> &v) {
        uintptr_t p = (uintptr_t)v.data();
        return (uint16_t *)((p + 255) / 256 * 256) + offset;
    };
    t->A = aligned(t->a);
    t->B = aligned(t->b);
    t->C = aligned(t->c);
    for (long i = 0; i < (long)M * K; i++) t->A[i] = to_bf16(uniform_signed());
    for (long i = 0; i < (long)N * K; i++) t->B[i] = to_bf16(uniform_signed());
    t->want.resize((size_t)M * N);
    for (long i = 0; i < M; i++)
        for (long j = 0; j < N; j++) {
            double sum = 0;
            for (long k = 0; k < K; k++) sum += (double)from_bf16(t->A[i * K + k]) * from_bf16(t->B[j * K + k]);
            t->want[i * N + j] = to_bf16((float)sum);
        }
}

static void nt_poison(Nt *t) { memset(t->C, 0xFF, sizeof(uint16_t) * (size_t)t->M * t->N); }

// The first element of C that differs from the definition, or -1.
static long nt_first_wrong(const Nt *t) {
    for (long i = 0; i < (long)t->M * t->N; i++)
        if (t->C[i] != t->want[i]) return i;
    return -1;
}

static void expect_right(const Nt *t, const char *what) {
    long bad = nt_first_wrong(t);
    char detail[160] = "";
    if (bad >= 0)
        snprintf(detail, sizeof detail, "C[%ld][%ld] = %g, expected %g", bad / t->N, bad % t->N,
                 from_bf16(t->C[bad]), from_bf16(t->want[bad]));
    result(bad < 0, what, detail);
}

static void reset_fake(float ms_cublas, float ms_lt0, float ms_lt1) {
    memset(fake_calls, 0, sizeof fake_calls);
    fake_ms[0] = ms_cublas;
    fake_ms[1] = ms_lt0;
    fake_ms[2] = ms_lt1;
}

// Every candidate, called directly, computes C = A B^T: M = 1, N = 1, K = 1, odd sizes, and a
// shape no tile divides.
static void every_candidate_computes_the_product(void) {
    const int shapes[][3] = {{1, 17, 8}, {17, 1, 33}, {1, 1, 1}, {33, 127, 1}, {127, 65, 33}, {1000, 520, 264}};
    for (const auto &s : shapes) {
        Nt t;
        nt_make(&t, s[0], s[1], s[2], 0);
        char what[128];
        for (int which = -1; which < fake_lt_algos; which++) {
            nt_poison(&t);
            bool called = gr_lib_gemm_bf16_nt_candidate(t.M, t.N, t.K, which, t.A, t.B, t.C, 0);
            if (which < 0) snprintf(what, sizeof what, "C = A B^T at %dx%dx%d by cublasGemmEx", t.M, t.N, t.K);
            else snprintf(what, sizeof what, "C = A B^T at %dx%dx%d by cuBLASLt algorithm %d", t.M, t.N, t.K, which);
            if (called) expect_right(&t, what);
            else result(false, what, "the call was refused (wrong arguments?)");
        }
        snprintf(what, sizeof what, "no cuBLASLt algorithm beyond those offered at %dx%dx%d", t.M, t.N, t.K);
        result(!gr_lib_gemm_bf16_nt_candidate(t.M, t.N, t.K, fake_lt_algos, t.A, t.B, t.C, 0), what);
    }
}

// The fastest candidate is chosen on the first call, named, and alone called afterwards.
static void the_fastest_is_kept(void) {
    Nt t;
    nt_make(&t, 40, 24, 16, 0);
    result(gr_lib_gemm_bf16_nt_name(40, 24, 16) == nullptr, "no name before a shape's first call");
    reset_fake(1.0f, 2.0f, 0.5f);
    nt_poison(&t);
    gr_lib_gemm_bf16_nt(40, 24, 16, t.A, t.B, t.C, 0);
    expect_right(&t, "the first call (the choice) leaves C = A B^T");
    const char *name = gr_lib_gemm_bf16_nt_name(40, 24, 16);
    result(name && !strcmp(name, "cuBLASLt BF16"), "cuBLASLt algorithm 1, the fastest, is named cuBLASLt BF16",
           name ? name : "NULL");
    char line[512];
    gr_lib_gemm_bf16_nt_describe(40, 24, 16, line, sizeof line);
    result(strstr(line, "cublasGemmEx 1.0000 ms") && strstr(line, "#1 0.5000 ms (chosen)"),
           "describe gives every candidate's time and the choice", line);
    reset_fake(1.0f, 2.0f, 0.5f);
    for (int i = 0; i < 3; i++) gr_lib_gemm_bf16_nt(40, 24, 16, t.A, t.B, t.C, 0);
    result(fake_calls[0] == 0 && fake_calls[1] == 0 && fake_calls[2] == 3, "afterwards only the chosen one is called");

    Nt u;
    nt_make(&u, 24, 40, 16, 0);
    reset_fake(0.5f, 1.0f, 2.0f);
    nt_poison(&u);
    gr_lib_gemm_bf16_nt(24, 40, 16, u.A, u.B, u.C, 0);
    expect_right(&u, "the first call of another shape leaves C = A B^T");
    name = gr_lib_gemm_bf16_nt_name(24, 40, 16);
    result(name && !strcmp(name, "cuBLAS BF16"), "cublasGemmEx, the fastest there, is named cuBLAS BF16",
           name ? name : "NULL");
    reset_fake(0.5f, 1.0f, 2.0f);
    gr_lib_gemm_bf16_nt(24, 40, 16, u.A, u.B, u.C, 0);
    result(fake_calls[0] == 1 && fake_calls[1] + fake_calls[2] == 0, "and only cublasGemmEx is called afterwards");
}

// Pointers off 256-byte alignment go to cublasGemmEx, and choose nothing.
static void unaligned_pointers_use_cublas(void) {
    Nt t;
    nt_make(&t, 31, 29, 24, 8);
    reset_fake(2.0f, 1.0f, 0.5f);
    nt_poison(&t);
    gr_lib_gemm_bf16_nt(31, 29, 24, t.A, t.B, t.C, 0);
    expect_right(&t, "C = A B^T with pointers 16 bytes off alignment");
    result(fake_calls[0] == 1 && fake_calls[1] + fake_calls[2] == 0 && !gr_lib_gemm_bf16_nt_name(31, 29, 24),
           "off alignment: cublasGemmEx alone, nothing chosen");
}

// Eight shapes are remembered: the ninth new one takes the oldest's place.
static void remembers_eight_shapes(void) {
    Nt t;
    nt_make(&t, 9, 8, 8, 0);
    reset_fake(1.0f, 2.0f, 3.0f);
    for (int m = 1; m <= 9; m++) gr_lib_gemm_bf16_nt(m, 8, 8, t.A, t.B, t.C, 0);
    result(!gr_lib_gemm_bf16_nt_name(1, 8, 8) && gr_lib_gemm_bf16_nt_name(2, 8, 8) && gr_lib_gemm_bf16_nt_name(9, 8, 8),
           "nine new shapes: the first is forgotten, the last eight remembered");
    t.M = 9;
    nt_poison(&t);
    gr_lib_gemm_bf16_nt(9, 8, 8, t.A, t.B, t.C, 0);
    expect_right(&t, "C = A B^T at 9x8x8 after the cache turned over");
}

// The older yardsticks, row-major C = alpha A B + beta C with B K x N: SGEMM (sessions 01, 04, 05)
// and the BF16 GEMM with FP32 C (session 06).
static void the_nn_yardsticks(void) {
    const int M = 33, N = 17, K = 9;
    std::vector<float> A(M * K), B(K * N), C0(M * N), C(M * N), want(M * N);
    std::vector<uint16_t> a16(M * K), b16(K * N);
    for (auto &x : A) x = from_bf16(to_bf16(uniform_signed()));  // BF16 values: exact in both
    for (auto &x : B) x = from_bf16(to_bf16(uniform_signed()));
    for (auto &x : C0) x = uniform_signed();
    for (int i = 0; i < M * K; i++) a16[i] = to_bf16(A[i]);
    for (int i = 0; i < K * N; i++) b16[i] = to_bf16(B[i]);
    const float alpha = 1.5f, beta = -0.25f;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double sum = 0;
            for (int k = 0; k < K; k++) sum += (double)A[i * K + k] * B[k * N + j];
            want[i * N + j] = (float)((double)alpha * sum + (double)beta * C0[i * N + j]);
        }
    C = C0;
    gr_lib_sgemm(M, N, K, alpha, A.data(), B.data(), beta, C.data(), 0);
    result(C == want, "gr_lib_sgemm: row-major C = alpha A B + beta C");
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double sum = 0;
            for (int k = 0; k < K; k++) sum += (double)A[i * K + k] * B[k * N + j];
            want[i * N + j] = (float)sum;
        }
    std::fill(C.begin(), C.end(), NAN);
    gr_lib_gemm_bf16(M, N, K, a16.data(), b16.data(), C.data(), 0);
    result(C == want, "gr_lib_gemm_bf16: row-major C = A B, BF16 in, float32 out");
}

int main(void) {
    setvbuf(stdout, nullptr, _IOLBF, 0);  // the lines so far survive a crash
    every_candidate_computes_the_product();
    the_fastest_is_kept();
    unaligned_pointers_use_cublas();
    remembers_eight_shapes();
    the_nn_yardsticks();
    return n_failed ? 1 : 0;
}
