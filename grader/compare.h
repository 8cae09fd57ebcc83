/* Comparing an output with its reference, and checking the guard bands around it.
 * Pure host code: the unit tests drive it with hand-made arrays. */
#ifndef GRADER_COMPARE_H
#define GRADER_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grader.h"

/* An element is bad when it is not finite (an unwritten, NaN-poisoned element) while the reference
 * is, or when |out - ref| > GR_ELEMENT_FACTOR * tol * (|ref| + rms(ref)). */
#define GR_ELEMENT_FACTOR 8.0

typedef struct {
    bool ok;
    double rel_l2;        /* ||out - ref|| / ||ref|| over the compared elements */
    double tol;
    long n_compared;      /* elements compared against the reference */
    long n_bad;           /* elements over the element bound, or not finite */
    long n_unwritten;     /* non-finite elements where the reference is finite (anywhere) */
    long first_bad;       /* index of the first bad element, -1 if none */
    double expected, got; /* at first_bad */
    long worst;           /* index of the element with the largest scaled error, -1 if none */
    double worst_expected, worst_got;
} gr_comparison;

/* The type a reference of an output of type `dtype` is kept in: float32 for BF16 and FP16, else the same. */
static inline gr_dtype gr_ref_dtype(gr_dtype dtype) { return dtype == GR_BF16 || dtype == GR_F16 ? GR_F32 : dtype; }

/* Compare `count` elements of `out` with `ref` (ref of type gr_ref_dtype(dtype)). Rows of `row_len` elements are compared where
 * row_mask is NULL or row_mask[row] != 0; every element is checked for being finite. */
void gr_compare(gr_dtype dtype, const void *out, const void *ref, size_t count, long row_len,
                const unsigned char *row_mask, double tol, gr_comparison *cmp);

/* The same, measuring errors against `scale` (float32 magnitudes, same layout) instead of the
 * reference values: an element is bad when |out - ref| > GR_ELEMENT_FACTOR * tol * (scale + rms(scale)),
 * and rel_l2 is ||out - ref|| / ||scale||. scale NULL: gr_compare. */
void gr_compare_scaled(gr_dtype dtype, const void *out, const void *ref, const float *scale, size_t count,
                       long row_len, const unsigned char *row_mask, double tol, gr_comparison *cmp);

/* Value of element i of an array of the given type, as a double. */
double gr_value(gr_dtype dtype, const void *data, size_t i);
size_t gr_dtype_size(gr_dtype dtype);

/* Guard bands: `got` against `expected`, `len` bytes. Returns the number of bytes that differ and
 * the offset of the first one (from the start of the band) in *first. */
size_t gr_guard_diff(const unsigned char *got, const unsigned char *expected, size_t len, size_t *first);

/* The message for a failed comparison: which element, expected, got, the error. */
void gr_describe_failure(const gr_comparison *cmp, const char *output_name, long row_len,
                         char *msg, size_t msg_len);

#endif
