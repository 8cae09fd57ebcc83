// Session 12, exercise 6 (solution): W4A16 GEMV, unpacked in registers, multiplied on the tensor cores.
//
// The skeleton's loop (a warp per row, FFMA) can keep up with memory at batch 1, but not at batch
// 8: 4-bit weights arrive at four times the rate of BF16 ones (some 32 a clock per SM at 4 TB/s),
// and eight FFMAs for each is twice what an SM can issue (128 lanes a clock). So the products go
// to mma.sync (m16n8k16, BF16 in, FP32 sums): 16 rows of W are the mma's M, up to 8 rows of X its
// N, and the CUDA cores only unpack: about 140 instructions per warp per 1 KB of weights, half of
// what the SM can issue in the time the memory takes to deliver that kilobyte.
//
//   - A block of WARPS warps owns 16 rows of W and all of K; warp w takes groups w, w + WARPS, ...
//     and the warps' partial sums meet in shared memory at the end. At 14336 x 4096 that is 896
//     blocks, all resident at once (7 a SM): one wave, no tail.
//   - Lane (g, t) = (lane / 4, lane % 4) copies, per group, 16 bytes of rows g and g + 8: bytes
//     16t .. 16t + 15 of the row's 64, k = 32t .. 32t + 31 of the group. The four lanes of a row
//     read 64 contiguous bytes: a copy instruction fetches 16 rows x 64 bytes, whole sectors.
//   - The copies are cp.async into a ring of STAGES groups per lane in shared memory: STAGES - 1
//     groups (3 KB a warp) are always in flight without holding registers. A lane reads back only
//     the bytes it copied, so waiting for its own copies is all the synchronisation needed.
//   - Unpacking (unpack_int4x8_biased): 0x4300 | n is the BF16 bit pattern of 128 + n (n < 16 fits
//     the 7 mantissa bits), so one shift and one LOP3 ((w >> 4i) & 0x000F000F ^ 0x43084308) turn
//     two nibbles q into the BF16 values q + 136 (the ^ 8 makes the two's complement nibble q + 8).
//     The 136 is not subtracted there: a second mma with A = -136 everywhere, on the same X, takes
//     136 * sum(x) off: one instruction per 256 weights instead of a BF16 subtract per 2. (Its
//     cost in precision: the FP32 sums run about 30 times larger than the result, some 2^-17 of
//     it, against the 2^-9 of rounding the output to BF16.)
//   - A pair holds k = i and k = i + 4 (the same nibble of both 16-bit halves); the mma does not
//     care which k is which as long as X's pairs are built the same way (pair_x8: a PRMT each).
//   - Each group's mmas sum into fresh FP32 tiles; rows g and g + 8 then multiply them by their
//     group scales into the accumulator: one FFMA per scale per 128 weights.
#include "exercises.h"
#include "mma_ptx.cuh"
#include "quant_given.cuh"

#define TILE_ROWS 16                      // rows of W a block owns: the mma's M
#ifndef WARPS  // a knob: tests/gpu/session12 sweeps it with -DWARPS=...
#define WARPS 4                           // warps of a block, splitting K by groups
#endif
#ifndef STAGES  // a knob: tests/gpu/session12 sweeps it with -DSTAGES=...
#define STAGES 4                          // groups in a warp's copy ring: STAGES - 1 in flight
#endif
#define GROUP_BYTES (QUANT_GROUP / 2)     // 64 bytes of a row hold a group's 128 weights

// (a & MASK) ^ c in one LOP3. Written out because the compiler splits it in two when the mask and
// c are both constants (an instruction takes one immediate; c then sits in a register).
template <uint32_t MASK> __host__ __device__ __forceinline__ uint32_t and_xor(uint32_t a, uint32_t c) {
#ifdef __CUDA_ARCH__
    uint32_t d;
    asm("lop3.b32 %0, %1, %2, %3, 0x6A;" : "=r"(d) : "r"(a), "n"(MASK), "r"(c));   // 0x6A = (0xF0 & 0xCC) ^ 0xAA
    return d;
#else
    return (a & MASK) ^ c;
#endif
}

