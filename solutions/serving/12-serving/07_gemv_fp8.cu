// Session 12, exercise 7 (solution): FP8 (e4m3) GEMV, decoded in registers, multiplied on the tensor cores.
//
// The frame of exercise 6's solution: a block of WARPS warps owns 16 rows of W (the mma's M) and
// all of K, warp w takes groups w, w + WARPS, ...; each lane copies its own bytes into a cp.async
// ring in shared memory; the batch is the mma's N; the group's FP32 tile times the group's scale
// goes into the accumulator. What changes is the decoding, and that a group is 128 bytes a row:
// lane (g, t) copies bytes 16t .. 16t + 15 and 64 + 16t .. 64 + 16t + 15 of rows g and g + 8, so
// that each copy instruction reads 64 contiguous bytes of a row (two whole 32-byte sectors). With
// 32 contiguous bytes a lane, each instruction fetched every sector it touched for half its bytes,
// and the next one fetched it again: twice the L2 traffic, and 40.6 us instead of 21.6 at
// 14336 x 4096 on an H200.
//
// Decoding (unpack_e4m3x4), exactly, with no table and no branch for the subnormals: BF16 has 8
// exponent bits and 7 mantissa bits, e4m3 4 and 3. Moving an e4m3 code's low 7 bits to bits 4..10
// of a 16-bit half (its sign to bit 15) gives the BF16 whose exponent field is e and whose top
// mantissa bits are m: the value times 2^(7 - 127) = 2^-120, for normals (exponent bias 127 instead
// of 7) and subnormals alike (exponent field 0 on both sides, m / 8 * 2^-126 = m / 8 * 2^-6 * 2^-120).
// One BF16 multiply by 2^120 (exact: a power of two, result in range) restores the value; BF16
// arithmetic has no flush-to-zero mode, so subnormal inputs count (tests/gpu/quant_decode_test.cu
// checks every code on the device). Bytes 1 and 3 of a word need a shift right by 4, bytes 0 and
// 2 a shift left by 4 (and their signs one of 8): two pairs, (k0, k2) and (k1, k3), about 9
// instructions for 4 weights; X's pairs are built in the same order (one PRMT each). (On sm_89
// and later, cvt.rn.f16x2.e4m3x2 converts two codes in one instruction, but to FP16, which BF16
// activations cannot be multiplied with on the tensor cores; the bit moves run from sm_80 up.)
#include "exercises.h"
#include "mma_ptx.cuh"
#include "quant_given.cuh"

#define TILE_ROWS 16               // rows of W a block owns: the mma's M
#ifndef WARPS  // a knob: tests/gpu/session12 sweeps it with -DWARPS=...
#define WARPS 4                    // warps of a block, splitting K by groups
#endif
#ifndef STAGES  // a knob: tests/gpu/session12 sweeps it with -DSTAGES=...
#define STAGES 3                   // groups in a warp's copy ring: STAGES - 1 (4 KB a warp) in flight
#endif
#define GROUP_BYTES QUANT_GROUP    // one byte a weight

__host__ __device__ __forceinline__ uint32_t bf16x2_mul(uint32_t a, uint32_t b) {
    __nv_bfloat162 x, y;
    memcpy((void *)&x, &a, 4);   // bit casts (no instruction)
    memcpy((void *)&y, &b, 4);
    const __nv_bfloat162 d = __hmul2(x, y);
    uint32_t r;
    memcpy(&r, &d, 4);
    return r;
}
#define TWO_POW_120_X2 0x7B807B80u   // 2^120 in both BF16 halves: exponent field 247, mantissa 0

// Four e4m3 codes of a word (byte i is k = i) into two BF16 pairs: even = (k0, k2), odd = (k1, k3).
__host__ __device__ __forceinline__ void unpack_e4m3x4(uint32_t w, uint32_t &even, uint32_t &odd) {
    const uint32_t odd_bits = (w & 0x80008000u) | ((w >> 4) & 0x07F007F0u);          // bytes 1, 3
    const uint32_t even_bits = ((w << 8) & 0x80008000u) | ((w << 4) & 0x07F007F0u);  // bytes 0, 2
    even = bf16x2_mul(even_bits, TWO_POW_120_X2);
    odd = bf16x2_mul(odd_bits, TWO_POW_120_X2);
}

// Two 16-bit halves: lo from a's half sel_a, hi from b's half sel_b (0: low, 1: high).
__host__ __device__ __forceinline__ uint32_t pick_halves(uint32_t a, uint32_t b, int sel_a, int sel_b) {
#ifdef __CUDA_ARCH__
    return __byte_perm(a, b, (sel_a ? 0x0032 : 0x0010) | (sel_b ? 0x7600 : 0x5400));
#else
    return ((sel_a ? a >> 16 : a) & 0xFFFFu) | ((sel_b ? b >> 16 : b) << 16);
#endif
}

