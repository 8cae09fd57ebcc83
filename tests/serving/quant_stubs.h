// The grader's case functions that grader/serving_quant.c calls from its declare, adjust and
// reference functions. The CPU tests of session 12's quantised GEMVs link serving_quant.c alone and
// call only its format decoders (sv_e4m3_value, sv_int4_value); these stand in for the rest and
// stop the test if anything reaches them.
#ifndef TESTS_SERVING_QUANT_STUBS_H
#define TESTS_SERVING_QUANT_STUBS_H

#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>

extern "C" {
#include "grader.h"   // C declarations: C linkage here too
float sv_e4m3_value(uint8_t byte);
int sv_int4_value(uint8_t nibble);

static void stub_reached(const char *name) {
    fprintf(stderr, "FAIL  the test reached the stub %s\n", name);
    exit(1);
}
int gr_input(gr_case *, const char *, gr_dtype, size_t, gr_fill) { stub_reached("gr_input"); return 0; }
int gr_output(gr_case *, const char *, gr_dtype, size_t, long) { stub_reached("gr_output"); return 0; }
const gr_buffer *gr_find(const gr_case *, const char *) { stub_reached("gr_find"); return NULL; }
const void *gr_in(const gr_case *, const char *) { stub_reached("gr_in"); return NULL; }
const float *gr_in_f32(gr_case *, const char *) { stub_reached("gr_in_f32"); return NULL; }
void *gr_ref(gr_case *, const char *) { stub_reached("gr_ref"); return NULL; }
double gr_random_uniform(gr_case *, double, double) { stub_reached("gr_random_uniform"); return 0; }
}

#endif
