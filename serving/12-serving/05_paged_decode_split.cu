// Session 12, exercise 5: flash-decoding, paged decode attention split along the context.
//
// 04 gives each (sequence, KV head) one block: at batch 1 that is 8 blocks for a GPU of 132 SMs,
// and the other 124 SMs sit idle while 8 of them stream 32768 tokens. Here the pages of a sequence
// are cut into splits of `per_split` contiguous pages, and each (split, sequence, KV head) is a
// block of its own:
//   1. the split kernel is 04's block on its split's pages only (given: your 04, solved); instead
//      of out it writes, per query head, the split's normalised output o_i and its log-sum-exp
//      lse_i = m_i + log2 l_i (log2 units, as the scores) to `work`;
//   2. the combine kernel, a warp per (sequence, query head), weighs the splits' outputs by
//      2^(lse_i - lse_max) / sum_j 2^(lse_j - lse_max): each split's share of the whole softmax.
//
// Yours: the split's pages, its partial result, the combine, and how many splits to make.
#include <cuda_bf16.h>
#include <math.h>
#include <stdint.h>

#include "exercises.h"
#include "paged_given.cuh"

#define WARPS 4
#define THREADS (WARPS * 32)
#define STAGES 3

// Shared memory: the warps' rings while walking pages, then (reused) the merge's per-warp state.
template <int D, int GT> constexpr int split_smem_bytes() {
    constexpr int rings = WARPS * STAGES * 2 * PageLayout<D>::PAGE_ELEMS * 2;
    constexpr int merge = (2 * WARPS * GT + WARPS * GT * D) * 4;
    return rings > merge ? rings : merge;
}

// work: the partial outputs, [b][h][split][D] floats, then the log-sum-exps, [b][h][split].
__device__ __forceinline__ size_t partial_at(int b, int h, int split, int hq, int d) {
    return (((size_t)b * hq + h) * SPLIT_MAX + split) * d;
}
__device__ __forceinline__ size_t lse_at(int b, int h, int split, int batch, int hq, int d) {
    return (size_t)batch * hq * SPLIT_MAX * d + ((size_t)b * hq + h) * SPLIT_MAX + split;
}

template <int D, int GT>
__global__ void __launch_bounds__(THREADS)
paged_split_kernel(const __nv_bfloat16 *__restrict__ q, const __nv_bfloat16 *__restrict__ k_cache,
                   const __nv_bfloat16 *__restrict__ v_cache, const int *__restrict__ block_table,
                   const int *__restrict__ seq_len, int max_blocks, float scale, int per_split,
                   float *__restrict__ work, int batch, int hq, int hkv) {
    using L = PageLayout<D>;
    extern __shared__ __align__(16) unsigned char smem[];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int split = blockIdx.x, b = blockIdx.z, h0 = blockIdx.y * GT, kvh = h0 / (hq / hkv);
    const int len = seq_len[b], pages = (len + PAGE_TOKENS - 1) / PAGE_TOKENS;
    int first = 0, last = 0;
    // TODO 1, this split's pages [first, last): split `split` of the sequence takes per_split
    //   consecutive pages, the last one fewer if the sequence ends sooner. The grid has splits for
    //   the longest sequence; a split that starts past this sequence's end returns at once (the
    //   combine counts ceil(pages / per_split) splits for it, and reads nothing else).
    const int row = lane / L::LANES_PER_TOKEN, part = lane % L::LANES_PER_TOKEN;
    const int *table = block_table + (size_t)b * max_blocks;
    __nv_bfloat16 *ring = reinterpret_cast<__nv_bfloat16 *>(smem) + warp * STAGES * 2 * L::PAGE_ELEMS;

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

    // This warp's pages: first + warp, first + warp + WARPS, ... below last.
    const int mine = last - first, my_pages = mine > warp ? (mine - warp + WARPS - 1) / WARPS : 0;
    auto stage = [&](int i) {
        const size_t at = ((size_t)table[first + warp + i * WARPS] * hkv + kvh) * L::PAGE_ELEMS;
        __nv_bfloat16 *slot = ring + (i % STAGES) * 2 * L::PAGE_ELEMS;
        stage_page<D>(slot, slot + L::PAGE_ELEMS, k_cache + at, v_cache + at, lane);
    };
#pragma unroll
    for (int i = 0; i < STAGES - 1; i++) {
        if (i < my_pages) stage(i);
        cp_async_commit();
    }

    for (int i = 0; i < my_pages; i++) {
        if (i + STAGES - 1 < my_pages) stage(i + STAGES - 1);
        cp_async_commit();
        cp_async_wait<STAGES - 1>();
        const uint4 *pk = reinterpret_cast<const uint4 *>(ring + (i % STAGES) * 2 * L::PAGE_ELEMS);
        const uint4 *pv = pk + L::PAGE_ELEMS / 8;
        const int t0 = (first + warp + i * WARPS) * PAGE_TOKENS + row;

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
                if (t0 + st * L::TOKENS_PER_STEP >= len) s[st][h] = -INFINITY;
            }
#pragma unroll
        for (int h = 0; h < GT; h++) {
            float mx = s[0][h];
#pragma unroll
            for (int st = 1; st < L::STEPS; st++) mx = fmaxf(mx, s[st][h]);
#pragma unroll
            for (int off = L::LANES_PER_TOKEN; off < 32; off <<= 1)
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
            const float m_new = fmaxf(m[h], mx);
            const float alpha = fast_exp2(m[h] - m_new);
            m[h] = m_new;
            l[h] *= alpha;
#pragma unroll
            for (int j = 0; j < 8; j++) acc[h][j] *= alpha;
        }
#pragma unroll
        for (int st = 0; st < L::STEPS; st++) {
            if (t0 + st * L::TOKENS_PER_STEP >= len) continue;
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

#pragma unroll
    for (int h = 0; h < GT; h++)
#pragma unroll
        for (int off = L::LANES_PER_TOKEN; off < 32; off <<= 1) {
            l[h] += __shfl_xor_sync(0xffffffffu, l[h], off);
#pragma unroll
            for (int j = 0; j < 8; j++) acc[h][j] += __shfl_xor_sync(0xffffffffu, acc[h][j], off);
        }

    float *wm = reinterpret_cast<float *>(smem), *wl = wm + WARPS * GT, *wacc = wl + WARPS * GT;
    __syncthreads();
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
    // The split's partial result: its output normalised by its own sum, and that sum's log2 (plus
    // the max it was taken against): all the combine needs.
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
        // TODO 2, the split's result for head h0 + h, element x: o / sum (normalised by its own sum)
        //   to work[partial_at(...) + x], and, once per head (x == 0), its log-sum-exp big + log2(sum)
        //   to work[lse_at(...)]: all the combine needs to weigh this split against the others.
    }
}

