// The PTX wrappers every mma.sync exercise uses (sessions 06, 09, ...): cp.async copies, ldmatrix
// loads and the m16n8k16 BF16 tensor-core product. Given code: read them, use them.
#ifndef GRADER_MMA_PTX_CUH
#define GRADER_MMA_PTX_CUH

#include <cuda_bf16.h>
#include <stdint.h>


// The 32-bit shared-memory address that ldmatrix and cp.async take.
__device__ __forceinline__ uint32_t smem_u32(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

// 16 bytes global -> shared, bypassing L1. valid == false reads nothing and writes 16 zero bytes
// (the src-size operand is 0): that is how tiles are zero-filled past the edges of A and B.
__device__ __forceinline__ void cp_async_16(uint32_t dst, const void *src, bool valid) {
    int src_bytes = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes) : "memory");
}
// Close the group of copies this thread issued since the last commit.
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
// Wait until at most N of this thread's committed groups are still in flight. It says nothing about
// other threads' copies: a __syncthreads() after it does.
template <int N> __device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// Four 8 x 8 matrices of 16-bit elements; lanes 8j..8j+7 give the addresses of the 8 rows (16 bytes
// each) of matrix j, and register j of every lane receives its part of matrix j: row lane/4,
// elements 2*(lane%4) and 2*(lane%4)+1 (the lower one in the low half).
__device__ __forceinline__ void ldmatrix_x4(uint32_t r[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
// The same, transposed: register j receives elements (row 2*(lane%4), column lane/4) and
// (row 2*(lane%4)+1, column lane/4) of matrix j.
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t r[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

// d += a * b: a 16 x 16 piece of A (row-major) times a 16 x 8 piece of B ("col": the fragment holds
// pairs along k), BF16 in, FP32 accumulators. With g = lane / 4, t = lane % 4:
//   a[0] = A[g][2t, 2t+1]     a[1] = A[g+8][2t, 2t+1]     a[2] = A[g][2t+8, 2t+9]   a[3] = A[g+8][2t+8, 2t+9]
//   b[0] = B[2t, 2t+1][g]     b[1] = B[2t+8, 2t+9][g]
//   d[0], d[1] = C[g][2t, 2t+1]                             d[2], d[3] = C[g+8][2t, 2t+1]
__device__ __forceinline__ void mma_bf16_16816(float d[4], const uint32_t a[4], const uint32_t b[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// d += a * b for FP8 e4m3 operands, sm_89 and later: a 16 x 32 piece of A (row-major) times a
// 32 x 8 piece of B ("col": the fragment holds 4 bytes along k), FP32 accumulators. Byte i of each
// register (i = 0 the lowest), with g = lane / 4, t = lane % 4:
//   a[0] = A[g][4t + i]   a[1] = A[g+8][4t + i]   a[2] = A[g][16 + 4t + i]   a[3] = A[g+8][16 + 4t + i]
//   b[0] = B[4t + i][g]   b[1] = B[16 + 4t + i][g]
//   d as in mma_bf16_16816. On older GPUs it traps (ptxas refuses the instruction there).
__device__ __forceinline__ void mma_e4m3_16832(float d[4], const uint32_t a[4], const uint32_t b[2]) {
#if __CUDA_ARCH__ >= 890
    asm volatile("mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
    __trap();
#endif
}

// Two floats rounded to BF16 and packed as one 32-bit register (lo in the low half): the layout
// an mma operand fragment holds.
__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}

#endif
