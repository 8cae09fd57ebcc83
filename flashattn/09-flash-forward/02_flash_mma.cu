// Session 09, exercise 2: FlashAttention forward on tensor cores, the plain version.
//
// One block of 4 warps owns BM = 128 query rows of one (batch, head); each warp owns 32 of them (two
// m16 tiles). The block walks the keys in tiles of BN = 64, one tile at a time (load, sync, compute,
// sync):
//   S = Q K^T       mma.sync m16n8k16, Q and K fragments by ldmatrix from shared memory;
//   online softmax  S, scaled and masked, goes to this warp's rows of a shared float tile sS; then
//                   lane i of the warp updates the warp's row i alone, as in session 08: its running
//                   max m and sum l, P = exp(S - m) written back in place, and the rescale
//                   exp(m_old - m_new) into sFactor for the others to read;
//   O += P V        acc_o multiplied by its row's rescale; P read back from sS as the A fragment
//                   (rounded to BF16), V fragments by ldmatrix.trans.
// Nothing of size sq x skv ever reaches global memory. 03_flash_mma_fast keeps the softmax in the
// registers and overlaps the loads of one tile with the work on the one before.
//
// Shared tiles are XOR-swizzled in 16-byte chunks (swz and load_tile, in flash_given.cuh).
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
#define SP (BN + 1)      // row pitch of sS in floats: lane i reading column c of row i hits bank (i + c) % 32

