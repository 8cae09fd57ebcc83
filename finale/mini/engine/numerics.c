/* BF16 rounding and the FP8 activation quantiser of the serving numerics. See numerics.h. */
#include "numerics.h"

#include <math.h>

#include "weights.h"

float mini_round_bf16(float x) { return mini_bf16_to_float(mini_float_to_bf16(x)); }

void mini_round_bf16_array(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = mini_round_bf16(x[i]);
}

void mini_quantize_fp8_blocks(const float *a, int n, int block, uint8_t *codes, float *scales) {
    for (int b0 = 0, kb = 0; b0 < n; b0 += block, kb++) {
        const int width = n - b0 < block ? n - b0 : block;
        float amax = 0.0f;
        for (int i = 0; i < width; i++) amax = fmaxf(amax, fabsf(a[b0 + i]));
        /* The largest |a| maps to 448 (or a hair over, which saturates): the block uses e4m3's whole range. */
        const float s = amax > 0.0f ? amax / 448.0f : 1.0f;
        scales[kb] = s;
        for (int i = 0; i < width; i++) codes[b0 + i] = mini_float_to_fp8_e4m3(a[b0 + i] / s);
    }
}
