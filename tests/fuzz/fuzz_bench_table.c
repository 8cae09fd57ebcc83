// link: grader/tools/bench-table.c grader/jsonl.c
// cflags: -DBENCH_TABLE_NO_MAIN
/* Fuzz harness of the bench records reader (grader/tools/bench-table.c) in each of its modes:
 * the bytes are a BENCH.jsonl file (one temporary file per process, rewritten for each input).
 * What --tsv, --sessions and --info print goes into gnuplot commands and file names (plot-bench.sh),
 * so it must hold plain characters only; that output is captured and checked, the rest is thrown
 * away. The tool's warnings are silenced (stderr; sanitizers write to fd 2). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int bench_table_main(int argc, char **argv);

static char path[64];
static char *captured;
static size_t captured_len;

static void remove_file(void) { unlink(path); }

/* Runs the tool with stdout in memory; returns what it printed (valid until the next call). */
static const char *run(int argc, char **argv) {
    FILE *saved = stdout;
    free(captured);
    captured = NULL;
    captured_len = 0;
    FILE *mem = open_memstream(&captured, &captured_len);
    if (!mem) abort();
    stdout = mem;   /* glibc: stdout is a variable */
    bench_table_main(argc, argv);
    fclose(mem);
    stdout = saved;
    return captured;
}

/* Plain characters, tabs, newlines; for --info spaces too; '.' for the numbers. */
static void check_plain(const char *out, size_t len, const char *extra) {
    for (size_t i = 0; i < len; i++) {
        char c = out[i];
        if (!(c && (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+/-\n", c) || strchr(extra, c))))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!path[0]) {   /* once per process */
        snprintf(path, sizeof path, "/tmp/fuzz-bench-XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0) abort();
        close(fd);
        atexit(remove_file);
        FILE *quiet = fopen("/dev/null", "w");
        if (quiet) stderr = quiet;
    }
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size) fwrite(data, 1, size, f);
    fclose(f);

    char *markdown[] = {"bench-table", path};
    run(2, markdown);
    char *one[] = {"bench-table", "--session", "ladder/04-gemm-tiling", path};
    run(4, one);
    char *tsv[] = {"bench-table", "--tsv", path};
    const char *out = run(3, tsv);
    check_plain(out, captured_len, "\t");
    char *sessions[] = {"bench-table", "--sessions", path};
    out = run(3, sessions);
    check_plain(out, captured_len, "");
    char *info[] = {"bench-table", "--info", path};
    out = run(3, info);
    check_plain(out, captured_len, " ");
    return 0;
}
