// Session 09, exercise 2: FlashAttention forward on tensor cores.
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
// Why 32 rows a warp: every warp reads the whole K and V tile from shared memory, so the rows that
// share one read set the FLOPs per byte of shared traffic; 16 rows a warp would make shared memory,
// not the tensor cores, the limit. The price is registers: 128 O accumulators a thread.
//
// Shared tiles are XOR-swizzled in 16-byte chunks (chunk c of row r lives at c ^ (r % 8)), so the 8
// rows one ldmatrix reads fall in 8 different bank groups.
#include <cuda_bf16.h>
#include <math.h>
#include <stdint.h>

#include "exercises.h"
#include "flash_given.cuh"

#define BM 128           // query rows per block
#define BN 64            // keys per tile
#define WARPS 4
#define THREADS (32 * WARPS)
#define MT 2             // m16 tiles per warp (32 rows)
#define NT (BN / 8)      // n8 tiles of S per warp

// Element (row, col) of a swizzled tile with HD columns.
template <int HD> __device__ __forceinline__ int swz(int row, int col) {
    return row * HD + ((((col >> 3) ^ (row & 7))) << 3) + (col & 7);
}

// rows x HD elements of one (batch, head) slice, rows [row0, row0 + rows) of a tensor with `valid`
// rows, into a swizzled shared tile; rows past `valid` are zero-filled.
template <int HD, int ROWS>
__device__ __forceinline__ void load_tile(__nv_bfloat16 *tile, const __nv_bfloat16 *src, int row0, int valid) {
    constexpr int CHUNKS = ROWS * HD / 8;
#pragma unroll
    for (int i = threadIdx.x; i < CHUNKS; i += THREADS) {
        int r = i / (HD / 8), c = i % (HD / 8);
        bool ok = row0 + r < valid;
        const __nv_bfloat16 *g = src + (size_t)(ok ? row0 + r : 0) * HD + c * 8;
        cp_async_16(smem_u32(tile + swz<HD>(r, c * 8)), g, ok);
    }
}

template <int HD, bool CAUSAL>
__global__ void __launch_bounds__(THREADS, 2)
flash_forward_mma_kernel(const __nv_bfloat16 *__restrict__ q, const __nv_bfloat16 *__restrict__ k,
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

    load_tile<HD, BM>(sQ, qh, m0, sq);
    if (n_tiles > 0) {
        load_tile<HD, BN>(sK, kh, 0, skv);
        load_tile<HD, BN>(sV, vh, 0, skv);
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
        // TODO 1, the double buffer: tile j-1's stage is free now. If there is a tile j+1, start
        //   copying its K and V into it (load_tile into sK/sV + (stage ^ 1) * BN * HD, rows from n0 + BN)
        //   so that they land while the warps work on tile j.
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
        // TODO 2, S = Q K^T: for each k-step ks (16 columns of HD), load this warp's two Q fragments
        //   (rows warp_row0 + mt*16 + (lane & 15), columns ks*16 + (lane >> 4)*8) with ldmatrix_x4, then
        //   for each pair np of n8 tiles the K fragment: key np*16 + (lane & 7) + ((lane >> 4) << 3),
        //   columns ks*16 + ((lane >> 3) & 1)*8; registers b[0..1] are n-tile 2np, b[2..3] n-tile 2np+1.
        //   Addresses inside a tile: swz<HD>(row, col). mma_bf16_16816(acc_s[mt][nt], a[mt], b).
        //   Why: ldmatrix takes the row addresses of its matrix lane / 8 from 8 lanes. Q: lanes 0-15 name
        //   rows 0-15 at k 0-7 (a[0], a[1]), lanes 16-31 at k 8-15. K: bit 0 of lane / 8 is the k half
        //   (b[0], b[1]), bit 1 the n-tile; K [key][dim] already pairs values along k, as B's "col" wants.

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
                        // The m16n8 accumulator: element e of lane (g, t) is row g + 8 (e / 2), column 2t + e % 2.
                        int key = n0 + nt * 8 + 2 * t + (e & 1);
                        int row = m0 + warp_row0 + mt * 16 + g + 8 * (e >> 1);
                        if (key >= skv || (CAUSAL && key > row + offset)) acc_s[mt][nt][e] = -INFINITY;
                    }
        }

        // TODO 3, the online softmax. This thread holds, for each m-tile mt and half h, row
        //   warp_row0 + mt*16 + g + 8h: the values acc_s[mt][nt][2h] and [2h+1] of every n-tile. Take the
        //   row max (and the other 3 threads of the quad's: __shfl_xor_sync 1 and 2), fold in
        //   row_max[mt][h]; base = max * scale_log2 (0 if the max is still -INFINITY);
        //   rescale = fast_exp2(old max * scale_log2 - base); p = fast_exp2(s * scale_log2 - base) in
        //   place of s; row_sum = row_sum * rescale + this thread's p; multiply this row's acc_o by rescale.
        //   Why the quad: a row's values sit in the 4 lanes with the same g = lane / 4, and xor 1 and 2
        //   reach exactly those.
        // TODO 4, O += P V: for k-step ks (16 keys) the A fragment of P is n-tiles 2ks and 2ks+1 of acc_s,
        //   packed with pack_bf16x2: a[0] = (acc_s[2ks][0], [1]), a[1] = ([2ks][2], [3]), a[2] and a[3] the
        //   same from n-tile 2ks+1. The V fragment of n-tiles 2np, 2np+1 (columns of HD) comes from
        //   ldmatrix_x4_trans at key ks*16 + (lane & 7) + (((lane >> 3) & 1) << 3), column np*16 + (lane >> 4)*8.
        //   Why (PTX ISA layouts): the accumulator's (row g, columns 2t, 2t+1) is the A operand's (row g,
        //   k 2t, 2t+1), so n-tile 2ks is P's k 0-7 and 2ks+1 its k 8-15. V: bit 0 of lane / 8 picks keys
        //   0-7 or 8-15 (b[0], b[1]), bit 1 the n-tile; .trans: V [key][dim] has columns, not k, side by side.
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
    cudaFuncSetAttribute(flash_forward_mma_kernel<HD, CAUSAL>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    dim3 grid((sq + BM - 1) / BM, batch * heads);
    const float scale_log2 = 1.4426950408889634f / sqrtf((float)HD);
    flash_forward_mma_kernel<HD, CAUSAL><<<grid, THREADS, smem, stream>>>(
        (const __nv_bfloat16 *)q, (const __nv_bfloat16 *)k, (const __nv_bfloat16 *)v, (__nv_bfloat16 *)o,
        lse, sq, skv, scale_log2);
}

void flash_forward_mma(const uint16_t *q, const uint16_t *k, const uint16_t *v, uint16_t *o, float *lse,
                       int batch, int heads, int sq, int skv, int head_dim, int causal, cudaStream_t stream) {
    if (!flash_shape_supported(head_dim, "flash_forward_mma")) return;
    FLASH_DISPATCH(head_dim, causal, launch, q, k, v, o, lse, batch, heads, sq, skv, stream);
}
