/* Hints from the shape of a failure. Each recogniser claims its pattern only when (nearly) every wrong
 * element fits it and there are enough of them to rule out chance: a wrong hint costs a student more
 * than the exercise's own fixed one, so when unsure the answer is no hint. The recognisers run from
 * the most specific to the least; the first that claims the output writes the line. */
#include "hints.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"

/* What one looked-at element (a probe) is. */
enum { S_SKIP, S_RIGHT, S_WRONG, S_UNWRITTEN };

/* Sampled indices come in runs of this many neighbours, starting at multiples of it, so that strides
 * of 2, 4, ... 64 look the same in the sample as in the output. */
#define RUN 64

typedef struct {
    gr_dtype dtype, ref_dtype;
    const void *got, *ref;
    size_t count;
    long mask_row_len;          /* the caller's row length, which the mask counts in */
    const unsigned char *mask;
    bool vector;                /* one line of elements: R = 1, C = count */
    long R, C;
    long *rows, *cols;          /* looked-at row and column indices, ascending */
    long n_rows, n_cols;
    unsigned char *state;       /* per probe (row a, column b): state[a * n_cols + b] */
    double rms, max_ref;        /* of the reference over the probes */
    double match_rel;           /* two values agree within match_rel * (|ref| + rms) */
    double exact_rel;           /* the same, for claims resting on very few elements */
    long n_compared, n_right, n_wrong, n_unwritten, n_wrong_zero;
} view;

/* ---- reading the output -------------------------------------------------------------------- */

static bool has_ref(const view *v, long p) {
    return p >= 0 && (size_t)p < v->count && (!v->mask || v->mask[p / v->mask_row_len]);
}
static double got_at(const view *v, long p) { return gr_value(v->dtype, v->got, (size_t)p); }
static double ref_at(const view *v, long p) { return gr_value(v->ref_dtype, v->ref, (size_t)p); }
static long flat_of(const view *v, long a, long b) { return v->rows[a] * v->C + v->cols[b]; }
static int state_of(const view *v, long a, long b) { return v->state[a * v->n_cols + b]; }

static bool near(const view *v, double g, double r) {
    return isfinite(g) && isfinite(r) && fabs(g - r) <= v->match_rel * (fabs(r) + v->rms);
}

/* At least this many elements must fit a pattern before it is claimed. */
static long min_hits(const view *v) { return v->n_compared >= 6 ? 3 : 2; }

static bool say(char *buf, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return true;
}

/* ---- choosing what to look at ---------------------------------------------------------------- */

/* Indices of 0..L-1 to look at, at most about `want`: all when they fit; else the first and last
 * `edge` (where tiles begin and end) and runs of RUN between, spread evenly. Returns how many. */
static long sample_line(long L, long want, long edge, long *out) {
    long n = 0;
    if (L <= want) {
        for (long i = 0; i < L; i++) out[n++] = i;
        return n;
    }
    for (long i = 0; i < edge; i++) out[n++] = i;
    long lo = edge, hi = L - edge, runs = (want - 2 * edge) / RUN, next = lo;
    for (long k = 0; k < runs; k++) {
        long s = lo + (long)((double)k / (double)runs * (double)(hi - lo)) / RUN * RUN;
        if (s < next) s = (next + RUN - 1) / RUN * RUN;
        if (s + RUN > hi) break;
        for (long i = s; i < s + RUN; i++) out[n++] = i;
        next = s + RUN;
    }
    for (long i = hi; i < L; i++) out[n++] = i;
    return n;
}

/* With a mask, only rows with a reference are looked at (evenly thinned to `want`). */
static long masked_lines(const view *v, long want, long *out) {
    long n_rows_total = (long)(v->count / (size_t)v->mask_row_len), n_masked = 0, n = 0;
    for (long r = 0; r < n_rows_total; r++) n_masked += v->mask[r] != 0;
    long step = n_masked > want ? (n_masked + want - 1) / want : 1, k = 0;
    for (long r = 0; r < n_rows_total; r++) {
        if (!v->mask[r]) continue;
        if (k++ % step == 0) out[n++] = r;
    }
    return n;
}

static long edge_for(long want) {
    long e = want / 4 / RUN * RUN;
    return e > 256 ? 256 : e;
}

