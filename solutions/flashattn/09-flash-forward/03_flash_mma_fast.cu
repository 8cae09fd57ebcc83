// Session 09, exercise 3 (solution): FlashAttention forward on tensor cores, the fast version.
//
// One block of 4 warps owns BM = 128 query rows of one (batch, head); each warp owns 32 of them (two
// m16 tiles). The block walks the keys in tiles of BN = 64:
//   S = Q K^T       mma.sync m16n8k16, Q and K fragments by ldmatrix from shared memory;
//   online softmax  in the S registers: running row max m and sum l, exp2 with the scale folded in;
//   O += P V        P converted to BF16 in registers (the S accumulators are already laid out as the
//                   A operand of the next mma), V fragments by ldmatrix.trans.
// K and V tiles are double-buffered: while the warps work on tile j, cp.async brings tile j+1 into
// the other half. Nothing of size sq x skv ever reaches global memory.
//
// What it adds to 02_flash_mma (the same layout and the same two products): the softmax never leaves
// the registers (a row's values sit in the 4 lanes of a quad, which agree by __shfl_xor_sync), exp2
// replaces exp, and the loads of tile j+1 overlap the work on tile j.
//
// Why 32 rows a warp: every warp reads the whole K and V tile from shared memory, so the rows that
// share one read set the FLOPs per byte of shared traffic; 16 rows a warp would make shared memory,
// not the tensor cores, the limit. The price is registers: 128 O accumulators a thread.
//
// Shared tiles are XOR-swizzled in 16-byte chunks (swz, in flash_given.cuh). The tiles are copied
// by load_rows below rather than the given load_tile: the same copies with the address arithmetic
// done once. On the H200 (2026-11-30, B 4, H 16, S 4096, D 128) that took this kernel from 327.5 to
// 368.9 TFLOP/s (causal: 280.7 to 326.7), past PyTorch's SDPA flash backend in the same run (348.4 and
// 281.5). The loop is bound by what the warps issue, and the copies' index maths was a good share of
// it; ptxas also stopped spilling (48 bytes of stores at head dim 128 before, none now).
#include <cuda_bf16.h>
#include <math.h>
#include <stdint.h>

#include "exercises.h"
#include "flash_given.cuh"

// ROWS rows from row0 of one (batch, head) slice into a swizzled tile, as the given load_tile, with
// the address work hoisted: a thread copies chunk column threadIdx.x % (HD/8) of the rows
// threadIdx.x / (HD/8) + i * RSTEP, and RSTEP (8 or 16) keeps row % 8, hence the swizzle, so each copy
// is one base plus a constant. Tiles wholly inside the slice skip the row test.
template <int HD, int ROWS, int NTHREADS>
__device__ __forceinline__ void load_rows(__nv_bfloat16 *tile, const __nv_bfloat16 *src, int row0, int valid) {
    constexpr int CPR = HD / 8, RSTEP = NTHREADS / CPR;
    static_assert(NTHREADS % CPR == 0 && RSTEP % 8 == 0 && ROWS % RSTEP == 0, "rows a thread copies keep their swizzle");
    const int r = threadIdx.x / CPR, c = threadIdx.x % CPR;
    const uint32_t dst = smem_u32(tile + swz<HD>(r, c * 8));
    const __nv_bfloat16 *g = src + (size_t)(row0 + r) * HD + c * 8;
    if (row0 + ROWS <= valid) {
#pragma unroll
        for (int i = 0; i < ROWS / RSTEP; i++) cp_async_16(dst + i * RSTEP * HD * 2, g + (size_t)i * RSTEP * HD, true);
    } else {
#pragma unroll
        for (int i = 0; i < ROWS / RSTEP; i++) {
            const bool ok = row0 + r + i * RSTEP < valid;
            cp_async_16(dst + i * RSTEP * HD * 2, ok ? g + (size_t)i * RSTEP * HD : src, ok);
        }
    }
}

#define BM 128           // query rows per block
#define BN 64            // keys per tile
#define WARPS 4
#define THREADS (32 * WARPS)
#define MT 2             // m16 tiles per warp (32 rows)
#define NT (BN / 8)      // n8 tiles of S per warp

