// make roofs: measure what this GPU really does, to set beside its datasheet.
//   copy bandwidth  a 1 GiB device-to-device copy, counting bytes read plus bytes written
//   FP32 GEMM       cuBLAS SGEMM at 4096^3 (the GEMM ladder's benchmark size)
//   BF16 GEMM       cuBLAS BF16 GEMM with FP32 accumulation at 8192^3
// Inputs are random, never zeros (zeros run faster than real data). Results are cached per GPU.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <cerrno>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>
#include <algorithm>

#include <cublas_v2.h>
#include <cuda_bf16.h>

extern "C" {
#include "roofs.h"
}

#define CHECK(call)                                                                                  \
    do {                                                                                             \
        cudaError_t e_ = (call);                                                                     \
        if (e_ != cudaSuccess) {                                                                     \
            fprintf(stderr, "measure-roofs: %s failed at %s:%d: %s\n", #call, __FILE__, __LINE__,    \
                    cudaGetErrorString(e_));                                                         \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)
#define CHECK_BLAS(call)                                                                             \
    do {                                                                                             \
        cublasStatus_t s_ = (call);                                                                  \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                           \
            fprintf(stderr, "measure-roofs: %s failed at %s:%d: %s\n", #call, __FILE__, __LINE__,    \
                    cublasGetStatusString(s_));                                                      \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)

// A hash of the index: random-looking values in [-1, 1), made on the GPU so 8192^2 fills are quick.
__device__ float hash_unit(size_t i, unsigned salt) {
    unsigned x = (unsigned)(i * 2654435761u) ^ salt;
    x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16;
    return (x >> 8) * (2.0f / 16777216.0f) - 1.0f;
}
__global__ void fill_f32(float *p, size_t n, unsigned salt) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = hash_unit(i, salt);
}
__global__ void fill_bf16(__nv_bfloat16 *p, size_t n, unsigned salt) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = __float2bfloat16(hash_unit(i, salt));
}

template <typename F> static double median_ms(F run, int reps) {
    cudaEvent_t a, b;
    CHECK(cudaEventCreate(&a));
    CHECK(cudaEventCreate(&b));
    run();  // warm-up
    run();
    CHECK(cudaDeviceSynchronize());
    std::vector<float> t;
    for (int i = 0; i < reps; i++) {
        CHECK(cudaEventRecord(a));
        run();
        CHECK(cudaEventRecord(b));
        CHECK(cudaEventSynchronize(b));
        float ms;
        CHECK(cudaEventElapsedTime(&ms, a, b));
        t.push_back(ms);
    }
    std::sort(t.begin(), t.end());
    CHECK(cudaEventDestroy(a));
    CHECK(cudaEventDestroy(b));
    return t[t.size() / 2];
}

static double copy_gbs() {
    size_t bytes = 1ull << 30;
    void *src, *dst;
    CHECK(cudaMalloc(&src, bytes));
    CHECK(cudaMalloc(&dst, bytes));
    fill_f32<<<1024, 256>>>((float *)src, bytes / 4, 7);
    CHECK(cudaGetLastError());
    double ms = median_ms([&] { CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice)); }, 20);
    CHECK(cudaFree(src));
    CHECK(cudaFree(dst));
    return 2.0 * bytes / (ms * 1e-3) / 1e9;
}

static double sgemm_tflops(cublasHandle_t h, int n) {
    float *A, *B, *C;
    size_t e = (size_t)n * n;
    CHECK(cudaMalloc(&A, e * 4));
    CHECK(cudaMalloc(&B, e * 4));
    CHECK(cudaMalloc(&C, e * 4));
    fill_f32<<<1024, 256>>>(A, e, 1);
    fill_f32<<<1024, 256>>>(B, e, 2);
    CHECK(cudaGetLastError());
    const float one = 1, zero = 0;
    CHECK_BLAS(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));  // true FP32, no TF32
    double ms = median_ms([&] { CHECK_BLAS(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, A, n, B, n, &zero, C, n)); }, 20);
    CHECK(cudaFree(A)); CHECK(cudaFree(B)); CHECK(cudaFree(C));
    return 2.0 * n * (double)n * n / (ms * 1e-3) / 1e12;
}

