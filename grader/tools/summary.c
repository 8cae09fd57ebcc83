/* The last line of 'make check': how many exercises pass, and which one to work on next.
 * Exercises skipped because their session needs another GPU (NEEDS_ARCH) are counted apart: they
 * were not graded, so they are neither passed nor the next one to work on. Exit 0 when every
 * graded exercise passes (check-sessions.sh then says 2 if anything was skipped), 1 otherwise. */
#include <stdio.h>
#include <string.h>

#include "record.h"

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: summary RESULTS.jsonl\n"); return 64; }
    FILE *f = fopen(argv[1], "r");
    if (!f) { printf("make check: no results were written (%s missing)\n", argv[1]); return 1; }
    static char line[8192];
    static gr_json_record rec;
    int total = 0, pass = 0, skipped = 0, lineno = 0;
    char next[256] = "", next_why[300] = "";
    while (fgets(line, sizeof line, f)) {
        char err[128];
        lineno++;
        if (!gr_json_parse(line, &rec, err, sizeof err)) {
            printf("warning: %s line %d is malformed (%s); skipped\n", argv[1], lineno, err);
            continue;
        }
        const char *session = gr_json_string(&rec, "session"), *ex = gr_json_string(&rec, "exercise");
        const char *verdict = gr_json_string(&rec, "verdict"), *msg = gr_json_string(&rec, "message");
        if (!session || !ex || !verdict) { printf("warning: %s line %d lacks session/exercise/verdict; skipped\n", argv[1], lineno); continue; }
        gr_verdict v;
        if (gr_verdict_parse(verdict, &v) && v == GR_NEEDS_ARCH) { skipped++; continue; }
        total++;
        if (!strcmp(verdict, "PASS")) { pass++; continue; }
        if (!next[0]) {
            snprintf(next, sizeof next, "%s/%s.cu", session, ex);
            snprintf(next_why, sizeof next_why, "%s: %.240s", verdict, msg ? msg : "");
        }
    }
    fclose(f);
    char apart[120] = "";
    if (skipped)
        snprintf(apart, sizeof apart, " (%d more skipped: their session needs another GPU)", skipped);
    if (total == 0 && skipped) { printf("\nmake check: no exercise graded here%s.\n", apart); return 0; }
    if (total == 0) { printf("make check: no exercise was graded\n"); return 1; }
    if (pass == total) { printf("\nmake check: all %d exercises pass%s.\n", total, apart); return 0; }
    printf("\nmake check: %d of %d exercises pass%s. Next: %s (%s)\n", pass, total, apart, next, next_why);
    return 1;
}
