/* The whole grader pipeline without a GPU: gr_main on fake host exercises (.on_host = true, like
 * 01_matmul_cpu) that are deliberately right, wrong, unwritten, out of bounds, input-mutating,
 * crashing, hanging or caching, read back through the JSON-lines results file.
 *
 * gr_main forks a child per exercise; Criterion runs each test in its own process already, so the
 * static state below (record_path, the stale cache) is per test. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gemm.h"
#include "grader.h"
#include "jsonl.h"
#include "ref/references.h"
#include "rng.h"
#include "unit_helpers.h"

#define M_OF(s) ((s)->d[0])
#define N_OF(s) ((s)->d[1])
#define K_OF(s) ((s)->d[2])

/* ---- a tiny matrix product, described as check.c describes 01_matmul_cpu ------------------------ */

static void mm_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    gr_input(c, "A", GR_F32, (size_t)(M_OF(s) * K_OF(s)), GR_FILL_SIGNED);
    gr_input(c, "B", GR_F32, (size_t)(K_OF(s) * N_OF(s)), GR_FILL_SIGNED);
    gr_output(c, "C", GR_F32, (size_t)(M_OF(s) * N_OF(s)), N_OF(s));
    c->rows = M_OF(s);
}

static void mm_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    ref_matmul(gr_in(c, "A"), gr_in(c, "B"), gr_ref(c, "C"), M_OF(s), N_OF(s), K_OF(s), r0, r1);
}

static double mm_tolerance(const gr_shape *s) { return GR_EPS_F32 * (4.0 * sqrt((double)K_OF(s)) + 4.0); }
static double mm_flops(const gr_shape *s) { return 2.0 * M_OF(s) * N_OF(s) * K_OF(s); }
static double mm_bytes(const gr_shape *s) {
    return 4.0 * ((double)M_OF(s) * K_OF(s) + (double)K_OF(s) * N_OF(s) + (double)M_OF(s) * N_OF(s));
}

static double mm_freivalds(gr_case *c) {
    const gr_shape *s = &c->shape;
    return gr_freivalds_f32(gr_in(c, "A"), gr_in(c, "B"), gr_find(c, "C")->host, M_OF(s), N_OF(s), K_OF(s), c->check_seed);
}

static long mm_count(gr_case *c) { return M_OF(&c->shape) * N_OF(&c->shape); }

/* The right answer, computed from what the launcher is given. */
static void mm_compute(gr_case *c, float *C) {
    const gr_shape *s = &c->shape;
    ref_matmul(gr_ptr(c, "A"), gr_ptr(c, "B"), C, M_OF(s), N_OF(s), K_OF(s), 0, M_OF(s));
}

/* ---- the launchers: one behaviour each ----------------------------------------------------------- */

static void launch_correct(gr_case *c, cudaStream_t st) {
    (void)st;
    mm_compute(c, gr_ptr(c, "C"));
}

static void launch_wrong_one(gr_case *c, cudaStream_t st) {
    launch_correct(c, st);
    ((float *)gr_ptr(c, "C"))[mm_count(c) / 2] += 1.0f;
}

static void launch_unwritten_last(gr_case *c, cudaStream_t st) {
    (void)st;
    long n = mm_count(c);
    float *tmp = malloc(sizeof(float) * (size_t)n);
    mm_compute(c, tmp);
    memcpy(gr_ptr(c, "C"), tmp, sizeof(float) * (size_t)(n - 1));   /* the last element is left alone */
    free(tmp);
}

static void launch_past_end(gr_case *c, cudaStream_t st) {
    launch_correct(c, st);
    ((float *)gr_ptr(c, "C"))[mm_count(c)] = 0.0f;   /* one element past the end: inside the guard */
}

static void launch_before_start(gr_case *c, cudaStream_t st) {
    launch_correct(c, st);
    ((float *)gr_ptr(c, "C"))[-1] = 0.0f;
}

static void launch_mutates_input(gr_case *c, cudaStream_t st) {
    launch_correct(c, st);
    ((float *)gr_ptr(c, "A"))[0] += 1.0f;
}

static void launch_crash(gr_case *c, cudaStream_t st) {
    (void)c;
    (void)st;
    raise(SIGSEGV);
}

static void launch_hang(gr_case *c, cudaStream_t st) {
    sleep(20);
    launch_correct(c, st);
}

/* Records what the launcher was given, so that a test can tell whether two runs saw the same inputs. */
static char record_path[512];