static bool choose_probes(view *v) {
    long budget = GR_HINT_SAMPLE;
    if (v->vector) {
        v->n_rows = 1;
        v->rows = malloc(sizeof(long));
        long want = (long)v->count < budget ? (long)v->count : budget;
        v->cols = malloc(sizeof(long) * (size_t)want);
        if (!v->rows || !v->cols) return false;
        v->rows[0] = 0;
        if (v->mask) {  /* elements of the rows that have a reference */
            long n = 0;
            for (size_t p = 0; p < v->count && n < want; p++)
                if (has_ref(v, (long)p)) v->cols[n++] = (long)p;
            v->n_cols = n;
        } else {
            v->n_cols = sample_line((long)v->count, want, want < 4 * 4096 ? edge_for(want) : 4096, v->cols);
        }
    } else {
        bool all = (double)v->R * (double)v->C <= (double)budget;
        long cols_want = all ? v->C : budget / v->R > 2048 ? budget / v->R : 2048;
        if (cols_want > v->C) cols_want = v->C;
        v->cols = malloc(sizeof(long) * (size_t)cols_want);
        if (!v->cols) return false;
        v->n_cols = sample_line(v->C, cols_want, edge_for(cols_want), v->cols);
        long rows_want = all ? v->R : budget / v->n_cols;
        if (rows_want < 1) rows_want = 1;
        if (rows_want > v->R) rows_want = v->R;
        v->rows = malloc(sizeof(long) * (size_t)rows_want);
        if (!v->rows) return false;
        v->n_rows = v->mask ? masked_lines(v, rows_want, v->rows)
                            : sample_line(v->R, rows_want, edge_for(rows_want), v->rows);
    }
    v->state = malloc((size_t)(v->n_rows * v->n_cols) + 1);
    return v->state != NULL;
}

/* Is index x among the (ascending) looked-at indices? */
static bool looked_at(const long *idx, long n, long x) {
    long lo = 0, hi = n;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        if (idx[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && idx[lo] == x;
}

static void classify(view *v) {
    double sq = 0;
    long n = 0;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++) {
            long p = flat_of(v, a, b);
            if (!has_ref(v, p)) continue;
            double r = ref_at(v, p);
            if (!isfinite(r)) continue;
            sq += r * r;
            n++;
            if (fabs(r) > v->max_ref) v->max_ref = fabs(r);
        }
    v->rms = n ? sqrt(sq / (double)n) : 0;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++) {
            long p = flat_of(v, a, b);
            int s = S_SKIP;
            double r = has_ref(v, p) ? ref_at(v, p) : NAN;
            if (isfinite(r)) {
                double g = got_at(v, p);
                s = isnan(g) ? S_UNWRITTEN : near(v, g, r) ? S_RIGHT : S_WRONG;
                v->n_compared++;
                if (s == S_RIGHT) v->n_right++;
                if (s == S_UNWRITTEN) v->n_unwritten++;
                if (s == S_WRONG) { v->n_wrong++; v->n_wrong_zero += g == 0; }
            }
            v->state[a * v->n_cols + b] = (unsigned char)s;
        }
}

/* What the wrong elements hold, for "... are %s". */
static const char *bad_content(const view *v) {
    if (v->n_wrong == 0) return "never written (still NaN)";
    if (v->n_unwritten == 0 && v->n_wrong_zero == v->n_wrong) return "0";
    return v->n_unwritten ? "wrong or never written" : "wrong";
}

/* "row 16 is" or "rows 16 to 31 are" */
static void span_is(char *out, size_t len, const char *one, const char *many, long a, long b) {
    if (a == b) snprintf(out, len, "%s %ld is", one, a);
    else snprintf(out, len, "%s %ld to %ld are", many, a, b);
}

/* ---- whole-output patterns --------------------------------------------------------------------- */

static bool all_unwritten(const view *v, char *buf, size_t len) {
    if (v->n_unwritten != v->n_compared) return false;
    return say(buf, len, "nothing was written (every element is still the NaN poison): no store ran at this "
               "size (a loop or grid rounded down to whole tiles, n/16*16, is empty below one tile), or "
               "the output was added to (+=) before being set");
}

static bool all_zero(const view *v, char *buf, size_t len) {
    if (v->n_unwritten || v->n_wrong == 0 || v->n_wrong_zero != v->n_wrong) return false;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++)
            if (state_of(v, a, b) == S_RIGHT && got_at(v, flat_of(v, a, b)) != 0) return false;
    if (2 * v->n_wrong < v->n_compared) return false;
    return say(buf, len, "every element is 0 where the expected values are not: nothing was added into the "
               "sums - a loop that never runs (check its start and bound: k from 0 while k < K) or a "
               "store of the sum before it is computed");
}