// Eight signed nibbles of a word (nibble i is k = i: the low nibble of each byte comes first) into
// four BF16 pairs of q + 136: pair i = (k = i in the low half, k = i + 4 in the high half).
__host__ __device__ __forceinline__ void unpack_int4x8_biased(uint32_t w, uint32_t magic, uint32_t pair[4]) {
    for (int i = 0; i < 4; i++) pair[i] = and_xor<0x000F000Fu>(w >> (4 * i), magic);   // 0x4300 | (q ^ 8)
}
#define MAGIC_X2 0x43084308u       // 0x4300 | 8 in both halves (128 + 8 as BF16 is 0x4308 too)
#define MINUS_136_X2 0xC308C308u   // -136 in both BF16 halves: the A operand that removes the bias

// Two 16-bit halves: lo from a's half sel_a, hi from b's half sel_b (0: low, 1: high).
__host__ __device__ __forceinline__ uint32_t pick_halves(uint32_t a, uint32_t b, int sel_a, int sel_b) {
#ifdef __CUDA_ARCH__
    return __byte_perm(a, b, (sel_a ? 0x0032 : 0x0010) | (sel_b ? 0x7600 : 0x5400));
#else
    return ((sel_a ? a >> 16 : a) & 0xFFFFu) | ((sel_b ? b >> 16 : b) << 16);
#endif
}

