/* progress: where a student stands, from the history of every 'make check' (make progress).
 *
 *   progress HISTORY.jsonl WORKBOOK_ROOT [SESSION...]
 *
 * Lists every exercise of the sessions named (default: every session folder GROUP/NN-name with
 * a check.c under WORKBOOK_ROOT, in session order) with its latest verdict, percent of peak and
 * when it was checked, "not tried yet" for the rest, and the next exercise to open: the first, in
 * session order, whose latest verdict is not PASS.
 *
 * The history is the check's records appended run after run (grader/student.mk), read only
 * through gr_record_parse. Later lines win. Records of the solutions and of given code are not the
 * student's and are ignored; a NO_GPU, WRONG_ARCH or NEEDS_ARCH record says nothing about the
 * student's code, so it never hides a real verdict, and an exercise this machine cannot grade
 * (NEEDS_ARCH: its session needs another GPU) is never the next one to open. Lines are read with
 * a bound (64 KiB); a malformed or longer line is skipped, and one warning counts them. Exit 0
 * with the report, 1 when the history can't be read or there is no exercise, 64 on usage. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "record.h"

#define MAX_LINE (64 * 1024)
#define MAX_VARIANTS 8   /* records of one file: its own and its timing variants NAME+variant */

typedef struct {
    char name[208];      /* the record's exercise name: NAME or NAME+variant */
    gr_verdict verdict;
    double pct_peak;     /* -1 when not timed */
    char when[32];
    char message[240];
} latest;

typedef struct {
    int session;         /* index into sessions */
    char name[208];      /* file name without .cu */
    int n;               /* records seen, one per distinct record name */
    latest rec[MAX_VARIANTS];
} exercise;

static char **sessions;
static int n_sessions;
static exercise *exercises;
static int n_exercises;

static void *grow(void *p, size_t n, size_t size) {
    p = realloc(p, n * size);
    if (!p) { fprintf(stderr, "progress: out of memory\n"); exit(1); }
    return p;
}

static void add_session(const char *s) {
    sessions = grow(sessions, (size_t)n_sessions + 1, sizeof *sessions);
    sessions[n_sessions] = strdup(s);
    if (!sessions[n_sessions]) { fprintf(stderr, "progress: out of memory\n"); exit(1); }
    n_sessions++;
}

/* The exercise files of one session, sorted (glob sorts), as the Makefile's exercises_of finds them. */
static void add_exercises(const char *root, int session) {
    char pattern[4096];
    snprintf(pattern, sizeof pattern, "%s/%s/[0-9][0-9]_*.cu", root, sessions[session]);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0) return;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *base = strrchr(g.gl_pathv[i], '/') + 1;
        size_t len = strlen(base) - 3;   /* without ".cu" */
        if (len >= sizeof exercises->name) continue;
        exercises = grow(exercises, (size_t)n_exercises + 1, sizeof *exercises);
        exercise *e = &exercises[n_exercises++];
        memset(e, 0, sizeof *e);
        e->session = session;
        memcpy(e->name, base, len);
    }
    globfree(&g);
}

/* Session order is the order of the NN-name folder, whatever group folder holds it (the Makefile
 * sorts with sort -t/ -k2 the same way). */
static int by_session_folder(const void *a, const void *b) {
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    int c = strcmp(strchr(x, '/') + 1, strchr(y, '/') + 1);
    return c ? c : strcmp(x, y);
}

static void scan_sessions(const char *root) {
    char pattern[4096];
    snprintf(pattern, sizeof pattern, "%s/*/[0-9][0-9]-*/check.c", root);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0) return;
    size_t skip = strlen(root) + 1;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char s[4096];
        snprintf(s, sizeof s, "%s", g.gl_pathv[i] + skip);
        *strrchr(s, '/') = 0;   /* drop "/check.c" */
        add_session(s);
    }
    globfree(&g);
    qsort(sessions, (size_t)n_sessions, sizeof *sessions, by_session_folder);
}

