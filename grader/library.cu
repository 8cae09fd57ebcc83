// Vendor-library yardsticks (cuBLAS, CUB), wrapped in C functions for the check drivers.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cub/device/device_reduce.cuh>

#include "library.h"

// One handle per process, created on first use (during warm-up, never inside a timed launch).
static cublasHandle_t handle_on(cudaStream_t stream) {
    static cublasHandle_t handle = nullptr;
    if (!handle) {
        if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) {
            fprintf(stderr, "grader: cublasCreate failed\n");
            exit(70);
        }
        // Plain FP32: TF32 would be a different (faster, less precise) baseline.
        cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH);
    }
    cublasSetStream(handle, stream);
    return handle;
}

static void check_blas(cublasStatus_t s, const char *what) {
    if (s != CUBLAS_STATUS_SUCCESS) {
        fprintf(stderr, "grader: %s failed: %s\n", what, cublasGetStatusString(s));
        exit(70);
    }
}

// cuBLAS is column-major; a row-major matrix is its transpose, so C = A B is computed as C^T = B^T A^T.
extern "C" void gr_lib_sgemm(int M, int N, int K, float alpha, const float *A, const float *B, float beta,
                             float *C, cudaStream_t stream) {
    check_blas(cublasSgemm(handle_on(stream), CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &alpha, B, N, A, K, &beta, C, N),
               "cublasSgemm");
}

