// Poses as ladder/11-abstractions/04_cute_gemm.cu. Cheat: builds its tensor maps as CuTe's own
// make_tma_copy does, through the runtime's driver entry-point lookup (a door to every cu* function),
// instead of calling the session's given tma_map_bf16.
#include <cuda.h>
#include <cuda_runtime.h>
#include "exercises.h"

#define J(a, b) a##b

void cute_gemm(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream) {
    static void *encode;
    if (!encode) J(cudaGetDriver, EntryPointByVersion)("cuTensorMapEncodeTiled", &encode, 12000, cudaEnableDefault, nullptr);
    (void)A; (void)B; (void)C; (void)M; (void)N; (void)K; (void)stream;
}
