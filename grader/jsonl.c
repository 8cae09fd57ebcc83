#include "jsonl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return p;
}

/* Reads a JSON string at p (which points at the opening quote) into out; returns the position after
 * the closing quote, or NULL. \uXXXX escapes outside ASCII are kept as '?'. */
static const char *read_string(const char *p, char *out, size_t out_len) {
    size_t n = 0;
    if (*p != '"') return NULL;
    for (p++; *p && *p != '"'; p++) {
        char ch = *p;
        if ((unsigned char)ch < 0x20) return NULL;
        if (ch == '\\') {
            p++;
            switch (*p) {
            case '"': ch = '"'; break;
            case '\\': ch = '\\'; break;
            case '/': ch = '/'; break;
            case 'n': ch = '\n'; break;
            case 't': ch = '\t'; break;
            case 'r': ch = '\r'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 1; i <= 4; i++) {
                    char h = p[i];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return NULL;
                    v = v * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                }
                p += 4;
                ch = v < 0x80 ? (char)v : '?';
                break;
            }
            default: return NULL;
            }
        }
        if (n + 1 >= out_len) return NULL;
        out[n++] = ch;
    }
    if (*p != '"') return NULL;
    out[n] = 0;
    return p + 1;
}

static const char *read_literal(const char *p, char *out, size_t out_len) {
    const char *start = p;
    if (!strncmp(p, "true", 4)) p += 4;
    else if (!strncmp(p, "false", 5)) p += 5;
    else if (!strncmp(p, "null", 4)) p += 4;
    else {
        char *end;
        strtod(p, &end);
        if (end == p) return NULL;
        p = end;
    }
    size_t n = (size_t)(p - start);
    if (n + 1 > out_len) return NULL;
    memcpy(out, start, n);
    out[n] = 0;
    return p;
}

bool gr_json_parse(const char *line, gr_json_record *rec, char *err, size_t err_len) {
    memset(rec, 0, sizeof *rec);
    const char *p = skip_space(line);
    if (*p != '{') { snprintf(err, err_len, "does not start with '{'"); return false; }
    p = skip_space(p + 1);
    if (*p == '}') return *skip_space(p + 1) == 0 || (snprintf(err, err_len, "text after the object"), false);
    for (;;) {
        if (rec->n >= GR_JSON_MAX_FIELDS) { snprintf(err, err_len, "more than %d fields", GR_JSON_MAX_FIELDS); return false; }
        gr_json_field *f = &rec->f[rec->n];
        p = read_string(p, f->key, sizeof f->key);
        if (!p) { snprintf(err, err_len, "field %d: bad or too long key", rec->n + 1); return false; }
        p = skip_space(p);
        if (*p != ':') { snprintf(err, err_len, "field '%s': missing ':'", f->key); return false; }
        p = skip_space(p + 1);
        if (*p == '"') { p = read_string(p, f->text, sizeof f->text); f->is_string = true; }
        else if (*p == '{' || *p == '[') { snprintf(err, err_len, "field '%s': nested values are not expected", f->key); return false; }
        else p = read_literal(p, f->text, sizeof f->text);
        if (!p) { snprintf(err, err_len, "field '%s': bad value", f->key); return false; }
        rec->n++;
        p = skip_space(p);
        if (*p == ',') { p = skip_space(p + 1); continue; }
        if (*p == '}') break;
        snprintf(err, err_len, "field '%s': expected ',' or '}'", f->key);
        return false;
    }
    if (*skip_space(p + 1) != 0) { snprintf(err, err_len, "text after the object"); return false; }
    return true;
}

const char *gr_json_string(const gr_json_record *rec, const char *key) {
    for (int i = 0; i < rec->n; i++)
        if (rec->f[i].is_string && !strcmp(rec->f[i].key, key)) return rec->f[i].text;
    return NULL;
}

bool gr_json_number(const gr_json_record *rec, const char *key, double *out) {
    for (int i = 0; i < rec->n; i++) {
        if (rec->f[i].is_string || strcmp(rec->f[i].key, key)) continue;
        char *end;
        double v = strtod(rec->f[i].text, &end);
        if (end == rec->f[i].text || *end) return false;
        *out = v;
        return true;
    }
    return false;
}