/* Reads one line of at most cap-1 bytes into buf. Returns 0 at the end of input, 1 for a line,
 * -1 for a line too long or holding a NUL byte: the rest of that line is read and dropped, so a
 * huge line costs one pass and no memory. */
static int read_line(FILE *f, char *buf, size_t cap) {
    size_t n = 0;
    int ch;
    bool bad = false;
    while ((ch = getc(f)) != EOF && ch != '\n') {
        if (ch == 0 || n + 1 >= cap) bad = true;
        else buf[n++] = (char)ch;
    }
    buf[n] = 0;
    if (ch == EOF && n == 0 && !bad) return 0;
    return bad ? -1 : 1;
}

static bool field_true(const gr_json_record *j, const char *key) {
    for (int i = 0; i < j->n; i++)
        if (!strcmp(j->f[i].key, key) && !j->f[i].is_string) return !strcmp(j->f[i].text, "true");
    return false;
}

/* Printable ASCII only: a record's text goes to a terminal. */
static void copy_clean(char *dst, size_t len, const char *src) {
    size_t n = 0;
    for (; src && *src && n + 1 < len; src++) dst[n++] = (*src >= 0x20 && *src < 0x7f) ? *src : ' ';
    dst[n] = 0;
}

static exercise *exercise_of(const gr_record *r) {
    for (int i = 0; i < n_exercises; i++) {
        exercise *e = &exercises[i];
        size_t len = strlen(e->name);
        if (strcmp(sessions[e->session], r->session) || strncmp(e->name, r->exercise, len)) continue;
        if (r->exercise[len] == 0 || r->exercise[len] == '+') return e;
    }
    return NULL;
}

/* Keeps the record as its exercise's latest, unless it only says the machine was wrong and a real
 * verdict is already known. Returns whether it was used. */
static bool take(const gr_record *r) {
    if (field_true(&r->json, "solution") || field_true(&r->json, "given")) return false;
    exercise *e = exercise_of(r);
    if (!e) return false;
    latest *l = NULL;
    for (int i = 0; i < e->n && !l; i++)
        if (!strcmp(e->rec[i].name, r->exercise)) l = &e->rec[i];
    if (!l) {
        if (e->n == MAX_VARIANTS) return false;
        l = &e->rec[e->n++];
    } else if (gr_verdict_is_machine(r->verdict) && !gr_verdict_is_machine(l->verdict)) {
        return false;
    }
    snprintf(l->name, sizeof l->name, "%s", r->exercise);
    l->verdict = r->verdict;
    l->pct_peak = r->timed ? r->pct_peak : -1;
    copy_clean(l->when, sizeof l->when, gr_json_string(&r->json, "when"));
    copy_clean(l->message, sizeof l->message, r->message);
    return true;
}

/* A file's standing is its worst latest record (a file whose timing variant fails is not done),
 * checked when its latest record was. */
static const latest *standing(const exercise *e, gr_verdict *v, const char **when) {
    const latest *worst = NULL;
    *when = "";
    for (int i = 0; i < e->n; i++) {
        const latest *l = &e->rec[i];
        if (!worst || (worst->verdict == GR_PASS && l->verdict != GR_PASS)) worst = l;
        if (strcmp(l->when, *when) > 0) *when = l->when;
    }
    if (worst) *v = worst->verdict;
    return worst;
}

/* The percent of the file's own record, else of its first timed variant. */
static double shown_pct(const exercise *e) {
    for (int i = 0; i < e->n; i++)
        if (!strchr(e->rec[i].name, '+') && e->rec[i].pct_peak >= 0) return e->rec[i].pct_peak;
    for (int i = 0; i < e->n; i++)
        if (e->rec[i].pct_peak >= 0) return e->rec[i].pct_peak;
    return -1;
}