/* got = c * ref with one c for every element. */
static bool constant_factor(const view *v, char *buf, size_t len) {
    if (v->n_unwritten || v->n_wrong == 0) return false;
    double gr = 0, rr = 0;
    long n_sized = 0;  /* elements large enough to show a factor */
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++) {
            if (state_of(v, a, b) == S_SKIP) continue;
            long p = flat_of(v, a, b);
            double g = got_at(v, p), r = ref_at(v, p);
            if (!isfinite(g)) return false;
            gr += g * r;
            rr += r * r;
            n_sized += fabs(r) > 0.1 * v->rms;
        }
    if (rr == 0) return false;
    double c = gr / rr, tol_rel = v->match_rel;
    if (n_sized < 8) {
        /* Few elements: only a round factor, and only when it fits to the last bits. */
        static const double round_factors[] = {2, 3, 4, 8, 0.5, 0.25, 0.125, -1, -2, -0.5};
        double best = 0;
        for (size_t i = 0; i < sizeof round_factors / sizeof round_factors[0]; i++)
            if (fabs(c - round_factors[i]) <= v->exact_rel * fabs(round_factors[i])) best = round_factors[i];
        if (best == 0 || (v->dtype == GR_BF16 && v->n_compared < 4)) return false;
        c = best;
        tol_rel = v->exact_rel;
    }
    if (fabs(c - 1) <= 10 * v->match_rel || fabs(c) <= 10 * v->match_rel) return false;
    long fit = 0;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++) {
            if (state_of(v, a, b) == S_SKIP) continue;
            long p = flat_of(v, a, b);
            double r = ref_at(v, p);
            fit += fabs(got_at(v, p) - c * r) <= tol_rel * fabs(c) * (fabs(r) + v->rms);
        }
    if (fit < v->n_compared - v->n_compared / 100) return false;
    if (fabs(c + 1) <= 2 * tol_rel)
        return say(buf, len, "every element has the sign opposite to the expected: a difference taken the "
                   "wrong way round (b - a for a - b) or a negated factor");
    if (c > 1)
        return say(buf, len, "every element is %.2fx the expected: a factor applied twice, or a sum "
                   "accumulated more than once (an accumulator or the output not reset), or a missing "
                   "division", c);
    if (c > 0)
        return say(buf, len, "every element is %.2fx the expected: a division too many (by n, or by a "
                   "scale applied twice), a missing factor, or part of each sum left out", c);
    return say(buf, len, "every element is %.2fx the expected, sign flipped as well: a negated factor and "
               "a wrong scale", c);
}

/* got = ref + b with one b for every element. */
static bool constant_offset(const view *v, char *buf, size_t len) {
    if (v->n_unwritten || v->n_wrong == 0 || v->n_compared < 4) return false;
    double sum = 0;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++) {
            if (state_of(v, a, b) == S_SKIP) continue;
            long p = flat_of(v, a, b);
            sum += got_at(v, p) - ref_at(v, p);
        }
    double off = sum / (double)v->n_compared;
    if (!isfinite(off) || fabs(off) <= 10 * v->match_rel * v->rms) return false;
    long fit = 0;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++) {
            if (state_of(v, a, b) == S_SKIP) continue;
            long p = flat_of(v, a, b);
            double r = ref_at(v, p);
            fit += fabs(got_at(v, p) - r - off) <= v->match_rel * (fabs(r) + v->rms);
        }
    if (fit < v->n_compared - v->n_compared / 100) return false;
    return say(buf, len, "every element is off by the same amount (%+.4g): something is added to every "
               "element - a sum started from a non-zero value, a bias added twice (or left out), or an "
               "accumulator not reset", off);
}

/* ---- elements in the wrong place --------------------------------------------------------------- */

/* The element at (r, c) is the expected (c, r): square and transposed, or written column-major
 * (C[j*M + i]), which is the same test on the flat index. */
static bool transposed(const view *v, char *buf, size_t len) {
    if (v->vector || v->R < 2 || v->C < 2 || v->n_unwritten) return false;
    long eligible = 0, hits = 0;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++) {
            if (state_of(v, a, b) != S_WRONG) continue;
            long p = flat_of(v, a, b), i = p % v->R, j = p / v->R, q = i * v->C + j;
            if (!has_ref(v, q)) continue;
            eligible++;
            hits += near(v, got_at(v, p), ref_at(v, q));
        }
    if (hits < min_hits(v) || 10 * hits < 9 * eligible || 10 * eligible < 8 * v->n_wrong) return false;
    if (v->R == v->C)
        return say(buf, len, "the output is the transpose of the expected: element (r, c) holds the "
                   "expected (c, r) - row and column swapped in the store index (C[j*M + i] for C[i*N + j]) "
                   "or in the thread mapping (row from x, column from y)");
    return say(buf, len, "the output is laid out column-major: the expected (r, c) sits at index c*%ld + r - "
               "row and column swapped in the store index (C[j*M + i] for C[i*N + j])", v->R);
}

