// Session 09, exercise 4: FlashAttention forward the Hopper way, wgmma, TMA, warp specialisation (solution)
//
// One block of three warpgroups owns BM = 128 query rows of one (batch, head) and walks the keys in
// tiles of BN = 128:
//   warpgroup 0, the producer, gives most of its registers back (setmaxnreg) and one of its threads
//     issues TMA copies: Q once, then each tile of K and of V into a ring of STAGES stages. Each
//     stage has a "full" mbarrier (TMA completes it when the bytes have landed) and an "empty" one
//     (every consumer warp arrives once its wgmmas are done reading the stage);
//   warpgroups 1 and 2, the consumers, take those registers and own 64 query rows each:
//     S = Q K^T    wgmma m64n128k16, Q and K from shared memory (K-major, 128-byte swizzle);
//     mask, online softmax in the S registers (a row's values in the 4 lanes of a quad; exp2 with
//                  the scale folded in);
//     O += P V     wgmma m64nHDk16 with A = P from registers: the FP32 S accumulators of keys
//                  16k .. 16k+15, rounded to BF16 two a register, are exactly the A fragment of
//                  k-step k. B = V from shared memory, as stored ([key][dim]: N = dim runs along
//                  the rows, "MN-major"), through the transposed-B form of wgmma.
// The overlap: in iteration j a consumer issues S_j = Q K_j^T, then O += P_{j-1} V_{j-1}, then waits
// for S_j alone (wgmma.wait_group 1) and runs the softmax of tile j while the tensor cores still
// work on P_{j-1} V_{j-1}; only then does it wait for that product, rescale O and turn S_j into P_j.
//
// Shared memory (head dim 128): Q 32 KB, K and V 2 stages x 32 KB each: 160 KB, one block an SM.
// Each tile of 64 columns is one TMA box of 128 rows x 128 bytes, 128-byte swizzled.
#include <cuda_bf16.h>
#include <math.h>
#include <stdint.h>

#include "exercises.h"
#include "flash_hopper_given.cuh"

#define BM 128                 // query rows a block: two consumer warpgroups of 64
#define BN 128                 // keys a tile
#define STAGES 2               // K and V tiles in flight
#define THREADS 384            // the producer warpgroup, then two consumers
#define ROW_BYTES 128          // one swizzled row: 64 BF16

template <int HD> struct Tiles {
    static constexpr int Q_BYTES = BM * HD * 2;        // HD / 64 boxes of BM x 64
    static constexpr int KV_BYTES = BN * HD * 2;       // one stage of K or V: HD / 64 boxes of BN x 64
    static constexpr int SMEM = Q_BYTES + 2 * STAGES * KV_BYTES + 1024;  // + the 1024-byte alignment
};

// S (64 x BN) = Q (this warpgroup's 64 rows) K_j^T: HD / 16 k-steps, 4 in each 64-column box.
template <int HD>
__device__ __forceinline__ void qk_product(float (&s)[BN / 2], const uint8_t *q_rows, const uint8_t *k_tile) {
#pragma unroll
    for (int k = 0; k < HD / 16; k++) {
        const uint64_t a = sw128_desc(q_rows + (k / 4) * BM * ROW_BYTES) + 2 * (k % 4);
        const uint64_t b = sw128_desc(k_tile + (k / 4) * BN * ROW_BYTES) + 2 * (k % 4);
        wgmma_m64n128k16(s, a, b, k > 0);
    }
}

// The MN-major descriptor of V's tile (rows of 64 dims, 128 bytes, 128-byte swizzled): 8-key groups
// (the K side of P V) are 1024 bytes apart (stride offset); the box of dims 64..127 (the next 64 of N)
// starts `box_bytes` after the first (leading offset).
__device__ __forceinline__ uint64_t sw128_desc_mn(const void *tile, uint32_t box_bytes) {
    uint64_t desc = 0;
    desc |= (uint64_t)((smem_addr(tile) & 0x3FFFF) >> 4);  // start address / 16
    desc |= (uint64_t)((box_bytes >> 4) & 0x3FFF) << 16;   // leading offset: from N 0..63 to N 64..127
    desc |= (uint64_t)(1024 >> 4) << 32;                   // stride offset: from keys 0..7 to keys 8..15
    desc |= (uint64_t)1 << 62;                             // 128-byte swizzle
    return desc;
}

