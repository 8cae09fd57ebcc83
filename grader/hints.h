/* Hints recognised from a failure itself: the shape of a wrong output against its reference (shifted,
 * transposed, only the first tile right, a constant factor, ...), or where a stray write landed.
 * Pure host code: the unit tests drive it with outputs made wrong on purpose. */
#ifndef GRADER_HINTS_H
#define GRADER_HINTS_H

#include <stdbool.h>
#include <stddef.h>

#include "grader.h"

/* At most this many elements of an output are looked at: larger outputs are sampled in runs of
 * neighbouring rows, columns and elements, always with the first and the last ones. */
#define GR_HINT_SAMPLE (1L << 20)

/* Look at a wrong output beside its reference (`ref` of type gr_ref_dtype(dtype), as gr_compare
 * takes them; rows of `row_len` elements; rows_mask non-NULL: only rows with rows_mask[row] != 0
 * have a reference). When the output shows a common mistake, write one line saying what it looks
 * like and what usually causes it into buf, and return true. Otherwise (unsure, a float type it does
 * not read, nothing wrong) leave buf empty and return false. Float outputs only: F32, F64, BF16. */
bool gr_pattern_hint(gr_dtype dtype, const void *got, const void *ref, size_t count, long row_len,
                     const unsigned char *rows_mask, char *buf, size_t len);

/* The hint for a failed guard check, from gr_case_check_guards' message: a write past the end or
 * before the start of an array, or into an input. Otherwise buf empty and false. */
bool gr_guard_hint(const char *guard_message, char *buf, size_t len);

#endif