static uint64_t fnv1a(const void *p, size_t n, uint64_t h) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void launch_record(gr_case *c, cudaStream_t st) {
    const gr_shape *s = &c->shape;
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv1a(gr_ptr(c, "A"), sizeof(float) * (size_t)(M_OF(s) * K_OF(s)), h);
    h = fnv1a(gr_ptr(c, "B"), sizeof(float) * (size_t)(K_OF(s) * N_OF(s)), h);
    FILE *f = fopen(record_path, "a");
    if (f) {
        fprintf(f, "%ldx%ldx%ld %016llx %a\n", M_OF(s), N_OF(s), K_OF(s), (unsigned long long)h,
                ((const float *)gr_ptr(c, "A"))[0]);
        fclose(f);
    }
    launch_correct(c, st);
}

/* A cheat: remembers its output per shape and returns it again without computing. */
static float *stale_out;
static long stale_key[3] = {-1, -1, -1};

static void launch_stale(gr_case *c, cudaStream_t st) {
    (void)st;
    const gr_shape *s = &c->shape;
    long n = mm_count(c);
    if (stale_out && stale_key[0] == M_OF(s) && stale_key[1] == N_OF(s) && stale_key[2] == K_OF(s)) {
        memcpy(gr_ptr(c, "C"), stale_out, sizeof(float) * (size_t)n);
        return;
    }
    free(stale_out);
    stale_out = malloc(sizeof(float) * (size_t)n);
    mm_compute(c, stale_out);
    memcpy(gr_ptr(c, "C"), stale_out, sizeof(float) * (size_t)n);
    stale_key[0] = M_OF(s);
    stale_key[1] = N_OF(s);
    stale_key[2] = K_OF(s);
}

/* For sampled shapes: the rows the grader computes a reference for. This mirrors choose_rows() in
 * run.c (row 0, the last row and 64 rows drawn from the check seed, which outside grading follows
 * the case's seed and the inputs' generation); if that changes, the elements the launchers below
 * spoil may land in other rows, and the tests will say so. */
static unsigned char *sampled_mask(const gr_case *c) {
    unsigned char *mask = calloc((size_t)c->rows, 1);
    uint64_t s = gr_derive_seed(gr_derive_seed(c->seed, 0xC4EC, (uint64_t)c->generation), 0x5A3B, 0);
    mask[0] = mask[c->rows - 1] = 1;
    for (int i = 0; i < 64; i++) mask[gr_rng_next(&s) % (uint64_t)c->rows] = 1;
    return mask;
}

/* The first row after row 0 that the grader does (or does NOT) compute a reference for. */
static long first_row_past_0(const gr_case *c, bool sampled) {
    unsigned char *mask = sampled_mask(c);
    long r = 1;
    while (r < c->rows && (mask[r] != 0) != sampled) r++;
    free(mask);
    return r;
}
static long first_unsampled_row(const gr_case *c) { return first_row_past_0(c, false); }

static void launch_sampled_unwritten(gr_case *c, cudaStream_t st) {
    (void)st;
    long n = mm_count(c), N = N_OF(&c->shape), skip = first_unsampled_row(c) * N;
    float *tmp = malloc(sizeof(float) * (size_t)n), *C = gr_ptr(c, "C");
    mm_compute(c, tmp);
    for (long i = 0; i < n; i++)
        if (i != skip) C[i] = tmp[i];
    free(tmp);
}

static void launch_sampled_wrong(gr_case *c, cudaStream_t st) {
    launch_correct(c, st);
    ((float *)gr_ptr(c, "C"))[first_unsampled_row(c) * N_OF(&c->shape)] += 1.0f;
}

/* A wrong element in a sampled row other than the first and last: the shared GEMM reference computes
 * the sampled rows together (GR_MATMUL_REF names its rows form), and this one must be among them. */
static void launch_wrong_in_a_sampled_row(gr_case *c, cudaStream_t st) {
    launch_correct(c, st);
    ((float *)gr_ptr(c, "C"))[first_row_past_0(c, true) * N_OF(&c->shape) + 1] += 1.0f;
}

/* ---- the exercises ------------------------------------------------------------------------------ */

#define MM_COMMON                                                                                    \
    .what = "C = A * B on the CPU (unit-test fake)", .hint = "unit-test hint", .on_host = true,      \
    .compute = GR_ROOF_FP32, .declare = mm_declare, .reference = mm_reference,                        \
    .tolerance = mm_tolerance, .flops = mm_flops, .bytes = mm_bytes
