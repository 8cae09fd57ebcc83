// Session 13, exercise 4: the NVFP4 GEMV with more independent work per warp.
//
// Exercise 3's warp issues one 16-byte load, waits for it (about a microsecond from HBM), uses
// it, and only then issues the next: one load in flight per lane, a few KB per SM, while the
// memory needs some 40 KB in flight per SM to run at full speed (bandwidth x latency). The cure is
// independence, the same decoding and the same sums arranged so that many loads leave before the
// first one is needed:
//   - ROWS rows per warp: the warp computes ROWS rows of a at the same k positions, so each chunk
//     of b (and its scales) is loaded once and used ROWS times, and each step has ROWS loads of a;
//   - UNROLL chunks per row in flight: the lane loads UNROLL chunks of each of its rows (chunks
//     ch, ch + 32, ...) into registers first, then uses them: ROWS x UNROLL loads in flight;
//   - partial sums kept apart: one sum per row, so no multiply waits for another row's add.
// Chunks past the end of a row are not loaded (the load sits under a predicate, not a branch)
// and count as zeros. Rows past M (the last warp's) read row M - 1 again and are never written.
//
// The decoding is exercise 3's, given. Yours, the TODOs: the loads of a step, all issued before the
// first is used, and the arithmetic on them. make check ONLY=04_nvfp4_gemv_ilp grades it; make
// profile EX=04_nvfp4_gemv_ilp shows the memory throughput against exercise 3's.
#include "exercises.h"
#include "nvfp4_gemv_given.cuh"

#define ROWS 2    // rows of a a warp computes side by side
#define UNROLL 4  // chunks of each row loaded before the first is used

// Exercise 3's decoding, given: an e2m1 code (low 4 bits) as a float through its FP16 bits.
__host__ __device__ __forceinline__ float e2m1_to_float(uint32_t nibble) {
    const uint32_t half_bits = ((nibble & 7u) << 9) | ((nibble & 8u) << 12);  // value * 2^-14
    return half_bits_to_float(half_bits) * 16384.0f;
}

// Exercise 3's chunk: 32 codes of a against 32 of b, two blocks, each block's sum times its scales.
__host__ __device__ __forceinline__ float chunk_dot_bits(uint4 a, uint4 b, float scale0, float scale1) {
    const uint32_t aw[4] = {a.x, a.y, a.z, a.w}, bw[4] = {b.x, b.y, b.z, b.w};
    float block[2] = {0.0f, 0.0f};
    for (int w = 0; w < 4; w++)
        for (int i = 0; i < 8; i++) block[w / 2] += e2m1_to_float(aw[w] >> (4 * i)) * e2m1_to_float(bw[w] >> (4 * i));
    return block[0] * scale0 + block[1] * scale1;
}

// The two block scales of a chunk (sfa's and sfb's 2-byte pairs, low byte first) multiplied.
__host__ __device__ __forceinline__ float2 scale_products(uint32_t sa, uint32_t sb) {
    return make_float2(e4m3_to_float(sa & 0xFF) * e4m3_to_float(sb & 0xFF),
                       e4m3_to_float(sa >> 8) * e4m3_to_float(sb >> 8));
}

__global__ void __launch_bounds__(GEMV_THREADS)
nvfp4_gemv_ilp_kernel(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, uint16_t *c,
                      int M, int K) {
    const int lane = threadIdx.x % 32, l = blockIdx.y;
    const long m0 = ((long)blockIdx.x * GEMV_WARPS + threadIdx.x / 32) * ROWS;  // the warp's first row
    if (m0 >= M) return;
    const int chunks = K / 32;
    const uint4 *a_row[ROWS];
    const uint16_t *sfa_row[ROWS];
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        const long row = (long)l * M + (m0 + r < M ? m0 + r : M - 1);
        a_row[r] = reinterpret_cast<const uint4 *>(a + row * (K / 2));
        sfa_row[r] = reinterpret_cast<const uint16_t *>(sfa + row * (K / 16));
    }
    const uint4 *b_row = reinterpret_cast<const uint4 *>(b + (long)l * (K / 2));
    const uint16_t *sfb_row = reinterpret_cast<const uint16_t *>(sfb + (long)l * (K / 16));

    float acc[ROWS];
#pragma unroll
    for (int r = 0; r < ROWS; r++) acc[r] = 0.0f;

    for (int c0 = lane; c0 < chunks; c0 += 32 * UNROLL) {
        // Every load first: UNROLL x ROWS chunks of a, UNROLL of b, and their scales.
        uint4 av[UNROLL][ROWS], bv[UNROLL];
        uint32_t sa[UNROLL][ROWS], sb[UNROLL];
        // TODO 1: for u = 0 .. UNROLL - 1 (#pragma unroll: the arrays must stay in registers), chunk
        //         ch = c0 + 32u: if ch < chunks, bv[u] = __ldg(b_row + ch), sb[u] = __ldg(sfb_row + ch)
        //         and, for each row r, av[u][r] = load_codes(a_row[r] + ch), sa[u][r] =
        //         load_scale_pair(sfa_row[r] + ch); past the end, zeros. Write it with ?: rather than
        //         if/else around the loads: the compiler then predicates them and keeps them all in
        //         flight together.
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            const int ch = c0 + 32 * u;
            const bool inside = ch < chunks;
            bv[u] = inside ? __ldg(b_row + ch) : make_uint4(0, 0, 0, 0);
            sb[u] = inside ? (uint32_t)__ldg(sfb_row + ch) : 0u;
#pragma unroll
            for (int r = 0; r < ROWS; r++) {
                av[u][r] = inside ? load_codes(a_row[r] + ch) : make_uint4(0, 0, 0, 0);
                sa[u][r] = inside ? load_scale_pair(sfa_row[r] + ch) : 0u;
            }
        }
        // Then the arithmetic, one sum per row.
        // TODO 2: for every u and row r (both loops unrolled): the chunk's two scale products
        //         (scale_products of sa[u][r] and sb[u]), then acc[r] += chunk_dot_bits(...).
#pragma unroll
        for (int u = 0; u < UNROLL; u++)
#pragma unroll
            for (int r = 0; r < ROWS; r++) {
                const float2 s = scale_products(sa[u][r], sb[u]);
                acc[r] += chunk_dot_bits(av[u][r], bv[u], s.x, s.y);
            }
    }
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        const float total = warp_sum(acc[r]);  // every lane takes part
        if (lane == 0 && m0 + r < M) c[(long)l * M + m0 + r] = float_to_half_bits(total);
    }
}

void nvfp4_gemv_ilp(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, uint16_t *c, int M,
                    int K, int L, cudaStream_t stream) {
    if (M <= 0 || K <= 0 || L <= 0) return;
    const int rows_per_block = GEMV_WARPS * ROWS;
    const dim3 grid((unsigned)((M + rows_per_block - 1) / rows_per_block), (unsigned)L);
    nvfp4_gemv_ilp_kernel<<<grid, GEMV_THREADS, 0, stream>>>(a, sfa, b, sfb, c, M, K);
}