// Eight BF16 values x0 .. x7 (16 bytes: x0 in the low half of the first word) into the pairs the
// weights come in: (x0, x4), (x1, x5), (x2, x6), (x3, x7).
__host__ __device__ __forceinline__ void pair_x8(uint4 v, uint32_t pair[4]) {
    pair[0] = pick_halves(v.x, v.z, 0, 0);
    pair[1] = pick_halves(v.x, v.z, 1, 1);
    pair[2] = pick_halves(v.y, v.w, 0, 0);
    pair[3] = pick_halves(v.y, v.w, 1, 1);
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

// One group, one lane's part: qa, qb are its 16 bytes of rows g and g + 8 (k = 32t .. 32t + 31 of
// the group), x[j] its 32 X values of tile j's batch row (4 uint4). Adds into c[j][0] the products
// of the biased weights and into c[j][1] -136 times the sums of x: two mma chains of 8 a tile.
template <int NT, class Mma>
__host__ __device__ __forceinline__ void w4a16_group(uint4 qa, uint4 qb, const uint4 *const x[NT], float c[NT][2][4],
                                                     const Mma &mma) {
    const uint32_t magic = MAGIC_X2;
    const uint32_t minus_136[4] = {MINUS_136_X2, MINUS_136_X2, MINUS_136_X2, MINUS_136_X2};
    for (int i = 0; i < 4; i++) {   // word i: k = 32t + 8i .. 32t + 8i + 7 of the group
        const uint32_t wa_i = i == 0 ? qa.x : i == 1 ? qa.y : i == 2 ? qa.z : qa.w;
        const uint32_t wb_i = i == 0 ? qb.x : i == 1 ? qb.y : i == 2 ? qb.z : qb.w;
        uint32_t pa[4], pb[4];
        unpack_int4x8_biased(wa_i, magic, pa);
        unpack_int4x8_biased(wb_i, magic, pb);
        // A: rows g (pa) and g + 8 (pb); mma k 2t, 2t+1 <- pair 0 (then 2), 2t+8, 2t+9 <- pair 1 (then 3).
        const uint32_t a_lo[4] = {pa[0], pb[0], pa[1], pb[1]}, a_hi[4] = {pa[2], pb[2], pa[3], pb[3]};
        for (int j = 0; j < NT; j++) {
            uint32_t xp[4];
            pair_x8(load_x(x[j] + i), xp);   // 8 BF16 a uint4
            const uint32_t b_lo[2] = {xp[0], xp[1]}, b_hi[2] = {xp[2], xp[3]};
            mma(c[j][0], a_lo, b_lo);
            mma(c[j][1], minus_136, b_lo);
            mma(c[j][0], a_hi, b_hi);
            mma(c[j][1], minus_136, b_hi);
        }
    }
}

// NT n8 tiles of the batch in one pass over W: 1 for M <= 8, 2 for M <= 16 (blockIdx.y steps
// through larger batches, 16 rows at a time).
template <int NT>
__global__ void __launch_bounds__(WARPS * 32, NT == 1 ? 28 / WARPS : 16 / WARPS)
w4a16_mma_kernel(const uint8_t *__restrict__ W4, const uint16_t *__restrict__ scales, const uint16_t *__restrict__ X,
                 uint16_t *__restrict__ Y, int M, int N, int K) {
    // Each lane's own ring of STAGES groups (rows g and g + 8, 16 bytes each): a lane reads back only
    // what it copied, so waiting for its own copies is all the synchronisation there is.
    __shared__ uint4 ring[WARPS][STAGES][2][32];
    __shared__ float partial[WARPS - 1][NT][4][32];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int n0 = blockIdx.x * TILE_ROWS, m0 = blockIdx.y * 8 * NT, groups = K / QUANT_GROUP;
    // Rows past N read row N - 1 (valid memory) and their results are dropped.
    const int ra = min(n0 + g, N - 1), rb = min(n0 + g + 8, N - 1);
    const uint8_t *wa = W4 + (size_t)ra * (K / 2) + 16 * t, *wb = W4 + (size_t)rb * (K / 2) + 16 * t;
    const uint16_t *sa = scales + (size_t)ra * groups, *sb = scales + (size_t)rb * groups;
    // The batch row this lane feeds to tile j's B operand (the mma's column g). Past M it reads row
    // M - 1: the columns of C are independent, and those ones are never written.
    const uint4 *x_next[NT];   // this warp's current group in X, 16 uint4 (128 BF16) a group
#pragma unroll
    for (int j = 0; j < NT; j++)
        x_next[j] = reinterpret_cast<const uint4 *>(X + (size_t)min(m0 + 8 * j + g, M - 1) * K + 32 * t) +
                    warp * (QUANT_GROUP / 8);
    float acc[NT][4] = {};

    // This warp's groups: warp, warp + WARPS, ...; the k-th is copied into stage k % STAGES, and its
    // two scales (loaded with it, used STAGES - 1 groups later) sit in sca/scb[k % STAGES]. The
    // pointers step from group to group (row b is a fixed distance from row a).
    const int count = warp < groups ? (groups - 1 - warp) / WARPS + 1 : 0;
    const uint8_t *w_next = wa + (size_t)warp * GROUP_BYTES;
    const uint16_t *s_next = sa + warp;
    const ptrdiff_t w_gap = wb - wa, s_gap = sb - sa;
    float sca[STAGES], scb[STAGES];
#define ISSUE(s)                                                                  \
    do {                                                                          \
        cp_async_16(smem_u32(&ring[warp][s][0][lane]), w_next, true);             \
        cp_async_16(smem_u32(&ring[warp][s][1][lane]), w_next + w_gap, true);     \
        sca[s] = bf16_to_float(__ldg(s_next));                                    \
        scb[s] = bf16_to_float(__ldg(s_next + s_gap));                            \
        w_next += WARPS * GROUP_BYTES;                                            \
        s_next += WARPS;                                                          \
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
            const uint4 qa = ring[warp][s][0][lane], qb = ring[warp][s][1][lane];
            float c[NT][2][4] = {};
            w4a16_group<NT>(qa, qb, x_next, c, TensorCoreMma());
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

void gemv_w4a16(const uint8_t *W4, const uint16_t *scales, const uint16_t *X, uint16_t *Y, int M, int N, int K,
                cudaStream_t stream) {
    if (M <= 0 || N <= 0 || K <= 0) return;
    const int tiles = (N + TILE_ROWS - 1) / TILE_ROWS;
    if (M <= 8) w4a16_mma_kernel<1><<<dim3(tiles, 1), WARPS * 32, 0, stream>>>(W4, scales, X, Y, M, N, K);
    else w4a16_mma_kernel<2><<<dim3(tiles, (M + 15) / 16), WARPS * 32, 0, stream>>>(W4, scales, X, Y, M, N, K);
}
