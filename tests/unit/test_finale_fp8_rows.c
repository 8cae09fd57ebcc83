/* Session 14's FP8 grouped GEMM references (grader/finale_fp8.c), which decode each row of A once and
 * each row of a group's B once for all the rows asked for, against fm_fp8_dot element by element,
 * bit for bit: over every check shape of both layouts, for all rows and for a shuffled sample (the
 * grader's sampled rows); rows past a masked group's count keep D's values, and rows not asked for
 * are left alone. Host cases: no GPU. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "finale_fp8.h"
#include "internal.h"
#include "rng.h"

#define F_G(s) ((s)->d[0])
#define F_M(s) ((s)->d[1])
#define F_N(s) ((s)->d[2])
#define F_K(s) ((s)->d[3])
#define BLOCKS(x) (((x) + FM_FP8_BLOCK - 1) / FM_FP8_BLOCK)

typedef struct {
    const char *name;
    gr_exercise ex;
    void (*declare)(gr_case *c);
    void (*reference)(gr_case *c, long r0, long r1);
    void (*reference_rows)(gr_case *c, const long *rows, long n);
    gr_shape shapes[GR_MAX_SHAPES];
    gr_exercise named;  /* the fields an exercise gets from finale_fp8.h's macro for this layout */
} layout;

static const layout LAYOUTS[] = {
    {"contiguous", {.name = "unit_fp8_contiguous", .on_host = true, .adjust_inputs = fm_fp8_contiguous_adjust},
     fm_fp8_contiguous_declare, fm_fp8_contiguous_reference, fm_fp8_contiguous_reference_rows, FP8_CONTIGUOUS_SHAPES,
     {FM_FP8_CONTIGUOUS_REF}},
    {"masked", {.name = "unit_fp8_masked", .on_host = true, .adjust_inputs = fm_fp8_masked_adjust},
     fm_fp8_masked_declare, fm_fp8_masked_reference, fm_fp8_masked_reference_rows, FP8_MASKED_SHAPES,
     {FM_FP8_MASKED_REF}},
};

static float bf16_value(uint16_t h) {
    const uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Row r of D as the contract defines it: fm_fp8_dot for each column, or D's values where the row is
 * past its masked group's count. */
static void expected_row(gr_case *c, bool masked, long r, float *out) {
    const gr_shape *s = &c->shape;
    const long G = F_G(s), M = F_M(s), N = F_N(s), K = F_K(s), KB = BLOCKS(K), NB = BLOCKS(N);
    const uint8_t *A = gr_in(c, "A"), *B = gr_in(c, "B");
    const float *sa = gr_in(c, "sa"), *sb = gr_in(c, "sb");
    long g = 0;
    if (masked) {
        g = r / M;
        if (r % M >= ((const int *)gr_in(c, "masked_m"))[g]) {
            for (long n = 0; n < N; n++) out[n] = bf16_value(((const uint16_t *)gr_in(c, "D"))[r * N + n]);
            return;
        }
    } else {
        const int *offset = gr_in(c, "group_offset");
        while (g + 1 < G && offset[g + 1] <= r) g++;
    }
    for (long n = 0; n < N; n++)
        out[n] = (float)fm_fp8_dot(A + r * K, B + (g * N + n) * K, sa + r * KB, sb + (g * NB + n / FM_FP8_BLOCK) * KB, K);
}

Test(finale_fp8_rows, references_are_fm_fp8_dot_bit_for_bit) {
    for (int l = 0; l < 2; l++) {
        const layout *lay = &LAYOUTS[l];
        cr_assert(lay->named.reference == lay->reference && lay->named.reference_rows == lay->reference_rows,
                  "%s: finale_fp8.h names the reference with its rows form", lay->name);
        for (int i = 0; i < GR_MAX_SHAPES && lay->shapes[i].rank > 0; i++) {
            gr_case c;
            char err[256] = "";
            gr_case_init(&c, &lay->ex, lay->shapes[i], 0xF8 + (uint64_t)i);
            lay->declare(&c);
            cr_assert(gr_case_alloc(&c, err, sizeof err), "alloc: %s", err);
            gr_case_fill_inputs(&c);
            const long rows = c.rows, N = F_N(&c.shape);
            float *want = malloc(sizeof(float) * (size_t)(rows * N)), *D = gr_ref(&c, "D");
            cr_assert(want);
            for (long r = 0; r < rows; r++) expected_row(&c, l == 1, r, want + r * N);

            lay->reference(&c, 0, rows);
            for (long r = 0; r < rows; r++)
                cr_assert_eq(memcmp(D + r * N, want + r * N, sizeof(float) * (size_t)N), 0,
                             "%s, shape %d: row %ld differs from fm_fp8_dot", lay->name, i, r);

            /* Half the rows, shuffled; the others keep a marker. */
            long *order = malloc(sizeof(long) * (size_t)rows);
            cr_assert(order);
            for (long r = 0; r < rows; r++) order[r] = r;
            uint64_t rng = 0x5A3B + (uint64_t)i;
            for (long r = rows - 1; r > 0; r--) {
                const long j = (long)(gr_rng_next(&rng) % (uint64_t)(r + 1)), t = order[r];
                order[r] = order[j];
                order[j] = t;
            }
            const long n = (rows + 1) / 2;
            for (long e = 0; e < rows * N; e++) D[e] = -7.0f;
            lay->reference_rows(&c, order, n);
            for (long t = 0; t < rows; t++) {
                const long r = order[t];
                if (t < n)
                    cr_assert_eq(memcmp(D + r * N, want + r * N, sizeof(float) * (size_t)N), 0,
                                 "%s, shape %d: sampled row %ld differs from fm_fp8_dot", lay->name, i, r);
                else
                    for (long col = 0; col < N; col++)
                        cr_assert_eq(D[r * N + col], -7.0f, "%s, shape %d: row %ld was not asked for", lay->name, i, r);
            }
            free(order);
            free(want);
            gr_case_free(&c);
        }
    }
    cr_assert_null(LAYOUTS[0].ex.reference_rows, "an exercise that names no rows form has none (the grader goes row by row)");
}
