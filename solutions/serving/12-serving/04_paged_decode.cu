// Session 12, exercise 4 (solution): decode attention over a paged KV cache (PagedAttention), grouped heads.
//
// One block per (sequence, KV head): its GT query heads share every key and value it reads, which
// is what grouped-query attention saves (the K/V traffic is Hq / Hkv times smaller than with a block
// per query head). The block's WARPS warps deal the sequence's pages among themselves (warp w takes
// pages w, w + WARPS, ...). For each page a warp:
//   1. looks its block up in the table and has cp.async bring the page's keys and values into its
//      own STAGES-deep ring in shared memory (STAGES - 1 pages ahead of the one it works on);
//   2. computes the scores of the page's 16 tokens for its GT heads: each lane holds 8 elements of
//      a key, multiplies them by the same 8 of each query, and the lanes of a token sum with shuffles;
//   3. folds the page into its running max m, sum l and output acc (the online softmax), with
//      P V from the page's values in the same layout.
// At the end the warps' (m, l, acc) are merged through shared memory, the way split-K's partial
// sums are. Scores are kept in log2 units (the query is pre-multiplied by scale * log2 e), so every
// exp is one ex2.
#include <cuda_bf16.h>
#include <math.h>
#include <stdint.h>

#include "exercises.h"
#include "paged_given.cuh"

#define WARPS 4
#define THREADS (WARPS * 32)
#define STAGES 3

// Shared memory: the warps' rings while walking pages, then (reused) the merge's per-warp state.
template <int D, int GT> constexpr int smem_bytes() {
    constexpr int rings = WARPS * STAGES * 2 * PageLayout<D>::PAGE_ELEMS * 2;
    constexpr int merge = (2 * WARPS * GT + WARPS * GT * D) * 4;
    return rings > merge ? rings : merge;
}

