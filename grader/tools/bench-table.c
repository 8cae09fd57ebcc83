/* The benchmark table in Markdown, from the records 'make bench' wrote.
 *
 *   bench-table BENCH.jsonl               the Markdown table of every record
 *   bench-table --session S BENCH.jsonl   that session's rows alone (--session again: several
 *                                         sessions, as one handout serves session 13's two folders)
 *   bench-table --tsv [--session S] BENCH.jsonl
 *                                         "exercise  pct_peak  pct_measured_roof  pct_library" per GPU
 *                                         exercise, for gnuplot (a missing figure is written as 0)
 *   bench-table --sessions BENCH.jsonl    the session names, sorted, one a line
 *   bench-table --info BENCH.jsonl        two lines: the first GPU named, the day of the first record
 *
 * A bench file is user input (plot-bench.sh and fill-tables.sh read files made elsewhere), so every
 * line is read bounded: a line longer than MAX_LINE, one holding a NUL byte, one that does not parse
 * and a record whose session or exercise name is not a plain name ([A-Za-z0-9_.+/-], at most 64
 * bytes, no "..") is named in one warning on stderr and skipped whole. What --tsv, --sessions and
 * --info print holds only those plain characters (and spaces in --info), so that a script may put
 * it into a gnuplot command or a file name without quoting worries. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"

#define MAX_LINE 8192   /* a record is about 1 KB */
#define MAX_NAME 64

/* One line of f into line (NUL-terminated, without '\n'); false at the end of the file. A line
 * longer than MAX_LINE is consumed whole and *why says so (rather than its tail being read as the
 * next line, which could be a record of its own); so is one holding a NUL byte. */
static bool read_line(FILE *f, char line[MAX_LINE + 1], const char **why) {
    size_t len = 0;
    bool nul = false;
    int ch;
    while ((ch = getc(f)) != EOF && ch != '\n') {
        if (ch == 0) nul = true;
        if (len < MAX_LINE) line[len] = (char)ch;
        len++;
    }
    line[len < MAX_LINE ? len : MAX_LINE] = 0;
    *why = len > MAX_LINE ? "longer than 8192 bytes" : nul ? "holds a NUL byte" : NULL;
    return ch != EOF || len > 0;
}

/* A session or exercise name as the grader writes them: ladder/04-gemm-tiling, 02_sgemm_coalesced. */
static bool plain_name(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > MAX_NAME || strstr(s, "..")) return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+/-") == n;
}

/* The next usable record of f: parsed, with plain session and exercise names. Lines that are not
 * are counted in *bad and, when warn, named in a warning. False at the end of the file. */
static bool next_record(FILE *f, const char *path, bool warn, int *lineno, int *bad, gr_json_record *r) {
    static char line[MAX_LINE + 1];
    const char *why;
    while (read_line(f, line, &why)) {
        char err[160];
        (*lineno)++;
        if (!why && line[strspn(line, " \t\r")] == 0) continue;   /* blank */
        if (why) snprintf(err, sizeof err, "%s", why);
        else if (!gr_json_parse(line, r, err, sizeof err)) {}
        else if (!plain_name(gr_json_string(r, "session"))) snprintf(err, sizeof err, "the session is not a plain name");
        else if (!plain_name(gr_json_string(r, "exercise"))) snprintf(err, sizeof err, "the exercise is not a plain name");
        else return true;
        if (warn) fprintf(stderr, "warning: %s line %d is malformed (%s); skipped\n", path, *lineno, err);
        (*bad)++;
    }
    return false;
}

static FILE *open_or_say(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) fprintf(stderr, "bench-table: cannot read %s\n", path);
    return f;
}

/* Text for a script: plain characters kept, anything else '_', at most 80 bytes. */
static void print_plain(const char *s) {
    for (int i = 0; s[i] && i < 80; i++)
        putchar(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+/- ", s[i]) ? s[i] : '_');
    putchar('\n');
}

/* A Markdown table cell: '|' would end the cell, a line break the row; HTML is shown as text. */
static void md_cell(const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '|') fputs("\\|", stdout);
        else if (c == '<') fputs("&lt;", stdout);
        else if (c == '>') fputs("&gt;", stdout);
        else if (c == '&') fputs("&amp;", stdout);
        else if (c < 0x20 || c == 0x7f) putchar(' ');
        else putchar(c);
    }
}

