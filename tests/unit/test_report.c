/* report.c: percent of peak, of the measured roof and of the library (worked by hand), and the JSON
 * record read back with the grader's own JSON-lines reader. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "jsonl.h"
#include "unit_helpers.h"

static gr_gpu h100(void) {
    gr_gpu g;
    memset(&g, 0, sizeof g);
    snprintf(g.name, sizeof g.name, "NVIDIA H100 80GB HBM3");
    g.cc_major = 9;
    g.sm_count = 132;
    const gr_roof *r = gr_roof_lookup(g.name);
    cr_assert_not_null(r);
    g.roof = *r;
    return g;
}

/* ---- gr_fill_speed --------------------------------------------------------------------------- */

Test(report, memory_bound_percent_of_peak_by_hand) {
    /* 12e8 bytes at 3352 GB/s take 0.35800 ms; measured 0.4 ms: 89.50%. */
    gr_gpu g = h100();
    gr_result r;
    memset(&r, 0, sizeof r);
    r.compute = GR_ROOF_HBM;
    r.bytes = 12e8;
    r.median_ms = 0.4;
    gr_fill_speed(&r, &g);
    unit_assert_rel(r.pct_peak, 100.0 * (12e8 / 3352e9) / 0.4e-3, 1e-12);
    cr_assert(fabs(r.pct_peak - 89.4988) < 1e-3, "pct_peak %.4f", r.pct_peak);
    cr_assert_str_eq(r.bound, "HBM");
    cr_assert_eq(r.roof_gbs, 3352.0);
    cr_assert_eq(r.roof_tflops, 0.0);
    cr_assert_not(r.roof_derived);
    cr_assert_eq(r.pct_measured, -1.0, "no measured roofs: -1");
    cr_assert_eq(r.pct_library, -1.0, "no library timing: -1");
}

Test(report, fp32_bound_matmul_by_hand) {
    /* 1.338e11 FLOP at 66.9 TFLOP/s = 2 ms; 3.352e8 bytes = 0.1 ms; measured 4 ms: 50%, FP32-bound. */
    gr_gpu g = h100();
    gr_result r;
    memset(&r, 0, sizeof r);
    r.compute = GR_ROOF_FP32;
    r.flops = 1.338e11;
    r.bytes = 3.352e8;
    r.median_ms = 4.0;
    gr_fill_speed(&r, &g);
    unit_assert_rel(r.pct_peak, 50.0, 1e-12);
    cr_assert_str_eq(r.bound, "FP32");
    cr_assert_eq(r.roof_tflops, 66.9);
}

Test(report, bf16_matmul_that_is_memory_bound_says_hbm) {
    /* 989.4e9 FLOP at 989.4 TFLOP/s = 1 ms; 6.704e9 bytes at 3352 GB/s = 2 ms: HBM-bound; 4 ms: 50%. */
    gr_gpu g = h100();
    gr_result r;
    memset(&r, 0, sizeof r);
    r.compute = GR_ROOF_BF16;
    r.flops = 989.4e9;
    r.bytes = 6.704e9;
    r.median_ms = 4.0;
    gr_fill_speed(&r, &g);
    unit_assert_rel(r.pct_peak, 50.0, 1e-12);
    cr_assert_str_eq(r.bound, "HBM");
}

Test(report, percent_of_library) {
    gr_gpu g = h100();
    gr_result r;
    memset(&r, 0, sizeof r);
    r.compute = GR_ROOF_HBM;
    r.bytes = 1e6;
    r.median_ms = 0.4;
    r.library_ms = 0.3;
    gr_fill_speed(&r, &g);
    unit_assert_rel(r.pct_library, 75.0, 1e-12);
}

