// Poses as hopper/10-beat-cublas/01_tma_tile.cu. Cheat: encodes its own tensor map through the
// driver API, reached by the runtime's entry-point lookup (and with it every cu* function), instead
// of the session's given tma_map_bf16.
#include "exercises.h"
#include "hopper_given.cuh"

#define J(a, b) a##b

__global__ void tma_tiles_kernel(const __grid_constant__ CUtensorMap map, uint16_t *tiles) { (void)map; tiles[0] = 0; }

void tma_tiles(const uint16_t *src, int rows, int cols, uint16_t *tiles, cudaStream_t stream) {
    static void *encode;
    if (!encode) J(cudaGetDriver, EntryPointByVersion)("cuTensorMapEncodeTiled", &encode, 12000, cudaEnableDefault, nullptr);
    CUtensorMap map = {};
    (void)src; (void)rows; (void)cols;
    tma_tiles_kernel<<<1, 32, 0, stream>>>(map, tiles);
}