// O (64 x HD) += P (64 x BN, registers) V_j (BN x HD): BN / 16 k-steps of 16 keys (2048 bytes of rows).
template <int HD>
__device__ __forceinline__ void pv_product(float (&o)[HD / 2], const uint32_t (&p)[BN / 4], const uint8_t *v_tile) {
#pragma unroll
    for (int k = 0; k < BN / 16; k++)
        wgmma_pv<HD>(o, &p[4 * k], sw128_desc_mn(v_tile + k * 16 * ROW_BYTES, BN * ROW_BYTES));
}

template <int HD, bool CAUSAL>
__global__ void __launch_bounds__(THREADS, 1)
flash_wgmma_kernel(const __grid_constant__ CUtensorMap q_map, const __grid_constant__ CUtensorMap k_map,
                   const __grid_constant__ CUtensorMap v_map, __nv_bfloat16 *__restrict__ o,
                   float *__restrict__ lse, int sq, int skv, float scale_log2) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)  // wgmma and setmaxnreg: sm_90a only (elsewhere an empty kernel)
    using T = Tiles<HD>;
    extern __shared__ uint8_t smem_raw[];
    uint8_t *sQ = smem_raw + ((1024 - (smem_addr(smem_raw) & 1023)) & 1023);  // the swizzle's 1024-byte boundary
    uint8_t *sK = sQ + T::Q_BYTES, *sV = sK + STAGES * T::KV_BYTES;
    __shared__ __align__(8) uint64_t q_full, k_full[STAGES], k_empty[STAGES], v_full[STAGES], v_empty[STAGES];

    // Causal blocks near the end of Q have the most keys: start them first.
    const int m_block = CAUSAL ? gridDim.x - 1 - blockIdx.x : blockIdx.x;
    const int m0 = m_block * BM, slice = blockIdx.y;
    const int offset = skv - sq;  // row i sees keys j <= i + offset when causal
    int n_end = skv;              // keys this block needs: all, or up to the last row's last visible key
    if (CAUSAL) n_end = min(skv, max(0, m0 + BM + offset));
    const int n_tiles = (n_end + BN - 1) / BN;
    const int wg = threadIdx.x / 128, tid = threadIdx.x % 128;

    if (threadIdx.x == 0) {
        mbar_init(&q_full, 1);
        for (int s = 0; s < STAGES; s++) {
            mbar_init(&k_full[s], 1);
            mbar_init(&v_full[s], 1);
            mbar_init(&k_empty[s], 8);  // every warp of both consumers
            mbar_init(&v_empty[s], 8);
        }
        mbar_fence_init();
    }
    __syncthreads();

    if (wg == 0) {  // ---- the producer ----
        regs_release<24>();
        if (tid == 0 && n_tiles > 0) {
            mbar_arrive_expect_tx(&q_full, T::Q_BYTES);
#pragma unroll
            for (int b = 0; b < HD / 64; b++) tma_load_3d(sQ + b * BM * ROW_BYTES, &q_map, &q_full, slice, m0, 64 * b);
            for (int j = 0; j < n_tiles; j++) {
                const int s = j % STAGES;
                const uint32_t parity = ((j / STAGES) & 1) ^ 1;  // a new barrier counts as completed once
                mbar_wait(&k_empty[s], parity);
                mbar_arrive_expect_tx(&k_full[s], T::KV_BYTES);
#pragma unroll
                for (int b = 0; b < HD / 64; b++)
                    tma_load_3d(sK + s * T::KV_BYTES + b * BN * ROW_BYTES, &k_map, &k_full[s], slice, j * BN, 64 * b);
                mbar_wait(&v_empty[s], parity);
                mbar_arrive_expect_tx(&v_full[s], T::KV_BYTES);
#pragma unroll
                for (int b = 0; b < HD / 64; b++)
                    tma_load_3d(sV + s * T::KV_BYTES + b * BN * ROW_BYTES, &v_map, &v_full[s], slice, j * BN, 64 * b);
            }
        }
    } else {  // ---- a consumer: rows 64 c .. 64 c + 63 of the block ----
        regs_claim<240>();
        const int c = wg - 1, warp = tid / 32, lane = tid % 32, t = lane % 4;
        const int row0 = m0 + 64 * c + 16 * warp + lane / 4;  // this thread's rows: row0 and row0 + 8
        const uint8_t *q_rows = sQ + 64 * c * ROW_BYTES;
        float acc_o[HD / 2], acc_s[BN / 2];
        uint32_t p[BN / 4];
        float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.0f, 0.0f};
