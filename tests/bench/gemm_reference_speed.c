/* How fast the grader's CPU references of a matrix product go (grader/ref/matmul.c), before and after
 * they computed their rows together: a benchmark that prints, not a test that judges.
 *
 *   tests/gemm-reference-speed.sh [N K [ROWS]]     (defaults: 8192 8192 66)
 *
 * For C = alpha A B + beta C0 with magnitudes (sessions 01, 04, 05, 06) and C = A B^T (10, 11, 12):
 * the loops the references had before (kept below as they were), row by row, then today's
 * references on ROWS rows in one call (a check's 64 sampled rows and the first and last), on 10
 * (a leaderboard repetition's) and on one row; the rows both computed must agree bit for bit. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ref/references.h"

/* ---- the loops before (grader/ref/matmul.c up to commit 1310b74) ------------------------------ */

static void before_gemm_scaled(const float *A, const float *B, const float *C0, float alpha, float beta, float *C,
                               float *scale, long N, long K, long row_begin, long row_end) {
    double *acc = malloc(sizeof(double) * (size_t)N), *mag = malloc(sizeof(double) * (size_t)N);
    if (!acc || !mag) abort();
    for (long i = row_begin; i < row_end; i++) {
        for (long j = 0; j < N; j++) acc[j] = mag[j] = 0;
        for (long k = 0; k < K; k++) {
            double a = A[i * K + k];
            const float *b = B + k * N;
            for (long j = 0; j < N; j++) acc[j] += a * b[j];
            for (long j = 0; j < N; j++) mag[j] += fabs(a * b[j]);
        }
        for (long j = 0; j < N; j++) {
            double v = (double)alpha * acc[j], m = fabs((double)alpha) * mag[j];
            if (C0 && beta != 0.0f) {
                v += (double)beta * C0[i * N + j];
                m += fabs((double)beta * C0[i * N + j]);
            }
            C[i * N + j] = (float)v;
            scale[i * N + j] = (float)m;
        }
    }
    free(acc);
    free(mag);
}

static void before_gemm_nt(const float *A, const float *B, float *C, long N, long K, long row_begin, long row_end) {
    for (long i = row_begin; i < row_end; i++) {
        const float *a = A + i * K;
        for (long j = 0; j < N; j += 4) {
            const float *b[4];
            for (long t = 0; t < 4; t++) b[t] = B + (j + t < N ? j + t : N - 1) * K;
            double s[4] = {0, 0, 0, 0};
            for (long k = 0; k < K; k++) {
                double x = a[k];
                s[0] += x * b[0][k];
                s[1] += x * b[1][k];
                s[2] += x * b[2][k];
                s[3] += x * b[3][k];
            }
            for (long t = 0; t < 4 && j + t < N; t++) C[i * N + j + t] = (float)s[t];
        }
    }
}

/* ---- timing --------------------------------------------------------------------------------- */

static double seconds(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
    double wall, cpu;
} span;

static span since(span start) {
    return (span){seconds(CLOCK_MONOTONIC) - start.wall, seconds(CLOCK_PROCESS_CPUTIME_ID) - start.cpu};
}
static span now(void) { return (span){seconds(CLOCK_MONOTONIC), seconds(CLOCK_PROCESS_CPUTIME_ID)}; }

/* "12.3 ms a row (81 rows/s; CPU 12.1 ms)" */
static void say_per_row(const char *what, span t, long rows) {
    printf("   %-34s %8.2f ms a row  %7.1f rows/s   (CPU time %.2f ms a row)\n", what, 1e3 * t.wall / rows,
           rows / t.wall, 1e3 * t.cpu / rows);
}

static void *checked_malloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) { fprintf(stderr, "gemm_reference_speed: out of memory (%zu bytes)\n", bytes); exit(1); }
    return p;
}

static void fill(float *x, long n, unsigned long long *state) {
    for (long i = 0; i < n; i++) {
        *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)(*state >> 40) * 0x1p-23f - 1.0f;   /* [-1, 1), 24 bits */
    }
}

