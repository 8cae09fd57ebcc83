// Poses as hopper/10-beat-cublas/06_cluster.cu. Cheat: the session may launch clusters with
// cudaLaunchKernelEx, so this one launches on a stream of its own, outside the grader's events.
#include "exercises.h"
#include "hopper_given.cuh"

#define J(a, b) a##b

__global__ void gemm_cluster_kernel(uint16_t *C) { C[0] = 0; }

void gemm_cluster(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream) {
    (void)A; (void)B; (void)M; (void)N; (void)K; (void)stream;
    static cudaStream_t mine;
    if (!mine) J(cudaStr, eamCreate)(&mine);
    cudaLaunchConfig_t config = {};
    config.gridDim = dim3(2);
    config.blockDim = dim3(32);
    config.stream = mine;
    cudaLaunchAttribute cluster;
    cluster.id = cudaLaunchAttributeClusterDimension;
    cluster.val.clusterDim.x = 2;
    cluster.val.clusterDim.y = 1;
    cluster.val.clusterDim.z = 1;
    config.attrs = &cluster;
    config.numAttrs = 1;
    cudaLaunchKernelEx(&config, gemm_cluster_kernel, C);
}
