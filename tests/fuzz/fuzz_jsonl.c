// link: grader/jsonl.c
/* Fuzz harness of the results-record reader (grader/jsonl.c): any bytes as one line. Besides
 * "no crash, no sanitizer report", what the reader promises is checked, and a broken promise
 * aborts: a record has at most GR_JSON_MAX_FIELDS fields, no key twice, no string with a control
 * character other than the five JSON escapes decode to (\n \t \r \b \f), no DEL; every lookup
 * finds what the fields hold; a rejected line says why in one line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"

static void check(int ok) {
    if (!ok) abort();
}

static int allowed_control(char c) { return c == '\n' || c == '\t' || c == '\r' || c == '\b' || c == '\f'; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static gr_json_record rec;
    char *line = malloc(size + 1);
    if (!line) return 0;
    memcpy(line, data, size);
    line[size] = 0;   /* a NUL inside ends the line early, as for a C string read by fgets */
    char err[128];
    memset(err, 0, sizeof err);
    if (gr_json_parse(line, &rec, err, sizeof err)) {
        check(rec.n >= 0 && rec.n <= GR_JSON_MAX_FIELDS);
        for (int i = 0; i < rec.n; i++) {
            const gr_json_field *f = &rec.f[i];
            check(memchr(f->key, 0, sizeof f->key) != NULL && memchr(f->text, 0, sizeof f->text) != NULL);
            for (int j = 0; j < i; j++) check(strcmp(rec.f[j].key, f->key) != 0);
            for (const char *k = f->key; *k; k++) check(((unsigned char)*k >= 0x20 || allowed_control(*k)) && *k != 0x7f);
            for (const char *t = f->text; *t; t++) check(((unsigned char)*t >= 0x20 || allowed_control(*t)) && *t != 0x7f);
            double v;
            if (f->is_string) check(gr_json_string(&rec, f->key) == f->text);
            else check(gr_json_string(&rec, f->key) == NULL);
            if (gr_json_number(&rec, f->key, &v)) check(!f->is_string);
        }
    } else {
        size_t n = strnlen(err, sizeof err);
        check(n > 0 && n < sizeof err && memchr(err, '\n', n) == NULL);
    }
    free(line);
    return 0;
}