int main(int argc, char **argv) {
    const long N = argc > 1 ? atol(argv[1]) : 8192, K = argc > 2 ? atol(argv[2]) : 8192;
    const long R = argc > 3 ? atol(argv[3]) : 66, BEFORE_ROWS = 2;
    if (N < 1 || K < 1 || R < BEFORE_ROWS) {
        fprintf(stderr, "usage: gemm_reference_speed [N K [ROWS >= %ld]]\n", BEFORE_ROWS);
        return 64;
    }
    char cpu[128] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    for (char line[512]; f && fgets(line, sizeof line, f);)
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(cpu, sizeof cpu, "%s", strchr(line, ':') + 2);
            cpu[strcspn(cpu, "\n")] = 0;
            break;
        }
    if (f) fclose(f);
    const char *path = "the baseline loops";
#if defined(__x86_64__) && defined(__GNUC__) && !defined(REF_MATMUL_BASELINE_ONLY)
    if (__builtin_cpu_supports("avx2")) path = "the AVX2 loops";
#endif
    printf("CPU: %s; %s; one thread\n", cpu, path);

    float *A = checked_malloc(sizeof(float) * (size_t)(R * K)), *B = checked_malloc(sizeof(float) * (size_t)(K * N));
    float *C0 = checked_malloc(sizeof(float) * (size_t)(R * N));
    float *before = checked_malloc(sizeof(float) * (size_t)(R * N)), *before_scale = checked_malloc(sizeof(float) * (size_t)(R * N));
    float *after = checked_malloc(sizeof(float) * (size_t)(R * N)), *after_scale = checked_malloc(sizeof(float) * (size_t)(R * N));
    long *rows = checked_malloc(sizeof(long) * (size_t)R);
    unsigned long long state = 0x5EED;
    fill(A, R * K, &state);
    fill(B, K * N, &state);
    fill(C0, R * N, &state);
    for (long r = 0; r < R; r++) rows[r] = R - 1 - r;   /* any order */
    const float alpha = 1.25f, beta = -0.375f;
    bool same = true;

    printf("C = alpha A B + beta C, with magnitudes (sessions 01, 04, 05, 06), N %ld, K %ld:\n", N, K);
    span t = now();
    before_gemm_scaled(A, B, C0, alpha, beta, before, before_scale, N, K, 0, BEFORE_ROWS);
    say_per_row("before, row by row", since(t), BEFORE_ROWS);
    const long counts[] = {R, 10, 1};
    for (int i = 0; i < 3; i++) {
        if (counts[i] > R) continue;
        char what[64];
        snprintf(what, sizeof what, "now, %ld row%s in one call", counts[i], counts[i] > 1 ? "s" : "");
        t = now();
        ref_gemm_scaled_rows(A, B, C0, alpha, beta, after, after_scale, N, K, rows + R - counts[i], counts[i]);
        say_per_row(what, since(t), counts[i]);
        same = same && !memcmp(before, after, sizeof(float) * (size_t)(BEFORE_ROWS * N)) &&
               !memcmp(before_scale, after_scale, sizeof(float) * (size_t)(BEFORE_ROWS * N));
    }

    printf("C = A B^T (sessions 10, 11, 12), N %ld, K %ld:\n", N, K);
    t = now();
    before_gemm_nt(A, B, before, N, K, 0, BEFORE_ROWS);
    say_per_row("before, row by row", since(t), BEFORE_ROWS);
    for (int i = 0; i < 3; i++) {
        if (counts[i] > R) continue;
        char what[64];
        snprintf(what, sizeof what, "now, %ld row%s in one call", counts[i], counts[i] > 1 ? "s" : "");
        t = now();
        ref_gemm_nt_rows(A, B, after, N, K, rows + R - counts[i], counts[i]);
        say_per_row(what, since(t), counts[i]);
        same = same && !memcmp(before, after, sizeof(float) * (size_t)(BEFORE_ROWS * N));
    }
    printf("rows computed both ways: %s\n", same ? "the same bits" : "DIFFERENT");
    return same ? 0 : 1;
}