template <int HD, bool CAUSAL>
__global__ void __launch_bounds__(THREADS, 2)
flash_forward_mma_fast_kernel(const __nv_bfloat16 *__restrict__ q, const __nv_bfloat16 *__restrict__ k,
                              const __nv_bfloat16 *__restrict__ v, __nv_bfloat16 *__restrict__ o,
                              float *__restrict__ lse, int sq, int skv, float scale_log2) {
    extern __shared__ __align__(128) __nv_bfloat16 smem[];
    __nv_bfloat16 *sQ = smem;                 // BM x HD
    __nv_bfloat16 *sK = sQ + BM * HD;         // 2 stages of BN x HD
    __nv_bfloat16 *sV = sK + 2 * BN * HD;     // 2 stages of BN x HD

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int g = lane / 4, t = lane % 4;
    // Causal blocks near the end of Q have the most keys: start them first so that the last wave
    // is made of short blocks.
    const int m_block = CAUSAL ? gridDim.x - 1 - blockIdx.x : blockIdx.x;
    const int m0 = m_block * BM;
    const int offset = skv - sq;              // row i sees keys j <= i + offset when causal
    const size_t bh = blockIdx.y;
    const __nv_bfloat16 *qh = q + bh * sq * HD, *kh = k + bh * skv * HD, *vh = v + bh * skv * HD;

    // Keys this block needs: all, or (causal) up to the last visible key of its last row.
    int n_end = skv;
    if (CAUSAL) n_end = min(skv, max(0, m0 + BM + offset));
    const int n_tiles = (n_end + BN - 1) / BN;

    load_rows<HD, BM, THREADS>(sQ, qh, m0, sq);
    if (n_tiles > 0) {
        load_rows<HD, BN, THREADS>(sK, kh, 0, skv);
        load_rows<HD, BN, THREADS>(sV, vh, 0, skv);
    }
    cp_async_commit();

    float acc_o[MT][HD / 8][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < HD / 8; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc_o[mt][nt][e] = 0.0f;
    // Rows of this thread: (mt, half) -> row warp*32 + mt*16 + g + 8*half.
    float row_max[MT][2], row_sum[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int h = 0; h < 2; h++) { row_max[mt][h] = -INFINITY; row_sum[mt][h] = 0.0f; }

    const int warp_row0 = warp * 32;
    for (int j = 0; j < n_tiles; j++) {
        const int stage = j & 1, n0 = j * BN;
        cp_async_wait<0>();    // tile j (and, the first time, Q) has landed, for this thread's copies
        __syncthreads();       // ... and everyone's; and every warp is done with tile j-1's stage
        if (j + 1 < n_tiles) {  // so tile j+1 may now overwrite it, while the warps work on tile j
            load_rows<HD, BN, THREADS>(sK + (stage ^ 1) * BN * HD, kh, n0 + BN, skv);
            load_rows<HD, BN, THREADS>(sV + (stage ^ 1) * BN * HD, vh, n0 + BN, skv);
        }
        cp_async_commit();
        const __nv_bfloat16 *tK = sK + stage * BN * HD, *tV = sV + stage * BN * HD;

        // ---- S = Q K^T ----
        float acc_s[MT][NT][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int nt = 0; nt < NT; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) acc_s[mt][nt][e] = 0.0f;
#pragma unroll
        for (int ks = 0; ks < HD / 16; ks++) {
            uint32_t a[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
                ldmatrix_x4(a[mt], smem_u32(sQ + swz<HD>(warp_row0 + mt * 16 + (lane & 15), ks * 16 + (lane >> 4) * 8)));
#pragma unroll
            for (int np = 0; np < NT / 2; np++) {
                uint32_t b[4];
                int key = np * 16 + (lane & 7) + ((lane >> 4) << 3);
                ldmatrix_x4(b, smem_u32(tK + swz<HD>(key, ks * 16 + ((lane >> 3) & 1) * 8)));
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    mma_bf16_16816(acc_s[mt][2 * np], a[mt], b);
                    mma_bf16_16816(acc_s[mt][2 * np + 1], a[mt], b + 2);
                }
            }
        }

        // ---- mask: keys past the end, and (causal) keys after the row's own position ----
        const bool partial = n0 + BN > skv;
        const bool diagonal = CAUSAL && n0 + BN - 1 > m0 + warp_row0 + offset;
        if (partial || diagonal) {
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int nt = 0; nt < NT; nt++)
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        int key = n0 + nt * 8 + 2 * t + (e & 1);
                        int row = m0 + warp_row0 + mt * 16 + g + 8 * (e >> 1);
                        if (key >= skv || (CAUSAL && key > row + offset)) acc_s[mt][nt][e] = -INFINITY;
                    }
        }

        // ---- online softmax: 4 rows a thread, each shared by the 4 threads of a quad ----
        // The four rows go through each step together, and maxima and sums are taken as trees: with
        // two warps a scheduler, the independent chains are what keeps the pipes busy.
        float rescales[MT][2];  // the rescale of each of this thread's 4 rows, applied to acc_o below
        float base[MT][2];
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                float m[NT];
#pragma unroll
                for (int nt = 0; nt < NT; nt++) m[nt] = fmaxf(acc_s[mt][nt][2 * h], acc_s[mt][nt][2 * h + 1]);
#pragma unroll
                for (int w = NT / 2; w >= 1; w /= 2)
#pragma unroll
                    for (int i = 0; i < w; i++) m[i] = fmaxf(m[i], m[i + w]);
                base[mt][h] = fmaxf(row_max[mt][h], m[0]);
            }
