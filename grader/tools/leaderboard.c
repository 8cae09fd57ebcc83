/* The class leaderboard: ranks students per session from the records the class grader wrote.
 *
 *   leaderboard OUT_DIR RESULTS...
 *
 * RESULTS are files, or directories scanned (not recursively) for *.json and *.jsonl. One file per
 * student; the student's name is the file's base name without the extension (alice.jsonl: alice).
 * Writes OUT_DIR/leaderboard.md, OUT_DIR/leaderboard.html (static, self-contained but for the PNG
 * charts beside it), and per session the gnuplot data rank-SLUG.dat and spread-SLUG.dat, drawn by
 * grader/leaderboard.gp into rank-SLUG.png and spread-SLUG.png when gnuplot is installed.
 *
 * Ranking, per session: only students with at least one exercise passed are ranked, by exercises
 * passed (more is better), then by the geometric mean of percent of peak over the passed exercises
 * that have one (higher is better), then by name; disqualified students follow as rows marked so.
 * The others are listed apart below the table, in the HTML and under the ranking chart: "not
 * ranked: no exercise passed" (with the verdicts of what they handed in) and "handed in nothing"
 * (every exercise NOT_SUBMITTED or without a record). An exercise without a PASS (FAIL, CRASH,
 * TIMEOUT, IMPOSSIBLE, missing, ...) counts as not passed; it never enters the mean as a zero,
 * which would make every mean zero. NEEDS_ARCH (the class was graded on a GPU that the session
 * cannot be built for: nothing was run) is no verdict on the student: one whose handed-in
 * exercises all got it is listed apart as "not graded", not among those who passed nothing.
 * Given exercises (a record with "given":true, or a name starting "00_", the workbook's rung 0 that
 * the session gives) are not ranked. A PASS without a percent of peak (a CPU exercise) counts as
 * passed and stays out of the mean. Of several records for one exercise the latest ("when") counts.
 * Any DISQUALIFIED record disqualifies the student from that session, whatever came later.
 *
 * Bad input: a file with any line that does not parse, a foreign schema, a missing required field,
 * a PASS whose pct_peak is negative, not finite or above 100, records of the hidden solutions
 * ("solution":true), or no records at all, is named in one warning line on stderr and skipped as a
 * whole: a results file is written in one go, so one bad line makes all of it untrustworthy.
 * Records whose session or exercise is not a plain name (1 to 64 of [A-Za-z0-9_.+/-], no "..";
 * names become file names and gnuplot data) are skipped, with one warning per file that counts
 * them and says what is wrong with the first.
 *
 * Chart and data file names come from the session's name, one to one: "ladder/03-memory" (a folder
 * without '-', a '/', then letters, digits and '-') becomes "ladder-03-memory"; any other name is
 * written with a leading '_' and every byte but letters, digits and '-' as _XX (hex), so that
 * "ladder-03-memory" becomes "_ladder-03-memory" and never meets the first one's files.
 * The work is near-linear in the number of records: every list is built by sorting, not by search.
 *
 * A directory without results that holds student folders with .cu files is a class's sources, not
 * its results: one line says to grade it first (make grade CLASS=DIR OUT=RESULTS), exit 64.
 *
 * Exit: 0 when at least one valid file was read, 1 otherwise, 64 on usage errors. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jsonl.h"

#define SCHEMA "kernel-workbook-result/1"
#define MAX_LINE 65536      /* a grader record is about 1 KB; anything far longer is not one */
#define NAME_LEN 128

typedef struct {
    char session[NAME_LEN], exercise[NAME_LEN], verdict[32], when[40], gpu[NAME_LEN];
    bool has_pct, given;
    double pct;
    long order;             /* position read, to break ties between equal "when" */
} record;

typedef struct {
    char name[NAME_LEN], path[PATH_MAX];
    record *rec;
    int n;
} student;

static student *students;
static int n_students, cap_students;
static long read_order;

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) { fprintf(stderr, "leaderboard: out of memory\n"); exit(1); }
    return q;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool copy_field(char *dst, size_t len, const char *src) {
    if (!src || !*src || strlen(src) >= len) return false;
    memcpy(dst, src, strlen(src) + 1);
    return true;
}