// Four BF16 values x0 .. x3 (two words: x0 in the low half of the first) into the pairs the weights
// come in: (x0, x2) and (x1, x3).
__host__ __device__ __forceinline__ void pair_x4(uint32_t x01, uint32_t x23, uint32_t &even, uint32_t &odd) {
    even = pick_halves(x01, x23, 0, 0);
    odd = pick_halves(x01, x23, 1, 1);
}

// 16 bytes from X (read-only, used by all 16 rows of a block: kept in L1).
__host__ __device__ __forceinline__ uint4 load_x(const uint4 *p) {
#ifdef __CUDA_ARCH__
    return __ldg(p);
#else
    return *p;
#endif
}

// The tensor-core product the kernel uses (the CPU test of this file passes an emulation instead).
struct TensorCoreMma {
    __device__ __forceinline__ void operator()(float d[4], const uint32_t a[4], const uint32_t b[2]) const {
        mma_bf16_16816(d, a, b);
    }
};

// One group, one lane's part: q[0], q[1] are its 32 bytes of row g (k = 16t .. 16t + 15 and
// 64 + 16t .. 64 + 16t + 15 of the
// group), q[2], q[3] the same of row g + 8, x[j] its 32 X values of tile j's batch row (4 uint4).
// Adds the products into c[j][0] (words 0, 2, 4, 6) and c[j][1] (1, 3, 5, 7): two mma chains of 4.
template <int NT, class Mma>
__host__ __device__ __forceinline__ void fp8_group(const uint4 q[4], const uint4 *const x[NT], float c[NT][2][4],
                                                   const Mma &mma) {
    for (int h = 0; h < 2; h++) {   // 16 bytes a row: k = 64h + 16t .. 64h + 16t + 15
        const uint4 qa = q[h], qb = q[2 + h];
        for (int j = 0; j < NT; j++) {
            const uint4 x0 = load_x(x[j] + 8 * h), x1 = load_x(x[j] + 8 * h + 1);   // its 16 x
            for (int i = 0; i < 4; i++) {   // word i: k = 64h + 16t + 4i .. + 3
                const uint32_t wa_i = i == 0 ? qa.x : i == 1 ? qa.y : i == 2 ? qa.z : qa.w;
                const uint32_t wb_i = i == 0 ? qb.x : i == 1 ? qb.y : i == 2 ? qb.z : qb.w;
                const uint4 xv = i < 2 ? x0 : x1;
                const uint32_t x01 = i % 2 == 0 ? xv.x : xv.z, x23 = i % 2 == 0 ? xv.y : xv.w;
                uint32_t ea, oa, eb, ob, xe, xo;
                unpack_e4m3x4(wa_i, ea, oa);
                unpack_e4m3x4(wb_i, eb, ob);
                pair_x4(x01, x23, xe, xo);
                // A: rows g and g + 8; mma k 2t, 2t+1 <- the even pair, 2t+8, 2t+9 <- the odd pair.
                const uint32_t a[4] = {ea, eb, oa, ob}, b[2] = {xe, xo};
                mma(c[j][i % 2], a, b);
            }
        }
    }
}