/* got[p] = ref[p - d]: shifted by one element, one column or one row. */
static bool shifted(const view *v, char *buf, size_t len) {
    long offsets[4] = {1, -1, v->C, -v->C};
    int n_offsets = v->vector || v->C < 2 || v->R < 2 ? 2 : 4;
    long best_d = 0, best_hits = 0, best_eligible = 0;
    for (int k = 0; k < n_offsets; k++) {
        long d = offsets[k], eligible = 0, hits = 0;
        for (long a = 0; a < v->n_rows; a++)
            for (long b = 0; b < v->n_cols; b++) {
                if (state_of(v, a, b) != S_WRONG) continue;
                long p = flat_of(v, a, b);
                if (!has_ref(v, p - d)) continue;
                eligible++;
                hits += near(v, got_at(v, p), ref_at(v, p - d));
            }
        if (hits > best_hits) { best_d = d; best_hits = hits; best_eligible = eligible; }
    }
    if (best_hits < min_hits(v) || 10 * best_hits < 9 * best_eligible || 10 * best_eligible < 8 * v->n_wrong ||
        v->n_unwritten > v->n_wrong)
        return false;
    bool one_line = v->vector || v->C < 2 || v->R < 2;
    if (one_line)
        return say(buf, len, "element [i] holds the expected [i%s1]: the output is shifted one element to the "
                   "%s - the store index is one %s (i %s 1), or the loop or thread index starts %s",
                   best_d > 0 ? "-" : "+", best_d > 0 ? "right" : "left", best_d > 0 ? "too far" : "too small",
                   best_d > 0 ? "+" : "-", best_d > 0 ? "at 1 where 0 belongs" : "one early");
    if (best_d == 1 || best_d == -1)
        return say(buf, len, "element (r, c) holds the expected (r, c%s1): the output is shifted one column to "
                   "the %s - the store's column index is one %s (C[i*N + j %s 1]), or a loop over columns "
                   "is off by one", best_d > 0 ? "-" : "+", best_d > 0 ? "right" : "left",
                   best_d > 0 ? "too far" : "too small", best_d > 0 ? "+" : "-");
    return say(buf, len, "row r holds the expected row r%s1: the output is shifted one row %s - the store's "
               "row index is one %s (C[(i %s 1)*N + j]), or each row reads its %s neighbour",
               best_d > 0 ? "-" : "+", best_d > 0 ? "down" : "up", best_d > 0 ? "too far" : "too small",
               best_d > 0 ? "+" : "-", best_d > 0 ? "upper" : "lower");
}

/* got[p] = got[p-1] + ref[p]: a running sum, the accumulator never set back to 0. */
static bool running_sum(const view *v, char *buf, size_t len) {
    if (v->n_unwritten) return false;
    long eligible = 0, hits = 0;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++) {
            if (state_of(v, a, b) != S_WRONG) continue;
            long p = flat_of(v, a, b);
            if (p == 0) continue;
            double g = got_at(v, p), before = got_at(v, p - 1), r = ref_at(v, p);
            if (!isfinite(before)) continue;
            eligible++;
            hits += fabs(g - before - r) <= v->match_rel * (fabs(g) + fabs(before) + fabs(r) + v->rms);
        }
    if (hits < min_hits(v) || 10 * hits < 9 * eligible || 10 * eligible < 8 * v->n_wrong) return false;
    return say(buf, len, "each element is the element before it plus its expected value (a running sum): "
               "the accumulator is not reset - start the sum at 0 for every output element, inside the "
               "loops over them, not once before");
}

/* ---- right in one region, wrong in the rest ---------------------------------------------------- */

static const long TILES_2D[] = {256, 128, 64, 32, 16, 8, 0};
static const long TILES_1D[] = {1024, 512, 256, 128, 64, 32, 16, 8, 0};

/* The tile T when the first g of L are right and the rest, fewer than T, are not: g = L / T * T. */
static long tail_tile(long g, long L, const long *tiles) {
    for (int i = 0; tiles[i]; i++)
        if (g > 0 && g % tiles[i] == 0 && L - g < tiles[i]) return tiles[i];
    return 0;
}

/* Enough to claim a region: wrong elements that plainly were never computed (NaN or 0), or wrong
 * values beside enough right ones that the right ones cannot be luck. */
static bool region_evidence(const view *v) {
    bool never_computed = v->n_wrong == 0 || (v->n_unwritten == 0 && v->n_wrong_zero == v->n_wrong);
    long n_bad = v->n_wrong + v->n_unwritten;
    return never_computed || (v->n_right >= 8 && n_bad >= 8 && 20 * n_bad >= v->n_compared);
}

/* "only the first row is right" or "only the first 16 rows are right" */
static void first_right(char *out, size_t len, long g, const char *one, const char *many) {
    if (g == 1) snprintf(out, len, "only the first %s is right", one);
    else snprintf(out, len, "only the first %ld %s are right", g, many);
}