extern "C" void gr_lib_gemm_bf16(int M, int N, int K, const void *A, const void *B, float *C, cudaStream_t stream) {
    const float one = 1.0f, zero = 0.0f;
    check_blas(cublasGemmEx(handle_on(stream), CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, B, CUDA_R_16BF, N, A,
                            CUDA_R_16BF, K, &zero, C, CUDA_R_32F, N, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx (BF16)");
}

// ---- C = A * B^T in BF16: the faster of cuBLAS and cuBLASLt for the shape ----------------------
//
// Row-major C (M x N) = A (M x K) * B^T, B stored N x K. cuBLAS is column-major and reads a
// row-major R x C matrix as its transpose, a C x R matrix with leading dimension C. So it sees
// C^T (N x M, ld N) = B * A^T, where B is op T of the K x N matrix it reads at B (ld K), and A^T
// is the K x M matrix it reads at A (ld K), as it is (op N): m = N, n = M, k = K, "TN", the
// layout where both operands run along K, the one cuBLAS is fastest at.
//
// cublasGemmEx picks its own kernel; cuBLASLt offers a ranked list (its heuristic) that sometimes
// holds a faster one. On the first call for a shape, each candidate runs a few times, timed with
// events on the caller's stream, and the fastest is kept; from then on that call alone is
// enqueued. The grader calls a library routine twice for warm-up before it times any launch
// (gr_time_device in timing.c), so the choice, with its synchronisations, happens there and never
// inside a timed launch.

static const size_t LT_WORKSPACE_BYTES = 32u << 20;
static const int LT_CANDIDATES = 4;  // the heuristic's top few
static const int NT_SHAPES = 8;      // shapes remembered; the oldest is forgotten first
static const int NT_CUBLAS = -1, NT_UNCHOSEN = -2;

// A GEMM's cuBLASLt descriptors (lt_describe below).
struct LtGemm {
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t b_layout, a_layout, c_layout;  // in cuBLAS's argument order
};

// One shape: cuBLASLt's descriptors and candidates, and which candidate won.
struct NtPlan {
    int M, N, K;  // M == 0: a free slot
    LtGemm lt;  // cuBLASLt's descriptors of the shape
    cublasLtMatmulAlgo_t algo[LT_CANDIDATES];
    int n_algo;
    int chosen;  // NT_UNCHOSEN, NT_CUBLAS, or i >= 0: algo[i]
    float ms_cublas, ms_algo[LT_CANDIDATES];  // best time of each candidate
};
static NtPlan nt_plans[NT_SHAPES];
static int nt_oldest;

static cublasLtHandle_t lt_handle(void) {
    static cublasLtHandle_t lt = nullptr;
    if (!lt) check_blas(cublasLtCreate(&lt), "cublasLtCreate");
    return lt;
}

// Allocated once, on the first choice, and kept until the process ends.
static void *lt_workspace(void) {
    static void *ws = nullptr;
    if (!ws && cudaMalloc(&ws, LT_WORKSPACE_BYTES) != cudaSuccess) {
        fprintf(stderr, "grader: cudaMalloc of the cuBLASLt workspace failed\n");
        exit(70);
    }
    return ws;
}

// The "TN" descriptors of C (N x M, ld N, BF16 out) = B^T (K x N read as op T) * A (K x M), inputs
// of type `in`, FP32 compute; and the heuristic's first `max` algorithms that accept them (their
// count, 0 for a shape it refuses).
static void lt_describe(LtGemm *g, cudaDataType in, int M, int N, int K) {
    const int32_t op_t = CUBLAS_OP_T, op_n = CUBLAS_OP_N;
    check_blas(cublasLtMatmulDescCreate(&g->op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
    check_blas(cublasLtMatmulDescSetAttribute(g->op, CUBLASLT_MATMUL_DESC_TRANSA, &op_t, sizeof op_t), "TRANSA");
    check_blas(cublasLtMatmulDescSetAttribute(g->op, CUBLASLT_MATMUL_DESC_TRANSB, &op_n, sizeof op_n), "TRANSB");
    // Each layout describes the matrix as stored, before its op: rows, columns, leading dimension.
    check_blas(cublasLtMatrixLayoutCreate(&g->b_layout, in, K, N, K), "cublasLtMatrixLayoutCreate");
    check_blas(cublasLtMatrixLayoutCreate(&g->a_layout, in, K, M, K), "cublasLtMatrixLayoutCreate");
    check_blas(cublasLtMatrixLayoutCreate(&g->c_layout, CUDA_R_16BF, N, M, N), "cublasLtMatrixLayoutCreate");
}
static void lt_destroy(LtGemm *g) {
    cublasLtMatmulDescDestroy(g->op);
    cublasLtMatrixLayoutDestroy(g->b_layout);
    cublasLtMatrixLayoutDestroy(g->a_layout);
    cublasLtMatrixLayoutDestroy(g->c_layout);
}
static int lt_candidates(const LtGemm *g, cublasLtMatmulAlgo_t *algo, int max) {
    cublasLtMatmulPreference_t pref;
    const uint64_t ws = LT_WORKSPACE_BYTES;
    check_blas(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
    check_blas(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws),
               "cublasLtMatmulPreferenceSetAttribute");
    cublasLtMatmulHeuristicResult_t found[LT_CANDIDATES];
    int n_found = 0, n = 0;
    if (cublasLtMatmulAlgoGetHeuristic(lt_handle(), g->op, g->b_layout, g->a_layout, g->c_layout, g->c_layout, pref,
                                       max < LT_CANDIDATES ? max : LT_CANDIDATES, found, &n_found) != CUBLAS_STATUS_SUCCESS)
        n_found = 0;
    cublasLtMatmulPreferenceDestroy(pref);
    for (int i = 0; i < n_found; i++)
        if (found[i].state == CUBLAS_STATUS_SUCCESS) algo[n++] = found[i].algo;
    return n;
}

// Enqueue candidate `which` (NT_CUBLAS or an index into algo) on the stream.
static cublasStatus_t nt_run(const NtPlan *p, int which, const void *A, const void *B, void *C, cudaStream_t stream) {
    const float one = 1.0f, zero = 0.0f;
    if (which == NT_CUBLAS)
        return cublasGemmEx(handle_on(stream), CUBLAS_OP_T, CUBLAS_OP_N, p->N, p->M, p->K, &one, B, CUDA_R_16BF, p->K,
                            A, CUDA_R_16BF, p->K, &zero, C, CUDA_R_16BF, p->N, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    return cublasLtMatmul(lt_handle(), p->lt.op, &one, B, p->lt.b_layout, A, p->lt.a_layout, &zero, C, p->lt.c_layout, C,
                          p->lt.c_layout, &p->algo[which], lt_workspace(), LT_WORKSPACE_BYTES, stream);
}

static NtPlan *nt_find(int M, int N, int K) {
    for (int i = 0; i < NT_SHAPES; i++)
        if (nt_plans[i].M == M && nt_plans[i].N == N && nt_plans[i].K == K) return &nt_plans[i];
    return nullptr;
}

// The shape's plan, with cuBLASLt's descriptors and candidates; NT_UNCHOSEN when new.
static NtPlan *nt_plan(int M, int N, int K) {
    NtPlan *p = nt_find(M, N, K);
    if (p) return p;
    p = &nt_plans[nt_oldest];
    nt_oldest = (nt_oldest + 1) % NT_SHAPES;
    if (p->M) lt_destroy(&p->lt);
    memset(p, 0, sizeof *p);
    p->M = M;
    p->N = N;
    p->K = K;
    p->chosen = NT_UNCHOSEN;
    lt_describe(&p->lt, CUDA_R_16BF, M, N, K);
    p->n_algo = lt_candidates(&p->lt, p->algo, LT_CANDIDATES);  // none (a shape it refuses): cublasGemmEx alone
    return p;
}

// Best of five launches after one untimed, in milliseconds; INFINITY when the candidate refuses.
static float nt_time(const NtPlan *p, int which, const void *A, const void *B, void *C, cudaStream_t stream) {
    cudaEvent_t start, stop;
    float best = INFINITY;
    if (cudaEventCreate(&start) != cudaSuccess || cudaEventCreate(&stop) != cudaSuccess) return INFINITY;
    if (nt_run(p, which, A, B, C, stream) == CUBLAS_STATUS_SUCCESS) {
        for (int rep = 0; rep < 5; rep++) {
            float ms = INFINITY;
            cudaEventRecord(start, stream);
            cublasStatus_t st = nt_run(p, which, A, B, C, stream);
            cudaEventRecord(stop, stream);
            if (st != CUBLAS_STATUS_SUCCESS || cudaEventSynchronize(stop) != cudaSuccess ||
                cudaEventElapsedTime(&ms, start, stop) != cudaSuccess) {
                best = INFINITY;
                break;
            }
            best = fminf(best, ms);
        }
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return best;
}

static void nt_choose(NtPlan *p, const void *A, const void *B, void *C, cudaStream_t stream) {
    p->ms_cublas = nt_time(p, NT_CUBLAS, A, B, C, stream);
    p->chosen = NT_CUBLAS;
    float best = p->ms_cublas;
    for (int i = 0; i < p->n_algo; i++) {
        p->ms_algo[i] = nt_time(p, i, A, B, C, stream);
        if (p->ms_algo[i] < best) {
            best = p->ms_algo[i];
            p->chosen = i;
        }
    }
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) {
        fprintf(stderr, "grader: choosing between cuBLAS and cuBLASLt: %s\n", cudaGetErrorString(e));
        exit(70);
    }
}

// cuBLASLt's heuristic assumes 256-byte aligned matrices (cudaMalloc's and the grader's buffers are);
// anything else goes to cublasGemmEx, which takes any alignment, and chooses nothing.
static bool aligned_256(const void *A, const void *B, const void *C) {
    return (((uintptr_t)A | (uintptr_t)B | (uintptr_t)C) & 255) == 0;
}

extern "C" void gr_lib_gemm_bf16_nt(int M, int N, int K, const void *A, const void *B, void *C, cudaStream_t stream) {
    NtPlan *p = nt_plan(M, N, K);
    bool aligned = aligned_256(A, B, C);
    if (aligned && p->chosen == NT_UNCHOSEN) nt_choose(p, A, B, C, stream);
    check_blas(nt_run(p, aligned ? p->chosen : NT_CUBLAS, A, B, C, stream), "BF16 GEMM (C = A B^T)");
}

static const NtPlan *nt_chosen(int M, int N, int K) {
    const NtPlan *p = nt_find(M, N, K);
    return p && p->chosen != NT_UNCHOSEN ? p : nullptr;
}

extern "C" const char *gr_lib_gemm_bf16_nt_name(int M, int N, int K) {
    const NtPlan *p = nt_chosen(M, N, K);
    return !p ? nullptr : p->chosen == NT_CUBLAS ? "cuBLAS BF16" : "cuBLASLt BF16";
}

extern "C" int gr_lib_gemm_bf16_nt_describe(int M, int N, int K, char *buf, size_t len) {
    const NtPlan *p = nt_chosen(M, N, K);
    if (!p) return snprintf(buf, len, "not chosen yet");
    int n = snprintf(buf, len, "%s; cublasGemmEx %.4f ms", gr_lib_gemm_bf16_nt_name(M, N, K), p->ms_cublas);
    for (int i = 0; i < p->n_algo && n < (int)len; i++)
        n += snprintf(buf + n, len - (size_t)n, ", cuBLASLt #%d %.4f ms%s", i, p->ms_algo[i], p->chosen == i ? " (chosen)" : "");
    return n;
}

extern "C" bool gr_lib_gemm_bf16_nt_candidate(int M, int N, int K, int which, const void *A, const void *B, void *C,
                                              cudaStream_t stream) {
    const NtPlan *p = nt_plan(M, N, K);
    if (which >= p->n_algo || (which != NT_CUBLAS && !aligned_256(A, B, C))) return false;
    return nt_run(p, which, A, B, C, stream) == CUBLAS_STATUS_SUCCESS;
}

// ---- C = A * B^T in FP8 e4m3 (cuBLASLt only: cublasGemmEx has no FP8) --------------------------
// The same "TN" arrangement as above; one shape remembered (the bench's), its heuristic's first
// algorithm kept.
struct Fp8Plan {
    int M, N, K, ok, described;
    LtGemm lt;
    cublasLtMatmulAlgo_t algo;
};
static Fp8Plan fp8_plan_cache;

static const Fp8Plan *fp8_plan(int M, int N, int K) {
    Fp8Plan *p = &fp8_plan_cache;
    if (p->M == M && p->N == N && p->K == K) return p;
    if (p->described) lt_destroy(&p->lt);
    memset(p, 0, sizeof *p);
    p->M = M, p->N = N, p->K = K;
    int dev = 0, major = 0, minor = 0;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev);
    cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev);
    if (major * 10 + minor < 89 || M < 1 || N % 16 || K % 16) return p;  // no FP8 tensor cores, or a shape it refuses
    lt_describe(&p->lt, CUDA_R_8F_E4M3, M, N, K);
    p->described = 1;
    p->ok = lt_candidates(&p->lt, &p->algo, 1) == 1;
    return p;
}

extern "C" bool gr_lib_gemm_fp8_nt_available(int M, int N, int K) { return fp8_plan(M, N, K)->ok; }

extern "C" void gr_lib_gemm_fp8_nt(int M, int N, int K, const void *A, const void *B, void *C, cudaStream_t stream) {
    const Fp8Plan *p = fp8_plan(M, N, K);
    if (!p->ok) {  // library_available said no: the grader does not call this
        fprintf(stderr, "grader: cuBLASLt has no FP8 GEMM for %d x %d x %d on this GPU\n", M, N, K);
        exit(70);
    }
    const float one = 1.0f, zero = 0.0f;
    check_blas(cublasLtMatmul(lt_handle(), p->lt.op, &one, B, p->lt.b_layout, A, p->lt.a_layout, &zero, C,
                              p->lt.c_layout, C, p->lt.c_layout, &p->algo, lt_workspace(), LT_WORKSPACE_BYTES, stream),
               "FP8 GEMM (C = A B^T)");
}

// ---- RMSNorm, then the GEMM: the unfused pipeline -------------------------------------------------
//
// What a framework runs without fusion: a norm kernel reads X and writes the normalised rows to
// memory in BF16, and the GEMM reads them back. The fused exercise must beat the pair.

static const int NORM_THREADS = 256;

__global__ void __launch_bounds__(NORM_THREADS)
rmsnorm_rows_bf16(const uint16_t *X, const uint16_t *gamma, float eps, uint16_t *out, int K) {
    __shared__ float warp_part[NORM_THREADS / 32];
    __shared__ float inv_rms;
    const uint16_t *x = X + (size_t)blockIdx.x * K;
    uint16_t *y = out + (size_t)blockIdx.x * K;
    auto widen = [](uint16_t b) { return __uint_as_float((uint32_t)b << 16); };
    float ss = 0.0f;
    for (int k = threadIdx.x; k < K; k += NORM_THREADS) ss = fmaf(widen(x[k]), widen(x[k]), ss);
    for (int offset = 16; offset > 0; offset /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, offset);
    if (threadIdx.x % 32 == 0) warp_part[threadIdx.x / 32] = ss;
    __syncthreads();
    if (threadIdx.x == 0) {
        float total = 0.0f;
        for (int w = 0; w < NORM_THREADS / 32; w++) total += warp_part[w];
        inv_rms = rsqrtf(total / (float)K + eps);
    }
    __syncthreads();
    for (int k = threadIdx.x; k < K; k += NORM_THREADS) {
        const float v = widen(x[k]) * inv_rms * widen(gamma[k]);
        uint32_t bits = __float_as_uint(v);
        bits += 0x7fffu + ((bits >> 16) & 1u);  // round to nearest even (the values are finite)
        y[k] = (uint16_t)(bits >> 16);
    }
}

extern "C" void gr_lib_rmsnorm_bf16(int M, int K, const void *X, const void *gamma, float eps, void *out,
                                    cudaStream_t stream) {
    if (M <= 0 || K <= 0) return;
    rmsnorm_rows_bf16<<<M, NORM_THREADS, 0, stream>>>(static_cast<const uint16_t *>(X),
                                                       static_cast<const uint16_t *>(gamma), eps,
                                                       static_cast<uint16_t *>(out), K);
}

extern "C" void gr_lib_rmsnorm_linear_bf16(int M, int N, int K, const void *X, const void *gamma, float eps,
                                           const void *W, void *Y, cudaStream_t stream) {
    static void *normed = nullptr;  // M x K BF16; grows during warm-up only, the timed calls reuse it
    static size_t normed_bytes = 0;
    const size_t need = (size_t)M * (size_t)K * 2;
    if (need > normed_bytes) {
        cudaFree(normed);
        if (cudaMalloc(&normed, need) != cudaSuccess) {
            fprintf(stderr, "grader: cudaMalloc for the normalised rows failed\n");
            exit(70);
        }
        normed_bytes = need;
    }
    gr_lib_rmsnorm_bf16(M, K, X, gamma, eps, normed, stream);
    gr_lib_gemm_bf16_nt(M, N, K, normed, W, Y, stream);
}

// SGEAM on a single n x 1 column runs an order of magnitude slower than on a wide matrix, so the
// vector is viewed as columns of WIDTH elements (column-major, contiguous), plus one short column.
extern "C" void gr_lib_axpby(long n, float alpha, const float *x, float beta, const float *y, float *z,
                             cudaStream_t stream) {
    const long WIDTH = 8192;
    const long cols = n / WIDTH, tail = n - cols * WIDTH;
    cublasHandle_t h = handle_on(stream);
    if (cols > 0)
        check_blas(cublasSgeam(h, CUBLAS_OP_N, CUBLAS_OP_N, (int)WIDTH, (int)cols, &alpha, x, (int)WIDTH, &beta, y,
                               (int)WIDTH, z, (int)WIDTH),
                   "cublasSgeam");
    if (tail > 0) {
        const long at = cols * WIDTH;
        check_blas(cublasSgeam(h, CUBLAS_OP_N, CUBLAS_OP_N, (int)tail, 1, &alpha, x + at, (int)tail, &beta, y + at,
                               (int)tail, z + at, (int)tail),
                   "cublasSgeam");
    }
}

// Row-major in[rows][cols] is column-major cols x rows; out[cols][rows] is column-major rows x cols.
extern "C" void gr_lib_transpose(int rows, int cols, const float *in, float *out, cudaStream_t stream) {
    const float one = 1.0f, zero = 0.0f;
    check_blas(cublasSgeam(handle_on(stream), CUBLAS_OP_T, CUBLAS_OP_N, rows, cols, &one, in, cols, &zero, out,
                           rows, out, rows),
               "cublasSgeam (transpose)");
}

extern "C" void gr_lib_reduce_sum(const float *x, float *out, long n, cudaStream_t stream) {
    static void *scratch = nullptr;
    static size_t scratch_bytes = 0;
    size_t need = 0;
    cub::DeviceReduce::Sum(nullptr, need, x, out, (long long)n, stream);
    if (need > scratch_bytes) {  // grows during warm-up only: the timed calls reuse it
        cudaFree(scratch);
        if (cudaMalloc(&scratch, need) != cudaSuccess) {
            fprintf(stderr, "grader: cudaMalloc for CUB scratch failed\n");
            exit(70);
        }
        scratch_bytes = need;
    }
    cub::DeviceReduce::Sum(scratch, scratch_bytes, x, out, (long long)n, stream);
}