static bool has_suffix(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

#define PLAIN_NAME_MAX 64

/* NULL when s is a plain name (see the top of this file), else what is wrong with it. */
static const char *name_problem(const char *s) {
    size_t n = strlen(s);
    if (n > PLAIN_NAME_MAX) return "longer than 64 bytes";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return "holds a control character";
    if (strstr(s, "..")) return "holds \"..\"";
    if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+/-") != n)
        return "holds a character other than letters, digits and _.+/-";
    return NULL;
}

/* One warning line per skipped file. */
static void skip_file(const char *path, const char *fmt, ...) {
    char why[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    fprintf(stderr, "leaderboard: warning: %s skipped: %s\n", path, why);
}

/* Reads one student's file; on any defect the file is skipped whole (one warning). */
static void read_student(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char name[NAME_LEN];
    size_t stem = strlen(base) - (has_suffix(base, ".jsonl") ? 6 : has_suffix(base, ".json") ? 5 : 0);
    if (stem == 0 || stem >= sizeof name) { skip_file(path, "no usable student name in the file name"); return; }
    memcpy(name, base, stem);
    name[stem] = 0;
    for (int i = 0; i < n_students; i++)
        if (!strcmp(students[i].name, name)) { skip_file(path, "student '%s' already read from %s", name, students[i].path); return; }

    FILE *f = fopen(path, "rb");
    if (!f) { skip_file(path, "cannot read (%s)", strerror(errno)); return; }
    static char line[MAX_LINE + 2];
    static gr_json_record js;
    record *rec = NULL;
    int n = 0, cap = 0, lineno = 0, n_bad_names = 0;
    const char *bad = NULL;
    char why[512], first_bad[160] = "";
    while (!bad) {
        size_t len = 0;
        int ch;
        bool eof = false;
        while ((ch = fgetc(f)) != EOF && ch != '\n') {  /* bounded read: no line can exhaust memory */
            if (len < MAX_LINE) line[len] = (char)ch;
            len++;
        }
        if (ch == EOF && len == 0) break;
        if (ch == EOF) eof = true;
        lineno++;
        if (len > MAX_LINE) { snprintf(why, sizeof why, "line %d is longer than %d bytes", lineno, MAX_LINE); bad = why; break; }
        line[len] = 0;
        if (strlen(line) != len) { snprintf(why, sizeof why, "line %d holds a NUL byte (binary data?)", lineno); bad = why; break; }
        bool blank = true;
        for (size_t i = 0; i < len; i++) if (!isspace((unsigned char)line[i])) { blank = false; break; }
        if (blank) { if (eof) break; continue; }
        char err[128];
        if (!gr_json_parse(line, &js, err, sizeof err)) { snprintf(why, sizeof why, "line %d does not parse (%s)", lineno, err); bad = why; break; }
        const char *schema = gr_json_string(&js, "schema");
        if (!schema || strcmp(schema, SCHEMA)) {
            snprintf(why, sizeof why, "line %d: schema is not \"%s\"", lineno, SCHEMA); bad = why; break;
        }
        const char *sess = gr_json_string(&js, "session"), *exer = gr_json_string(&js, "exercise"), *problem = NULL;
        if (sess && *sess && exer && *exer) {   /* present: a bad name skips the record, not the file */
            const char *which = (problem = name_problem(sess)) ? "session" : "exercise";
            if (problem || (problem = name_problem(exer))) {
                if (!n_bad_names++) snprintf(first_bad, sizeof first_bad, "line %d: the %s name %s", lineno, which, problem);
                if (eof) break;
                continue;
            }
        }
        if (n == cap) { cap = cap ? 2 * cap : 32; rec = xrealloc(rec, (size_t)cap * sizeof *rec); }
        record *r = &rec[n];
        memset(r, 0, sizeof *r);
        const char *missing = !copy_field(r->session, sizeof r->session, sess) ? "session"
                            : !copy_field(r->exercise, sizeof r->exercise, exer) ? "exercise"
                            : !copy_field(r->verdict, sizeof r->verdict, gr_json_string(&js, "verdict")) ? "verdict"
                            : !copy_field(r->when, sizeof r->when, gr_json_string(&js, "when")) ? "when" : NULL;
        if (missing) { snprintf(why, sizeof why, "line %d: field \"%s\" missing, empty or too long", lineno, missing); bad = why; break; }
        const char *gpu = gr_json_string(&js, "gpu");
        snprintf(r->gpu, sizeof r->gpu, "%s", gpu ? gpu : "");
        for (int i = 0; i < js.n; i++) {
            if (!strcmp(js.f[i].key, "solution") && !js.f[i].is_string && !strcmp(js.f[i].text, "true")) {
                snprintf(why, sizeof why, "line %d: a record of the hidden solutions (\"solution\":true), not a student's", lineno);
                bad = why;
            }
            if (!strcmp(js.f[i].key, "given") && !js.f[i].is_string && !strcmp(js.f[i].text, "true")) r->given = true;
        }
        if (bad) break;
        if (!strncmp(r->exercise, "00_", 3)) r->given = true;
        double v;
        r->has_pct = gr_json_number(&js, "pct_peak", &v);
        r->pct = r->has_pct ? v : NAN;
        if (!strcmp(r->verdict, "PASS") && r->has_pct && (!isfinite(v) || v < 0 || v > 100)) {
            char val[32];
            snprintf(val, sizeof val, "%g", v);
            snprintf(why, sizeof why, "line %d: %s/%s passes with pct_peak %s, outside 0..100", lineno, r->session,
                     r->exercise, isnan(v) ? "NaN" : val);
            bad = why;
            break;
        }
        if (!r->has_pct) {   /* absent or null is fine (a CPU exercise); anything else is not a number */
            for (int i = 0; i < js.n; i++)
                if (!strcmp(js.f[i].key, "pct_peak") && (js.f[i].is_string || strcmp(js.f[i].text, "null"))) {
                    snprintf(why, sizeof why, "line %d: pct_peak is not a number", lineno); bad = why;
                }
            if (bad) break;
        }
        r->order = read_order++;
        n++;
        if (eof) break;
    }
    if (!bad && ferror(f)) { snprintf(why, sizeof why, "read error"); bad = why; }
    fclose(f);
    if (!bad && n == 0) {
        if (n_bad_names) snprintf(why, sizeof why, "no usable records (%d with a bad name; %s)", n_bad_names, first_bad);
        else snprintf(why, sizeof why, "empty: no records");
        bad = why;
    }
    if (bad) { skip_file(path, "%s", bad); free(rec); return; }
    if (n_bad_names)
        fprintf(stderr, "leaderboard: warning: %s: %d record%s skipped (%s)\n", path, n_bad_names,
                n_bad_names > 1 ? "s" : "", first_bad);
    if (n_students == cap_students) {
        cap_students = cap_students ? 2 * cap_students : 16;
        students = xrealloc(students, (size_t)cap_students * sizeof *students);
    }
    student *s = &students[n_students++];
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->rec = rec;
    s->n = n;
}

static bool class_sources_seen;   /* a folder of student sources was given instead of results */

/* Whether a folder below dir holds a regular *.cu file: the sign of a class folder of sources
 * (CLASS/alice/ladder/02-cuda-model/02_saxpy.cu; level 0 is CLASS, whose own files do not count).
 * Links are not followed, and the look ends after *budget entries, so that a huge tree costs little. */
static bool holds_sources(const char *dir, int level, int *budget) {
    DIR *d = opendir(dir);
    if (!d) return false;
    bool found = false;
    struct dirent *e;
    while (!found && (*budget)-- > 0 && (e = readdir(d))) {
        char p[PATH_MAX];
        struct stat st;
        if (e->d_name[0] == '.' || snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p || lstat(p, &st))
            continue;
        if (S_ISDIR(st.st_mode) && level < 4) found = holds_sources(p, level + 1, budget);
        else if (S_ISREG(st.st_mode) && level > 0 && has_suffix(e->d_name, ".cu")) found = true;
    }
    closedir(d);
    return found;
}

/* A directory: its *.json and *.jsonl files in name order. */
static void read_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) { fprintf(stderr, "leaderboard: warning: %s skipped: cannot open (%s)\n", dir, strerror(errno)); return; }
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !(has_suffix(e->d_name, ".json") || has_suffix(e->d_name, ".jsonl"))) continue;
        if (n == cap) { cap = cap ? 2 * cap : 32; names = xrealloc(names, (size_t)cap * sizeof *names); }
        names[n] = xrealloc(NULL, strlen(dir) + strlen(e->d_name) + 2);
        sprintf(names[n], "%s%s%s", dir, has_suffix(dir, "/") ? "" : "/", e->d_name);
        n++;
    }
    closedir(d);
    int budget = 20000;
    if (n == 0 && holds_sources(dir, 0, &budget)) {
        fprintf(stderr, "leaderboard: %s holds student folders of .cu files, not results: run make grade CLASS=%s "
                "OUT=DIR first (it writes DIR/NAME.jsonl and ranks them), then make leaderboard CLASS=DIR\n", dir, dir);
        class_sources_seen = true;
    } else if (n == 0) fprintf(stderr, "leaderboard: warning: %s skipped: no *.json or *.jsonl files in it\n", dir);
    if (n) qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) read_student(names[i]);
        free(names[i]);
    }
    free(names);
}