/* The first `g` of L lines (rows, columns or elements) right and the rest wrong: which mistake? */
static bool describe_prefix(const view *v, long g, long L, bool exact, const char *one, const char *many,
                            const char *bound, const char *index, const long *tiles, char *buf, size_t len) {
    char span[96], lead[96];
    span_is(span, sizeof span, one, many, g, L - 1);
    first_right(lead, sizeof lead, g, one, many);
    const char *content = bad_content(v);
    long T = exact ? tail_tile(g, L, tiles) : 0;
    long n_bad = v->n_wrong + v->n_unwritten;
    if (!region_evidence(v)) return false;
    if (T && (n_bad >= 2 || v->n_wrong == 0))
        return say(buf, len, "%s; %s %s, past the last whole tile of %ld: the loop or grid covers whole tiles "
                   "only%s - round the tile count up (ceil(%s / %ld)) and guard the partial tile (if (%s < %s))",
                   lead, span, content, T, L - g == 1 ? " (or a loop bound one short)" : "", bound, T, index,
                   bound);
    if (n_bad < 2) return false;
    bool tile_like = tiles == TILES_1D ? g % 32 == 0 : g % 8 == 0;
    if (exact && tile_like)
        return say(buf, len, "%s; %s %s: only the first tile or block was computed - check the number of "
                   "blocks in the grid (ceil(%s / tile)) or the outer loop's bound", lead, span, content, bound);
    if (exact)
        return say(buf, len, "%s; %s %s: the loop over %s (or the grid) stops early - check its bound", lead,
                   span, content, many);
    return say(buf, len, "the %s checked are right up to %s %ld and %s from there on: the loop over %s (or "
               "the grid) stops early - check its bound", many, one, g - 1, content, many);
}

/* Right exactly in a top-left block (rows < gR, columns < gC), wrong everywhere else: only the first
 * tile computed, or the last partial tile missing, in rows, columns or both. */
static bool right_block_only(const view *v, char *buf, size_t len) {
    long gR = -1, gC = -1;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++)
            if (state_of(v, a, b) == S_RIGHT) {
                if (v->rows[a] > gR) gR = v->rows[a];
                if (v->cols[b] > gC) gC = v->cols[b];
            }
    if (gR < 0 || v->n_wrong + v->n_unwritten == 0) return false;
    gR++, gC++;
    bool rows_part = false, cols_part = false;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++) {
            int s = state_of(v, a, b);
            if (s == S_SKIP) continue;
            bool inside = v->rows[a] < gR && v->cols[b] < gC;
            if (inside != (s == S_RIGHT)) return false;
            rows_part |= !inside && v->cols[b] < gC;
            cols_part |= !inside && v->rows[a] < gR;
        }
    bool rows_exact = looked_at(v->rows, v->n_rows, gR), cols_exact = looked_at(v->cols, v->n_cols, gC);
    if (v->vector)
        return cols_part && describe_prefix(v, gC, v->C, cols_exact, "element", "elements", "n", "i", TILES_1D,
                                            buf, len);
    if (rows_part && !cols_part)
        return describe_prefix(v, gR, v->R, rows_exact, "row", "rows", "rows", "row", TILES_2D, buf, len);
    if (cols_part && !rows_part)
        return describe_prefix(v, gC, v->C, cols_exact, "column", "columns", "columns", "col", TILES_2D, buf,
                               len);
    if (!rows_part || !cols_part || !rows_exact || !cols_exact) return false;
    long TR = tail_tile(gR, v->R, TILES_2D), TC = tail_tile(gC, v->C, TILES_2D);
    if (TR && TC)
        return say(buf, len, "only the top-left %ld x %ld block is right; the rows and columns past the last "
                   "whole tiles are %s: the grid covers whole tiles only - round it up (ceil(rows / %ld), "
                   "ceil(columns / %ld)) and guard the partial tiles (if (row < rows && col < columns))",
                   gR, gC, bad_content(v), TR, TC);
    if (gR % 8 == 0 && gC % 8 == 0 && region_evidence(v))
        return say(buf, len, "only the top-left %ld x %ld block is right, every other element is %s: only the "
                   "first tile was computed - check the grid's size in both dimensions", gR, gC, bad_content(v));
    return false;
}

/* Right exactly in the first g elements in memory order (not a whole number of rows). */
static bool right_prefix_only(const view *v, char *buf, size_t len) {
    if (v->vector || v->n_wrong + v->n_unwritten < 2) return false;
    long g = -1;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++)
            if (state_of(v, a, b) == S_RIGHT && flat_of(v, a, b) > g) g = flat_of(v, a, b);
    if (g < 0 || ++g % v->C == 0) return false;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++) {
            int s = state_of(v, a, b);
            if (s != S_SKIP && (flat_of(v, a, b) < g) != (s == S_RIGHT)) return false;
        }
    if (!region_evidence(v)) return false;
    return say(buf, len, "only the first %ld elements in memory order are right (to row %ld, column %ld); the "
               "rest are %s: only the first block(s) of threads ran - the grid must cover all rows x "
               "columns elements (ceil(count / threads) blocks)", g, (g - 1) / v->C, (g - 1) % v->C,
               bad_content(v));
}

/* Lines (rows, or columns, or a vector's elements) each entirely right or entirely wrong: which ones? */
enum { L_NONE, L_GOOD, L_BAD, L_MIXED };