static void pct(const gr_json_record *r, const char *key, char *out, size_t len) {
    double v;
    if (gr_json_number(r, key, &v)) snprintf(out, len, "%.1f%%", v);
    else snprintf(out, len, "-");
}

/* The first GPU named in the file (records of CPU exercises name none). */
static const char *first_gpu(const char *path) {
    static char name[128];
    static gr_json_record r;
    FILE *f = fopen(path, "r");
    int lineno = 0, bad = 0;
    const char *g;
    name[0] = 0;
    while (f && next_record(f, path, false, &lineno, &bad, &r))   /* the caller warns about bad lines */
        if ((g = gr_json_string(&r, "gpu")) && *g) { snprintf(name, sizeof name, "%s", g); break; }
    if (f) fclose(f);
    return name[0] ? name : "?";
}

/* The sessions --session named (none: every session). */
#define MAX_ONLY 8
typedef struct {
    const char *name[MAX_ONLY];
    int n;
} session_filter;

static bool wanted(const session_filter *only, const char *session) {
    if (only->n == 0) return true;
    for (int i = 0; i < only->n; i++)
        if (session && !strcmp(session, only->name[i])) return true;
    return false;
}

/* --tsv: one line per GPU exercise (of the sessions `only` names). */
static int print_tsv(const char *path, const session_filter *only) {
    static gr_json_record r;
    FILE *f = open_or_say(path);
    if (!f) return 1;
    int n = 0, lineno = 0, bad = 0;
    while (next_record(f, path, true, &lineno, &bad, &r)) {
        if (!wanted(only, gr_json_string(&r, "session"))) continue;
        double a = 0, b = 0, c = 0;
        if (!gr_json_number(&r, "pct_peak", &a)) continue;   /* CPU exercises have no GPU roof */
        gr_json_number(&r, "pct_measured_roof", &b);
        gr_json_number(&r, "pct_library", &c);
        if (!isfinite(a) || !isfinite(b) || !isfinite(c)) continue;
        printf("%s\t%.2f\t%.2f\t%.2f\n", gr_json_string(&r, "exercise"), a, b, c);
        n++;
    }
    fclose(f);
    return n ? 0 : 1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* --sessions: sorted, each once (sorting keeps this linear-logarithmic in the number of records). */
static int print_sessions(const char *path) {
    static gr_json_record r;
    FILE *f = open_or_say(path);
    if (!f) return 1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int lineno = 0, bad = 0;
    while (next_record(f, path, true, &lineno, &bad, &r)) {
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown) { fprintf(stderr, "bench-table: out of memory\n"); exit(1); }
            names = grown;
        }
        if (!(names[n++] = strdup(gr_json_string(&r, "session")))) { fprintf(stderr, "bench-table: out of memory\n"); exit(1); }
    }
    fclose(f);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(names[i], names[i - 1])) printf("%s\n", names[i]);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return n ? 0 : 1;
}

/* --info: the GPU and the day, for a chart's title. */
static int print_info(const char *path) {
    static gr_json_record r;
    FILE *f = open_or_say(path);
    if (!f) return 1;
    int lineno = 0, bad = 0;
    char day[16] = "?";
    bool any = next_record(f, path, true, &lineno, &bad, &r);
    const char *when = any ? gr_json_string(&r, "when") : NULL;
    /* "2026-11-22T06:10:15Z": the day is its first ten characters, digits and dashes */
    if (when && strlen(when) >= 10 && strspn(when, "0123456789-") >= 10) snprintf(day, sizeof day, "%.10s", when);
    fclose(f);
    if (!any) return 1;
    print_plain(first_gpu(path));
    print_plain(day);
    return 0;
}

