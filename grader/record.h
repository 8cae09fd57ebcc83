/* The verdicts and the result record, defined once.
 *
 * Every record the workbook writes or reads (the check's --results, the class grader's records of
 * verdicts it gives itself, the leaderboard's input, the gpu-test's) is one line of flat JSON,
 * schema "kernel-workbook-result/1", written by gr_record_* here and read back through
 * gr_record_parse. Scripts use the `record` command (grader/tools/record.c), never sed. */
#ifndef GRADER_RECORD_H
#define GRADER_RECORD_H

#include <stdbool.h>
#include <stdio.h>

#include "jsonl.h"

#define GR_RECORD_SCHEMA "kernel-workbook-result/1"

/* Verdicts, in the order a table sorts them. */
typedef enum {
    GR_PASS,
    GR_FAIL,           /* wrong, unwritten or out-of-bounds results */
    GR_CRASH,          /* launch error, device fault, or the process died */
    GR_TIMEOUT,        /* ran past the time limit */
    GR_IMPOSSIBLE,     /* faster than the roof allows: the measurement or the work is not honest */
    GR_DISQUALIFIED,   /* used what the exercise forbids (source scan, object policy, work off its stream) */
    GR_COMPILE_ERROR,  /* did not build */
    GR_NOT_SUBMITTED,  /* no file handed in */
    GR_NO_GPU,         /* needs a CUDA GPU and there is none */
    GR_WRONG_ARCH,     /* built for another architecture than the GPU's */
    GR_NEEDS_ARCH,     /* the session builds only for other architectures (its NEEDS_ARCH file): skipped */
    GR_VERDICT_COUNT
} gr_verdict;

const char *gr_verdict_name(gr_verdict v);
/* The verdict a name stands for; older spellings (WRONG, NO-GPU, WRONG-ARCH) are accepted. */
bool gr_verdict_parse(const char *name, gr_verdict *v);
/* NO_GPU, WRONG_ARCH, NEEDS_ARCH: verdicts about the machine, not the code. They are no failure
 * (the check exits 2, not 1) and never hide a verdict the code earned elsewhere. */
bool gr_verdict_is_machine(gr_verdict v);

/* JSON pieces shared by every writer of records. */
void gr_json_write_string(FILE *f, const char *s);
void gr_json_write_number(FILE *f, double v);
/* Timestamp "YYYY-MM-DDTHH:MM:SSZ" of now, in UTC. */
void gr_record_now(char *buf, size_t len);

/* The fields every record opens with: schema, session, exercise, solution, given, verdict, message
 * (the caller goes on with its own fields and closes the object). */
void gr_record_write_head(FILE *f, const char *session, const char *exercise, gr_verdict v, const char *message,
                          bool solution, bool given);
/* A record of a verdict given without a run (COMPILE_ERROR, NOT_SUBMITTED, ...). */
bool gr_record_write_verdict(FILE *f, const char *session, const char *exercise, gr_verdict v,
                             const char *message, bool solution, bool given);

/* A record read back and checked: schema, session, exercise and a known verdict. The strings
 * point into `json`. */
typedef struct {
    gr_json_record json;
    const char *session, *exercise, *message;
    gr_verdict verdict;
    bool timed;
    double pct_peak;   /* -1 when absent */
} gr_record;

bool gr_record_parse(const char *line, gr_record *r, char *err, size_t err_len);
/* Names a record may carry: printable ASCII, no "..", not empty, at most 200 bytes. */
bool gr_record_name_ok(const char *s);

#endif
