// Session 14, exercise 3's answer for decode: the masked layout when every group has at most
// DECODE_ROWS rows (one to eight tokens per expert, as the mini-model's engine sends: a greedy step,
// or a speculative verify pass of up to 7 drafts and the last token). The engine's verify pass and
// its greedy step then multiply their experts in the same kernel, a token's sums in the same order
// whatever the other tokens, so that speculative tokens equal greedy's.
// It lives beside the solution, not in the student bundle; its name ends in _given.cuh because the
// source scanner admits no other local header.
//
// With a row or two per expert a 64-row tile wastes 63 rows of work and, worse, leaves the GPU with
// one block per 64 columns of each expert's weights: too few loads in flight to stream them.
// Decode is a GEMV: each expert's N x K weights are read once and meet a handful of tokens. So the
// product is turned around: D^T = B A^T, sixteen columns of the weights on the m16 side of the FP8
// tensor-core product (m16n8k32, e4m3) and the tokens (up to all 8 of its 8 columns) on the other;
// the weights go from memory to the product's registers with no conversion at all. (A first
// version widened every code to a float and multiplied on the CUDA cores: about 6 instructions a
// weight byte, and half of a copy's speed whatever its loads in flight.)
//
// A block: 16 columns of one group; its DECODE_WARPS warps split K by 128-value blocks
// (decode_blocks) and add their results in shared memory, in warp order. Each
// lane loads, for one K block, two 64-value steps: 16 bytes of weight rows n0 + g and n0 + g + 8
// and 16 of token row g (g = lane / 4) at k = 64 s + 16 t (t = lane % 4), the next block's loads in
// flight while this block's products run. The k order inside a product is free as long as both
// operands agree: of a lane's 16 bytes, bytes 0..7 feed the first product of the step (its k
// 4t.. and 16 + 4t..) and bytes 8..15 the second. The scales multiply each block's FP32 sum once,
// as the contract says.
#ifndef SESSION14_FP8_DECODE_GIVEN_CUH
#define SESSION14_FP8_DECODE_GIVEN_CUH

#include <stdint.h>
#include <string.h>

#include "fp8_gemm_given.cuh"

#define DECODE_ROWS 8  // masked layouts with M_max up to this take the decode path (the n8 side's 8 tokens)
#define DECODE_COLS 16  // columns of D a block computes: one m16 tile
// The knobs (tests/gpu/session14/s14-decode-tune.cu sweeps them; -D overrides them there)
#ifndef DECODE_WARPS
#define DECODE_WARPS 8  // warps a block: K split between them
#endif
#ifndef DECODE_MIN_BLOCKS
#define DECODE_MIN_BLOCKS 3  // blocks an SM the registers are fitted to
#endif
#ifndef DECODE_SPLIT_RUNS
#define DECODE_SPLIT_RUNS 0  // 1: a warp takes a run of adjacent K blocks; 0: every DECODE_WARPS-th
#endif

// The K blocks of warp w: kb = first, first + step, ... while kb < end.
struct DecodeBlocks {
    int first, end, step;
};
__host__ __device__ inline DecodeBlocks decode_blocks(int warp, int KB) {
#if DECODE_SPLIT_RUNS
    const int per = (KB + DECODE_WARPS - 1) / DECODE_WARPS, first = warp * per;
    return {first, first + per < KB ? first + per : KB, 1};
#else
    return {warp, KB, DECODE_WARPS};
#endif
}

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

// One lane's operands for one K block: two 64-value steps of its weight rows and token row, and
// the block's scales for its tokens 2t, 2t + 1 and for the 16 columns (one 128-row scale block).
struct DecodeOps {
    uint4 w_lo[2], w_hi[2], tok[2];
    float sa[2], sb;
};

// Group g's operands: W_g its N x K weights, A_g its first token row, sa_g its first scale row,
// sb_row the scale row of the block's columns. Columns past N read row N - 1 again (never stored),
// tokens past `rows` and bytes past K read as zeros (they add nothing).
__host__ __device__ inline void decode_load(DecodeOps &o, const uint8_t *W_g, const uint8_t *A_g, const float *sa_g,
                                            const float *sb_row, int rows, int N, int K, int n0, int kb, int lane) {
    const int g = lane / 4, t = lane % 4, KB = (K + 127) / 128;
    const int n_lo = n0 + g < N ? n0 + g : N - 1, n_hi = n0 + g + 8 < N ? n0 + g + 8 : N - 1;
    const uint4 zero = {0, 0, 0, 0};
    for (int s = 0; s < 2; s++) {
        const int k = kb * 128 + 64 * s + 16 * t;
        o.w_lo[s] = k < K ? load16(W_g + (size_t)n_lo * K + k) : zero;
        o.w_hi[s] = k < K ? load16(W_g + (size_t)n_hi * K + k) : zero;
        o.tok[s] = k < K && g < rows ? load16(A_g + (size_t)g * K + k) : zero;
    }
    for (int i = 0; i < 2; i++) o.sa[i] = 2 * t + i < rows ? sa_g[(size_t)(2 * t + i) * KB + kb] : 0.0f;
    o.sb = sb_row[kb];
}

