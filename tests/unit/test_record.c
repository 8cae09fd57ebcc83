/* The verdicts and the record (grader/record.c): one list of names, old spellings read back,
 * records written and parsed, names checked. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "record.h"

Test(record, every_verdict_has_a_name_that_parses_back) {
    for (int v = 0; v < GR_VERDICT_COUNT; v++) {
        gr_verdict back;
        cr_assert(gr_verdict_parse(gr_verdict_name((gr_verdict)v), &back), "%s", gr_verdict_name((gr_verdict)v));
        cr_assert_eq(back, (gr_verdict)v);
    }
}

Test(record, old_spellings_read_as_today_s) {
    gr_verdict v;
    cr_assert(gr_verdict_parse("WRONG", &v));
    cr_assert_eq(v, GR_FAIL);
    cr_assert(gr_verdict_parse("NO-GPU", &v));
    cr_assert_eq(v, GR_NO_GPU);
    cr_assert(gr_verdict_parse("WRONG-ARCH", &v));
    cr_assert_eq(v, GR_WRONG_ARCH);
    cr_assert_not(gr_verdict_parse("pass", &v), "names are case-sensitive");
    cr_assert_not(gr_verdict_parse("PASS ", &v));
    cr_assert_not(gr_verdict_parse("", &v));
    cr_assert_not(gr_verdict_parse(NULL, &v));
}

static void write_and_read(gr_verdict v, const char *message, gr_record *r) {
    FILE *f = tmpfile();
    cr_assert(gr_record_write_verdict(f, "ladder/02-cuda-model", "02_saxpy_grid_stride", v, message, false, false));
    rewind(f);
    static char line[4096];
    cr_assert(fgets(line, sizeof line, f));
    fclose(f);
    char err[128];
    cr_assert(gr_record_parse(line, r, err, sizeof err), "%s: %s", err, line);
}

Test(record, a_verdict_record_round_trips) {
    gr_record r;
    write_and_read(GR_DISQUALIFIED, "x.cu:3: DISQUALIFIED: \"quoted\" \\ and\nsecond line", &r);
    cr_assert_eq(r.verdict, GR_DISQUALIFIED);
    cr_assert_str_eq(r.session, "ladder/02-cuda-model");
    cr_assert_str_eq(r.exercise, "02_saxpy_grid_stride");
    cr_assert_str_eq(r.message, "x.cu:3: DISQUALIFIED: \"quoted\" \\ and\nsecond line");
    cr_assert_not(r.timed);
    cr_assert_eq(r.pct_peak, -1);
}

Test(record, control_characters_in_a_message_do_not_break_the_record) {
    gr_record r;
    write_and_read(GR_COMPILE_ERROR, "bell\a tab\t escape\x1b end", &r);
    cr_assert_str_eq(r.message, "bell  tab\t escape  end");
}

Test(record, parse_refuses_what_is_not_a_record) {
    gr_record r;
    char err[128];
    cr_assert_not(gr_record_parse("{\"schema\":\"other/1\",\"session\":\"a\",\"exercise\":\"b\",\"verdict\":\"PASS\"}", &r, err, sizeof err));
    cr_assert_not(gr_record_parse("{\"schema\":\"kernel-workbook-result/1\",\"session\":\"a\",\"exercise\":\"b\",\"verdict\":\"GREAT\"}", &r, err, sizeof err));
    cr_assert_not(gr_record_parse("{\"schema\":\"kernel-workbook-result/1\",\"session\":\"../x\",\"exercise\":\"b\",\"verdict\":\"PASS\"}", &r, err, sizeof err));
    cr_assert_not(gr_record_parse("{\"schema\":\"kernel-workbook-result/1\",\"exercise\":\"b\",\"verdict\":\"PASS\"}", &r, err, sizeof err));
    cr_assert(gr_record_parse("{\"schema\":\"kernel-workbook-result/1\",\"session\":\"a\",\"exercise\":\"b\",\"verdict\":\"WRONG\",\"timed\":true,\"pct_peak\":71.5}", &r, err, sizeof err), "%s", err);
    cr_assert_eq(r.verdict, GR_FAIL);
    cr_assert(r.timed);
    cr_assert_float_eq(r.pct_peak, 71.5, 1e-9);
}

Test(record, names) {
    cr_assert(gr_record_name_ok("ladder/02-cuda-model"));
    cr_assert(gr_record_name_ok("02_flash_mma+causal"));
    cr_assert_not(gr_record_name_ok(""));
    cr_assert_not(gr_record_name_ok(NULL));
    cr_assert_not(gr_record_name_ok("a/../b"));
    cr_assert_not(gr_record_name_ok("tab\there"));
    char long_name[300];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    cr_assert_not(gr_record_name_ok(long_name));
}
