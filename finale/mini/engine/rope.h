/* Rotary position embedding (RoPE) as MODEL.md defines it: consecutive pairs (x[2i], x[2i+1]) turn
 * by the angle t * theta^(-2i/d_rope). The cosines and sines of every position are tabulated once. */
#ifndef MINI_ROPE_H
#define MINI_ROPE_H

typedef struct {
    int d_rope, max_seq;
    float *cos_table, *sin_table;   /* [max_seq][d_rope/2] */
} MiniRope;

/* Returns 0, or -1 when out of memory. */
int mini_rope_init(MiniRope *rope, int d_rope, int max_seq, float theta);
void mini_rope_free(MiniRope *rope);

/* Rotates x[0 .. d_rope-1] in place for position t (0 <= t < max_seq). */
void mini_rope_apply(const MiniRope *rope, float *x, int t);

#endif