#pragma unroll
        for (int w = 1; w <= 2; w *= 2)
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int h = 0; h < 2; h++) base[mt][h] = fmaxf(base[mt][h], __shfl_xor_sync(0xffffffffu, base[mt][h], w));
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const float mx = base[mt][h];
                // A row that has seen only masked keys keeps max -inf; subtract 0 instead, so that
                // exp2(-inf - -inf) never makes a NaN.
                base[mt][h] = mx == -INFINITY ? 0.0f : mx * scale_log2;
                rescales[mt][h] = fast_exp2(row_max[mt][h] * scale_log2 - base[mt][h]);
                row_max[mt][h] = mx;
            }
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                float sum[NT / 2];
#pragma unroll
                for (int nt = 0; nt < NT; nt++)
#pragma unroll
                    for (int e = 0; e < 2; e++) {
                        float p = fast_exp2(fmaf(acc_s[mt][nt][2 * h + e], scale_log2, -base[mt][h]));
                        acc_s[mt][nt][2 * h + e] = p;
                        if (nt < NT / 2 && e == 0) sum[nt] = p;
                        else sum[nt % (NT / 2)] += p;
                    }
#pragma unroll
                for (int w = NT / 4; w >= 1; w /= 2)
#pragma unroll
                    for (int i = 0; i < w; i++) sum[i] += sum[i + w];
                row_sum[mt][h] = row_sum[mt][h] * rescales[mt][h] + sum[0];  // this thread's columns only
            }
        // Once the running max settles (after the first few tiles it rarely moves), every rescale is
        // exactly 1: skip the HD/2 multiplies a row then, when the whole warp agrees.
        bool moved = false;
#pragma unroll
        for (int mt = 0; mt < MT; mt++) moved |= rescales[mt][0] != 1.0f || rescales[mt][1] != 1.0f;
        if (__any_sync(0xffffffffu, moved))
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int nt = 0; nt < HD / 8; nt++)
#pragma unroll
                    for (int e = 0; e < 4; e++) acc_o[mt][nt][e] *= rescales[mt][e >> 1];

        // ---- O += P V. The S accumulators of n-tiles 2ks and 2ks+1 are, once rounded to BF16, the A
        // fragment of k-step ks: P never leaves the registers. Converting all of it first frees the
        // FP32 copies before the V loop, registers the compiler uses to load V fragments ahead. ----
        uint32_t p_frag[MT][BN / 16][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int ks = 0; ks < BN / 16; ks++) {
                p_frag[mt][ks][0] = pack_bf16x2(acc_s[mt][2 * ks][0], acc_s[mt][2 * ks][1]);
                p_frag[mt][ks][1] = pack_bf16x2(acc_s[mt][2 * ks][2], acc_s[mt][2 * ks][3]);
                p_frag[mt][ks][2] = pack_bf16x2(acc_s[mt][2 * ks + 1][0], acc_s[mt][2 * ks + 1][1]);
                p_frag[mt][ks][3] = pack_bf16x2(acc_s[mt][2 * ks + 1][2], acc_s[mt][2 * ks + 1][3]);
            }