#pragma unroll
        for (int i = 0; i < HD / 2; i++) acc_o[i] = 0.0f;
        if (n_tiles > 0) mbar_wait(&q_full, 0);

        for (int j = 0; j < n_tiles; j++) {
            const int s = j % STAGES, sp = (j + STAGES - 1) % STAGES, n0 = j * BN;
            mbar_wait(&k_full[s], (j / STAGES) & 1);
            wgmma_fence();  // P, O and S were written by plain code since the last wgmma
            qk_product<HD>(acc_s, q_rows, sK + s * T::KV_BYTES);
            wgmma_commit();
            if (j > 0) {    // O += P_{j-1} V_{j-1} runs behind this tile's softmax
                mbar_wait(&v_full[sp], ((j - 1) / STAGES) & 1);
                pv_product<HD>(acc_o, p, sV + sp * T::KV_BYTES);
                wgmma_commit();
                wgmma_wait<1>();  // S_j is done; P V may still run
            } else {
                wgmma_wait<0>();
            }
            wgmma_hold(acc_s);
            if (lane == 0) mbar_arrive(&k_empty[s]);  // this warp is done reading K_j

            // ---- mask: keys past the end, and (causal) keys after the row's own position ----
            const bool partial = n0 + BN > skv;
            const bool diagonal = CAUSAL && n0 + BN - 1 > m0 + 64 * c + offset;
            if (partial || diagonal) {
#pragma unroll
                for (int i = 0; i < BN / 8; i++)
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        const int key = n0 + 8 * i + 2 * t + (e & 1), row = row0 + 8 * (e >> 1);
                        if (key >= skv || (CAUSAL && key > row + offset)) acc_s[4 * i + e] = -INFINITY;
                    }
            }

            // ---- online softmax: rows row0 (h = 0) and row0 + 8 (h = 1), each over a quad ----
            float rescale[2];
#pragma unroll
            for (int h = 0; h < 2; h++) {
                float m[BN / 16];
#pragma unroll
                for (int i = 0; i < BN / 16; i++)
                    m[i] = fmaxf(fmaxf(acc_s[8 * i + 2 * h], acc_s[8 * i + 2 * h + 1]),
                                 fmaxf(acc_s[8 * i + 4 + 2 * h], acc_s[8 * i + 5 + 2 * h]));
#pragma unroll
                for (int w = BN / 32; w >= 1; w /= 2)
#pragma unroll
                    for (int i = 0; i < w; i++) m[i] = fmaxf(m[i], m[i + w]);
                float mx = fmaxf(row_max[h], m[0]);
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                // A row that has seen only masked keys keeps max -inf: subtract 0 then, not -inf.
                const float base = mx == -INFINITY ? 0.0f : mx * scale_log2;
                rescale[h] = fast_exp2(row_max[h] * scale_log2 - base);
                row_max[h] = mx;
                float sum[BN / 16];
#pragma unroll
                for (int i = 0; i < BN / 8; i++)
#pragma unroll
                    for (int e = 0; e < 2; e++) {
                        const float pv = fast_exp2(fmaf(acc_s[4 * i + 2 * h + e], scale_log2, -base));
                        acc_s[4 * i + 2 * h + e] = pv;
                        if (i < BN / 16 && e == 0) sum[i] = pv;
                        else sum[i % (BN / 16)] += pv;
                    }
#pragma unroll
                for (int w = BN / 32; w >= 1; w /= 2)
#pragma unroll
                    for (int i = 0; i < w; i++) sum[i] += sum[i + w];
                row_sum[h] = row_sum[h] * rescale[h] + sum[0];  // this thread's columns only
            }

            wgmma_wait<0>();  // P_{j-1} V_{j-1} is done: O and P may be touched
            wgmma_hold(acc_o);
            wgmma_hold(acc_s);
            if (j > 0 && lane == 0) mbar_arrive(&v_empty[sp]);