Test(report, percent_of_measured_copy_bandwidth) {
    /* 12e8 bytes at a measured 3000 GB/s = 0.4 ms; measured 0.5 ms: 80%. Datasheet: 71.6%. */
    gr_gpu g = h100();
    g.have_measured = true;
    g.measured.copy_gbs = 3000;
    gr_result r;
    memset(&r, 0, sizeof r);
    r.compute = GR_ROOF_HBM;
    r.bytes = 12e8;
    r.median_ms = 0.5;
    gr_fill_speed(&r, &g);
    unit_assert_rel(r.pct_measured, 80.0, 1e-12);
    unit_assert_rel(r.pct_peak, 100.0 * (12e8 / 3352e9) / 0.5e-3, 1e-12);
}

Test(report, percent_of_measured_sgemm_rate) {
    /* 1.338e11 FLOP at a measured 50 TFLOP/s = 2.676 ms; measured 4 ms: 66.9%. */
    gr_gpu g = h100();
    g.have_measured = true;
    g.measured.copy_gbs = 3000;
    g.measured.sgemm_tflops = 50;
    gr_result r;
    memset(&r, 0, sizeof r);
    r.compute = GR_ROOF_FP32;
    r.flops = 1.338e11;
    r.bytes = 3.352e8;
    r.median_ms = 4.0;
    gr_fill_speed(&r, &g);
    unit_assert_rel(r.pct_measured, 66.9, 1e-12);
}

Test(report, no_measured_rate_for_the_unit_gives_minus_one) {
    gr_gpu g = h100();
    g.have_measured = true;
    g.measured.copy_gbs = 3000;
    g.measured.sgemm_tflops = 50;
    gr_result r;
    memset(&r, 0, sizeof r);
    r.compute = GR_ROOF_TF32;   /* make roofs measures SGEMM and BF16, not TF32 */
    r.flops = 1e12;
    r.bytes = 1e8;
    r.median_ms = 4.0;
    gr_fill_speed(&r, &g);
    cr_assert_eq(r.pct_measured, -1.0);
    cr_assert_gt(r.pct_peak, 0.0, "the datasheet has a TF32 figure");
}

Test(report, derived_roof_without_tensor_rate_gives_no_percent) {
    gr_gpu g;
    memset(&g, 0, sizeof g);
    g.roof = gr_roof_derived(9, 0, 132, 1980000, 2619000, 5120);
    gr_result r;
    memset(&r, 0, sizeof r);
    r.compute = GR_ROOF_BF16;
    r.flops = 1e12;
    r.bytes = 1e8;
    r.median_ms = 1.0;
    gr_fill_speed(&r, &g);
    cr_assert_eq(r.pct_peak, -1.0, "a tensor-core exercise on a derived roof has no peak figure");
    cr_assert(r.roof_derived);
}

Test(report, zero_time_gives_no_percent) {
    gr_gpu g = h100();
    gr_result r;
    memset(&r, 0, sizeof r);
    r.compute = GR_ROOF_HBM;
    r.bytes = 1e9;
    r.median_ms = 0;
    r.library_ms = 1;
    gr_fill_speed(&r, &g);
    cr_assert_eq(r.pct_peak, -1.0);
    cr_assert_eq(r.pct_library, -1.0);
}

Test(report, verdict_names) {
    cr_assert_str_eq(gr_verdict_name(GR_PASS), "PASS");
    cr_assert_str_eq(gr_verdict_name(GR_FAIL), "FAIL");
    cr_assert_str_eq(gr_verdict_name(GR_CRASH), "CRASH");
    cr_assert_str_eq(gr_verdict_name(GR_TIMEOUT), "TIMEOUT");
    cr_assert_str_eq(gr_verdict_name(GR_IMPOSSIBLE), "IMPOSSIBLE");
    cr_assert_str_eq(gr_verdict_name(GR_NO_GPU), "NO_GPU");
    cr_assert_str_eq(gr_verdict_name(GR_WRONG_ARCH), "WRONG_ARCH");
    cr_assert_str_eq(gr_verdict_name(GR_DISQUALIFIED), "DISQUALIFIED");
    cr_assert_str_eq(gr_verdict_name(GR_COMPILE_ERROR), "COMPILE_ERROR");
    cr_assert_str_eq(gr_verdict_name(GR_NOT_SUBMITTED), "NOT_SUBMITTED");
    cr_assert_str_eq(gr_verdict_name((gr_verdict)99), "?");
}