#define MM_SHAPES .check_shapes = {GR_SHAPE(2, 3, 4), GR_SHAPE(1, 1, 1), GR_SHAPE(5, 3, 2)}
/* 100 rows and a tiny reference limit: only sampled rows get a reference; Freivalds checks the rest. */
#define MM_SAMPLED                                                                                   \
    .check_shapes = {GR_SHAPE(100, 3, 2)}, .full_reference_limit = 1, .extra_check = mm_freivalds

/* The same product through the grader's own GEMM description (gemm.h), whose sampled rows run.c
 * computes in one call. */
#define SHARED_MM                                                                                    \
    .what = "C = A * B on the CPU, the grader's matmul (unit-test fake)", .hint = "unit-test hint",  \
    .on_host = true, .compute = GR_ROOF_FP32, .declare = gr_matmul_declare,                          \
    GR_MATMUL_REF, .tolerance = mm_tolerance, .flops = mm_flops, .bytes = mm_bytes

static const gr_exercise EXERCISES[] = {
    {.name = "correct", MM_COMMON, MM_SHAPES, .launch = launch_correct},
    {.name = "wrong_one", MM_COMMON, MM_SHAPES, .launch = launch_wrong_one},
    {.name = "unwritten_last", MM_COMMON, MM_SHAPES, .launch = launch_unwritten_last},
    {.name = "past_end", MM_COMMON, MM_SHAPES, .launch = launch_past_end},
    {.name = "before_start", MM_COMMON, MM_SHAPES, .launch = launch_before_start},
    {.name = "mutates_input", MM_COMMON, MM_SHAPES, .launch = launch_mutates_input},
    {.name = "crash", MM_COMMON, MM_SHAPES, .launch = launch_crash},
    {.name = "hang", MM_COMMON, MM_SHAPES, .launch = launch_hang},
    {.name = "record", MM_COMMON, MM_SHAPES, .launch = launch_record},
    {.name = "timed", MM_COMMON, MM_SHAPES, .bench_shape = GR_SHAPE(6, 5, 4), .launch = launch_correct},
    {.name = "stale", MM_COMMON, MM_SHAPES, .bench_shape = GR_SHAPE(6, 5, 4), .launch = launch_stale},
    {.name = "sampled_correct", MM_COMMON, MM_SAMPLED, .launch = launch_correct},
    {.name = "sampled_unwritten", MM_COMMON, MM_SAMPLED, .launch = launch_sampled_unwritten},
    {.name = "sampled_wrong", MM_COMMON, MM_SAMPLED, .launch = launch_sampled_wrong},
    {.name = "shared_sampled_correct", SHARED_MM, MM_SAMPLED, .launch = launch_correct},
    {.name = "shared_sampled_wrong", SHARED_MM, MM_SAMPLED, .launch = launch_wrong_in_a_sampled_row},
};
#define N_EXERCISES ((int)(sizeof EXERCISES / sizeof EXERCISES[0]))

/* ---- running gr_main ---------------------------------------------------------------------------- */

/* gr_main(argc, argv, "test/session", exs, n) with argv = {"check", args..., NULL}. */
static int check_with(const gr_exercise *exs, int n, const char *arg, ...) {
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"check";
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a; a = va_arg(ap, const char *)) {
        cr_assert_lt(argc, 31);
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    argv[argc] = NULL;
    return gr_run_session(argc, argv, "test/session", exs, n);
}

static gr_json_record recs[16];

/* Run one exercise with seed 0x1234 (plus up to two more arguments, NULL for none) and return its
 * one record. */
static const gr_json_record *run_one(const char *name, int expect_rc, const char *extra1, const char *extra2) {
    char results[512];
    unit_temp_file(results, sizeof results, "results.jsonl");
    int rc = check_with(EXERCISES, N_EXERCISES, "--seed", "0x1234", "--results", results, "--only", name,
                        extra1, extra2, NULL);
    cr_assert_eq(rc, expect_rc, "%s: exit code %d, expected %d", name, rc, expect_rc);
    int n = unit_read_results(results, recs, 16);
    cr_assert_eq(n, 1, "%s: %d records, expected 1", name, n);
    cr_assert_str_eq(unit_str(&recs[0], "exercise"), name);
    cr_assert_str_eq(unit_str(&recs[0], "session"), "test/session");
    cr_assert_str_eq(unit_str(&recs[0], "seed"), "0x1234");
    return &recs[0];
}

static void assert_message_has(const gr_json_record *r, const char *part) {
    const char *msg = unit_str(r, "message");
    cr_assert_not_null(strstr(msg, part), "message '%s' does not say '%s'", msg, part);
}

