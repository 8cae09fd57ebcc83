// A CPU stand-in for the CUDA runtime, cuBLAS and cuBLASLt calls grader/library.cu makes, so that
// its GEMM yardsticks can be tested on a machine without a GPU (tests/library-test.sh). "Device"
// pointers are host pointers. The GEMMs follow the libraries' documented definitions, written from
// the documentation and not from library.cu: column-major matrices, op(X) = X or X^T, and the
// argument checks cuBLAS makes (leading dimensions at least the rows stored). A call library.cu
// gets wrong (a transpose, a leading dimension, a layout) fails here or computes another product.
//
// Timing is scripted: an event pair measures fake_ms[the candidate that ran last], so a test can
// say which candidate is fastest; fake_calls counts the calls of each.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "fake_cuda.h"

float fake_ms[FAKE_CANDIDATES + 1];
int fake_calls[FAKE_CANDIDATES + 1];
int fake_lt_algos = 2;
static int last_run;  // index into fake_ms: 0 cuBLAS, 1 + i cuBLASLt algorithm i

// ---- column-major GEMM, as the BLAS defines it ----------------------------------------------------

static uint16_t to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

// Element (r, c) of a column-major matrix with leading dimension ld.
static double load(const void *p, cudaDataType t, long r, long c, long ld) {
    long i = r + c * ld;
    if (t == CUDA_R_32F) return ((const float *)p)[i];
    uint32_t u = (uint32_t)((const uint16_t *)p)[i] << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void store(void *p, cudaDataType t, long r, long c, long ld, double v) {
    long i = r + c * ld;
    if (t == CUDA_R_32F) ((float *)p)[i] = (float)v;
    else ((uint16_t *)p)[i] = to_bf16((float)v);
}

static bool supported(cudaDataType t) { return t == CUDA_R_32F || t == CUDA_R_16BF; }
static long at_least_1(long x) { return x > 1 ? x : 1; }

// C (m x n) = alpha op(A) op(B) + beta C, op(A) m x k, op(B) k x n.
static cublasStatus_t col_major_gemm(cublasOperation_t ta, cublasOperation_t tb, long m, long n, long k, double alpha,
                                     const void *A, cudaDataType at, long lda, const void *B, cudaDataType bt,
                                     long ldb, double beta, void *C, cudaDataType ct, long ldc) {
    if (m < 0 || n < 0 || k < 0 || (ta != CUBLAS_OP_N && ta != CUBLAS_OP_T) || (tb != CUBLAS_OP_N && tb != CUBLAS_OP_T))
        return CUBLAS_STATUS_INVALID_VALUE;
    // The stored A is m x k (op N) or k x m (op T); its leading dimension covers the rows stored.
    if (lda < at_least_1(ta == CUBLAS_OP_N ? m : k) || ldb < at_least_1(tb == CUBLAS_OP_N ? k : n) ||
        ldc < at_least_1(m))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (!supported(at) || !supported(bt) || !supported(ct)) return CUBLAS_STATUS_NOT_SUPPORTED;
    for (long j = 0; j < n; j++)
        for (long i = 0; i < m; i++) {
            double sum = 0;
            for (long l = 0; l < k; l++) {
                double a = ta == CUBLAS_OP_N ? load(A, at, i, l, lda) : load(A, at, l, i, lda);
                double b = tb == CUBLAS_OP_N ? load(B, bt, l, j, ldb) : load(B, bt, j, l, ldb);
                sum += a * b;
            }
            double v = alpha * sum;
            if (beta != 0) v += beta * load(C, ct, i, j, ldc);  // beta 0: C is not read (it may be NaN)
            store(C, ct, i, j, ldc, v);
        }
    return CUBLAS_STATUS_SUCCESS;
}

// ---- cuBLAS ----------------------------------------------------------------------------------------

cublasStatus_t cublasCreate_v2(cublasHandle_t *handle) {
    *handle = (cublasHandle_t)&last_run;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream_v2(cublasHandle_t, cudaStream_t) { return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t) { return CUBLAS_STATUS_SUCCESS; }
const char *cublasGetStatusString(cublasStatus_t) { return "fake cuBLAS status"; }

cublasStatus_t cublasSgemm_v2(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                              const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta,
                              float *C, int ldc) {
    return col_major_gemm(ta, tb, m, n, k, *alpha, A, CUDA_R_32F, lda, B, CUDA_R_32F, ldb, *beta, C, CUDA_R_32F, ldc);
}

cublasStatus_t cublasGemmEx(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                            const void *alpha, const void *A, cudaDataType at, int lda, const void *B, cudaDataType bt,
                            int ldb, const void *beta, void *C, cudaDataType ct, int ldc, cublasComputeType_t compute,
                            cublasGemmAlgo_t) {
    if (compute != CUBLAS_COMPUTE_32F) return CUBLAS_STATUS_NOT_SUPPORTED;  // alpha, beta: float
    last_run = 0;
    fake_calls[0]++;
    return col_major_gemm(ta, tb, m, n, k, *(const float *)alpha, A, at, lda, B, bt, ldb, *(const float *)beta, C, ct,
                          ldc);
}

cublasStatus_t cublasSgeam(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, const float *,
                           const float *, int, const float *, const float *, int, float *, int) {
    return CUBLAS_STATUS_NOT_SUPPORTED;
}

// ---- cuBLASLt ----------------------------------------------------------------------------------------

// What the descriptors hold, inside the libraries' own opaque storage.
struct Op {
    int32_t transa, transb;
};
struct Layout {
    cudaDataType type;
    uint64_t rows, cols;
    int64_t ld;
};
static_assert(sizeof(Op) <= sizeof(cublasLtMatmulDescOpaque_t), "descriptor storage");
static_assert(sizeof(Layout) <= sizeof(cublasLtMatrixLayoutOpaque_t), "layout storage");

cublasStatus_t cublasLtCreate(cublasLtHandle_t *lt) {
    *lt = (cublasLtHandle_t)&last_run;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *desc, cublasComputeType_t compute, cudaDataType_t scale) {
    if (compute != CUBLAS_COMPUTE_32F || scale != CUDA_R_32F) return CUBLAS_STATUS_NOT_SUPPORTED;
    *desc = (cublasLtMatmulDesc_t)calloc(1, sizeof(cublasLtMatmulDescOpaque_t));  // transa, transb: N
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t desc) {
    free(desc);
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr,
                                              const void *buf, size_t size) {
    Op *op = (Op *)desc;
    if (size != sizeof(int32_t)) return CUBLAS_STATUS_INVALID_VALUE;
    if (attr == CUBLASLT_MATMUL_DESC_TRANSA) memcpy(&op->transa, buf, 4);
    else if (attr == CUBLASLT_MATMUL_DESC_TRANSB) memcpy(&op->transb, buf, 4);
    else return CUBLAS_STATUS_NOT_SUPPORTED;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *layout, cudaDataType type, uint64_t rows,
                                          uint64_t cols, int64_t ld) {
    if (ld < (int64_t)at_least_1((long)rows)) return CUBLAS_STATUS_INVALID_VALUE;  // column-major: ld >= rows
    Layout *l = (Layout *)calloc(1, sizeof(cublasLtMatrixLayoutOpaque_t));
    *l = Layout{type, rows, cols, ld};
    *layout = (cublasLtMatrixLayout_t)l;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t layout) {
    free(layout);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t *pref) {
    *pref = (cublasLtMatmulPreference_t)calloc(1, sizeof(cublasLtMatmulPreferenceOpaque_t));
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t pref) {
    free(pref);
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t, cublasLtMatmulPreferenceAttributes_t attr,
                                                    const void *, size_t size) {
    if (attr != CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES || size != sizeof(uint64_t)) return CUBLAS_STATUS_NOT_SUPPORTED;
    return CUBLAS_STATUS_SUCCESS;
}

// D = op(A) op(B) must be m x n with C's and D's layout, op(A) m x k and op(B) k x n.
static bool shapes_agree(const Op *op, const Layout *a, const Layout *b, const Layout *c, const Layout *d, long *m,
                         long *n, long *k) {
    uint64_t a_rows = op->transa == CUBLAS_OP_N ? a->rows : a->cols, a_cols = op->transa == CUBLAS_OP_N ? a->cols : a->rows;
    uint64_t b_rows = op->transb == CUBLAS_OP_N ? b->rows : b->cols, b_cols = op->transb == CUBLAS_OP_N ? b->cols : b->rows;
    *m = (long)c->rows;
    *n = (long)c->cols;
    *k = (long)a_cols;
    return a_rows == c->rows && b_rows == a_cols && b_cols == c->cols && memcmp(c, d, sizeof *c) == 0;
}

cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t, cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t A,
                                              cublasLtMatrixLayout_t B, cublasLtMatrixLayout_t C,
                                              cublasLtMatrixLayout_t D, cublasLtMatmulPreference_t, int requested,
                                              cublasLtMatmulHeuristicResult_t results[], int *returned) {
    long m, n, k;
    *returned = 0;
    if (!shapes_agree((const Op *)desc, (const Layout *)A, (const Layout *)B, (const Layout *)C, (const Layout *)D, &m,
                      &n, &k))
        return CUBLAS_STATUS_INVALID_VALUE;
    for (int i = 0; i < requested && i < fake_lt_algos; i++) {
        memset(&results[i], 0, sizeof results[i]);
        results[i].algo.data[0] = (uint64_t)i;
        results[i].state = CUBLAS_STATUS_SUCCESS;
        (*returned)++;
    }
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t, cublasLtMatmulDesc_t desc, const void *alpha, const void *A,
                              cublasLtMatrixLayout_t Al, const void *B, cublasLtMatrixLayout_t Bl, const void *beta,
                              const void *C, cublasLtMatrixLayout_t Cl, void *D, cublasLtMatrixLayout_t Dl,
                              const cublasLtMatmulAlgo_t *algo, void *workspace, size_t workspace_bytes, cudaStream_t) {
    const Op *op = (const Op *)desc;
    const Layout *a = (const Layout *)Al, *b = (const Layout *)Bl, *c = (const Layout *)Cl;
    long m, n, k;
    if (!algo || (workspace_bytes && !workspace) ||
        !shapes_agree(op, a, b, c, (const Layout *)Dl, &m, &n, &k) || C != D)
        return CUBLAS_STATUS_INVALID_VALUE;
    int which = 1 + (int)algo->data[0];
    if (which > FAKE_CANDIDATES) return CUBLAS_STATUS_INVALID_VALUE;
    last_run = which;
    fake_calls[which]++;
    return col_major_gemm((cublasOperation_t)op->transa, (cublasOperation_t)op->transb, m, n, k, *(const float *)alpha,
                          A, a->type, a->ld, B, b->type, b->ld, *(const float *)beta, D, c->type, c->ld);
}

// ---- the CUDA runtime ----------------------------------------------------------------------------

cudaError_t cudaMalloc(void **p, size_t bytes) {
    *p = aligned_alloc(256, (bytes + 255) / 256 * 256);
    return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFree(void *p) {
    free(p);
    return cudaSuccess;
}
cudaError_t cudaGetLastError(void) { return cudaSuccess; }
cudaError_t cudaPeekAtLastError(void) { return cudaSuccess; }
const char *cudaGetErrorString(cudaError_t) { return "fake CUDA error"; }

cudaError_t cudaEventCreate(cudaEvent_t *e) {
    *e = (cudaEvent_t)calloc(1, 16);
    return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
    free(e);
    return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { return cudaSuccess; }
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t, cudaEvent_t) {
    *ms = fake_ms[last_run];
    return cudaSuccess;
}

// CUB's, never reached by these tests.
cudaError_t cudaGetDevice(int *) { return cudaErrorNoDevice; }
cudaError_t cudaSetDevice(int) { return cudaErrorNoDevice; }
cudaError_t cudaGetDeviceCount(int *count) {
    *count = 0;
    return cudaErrorNoDevice;
}
cudaError_t cudaDeviceGetAttribute(int *, enum cudaDeviceAttr, int) { return cudaErrorNoDevice; }
cudaError_t cudaFuncGetAttributes(struct cudaFuncAttributes *, const void *) { return cudaErrorNoDevice; }
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int *, const void *, int, size_t, unsigned int) {
    return cudaErrorNoDevice;
}

// What nvcc's generated code calls to register library.cu's kernels at start-up (and to launch
// them, which never happens here). No header declares these for a host compiler.
extern "C" {
void **__cudaRegisterFatBinary(void *) {
    static void *handle;
    return &handle;
}
void __cudaRegisterFatBinaryEnd(void **) {}
void __cudaUnregisterFatBinary(void **) {}
void __cudaRegisterFunction(void **, const char *, char *, const char *, int, void *, void *, void *, void *, int *) {}
void __cudaRegisterVar(void **, char *, char *, const char *, int, size_t, int, int) {}
unsigned __cudaPushCallConfiguration(dim3, dim3, size_t, void *) { return 1; }
cudaError_t __cudaPopCallConfiguration(dim3 *, dim3 *, size_t *, void *) { return cudaErrorNoDevice; }
cudaError_t __cudaGetKernel(void **, const void *) { return cudaErrorNoDevice; }
cudaError_t __cudaLaunchKernel(const void *, dim3, dim3, void **, size_t, cudaStream_t) { return cudaErrorNoDevice; }
}