static double bf16_tflops(cublasHandle_t h, int n) {
    __nv_bfloat16 *A, *B;
    float *C;
    size_t e = (size_t)n * n;
    CHECK(cudaMalloc(&A, e * 2));
    CHECK(cudaMalloc(&B, e * 2));
    CHECK(cudaMalloc(&C, e * 4));
    fill_bf16<<<1024, 256>>>(A, e, 3);
    fill_bf16<<<1024, 256>>>(B, e, 4);
    CHECK(cudaGetLastError());
    const float one = 1, zero = 0;
    double ms = median_ms([&] {
        CHECK_BLAS(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, A, CUDA_R_16BF, n, B, CUDA_R_16BF, n,
                                &zero, C, CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }, 20);
    CHECK(cudaFree(A)); CHECK(cudaFree(B)); CHECK(cudaFree(C));
    return 2.0 * n * (double)n * n / (ms * 1e-3) / 1e12;
}

static void pct_line(const char *what, double got, double sheet, const char *unit) {
    if (sheet > 0) printf("   %-26s %9.1f %-8s (datasheet %.1f: %.1f%%)\n", what, got, unit, sheet, 100 * got / sheet);
    else printf("   %-26s %9.1f %-8s (no datasheet figure)\n", what, got, unit);
}

int main(int argc, char **argv) {
    const char *out_dir = nullptr;
    bool if_missing = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc) out_dir = argv[++i];
        else if (!strcmp(argv[i], "--if-missing")) if_missing = true;
        else { fprintf(stderr, "usage: measure-roofs --out DIR [--if-missing]\n"); return 64; }
    }
    if (!out_dir) { fprintf(stderr, "usage: measure-roofs --out DIR [--if-missing]\n"); return 64; }
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
        printf("make roofs: measuring roofs needs a CUDA GPU, and this machine has none\n");
        return 2;
    }
    cudaDeviceProp p;
    CHECK(cudaGetDeviceProperties(&p, 0));
    char path[512];
    gr_measured_path(path, sizeof path, out_dir, p.name);
    gr_measured m;
    if (if_missing && gr_measured_load(path, &m)) return 0;
    // The folder first (with its parents), so that a minute of measuring is not lost to it.
    std::string dir(out_dir);
    for (size_t at = dir.find('/', 1); ; at = dir.find('/', at + 1)) {
        const std::string part = dir.substr(0, at);
        if (mkdir(part.c_str(), 0777) != 0 && errno != EEXIST) break;
        if (at == std::string::npos) break;
    }
    if (access(out_dir, W_OK) != 0) {
        fprintf(stderr, "make roofs: cannot write in %s: %s\n", out_dir, strerror(errno));
        return 1;
    }

    printf("make roofs: measuring %s (compute %d.%d, %d SMs)\n", p.name, p.major, p.minor, p.multiProcessorCount);
    memset(&m, 0, sizeof m);
    cublasHandle_t h;
    CHECK_BLAS(cublasCreate(&h));
    m.copy_gbs = copy_gbs();
    m.sgemm_tflops = sgemm_tflops(h, 4096);
    m.bf16_tflops = (p.major >= 8) ? bf16_tflops(h, 8192) : 0;
    CHECK_BLAS(cublasDestroy(h));
    time_t now = time(nullptr);
    strftime(m.measured_on, sizeof m.measured_on, "%Y-%m-%d", gmtime(&now));

    const gr_roof *sheet = gr_roof_lookup(p.name);
    pct_line("copy bandwidth", m.copy_gbs, sheet ? sheet->hbm_gbs : 0, "GB/s");
    pct_line("cuBLAS SGEMM 4096^3", m.sgemm_tflops, sheet ? sheet->tflops[GR_ROOF_FP32] : 0, "TFLOP/s");
    pct_line("cuBLAS BF16 GEMM 8192^3", m.bf16_tflops, sheet ? sheet->tflops[GR_ROOF_BF16] : 0, "TFLOP/s");
    if (!gr_measured_save(path, &m)) { fprintf(stderr, "make roofs: cannot write %s\n", path); return 1; }
    printf("   cached in %s\n", path);
    return 0;
}
