// Session 08: what every exercise is given, shared by the skeletons and their solutions: the
// causal rule, warp reductions, and the query-key dot product of exercise 05.
#ifndef SESSION08_ATTENTION_GIVEN_CUH
#define SESSION08_ATTENTION_GIVEN_CUH

#include <cuda_bf16.h>
#include <math.h>
#include <stdint.h>

#define FULL_MASK 0xffffffffu

// How many keys query row i sees, from key 0: all skv, or with the causal mask aligned to the end
// (key j visible iff j <= i + skv - sq) min(skv, max(0, i + 1 + skv - sq)). It never decreases
// with i, so a tile of rows sees at most what its last row sees.
__host__ __device__ __forceinline__ int visible_keys(int i, int sq, int skv, int causal) {
    if (!causal) return skv;
    const long v = (long)i + 1 + skv - sq;
    return (int)(v < 0 ? 0 : v > skv ? skv : v);
}

// Every lane gets the largest / the sum of the 32 lanes' values (xor butterfly, five steps).
__device__ __forceinline__ float warp_max(float x) {
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) x = fmaxf(x, __shfl_xor_sync(FULL_MASK, x, offset));
    return x;
}

__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) x += __shfl_xor_sync(FULL_MASK, x, offset);
    return x;
}

// q . k over d elements: q in float (shared memory, the same address for every lane: a broadcast),
// k a row of BF16 in global memory. vec: d % 8 == 0 and k 16-byte aligned, so 8 BF16 come in one
// 16-byte load.
__device__ __forceinline__ float dot_query_key(const float *q, const __nv_bfloat16 *k, int d, bool vec) {
    float dot = 0.0f;
    if (vec) {
        for (int c = 0; c < d; c += 8) {
            const uint4 raw = *reinterpret_cast<const uint4 *>(k + c);
            const __nv_bfloat162 *pair = reinterpret_cast<const __nv_bfloat162 *>(&raw);
#pragma unroll
            for (int t = 0; t < 4; t++) {
                const float2 kv = __bfloat1622float2(pair[t]);
                dot = fmaf(q[c + 2 * t], kv.x, dot);
                dot = fmaf(q[c + 2 * t + 1], kv.y, dot);
            }
        }
    } else {
        for (int c = 0; c < d; c++) dot = fmaf(q[c], __bfloat162float(k[c]), dot);
    }
    return dot;
}

#endif