#pragma unroll
            for (int i = 0; i < HD / 8; i++) {
                acc_o[4 * i] *= rescale[0];
                acc_o[4 * i + 1] *= rescale[0];
                acc_o[4 * i + 2] *= rescale[1];
                acc_o[4 * i + 3] *= rescale[1];
            }
            // ---- P: S accumulators 2i and 2i+1 are register i of P's A fragments (k-step i / 4) ----
#pragma unroll
            for (int i = 0; i < BN / 4; i++) p[i] = pack_bf16x2(acc_s[2 * i], acc_s[2 * i + 1]);
        }
        if (n_tiles > 0) {  // the last tile's P V
            const int s = (n_tiles - 1) % STAGES;
            mbar_wait(&v_full[s], ((n_tiles - 1) / STAGES) & 1);
            wgmma_fence();
            pv_product<HD>(acc_o, p, sV + s * T::KV_BYTES);
            wgmma_commit();
            wgmma_wait<0>();
            wgmma_hold(acc_o);
        }

        // ---- finish: the quad's sums, O / l, the log-sum-exp; rows past sq are not written ----
        const float scale = scale_log2 * 0.69314718055994531f;  // back to natural-log units
        const size_t row_base = (size_t)slice * sq;
#pragma unroll
        for (int h = 0; h < 2; h++) {
            float l = row_sum[h];
            l += __shfl_xor_sync(0xffffffffu, l, 1);
            l += __shfl_xor_sync(0xffffffffu, l, 2);
            const float inv = l > 0.0f ? 1.0f / l : 0.0f;
            const int row = row0 + 8 * h;
            if (row < sq) {
                __nv_bfloat16 *orow = o + (row_base + row) * HD + 2 * t;
#pragma unroll
                for (int i = 0; i < HD / 8; i++)
                    *reinterpret_cast<uint32_t *>(orow + 8 * i) =
                        pack_bf16x2(acc_o[4 * i + 2 * h] * inv, acc_o[4 * i + 2 * h + 1] * inv);
                if (t == 0) lse[row_base + row] = l > 0.0f ? row_max[h] * scale + logf(l) : -INFINITY;
            }
        }
    }
#endif
}

template <int HD, bool CAUSAL>
static void launch(const uint16_t *q, const uint16_t *k, const uint16_t *v, uint16_t *o, float *lse, int batch,
                   int heads, int sq, int skv, cudaStream_t stream) {
    const int slices = batch * heads;
    CUtensorMap q_map, k_map, v_map;
    if (tma_map_heads(&q_map, q, slices, sq, HD, BM) || tma_map_heads(&k_map, k, slices, skv, HD, BN) ||
        tma_map_heads(&v_map, v, slices, skv, HD, BN))
        return;
    cudaFuncSetAttribute(flash_wgmma_kernel<HD, CAUSAL>, cudaFuncAttributeMaxDynamicSharedMemorySize, Tiles<HD>::SMEM);
    const dim3 grid((sq + BM - 1) / BM, slices);
    const float scale_log2 = 1.4426950408889634f / sqrtf((float)HD);
    flash_wgmma_kernel<HD, CAUSAL><<<grid, THREADS, Tiles<HD>::SMEM, stream>>>(q_map, k_map, v_map,
                                                                              (__nv_bfloat16 *)o, lse, sq, skv,
                                                                              scale_log2);
}

void flash_forward_wgmma(const uint16_t *q, const uint16_t *k, const uint16_t *v, uint16_t *o, float *lse, int batch,
                         int heads, int sq, int skv, int head_dim, int causal, cudaStream_t stream) {
    if (!flash_shape_supported(head_dim, "flash_forward_wgmma")) return;
    FLASH_DISPATCH(head_dim, causal, launch, q, k, v, o, lse, batch, heads, sq, skv, stream);
}
