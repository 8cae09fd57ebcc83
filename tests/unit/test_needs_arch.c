/* NEEDS_ARCH (grader/record.c): the verdict of a session skipped because the build's architecture
 * cannot build it. Its name reads back, a record of it round-trips, and it is a verdict about the
 * machine (like NO_GPU), which the check never counts as a failure. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "record.h"

Test(needs_arch, its_name_prints_and_parses_back) {
    cr_assert_str_eq(gr_verdict_name(GR_NEEDS_ARCH), "NEEDS_ARCH");
    gr_verdict v = GR_PASS;
    cr_assert(gr_verdict_parse("NEEDS_ARCH", &v));
    cr_assert_eq(v, GR_NEEDS_ARCH);
    cr_assert_not(gr_verdict_parse("needs_arch", &v), "names are case-sensitive");
}

Test(needs_arch, only_the_machine_verdicts_are_no_failure) {
    for (int v = 0; v < GR_VERDICT_COUNT; v++) {
        bool machine = v == GR_NO_GPU || v == GR_WRONG_ARCH || v == GR_NEEDS_ARCH;
        cr_assert_eq(gr_verdict_is_machine((gr_verdict)v), machine, "%s", gr_verdict_name((gr_verdict)v));
    }
}

Test(needs_arch, a_record_of_it_round_trips) {
    const char *why = "needs a Hopper GPU (sm_90a: H100, H200, H800); this build targets sm_80: skipped";
    FILE *f = tmpfile();
    cr_assert(gr_record_write_verdict(f, "hopper/10-beat-cublas", "01_tma_copy", GR_NEEDS_ARCH, why, false, false));
    rewind(f);
    static char line[4096];
    cr_assert(fgets(line, sizeof line, f));
    fclose(f);
    gr_record r;
    char err[128];
    cr_assert(gr_record_parse(line, &r, err, sizeof err), "%s: %s", err, line);
    cr_assert_eq(r.verdict, GR_NEEDS_ARCH);
    cr_assert_str_eq(r.session, "hopper/10-beat-cublas");
    cr_assert_str_eq(r.message, why);
    cr_assert_not(r.timed);
}
