/* record: the scripts' way to write and read result records (grader/record.h), so that no script
 * spells a verdict or picks a field out of JSON with sed.
 *
 *   record write SESSION EXERCISE VERDICT MESSAGE    one record of a verdict given without a run
 *   record accept SESSION EXERCISE < RECORDS          the check's records of EXERCISE (and of its
 *        timing variants EXERCISE+...) in SESSION, passed through; exit 1, with the reason on
 *        stderr, when a line is not such a record or EXERCISE's own record is missing
 *   record get FIELD < RECORDS                        FIELD of the first record (strings unescaped,
 *        newlines as " | "), empty when absent
 *   record table FILE.jsonl ...                       the class verdict table, one row a record
 *        (student = file name), then the count of each verdict
 *
 * Input is read with limits (64 KiB a line, 10,000 lines): a file that never ends or never breaks
 * its lines is refused, not waited on. Exit 64 on usage, 2 when a file cannot be read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

#define MAX_LINE (64 * 1024)
#define MAX_LINES 10000

/* Reads one line into buf; 1: a line, 0: end of input, -1: a line too long or holding a NUL byte
 * (not text: the rest of the input is not read). */
static int read_line(FILE *f, char *buf, size_t len) {
    size_t n = 0;
    int ch;
    while ((ch = getc(f)) != EOF && ch != '\n') {
        if (ch == 0 || n + 1 >= len) return -1;
        buf[n++] = (char)ch;
    }
    buf[n] = 0;
    return (ch == EOF && n == 0) ? 0 : 1;
}

static void print_flat(const char *s) {
    for (; *s; s++) {
        if (*s == '\n') fputs(" | ", stdout);
        else putchar(*s);
    }
}

static int cmd_write(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: record write SESSION EXERCISE VERDICT MESSAGE\n"); return 64; }
    gr_verdict v;
    if (!gr_verdict_parse(argv[4], &v)) { fprintf(stderr, "record: unknown verdict '%s'\n", argv[4]); return 64; }
    if (!gr_record_name_ok(argv[2]) || !gr_record_name_ok(argv[3])) {
        fprintf(stderr, "record: session and exercise names are printable ASCII without '..'\n");
        return 64;
    }
    return gr_record_write_verdict(stdout, argv[2], argv[3], v, argv[5], false, false) ? 0 : 74;
}

static bool is_exercise_or_variant(const char *name, const char *exercise) {
    size_t n = strlen(exercise);
    return !strncmp(name, exercise, n) && (name[n] == 0 || name[n] == '+');
}

static int cmd_accept(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: record accept SESSION EXERCISE < RECORDS\n"); return 64; }
    static char line[MAX_LINE];
    static gr_record r;
    char *kept = NULL;
    size_t kept_len = 0;
    bool own = false;
    int lines = 0, got;
    while ((got = read_line(stdin, line, sizeof line)) != 0) {
        char err[160];
        if (got < 0) { fprintf(stderr, "a line longer than %d bytes, or not text\n", MAX_LINE); free(kept); return 1; }
        if (++lines > MAX_LINES) { fprintf(stderr, "more than %d records\n", MAX_LINES); free(kept); return 1; }
        if (!line[0]) continue;
        if (!gr_record_parse(line, &r, err, sizeof err)) { fprintf(stderr, "line %d: %s\n", lines, err); free(kept); return 1; }
        if (strcmp(r.session, argv[2]) || !is_exercise_or_variant(r.exercise, argv[3])) {
            fprintf(stderr, "line %d: a record of %s/%s, not of %s/%s\n", lines, r.session, r.exercise, argv[2], argv[3]);
            free(kept);
            return 1;
        }
        own |= !strcmp(r.exercise, argv[3]);
        size_t n = strlen(line);
        char *grown = realloc(kept, kept_len + n + 2);
        if (!grown) { free(kept); fprintf(stderr, "out of memory\n"); return 1; }
        kept = grown;
        memcpy(kept + kept_len, line, n);
        kept[kept_len + n] = '\n';
        kept_len += n + 1;
    }
    if (!own) { fprintf(stderr, "no record of %s/%s\n", argv[2], argv[3]); free(kept); return 1; }
    fwrite(kept, 1, kept_len, stdout);
    free(kept);
    return 0;
}

static int cmd_get(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: record get FIELD < RECORDS\n"); return 64; }
    static char line[MAX_LINE];
    static gr_json_record rec;
    char err[160];
    int got, lines = 0;
    while ((got = read_line(stdin, line, sizeof line)) > 0 && lines++ < MAX_LINES) {
        if (!line[0]) continue;
        if (!gr_json_parse(line, &rec, err, sizeof err)) return 1;
        for (int i = 0; i < rec.n; i++)
            if (!strcmp(rec.f[i].key, argv[2])) { print_flat(rec.f[i].text); putchar('\n'); return 0; }
        putchar('\n');
        return 0;
    }
    return 1;
}

static int cmd_table(int argc, char **argv) {
    static char line[MAX_LINE];
    static gr_record r;
    int count[GR_VERDICT_COUNT] = {0}, files = 0;
    printf("\n%-16s %-44s %-14s %s\n", "student", "exercise", "verdict", "% peak, or why");
    for (int i = 2; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        if (!f) { fprintf(stderr, "record: cannot read %s\n", argv[i]); return 2; }
        files++;
        const char *base = strrchr(argv[i], '/');
        char student[64];
        snprintf(student, sizeof student, "%s", base ? base + 1 : argv[i]);
        char *dot = strstr(student, ".jsonl");
        if (dot) *dot = 0;
        int got, lines = 0;
        while ((got = read_line(f, line, sizeof line)) != 0 && lines++ < MAX_LINES) {
            char err[160], what[300];
            if (got < 0) { printf("%-16s (a line too long, or not text: the rest of the file is skipped)\n", student); break; }
            if (!line[0]) continue;
            if (!gr_record_parse(line, &r, err, sizeof err)) { printf("%-16s (a malformed record: %s)\n", student, err); continue; }
            count[r.verdict]++;
            snprintf(what, sizeof what, "%s/%s", r.session, r.exercise);
            printf("%-16s %-44s %-14s ", student, what, gr_verdict_name(r.verdict));
            if (r.verdict == GR_PASS && r.pct_peak >= 0) printf("%.1f%%", r.pct_peak);
            else { char m[91]; snprintf(m, sizeof m, "%s", r.message); print_flat(m); }
            putchar('\n');
        }
        fclose(f);
    }
    printf("\n%d students:", files);
    const char *sep = " ";
    for (int v = 0; v < GR_VERDICT_COUNT; v++)
        if (count[v]) { printf("%s%d %s", sep, count[v], gr_verdict_name((gr_verdict)v)); sep = ", "; }
    putchar('\n');
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "write")) return cmd_write(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "accept")) return cmd_accept(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "get")) return cmd_get(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "table")) return cmd_table(argc, argv);
    fprintf(stderr, "usage: record write|accept|get|table ... (see grader/tools/record.c)\n");
    return 64;
}
