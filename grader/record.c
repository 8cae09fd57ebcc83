/* The verdicts and the result record: see record.h. */
#include "record.h"

#include <math.h>
#include <string.h>
#include <time.h>

static const char *const verdict_names[GR_VERDICT_COUNT] = {
    [GR_PASS] = "PASS",
    [GR_FAIL] = "FAIL",
    [GR_CRASH] = "CRASH",
    [GR_TIMEOUT] = "TIMEOUT",
    [GR_IMPOSSIBLE] = "IMPOSSIBLE",
    [GR_DISQUALIFIED] = "DISQUALIFIED",
    [GR_COMPILE_ERROR] = "COMPILE_ERROR",
    [GR_NOT_SUBMITTED] = "NOT_SUBMITTED",
    [GR_NO_GPU] = "NO_GPU",
    [GR_WRONG_ARCH] = "WRONG_ARCH",
    [GR_NEEDS_ARCH] = "NEEDS_ARCH",
};

const char *gr_verdict_name(gr_verdict v) {
    return (unsigned)v < GR_VERDICT_COUNT ? verdict_names[v] : "?";
}

bool gr_verdict_parse(const char *name, gr_verdict *v) {
    static const struct { const char *old; gr_verdict v; } aliases[] = {
        {"WRONG", GR_FAIL}, {"NO-GPU", GR_NO_GPU}, {"WRONG-ARCH", GR_WRONG_ARCH},
    };
    if (!name) return false;
    for (int i = 0; i < GR_VERDICT_COUNT; i++)
        if (!strcmp(name, verdict_names[i])) { *v = (gr_verdict)i; return true; }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(name, aliases[i].old)) { *v = aliases[i].v; return true; }
    return false;
}

bool gr_verdict_is_machine(gr_verdict v) {
    return v == GR_NO_GPU || v == GR_WRONG_ARCH || v == GR_NEEDS_ARCH;
}

void gr_json_write_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch == '\n') fputs("\\n", f);
        else if (ch == '\t') fputs("\\t", f);
        else if (ch < 0x20 || ch == 0x7f) fputc(' ', f);   /* readers refuse \u escapes of controls */
        else fputc(ch, f);
    }
    fputc('"', f);
}

void gr_json_write_number(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fputs("null", f);
}

void gr_record_now(char *buf, size_t len) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void gr_record_write_head(FILE *f, const char *session, const char *exercise, gr_verdict v, const char *message,
                          bool solution, bool given) {
    fputs("{\"schema\":\"" GR_RECORD_SCHEMA "\",\"session\":", f);
    gr_json_write_string(f, session);
    fputs(",\"exercise\":", f);
    gr_json_write_string(f, exercise);
    fprintf(f, ",\"solution\":%s,\"given\":%s,\"verdict\":", solution ? "true" : "false", given ? "true" : "false");
    gr_json_write_string(f, gr_verdict_name(v));
    fputs(",\"message\":", f);
    gr_json_write_string(f, message ? message : "");
}

bool gr_record_write_verdict(FILE *f, const char *session, const char *exercise, gr_verdict v,
                             const char *message, bool solution, bool given) {
    char when[32];
    gr_record_now(when, sizeof when);
    gr_record_write_head(f, session, exercise, v, message, solution, given);
    fprintf(f, ",\"seed\":null,\"when\":\"%s\",\"gpu\":\"\",\"shapes_checked\":0,\"shapes_passed\":0,\"timed\":false}\n", when);
    return !ferror(f);
}

bool gr_record_name_ok(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 200 || strstr(s, "..")) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) return false;
    return true;
}

bool gr_record_parse(const char *line, gr_record *r, char *err, size_t err_len) {
    memset(r, 0, sizeof *r);
    if (!gr_json_parse(line, &r->json, err, err_len)) return false;
    const char *schema = gr_json_string(&r->json, "schema");
    if (!schema || strcmp(schema, GR_RECORD_SCHEMA)) {
        snprintf(err, err_len, "not a %s record", GR_RECORD_SCHEMA);
        return false;
    }
    r->session = gr_json_string(&r->json, "session");
    r->exercise = gr_json_string(&r->json, "exercise");
    r->message = gr_json_string(&r->json, "message");
    if (!r->message) r->message = "";
    if (!gr_record_name_ok(r->session)) { snprintf(err, err_len, "missing or invalid session"); return false; }
    if (!gr_record_name_ok(r->exercise)) { snprintf(err, err_len, "missing or invalid exercise"); return false; }
    const char *v = gr_json_string(&r->json, "verdict");
    if (!gr_verdict_parse(v, &r->verdict)) { snprintf(err, err_len, "unknown verdict"); return false; }
    r->pct_peak = -1;
    double pct;
    if (gr_json_number(&r->json, "pct_peak", &pct) && isfinite(pct)) r->pct_peak = pct;
    for (int i = 0; i < r->json.n; i++)
        if (!strcmp(r->json.f[i].key, "timed") && !r->json.f[i].is_string) r->timed = !strcmp(r->json.f[i].text, "true");
    return true;
}