template <int HD, bool CAUSAL>
__global__ void __launch_bounds__(THREADS)
flash_forward_mma_kernel(const __nv_bfloat16 *__restrict__ q, const __nv_bfloat16 *__restrict__ k,
                         const __nv_bfloat16 *__restrict__ v, __nv_bfloat16 *__restrict__ o,
                         float *__restrict__ lse, int sq, int skv, float scale) {
    extern __shared__ __align__(128) __nv_bfloat16 smem[];
    __nv_bfloat16 *sQ = smem;                               // BM x HD
    __nv_bfloat16 *sK = sQ + BM * HD;                       // BN x HD
    __nv_bfloat16 *sV = sK + BN * HD;                       // BN x HD
    float *sS = reinterpret_cast<float *>(sV + BN * HD);    // BM x SP: the scaled scores, then P
    float *sFactor = sS + BM * SP;                          // BM: each row's rescale; at the end 1 / l

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int g = lane / 4, t = lane % 4;
    const int m0 = blockIdx.x * BM;
    const int offset = skv - sq;              // row i sees keys j <= i + offset when causal
    const size_t bh = blockIdx.y;
    const __nv_bfloat16 *qh = q + bh * sq * HD, *kh = k + bh * skv * HD, *vh = v + bh * skv * HD;

    // Keys this block needs: all, or (causal) up to the last visible key of its last row.
    int n_end = skv;
    if (CAUSAL) n_end = min(skv, max(0, m0 + BM + offset));
    const int n_tiles = (n_end + BN - 1) / BN;

    load_tile<HD, BM, THREADS>(sQ, qh, m0, sq);
    cp_async_commit();

    float acc_o[MT][HD / 8][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < HD / 8; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc_o[mt][nt][e] = 0.0f;
    // The softmax state of one row, the warp's row `lane`, kept by this lane alone.
    const int warp_row0 = warp * 32;
    const int my_row = warp_row0 + lane;
    float row_max = -INFINITY, row_sum = 0.0f;

    for (int j = 0; j < n_tiles; j++) {
        const int n0 = j * BN;
        load_tile<HD, BN, THREADS>(sK, kh, n0, skv);
        load_tile<HD, BN, THREADS>(sV, vh, n0, skv);
        cp_async_commit();
        cp_async_wait<0>();    // this thread's copies of the tile (and, the first time, of Q) have landed
        __syncthreads();       // ... and everyone's

        // ---- S = Q K^T ----
        float acc_s[MT][NT][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int nt = 0; nt < NT; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) acc_s[mt][nt][e] = 0.0f;
        // TODO 1, S = Q K^T: for each k-step ks (16 columns of HD), load this warp's two Q fragments
        //   a[mt] with ldmatrix_x4 (rows warp_row0 + mt*16 + (lane & 15), columns ks*16 + (lane >> 4)*8),
        //   then for each pair np of n8 tiles the K fragment b with ldmatrix_x4: key np*16 + (lane & 7) +
        //   ((lane >> 4) << 3), columns ks*16 + ((lane >> 3) & 1)*8; registers b[0..1] are n-tile 2np,
        //   b[2..3] n-tile 2np+1. Addresses inside a tile: swz<HD>(row, col), through smem_u32. Then
        //   mma_bf16_16816(acc_s[mt][2np], a[mt], b) and (acc_s[mt][2np+1], a[mt], b + 2).
        //   Why: ldmatrix takes the row addresses of its matrix lane / 8 from 8 lanes. Q: lanes 0-15 name
        //   rows 0-15 at k 0-7 (a[0], a[1]), lanes 16-31 at k 8-15. K: bit 0 of lane / 8 is the k half
        //   (b[0], b[1]), bit 1 the n-tile; K [key][dim] already pairs values along k, as B's "col" wants.

        // ---- S, scaled, into this warp's rows of sS; -inf for keys past the end and (causal) keys
        // after the row's own position ----
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int nt = 0; nt < NT; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    // The m16n8 accumulator: element e of lane (g, t) is row g + 8 (e / 2), column 2t + e % 2.
                    const int row = warp_row0 + mt * 16 + g + 8 * (e >> 1), col = nt * 8 + 2 * t + (e & 1);
                    const int key = n0 + col;
                    const bool masked = key >= skv || (CAUSAL && key > m0 + row + offset);
                    sS[row * SP + col] = masked ? -INFINITY : acc_s[mt][nt][e] * scale;
                }
        __syncwarp();          // the warp's rows of sS are written: each lane now reads a whole row

        // TODO 2, the online softmax of row my_row, which this lane alone owns (as in session 08): the
        //   row is s = sS + my_row * SP, its BN values already scaled, -INFINITY where masked. The new
        //   max mx = max(row_max, every s[c]); base = mx, or 0 while mx is still -INFINITY (a row that has
        //   seen only masked keys: exp(-inf - -inf) would be NaN); rescale = expf(row_max - base); each
        //   s[c] becomes p = expf(s[c] - base), in place; row_sum = row_sum * rescale + the sum of the p;
        //   row_max = mx; and sFactor[my_row] = rescale, for the lanes that hold this row's acc_o.
        __syncwarp();          // P and the rescales are written: each lane reads its fragments' rows

        // TODO 3, O = O * rescale + P V. First multiply acc_o[mt][nt][2h] and [2h+1] (row warp_row0 +
        //   mt*16 + g + 8h) by that row's sFactor. Then for each k-step ks (16 keys) build P's A fragment
        //   a[mt] from sS, rounded to BF16 with pack_bf16x2(lo, hi): with p = sS + (warp_row0 + mt*16 +
        //   g) * SP + ks*16 + 2t, a[0] = (p[0], p[1]), a[1] = (p[8*SP], p[8*SP+1]), a[2] = (p[8], p[9]),
        //   a[3] = (p[8*SP+8], p[8*SP+9]); and for each pair np of n8 tiles (columns of HD) the V fragment
        //   b by ldmatrix_x4_trans at key ks*16 + (lane & 7) + (((lane >> 3) & 1) << 3), column
        //   np*16 + (lane >> 4)*8; then mma_bf16_16816 into acc_o[mt][2np] (b) and acc_o[mt][2np+1] (b + 2).
        //   Why: a[0..3] are A's (row g, k 2t, 2t+1), (row g+8, k 2t..), (row g, k 2t+8..), (row g+8,
        //   k 2t+8..) (the table in mma_ptx.cuh). V: bit 0 of lane / 8 picks keys 0-7 or 8-15 (b[0], b[1]),
        //   bit 1 the n-tile; .trans because V [key][dim] has columns, not k, side by side.
        __syncthreads();       // every warp is done with this K and V tile: the next may overwrite it
    }
    cp_async_wait<0>();
    __syncthreads();   // with no key tile at all, other threads' copies of Q may still be landing

    // ---- finish: the log-sum-exp and 1 / l by the lane that owns the row, O / l staged through this
    // warp's rows of sQ for 16-byte stores ----
    sFactor[my_row] = row_sum > 0.0f ? 1.0f / row_sum : 0.0f;
    if (m0 + my_row < sq) lse[bh * sq + m0 + my_row] = row_sum > 0.0f ? row_max + logf(row_sum) : -INFINITY;
    __syncwarp();
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int r = warp_row0 + mt * 16 + g + 8 * h;
            const float inv = sFactor[r];
#pragma unroll
            for (int nt = 0; nt < HD / 8; nt++) {
                uint32_t packed = pack_bf16x2(acc_o[mt][nt][2 * h] * inv, acc_o[mt][nt][2 * h + 1] * inv);
                *reinterpret_cast<uint32_t *>(sQ + swz<HD>(r, nt * 8 + 2 * t)) = packed;
            }
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
    const int smem = (BM + 2 * BN) * HD * (int)sizeof(__nv_bfloat16) + (BM * SP + BM) * (int)sizeof(float);
    cudaFuncSetAttribute(flash_forward_mma_kernel<HD, CAUSAL>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    dim3 grid((sq + BM - 1) / BM, batch * heads);
    const float scale = 1.0f / sqrtf((float)HD);
    flash_forward_mma_kernel<HD, CAUSAL><<<grid, THREADS, smem, stream>>>(
        (const __nv_bfloat16 *)q, (const __nv_bfloat16 *)k, (const __nv_bfloat16 *)v, (__nv_bfloat16 *)o,
        lse, sq, skv, scale);
}

void flash_forward_mma(const uint16_t *q, const uint16_t *k, const uint16_t *v, uint16_t *o, float *lse,
                       int batch, int heads, int sq, int skv, int head_dim, int causal, cudaStream_t stream) {
    if (!flash_shape_supported(head_dim, "flash_forward_mma")) return;
    FLASH_DISPATCH(head_dim, causal, launch, q, k, v, o, lse, batch, heads, sq, skv, stream);
}
