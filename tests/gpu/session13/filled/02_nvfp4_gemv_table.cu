// Session 13, exercise 2: the NVFP4 GEMV, first rung: decode through a table.
//
//     c[l][m] = sum over k of e2m1(a[l][m][k]) e4m3(sfa[l][m][k/16]) e2m1(b[l][k]) e4m3(sfb[l][k/16])
//
// An e2m1 code has only 16 values, so the simplest decoder is a 16-entry table: the block writes
// it into shared memory once, and every code is one shared-memory load. One warp per output row
// (blockIdx.y is the batch l); lane j reads bytes j, j + 32, ... of the row, one byte (two codes)
// at a time, with that byte's two block scales decoded again for every byte. Correct at any M, L
// and K % 64 == 0, and slow: a byte load moves 1 byte where the memory system could move 16, and
// most instructions decode rather than multiply. The next rungs fix both.
//
// Yours, the TODOs: the table's 16 values, and one byte's two products through it.
// make check ONLY=02_nvfp4_gemv_table grades it.
//
// Exactness: an e2m1 product has at most 4 significant bits and each e4m3 scale 4, so every term
// below is exact in float; only the FP32 sum rounds, then the one rounding to FP16.
#include "exercises.h"
#include "nvfp4_gemv_given.cuh"

// e2m1 code 0..15 as a float: 0, 0.5, 1, 1.5, 2, 3, 4, 6 for codes 0..7, the same negated for
// 8..15 (bit 3 is the sign; code 8 is -0).
__host__ __device__ __forceinline__ float e2m1_table_entry(int code) {
    // TODO 1: return the value of e2m1 code `code`: the low 3 bits pick the magnitude (0, 0.5, 1,
    //         1.5, 2, 3, 4, 6), bit 3 the sign. A small local array of the 8 magnitudes will do.
    const float magnitude[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
    const float m = magnitude[code & 7];
    return (code & 8) ? -m : m;
}

// One byte of a against the byte of b at the same place: two codes each (low nibble: the even k).
__host__ __device__ __forceinline__ float table_byte_dot(const float table[16], uint32_t a_byte, uint32_t b_byte) {
    // TODO 2: the low nibbles of the two bytes are one code of a and the matching code of b (the
    //         even k), the high nibbles the odd k: return the sum of the two products, each code
    //         looked up in `table`.
    const float even = table[a_byte & 0xF] * table[b_byte & 0xF];
    const float odd = table[(a_byte >> 4) & 0xF] * table[(b_byte >> 4) & 0xF];
    return even + odd;
}

__global__ void __launch_bounds__(GEMV_THREADS)
nvfp4_gemv_table_kernel(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, uint16_t *c,
                        int M, int K) {
    __shared__ float table[16];
    if (threadIdx.x < 16) table[threadIdx.x] = e2m1_table_entry(threadIdx.x);
    __syncthreads();  // before any warp leaves: every warp reads the table

    const int lane = threadIdx.x % 32, l = blockIdx.y;
    const long m = (long)blockIdx.x * GEMV_WARPS + threadIdx.x / 32;
    if (m >= M) return;
    const long row = (long)l * M + m;  // rows of all batches, batch outermost
    const uint8_t *a_row = a + row * (K / 2), *sfa_row = sfa + row * (K / 16);
    const uint8_t *b_row = b + (long)l * (K / 2), *sfb_row = sfb + (long)l * (K / 16);

    float acc = 0.0f;
    for (int j = lane; j < K / 2; j += 32) {  // byte j holds k = 2j, 2j + 1: block j / 8
        const float scale = e4m3_to_float(sfa_row[j / 8]) * e4m3_to_float(sfb_row[j / 8]);
        acc += table_byte_dot(table, a_row[j], b_row[j]) * scale;
    }
    acc = warp_sum(acc);
    if (lane == 0) c[row] = float_to_half_bits(acc);
}

void nvfp4_gemv_table(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, uint16_t *c, int M,
                      int K, int L, cudaStream_t stream) {
    if (M <= 0 || K <= 0 || L <= 0) return;
    const dim3 grid((unsigned)((M + GEMV_WARPS - 1) / GEMV_WARPS), (unsigned)L);
    nvfp4_gemv_table_kernel<<<grid, GEMV_THREADS, 0, stream>>>(a, sfa, b, sfb, c, M, K);
}