// One warp per (sequence, query head): out = sum_i w_i o_i with w_i = 2^(lse_i - M) / sum_j 2^(lse_j - M).
template <int D>
__global__ void __launch_bounds__(THREADS)
paged_combine_kernel(const float *__restrict__ work, const int *__restrict__ seq_len, int per_split,
                     __nv_bfloat16 *__restrict__ out, int batch, int hq) {
    const int lane = threadIdx.x % 32, r = blockIdx.x * WARPS + threadIdx.x / 32;
    if (r >= batch * hq) return;
    const int b = r / hq, h = r % hq;
    const int pages = (seq_len[b] + PAGE_TOKENS - 1) / PAGE_TOKENS, splits = (pages + per_split - 1) / per_split;
    const float *lse = work + lse_at(b, h, 0, batch, hq, D);
    float sum = 0.0f, o[D / 32];  // this lane's elements: lane, lane + 32, ...
#pragma unroll
    for (int j = 0; j < D / 32; j++) o[j] = 0.0f;
    // TODO 3, the combine: the largest lse of the sequence's splits (lanes take splits lane,
    //   lane + 32, ..., then a warp max by __shfl_xor_sync); then for each split i, its weight
    //   w = fast_exp2(lse[i] - max): sum += w and o[j] += w * (element lane + 32 j of its partial
    //   output, work + partial_at(b, h, i, hq, D)). Every lane needs every split's weight.
    //   Speed: the splits' loads do not depend on each other, so put `#pragma unroll 8` on the
    //   loop over i and several are in flight at once; one split at a time waits a memory latency
    //   each (some 15 us at 33 splits, a quarter of the whole decode).
#pragma unroll
    for (int j = 0; j < D / 32; j++)
        out[(size_t)r * D + lane + 32 * j] = __float2bfloat16(sum > 0.0f ? o[j] / sum : 0.0f);
}

// Splits: enough blocks to fill every SM once (as many as fit on one, by shared memory), at most
// SPLIT_MAX and never emptier than one page each. Returns the pages per split.
static int pages_per_split(int batch, int groups, int max_blocks, int smem) {
    int device = 0, sms = 1, smem_per_sm = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    cudaDeviceGetAttribute(&smem_per_sm, cudaDevAttrMaxSharedMemoryPerMultiprocessor, device);
    int per_sm = smem_per_sm / (smem + 1024);  // the runtime reserves 1 KiB a block
    per_sm = per_sm < 1 ? 1 : per_sm > 8 ? 8 : per_sm;
    int splits = 1;
    // TODO 4, how many splits: the grid has batch * groups * splits blocks, and sms * per_sm of them
    //   run at once. Take the fewest splits that fill that many, but at most SPLIT_MAX (the room in
    //   work) and at most max_blocks (a split of no page is wasted).
    return (max_blocks + splits - 1) / splits;
}

template <int D, int GT>
static void launch(const uint16_t *q, const uint16_t *k_cache, const uint16_t *v_cache, const int *block_table,
                   const int *seq_len, int max_blocks, float scale, uint16_t *out, int batch, int hq, int hkv,
                   float *work, cudaStream_t stream) {
    constexpr int smem = split_smem_bytes<D, GT>();
    const int per_split = pages_per_split(batch, hq / GT, max_blocks, smem);
    const int splits = (max_blocks + per_split - 1) / per_split;
    cudaFuncSetAttribute(paged_split_kernel<D, GT>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    paged_split_kernel<D, GT><<<dim3(splits, hq / GT, batch), THREADS, smem, stream>>>(
        (const __nv_bfloat16 *)q, (const __nv_bfloat16 *)k_cache, (const __nv_bfloat16 *)v_cache, block_table, seq_len,
        max_blocks, scale, per_split, work, batch, hq, hkv);
    paged_combine_kernel<D><<<(batch * hq + WARPS - 1) / WARPS, THREADS, 0, stream>>>(work, seq_len, per_split,
                                                                                       (__nv_bfloat16 *)out, batch, hq);
}

void paged_decode_split(const uint16_t *q, const uint16_t *k_cache, const uint16_t *v_cache, const int *block_table,
                        const int *seq_len, int max_blocks, float scale, uint16_t *out, int B, int Hq, int Hkv,
                        int D, float *work, cudaStream_t stream) {
    if (B < 1 || max_blocks < 1 || !paged_shape_supported(D, Hq, Hkv, "paged_decode_split")) return;
    PAGED_DISPATCH(D, heads_per_block(Hq, Hkv), launch, q, k_cache, v_cache, block_table, seq_len, max_blocks, scale,
                   out, B, Hq, Hkv, work, stream);
}
