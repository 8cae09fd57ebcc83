#include "jsonl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return p;
}

/* A code point a reader could be fooled by: C0 and C1 controls and DEL (U+0000 would end the C
 * string early, so "PASS\u0000junk" would read as "PASS"; the others rewrite what a terminal or a
 * Markdown table shows), lone surrogates and the noncharacters U+FFFE, U+FFFF. */
static bool unsafe_code_point(unsigned v) {
    return v < 0x20 || (v >= 0x7f && v <= 0x9f) || (v >= 0xd800 && v <= 0xdfff) || v == 0xfffe || v == 0xffff;
}

static bool read_hex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char h = p[i];
        if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return false;
        v = v * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
    }
    *out = v;
    return true;
}

/* Reads a JSON string at p (which points at the opening quote) into out; returns the position after
 * the closing quote, or NULL with *why set. Raw control bytes (DEL too) and \u escapes of unsafe
 * code points fail; a printable non-ASCII \u escape (a surrogate pair counts as one) is kept as '?'.
 * The two-letter escapes \n \t \r \b \f are JSON's own and the grader writes \n: they decode. */
static const char *read_string(const char *p, char *out, size_t out_len, const char **why) {
    size_t n = 0;
    *why = "";
    if (*p != '"') return NULL;
    for (p++; *p && *p != '"'; p++) {
        char ch = *p;
        if ((unsigned char)ch < 0x20 || ch == 0x7f) { *why = " (a raw control character)"; return NULL; }
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
                unsigned v, low;
                if (!read_hex4(p + 1, &v)) { *why = " (a \\u escape needs four hex digits)"; return NULL; }
                p += 4;
                if (v >= 0xd800 && v <= 0xdbff) {   /* a high surrogate needs its low half next */
                    if (p[1] != '\\' || p[2] != 'u' || !read_hex4(p + 3, &low) || low < 0xdc00 || low > 0xdfff) {
                        *why = " (a lone surrogate escape)";
                        return NULL;
                    }
                    p += 6;
                    ch = '?';
                    break;
                }
                if (unsafe_code_point(v)) { *why = " (a \\u escape of a control character or non-character)"; return NULL; }
                ch = v < 0x80 ? (char)v : '?';
                break;
            }
            default: *why = " (an unknown escape)"; return NULL;
            }
        }
        if (n + 1 >= out_len) { *why = " (too long)"; return NULL; }
        out[n++] = ch;
    }
    if (*p != '"') { *why = " (unterminated)"; return NULL; }
    out[n] = 0;
    return p + 1;
}

static const char *read_literal(const char *p, char *out, size_t out_len) {
    const char *start = p;
    if (!strncmp(p, "true", 4)) p += 4;
    else if (!strncmp(p, "false", 5)) p += 5;
    else if (!strncmp(p, "null", 4)) p += 4;
    else {   /* a number as JSON writes it (strtod alone would take " 1", "nan", "inf", "0x1p3") */
        if (*p == '-') p++;
        if (*p < '0' || *p > '9') return NULL;
        while (*p >= '0' && *p <= '9') p++;
        if (*p == '.') {
            if (*++p < '0' || *p > '9') return NULL;
            while (*p >= '0' && *p <= '9') p++;
        }
        if (*p == 'e' || *p == 'E') {
            if (*++p == '+' || *p == '-') p++;
            if (*p < '0' || *p > '9') return NULL;
            while (*p >= '0' && *p <= '9') p++;
        }
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
        const char *why = "";
        char key[sizeof f->key];   /* the key as error messages show it: one line */
        p = read_string(p, f->key, sizeof f->key, &why);
        if (!p) { snprintf(err, err_len, "field %d: bad or too long key%s", rec->n + 1, why); return false; }
        for (size_t i = 0; i < sizeof key; i++) key[i] = f->key[i] > 0 && f->key[i] < 0x20 ? '?' : f->key[i];
        /* A key twice would let two readers see two different records in one line. */
        for (int i = 0; i < rec->n; i++)
            if (!strcmp(rec->f[i].key, f->key)) { snprintf(err, err_len, "field '%s' appears twice", key); return false; }
        p = skip_space(p);
        if (*p != ':') { snprintf(err, err_len, "field '%s': missing ':'", key); return false; }
        p = skip_space(p + 1);
        if (*p == '"') { p = read_string(p, f->text, sizeof f->text, &why); f->is_string = true; }
        else if (*p == '{' || *p == '[') { snprintf(err, err_len, "field '%s': nested values are not expected", key); return false; }
        else p = read_literal(p, f->text, sizeof f->text);
        if (!p) { snprintf(err, err_len, "field '%s': bad value%s", key, why); return false; }
        rec->n++;
        p = skip_space(p);
        if (*p == ',') { p = skip_space(p + 1); continue; }
        if (*p == '}') break;
        snprintf(err, err_len, "field '%s': expected ',' or '}'", key);
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
