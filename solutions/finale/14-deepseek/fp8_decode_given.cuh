// Session 14, exercise 3's answer for decode: the masked layout when every group has at most
// DECODE_ROWS rows (a batch of one to four tokens per expert, as the mini-model's engine sends).
// It lives beside the solution, not in the student bundle; its name ends in _given.cuh because the
// source scanner admits no other local header.
//
// With a row or two per expert a 64-row tensor-core tile wastes 63 rows of work and, worse, leaves
// the GPU with one block per 64 columns of each expert's weights: too few loads in flight to stream
// them. Decode is a GEMV: each expert's N x K weights are read once and each weight meets a handful
// of activations. So: a warp per DECODE_COLS columns, its lanes reading 16 e4m3 codes of a weight
// row at a time (16-byte loads, 512 contiguous bytes a warp), widening them exactly to floats,
// and multiplying them with the same 16 codes of each activation row (tiny: read through the
// caches). A chunk's 16 products are summed in FP32 and scaled by sa[m][kb] * sb[g][n / 128][kb]
// before they join the row's FP32 sum: the contract's "scales once per 128-value block" up to the
// order of FP32 additions.
#ifndef SESSION14_FP8_DECODE_GIVEN_CUH
#define SESSION14_FP8_DECODE_GIVEN_CUH

#include <stdint.h>
#include <string.h>

#include "fp8_gemm_given.cuh"

#define DECODE_ROWS 4   // masked layouts with M_max up to this take the decode path
#define DECODE_WARPS 8
#define DECODE_COLS 2   // columns of D a warp computes: each activation chunk serves both

// 16 bytes (host: a copy; device: one read-only 16-byte load).
__host__ __device__ __forceinline__ uint4 load16(const uint8_t *p) {
#ifdef __CUDA_ARCH__
    return __ldg(reinterpret_cast<const uint4 *>(p));
#else
    uint4 v;
    memcpy(&v, p, 16);
    return v;
#endif
}

// 16 e4m3 codes (byte i is code i) as floats, exactly: the given widening to BF16 pairs, then
// each BF16 is a float's top half.
__host__ __device__ __forceinline__ void e4m3x16_to_float(uint4 v, float out[16]) {
    const uint32_t w[4] = {v.x, v.y, v.z, v.w};
    for (int i = 0; i < 4; i++) {
        uint32_t even, odd;  // codes (0, 2) and (1, 3) of the word, low half first
        e4m3x4_to_bf16(w[i], even, odd);
        const uint32_t bits[4] = {even << 16, odd << 16, even & 0xFFFF0000u, odd & 0xFFFF0000u};
        for (int j = 0; j < 4; j++) memcpy(&out[4 * i + j], &bits[j], 4);
    }
}

// One lane's share of a warp's outputs: over the chunks c = lane, lane + 32, ... of K (16 values
// each, chunk c in scale block c / 8), acc[m][j] += sa[m][c / 8] * sb_col[j][c / 8] * (A row m's
// chunk . B column j's chunk), for the group's rows m < rows. A_g, sa_g: the group's first row of
// A and of sa; B_col[j], sb_col[j]: column j's row of B and its scale row.
__host__ __device__ __forceinline__ void decode_lane(const uint8_t *A_g, const float *sa_g, int rows,
                                                     const uint8_t *const B_col[DECODE_COLS],
                                                     const float *const sb_col[DECODE_COLS], int K, int lane,
                                                     float acc[DECODE_ROWS][DECODE_COLS]) {
    const int KB = (K + 127) / 128, chunks = K / 16;
    for (int c = lane; c < chunks; c += 32) {
        const int kb = c / 8;
        float b[DECODE_COLS][16];
        for (int j = 0; j < DECODE_COLS; j++) e4m3x16_to_float(load16(B_col[j] + 16 * c), b[j]);
        for (int m = 0; m < DECODE_ROWS; m++) {
            if (m >= rows) break;
            float a[16];
            e4m3x16_to_float(load16(A_g + (size_t)m * K + 16 * c), a);
            const float s = sa_g[(size_t)m * KB + kb];
            for (int j = 0; j < DECODE_COLS; j++) {
                float p = 0.0f;
                for (int i = 0; i < 16; i++) p += a[i] * b[j][i];
                acc[m][j] += s * sb_col[j][kb] * p;
            }
        }
    }
}

// Block (x, g): DECODE_WARPS warps, warp w the columns n0 = (x * DECODE_WARPS + w) * DECODE_COLS ..
// of group g, for the group's first masked_m[g] rows; other rows of D are left as they were.
__global__ void __launch_bounds__(DECODE_WARPS * 32)
fp8_masked_decode_kernel(const uint8_t *__restrict__ A, const float *__restrict__ sa, const uint8_t *__restrict__ B,
                         const float *__restrict__ sb, uint16_t *__restrict__ D, const int *__restrict__ masked_m,
                         int M_max, int N, int K) {
    const int g = blockIdx.y, rows = min(masked_m[g], M_max);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int n0 = (blockIdx.x * DECODE_WARPS + warp) * DECODE_COLS;
    if (rows <= 0 || n0 >= N) return;
    const int KB = (K + 127) / 128, NB = (N + 127) / 128;
    const uint8_t *B_col[DECODE_COLS];
    const float *sb_col[DECODE_COLS];
    for (int j = 0; j < DECODE_COLS; j++) {
        const int n = min(n0 + j, N - 1);  // a column past N reads the last one again, never stored
        B_col[j] = B + ((size_t)g * N + n) * K;
        sb_col[j] = sb + ((size_t)g * NB + n / 128) * KB;
    }
    float acc[DECODE_ROWS][DECODE_COLS] = {};
    decode_lane(A + (size_t)g * M_max * K, sa + (size_t)g * M_max * KB, rows, B_col, sb_col, K, lane, acc);
#pragma unroll
    for (int m = 0; m < DECODE_ROWS; m++) {
        if (m >= rows) break;  // the same for the whole warp: the shuffles below see every lane
#pragma unroll
        for (int j = 0; j < DECODE_COLS; j++) {
            float v = acc[m][j];
            for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
            if (lane == 0 && n0 + j < N) D[((size_t)g * M_max + m) * N + n0 + j] = float_to_bf16(v);
        }
    }
}

static void launch_masked_decode(const uint8_t *A, const float *sa, const uint8_t *B, const float *sb, uint16_t *D,
                                 const int *masked_m, int G, int M_max, int N, int K, cudaStream_t stream) {
    const int cols_per_block = DECODE_WARPS * DECODE_COLS;
    const dim3 grid((N + cols_per_block - 1) / cols_per_block, G);
    fp8_masked_decode_kernel<<<grid, DECODE_WARPS * 32, 0, stream>>>(A, sa, B, sb, D, masked_m, M_max, N, K);
}

#endif