// The block's four products (two a step) into part: part[0], part[1] for column n0 + g and tokens
// 2t, 2t + 1; part[2], part[3] for column n0 + g + 8.
template <class Mma32>
__host__ __device__ inline void decode_products(const DecodeOps &o, float part[4], Mma32 mma) {
    for (int s = 0; s < 2; s++) {
        const uint32_t a0[4] = {o.w_lo[s].x, o.w_hi[s].x, o.w_lo[s].y, o.w_hi[s].y}, b0[2] = {o.tok[s].x, o.tok[s].y};
        mma(part, a0, b0);
        const uint32_t a1[4] = {o.w_lo[s].z, o.w_hi[s].z, o.w_lo[s].w, o.w_hi[s].w}, b1[2] = {o.tok[s].z, o.tok[s].w};
        mma(part, a1, b1);
    }
}

// The block's sums, scaled once, join the running ones; part is emptied for the next block.
__host__ __device__ inline void decode_promote(float acc[4], float part[4], const DecodeOps &o) {
    for (int i = 0; i < 4; i++) {
        acc[i] += o.sa[i % 2] * o.sb * part[i];
        part[i] = 0.0f;
    }
}

// A lane's four results (the warps' sums added) into D: token 2t + i % 2, column n0 + g (+ 8 for
// i >= 2), where both exist.
__host__ __device__ inline void decode_store(uint16_t *D, const float v[4], int g_index, int M_max, int N, int n0,
                                             int rows, int lane) {
    for (int i = 0; i < 4; i++) {
        const int tok = 2 * (lane % 4) + i % 2, n = n0 + lane / 4 + (i >= 2 ? 8 : 0);
        if (tok < rows && n < N) D[((size_t)g_index * M_max + tok) * N + n] = float_to_bf16(v[i]);
    }
}

// Block (x, g): columns 16 x .. of group g, for its first masked_m[g] rows; other rows of D are
// left as they were.
__global__ void __launch_bounds__(DECODE_WARPS * 32, DECODE_MIN_BLOCKS)
fp8_masked_decode_kernel(const uint8_t *__restrict__ A, const float *__restrict__ sa, const uint8_t *__restrict__ B,
                         const float *__restrict__ sb, uint16_t *__restrict__ D, const int *__restrict__ masked_m,
                         int M_max, int N, int K) {
    __shared__ float sums[DECODE_WARPS][32][4];
    const int g = blockIdx.y, rows = min(masked_m[g], M_max);
    if (rows <= 0) return;  // the whole block: this expert has no tokens
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, n0 = blockIdx.x * DECODE_COLS;
    const int KB = (K + 127) / 128, NB = (N + 127) / 128;
    const uint8_t *W_g = B + (size_t)g * N * K, *A_g = A + (size_t)g * M_max * K;
    const float *sa_g = sa + (size_t)g * M_max * KB, *sb_row = sb + ((size_t)g * NB + n0 / 128) * KB;
    float acc[4] = {}, part[4] = {};
    DecodeOps cur, next;
    const DecodeBlocks kbs = decode_blocks(warp, KB);
    if (kbs.first < kbs.end) decode_load(cur, W_g, A_g, sa_g, sb_row, rows, N, K, n0, kbs.first, lane);
    for (int kb = kbs.first; kb < kbs.end; kb += kbs.step) {
        if (kb + kbs.step < kbs.end) decode_load(next, W_g, A_g, sa_g, sb_row, rows, N, K, n0, kb + kbs.step, lane);
        decode_products(cur, part, TensorCoreE4m3());
        decode_promote(acc, part, cur);
        cur = next;
    }
    for (int i = 0; i < 4; i++) sums[warp][lane][i] = acc[i];
    __syncthreads();
    if (warp != 0) return;
    float v[4] = {};
    for (int w = 0; w < DECODE_WARPS; w++)
        for (int i = 0; i < 4; i++) v[i] += sums[w][lane][i];
    decode_store(D, v, g, M_max, N, n0, rows, lane);
}

// The decode path fits when every group has at most DECODE_ROWS rows.
static bool decode_fits(int M_max, int) { return M_max <= DECODE_ROWS; }

static void launch_masked_decode(const uint8_t *A, const float *sa, const uint8_t *B, const float *sb, uint16_t *D,
                                 const int *masked_m, int G, int M_max, int N, int K, cudaStream_t stream) {
    const dim3 grid((N + DECODE_COLS - 1) / DECODE_COLS, G);
    fp8_masked_decode_kernel<<<grid, DECODE_WARPS * 32, 0, stream>>>(A, sa, B, sb, D, masked_m, M_max, N, K);
}

#endif