/* "2026-11-20T14:02:11Z" -> "2026-11-20 14:02 UTC"; anything else as it came. */
static void format_when(const char *w, char *out, size_t len) {
    if (strlen(w) == 20 && w[10] == 'T' && w[19] == 'Z') snprintf(out, len, "%.10s %.5s UTC", w, w + 11);
    else snprintf(out, len, "%.24s", w);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: progress HISTORY.jsonl WORKBOOK_ROOT [SESSION...]\n");
        return 64;
    }
    const char *history = argv[1], *root = argv[2];
    if (argc > 3) for (int i = 3; i < argc; i++) add_session(argv[i]);
    else scan_sessions(root);
    for (int s = 0; s < n_sessions; s++) add_exercises(root, s);
    if (n_exercises == 0) {
        fprintf(stderr, "progress: no exercise files (NN_name.cu) in the sessions under %s\n", root);
        return 1;
    }

    int used = 0, malformed = 0, first_bad = 0;
    char first_why[160] = "";
    FILE *f = fopen(history, "r");
    if (f) {
        struct stat st;
        if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
            fprintf(stderr, "progress: %s is not a regular file\n", history);
            return 1;
        }
        static char line[MAX_LINE];
        static gr_record rec;
        int lineno = 0, got;
        while ((got = read_line(f, line, sizeof line)) != 0) {
            char err[128] = "";
            lineno++;
            if (got > 0 && line[strspn(line, " \t\r")] == 0) continue;   /* a blank line is no record */
            if (got < 0) snprintf(err, sizeof err, "longer than 64 KiB or not text");
            if (got < 0 || !gr_record_parse(line, &rec, err, sizeof err)) {
                if (malformed++ == 0) { first_bad = lineno; snprintf(first_why, sizeof first_why, "%s", err); }
                continue;
            }
            used += take(&rec);
        }
        bool failed = ferror(f);
        fclose(f);
        if (failed) { fprintf(stderr, "progress: cannot read %s\n", history); return 1; }
    }
    if (malformed)
        fprintf(stderr, "warning: %s: %d malformed line%s skipped (first: line %d, %s)\n", history, malformed,
                malformed == 1 ? "" : "s", first_bad, first_why);
    if (used == 0) printf("Nothing checked yet: 'make check' in a session folder records your first verdicts.\n");

    int pass = 0, tried = 0;
    const exercise *next = NULL;
    const latest *next_rec = NULL;
    for (int i = 0; i < n_exercises; i++) {
        const exercise *e = &exercises[i];
        if (i == 0 || e->session != exercises[i - 1].session) printf("\n%s\n", sessions[e->session]);
        gr_verdict v = GR_PASS;
        const char *when;
        const latest *l = standing(e, &v, &when);
        if (!l) {
            printf("  %-28s not tried yet\n", e->name);
            if (!next) next = e;
            continue;
        }
        tried++;
        char pct[32] = "", at[40];
        double p = shown_pct(e);
        if (p >= 0) snprintf(pct, sizeof pct, "%.1f%% of peak", p);
        format_when(when, at, sizeof at);
        printf("  %-28s %-14s %-16s %s\n", e->name, gr_verdict_name(v), pct, at);
        if (v == GR_PASS) pass++;
        else if (!next && v != GR_NEEDS_ARCH) { next = e; next_rec = l; }   /* not doable on this GPU */
    }

    char bar[41];
    int filled = (int)((40L * pass) / n_exercises);
    for (int i = 0; i < 40; i++) bar[i] = i < filled ? '#' : '-';
    bar[40] = 0;
    printf("\nProgress [%s] %d/%d\n", bar, pass, n_exercises);
    printf("%d of %d exercises pass, %d tried.\n", pass, n_exercises, tried);
    if (!next) {   /* what is left, if anything, is NEEDS_ARCH */
        printf(pass == n_exercises ? "Every exercise passes. Well done.\n"
                                   : "Every exercise this GPU can grade passes; the rest need another GPU.\n");
        return 0;
    }
    const char *session = sessions[next->session];
    printf("Next: %s/%s.cu", session, next->name);
    if (next_rec) printf(" (%s: %.160s)", gr_verdict_name(next_rec->verdict), next_rec->message);
    printf("\n      make -C %s check    or    make watch EX=%s\n", session, next->name);
    return 0;
}
