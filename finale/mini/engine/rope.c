/* RoPE tables and rotation. See rope.h. */
#include "rope.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

int mini_rope_init(MiniRope *rope, int d_rope, int max_seq, float theta) {
    rope->cos_table = rope->sin_table = NULL;
    if (d_rope < 2 || max_seq < 1) return -1;
    const size_t pairs = (size_t)d_rope / 2;
    rope->d_rope = d_rope;
    rope->max_seq = max_seq;
    if ((size_t)max_seq > SIZE_MAX / sizeof(float) / pairs) return -1;   /* a size that would wrap */
    rope->cos_table = malloc((size_t)max_seq * pairs * sizeof(float));
    rope->sin_table = malloc((size_t)max_seq * pairs * sizeof(float));
    if (!rope->cos_table || !rope->sin_table) { mini_rope_free(rope); return -1; }
    /* Angles in double: at t near max_seq a float angle would lose about 1e-4 radian. Each pair's
     * frequency is computed once (the same pow call as per position, so the same tables). */
    for (size_t i = 0; i < pairs; i++) {
        double frequency = pow((double)theta, -2.0 * (int)i / d_rope);
        for (int t = 0; t < max_seq; t++) {
            rope->cos_table[(size_t)t * pairs + i] = (float)cos(t * frequency);
            rope->sin_table[(size_t)t * pairs + i] = (float)sin(t * frequency);
        }
    }
    return 0;
}

void mini_rope_free(MiniRope *rope) {
    free(rope->cos_table);
    free(rope->sin_table);
    rope->cos_table = rope->sin_table = NULL;
}

void mini_rope_apply(const MiniRope *rope, float *x, int t) {
    int pairs = rope->d_rope / 2;
    const float *c = rope->cos_table + (size_t)t * pairs, *s = rope->sin_table + (size_t)t * pairs;
    for (int i = 0; i < pairs; i++) {
        float x0 = x[2 * i], x1 = x[2 * i + 1];
        x[2 * i] = x0 * c[i] - x1 * s[i];
        x[2 * i + 1] = x0 * s[i] + x1 * c[i];
    }
}