// NT n8 tiles of the batch in one pass over W: 1 for M <= 8, 2 for M <= 16 (blockIdx.y steps
// through larger batches, 16 rows at a time).
template <int NT>
__global__ void __launch_bounds__(WARPS * 32, NT == 1 ? 28 / WARPS : 16 / WARPS)
fp8_mma_kernel(const uint8_t *__restrict__ W8, const float *__restrict__ scales, const uint16_t *__restrict__ X,
               uint16_t *__restrict__ Y, int M, int N, int K) {
    // Each lane's own ring: per stage, 32 bytes of row g and 32 of row g + 8.
    __shared__ uint4 ring[WARPS][STAGES][4][32];
    __shared__ float partial[WARPS - 1][NT][4][32];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int n0 = blockIdx.x * TILE_ROWS, m0 = blockIdx.y * 8 * NT, groups = K / QUANT_GROUP;
    // Rows past N read row N - 1 (valid memory) and their results are dropped.
    const int ra = min(n0 + g, N - 1), rb = min(n0 + g + 8, N - 1);
    const uint8_t *wa = W8 + (size_t)ra * K + 16 * t, *wb = W8 + (size_t)rb * K + 16 * t;
    const float *sa = scales + (size_t)ra * groups, *sb = scales + (size_t)rb * groups;
    // The batch row this lane feeds to tile j's B operand (the mma's column g). Past M it reads row
    // M - 1: the columns of C are independent, and those ones are never written.
    const uint4 *x_next[NT];   // this warp's current group in X, 16 uint4 (128 BF16) a group
#pragma unroll
    for (int j = 0; j < NT; j++)
        x_next[j] = reinterpret_cast<const uint4 *>(X + (size_t)min(m0 + 8 * j + g, M - 1) * K + 16 * t) +
                    warp * (QUANT_GROUP / 8);
    float acc[NT][4] = {};

    // This warp's groups: warp, warp + WARPS, ...; the k-th is copied into stage k % STAGES, and its
    // two scales (loaded with it, used STAGES - 1 groups later) sit in sca/scb[k % STAGES].
    const int count = warp < groups ? (groups - 1 - warp) / WARPS + 1 : 0;
    const uint8_t *w_next = wa + (size_t)warp * GROUP_BYTES;
    const float *s_next = sa + warp;
    const ptrdiff_t w_gap = wb - wa, s_gap = sb - sa;
    float sca[STAGES], scb[STAGES];
#define ISSUE(s)                                                                       \
    do {                                                                               \
        cp_async_16(smem_u32(&ring[warp][s][0][lane]), w_next, true);                  \
        cp_async_16(smem_u32(&ring[warp][s][1][lane]), w_next + 64, true);             \
        cp_async_16(smem_u32(&ring[warp][s][2][lane]), w_next + w_gap, true);          \
        cp_async_16(smem_u32(&ring[warp][s][3][lane]), w_next + w_gap + 64, true);     \
        sca[s] = __ldg(s_next);                                                        \
        scb[s] = __ldg(s_next + s_gap);                                                \
        w_next += WARPS * GROUP_BYTES;                                                 \
        s_next += WARPS;                                                               \
    } while (0)
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < count) ISSUE(s);
        cp_async_commit();   // one commit a step, empty or not: wait<STAGES - 2> counts on it
    }
    for (int k0 = 0; k0 < count; k0 += STAGES) {
#pragma unroll
        for (int s = 0; s < STAGES; s++) {   // unrolled: the stage (and scale) indices are constants
            const int k = k0 + s;
            if (k >= count) break;
            cp_async_wait<STAGES - 2>();     // group k has landed
            if (k + STAGES - 1 < count) ISSUE((s + STAGES - 1) % STAGES);   // into the slot read last step
            cp_async_commit();
            const uint4 q[4] = {ring[warp][s][0][lane], ring[warp][s][1][lane], ring[warp][s][2][lane],
                                ring[warp][s][3][lane]};
            float c[NT][2][4] = {};
            fp8_group<NT>(q, x_next, c, TensorCoreMma());
#pragma unroll
            for (int j = 0; j < NT; j++) {   // [0], [1]: row g; [2], [3]: row g + 8
                acc[j][0] += sca[s] * (c[j][0][0] + c[j][1][0]);
                acc[j][1] += sca[s] * (c[j][0][1] + c[j][1][1]);
                acc[j][2] += scb[s] * (c[j][0][2] + c[j][1][2]);
                acc[j][3] += scb[s] * (c[j][0][3] + c[j][1][3]);
                x_next[j] += WARPS * (QUANT_GROUP / 8);
            }
        }
    }
#undef ISSUE
    cp_async_wait<0>();

    // The warps' tiles summed; warp 0 writes. acc[j][i]: row n0 + g (+ 8 for i >= 2), batch row
    // m0 + 8j + 2t (+ 1 for odd i).
    if (warp > 0) {
#pragma unroll
        for (int j = 0; j < NT; j++)
#pragma unroll
            for (int i = 0; i < 4; i++) partial[warp - 1][j][i][lane] = acc[j][i];
    }
    __syncthreads();
    if (warp == 0) {
#pragma unroll
        for (int j = 0; j < NT; j++)
#pragma unroll
            for (int i = 0; i < 4; i++) {
                float v = acc[j][i];
#pragma unroll
                for (int w = 0; w < WARPS - 1; w++) v += partial[w][j][i][lane];
                const int n = n0 + g + (i >= 2 ? 8 : 0), m = m0 + 8 * j + 2 * t + (i & 1);
                if (n < N && m < M) Y[(size_t)m * N + n] = float_to_bf16(v);
            }
    }
}

void gemv_fp8(const uint8_t *W8, const float *scales, const uint16_t *X, uint16_t *Y, int M, int N, int K,
              cudaStream_t stream) {
    if (M <= 0 || N <= 0 || K <= 0) return;
    const int tiles = (N + TILE_ROWS - 1) / TILE_ROWS;
    if (M <= 8) fp8_mma_kernel<1><<<dim3(tiles, 1), WARPS * 32, 0, stream>>>(W8, scales, X, Y, M, N, K);
    else fp8_mma_kernel<2><<<dim3(tiles, (M + 15) / 16), WARPS * 32, 0, stream>>>(W8, scales, X, Y, M, N, K);
}
