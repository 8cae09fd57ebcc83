// Session 07, exercise 1: what it is given, shared by the skeleton and its solution: the block
// size, the partial softmax (max, sum) and its rescaling, and the item loads and stores.
#ifndef SESSION07_SOFTMAX_GIVEN_CUH
#define SESSION07_SOFTMAX_GIVEN_CUH

#include <math.h>

#define BLOCK_THREADS 256
#define FULL_MASK 0xffffffffu

// A partial softmax: the largest value seen, m, and the sum of exp(v - m) over the values seen.
// An empty partial is {-inf, 0}.
struct MaxSum {
    float m, s;
};

// exp(from - to) for to >= from; an empty partial (from = -inf) contributes nothing.
__device__ __forceinline__ float rescale(float from, float to) { return from == -INFINITY ? 0.0f : __expf(from - to); }

// Item i of a row: 4 floats (VEC) or 1. `once` marks data read only once: streamed past the caches.
template <bool VEC>
__device__ __forceinline__ void load_item(const float *row, long i, bool once, float *v) {
    if constexpr (VEC) {
        const float4 *p = reinterpret_cast<const float4 *>(row) + i;
        const float4 q = once ? __ldcs(p) : __ldg(p);
        v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
    } else {
        v[0] = once ? __ldcs(row + i) : __ldg(row + i);
    }
}

// out is never read back: streaming stores keep it from pushing x out of the L2.
template <bool VEC>
__device__ __forceinline__ void store_item(float *row, long i, const float *v) {
    if constexpr (VEC) __stcs(reinterpret_cast<float4 *>(row) + i, make_float4(v[0], v[1], v[2], v[3]));
    else __stcs(row + i, v[0]);
}

#endif