static bool describe_line_set(const view *v, const long *idx, const unsigned char *ls, long n, long L,
                              long probes_per_line, const char *one, const char *many, bool single_elements,
                              char *buf, size_t len) {
    long n_good = 0, n_bad = 0, first_bad = -1, last_bad = -1;
    for (long k = 0; k < n; k++) {
        if (ls[k] == L_MIXED) return false;
        if (ls[k] == L_GOOD) n_good++;
        if (ls[k] == L_BAD) {
            n_bad++;
            if (first_bad < 0) first_bad = k;
            last_bad = k;
        }
    }
    /* Single elements are weak evidence each: ask for more of them. */
    if (n_good == 0 || n_bad == 0 || (single_elements && n_bad < 8) || !region_evidence(v)) return false;
    const char *content = bad_content(v);
    /* Periodic: lines with index % P in some set are wrong. */
    for (long P = 2; P <= 64 && 2 * P <= L; P *= 2) {
        unsigned char res[64] = {0};
        bool consistent = true;
        long seen = 0;
        for (long k = 0; k < n && consistent; k++) {
            if (ls[k] == L_NONE) continue;
            seen++;
            unsigned char *r = &res[idx[k] % P];
            if (*r == L_NONE) *r = ls[k];
            else consistent = *r == ls[k];
        }
        long bad_res = 0, good_res = 0, which = -1;
        for (long i = 0; i < P; i++) {
            bad_res += res[i] == L_BAD;
            good_res += res[i] == L_GOOD;
            if (res[i] == L_BAD) which = i;
        }
        if (!consistent || seen < 2 * P || bad_res == 0 || good_res == 0 || bad_res + good_res < P) continue;
        if (P == 2)
            return say(buf, len, "every other %s (the %s ones) is %s, the others right: a stride of 2 in the "
                       "index (2*i where i belongs) skips them, or each thread does two and stores one", one,
                       which % 2 ? "odd" : "even", content);
        if (bad_res == 1)
            return say(buf, len, "one %s in every %ld (index %% %ld == %ld) is %s, the others right: the index "
                       "mapping skips them - check the stride and the tile arithmetic", one, P, P, which, content);
        return say(buf, len, "%ld of every %ld %s are %s in a repeating pattern, the others right: the index "
                   "mapping skips some - check the stride and the tile arithmetic", bad_res, P, many, content);
    }
    /* One contiguous run of wrong lines. */
    bool contiguous = true;
    for (long k = first_bad; k <= last_bad; k++) contiguous &= ls[k] != L_GOOD;
    if (contiguous) {
        long a = idx[first_bad], b = idx[last_bad];
        bool exact = (first_bad == 0 ? a == 0 : idx[first_bad - 1] == a - 1) &&
                     (last_bad == n - 1 ? b == L - 1 : idx[last_bad + 1] == b + 1);
        char span[96];
        span_is(span, sizeof span, one, many, a, b);
        if (!exact) return false;
        if (a == 0)
            return say(buf, len, "%s %s, the rest right: the first tile or block is skipped or computed "
                       "differently - a loop or index that starts late (at 1 or at the tile size)", span, content);
        return say(buf, len, "%s %s, all the others right: one tile or block was skipped or computed at the "
                   "wrong place - check that block's index arithmetic", span, content);
    }
    if (single_elements || n_bad < 2 || probes_per_line < 4) return false;
    return say(buf, len, "%ld whole %s are %s (the first: %s %ld), all the other %s right: some %s are never "
               "handed to a thread or block - check how they are divided", n_bad, many, content, one,
               idx[first_bad], many, many);
}

static bool whole_lines(const view *v, bool by_rows, char *buf, size_t len) {
    if (v->vector && by_rows) return false;
    long n = by_rows ? v->n_rows : v->n_cols;
    unsigned char *ls = calloc((size_t)n + 1, 1);
    if (!ls) return false;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++) {
            int s = state_of(v, a, b);
            if (s == S_SKIP) continue;
            unsigned char *l = &ls[by_rows ? a : b];
            unsigned char want = s == S_RIGHT ? L_GOOD : L_BAD;
            *l = *l == L_NONE ? want : *l == want ? want : L_MIXED;
        }
    long probes_per_line = by_rows ? v->n_cols : v->n_rows;
    bool ok = (v->vector || probes_per_line >= 2) && v->n_wrong + v->n_unwritten >= (v->vector ? 8 : 4) &&
              describe_line_set(v, by_rows ? v->rows : v->cols, ls, n, by_rows ? v->R : v->C, probes_per_line,
                                v->vector ? "element" : by_rows ? "row" : "column",
                                v->vector ? "elements" : by_rows ? "rows" : "columns", v->vector, buf, len);
    free(ls);
    return ok;
}