/* ---- gr_report_json ------------------------------------------------------------------------- */

/* Writes one record and parses it back; returns the line too. */
static void json_round_trip(const gr_options *opt, const gr_result *r, gr_json_record *rec, char *line, size_t len) {
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    cr_assert(gr_report_json(f, "ladder/01-gpu-vs-cpu", "02_vector_add", opt, r));
    rewind(f);
    cr_assert_not_null(fgets(line, (int)len, f));
    char extra[8];
    cr_assert_null(fgets(extra, sizeof extra, f), "exactly one line per record");
    fclose(f);
    cr_assert_eq(line[strlen(line) - 1], '\n');
    char err[160] = "";
    cr_assert(gr_json_parse(line, rec, err, sizeof err), "record does not parse (%s): %s", err, line);
}

static gr_result timed_result(void) {
    gr_result r;
    memset(&r, 0, sizeof r);
    r.verdict = GR_PASS;
    snprintf(r.message, sizeof r.message, "all good");
    snprintf(r.gpu, sizeof r.gpu, "NVIDIA H100 80GB HBM3");
    r.cc_major = 9;
    r.shapes_checked = r.shapes_passed = 6;
    r.worst_rel_err = 1.5e-8;
    r.tol_at_worst = 2.4e-7;
    r.timed = true;
    snprintf(r.bench_shape, sizeof r.bench_shape, "67108864");
    r.median_ms = 0.4;
    r.min_ms = 0.39;
    r.max_ms = 0.45;
    r.reps = 40;
    r.bytes = 12e8;
    r.compute = GR_ROOF_HBM;
    r.library_ms = 0.41;
    snprintf(r.library_name, sizeof r.library_name, "cublasSgeam");
    gr_gpu g = h100();
    gr_fill_speed(&r, &g);
    return r;
}

Test(report, json_round_trip_of_a_timed_result) {
    gr_options opt;
    memset(&opt, 0, sizeof opt);
    opt.seed = 0xabc;
    opt.solution = true;
    gr_result r = timed_result();
    static gr_json_record rec;
    char line[8192];
    json_round_trip(&opt, &r, &rec, line, sizeof line);
    cr_assert_str_eq(unit_str(&rec, "schema"), "kernel-workbook-result/1");
    cr_assert_str_eq(unit_str(&rec, "session"), "ladder/01-gpu-vs-cpu");
    cr_assert_str_eq(unit_str(&rec, "exercise"), "02_vector_add");
    cr_assert_str_eq(unit_str(&rec, "verdict"), "PASS");
    cr_assert_str_eq(unit_str(&rec, "seed"), "0xabc");
    cr_assert_str_eq(unit_str(&rec, "gpu"), "NVIDIA H100 80GB HBM3");
    cr_assert_str_eq(unit_str(&rec, "compute_capability"), "9.0");
    cr_assert_str_eq(unit_str(&rec, "bound"), "HBM");
    cr_assert_str_eq(unit_str(&rec, "roof"), "HBM");
    cr_assert_str_eq(unit_str(&rec, "library"), "cublasSgeam");
    cr_assert_not_null(strstr(line, "\"solution\":true"));
    cr_assert_not_null(strstr(line, "\"timed\":true"));
    unit_assert_rel(unit_num(&rec, "median_ms"), 0.4, 1e-6);
    unit_assert_rel(unit_num(&rec, "pct_peak"), r.pct_peak, 1e-5);
    unit_assert_rel(unit_num(&rec, "pct_peak"), 89.4988, 1e-5);
    unit_assert_rel(unit_num(&rec, "pct_library"), 102.5, 1e-5);
    unit_assert_rel(unit_num(&rec, "rel_error"), 1.5e-8, 1e-5);
    cr_assert_eq(unit_num(&rec, "shapes_checked"), 6.0);
    cr_assert_eq(unit_num(&rec, "reps"), 40.0);
    unit_assert_rel(unit_num(&rec, "bytes"), 12e8, 1e-6);
}

