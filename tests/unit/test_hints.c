/* hints.c: each common mistake, made on purpose from a reference, gets its own hint; outputs that show
 * no pattern (noise, right within tolerance, one wrong element) get none. The guard hints come from
 * the real guard check's messages. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "hints.h"
#include "internal.h"

/* ---- making outputs -------------------------------------------------------------------------- */

/* Signed values in [-1, 1), replayable: a small LCG of our own so every run sees the same data. */
static double next_signed(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) / (double)(1ull << 53) * 2.0 - 1.0;
}

static float *random_floats(size_t n, uint64_t seed) {
    float *x = malloc(n * sizeof *x);
    cr_assert_not_null(x);
    for (size_t i = 0; i < n; i++) x[i] = (float)next_signed(&seed);
    return x;
}

static float *copy_of(const float *x, size_t n) {
    float *y = malloc(n * sizeof *y);
    cr_assert_not_null(y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

/* C[M][N] = A[M][K] * B[K][N] over k in [k0, k1), in double, stored as float. */
static float *matmul(const float *A, const float *B, long M, long N, long K, long k0, long k1) {
    float *C = malloc((size_t)(M * N) * sizeof *C);
    cr_assert_not_null(C);
    for (long i = 0; i < M; i++)
        for (long j = 0; j < N; j++) {
            double s = 0;
            for (long k = k0; k < k1; k++) s += (double)A[i * K + k] * B[k * N + j];
            C[i * N + j] = (float)s;
        }
    return C;
}

static char hint[512];

static bool hint_f32(const float *got, const float *ref, size_t count, long row_len, const unsigned char *mask) {
    memset(hint, 'x', sizeof hint);  /* must come back empty when there is no hint */
    bool found = gr_pattern_hint(GR_F32, got, ref, count, row_len, mask, hint, sizeof hint);
    cr_assert(found || hint[0] == '\0', "no hint, but the buffer holds '%.40s'", hint);
    cr_assert(strlen(hint) < 400, "one line, not too long: %zu characters", strlen(hint));
    cr_assert_null(strchr(hint, '\n'), "one line: %s", hint);
    return found;
}

#define assert_hint_has(words) cr_assert_not_null(strstr(hint, words), "hint lacks '%s': %s", words, hint)

/* ---- shifted --------------------------------------------------------------------------------- */

Test(hints, vector_shifted_one_element_right) {
    float *ref = random_floats(1000, 1), *got = copy_of(ref, 1000);
    for (int i = 999; i > 0; i--) got[i] = ref[i - 1];
    got[0] = NAN;
    cr_assert(hint_f32(got, ref, 1000, 1, NULL));
    assert_hint_has("shifted one element to the right");
    free(ref), free(got);
}

Test(hints, vector_shifted_one_element_left) {
    float *ref = random_floats(300, 2), *got = copy_of(ref, 300);
    for (int i = 0; i < 299; i++) got[i] = ref[i + 1];
    got[299] = NAN;
    cr_assert(hint_f32(got, ref, 300, 1, NULL));
    assert_hint_has("shifted one element to the left");
    free(ref), free(got);
}

Test(hints, matrix_shifted_one_column_right) {
    const long M = 20, N = 24;
    float *ref = random_floats(M * N, 3), *got = copy_of(ref, M * N);
    for (long r = 0; r < M; r++) {
        for (long c = N - 1; c > 0; c--) got[r * N + c] = ref[r * N + c - 1];
        got[r * N] = NAN;
    }
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("shifted one column to the right");
    assert_hint_has("C[i*N + j + 1]");
    free(ref), free(got);
}

Test(hints, matrix_shifted_one_column_left) {
    const long M = 9, N = 31;
    float *ref = random_floats(M * N, 4), *got = copy_of(ref, M * N);
    for (long p = 0; p + 1 < M * N; p++) got[p] = ref[p + 1];
    got[M * N - 1] = NAN;
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("shifted one column to the left");
    free(ref), free(got);
}

Test(hints, matrix_shifted_one_row_down) {
    const long M = 17, N = 17;
    float *ref = random_floats(M * N, 5), *got = copy_of(ref, M * N);
    for (long p = M * N - 1; p >= N; p--) got[p] = ref[p - N];
    for (long c = 0; c < N; c++) got[c] = NAN;
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("shifted one row down");
    assert_hint_has("C[(i + 1)*N + j]");
    free(ref), free(got);
}

Test(hints, matrix_shifted_one_row_up) {
    const long M = 64, N = 33;
    float *ref = random_floats(M * N, 6), *got = copy_of(ref, M * N);
    for (long p = 0; p < (M - 1) * N; p++) got[p] = ref[p + N];
    for (long c = 0; c < N; c++) got[(M - 1) * N + c] = (float)next_signed(&(uint64_t){c + 1});
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("shifted one row up");
    free(ref), free(got);
}

/* ---- transposed ------------------------------------------------------------------------------ */

Test(hints, square_transposed) {
    const long n = 16;
    float *ref = random_floats(n * n, 7), *got = copy_of(ref, n * n);
    for (long r = 0; r < n; r++)
        for (long c = 0; c < n; c++) got[r * n + c] = ref[c * n + r];
    cr_assert(hint_f32(got, ref, n * n, n, NULL));
    assert_hint_has("transpose of the expected");
    free(ref), free(got);
}

Test(hints, two_by_two_transposed_is_enough) {
    const float ref[] = {1.5f, -0.25f, 0.75f, 2.0f}, got[] = {1.5f, 0.75f, -0.25f, 2.0f};
    cr_assert(hint_f32(got, ref, 4, 2, NULL));
    assert_hint_has("transpose");
}

Test(hints, non_square_written_column_major) {
    const long M = 12, N = 20;
    float *ref = random_floats(M * N, 8), *got = copy_of(ref, M * N);
    for (long i = 0; i < M; i++)
        for (long j = 0; j < N; j++) got[j * M + i] = ref[i * N + j];
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("column-major");
    assert_hint_has("C[j*M + i]");
    free(ref), free(got);
}

/* ---- only the first tile, or all but the last partial tile ------------------------------------ */

static float *rows_from(const float *ref, long M, long N, long first_wrong_row, float value) {
    float *got = copy_of(ref, (size_t)(M * N));
    for (long p = first_wrong_row * N; p < M * N; p++) got[p] = value;
    return got;
}

Test(hints, only_the_first_16_rows) {
    const long M = 64, N = 40;
    float *ref = random_floats(M * N, 9), *got = rows_from(ref, M, N, 16, NAN);
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("only the first 16 rows are right");
    assert_hint_has("rows 16 to 63 are never written");
    assert_hint_has("first tile");
    free(ref), free(got);
}

Test(hints, only_the_first_row) {
    const long M = 10, N = 12;
    float *ref = random_floats(M * N, 10), *got = rows_from(ref, M, N, 1, 0.0f);
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("only the first row is right; rows 1 to 9 are 0");
    free(ref), free(got);
}

Test(hints, only_the_first_32_columns) {
    const long M = 20, N = 100;
    float *ref = random_floats(M * N, 11), *got = copy_of(ref, M * N);
    for (long r = 0; r < M; r++)
        for (long c = 32; c < N; c++) got[r * N + c] = NAN;
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("only the first 32 columns are right; columns 32 to 99");
    free(ref), free(got);
}

Test(hints, only_the_first_block_of_a_vector) {
    float *ref = random_floats(1000, 12), *got = copy_of(ref, 1000);
    for (int i = 256; i < 1000; i++) got[i] = NAN;
    cr_assert(hint_f32(got, ref, 1000, 1, NULL));
    assert_hint_has("only the first 256 elements are right");
    assert_hint_has("first tile or block");
    free(ref), free(got);
}

Test(hints, only_the_first_block_in_memory_order_of_a_matrix) {
    const long M = 30, N = 30;
    float *ref = random_floats(M * N, 13), *got = copy_of(ref, M * N);
    for (long p = 256; p < M * N; p++) got[p] = NAN;
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("only the first 256 elements in memory order");
    free(ref), free(got);
}

Test(hints, last_partial_tile_of_rows_missing) {
    const long M = 100, N = 40;
    float *ref = random_floats(M * N, 14), *got = rows_from(ref, M, N, 96, NAN);
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("only the first 96 rows are right; rows 96 to 99 are never written");
    assert_hint_has("past the last whole tile of 32");
    assert_hint_has("ceil(rows / 32)");
    free(ref), free(got);
}

Test(hints, last_partial_tile_of_17_rows_is_the_16_row_tile) {
    const long M = 17, N = 17;
    float *ref = random_floats(M * N, 15), *got = rows_from(ref, M, N, 16, NAN);
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("only the first 16 rows are right; row 16 is never written");
    assert_hint_has("last whole tile of 16");
    assert_hint_has("one short");
    free(ref), free(got);
}

Test(hints, last_partial_tile_of_columns_holds_garbage) {
    const long M = 24, N = 70;
    float *ref = random_floats(M * N, 16), *got = copy_of(ref, M * N);
    uint64_t s = 99;
    for (long r = 0; r < M; r++)
        for (long c = 64; c < N; c++) got[r * N + c] = (float)(5 + next_signed(&s));
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("columns 64 to 69 are wrong");
    assert_hint_has("past the last whole tile of 64");
    free(ref), free(got);
}

Test(hints, last_partial_tiles_of_rows_and_columns) {
    const long M = 40, N = 50;
    float *ref = random_floats(M * N, 17), *got = copy_of(ref, M * N);
    for (long r = 0; r < M; r++)
        for (long c = 0; c < N; c++)
            if (r >= 32 || c >= 48) got[r * N + c] = NAN;
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("top-left 32 x 48 block");
    assert_hint_has("partial tiles");
    free(ref), free(got);
}

Test(hints, last_partial_block_of_a_vector) {
    float *ref = random_floats(1000, 18), *got = copy_of(ref, 1000);
    for (int i = 768; i < 1000; i++) got[i] = NAN;
    cr_assert(hint_f32(got, ref, 1000, 1, NULL));
    assert_hint_has("past the last whole tile of 256");
    assert_hint_has("if (i < n)");
    free(ref), free(got);
}

Test(hints, a_vector_short_of_its_end) {
    float *ref = random_floats(1000, 19), *got = copy_of(ref, 1000);
    for (int i = 990; i < 1000; i++) got[i] = NAN;
    cr_assert(hint_f32(got, ref, 1000, 1, NULL));
    assert_hint_has("only the first 990 elements are right");
    assert_hint_has("stops early");
    free(ref), free(got);
}

/* ---- accumulators, factors, offsets ---------------------------------------------------------- */

Test(hints, accumulator_not_reset_gives_a_running_sum) {
    const long M = 8, N = 8;
    float *ref = random_floats(M * N, 20), *got = copy_of(ref, M * N);
    float sum = 0;
    for (long p = 0; p < M * N; p++) got[p] = sum += ref[p];
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("running sum");
    assert_hint_has("not reset");
    free(ref), free(got);
}

Test(hints, accumulator_not_reset_on_two_by_two) {
    const float ref[] = {0.5f, -1.25f, 2.0f, 0.75f};
    const float got[] = {0.5f, -0.75f, 1.25f, 2.0f};
    cr_assert(hint_f32(got, ref, 4, 2, NULL));
    assert_hint_has("running sum");
}

Test(hints, every_element_doubled) {
    float *ref = random_floats(500, 21), *got = copy_of(ref, 500);
    for (int i = 0; i < 500; i++) got[i] = 2 * ref[i];
    cr_assert(hint_f32(got, ref, 500, 25, NULL));
    assert_hint_has("every element is 2.00x the expected");
    free(ref), free(got);
}

Test(hints, one_element_doubled_exactly) {
    const float ref[] = {0.3712f}, got[] = {0.7424f};
    cr_assert(hint_f32(got, ref, 1, 1, NULL));
    assert_hint_has("2.00x");
}

Test(hints, every_element_halved) {
    float *ref = random_floats(300, 22), *got = copy_of(ref, 300);
    for (int i = 0; i < 300; i++) got[i] = 0.5f * ref[i];
    cr_assert(hint_f32(got, ref, 300, 1, NULL));
    assert_hint_has("0.50x");
    assert_hint_has("division");
    free(ref), free(got);
}

Test(hints, every_element_scaled_by_an_odd_factor) {
    float *ref = random_floats(300, 23), *got = copy_of(ref, 300);
    for (int i = 0; i < 300; i++) got[i] = 1.37f * ref[i];
    cr_assert(hint_f32(got, ref, 300, 30, NULL));
    assert_hint_has("1.37x");
    free(ref), free(got);
}

Test(hints, sign_flipped) {
    float *ref = random_floats(64, 24), *got = copy_of(ref, 64);
    for (int i = 0; i < 64; i++) got[i] = -ref[i];
    cr_assert(hint_f32(got, ref, 64, 8, NULL));
    assert_hint_has("opposite");
    free(ref), free(got);
}

Test(hints, constant_offset) {
    float *ref = random_floats(200, 25), *got = copy_of(ref, 200);
    for (int i = 0; i < 200; i++) got[i] = ref[i] + 0.25f;
    cr_assert(hint_f32(got, ref, 200, 20, NULL));
    assert_hint_has("off by the same amount (+0.25)");
    free(ref), free(got);
}

Test(hints, all_zero) {
    float *ref = random_floats(50, 26), got[50] = {0};
    cr_assert(hint_f32(got, ref, 50, 10, NULL));
    assert_hint_has("every element is 0");
    free(ref);
}

Test(hints, a_single_zero_for_a_single_element) {
    const float ref[] = {-0.42f}, got[] = {0.0f};
    cr_assert(hint_f32(got, ref, 1, 1, NULL));
    assert_hint_has("every element is 0");
}

/* ---- unwritten (NaN) in a pattern ------------------------------------------------------------ */

Test(hints, nothing_written) {
    float *ref = random_floats(40, 27), got[40];
    for (int i = 0; i < 40; i++) got[i] = NAN;
    cr_assert(hint_f32(got, ref, 40, 8, NULL));
    assert_hint_has("nothing was written");
    assert_hint_has("whole tiles");
    free(ref);
}

Test(hints, every_other_element_unwritten) {
    float *ref = random_floats(1000, 28), *got = copy_of(ref, 1000);
    for (int i = 1; i < 1000; i += 2) got[i] = NAN;
    cr_assert(hint_f32(got, ref, 1000, 1, NULL));
    assert_hint_has("every other element (the odd ones) is never written");
    free(ref), free(got);
}

Test(hints, every_other_element_of_an_odd_width_matrix) {
    const long M = 15, N = 17;
    float *ref = random_floats(M * N, 29), *got = copy_of(ref, M * N);
    for (long p = 0; p < M * N; p += 2) got[p] = NAN;
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("every other element in memory order");
    free(ref), free(got);
}

Test(hints, a_stripe_of_columns_unwritten) {
    const long M = 16, N = 32;
    float *ref = random_floats(M * N, 30), *got = copy_of(ref, M * N);
    for (long r = 0; r < M; r++)
        for (long c = 3; c < N; c += 4) got[r * N + c] = NAN;
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("one column in every 4 (index % 4 == 3)");
    free(ref), free(got);
}

Test(hints, a_block_of_rows_in_the_middle_unwritten) {
    const long M = 64, N = 16;
    float *ref = random_floats(M * N, 31), *got = copy_of(ref, M * N);
    for (long p = 16 * N; p < 32 * N; p++) got[p] = NAN;
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("rows 16 to 31 are never written");
    free(ref), free(got);
}

/* ---- sums with a term too many or too few ------------------------------------------------------ */

Test(hints, sum_missing_its_last_term) {
    const long M = 17, N = 19, K = 23;
    float *A = random_floats(M * K, 32), *B = random_floats(K * N, 33);
    float *ref = matmul(A, B, M, N, K, 0, K), *got = matmul(A, B, M, N, K, 0, K - 1);
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("one term too many or too few");
    assert_hint_has("k < K");
    free(A), free(B), free(ref), free(got);
}

Test(hints, sum_starting_at_k_1) {
    const long M = 64, N = 33, K = 100;
    float *A = random_floats(M * K, 34), *B = random_floats(K * N, 35);
    float *ref = matmul(A, B, M, N, K, 0, K), *got = matmul(A, B, M, N, K, 1, K);
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("one term too many or too few");
    free(A), free(B), free(ref), free(got);
}

Test(hints, sum_with_one_extra_term_read_past_the_row) {
    /* k <= K: the extra term is A[i][K] * B[K][j], i.e. the next row's first A times whatever lies past B. */
    const long M = 20, N = 20, K = 20;
    float *A = random_floats(M * K + 1, 36), *B = random_floats(K * N + N, 37);
    float *ref = matmul(A, B, M, N, K, 0, K), *got = copy_of(ref, M * N);
    for (long i = 0; i < M; i++)
        for (long j = 0; j < N; j++) got[i * N + j] += A[i * K + K] * B[K * N + j];
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("one term too many or too few");
    free(A), free(B), free(ref), free(got);
}

Test(hints, small_drift_all_one_way) {
    float *ref = random_floats(400, 38), *got = copy_of(ref, 400);
    uint64_t s = 5;
    for (int i = 0; i < 400; i++) got[i] = ref[i] + 0.05f * (float)(1.5 + next_signed(&s));
    cr_assert(hint_f32(got, ref, 400, 1, NULL));
    assert_hint_has("a little above the expected");
    free(ref), free(got);
}

Test(hints, values_read_from_outside_an_array) {
    const long M = 16, N = 16;
    float *ref = random_floats(M * N, 39), *got = copy_of(ref, M * N);
    for (long p = 0; p < M * N; p += 3) got[p] = 3e30f;
    cr_assert(hint_f32(got, ref, M * N, N, NULL));
    assert_hint_has("86 elements are absurdly large (3e+30 where");
    free(ref), free(got);
}

Test(hints, one_infinite_element_read_past_an_array) {
    const float ref[] = {0.127f}, got[] = {INFINITY};
    cr_assert(hint_f32(got, ref, 1, 1, NULL));
    assert_hint_has("1 element is absurdly large (inf where 0.127");
}

/* ---- other types, masks, large outputs -------------------------------------------------------- */

static uint16_t to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

Test(hints, bf16_output_doubled) {
    float *ref = random_floats(256, 40);
    uint16_t got[256];
    for (int i = 0; i < 256; i++) got[i] = to_bf16(2 * ref[i]);
    cr_assert(gr_pattern_hint(GR_BF16, got, ref, 256, 16, NULL, hint, sizeof hint));
    assert_hint_has("2.00x");
    free(ref);
}

Test(hints, bf16_output_rounded_but_right_gets_no_hint) {
    float *ref = random_floats(256, 41);
    uint16_t got[256];
    for (int i = 0; i < 256; i++) got[i] = to_bf16(ref[i]);
    cr_assert_not(gr_pattern_hint(GR_BF16, got, ref, 256, 16, NULL, hint, sizeof hint), "hint: %s", hint);
}

Test(hints, f64_output_transposed) {
    const long n = 12;
    double ref[144], got[144];
    uint64_t s = 42;
    for (long p = 0; p < n * n; p++) ref[p] = next_signed(&s);
    for (long r = 0; r < n; r++)
        for (long c = 0; c < n; c++) got[r * n + c] = ref[c * n + r];
    cr_assert(gr_pattern_hint(GR_F64, got, ref, n * n, n, NULL, hint, sizeof hint));
    assert_hint_has("transpose");
}

Test(hints, sampled_rows_only_are_used) {
    /* Only some rows have a reference (the others hold garbage in ref); a column shift in those. */
    const long M = 300, N = 64;
    float *ref = random_floats(M * N, 43), *got = copy_of(ref, M * N);
    unsigned char mask[300] = {0};
    for (long r = 0; r < M; r += 7) mask[r] = 1;
    mask[M - 1] = 1;
    for (long p = M * N - 1; p > 0; p--) got[p] = ref[p - 1];
    got[0] = NAN;
    for (long r = 0; r < M; r++)
        if (!mask[r]) for (long c = 0; c < N; c++) ref[r * N + c] = 1e9f;
    cr_assert(hint_f32(got, ref, M * N, N, mask));
    assert_hint_has("shifted one column to the right");
    free(ref), free(got);
}

Test(hints, large_vector_is_sampled_and_still_seen) {
    const size_t n = 3000001;
    float *ref = random_floats(n, 44), *got = copy_of(ref, n);
    for (size_t i = 1; i < n; i += 2) got[i] = NAN;
    cr_assert(hint_f32(got, ref, n, 1, NULL));
    assert_hint_has("every other element");
    free(ref), free(got);
}

Test(hints, large_matrix_first_64_rows) {
    const long M = 2000, N = 1000;
    float *ref = random_floats((size_t)(M * N), 45), *got = rows_from(ref, M, N, 64, NAN);
    cr_assert(hint_f32(got, ref, (size_t)(M * N), N, NULL));
    assert_hint_has("only the first 64 rows are right");
    free(ref), free(got);
}

Test(hints, large_matrix_last_partial_tile) {
    const long M = 1500, N = 1000;
    float *ref = random_floats((size_t)(M * N), 46), *got = rows_from(ref, M, N, 1408, NAN);
    cr_assert(hint_f32(got, ref, (size_t)(M * N), N, NULL));
    assert_hint_has("past the last whole tile of 128");
    free(ref), free(got);
}

/* ---- no pattern, no hint ---------------------------------------------------------------------- */

Test(hints_negative, random_noise_matrix) {
    float *ref = random_floats(40 * 30, 50), *got = random_floats(40 * 30, 51);
    cr_assert_not(hint_f32(got, ref, 40 * 30, 30, NULL), "hint: %s", hint);
    free(ref), free(got);
}

Test(hints_negative, random_noise_vector) {
    float *ref = random_floats(5000, 52), *got = random_floats(5000, 53);
    cr_assert_not(hint_f32(got, ref, 5000, 1, NULL), "hint: %s", hint);
    free(ref), free(got);
}

Test(hints_negative, random_noise_tiny_outputs) {
    for (uint64_t seed = 1; seed < 200; seed++) {
        for (long n = 1; n <= 9; n++) {
            float *ref = random_floats((size_t)n, seed * 2), *got = random_floats((size_t)n, seed * 2 + 1);
            cr_assert_not(hint_f32(got, ref, (size_t)n, n >= 4 ? 2 : 1, NULL), "seed %lu n %ld: %s",
                          (unsigned long)seed, n, hint);
            free(ref), free(got);
        }
    }
}

Test(hints_negative, right_within_tolerance) {
    float *ref = random_floats(1000, 54), *got = copy_of(ref, 1000);
    uint64_t s = 7;
    for (int i = 0; i < 1000; i++) got[i] = ref[i] * (float)(1 + 1e-6 * next_signed(&s));
    cr_assert_not(hint_f32(got, ref, 1000, 40, NULL), "hint: %s", hint);
    free(ref), free(got);
}

Test(hints_negative, a_single_wrong_element_anywhere) {
    const long M = 33, N = 31;
    const long where[] = {0, 1, N - 1, N, 500, M * N - N, M * N - 2, M * N - 1};
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        float *ref = random_floats(M * N, 55), *got = copy_of(ref, M * N);
        got[where[w]] = ref[where[w]] + 0.75f;
        cr_assert_not(hint_f32(got, ref, M * N, N, NULL), "wrong at %ld: %s", where[w], hint);
        cr_assert_not(hint_f32(got, ref, M * N, 1, NULL), "vector, wrong at %ld: %s", where[w], hint);
        got[where[w]] = NAN;
        cr_assert_not(hint_f32(got, ref, M * N, N, NULL), "unwritten at %ld: %s", where[w], hint);
        free(ref), free(got);
    }
}

Test(hints_negative, a_single_wrong_element_at_a_tile_boundary) {
    float *ref = random_floats(1025, 56), *got = copy_of(ref, 1025);
    got[1024] = 3.0f;
    cr_assert_not(hint_f32(got, ref, 1025, 1, NULL), "hint: %s", hint);
    free(ref), free(got);
}

Test(hints_negative, a_few_scattered_wrong_elements) {
    float *ref = random_floats(2000, 57), *got = copy_of(ref, 2000);
    const int where[] = {17, 400, 401, 1234, 1999};
    for (int k = 0; k < 5; k++) got[where[k]] = -ref[where[k]] + 0.5f;
    cr_assert_not(hint_f32(got, ref, 2000, 40, NULL), "matrix: %s", hint);
    cr_assert_not(hint_f32(got, ref, 2000, 1, NULL), "vector: %s", hint);
    free(ref), free(got);
}

Test(hints_negative, smooth_data_with_one_wrong_element_is_not_a_shift) {
    float ref[500], got[500];
    for (int i = 0; i < 500; i++) ref[i] = got[i] = (float)sin(i * 0.001);
    got[250] = 9.0f;
    cr_assert_not(hint_f32(got, ref, 500, 1, NULL), "hint: %s", hint);
}

Test(hints_negative, all_zero_reference_and_integer_types) {
    float ref[16] = {0}, got[16];
    for (int i = 0; i < 16; i++) got[i] = (float)i;
    cr_assert_not(hint_f32(got, ref, 16, 4, NULL), "hint: %s", hint);
    int32_t iref[4] = {1, 2, 3, 4}, igot[4] = {2, 4, 6, 8};
    cr_assert_not(gr_pattern_hint(GR_I32, igot, iref, 4, 1, NULL, hint, sizeof hint));
    cr_assert_eq(hint[0], '\0');
}

/* ---- guard failures --------------------------------------------------------------------------- */

static const gr_exercise HOST_EX = {.name = "unit_hints", .on_host = true};

static void make_case(gr_case *c) {
    char err[256] = "";
    gr_case_init(c, &HOST_EX, GR_SHAPE(4), 0x4147);
    gr_input(c, "A", GR_F32, 4, GR_FILL_SIGNED);
    gr_output(c, "C", GR_F32, 4, 2);
    cr_assert(gr_case_alloc(c, err, sizeof err), "alloc: %s", err);
    gr_case_fill_inputs(c);
    cr_assert(gr_case_upload_inputs(c, err, sizeof err), "upload: %s", err);
    cr_assert(gr_case_poison_outputs(c, err, sizeof err), "poison: %s", err);
}

Test(guard_hints, a_store_past_the_end) {
    gr_case c;
    char msg[768] = "";
    make_case(&c);
    float *C = gr_ptr(&c, "C");
    for (int i = 0; i < 4; i++) C[i + 1] = 1.0f;  /* C[i*N + j + 1] */
    cr_assert_not(gr_case_check_guards(&c, msg, sizeof msg));
    cr_assert(gr_guard_hint(msg, hint, sizeof hint), "message: %s", msg);
    assert_hint_has("past the end");
    assert_hint_has("(i+1)*N + j");
    gr_case_free(&c);
}

Test(guard_hints, a_store_before_the_start) {
    gr_case c;
    char msg[768] = "";
    make_case(&c);
    ((float *)gr_ptr(&c, "C"))[-1] = 1.0f;
    cr_assert_not(gr_case_check_guards(&c, msg, sizeof msg));
    cr_assert(gr_guard_hint(msg, hint, sizeof hint), "message: %s", msg);
    assert_hint_has("before the start");
    gr_case_free(&c);
}

Test(guard_hints, a_store_into_an_input) {
    gr_case c;
    char msg[768] = "";
    make_case(&c);
    ((float *)gr_ptr(&c, "A"))[2] += 1.0f;
    cr_assert_not(gr_case_check_guards(&c, msg, sizeof msg));
    cr_assert(gr_guard_hint(msg, hint, sizeof hint), "message: %s", msg);
    assert_hint_has("input was written to");
    gr_case_free(&c);
}

Test(guard_hints, other_messages_get_none) {
    cr_assert_not(gr_guard_hint("out of host memory checking guard bands", hint, sizeof hint));
    cr_assert_eq(hint[0], '\0');
    cr_assert_not(gr_guard_hint(NULL, hint, sizeof hint));
}