/* A 2-D output whose wrong elements repeat in memory order with a period that is not the row's. */
static bool periodic_in_memory(const view *v, char *buf, size_t len) {
    if (v->vector || v->n_wrong + v->n_unwritten < 8) return false;
    for (long P = 2; P <= 64 && 2 * P <= (long)v->count; P *= 2) {
        if (v->C % P == 0) continue;  /* then it is a set of columns, described as such */
        unsigned char res[64] = {0};
        bool consistent = true;
        for (long a = 0; a < v->n_rows && consistent; a++)
            for (long b = 0; b < v->n_cols && consistent; b++) {
                int s = state_of(v, a, b);
                if (s == S_SKIP) continue;
                unsigned char want = s == S_RIGHT ? L_GOOD : L_BAD, *r = &res[flat_of(v, a, b) % P];
                if (*r == L_NONE) *r = want;
                else consistent = *r == want;
            }
        long bad_res = 0, good_res = 0;
        for (long i = 0; i < P; i++) { bad_res += res[i] == L_BAD; good_res += res[i] == L_GOOD; }
        if (!consistent || !bad_res || !good_res || !region_evidence(v)) continue;
        if (P == 2)
            return say(buf, len, "every other element in memory order is %s, the others right: a stride of 2 in "
                       "the index (2*i where i belongs), or each thread does two elements and stores one",
                       bad_content(v));
        return say(buf, len, "%ld of every %ld elements in memory order are %s, the others right: the index "
                   "mapping skips some - check the stride and the tile arithmetic", bad_res, P, bad_content(v));
    }
    return false;
}

/* ---- values --------------------------------------------------------------------------------- */

/* Values no computation on these inputs could give: memory read from outside an array. */
static bool garbage_values(const view *v, char *buf, size_t len) {
    long n_huge = 0;
    double example = 0, example_ref = 0;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++) {
            if (state_of(v, a, b) != S_WRONG) continue;
            long p = flat_of(v, a, b);
            double g = got_at(v, p);
            if (isinf(g) || fabs(g) > 1e6 * (v->max_ref + v->rms)) {
                if (n_huge++ == 0) { example = g; example_ref = ref_at(v, p); }
            }
        }
    /* One such value is enough: no arithmetic on these inputs reaches it (short of an overflow). */
    if (n_huge == 0 || 2 * n_huge < v->n_wrong) return false;
    return say(buf, len, "%ld element%s absurdly large (%.3g where %.3g was expected): memory read from outside "
               "an array - an index past the end of a row or of the input (a loop bound <= where < belongs), "
               "uninitialised memory, or an overflow", n_huge, n_huge == 1 ? " is" : "s are", example, example_ref);
}

/* Element (i, j) of the error got - ref, or of the reference itself. */
static double matrix_at(const view *v, bool error, long p) {
    return error ? got_at(v, p) - ref_at(v, p) : ref_at(v, p);
}

/* Is the error (or the reference) a row factor times a column factor, X[i][j] = X[i][q] X[p][j] / X[p][q]
 * around its largest element (p, q)? The pivot's own row and column fit trivially and are not counted;
 * elements too small to tell (within the rounding) are not counted either. */
static bool rank_one(const view *v, bool error) {
    long ap = -1, bq = -1;
    double biggest = 0;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++) {
            if (state_of(v, a, b) == S_SKIP || (error && state_of(v, a, b) != S_WRONG)) continue;
            double x = fabs(matrix_at(v, error, flat_of(v, a, b)));
            if (isfinite(x) && x > biggest) { biggest = x; ap = a; bq = b; }
        }
    if (ap < 0) return false;
    double x_pq = matrix_at(v, error, flat_of(v, ap, bq));
    long informative = 0, hits = 0;
    for (long a = 0; a < v->n_rows; a++) {
        if (a == ap || state_of(v, a, bq) == S_SKIP) continue;
        double x_iq = matrix_at(v, error, flat_of(v, a, bq));
        if (!isfinite(x_iq)) continue;
        for (long b = 0; b < v->n_cols; b++) {
            if (b == bq || state_of(v, a, b) == S_SKIP) continue;
            long p = flat_of(v, a, b);
            double x = matrix_at(v, error, p), x_pj = matrix_at(v, error, flat_of(v, ap, b));
            if (!isfinite(x) || !isfinite(x_pj)) continue;
            double predicted = x_iq * x_pj / x_pq;
            double noise = v->match_rel * (fabs(ref_at(v, p)) + 3 * v->rms);
            if (fabs(x) <= 3 * noise && fabs(predicted) <= 3 * noise) continue;
            informative++;
            hits += fabs(x - predicted) <= 0.01 * fmax(fabs(x), fabs(predicted)) + 2 * noise;
        }
    }
    return hits >= 8 && 10 * hits >= 9 * informative;
}

/* The error of a matrix is a row factor times a column factor: each sum has one term too many or too
 * few (A[i][k] * B[k][j] for one k), which is what off-by-one k loops do. Not when the reference is such
 * a product itself (a sum of one term, K = 1): then any wrong index gives the same shape. */
static bool rank_one_error(const view *v, char *buf, size_t len) {
    if (v->vector || v->n_rows < 3 || v->n_cols < 3 || 10 * v->n_unwritten > v->n_compared ||
        4 * v->n_wrong < v->n_compared)
        return false;
    if (!rank_one(v, true) || rank_one(v, false)) return false;
    return say(buf, len, "the error of element (i, j) is a row factor times a column factor: each sum has one "
               "term too many or too few - check the bounds of the loop over k (start at 0, stop before K: "
               "k < K)");
}