Test(report, json_missing_figures_are_null) {
    gr_options opt;
    memset(&opt, 0, sizeof opt);
    gr_result r = timed_result();   /* no measured roofs: pct_measured = -1 */
    static gr_json_record rec;
    char line[8192];
    json_round_trip(&opt, &r, &rec, line, sizeof line);
    cr_assert(unit_has_field(&rec, "pct_measured_roof"));
    double v;
    cr_assert_not(gr_json_number(&rec, "pct_measured_roof", &v), "-1 is written as null, not a number");
    cr_assert_not_null(strstr(line, "\"pct_measured_roof\":null"));
    cr_assert_not_null(strstr(line, "\"solution\":false"));
}

Test(report, json_untimed_failure_has_no_timing_fields) {
    gr_options opt;
    memset(&opt, 0, sizeof opt);
    opt.seed = 0x1234;
    gr_result r;
    memset(&r, 0, sizeof r);
    r.verdict = GR_FAIL;
    r.shapes_checked = 2;
    r.shapes_passed = 1;
    r.worst_rel_err = INFINITY;
    snprintf(r.message, sizeof r.message, "size 17: z[16] was never written");
    static gr_json_record rec;
    char line[8192];
    json_round_trip(&opt, &r, &rec, line, sizeof line);
    cr_assert_str_eq(unit_str(&rec, "verdict"), "FAIL");
    cr_assert_str_eq(unit_str(&rec, "message"), "size 17: z[16] was never written");
    cr_assert_not_null(strstr(line, "\"timed\":false"));
    cr_assert_not(unit_has_field(&rec, "median_ms"));
    cr_assert_not(unit_has_field(&rec, "pct_peak"));
    cr_assert_not_null(strstr(line, "\"rel_error\":null"), "an infinite error is null in JSON: %s", line);
}

Test(report, json_message_with_quotes_backslashes_newlines_survives) {
    gr_options opt;
    memset(&opt, 0, sizeof opt);
    gr_result r;
    memset(&r, 0, sizeof r);
    r.verdict = GR_CRASH;
    const char *msg = "the \"kernel\" at C:\\path\\k.cu\nfaulted\ttab\x01\x1f and caf\xc3\xa9 / done";
    snprintf(r.message, sizeof r.message, "%s", msg);
    snprintf(r.gpu, sizeof r.gpu, "GPU \"quoted\"");
    static gr_json_record rec;
    char line[8192];
    json_round_trip(&opt, &r, &rec, line, sizeof line);
    /* Newlines and tabs survive; other control characters become spaces (readers refuse them). */
    cr_assert_str_eq(unit_str(&rec, "message"), "the \"kernel\" at C:\\path\\k.cu\nfaulted\ttab   and caf\xc3\xa9 / done");
    cr_assert_str_eq(unit_str(&rec, "gpu"), "GPU \"quoted\"");
    cr_assert_str_eq(unit_str(&rec, "verdict"), "CRASH");
    cr_assert_null(strchr(line, '\t'), "control characters are escaped");
    cr_assert_eq(strchr(line, '\n'), line + strlen(line) - 1, "the only newline ends the line");
}

Test(report, json_longest_message_fits_the_reader) {
    gr_options opt;
    memset(&opt, 0, sizeof opt);
    gr_result r;
    memset(&r, 0, sizeof r);
    r.verdict = GR_FAIL;
    memset(r.message, '"', sizeof r.message - 1);   /* worst case for escaping */
    r.message[sizeof r.message - 1] = 0;
    static gr_json_record rec;
    static char line[16384];
    json_round_trip(&opt, &r, &rec, line, sizeof line);
    cr_assert_str_eq(unit_str(&rec, "message"), r.message);
}