/* The text of a non-string field (true, false, null, a number) that must be present. */
static const char *literal(const gr_json_record *r, const char *key) {
    for (int i = 0; i < r->n; i++)
        if (!r->f[i].is_string && !strcmp(r->f[i].key, key)) return r->f[i].text;
    cr_assert_fail("record has no literal field '%s'", key);
    return NULL;
}

TestSuite(host_pipeline, .init = unit_quiet_stdout);

/* ---- verdicts ----------------------------------------------------------------------------------- */

Test(host_pipeline, correct_exercise_passes_every_shape) {
    const gr_json_record *r = run_one("correct", 0, NULL, NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "PASS");
    cr_assert_eq(unit_num(r, "shapes_checked"), 3.0);
    cr_assert_eq(unit_num(r, "shapes_passed"), 3.0);
    cr_assert_eq(unit_num(r, "rel_error"), 0.0, "the reference itself is exact");
    cr_assert_eq(unit_str(r, "message")[0], 0, "no message for a pass");
}

Test(host_pipeline, one_wrong_element_fails_with_expected_and_got) {
    const gr_json_record *r = run_one("wrong_one", 1, NULL, NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "FAIL");
    assert_message_has(r, "size 2x3x4");
    assert_message_has(r, "first wrong element C[3] (row 1, col 0)");
    assert_message_has(r, "expected");
    assert_message_has(r, "got");
    cr_assert_eq(unit_num(r, "shapes_checked"), 1.0, "stops at the first failing shape");
    cr_assert_eq(unit_num(r, "shapes_passed"), 0.0);
}

Test(host_pipeline, unwritten_last_element_is_never_written) {
    const gr_json_record *r = run_one("unwritten_last", 1, NULL, NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "FAIL");
    assert_message_has(r, "C[5] (row 1, col 2) was never written");
    assert_message_has(r, "1 element(s) unwritten");
}

Test(host_pipeline, write_past_the_end_fails) {
    const gr_json_record *r = run_one("past_end", 1, NULL, NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "FAIL");
    assert_message_has(r, "past the end of 'C' (6 elements)");
}

Test(host_pipeline, write_before_the_start_fails) {
    const gr_json_record *r = run_one("before_start", 1, NULL, NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "FAIL");
    assert_message_has(r, "before the start of 'C'");
}

Test(host_pipeline, changing_an_input_fails) {
    const gr_json_record *r = run_one("mutates_input", 1, NULL, NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "FAIL");
    assert_message_has(r, "changed its input 'A' (element 0)");
}

Test(host_pipeline, a_crash_is_reported_not_fatal) {
    const gr_json_record *r = run_one("crash", 1, NULL, NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "CRASH");
    assert_message_has(r, "signal 11");
}

Test(host_pipeline, a_hang_is_stopped_at_the_time_limit) {
    const gr_json_record *r = run_one("hang", 1, "--time-limit", "1");
    cr_assert_str_eq(unit_str(r, "verdict"), "TIMEOUT");
    assert_message_has(r, "still running after 1 s");
}

Test(host_pipeline, timed_host_exercise_records_cpu_timing) {
    const gr_json_record *r = run_one("timed", 0, NULL, NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "PASS");
    cr_assert_eq(unit_num(r, "shapes_checked"), 4.0, "three check shapes and the bench shape");
    cr_assert_str_eq(unit_str(r, "bench_shape"), "6x5x4");
    cr_assert_str_eq(unit_str(r, "bound"), "CPU");
    cr_assert_str_eq(unit_str(r, "roof"), "FP32");
    cr_assert_eq(unit_num(r, "reps"), 3.0);
    cr_assert_geq(unit_num(r, "median_ms"), 0.0);
    cr_assert_leq(unit_num(r, "min_ms"), unit_num(r, "max_ms"));
    unit_assert_rel(unit_num(r, "flops"), 2.0 * 6 * 5 * 4, 1e-12);
    double v;
    cr_assert_not(gr_json_number(r, "pct_peak", &v), "no GPU roof for a CPU exercise");
}

Test(host_pipeline, small_skips_the_bench_shape) {
    const gr_json_record *r = run_one("timed", 0, "--small", NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "PASS");
    cr_assert_eq(unit_num(r, "shapes_checked"), 3.0);
    cr_assert_not(unit_has_field(r, "median_ms"));
}