#pragma unroll
        for (int ks = 0; ks < BN / 16; ks++)
#pragma unroll
            for (int np = 0; np < HD / 16; np++) {
                uint32_t b[4];
                int key = ks * 16 + (lane & 7) + (((lane >> 3) & 1) << 3);
                ldmatrix_x4_trans(b, smem_u32(tV + swz<HD>(key, np * 16 + (lane >> 4) * 8)));
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    mma_bf16_16816(acc_o[mt][2 * np], p_frag[mt][ks], b);
                    mma_bf16_16816(acc_o[mt][2 * np + 1], p_frag[mt][ks], b + 2);
                }
            }
    }
    cp_async_wait<0>();
    __syncthreads();   // with no key tile at all, other threads' copies of Q may still be landing

    // ---- finish: O / l, the log-sum-exp, O staged through this warp's rows of sQ for 16-byte stores ----
    const float scale = scale_log2 * 0.69314718055994531f;  // back to natural-log units
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            float l = row_sum[mt][h];
            l += __shfl_xor_sync(0xffffffffu, l, 1);
            l += __shfl_xor_sync(0xffffffffu, l, 2);
            const float inv = l > 0.0f ? 1.0f / l : 0.0f;
            const int r = warp_row0 + mt * 16 + g + 8 * h;
#pragma unroll
            for (int nt = 0; nt < HD / 8; nt++) {
                uint32_t packed = pack_bf16x2(acc_o[mt][nt][2 * h] * inv, acc_o[mt][nt][2 * h + 1] * inv);
                *reinterpret_cast<uint32_t *>(sQ + swz<HD>(r, nt * 8 + 2 * t)) = packed;
            }
            if (t == 0 && m0 + r < sq)
                lse[bh * sq + m0 + r] = l > 0.0f ? row_max[mt][h] * scale + logf(l) : -INFINITY;
        }
    __syncwarp();
    __nv_bfloat16 *oh = o + bh * sq * HD;
#pragma unroll
    for (int i = lane; i < 32 * HD / 8; i += 32) {
        int r = warp_row0 + i / (HD / 8), c = i % (HD / 8);
        if (m0 + r < sq)
            *reinterpret_cast<uint4 *>(oh + (size_t)(m0 + r) * HD + c * 8) =
                *reinterpret_cast<const uint4 *>(sQ + swz<HD>(r, c * 8));
    }
}

template <int HD, bool CAUSAL>
static void launch(const uint16_t *q, const uint16_t *k, const uint16_t *v, uint16_t *o, float *lse,
                   int batch, int heads, int sq, int skv, cudaStream_t stream) {
    const int smem = (BM + 4 * BN) * HD * (int)sizeof(__nv_bfloat16);
    cudaFuncSetAttribute(flash_forward_mma_fast_kernel<HD, CAUSAL>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    dim3 grid((sq + BM - 1) / BM, batch * heads);
    const float scale_log2 = 1.4426950408889634f / sqrtf((float)HD);
    flash_forward_mma_fast_kernel<HD, CAUSAL><<<grid, THREADS, smem, stream>>>(
        (const __nv_bfloat16 *)q, (const __nv_bfloat16 *)k, (const __nv_bfloat16 *)v, (__nv_bfloat16 *)o,
        lse, sq, skv, scale_log2);
}

void flash_forward_mma_fast(const uint16_t *q, const uint16_t *k, const uint16_t *v, uint16_t *o, float *lse,
                            int batch, int heads, int sq, int skv, int head_dim, int causal, cudaStream_t stream) {
    if (!flash_shape_supported(head_dim, "flash_forward_mma_fast")) return;
    FLASH_DISPATCH(head_dim, causal, launch, q, k, v, o, lse, batch, heads, sq, skv, stream);
}
