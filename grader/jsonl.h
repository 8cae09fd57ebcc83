/* Reading the grader's results files: one flat JSON object per line (strings, numbers, true,
 * false, null; no nesting). Anything else in a line makes that line malformed. */
#ifndef GRADER_JSONL_H
#define GRADER_JSONL_H

#include <stdbool.h>
#include <stddef.h>

#define GR_JSON_MAX_FIELDS 48

typedef struct {
    char key[48];
    char text[800];   /* strings unescaped; numbers and literals as written */
    bool is_string;
} gr_json_field;

typedef struct {
    int n;
    gr_json_field f[GR_JSON_MAX_FIELDS];
} gr_json_record;

/* Parse one line. On failure returns false and says why in err. */
bool gr_json_parse(const char *line, gr_json_record *rec, char *err, size_t err_len);

/* Field lookups: NULL / false when absent or of the wrong kind. */
const char *gr_json_string(const gr_json_record *rec, const char *key);
bool gr_json_number(const gr_json_record *rec, const char *key, double *out);

#endif
