// Session 09, exercise 2 (solution): FlashAttention forward on tensor cores, the plain version.
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
        for (int ks = 0; ks < HD / 16; ks++) {
            uint32_t a[MT][4];
            for (int mt = 0; mt < MT; mt++)
                ldmatrix_x4(a[mt], smem_u32(sQ + swz<HD>(warp_row0 + mt * 16 + (lane & 15), ks * 16 + (lane >> 4) * 8)));
            for (int np = 0; np < NT / 2; np++) {
                uint32_t b[4];
                int key = np * 16 + (lane & 7) + ((lane >> 4) << 3);
                ldmatrix_x4(b, smem_u32(sK + swz<HD>(key, ks * 16 + ((lane >> 3) & 1) * 8)));
                for (int mt = 0; mt < MT; mt++) {
                    mma_bf16_16816(acc_s[mt][2 * np], a[mt], b);
                    mma_bf16_16816(acc_s[mt][2 * np + 1], a[mt], b + 2);
                }
            }
        }

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

        // ---- online softmax, one row a lane ----
        {
            float *s = sS + my_row * SP;
            float mx = row_max;
            for (int c = 0; c < BN; c++) mx = fmaxf(mx, s[c]);
            // A row that has seen only masked keys keeps max -inf; subtract 0 instead, so that
            // exp(-inf - -inf) never makes a NaN.
            const float base = mx == -INFINITY ? 0.0f : mx;
            const float rescale = expf(row_max - base);
            float sum = 0.0f;
            for (int c = 0; c < BN; c++) {
                const float p = expf(s[c] - base);
                s[c] = p;
                sum += p;
            }
            row_sum = row_sum * rescale + sum;
            row_max = mx;
            sFactor[my_row] = rescale;
        }
        __syncwarp();          // P and the rescales are written: each lane reads its fragments' rows

        // ---- O = O * rescale + P V ----
        for (int mt = 0; mt < MT; mt++)
            for (int h = 0; h < 2; h++) {
                const float rescale = sFactor[warp_row0 + mt * 16 + g + 8 * h];
                for (int nt = 0; nt < HD / 8; nt++) {
                    acc_o[mt][nt][2 * h] *= rescale;
                    acc_o[mt][nt][2 * h + 1] *= rescale;
                }
            }
        for (int ks = 0; ks < BN / 16; ks++) {
            uint32_t a[MT][4];
            for (int mt = 0; mt < MT; mt++) {
                const float *p = sS + (warp_row0 + mt * 16 + g) * SP + ks * 16 + 2 * t;
                a[mt][0] = pack_bf16x2(p[0], p[1]);
                a[mt][1] = pack_bf16x2(p[8 * SP], p[8 * SP + 1]);
                a[mt][2] = pack_bf16x2(p[8], p[9]);
                a[mt][3] = pack_bf16x2(p[8 * SP + 8], p[8 * SP + 9]);
            }
            for (int np = 0; np < HD / 16; np++) {
                uint32_t b[4];
                int key = ks * 16 + (lane & 7) + (((lane >> 3) & 1) << 3);
                ldmatrix_x4_trans(b, smem_u32(sV + swz<HD>(key, np * 16 + (lane >> 4) * 8)));
                for (int mt = 0; mt < MT; mt++) {
                    mma_bf16_16816(acc_o[mt][2 * np], a[mt], b);
                    mma_bf16_16816(acc_o[mt][2 * np + 1], a[mt], b + 2);
                }
            }
        }
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
