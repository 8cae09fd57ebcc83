/* A host case of 04_accept+sampled, as the grader makes it (tests/finale/sampled_inputs.c). */
#ifndef TESTS_SAMPLED_INPUTS_H
#define TESTS_SAMPLED_INPUTS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const float *p_target, *p_draft, *u_accept, *u_sample;
    const int *draft;
    const int *ref_accepted, *ref_tokens;   /* fm_sampled_reference's answers */
} sampled_inputs;

/* Shape (B, k, V), the case's seed. 0, or -1 with a line on stderr. Valid until the next call. */
int sampled_case(long B, long k, long V, uint64_t seed, sampled_inputs *in);

#ifdef __cplusplus
}
#endif

#endif