/* ---- one session's standings --------------------------------------------------------------- */

/* Where a student stands in a session: ranked, or listed apart below the ranking. A ranking of
 * students with nothing passed would order them by name alone and read as a result. */
typedef enum { RANKED, DISQUALIFIED, NO_PASS, NOT_GRADED, NOTHING_HANDED_IN } group;

typedef struct {
    const student *s;
    const record **cell;    /* per exercise: the latest record, or NULL */
    bool dq;
    int passed, timed;
    double geomean;         /* over the passed exercises with a percent of peak; <0 when none */
    group grp;
} standing;

/* The table's order: the ranked, then the disqualified (as rows marked so); the two lists after. */
static int cmp_standing(const void *a, const void *b) {
    const standing *x = a, *y = b;
    if (x->grp != y->grp) return (int)x->grp - (int)y->grp;
    if (x->passed != y->passed) return y->passed - x->passed;
    if (x->geomean != y->geomean) return x->geomean > y->geomean ? -1 : 1;
    return strcmp(x->s->name, y->s->name);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define SLUG_LEN (2 + 3 * PLAIN_NAME_MAX)   /* '_', every byte as _XX, the NUL */

/* The part of the chart and data file names for a session, one to one (see the top of this file). */
static void slug(const char *in, char out[SLUG_LEN]) {
    const char *slash = strchr(in, '/');
    size_t folder = slash ? (size_t)(slash - in) : 0;
    if (slash && folder > 0 && slash[1] && strspn(in, ALNUM) == folder &&
        strspn(slash + 1, ALNUM "-") == strlen(slash + 1)) {   /* ladder/03-memory: ladder-03-memory */
        snprintf(out, SLUG_LEN, "%.*s-%s", (int)folder, in, slash + 1);
        return;
    }
    size_t n = 0;
    out[n++] = '_';
    for (; *in && n + 4 <= SLUG_LEN; in++) {   /* plain names are at most 64 bytes: nothing is cut */
        if (strchr(ALNUM "-", *in)) out[n++] = *in;
        else n += (size_t)snprintf(out + n, SLUG_LEN - n, "_%02x", (unsigned char)*in);
    }
    out[n] = 0;
}

/* Names go into gnuplot data as one whitespace-free, quote-free word. */
static void plot_word(const char *in, char *out, size_t len) {
    size_t n = 0;
    for (; *in && n + 1 < len; in++) {
        unsigned char c = (unsigned char)*in;
        out[n++] = (c <= ' ' || c == '"' || c == '\'' || c == '\\' || c == '`' || c >= 0x7f) ? '_' : (char)c;
    }
    out[n] = 0;
}

static void html_text(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* Markdown table cells: '|' would split the cell. */
static void md_text(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '|') fputs("\\|", f);
        else if (*s == '\n' || *s == '\r') fputc(' ', f);
        else fputc(*s, f);
    }
}

