// Session 09: what both exercises are given, shared by the skeletons and their solutions.
#ifndef SESSION09_FLASH_GIVEN_CUH
#define SESSION09_FLASH_GIVEN_CUH

#include <stdint.h>
#include <stdio.h>

#include "mma_ptx.cuh"

// 2^x by the special-function unit (one MUFU.EX2). Softmax is computed as exp2(x * log2(e)): the
// factor folds into the scale the scores are multiplied by anyway. ex2(-inf) is 0.
__device__ __forceinline__ float fast_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// The kernels are compiled for head dims 64 and 128 (a template parameter sizes their registers).
static inline bool flash_shape_supported(int head_dim, const char *who) {
    if (head_dim == 64 || head_dim == 128) return true;
    fprintf(stderr, "%s: head_dim %d is not supported (64 or 128)\n", who, head_dim);
    return false;
}

// launch<HD, CAUSAL>(args...) for the head dim (64 or 128) and the mask asked for: the kernels are
// templates, so each combination is its own compiled kernel.
#define FLASH_DISPATCH(head_dim, causal, launch, ...)                                                      \
    ((head_dim) == 64 ? ((causal) ? launch<64, true>(__VA_ARGS__) : launch<64, false>(__VA_ARGS__))          \
                      : ((causal) ? launch<128, true>(__VA_ARGS__) : launch<128, false>(__VA_ARGS__)))

#endif
