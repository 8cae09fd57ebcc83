/* Board demo: the online softmax by hand, [1, 3, 2, 5] read in two tiles. No GPU needed.
 *
 * Softmax of [1, 3, 2, 5] read as [1, 3] then [2, 5]: the running max, the rescale factor and the
 * running sum after each tile, then the result beside the direct softmax.
 *
 *   make demo-online-softmax          (tiles of 2)
 *   make demo-online-softmax N=1      (one value at a time; N=3, N=4 work too)
 *
 * The numbers come from the grader's CPU reference, ref_online_softmax_row, through its trace. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ref/attention.h"

#define N_VALUES 4
static const float X[N_VALUES] = {1, 3, 2, 5};

static void print_values(const float *x, int begin, int end) {
    printf("[");
    for (int j = begin; j < end; j++) printf(" %g%s", x[j], j + 1 < end ? "," : " ");
    printf("]");
}

static void print_max(double m) {
    if (isinf(m)) printf("-inf");
    else printf("%g", m);
}

/* Called by the reference after each tile: say what changed, one line per quantity. */
static void show_step(const ref_online_step *st, void *ctx) {
    double *old_sum = ctx;  /* the running sum before this tile */
    printf("\n  tile %d:  ", st->step);
    print_values(X, st->begin, st->end);
    printf("\n  ------------------------------------------------------------------\n");
    printf("    running max     m = max(");
    print_max(st->old_max);
    printf(", %g)  =  %g\n", st->tile_max, st->running_max);
    if (isinf(st->old_max))
        printf("    rescale factor      exp(-inf - %g)  =  0          (nothing summed yet)\n", st->running_max);
    else if (st->rescale == 1.0)
        printf("    rescale factor      exp(%g - %g)  =  1          (the max held: keep the sum as it is)\n",
               st->old_max, st->running_max);
    else
        printf("    rescale factor      exp(%g - %g)  =  %.4f     (the old sum was counted against %g)\n",
               st->old_max, st->running_max, st->rescale, st->old_max);
    printf("    this tile adds      ");
    for (int j = st->begin; j < st->end; j++)
        printf("exp(%g - %g)%s", X[j], st->running_max, j + 1 < st->end ? " + " : "");
    printf("  =  %.4f\n", st->tile_sum);
    printf("    running sum     s = %.4f x %.4f + %.4f  =  %.4f\n", *old_sum, st->rescale, st->tile_sum,
           st->running_sum);
    *old_sum = st->running_sum;
}

int main(int argc, char **argv) {
    int tile = argc > 1 ? atoi(argv[1]) : 2;
    if (tile < 1 || tile > N_VALUES) {
        fprintf(stderr, "demo-online-softmax: the tile width N must be 1 to %d (got %s)\n", N_VALUES,
                argc > 1 ? argv[1] : "?");
        return 64;
    }
    printf("\n  ONLINE SOFTMAX   x = ");
    print_values(X, 0, N_VALUES);
    printf(", read %d value%s at a time\n", tile, tile > 1 ? "s" : "");
    printf("\n  softmax(x)_j = exp(x_j - m) / s,   m = max of x,   s = sum of exp(x_k - m)\n");
    printf("  We read x once, keeping only two numbers: the running max m and the running sum s.\n");
    printf("  When a tile raises the max, the old sum is multiplied by exp(m_old - m_new).\n");
    printf("\n  start:  m = -inf,  s = 0\n");

    float online[N_VALUES], direct[N_VALUES];
    double running_sum = 0;
    ref_online_softmax_row(X, N_VALUES, tile, online, show_step, &running_sum);
    ref_softmax_row(X, N_VALUES, direct);

    double m = X[0];
    for (int j = 1; j < N_VALUES; j++) m = fmax(m, X[j]);
    double s = 0;
    for (int j = 0; j < N_VALUES; j++) s += exp(X[j] - m);
    printf("\n  direct, knowing the whole row:  m = %g,  s = ", m);
    for (int j = 0; j < N_VALUES; j++) printf("exp(%g)%s", X[j] - m, j + 1 < N_VALUES ? " + " : "");
    printf("  =  %.4f\n", s);

    printf("\n  one more pass writes p_j = exp(x_j - m) / s:\n\n");
    printf("        x      online softmax     direct softmax\n");
    int same = 1;
    for (int j = 0; j < N_VALUES; j++) {
        printf("    %5g         %.7f          %.7f\n", X[j], online[j], direct[j]);
        same &= online[j] == direct[j];
    }
    printf("\n  %s\n\n", same ? "SAME, to the last bit of float32: the online softmax is exact, not an approximation."
                               : "They differ in the last bit only: the same sums, added in another order.");
    return 0;
}
