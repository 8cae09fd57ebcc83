// Session 10's given tma_map_bf16 refuses, in one line each, what TMA does not allow: run on the
// host alone (the checks come before the driver is asked for anything). Prints "N passed, N failed".
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>

#include "hopper_given.cuh"

static int passed = 0, failed = 0;

// Call tma_map_bf16 with stderr captured; expect -1 and a message holding `words`.
static void refused(const char *what, const void *base, int rows, int cols, int box_rows, int box_cols, int swz,
                    const char *words) {
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    dup2(fileno(tmp), 2);
    CUtensorMap map;
    int rc = tma_map_bf16(&map, base, rows, cols, box_rows, box_cols, swz);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char said[512] = "";
    rewind(tmp);
    size_t n = fread(said, 1, sizeof said - 1, tmp);
    said[n] = 0;
    fclose(tmp);
    int lines = 0;
    for (char *p = said; *p; p++) lines += *p == '\n';
    bool ok = rc == -1 && strstr(said, words) && lines == 1;
    printf("%s  %s%s%s\n", ok ? "PASS" : "FAIL", what, ok ? "" : ": said ", ok ? "" : said);
    (ok ? passed : failed)++;
}

int main() {
    alignas(16) static uint16_t matrix[64 * 64];
    refused("K = 17: rows of 34 bytes", matrix, 64, 17, 64, 64, 1, "multiple of 16");
    refused("K = 12: rows of 24 bytes", matrix, 64, 12, 64, 64, 0, "columns % 8 == 0");
    refused("a base 2 bytes off", matrix + 1, 64, 64, 64, 64, 1, "16-byte aligned");
    refused("a box of 300 rows", matrix, 64, 64, 300, 64, 1, "each side 1..256");
    refused("a box of 12 columns", matrix, 64, 64, 64, 12, 0, "box_cols % 8 == 0");
    refused("the 128-byte swizzle with 32 columns", matrix, 64, 64, 64, 32, 1, "box_cols = 64");
    refused("an empty matrix", matrix, 0, 64, 64, 64, 1, "no elements");
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
