/* Small helpers shared by the grader's unit tests: temporary directories, reading back results
 * files, keeping gr_main's report off the test output. Header-only (static inline) so that every
 * test file can include it without a separate object. */
#ifndef UNIT_HELPERS_H
#define UNIT_HELPERS_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonl.h"

/* Temporary directories made by this test, removed when its process exits. Only by the process that
 * made them: gr_main's forked children leave with _exit, but be safe if one ever calls exit(). */
#define UNIT_MAX_TEMP_DIRS 16
static char unit_temp_dirs[UNIT_MAX_TEMP_DIRS][256];
static int unit_n_temp_dirs;
static pid_t unit_temp_owner;

static inline int unit_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static inline void unit_remove_temp_dirs(void) {
    if (getpid() != unit_temp_owner || getenv("GR_UNIT_KEEP_TMP")) return;
    for (int i = 0; i < unit_n_temp_dirs; i++) nftw(unit_temp_dirs[i], unit_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    unit_n_temp_dirs = 0;
}

/* A fresh directory under $TMPDIR (or /tmp), unique per call: Criterion runs tests in parallel. */
static inline void unit_temp_dir(char *out, size_t len) {
    const char *base = getenv("TMPDIR");
    snprintf(out, len, "%s/gr-unit-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(out), "mkdtemp(%s) failed", out);
    if (unit_temp_owner != getpid()) {
        unit_temp_owner = getpid();
        unit_n_temp_dirs = 0;
        atexit(unit_remove_temp_dirs);
    }
    if (unit_n_temp_dirs < UNIT_MAX_TEMP_DIRS)
        snprintf(unit_temp_dirs[unit_n_temp_dirs++], sizeof unit_temp_dirs[0], "%s", out);
}

/* A path to a file that does not exist yet, inside a fresh temporary directory. */
static inline void unit_temp_file(char *out, size_t len, const char *name) {
    char dir[256];
    unit_temp_dir(dir, sizeof dir);
    snprintf(out, len, "%s/%s", dir, name);
}

/* gr_main prints a report for people; keep it out of the test log unless asked for. */
static inline void unit_quiet_stdout(void) {
    if (getenv("GR_UNIT_VERBOSE")) return;
    fflush(stdout);
    cr_assert_not_null(freopen("/dev/null", "w", stdout));
}

/* For tests of usage errors: gr_main's complaints on stderr are expected there. */
static inline void unit_quiet_stderr(void) {
    if (getenv("GR_UNIT_VERBOSE")) return;
    fflush(stderr);
    cr_assert_not_null(freopen("/dev/null", "w", stderr));
}

/* Whole file as a string (caller frees); NULL when it can't be read. */
static inline char *unit_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    buf[n] = 0;
    return buf;
}

/* Parse every line of a results file into recs (at most max); each line must parse. Returns the
 * number of records. */
static inline int unit_read_results(const char *path, gr_json_record *recs, int max) {
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "results file %s was not written", path);
    static char line[16384];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char err[160] = "";
        cr_assert_lt(n, max, "more than %d records in %s", max, path);
        cr_assert(gr_json_parse(line, &recs[n], err, sizeof err), "line %d of %s does not parse (%s): %s",
                  n + 1, path, err, line);
        n++;
    }
    fclose(f);
    return n;
}

/* A string field that must be present. */
static inline const char *unit_str(const gr_json_record *r, const char *key) {
    const char *s = gr_json_string(r, key);
    cr_assert_not_null(s, "record has no string field '%s'", key);
    return s;
}

/* A number field that must be present. */
static inline double unit_num(const gr_json_record *r, const char *key) {
    double v = NAN;
    cr_assert(gr_json_number(r, key, &v), "record has no number field '%s'", key);
    return v;
}

/* Is a field present at all (any kind, including null)? */
static inline int unit_has_field(const gr_json_record *r, const char *key) {
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->f[i].key, key)) return 1;
    return 0;
}

/* |a - b| <= rel * |b|: for figures worked by hand. */
#define unit_assert_rel(a, b, rel)                                                                   \
    cr_assert(fabs((double)(a) - (double)(b)) <= (rel) * fabs((double)(b)),                          \
              "%s = %.10g, expected %.10g (relative tolerance %g)", #a, (double)(a), (double)(b),      \
              (double)(rel))

#endif