static void cell_text(const record *r, char *buf, size_t len) {
    if (!r) snprintf(buf, len, "missing");
    else if (!strcmp(r->verdict, "PASS") && r->has_pct) snprintf(buf, len, "%.1f", r->pct);
    else snprintf(buf, len, "%s", r->verdict);
}

static bool file_exists(const char *dir, const char *name) {
    char p[PATH_MAX];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

/* Runs gnuplot in OUT_DIR on one data file; false when it could not. A note (who is not in the
 * ranking) goes under the chart as its x label, which the script leaves unset. */
static bool draw(const char *script, const char *out_dir, const char *kind, const char *dat, const char *png,
                 const char *title, const char *note) {
    char vars[2048];
    snprintf(vars, sizeof vars, "kind='%s'; dat='%s'; png='%s'; ttl='%s'%s%s%s", kind, dat, png, title,
             *note ? "; set xlabel \"" : "", note, *note ? "\" font \",10\"" : "");
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        if (chdir(out_dir) != 0) _exit(127);
        execlp("gnuplot", "gnuplot", "-e", vars, script, (char *)NULL);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) return false;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static bool have_gnuplot(void) {
    const char *path = getenv("PATH");
    if (!path) return false;
    char *copy = strdup(path), *save = NULL;
    bool found = false;
    for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/gnuplot", *d ? d : ".");
        found = access(p, X_OK) == 0;
    }
    free(copy);
    return found;
}

/* ---- the sessions --------------------------------------------------------------------------- */

typedef struct {
    const record *r;
    int student;
} ref;

/* By session, then in the order read. */
static int cmp_ref_session(const void *a, const void *b) {
    const ref *x = a, *y = b;
    int c = strcmp(x->r->session, y->r->session);
    return c ? c : (x->r->order > y->r->order) - (x->r->order < y->r->order);
}

/* By GPU name, then in the order read. */
static int cmp_ref_gpu(const void *a, const void *b) {
    const ref *x = a, *y = b;
    int c = strcmp(x->r->gpu, y->r->gpu);
    return c ? c : (x->r->order > y->r->order) - (x->r->order < y->r->order);
}

static int cmp_ref_order(const void *a, const void *b) {
    const ref *x = a, *y = b;
    return (x->r->order > y->r->order) - (x->r->order < y->r->order);
}

/* Sorts v[0..n) and drops repeats; returns the new count. */
static int sort_unique(char **v, int n) {
    if (n == 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_str);
    int k = 1;
    for (int i = 1; i < n; i++)
        if (strcmp(v[i], v[k - 1])) v[k++] = v[i];
    return k;
}