/* Most elements a little off, all the same way. */
static bool same_sign_drift(const view *v, char *buf, size_t len) {
    /* 32 or more, 90% one way: not the luck of symmetric noise (a chance of about 1e-5). */
    if (v->n_unwritten || v->n_wrong < 32 || 2 * v->n_wrong < v->n_compared) return false;
    long above = 0, below = 0, small = 0;
    for (long a = 0; a < v->n_rows; a++)
        for (long b = 0; b < v->n_cols; b++) {
            if (state_of(v, a, b) != S_WRONG) continue;
            long p = flat_of(v, a, b);
            double r = ref_at(v, p), e = got_at(v, p) - r;
            above += e > 0;
            below += e < 0;
            small += fabs(e) <= 0.5 * (fabs(r) + v->rms);
        }
    long most = above > below ? above : below;
    if (10 * most < 9 * v->n_wrong || 10 * small < 9 * v->n_wrong) return false;
    return say(buf, len, "most elements are a little %s the expected, all the same way: a term missing or added "
               "in each sum - check the loop bounds (k < K) and the starting value", above > below ? "above" : "below");
}

/* ---- the entry points ------------------------------------------------------------------------- */

bool gr_pattern_hint(gr_dtype dtype, const void *got, const void *ref, size_t count, long row_len,
                     const unsigned char *rows_mask, char *buf, size_t len) {
    if (len) buf[0] = '\0';
    if (!got || !ref || count == 0 || !buf || len == 0) return false;
    if (dtype != GR_F32 && dtype != GR_F64 && dtype != GR_BF16 && dtype != GR_F16) return false;
    view v = {.dtype = dtype, .ref_dtype = gr_ref_dtype(dtype), .got = got, .ref = ref, .count = count,
              .mask = rows_mask};
    v.mask_row_len = row_len < 1 ? 1 : row_len;
    v.vector = v.mask_row_len <= 1 || (size_t)v.mask_row_len >= count || count % (size_t)v.mask_row_len != 0;
    v.C = v.vector ? (long)count : v.mask_row_len;
    v.R = v.vector ? 1 : (long)(count / (size_t)v.mask_row_len);
    /* Rounding of the type, generously: TF32 tensor cores or bf16 stores must still count as right. */
    v.match_rel = dtype == GR_BF16 ? 2e-2 : dtype == GR_F16 ? 4e-3 : 2e-3;
    v.exact_rel = dtype == GR_BF16 ? 8e-3 : dtype == GR_F16 ? 1e-3 : dtype == GR_F32 ? 1e-5 : 1e-9;

    bool found = false;
    if (choose_probes(&v)) {
        classify(&v);
        if (v.n_compared > 0 && v.n_wrong + v.n_unwritten > 0) {
            found = all_unwritten(&v, buf, len);
            if (!found && v.rms > 0)
                found = all_zero(&v, buf, len) || constant_factor(&v, buf, len) ||
                        constant_offset(&v, buf, len) || transposed(&v, buf, len) || shifted(&v, buf, len) ||
                        running_sum(&v, buf, len) || right_block_only(&v, buf, len) ||
                        right_prefix_only(&v, buf, len) || whole_lines(&v, true, buf, len) ||
                        whole_lines(&v, false, buf, len) || periodic_in_memory(&v, buf, len) ||
                        garbage_values(&v, buf, len) || rank_one_error(&v, buf, len) ||
                        same_sign_drift(&v, buf, len);
        }
    }
    free(v.rows);
    free(v.cols);
    free(v.state);
    if (!found) buf[0] = '\0';
    return found;
}

/* The openings of gr_case_check_guards' messages (case.c). */
bool gr_guard_hint(const char *m, char *buf, size_t len) {
    if (!buf || len == 0) return false;
    buf[0] = '\0';
    if (!m) return false;
    if (!strncmp(m, "wrote past the end of ", strlen("wrote past the end of ")))
        return say(buf, len, "a store landed past the end of the array: an index one too far - a store shifted "
                   "by one element or one row (i*N + j + 1, (i+1)*N + j), a loop bound <= where < belongs, or "
                   "threads past the end not turned away (if (i < n))");
    if (!strncmp(m, "wrote before the start of ", strlen("wrote before the start of ")))
        return say(buf, len, "a store landed before the start of the array: an index one too small or negative "
                   "- a store shifted back by one element or one row (i*N + j - 1, (i-1)*N + j), or a loop "
                   "that starts at -1");
    if (!strncmp(m, "changed its input ", strlen("changed its input ")))
        return say(buf, len, "an input was written to: results or scratch values went into an input array - "
                   "check which pointer each store uses and the order of the launcher's arguments");
    return false;
}
