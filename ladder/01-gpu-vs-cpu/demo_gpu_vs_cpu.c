/* Board demo: the same matrix product on the CPU, as a naive GPU kernel, and through cuBLAS,
 * wall-clock side by side. Needs a GPU.
 *
 *   make demo-gpu-vs-cpu            (N = 1024)
 *   make demo-gpu-vs-cpu N=2048
 *
 * Uses the hidden solutions where they exist (a mentor's checkout), else the student's files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "exercises.h"
#include "grader.h"
#include "library.h"

#define CHECK(call)                                                                                    \
    do {                                                                                               \
        cudaError_t e_ = (call);                                                                       \
        if (e_ != cudaSuccess) {                                                                       \
            fprintf(stderr, "demo: %s failed at %s:%d: %s\n", #call, __FILE__, __LINE__, cudaGetErrorString(e_)); \
            exit(1);                                                                                   \
        }                                                                                              \
    } while (0)

/* Wall clock of one GPU call, synchronised, best of three (the first call also pays start-up). */
static double gpu_seconds(int which, const float *A, const float *B, float *C, int n) {
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        CHECK(cudaDeviceSynchronize());
        double t0 = gr_wall_seconds();
        if (which == 0) matmul_naive(A, B, C, n, n, n, 0);
        else gr_lib_sgemm(n, n, n, 1.0f, A, B, 0.0f, C, 0);
        CHECK(cudaGetLastError());
        CHECK(cudaDeviceSynchronize());
        double t = gr_wall_seconds() - t0;
        if (t < best) best = t;
    }
    return best;
}

static void bar(double seconds, double slowest) {
    int width = (int)(60.0 * seconds / slowest + 0.5);
    if (width < 1) width = 1;
    for (int i = 0; i < width; i++) putchar('#');
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1024;
    /* The CPU's share grows as N^3: at 4096 it takes about half a minute, at 8192 several. */
    if (n < 16 || n > 4096) {
        fprintf(stderr, "demo-gpu-vs-cpu: N must be between 16 and 4096 (got %s)\n", argc > 1 ? argv[1] : "?");
        return 64;
    }
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        printf("demo-gpu-vs-cpu needs a CUDA GPU, and this machine has none.\n");
        return 2;
    }
    size_t e = (size_t)n * n;
    float *A = malloc(e * 4), *B = malloc(e * 4), *C_cpu = malloc(e * 4), *C_gpu = malloc(e * 4);
    if (!A || !B || !C_cpu || !C_gpu) { fprintf(stderr, "demo: out of memory\n"); return 1; }
    srand(1);
    for (size_t i = 0; i < e; i++) { A[i] = rand() / (float)RAND_MAX - 0.5f; B[i] = rand() / (float)RAND_MAX - 0.5f; }
    float *dA, *dB, *dC;
    CHECK(cudaMalloc((void **)&dA, e * 4));
    CHECK(cudaMalloc((void **)&dB, e * 4));
    CHECK(cudaMalloc((void **)&dC, e * 4));
    CHECK(cudaMemcpy(dA, A, e * 4, cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(dB, B, e * 4, cudaMemcpyHostToDevice));

    double flop = 2.0 * n * (double)n * n;
    printf("\n  C = A x B,  %d x %d,  %.1f billion multiply-adds\n\n", n, n, flop / 2e9);
    fflush(stdout);
    double t0 = gr_wall_seconds();
    matmul_cpu(A, B, C_cpu, n, n, n);
    double t_cpu = gr_wall_seconds() - t0;
    double t_naive = gpu_seconds(0, dA, dB, dC, n);
    CHECK(cudaMemcpy(C_gpu, dC, e * 4, cudaMemcpyDeviceToHost));
    double worst = 0;
    for (size_t i = 0; i < e; i++) worst = fmax(worst, fabs(C_gpu[i] - C_cpu[i]));
    double t_blas = gpu_seconds(1, dA, dB, dC, n);

    const char *names[3] = {"CPU, one core", "GPU, naive kernel", "GPU, cuBLAS"};
    double t[3] = {t_cpu, t_naive, t_blas};
    for (int i = 0; i < 3; i++) {
        printf("  %-18s %10.2f ms  %8.1f GFLOP/s  %7.0fx  ", names[i], t[i] * 1e3, flop / t[i] / 1e9, t_cpu / t[i]);
        bar(t[i], t_cpu);
        printf("\n");
    }
    printf("\n  naive GPU vs CPU: largest difference %.2e (the same answer)\n", worst);
    printf("  cuBLAS is %.0fx faster than our naive kernel: that gap is the next two weeks.\n\n", t_naive / t_blas);
    cudaFree(dA); cudaFree(dB); cudaFree(dC);
    free(A); free(B); free(C_cpu); free(C_gpu);
    return 0;
}