/* The index of name in the sorted names[0..n), or -1. */
static int find_name(char *const *names, int n, const char *name) {
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(names[mid], name);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

typedef struct {
    FILE *md, *html;
    const char *out, *script;   /* the output folder; the gnuplot script, NULL when none is drawn */
    int *slot;                  /* per student: its standing in the session at hand, or -1 */
} board;

#define MAX_KINDS 8   /* distinct verdicts named per student; a record's verdict can be any word */

/* What a student who passed nothing got, e.g. "1 FAIL, 1 COMPILE_ERROR": the verdicts of the
 * exercises handed in, so that a mentor sees why without the row. */
static void verdict_summary(const standing *t, int n_ex, char *buf, size_t len) {
    const char *kind[MAX_KINDS];
    int count[MAX_KINDS], n_kinds = 0, others = 0;
    for (int e = 0; e < n_ex; e++) {
        const record *r = t->cell[e];
        if (!r || !strcmp(r->verdict, "NOT_SUBMITTED")) continue;
        int k = 0;
        while (k < n_kinds && strcmp(kind[k], r->verdict)) k++;
        if (k == n_kinds && n_kinds == MAX_KINDS) { others++; continue; }
        if (k == n_kinds) { kind[k] = r->verdict; count[k] = 0; n_kinds++; }
        count[k]++;
    }
    size_t n = 0;
    buf[0] = 0;
    for (int k = 0; k < n_kinds && n < len; k++)
        n += (size_t)snprintf(buf + n, len - n, "%s%d %s", k ? ", " : "", count[k], kind[k]);
    if (others && n < len) snprintf(buf + n, len - n, ", %d with other verdicts", others);
}

/* Below the table, one line per group that is not ranked: "Not ranked: no exercise passed: frank
 * (1 FAIL, 1 COMPILE_ERROR).", "Not graded: ..." and "Handed in nothing: grace." (st is sorted by
 * group, then name). */
static void write_apart(FILE *md, FILE *html, const standing *st, int n_st, group grp, int n_ex) {
    const char *label = grp == NO_PASS ? "Not ranked: no exercise passed:"
                      : grp == NOT_GRADED ? "Not graded (NEEDS_ARCH: the session needs another GPU):"
                      : "Handed in nothing:";
    int k = 0;
    for (int i = 0; i < n_st; i++) {
        if (st[i].grp != grp) continue;
        if (k++ == 0) {
            fprintf(md, "\n%s ", label);
            fprintf(html, "<p class=\"apart\">%s ", label);
        } else {
            fputs(", ", md);
            fputs(", ", html);
        }
        md_text(md, st[i].s->name);
        html_text(html, st[i].s->name);
        if (grp == NO_PASS) {
            char why[MAX_KINDS * 48];
            verdict_summary(&st[i], n_ex, why, sizeof why);
            fputs(" (", md); md_text(md, why); fputc(')', md);
            fputs(" (", html); html_text(html, why); fputc(')', html);
        }
    }
    if (k) {
        fputs(".\n", md);
        fputs(".</p>\n", html);
    }
}

#define NOTE_GROUP 72    /* bytes of names per group in the ranking chart's note; then "and N more" */
#define NOTE_NAME 32     /* a longer name is cut there (with "..."): each line must fit the chart's width */
#define NOTE_LEN (4 * (NAME_LEN + NOTE_GROUP + 64))   /* four lines (a group each), each label: names and N more */

/* Appends a line "label: a, b" for a group to the ranking chart's note: plot words only (no quote,
 * backslash or backtick reaches gnuplot), lines joined by a literal \n that gnuplot's "..." reads. */
static void note_group(char note[NOTE_LEN], const standing *st, int n_st, group grp, const char *label) {
    size_t n = strlen(note), names = 0;
    int shown = 0, more = 0;
    for (int i = 0; i < n_st; i++) {
        if (st[i].grp != grp) continue;
        char w[NAME_LEN];
        plot_word(st[i].s->name, w, sizeof w);
        if (strlen(w) > NOTE_NAME) memcpy(w + NOTE_NAME - 3, "...", 4);
        if (more || (shown && names + strlen(w) > NOTE_GROUP)) { more++; continue; }
        if (!shown) n += (size_t)snprintf(note + n, NOTE_LEN - n, "%s%s: %s", n ? "\\n" : "", label, w);
        else n += (size_t)snprintf(note + n, NOTE_LEN - n, ", %s", w);
        names += strlen(w) + 2;
        shown++;
    }
    if (more) snprintf(note + n, NOTE_LEN - n, " and %d more", more);
}

/* One session's tables, data files and charts, from its records g[0..n_g) in the order read. */
/* A chart in both pages, its caption naming the session. */
static void embed_chart(FILE *md, FILE *html, const char *png, const char *caption, const char *sess) {
    fprintf(md, "\n![%s", caption);
    md_text(md, sess);
    fprintf(md, "](%s)\n", png);
    fprintf(html, "<p><img src=\"%s\" alt=\"%s", png, caption);
    html_text(html, sess);
    fputs("\"></p>\n", html);
}

static void write_session(board *b, const ref *g, int n_g) {
    const char *sess = g[0].r->session, *out = b->out;
    FILE *md = b->md, *html = b->html;

    /* The ranked exercises (every non-given exercise any student has a record of), the given ones,
     * and the GPUs named, each once: sorted lists, so that many names cost n log n, not n^2. */
    char **ex = xrealloc(NULL, (size_t)n_g * sizeof *ex), **given = xrealloc(NULL, (size_t)n_g * sizeof *given);
    ref *by_gpu = xrealloc(NULL, (size_t)n_g * sizeof *by_gpu);
    int n_ex = 0, n_given = 0, n_gpus = 0;
    for (int i = 0; i < n_g; i++) {
        const record *r = g[i].r;
        if (r->given) given[n_given++] = (char *)r->exercise;
        else ex[n_ex++] = (char *)r->exercise;
        if (r->gpu[0]) by_gpu[n_gpus++] = g[i];
    }
    n_ex = sort_unique(ex, n_ex);
    n_given = sort_unique(given, n_given);
    if (n_gpus) {   /* each GPU once, in the order first seen */
        qsort(by_gpu, (size_t)n_gpus, sizeof *by_gpu, cmp_ref_gpu);
        int k = 1;
        for (int i = 1; i < n_gpus; i++)
            if (strcmp(by_gpu[i].r->gpu, by_gpu[k - 1].r->gpu)) by_gpu[k++] = by_gpu[i];
        n_gpus = k;
        qsort(by_gpu, (size_t)n_gpus, sizeof *by_gpu, cmp_ref_order);
    }

    /* Standings: per student, the latest record of each ranked exercise. */
    standing *st = NULL;
    int n_st = 0, cap_st = 0;
    for (int i = 0; i < n_g; i++) {
        const record *r = g[i].r;
        int *slot = &b->slot[g[i].student];
        if (*slot < 0) {
            if (n_st == cap_st) { cap_st = cap_st ? 2 * cap_st : 16; st = xrealloc(st, (size_t)cap_st * sizeof *st); }
            standing *t = &st[n_st];
            memset(t, 0, sizeof *t);
            t->s = &students[g[i].student];
            t->cell = xrealloc(NULL, (size_t)(n_ex ? n_ex : 1) * sizeof *t->cell);
            for (int e = 0; e < n_ex; e++) t->cell[e] = NULL;
            *slot = n_st++;
        }
        standing *t = &st[*slot];
        if (!strcmp(r->verdict, "DISQUALIFIED")) t->dq = true;
        if (r->given) continue;
        int e = find_name(ex, n_ex, r->exercise);
        const record *best = t->cell[e];
        int c = best ? strcmp(r->when, best->when) : 1;
        if (c > 0 || (c == 0 && r->order > best->order)) t->cell[e] = r;
    }
    for (int i = 0; i < n_g; i++) b->slot[g[i].student] = -1;   /* ready for the next session */
    for (int i = 0; i < n_st; i++) {
        standing *t = &st[i];
        double logsum = 0;
        for (int e = 0; e < n_ex; e++) {
            const record *best = t->cell[e];
            if (best && !strcmp(best->verdict, "PASS")) {
                t->passed++;
                if (best->has_pct) { t->timed++; logsum += log(fmax(best->pct, 1e-3)); }
            }
        }
        t->geomean = t->timed ? exp(logsum / t->timed) : -1;
        /* A given exercise's record is the workbook's code, not the student's; NEEDS_ARCH says a
         * file was handed in but not graded. */
        bool graded = false, not_graded = false;
        for (int e = 0; e < n_ex; e++) {
            const record *r = t->cell[e];
            if (!r || !strcmp(r->verdict, "NOT_SUBMITTED")) continue;
            if (!strcmp(r->verdict, "NEEDS_ARCH")) not_graded = true;
            else graded = true;
        }
        t->grp = t->dq ? DISQUALIFIED : t->passed ? RANKED : graded ? NO_PASS : not_graded ? NOT_GRADED : NOTHING_HANDED_IN;
    }
    if (n_st) qsort(st, (size_t)n_st, sizeof *st, cmp_standing);

    char sl[SLUG_LEN], rank_dat[SLUG_LEN + 16], spread_dat[SLUG_LEN + 16], rank_png[SLUG_LEN + 16], spread_png[SLUG_LEN + 16];
    slug(sess, sl);
    snprintf(rank_dat, sizeof rank_dat, "rank-%s.dat", sl);
    snprintf(spread_dat, sizeof spread_dat, "spread-%s.dat", sl);
    snprintf(rank_png, sizeof rank_png, "rank-%s.png", sl);
    snprintf(spread_png, sizeof spread_png, "spread-%s.png", sl);

    /* Markdown and HTML tables. */
    char gpu_line[600] = "";
    size_t gl = 0;
    for (int k = 0; k < n_gpus && gl + 1 < sizeof gpu_line; k++)
        gl += (size_t)snprintf(gpu_line + gl, sizeof gpu_line - gl, "%s%s", k ? ", " : "", by_gpu[k].r->gpu);
    fprintf(md, "\n## ");
    md_text(md, sess);
    fprintf(md, "\n\n%d ranked exercises; percent of peak per exercise, or its verdict. GPU: ", n_ex);
    md_text(md, n_gpus ? gpu_line : "none named");
    fprintf(md, "%s.", n_gpus > 1 ? " (several GPUs: each percent is against its own GPU's roof)" : "");
    if (n_given) {
        fputs(" Given, not ranked:", md);
        for (int k = 0; k < n_given; k++) { fputs(k ? ", " : " ", md); md_text(md, given[k]); }
        fputc('.', md);
    }
    int n_table = 0, n_graded = 0;   /* the table's rows: the ranked and the disqualified */
    while (n_table < n_st && (st[n_table].grp == RANKED || st[n_table].grp == DISQUALIFIED)) n_table++;
    for (int i = 0; i < n_st; i++) n_graded += st[i].grp != NOT_GRADED && st[i].grp != NOTHING_HANDED_IN;
    /* A session graded on a GPU it cannot run on: say so, rather than that nobody passed. */
    const char *nobody = n_graded == 0 && n_st && st[0].grp == NOT_GRADED
                       ? "Nobody is ranked: this session was not graded on this GPU (NEEDS_ARCH)."
                       : "Nobody is ranked: nobody passed an exercise of this session.";
    if (n_table == 0) fprintf(md, "\n\n%s\n", nobody);
    else {
        fputs("\n\n| rank | student | passed | geometric mean % of peak |", md);
        for (int e = 0; e < n_ex; e++) { fputc(' ', md); md_text(md, ex[e]); fputs(" |", md); }
        fputs("\n|---:|---|---:|---:|", md);
        for (int e = 0; e < n_ex; e++) fputs("---:|", md);
        fputc('\n', md);
    }

    fputs("<h2>", html); html_text(html, sess); fputs("</h2>\n<p>", html);
    fprintf(html, "%d ranked exercises; percent of peak per exercise, or its verdict. GPU: ", n_ex);
    html_text(html, n_gpus ? gpu_line : "none named");
    if (n_gpus > 1) fputs(" (several GPUs: each percent is against its own GPU's roof)", html);
    fputs(".", html);
    if (n_given) {
        fputs(" Given, not ranked:", html);
        for (int k = 0; k < n_given; k++) { fputs(k ? ", " : " ", html); html_text(html, given[k]); }
        fputc('.', html);
    }
    fputs("</p>\n", html);
    if (n_table == 0) fprintf(html, "<p>%s</p>\n", nobody);
    else {
        fputs("<table>\n<tr><th>rank</th><th>student</th><th>passed</th><th>geometric mean % of peak</th>", html);
        for (int e = 0; e < n_ex; e++) { fputs("<th>", html); html_text(html, ex[e]); fputs("</th>", html); }
        fputs("</tr>\n", html);
    }

    int rank = 0;
    for (int i = 0; i < n_table; i++) {
        const standing *t = &st[i];
        char rk[32], gm[32];
        if (t->dq) snprintf(rk, sizeof rk, "DISQUALIFIED");
        else snprintf(rk, sizeof rk, "%d", ++rank);
        if (t->dq) snprintf(gm, sizeof gm, "-");
        else if (t->geomean >= 0) snprintf(gm, sizeof gm, "%.2f", t->geomean);
        else snprintf(gm, sizeof gm, "-");
        fprintf(md, "| %s | ", rk);
        md_text(md, t->s->name);
        fprintf(md, " | %d/%d | %s |", t->passed, n_ex, gm);
        fprintf(html, "<tr%s><td>%s</td><td class=\"name\">", t->dq ? " class=\"dq\"" : "", rk);
        html_text(html, t->s->name);
        fprintf(html, "</td><td>%d/%d</td><td>%s</td>", t->passed, n_ex, gm);
        for (int e = 0; e < n_ex; e++) {
            char c[64];
            cell_text(t->cell[e], c, sizeof c);
            fputc(' ', md); md_text(md, c); fputs(" |", md);
            bool bad = !t->cell[e] || strcmp(t->cell[e]->verdict, "PASS");
            fprintf(html, "<td%s>", bad ? " class=\"bad\"" : "");
            html_text(html, c);
            fputs("</td>", html);
        }
        fputc('\n', md);
        fputs("</tr>\n", html);
    }
    if (n_table) fputs("</table>\n", html);
    write_apart(md, html, st, n_st, NO_PASS, n_ex);
    write_apart(md, html, st, n_st, NOT_GRADED, n_ex);
    write_apart(md, html, st, n_st, NOTHING_HANDED_IN, n_ex);

    /* gnuplot data: the ranking (the ranked with a mean) and the spread per exercise. */
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", out, rank_dat);
    FILE *rd = fopen(p, "w");
    int n_rank = 0;
    if (rd) {
        fprintf(rd, "# %s: rank, student, geometric mean %% of peak, passed, ranked exercises\n", sess);
        for (int i = 0, r = 0; i < n_st && st[i].grp == RANKED; i++) {
            r++;
            if (st[i].geomean < 0) continue;
            char w[NAME_LEN];
            plot_word(st[i].s->name, w, sizeof w);
            fprintf(rd, "%d\t%s\t%.4f\t%d\t%d\n", r, w, st[i].geomean, st[i].passed, n_ex);
            n_rank++;
        }
        fclose(rd);
    }
    snprintf(p, sizeof p, "%s/%s", out, spread_dat);
    FILE *sd = fopen(p, "w");
    int n_spread = 0;
    if (sd) {
        fprintf(sd, "# %s: index, exercise, min, median, max %% of peak over the passing students (not disqualified), count\n", sess);
        double *v = xrealloc(NULL, (size_t)(n_st ? n_st : 1) * sizeof *v);
        for (int e = 0; e < n_ex; e++) {
            int k = 0;
            for (int i = 0; i < n_st; i++) {
                const record *r = st[i].cell[e];
                if (!st[i].dq && r && !strcmp(r->verdict, "PASS") && r->has_pct) v[k++] = r->pct;
            }
            if (!k) continue;
            qsort(v, (size_t)k, sizeof *v, cmp_double);
            double med = k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
            char w[NAME_LEN];
            plot_word(ex[e], w, sizeof w);
            fprintf(sd, "%d\t%s\t%.4f\t%.4f\t%.4f\t%d\n", n_spread++, w, v[0], med, v[k - 1], k);
        }
        free(v);
        fclose(sd);
    }

    /* Charts. */
    char title[NAME_LEN], note[NOTE_LEN] = "";
    plot_word(sess, title, sizeof title);
    note_group(note, st, n_st, NO_PASS, "not ranked (no exercise passed)");
    note_group(note, st, n_st, NOT_GRADED, "not graded (needs another GPU)");
    note_group(note, st, n_st, NOTHING_HANDED_IN, "handed in nothing");
    note_group(note, st, n_st, DISQUALIFIED, "disqualified");
    bool drew_rank = false, drew_spread = false;
    if (b->script && n_rank)
        drew_rank = draw(b->script, out, "rank", rank_dat, rank_png, title, note) && file_exists(out, rank_png);
    if (b->script && n_spread)
        drew_spread = draw(b->script, out, "spread", spread_dat, spread_png, title, "") && file_exists(out, spread_png);
    if (b->script && n_rank && !drew_rank) fprintf(stderr, "leaderboard: warning: gnuplot failed on %s/%s\n", out, rank_dat);
    if (b->script && n_spread && !drew_spread) fprintf(stderr, "leaderboard: warning: gnuplot failed on %s/%s\n", out, spread_dat);
    if (drew_rank) embed_chart(md, html, rank_png, "ranking of ", sess);
    if (drew_spread) embed_chart(md, html, spread_png, "spread per exercise in ", sess);
    if (!drew_rank && !drew_spread) fputs("<p>(no charts drawn for this session)</p>\n", html);

    for (int i = 0; i < n_st; i++) free(st[i].cell);
    free(st);
    free(ex);
    free(given);
    free(by_gpu);
}

/* Forgets every student read: the fuzz harness runs the command many times in one process. */
void leaderboard_reset(void) {
    for (int i = 0; i < n_students; i++) free(students[i].rec);
    free(students);
    students = NULL;
    n_students = cap_students = 0;
    read_order = 0;
    class_sources_seen = false;
}

/* The command; main in a build of its own, called by the fuzz harness otherwise. */
int leaderboard_main(int argc, char **argv) {
    if (argc < 3 || argv[1][0] == '-') {
        fprintf(stderr, "usage: leaderboard OUT_DIR RESULTS...   (RESULTS: student files NAME.jsonl, or directories of them)\n");
        return 64;
    }
    const char *out = argv[1];
    for (int i = 2; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) fprintf(stderr, "leaderboard: warning: %s skipped: %s\n", argv[i], strerror(errno));
        else if (S_ISDIR(st.st_mode)) read_dir(argv[i]);
        else read_student(argv[i]);
    }
    if (n_students == 0 && class_sources_seen) return 64;   /* said in one line already */
    if (n_students == 0) { fprintf(stderr, "leaderboard: no valid results file was read; nothing written\n"); return 1; }
    if (mkdir(out, 0777) != 0 && errno != EEXIST) { fprintf(stderr, "leaderboard: cannot create %s: %s\n", out, strerror(errno)); return 1; }

    /* Every record, grouped by session (in name order), each group in the order read. */
    long n_refs = 0;
    for (int i = 0; i < n_students; i++) n_refs += students[i].n;
    ref *refs = xrealloc(NULL, (size_t)n_refs * sizeof *refs);
    n_refs = 0;
    for (int i = 0; i < n_students; i++)
        for (int j = 0; j < students[i].n; j++) refs[n_refs++] = (ref){&students[i].rec[j], i};
    qsort(refs, (size_t)n_refs, sizeof *refs, cmp_ref_session);
    int n_sessions = 0;
    for (long i = 0; i < n_refs; i++) n_sessions += i == 0 || strcmp(refs[i].r->session, refs[i - 1].r->session);

    char md_path[PATH_MAX], html_path[PATH_MAX];
    snprintf(md_path, sizeof md_path, "%s/leaderboard.md", out);
    snprintf(html_path, sizeof html_path, "%s/leaderboard.html", out);
    FILE *md = fopen(md_path, "w"), *html = fopen(html_path, "w");
    if (!md || !html) {
        fprintf(stderr, "leaderboard: cannot write in %s: %s\n", out, strerror(errno));
        if (md) fclose(md);
        if (html) fclose(html);
        free(refs);
        return 1;
    }

    const char *script = getenv("LEADERBOARD_GP") ? getenv("LEADERBOARD_GP") : "grader/leaderboard.gp";
    char script_abs[PATH_MAX];
    bool gnuplot = have_gnuplot();
    bool script_ok = realpath(script, script_abs) != NULL;
    if (!gnuplot)
        printf("leaderboard: gnuplot is not installed: the charts are skipped (Debian: apt-get install gnuplot-nox)\n");
    else if (!script_ok) { printf("leaderboard: %s not found; charts not drawn (set LEADERBOARD_GP)\n", script); gnuplot = false; }

    const char *rule = "Ranking: only students who passed at least one exercise are ranked, first by exercises passed; "
                       "then by the geometric mean of percent of peak over the passed exercises (an exercise not "
                       "passed never enters the mean). Disqualified students follow the ranked ones; students with "
                       "no exercise passed, those not graded (NEEDS_ARCH: the session needs another GPU) and those "
                       "who handed in nothing are listed below each table. Given "
                       "exercises are not ranked; of several records for one exercise the latest counts.";
    fprintf(md, "# Class leaderboard\n\n%d students. %s\n", n_students, rule);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Class leaderboard</title>\n"
          "<style>body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;margin:1em 0}"
          "th,td{border:1px solid #bbb;padding:.25em .6em;text-align:right}th{background:#eee}"
          "td.name{text-align:left}tr.dq td{color:#a00;background:#fee}td.bad{color:#a00}img{max-width:100%}"
          "</style></head><body>\n<h1>Class leaderboard</h1>\n", html);
    fprintf(html, "<p>%d students. ", n_students);
    html_text(html, rule);
    fputs("</p>\n", html);

    board b = {md, html, out, gnuplot ? script_abs : NULL, xrealloc(NULL, (size_t)n_students * sizeof(int))};
    for (int i = 0; i < n_students; i++) b.slot[i] = -1;
    for (long start = 0, end; start < n_refs; start = end) {
        for (end = start + 1; end < n_refs && !strcmp(refs[end].r->session, refs[start].r->session); end++) {}
        write_session(&b, refs + start, (int)(end - start));
    }
    free(b.slot);
    free(refs);

    fputs("</body></html>\n", html);
    bool ok = !ferror(md) && !ferror(html);
    ok = (fclose(md) == 0) & ok;
    ok = (fclose(html) == 0) & ok;
    if (!ok) { fprintf(stderr, "leaderboard: error writing %s or %s\n", md_path, html_path); return 1; }
    printf("leaderboard: %d students, %d sessions: %s, %s\n", n_students, n_sessions, md_path, html_path);
    return 0;
}

#ifndef LEADERBOARD_NO_MAIN
int main(int argc, char **argv) {
    int rc = leaderboard_main(argc, argv);
    leaderboard_reset();
    return rc;
}
#endif
