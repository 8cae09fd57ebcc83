/* jsonl.c: one flat JSON object per line; anything else is malformed and says why. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "jsonl.h"

static gr_json_record rec;  /* ~40 KB: kept off the stack */

static void parses(const char *line) {
    char err[160] = "";
    cr_assert(gr_json_parse(line, &rec, err, sizeof err), "'%s' should parse, got: %s", line, err);
}

/* The line must be rejected, and the reason must contain `why` (when given). */
static void rejected(const char *line, const char *why) {
    char err[160] = "";
    cr_assert_not(gr_json_parse(line, &rec, err, sizeof err), "'%s' should be rejected", line);
    cr_assert_gt(strlen(err), 0, "'%s' rejected without a reason", line);
    if (why) cr_assert_not_null(strstr(err, why), "'%s': reason '%s' does not mention '%s'", line, err, why);
}

Test(jsonl, flat_object_with_every_kind_of_value) {
    parses("{\"s\":\"text\",\"n\":12.5,\"neg\":-3e-2,\"t\":true,\"f\":false,\"z\":null,\"i\":7}\n");
    cr_assert_eq(rec.n, 7);
    cr_assert_str_eq(gr_json_string(&rec, "s"), "text");
    double v;
    cr_assert(gr_json_number(&rec, "n", &v));
    cr_assert_eq(v, 12.5);
    cr_assert(gr_json_number(&rec, "neg", &v));
    cr_assert_eq(v, -3e-2);
    cr_assert(gr_json_number(&rec, "i", &v));
    cr_assert_eq(v, 7.0);
    cr_assert_str_eq(rec.f[3].text, "true");
    cr_assert_not(rec.f[3].is_string);
    cr_assert_str_eq(rec.f[4].text, "false");
    cr_assert_str_eq(rec.f[5].text, "null");
}

Test(jsonl, lookups_respect_the_kind_of_field) {
    parses("{\"s\":\"12\",\"n\":12,\"z\":null,\"t\":true}");
    double v = -1;
    cr_assert_not(gr_json_number(&rec, "s", &v), "a string is not a number, even if it reads as one");
    cr_assert_null(gr_json_string(&rec, "n"), "a number is not a string");
    cr_assert_not(gr_json_number(&rec, "z", &v), "null is not a number");
    cr_assert_not(gr_json_number(&rec, "t", &v));
    cr_assert_null(gr_json_string(&rec, "absent"));
    cr_assert_not(gr_json_number(&rec, "absent", &v));
    cr_assert_eq(v, -1.0, "a failed lookup leaves the output alone");
}

Test(jsonl, whitespace_around_tokens_is_allowed) {
    parses("  {  \"a\" :  1 ,\t\"b\" : \"x y\"  }  \r\n");
    cr_assert_eq(rec.n, 2);
    cr_assert_str_eq(gr_json_string(&rec, "b"), "x y");
}

Test(jsonl, empty_object) {
    parses("{}");
    cr_assert_eq(rec.n, 0);
    parses(" { } \n");
    cr_assert_eq(rec.n, 0);
}

Test(jsonl, string_escapes_are_decoded) {
    parses("{\"e\":\"q\\\" b\\\\ s\\/ n\\n t\\t r\\r b\\b f\\f u\\u0041 hi\\u00e9\"}");
    cr_assert_str_eq(gr_json_string(&rec, "e"), "q\" b\\ s/ n\n t\t r\r b\b f\f uA hi?");
}

Test(jsonl, escaped_key_and_utf8_bytes_pass_through) {
    parses("{\"k\\\"ey\":\"caf\xc3\xa9\"}");
    cr_assert_str_eq(rec.f[0].key, "k\"ey");
    cr_assert_str_eq(rec.f[0].text, "caf\xc3\xa9");
}

Test(jsonl, rejects_empty_lines) {
    rejected("", "start with '{'");
    rejected("\n", "start with '{'");
    rejected("   ", "start with '{'");
}

Test(jsonl, rejects_what_is_not_an_object) {
    rejected("[1,2]", "start with '{'");
    rejected("\"a\"", "start with '{'");
    rejected("hello", NULL);
}

Test(jsonl, rejects_truncated_lines) {
    rejected("{", NULL);
    rejected("{\"a\":1", "expected ',' or '}'");
    rejected("{\"a\":1,", NULL);
    rejected("{\"a\":", "bad value");
    rejected("{\"a\"", "missing ':'");
}

Test(jsonl, rejects_unterminated_strings) {
    rejected("{\"a\":\"abc", "bad value");
    rejected("{\"abc", "bad or too long key");
    rejected("{\"a\":\"abc\\\"}", "bad value");   /* the quote is escaped: still open */
}

Test(jsonl, rejects_missing_colon) {
    rejected("{\"a\" 1}", "missing ':'");
    rejected("{\"a\",\"b\":1}", "missing ':'");
}

Test(jsonl, rejects_nested_values) {
    rejected("{\"a\":{\"b\":1}}", "nested");
    rejected("{\"a\":[1,2]}", "nested");
}

Test(jsonl, rejects_trailing_garbage) {
    rejected("{\"a\":1} x", "text after the object");
    rejected("{\"a\":1}{\"b\":2}", "text after the object");
    rejected("{} 1", "text after the object");
}

Test(jsonl, rejects_bad_tokens) {
    rejected("{a:1}", "key");
    rejected("{\"a\":tru}", "bad value");
    rejected("{\"a\":truex}", "expected ',' or '}'");
    rejected("{\"a\":1 2}", "expected ',' or '}'");
    rejected("{\"a\":1,}", "key");
    rejected("{\"a\":1;\"b\":2}", "expected ',' or '}'");
}

Test(jsonl, rejects_bad_escapes_and_control_characters) {
    rejected("{\"a\":\"\\q\"}", "bad value");
    rejected("{\"a\":\"\\u12G4\"}", "bad value");
    rejected("{\"a\":\"\\u12\"}", "bad value");
    rejected("{\"a\":\"raw\ttab\"}", "bad value");
    rejected("{\"a\":\"raw\nnewline\"}", "bad value");
}

Test(jsonl, rejects_strings_longer_than_the_field) {
    static char line[2048];
    int n = snprintf(line, sizeof line, "{\"a\":\"");
    memset(line + n, 'x', 900);
    snprintf(line + n + 900, sizeof line - (size_t)n - 900, "\"}");
    rejected(line, "bad value");
    /* 799 characters fit (800 with the terminator). */
    n = snprintf(line, sizeof line, "{\"a\":\"");
    memset(line + n, 'y', 799);
    snprintf(line + n + 799, sizeof line - (size_t)n - 799, "\"}");
    parses(line);
    cr_assert_eq(strlen(gr_json_string(&rec, "a")), 799);
}

Test(jsonl, field_count_limit) {
    static char line[4096];
    size_t used = 0;
    used += (size_t)snprintf(line + used, sizeof line - used, "{");
    for (int i = 0; i < GR_JSON_MAX_FIELDS; i++)
        used += (size_t)snprintf(line + used, sizeof line - used, "%s\"k%d\":%d", i ? "," : "", i, i);
    snprintf(line + used, sizeof line - used, "}");
    parses(line);
    cr_assert_eq(rec.n, GR_JSON_MAX_FIELDS);
    double v;
    cr_assert(gr_json_number(&rec, "k47", &v));
    cr_assert_eq(v, 47.0);
    /* One more is too many. */
    snprintf(line + used, sizeof line - used, ",\"extra\":1}");
    rejected(line, "more than");
}