Test(host_pipeline, output_cached_across_timed_calls_is_caught) {
    const gr_json_record *r = run_one("stale", 1, NULL, NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "FAIL");
    assert_message_has(r, "size 6x5x4");
    assert_message_has(r, "new inputs after timing");
    cr_assert_eq(unit_num(r, "shapes_passed"), 4.0, "every shape passed on its first launch");
}

Test(host_pipeline, sampled_rows_pass_a_correct_product) {
    const gr_json_record *r = run_one("sampled_correct", 0, NULL, NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "PASS");
}

Test(host_pipeline, unwritten_element_in_an_unsampled_row_is_caught) {
    const gr_json_record *r = run_one("sampled_unwritten", 1, NULL, NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "FAIL");
    assert_message_has(r, "never written");
}

Test(host_pipeline, shared_gemm_reference_passes_a_correct_product_on_sampled_rows) {
    const gr_json_record *r = run_one("shared_sampled_correct", 0, NULL, NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "PASS");
}

Test(host_pipeline, shared_gemm_reference_catches_a_wrong_element_in_a_sampled_row) {
    const gr_json_record *r = run_one("shared_sampled_wrong", 1, NULL, NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "FAIL");
    assert_message_has(r, "first wrong element C[");
    assert_message_has(r, ", col 1)");
    const char *msg = unit_str(r, "message");
    cr_assert_null(strstr(msg, "the sampled rows agree"), "caught by the sampled rows, not Freivalds: %s", msg);
}

Test(host_pipeline, wrong_element_in_an_unsampled_row_is_caught_by_freivalds) {
    const gr_json_record *r = run_one("sampled_wrong", 1, NULL, NULL);
    cr_assert_str_eq(unit_str(r, "verdict"), "FAIL");
    assert_message_has(r, "the sampled rows agree, but a check over the whole output does not");
}

/* ---- several exercises in one run ------------------------------------------------------------- */

Test(host_pipeline, whole_session_reports_every_exercise_in_order) {
    const gr_exercise session[] = {EXERCISES[0], EXERCISES[1], EXERCISES[2]};   /* correct, wrong, unwritten */
    char results[512];
    unit_temp_file(results, sizeof results, "results.jsonl");
    int rc = check_with(session, 3, "--seed", "0x1234", "--results", results, NULL);
    cr_assert_eq(rc, 1, "one failure makes the exit code 1");
    cr_assert_eq(unit_read_results(results, recs, 16), 3);
    cr_assert_str_eq(unit_str(&recs[0], "exercise"), "correct");
    cr_assert_str_eq(unit_str(&recs[0], "verdict"), "PASS");
    cr_assert_str_eq(unit_str(&recs[1], "exercise"), "wrong_one");
    cr_assert_str_eq(unit_str(&recs[1], "verdict"), "FAIL");
    cr_assert_str_eq(unit_str(&recs[2], "exercise"), "unwritten_last");
    cr_assert_str_eq(unit_str(&recs[2], "verdict"), "FAIL");
}

Test(host_pipeline, all_passing_session_exits_zero_and_appends) {
    const gr_exercise session[] = {EXERCISES[0], EXERCISES[9]};   /* correct, timed */
    char results[512];
    unit_temp_file(results, sizeof results, "results.jsonl");
    cr_assert_eq(check_with(session, 2, "--seed", "0x1234", "--results", results, "--small", NULL), 0);
    cr_assert_eq(check_with(session, 2, "--seed", "0x1234", "--results", results, "--small", "--solution", NULL), 0);
    cr_assert_eq(unit_read_results(results, recs, 16), 4, "results are appended, not overwritten");
    for (int i = 0; i < 4; i++) cr_assert_str_eq(unit_str(&recs[i], "verdict"), "PASS");
    cr_assert_str_eq(literal(&recs[0], "solution"), "false");
    cr_assert_str_eq(literal(&recs[2], "solution"), "true", "--solution is recorded");
}

/* ---- the command line --------------------------------------------------------------------------- */

Test(host_pipeline, unknown_only_name_is_a_usage_error) {
    unit_quiet_stderr();
    char results[512];
    unit_temp_file(results, sizeof results, "results.jsonl");
    int rc = check_with(EXERCISES, N_EXERCISES, "--seed", "0x1234", "--results", results, "--only", "no_such", NULL);
    cr_assert_eq(rc, 64);
    cr_assert_eq(access(results, F_OK), -1, "nothing is written for a usage error");
}

