/* The benchmark table in Markdown, from the records 'make bench' wrote. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jsonl.h"

static void pct(const gr_json_record *r, const char *key, char *out, size_t len) {
    double v;
    if (gr_json_number(r, key, &v)) snprintf(out, len, "%.1f%%", v);
    else snprintf(out, len, "-");
}

/* The first GPU named in the file (records of CPU exercises name none). */
static const char *first_gpu(const char *path) {
    static char line[8192], name[128];
    static gr_json_record r;
    FILE *f = fopen(path, "r");
    name[0] = 0;
    while (f && fgets(line, sizeof line, f)) {
        char err[128];
        const char *g;
        if (gr_json_parse(line, &r, err, sizeof err) && (g = gr_json_string(&r, "gpu")) && *g) {
            snprintf(name, sizeof name, "%s", g);
            break;
        }
    }
    if (f) fclose(f);
    return name[0] ? name : "?";
}

/* --tsv: one line per GPU exercise, "session/exercise  pct_peak  pct_measured_roof  pct_library", for gnuplot
 * (a missing figure is written as 0). */
static int print_tsv(FILE *f, const char *path) {
    static char line[8192];
    static gr_json_record r;
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char err[128];
        if (!gr_json_parse(line, &r, err, sizeof err)) { fprintf(stderr, "warning: %s: malformed line skipped (%s)\n", path, err); continue; }
        const char *e = gr_json_string(&r, "exercise");
        double a = 0, b = 0, c = 0;
        if (!gr_json_number(&r, "pct_peak", &a)) continue;  /* CPU exercises have no GPU roof */
        gr_json_number(&r, "pct_measured_roof", &b);
        gr_json_number(&r, "pct_library", &c);
        printf("%s\t%.2f\t%.2f\t%.2f\n", e ? e : "?", a, b, c);
        n++;
    }
    return n ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--tsv")) {
        FILE *t = fopen(argv[2], "r");
        if (!t) { fprintf(stderr, "bench-table: cannot read %s\n", argv[2]); return 1; }
        int rc = print_tsv(t, argv[2]);
        fclose(t);
        return rc;
    }
    const char *only = NULL;  /* --session S: that session's rows alone */
    if (argc == 4 && !strcmp(argv[1], "--session")) { only = argv[2]; argv += 2; argc -= 2; }
    if (argc != 2) { fprintf(stderr, "usage: bench-table [--tsv | --session S] BENCH.jsonl\n"); return 64; }
    FILE *f = fopen(argv[1], "r");
    if (!f) { fprintf(stderr, "bench-table: cannot read %s\n", argv[1]); return 1; }
    static char line[8192];
    static gr_json_record r;
    bool header = false;
    int lineno = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        char err[128];
        lineno++;
        if (!gr_json_parse(line, &r, err, sizeof err)) { fprintf(stderr, "warning: %s line %d is malformed (%s); skipped\n", argv[1], lineno, err); bad++; continue; }
        const char *gpu = gr_json_string(&r, "gpu"), *when = gr_json_string(&r, "when");
        const char *session = gr_json_string(&r, "session");
        if (only && (!session || strcmp(session, only))) continue;
        if (!header && (!gpu || !*gpu)) gpu = first_gpu(argv[1]);
        if (!header) {
            printf("Benchmark of the solutions on %s, %.10s (make bench; median of timed launches, L2 flushed).\n\n",
                   gpu ? gpu : "?", when ? when : "?");
            printf("| session | exercise | verdict | size | median | rate | %% of peak | %% of measured roof | library | %% of library |\n");
            printf("|---|---|---|---|---|---|---|---|---|---|\n");
            header = true;
        }
        const char *s = gr_json_string(&r, "session"), *e = gr_json_string(&r, "exercise");
        const char *v = gr_json_string(&r, "verdict"), *shape = gr_json_string(&r, "bench_shape");
        const char *bound = gr_json_string(&r, "bound"), *lib = gr_json_string(&r, "library");
        double ms = 0, flops = 0, bytes = 0;
        char rate[32] = "-", p1[16], p2[16], p3[16], peak[32];
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
        snprintf(peak, sizeof peak, "%s%s%s", p1, strcmp(p1, "-") && bound ? " " : "", strcmp(p1, "-") && bound ? bound : "");
        char tm[32] = "-";
        if (timed) snprintf(tm, sizeof tm, "%.3f ms", ms);
        printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s ? s : "?", e ? e : "?", v ? v : "?",
               shape ? shape : "-", tm, rate, peak, p2, lib && *lib ? lib : "-", p3);
    }
    fclose(f);
    if (!header) { fprintf(stderr, "bench-table: no records in %s\n", argv[1]); return 1; }
    return bad ? 1 : 0;
}
