// Poses as ladder/11-abstractions/04_cute_gemm.cu. Cheat: defines the session's given tma_map_bf16
// itself (the helper the Hopper path calls), so that the tensor maps, and what TMA reads through
// them, are the file's own.
#include <cuda.h>
#include "exercises.h"

extern "C" int tma_map_bf16(CUtensorMap *map, const void *base, int rows, int cols, int box_rows, int box_cols,
                            int swizzle_128b) {
    (void)map; (void)base; (void)rows; (void)cols; (void)box_rows; (void)box_cols; (void)swizzle_128b;
    return 0;
}

void cute_gemm(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream) {
    (void)A; (void)B; (void)C; (void)M; (void)N; (void)K; (void)stream;
}