static int print_markdown(const char *path, const session_filter *only) {
    static gr_json_record r;
    FILE *f = open_or_say(path);
    if (!f) return 1;
    bool header = false;
    int lineno = 0, bad = 0;
    while (next_record(f, path, true, &lineno, &bad, &r)) {
        const char *gpu = gr_json_string(&r, "gpu"), *when = gr_json_string(&r, "when");
        const char *s = gr_json_string(&r, "session"), *e = gr_json_string(&r, "exercise");
        if (!wanted(only, s)) continue;
        if (!header) {
            if (!gpu || !*gpu) gpu = first_gpu(path);
            char day[16];
            snprintf(day, sizeof day, "%.10s", when ? when : "?");
            printf("Benchmark of the solutions on ");
            md_cell(gpu);
            printf(", ");
            md_cell(day);
            printf(" (make bench; median of timed launches, L2 flushed).\n\n");
            printf("| session | exercise | verdict | size | median | rate | %% of peak | %% of measured roof | library | %% of library |\n");
            printf("|---|---|---|---|---|---|---|---|---|---|\n");
            header = true;
        }
        const char *v = gr_json_string(&r, "verdict"), *shape = gr_json_string(&r, "bench_shape");
        const char *bound = gr_json_string(&r, "bound"), *lib = gr_json_string(&r, "library");
        double ms = 0, flops = 0, bytes = 0;
        char rate[32] = "-", p1[16], p2[16], p3[16], tm[32] = "-";
        bool timed = gr_json_number(&r, "median_ms", &ms);
        gr_json_number(&r, "flops", &flops);
        gr_json_number(&r, "bytes", &bytes);
        if (timed && ms > 0) {
            if (flops > 0 && flops / (ms * 1e-3) < 1e12) snprintf(rate, sizeof rate, "%.1f GFLOP/s", flops / (ms * 1e-3) / 1e9);
            else if (flops > 0) snprintf(rate, sizeof rate, "%.2f TFLOP/s", flops / (ms * 1e-3) / 1e12);
            else if (bytes > 0) snprintf(rate, sizeof rate, "%.0f GB/s", bytes / (ms * 1e-3) / 1e9);
        }
        pct(&r, "pct_peak", p1, sizeof p1);
        pct(&r, "pct_measured_roof", p2, sizeof p2);
        pct(&r, "pct_library", p3, sizeof p3);
        if (timed) snprintf(tm, sizeof tm, "%.3f ms", ms);
        printf("| %s | %s | ", s, e);
        md_cell(v ? v : "?");
        printf(" | ");
        md_cell(shape ? shape : "-");
        printf(" | %s | %s | %s", tm, rate, p1);
        if (strcmp(p1, "-") && bound) { putchar(' '); md_cell(bound); }
        printf(" | %s | ", p2);
        md_cell(lib && *lib ? lib : "-");
        printf(" | %s |\n", p3);
    }
    fclose(f);
    if (!header) { fprintf(stderr, "bench-table: no records in %s\n", path); return 1; }
    return bad ? 1 : 0;
}

static int usage(void) {
    fprintf(stderr, "usage: bench-table [--tsv] [--session S] BENCH.jsonl | --sessions BENCH.jsonl | --info BENCH.jsonl\n");
    return 64;
}

/* The command; main in a build of its own, called by the fuzz harness otherwise. */
int bench_table_main(int argc, char **argv) {
    bool tsv = false;
    const char *mode = NULL;
    session_filter only = {.n = 0};
    int i = 1;
    for (; i < argc - 1; i++) {
        if (!strcmp(argv[i], "--tsv")) tsv = true;
        else if (!strcmp(argv[i], "--session") && i + 2 < argc && only.n < MAX_ONLY) only.name[only.n++] = argv[++i];
        else if (!strcmp(argv[i], "--sessions") || !strcmp(argv[i], "--info")) mode = argv[i];
        else return usage();
    }
    if (i != argc - 1 || (mode && (tsv || only.n))) return usage();
    const char *path = argv[i];
    if (mode && !strcmp(mode, "--sessions")) return print_sessions(path);
    if (mode) return print_info(path);
    return tsv ? print_tsv(path, &only) : print_markdown(path, &only);
}

#ifndef BENCH_TABLE_NO_MAIN
int main(int argc, char **argv) { return bench_table_main(argc, argv); }
#endif