Test(host_pipeline, bad_options_are_usage_errors) {
    unit_quiet_stderr();
    cr_assert_eq(check_with(EXERCISES, N_EXERCISES, "--seed", "12abc", "--only", "correct", NULL), 64);
    cr_assert_eq(check_with(EXERCISES, N_EXERCISES, "--bogus", NULL), 64);
    cr_assert_eq(check_with(EXERCISES, N_EXERCISES, "--only", "correct", "--seed", NULL), 64, "--seed without a value");
    cr_assert_eq(check_with(EXERCISES, N_EXERCISES, "--only", "correct", "--time-limit", "0", NULL), 64);
}

Test(host_pipeline, unwritable_results_file_is_reported) {
    unit_quiet_stderr();
    char dir[256], results[512];
    unit_temp_dir(dir, sizeof dir);
    snprintf(results, sizeof results, "%s/missing/dir/results.jsonl", dir);
    int rc = check_with(EXERCISES, N_EXERCISES, "--seed", "0x1234", "--results", results, "--only", "correct", NULL);
    cr_assert_eq(rc, 74);
}

/* ---- replay: the seed decides the inputs -------------------------------------------------------- */

/* Runs "record" from `exs` with the given arguments and returns what its launches saw. */
static char *record_run(const gr_exercise *exs, int n, const char *seed, const char *only) {
    char results[512];
    unit_temp_file(record_path, sizeof record_path, "record.txt");
    unit_temp_file(results, sizeof results, "results.jsonl");
    int rc = seed ? check_with(exs, n, "--seed", seed, "--results", results, only ? "--only" : NULL, only, NULL)
                  : check_with(exs, n, "--results", results, only ? "--only" : NULL, only, NULL);
    cr_assert_eq(rc, 0);
    char *rec = unit_slurp(record_path);
    cr_assert_not_null(rec, "the record exercise never ran");
    return rec;
}

Test(host_pipeline, same_seed_gives_the_same_inputs) {
    char *a = record_run(EXERCISES, N_EXERCISES, "0x1234", "record");
    char *b = record_run(EXERCISES, N_EXERCISES, "0x1234", "record");
    cr_assert_eq(strlen(a) > 0 && strchr(a, '\n') != strrchr(a, '\n'), 1, "one line per check shape: %s", a);
    cr_assert_str_eq(a, b, "the same seed must replay the same inputs");
    free(a);
    free(b);
}

Test(host_pipeline, another_seed_gives_other_inputs) {
    char *a = record_run(EXERCISES, N_EXERCISES, "0x1234", "record");
    char *b = record_run(EXERCISES, N_EXERCISES, "0x1235", "record");
    cr_assert_str_neq(a, b);
    free(a);
    free(b);
}

Test(host_pipeline, only_replays_the_inputs_of_the_full_run) {
    /* The inputs of an exercise depend on the seed and its place in the session, not on --only. */
    const gr_exercise session[] = {EXERCISES[0], EXERCISES[8]};   /* correct, record */
    char *all = record_run(session, 2, "0x1234", NULL);
    char *one = record_run(session, 2, "0x1234", "record");
    cr_assert_str_eq(all, one);
    free(all);
    free(one);
}

Test(host_pipeline, seed_from_the_environment) {
    char *flag = record_run(EXERCISES, N_EXERCISES, "0x1234", "record");
    cr_assert_eq(setenv("SEED", "0x1234", 1), 0);
    char *env = record_run(EXERCISES, N_EXERCISES, NULL, "record");
    cr_assert_str_eq(flag, env, "SEED=0x1234 and --seed 0x1234 are the same run");
    free(flag);
    free(env);
}

Test(host_pipeline, each_exercise_gets_its_own_inputs) {
    /* Two copies of the recorder in one session: same seed, same shapes, different places. */
    gr_exercise session[] = {EXERCISES[8], EXERCISES[8]};
    session[0].name = "record_a";
    session[1].name = "record_b";
    char *rec = record_run(session, 2, "0x1234", NULL);
    /* Three lines (one per check shape) from each; the second three must differ from the first. */
    char *lines[6];
    int n = 0;
    for (char *p = strtok(rec, "\n"); p && n < 6; p = strtok(NULL, "\n")) lines[n++] = p;
    cr_assert_eq(n, 6, "expected 6 launches, got %d", n);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(strncmp(lines[i], lines[i + 3], strchr(lines[i], ' ') - lines[i]), 0, "same shape order");
        cr_assert_str_neq(lines[i], lines[i + 3], "both exercises saw the same inputs: %s", lines[i]);
    }
    free(rec);
}
