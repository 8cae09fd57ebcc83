// link: grader/tools/leaderboard.c grader/jsonl.c
// cflags: -DLEADERBOARD_NO_MAIN
/* Fuzz harness of the leaderboard's reader of results files and of what it writes from them
 * (grader/tools/leaderboard.c): the bytes are one student's file, ranked beside a fixed valid
 * student, the whole command run each time (in a temporary folder per process, emptied for each
 * input). Every file it writes must be named by plain characters only and stay in its output
 * folder. No gnuplot runs (LEADERBOARD_GP names nothing); its output and warnings are silenced. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int leaderboard_main(int argc, char **argv);
void leaderboard_reset(void);

static char root[64], in_dir[96], out_dir[96], student[128];

/* Removes the files of a folder (the tool writes no subfolders); checks their names on the way. */
static void empty_dir(const char *dir, int check_names) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (check_names && strspn(e->d_name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
                               strlen(e->d_name))
            abort();
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

static void cleanup(void) {
    empty_dir(out_dir, 0);
    empty_dir(in_dir, 0);
    rmdir(out_dir);
    rmdir(in_dir);
    rmdir(root);
}

static void write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size) fwrite(data, 1, size, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!root[0]) {   /* once per process */
        snprintf(root, sizeof root, "/tmp/fuzz-leaderboard-XXXXXX");
        if (!mkdtemp(root)) abort();
        snprintf(in_dir, sizeof in_dir, "%s/in", root);
        snprintf(out_dir, sizeof out_dir, "%s/out", root);
        snprintf(student, sizeof student, "%s/mallory.jsonl", in_dir);
        if (mkdir(in_dir, 0700)) abort();
        atexit(cleanup);
        static const char alice[] =
            "{\"schema\":\"kernel-workbook-result/1\",\"session\":\"ladder/03-memory\",\"exercise\":\"01_transpose_naive\","
            "\"verdict\":\"PASS\",\"when\":\"2026-11-22T06:10:15Z\",\"gpu\":\"NVIDIA H100 80GB HBM3\",\"pct_peak\":25}\n";
        char p[160];
        snprintf(p, sizeof p, "%s/alice.jsonl", in_dir);
        write_file(p, alice, sizeof alice - 1);
        setenv("LEADERBOARD_GP", "/nonexistent/leaderboard.gp", 1);
        FILE *quiet = fopen("/dev/null", "w");
        if (quiet) stdout = stderr = quiet;   /* glibc: they are variables; sanitizers write to fd 2 */
    }
    write_file(student, data, size);
    char *argv[] = {"leaderboard", out_dir, in_dir, NULL};
    leaderboard_main(3, argv);
    leaderboard_reset();
    empty_dir(out_dir, 1);
    return 0;
}