template <int D, int GT>
__global__ void __launch_bounds__(THREADS)
paged_decode_kernel(const __nv_bfloat16 *__restrict__ q, const __nv_bfloat16 *__restrict__ k_cache,
                    const __nv_bfloat16 *__restrict__ v_cache, const int *__restrict__ block_table,
                    const int *__restrict__ seq_len, int max_blocks, float scale, __nv_bfloat16 *__restrict__ out,
                    int hq, int hkv) {
    using L = PageLayout<D>;
    extern __shared__ __align__(16) unsigned char smem[];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int b = blockIdx.y, h0 = blockIdx.x * GT, kvh = h0 / (hq / hkv);
    const int len = seq_len[b], pages = (len + PAGE_TOKENS - 1) / PAGE_TOKENS;
    const int row = lane / L::LANES_PER_TOKEN;   // which token of a step this lane's 8 elements belong to
    const int part = lane % L::LANES_PER_TOKEN;  // which 8 elements of it: 8 * part .. 8 * part + 7
    const int *table = block_table + (size_t)b * max_blocks;
    __nv_bfloat16 *ring = reinterpret_cast<__nv_bfloat16 *>(smem) + warp * STAGES * 2 * L::PAGE_ELEMS;

    // This lane's 8 elements of each query head, scaled so that scores come out in log2 units.
    float qf[GT][8];
#pragma unroll
    for (int h = 0; h < GT; h++) {
        bf16x8_to_float(*reinterpret_cast<const uint4 *>(q + ((size_t)b * hq + h0 + h) * D + part * 8), qf[h]);
#pragma unroll
        for (int j = 0; j < 8; j++) qf[h][j] *= scale * LOG2E;
    }
    float m[GT], l[GT], acc[GT][8];
#pragma unroll
    for (int h = 0; h < GT; h++) {
        m[h] = -INFINITY;
        l[h] = 0.0f;
#pragma unroll
        for (int j = 0; j < 8; j++) acc[h][j] = 0.0f;
    }

    // This warp's pages: warp, warp + WARPS, ...; its i-th lives in ring slot i % STAGES.
    const int my_pages = pages > warp ? (pages - warp + WARPS - 1) / WARPS : 0;
    auto stage = [&](int i) {
        const size_t at = ((size_t)table[warp + i * WARPS] * hkv + kvh) * L::PAGE_ELEMS;
        __nv_bfloat16 *slot = ring + (i % STAGES) * 2 * L::PAGE_ELEMS;
        stage_page<D>(slot, slot + L::PAGE_ELEMS, k_cache + at, v_cache + at, lane);
    };
#pragma unroll
    for (int i = 0; i < STAGES - 1; i++) {
        if (i < my_pages) stage(i);
        cp_async_commit();  // an empty group when there is no page: the wait counts stay in step
    }

    for (int i = 0; i < my_pages; i++) {
        // The slot refilled now held page i - 1, which only this lane's own loads (done) read.
        if (i + STAGES - 1 < my_pages) stage(i + STAGES - 1);
        cp_async_commit();
        cp_async_wait<STAGES - 1>();  // page i's group has landed
        const uint4 *pk = reinterpret_cast<const uint4 *>(ring + (i % STAGES) * 2 * L::PAGE_ELEMS);
        const uint4 *pv = pk + L::PAGE_ELEMS / 8;
        const int t0 = (warp + i * WARPS) * PAGE_TOKENS + row;  // this lane's token of step 0

        float s[L::STEPS][GT];
#pragma unroll
        for (int st = 0; st < L::STEPS; st++) {
            float kf[8];
            bf16x8_to_float(pk[st * 32 + lane], kf);
#pragma unroll
            for (int h = 0; h < GT; h++) {
                float dot = 0.0f;
#pragma unroll
                for (int j = 0; j < 8; j++) dot = fmaf(qf[h][j], kf[j], dot);
                s[st][h] = dot;
            }
        }
#pragma unroll
        for (int st = 0; st < L::STEPS; st++)
#pragma unroll
            for (int h = 0; h < GT; h++) {
#pragma unroll
                for (int off = 1; off < L::LANES_PER_TOKEN; off <<= 1)
                    s[st][h] += __shfl_xor_sync(0xffffffffu, s[st][h], off);
                if (t0 + st * L::TOKENS_PER_STEP >= len) s[st][h] = -INFINITY;  // past the sequence's end
            }

#pragma unroll
        for (int h = 0; h < GT; h++) {
            float mx = s[0][h];
#pragma unroll
            for (int st = 1; st < L::STEPS; st++) mx = fmaxf(mx, s[st][h]);
#pragma unroll
            for (int off = L::LANES_PER_TOKEN; off < 32; off <<= 1)
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
            const float m_new = fmaxf(m[h], mx);  // finite: a page's first token is always in the sequence
            const float alpha = fast_exp2(m[h] - m_new);
            m[h] = m_new;
            l[h] *= alpha;
#pragma unroll
            for (int j = 0; j < 8; j++) acc[h][j] *= alpha;
        }
#pragma unroll
        for (int st = 0; st < L::STEPS; st++) {
            if (t0 + st * L::TOKENS_PER_STEP >= len) continue;  // never let a slot past the end in, even times 0
            float vf[8];
            bf16x8_to_float(pv[st * 32 + lane], vf);
#pragma unroll
            for (int h = 0; h < GT; h++) {
                const float p = fast_exp2(s[st][h] - m[h]);
                l[h] += p;
#pragma unroll
                for (int j = 0; j < 8; j++) acc[h][j] = fmaf(p, vf[j], acc[h][j]);
            }
        }
    }
    cp_async_wait<0>();

    // The warp's lanes of one `part` hold sums over different tokens: add them up.
#pragma unroll
    for (int h = 0; h < GT; h++)
#pragma unroll
        for (int off = L::LANES_PER_TOKEN; off < 32; off <<= 1) {
            l[h] += __shfl_xor_sync(0xffffffffu, l[h], off);
#pragma unroll
            for (int j = 0; j < 8; j++) acc[h][j] += __shfl_xor_sync(0xffffffffu, acc[h][j], off);
        }

    // Merge the warps: out = sum_w 2^(m_w - M) acc_w / sum_w 2^(m_w - M) l_w, M the largest m_w.
    // A warp that had no page has m = -inf and adds 0 (warp 0 always has page 0).
    float *wm = reinterpret_cast<float *>(smem), *wl = wm + WARPS * GT, *wacc = wl + WARPS * GT;
    __syncthreads();  // every warp is done with its ring
    if (lane < L::LANES_PER_TOKEN)
#pragma unroll
        for (int h = 0; h < GT; h++)
#pragma unroll
            for (int j = 0; j < 8; j++) wacc[(warp * GT + h) * D + part * 8 + j] = acc[h][j];
    if (lane == 0)
#pragma unroll
        for (int h = 0; h < GT; h++) {
            wm[warp * GT + h] = m[h];
            wl[warp * GT + h] = l[h];
        }
    __syncthreads();
    for (int i = threadIdx.x; i < GT * D; i += THREADS) {
        const int h = i / D, x = i % D;
        float big = -INFINITY, sum = 0.0f, o = 0.0f;
#pragma unroll
        for (int w = 0; w < WARPS; w++) big = fmaxf(big, wm[w * GT + h]);
#pragma unroll
        for (int w = 0; w < WARPS; w++) {
            const float weight = wm[w * GT + h] == -INFINITY ? 0.0f : fast_exp2(wm[w * GT + h] - big);
            sum += weight * wl[w * GT + h];
            o += weight * wacc[(w * GT + h) * D + x];
        }
        out[((size_t)b * hq + h0 + h) * D + x] = __float2bfloat16(sum > 0.0f ? o / sum : 0.0f);
    }
}

template <int D, int GT>
static void launch(const uint16_t *q, const uint16_t *k_cache, const uint16_t *v_cache, const int *block_table,
                   const int *seq_len, int max_blocks, float scale, uint16_t *out, int batch, int hq, int hkv,
                   cudaStream_t stream) {
    constexpr int smem = smem_bytes<D, GT>();
    cudaFuncSetAttribute(paged_decode_kernel<D, GT>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    paged_decode_kernel<D, GT><<<dim3(hq / GT, batch), THREADS, smem, stream>>>(
        (const __nv_bfloat16 *)q, (const __nv_bfloat16 *)k_cache, (const __nv_bfloat16 *)v_cache, block_table, seq_len,
        max_blocks, scale, (__nv_bfloat16 *)out, hq, hkv);
}

void paged_decode(const uint16_t *q, const uint16_t *k_cache, const uint16_t *v_cache, const int *block_table,
                  const int *seq_len, int max_blocks, float scale, uint16_t *out, int B, int Hq, int Hkv, int D,
                  cudaStream_t stream) {
    if (B < 1 || !paged_shape_supported(D, Hq, Hkv, "paged_decode")) return;
    PAGED_DISPATCH(D, heads_per_block(Hq, Hkv), launch, q, k_cache, v_cache, block_table, seq_len, max_blocks, scale,
                   out, B, Hq, Hkv, stream);
}
