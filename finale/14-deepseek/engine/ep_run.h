/* mini-gpu --ep N (ep_run.c): the engine over N GPUs of this host in expert-parallel mode, one
 * process a GPU, beside the same model on one GPU. */
#ifndef MINI_GPU_EP_RUN_H
#define MINI_GPU_EP_RUN_H

#include <stdint.h>

#include "engine.h"

/* Generates n_new tokens after prompt (k drafts a pass, 0: greedy) with the routed experts split
 * over `ranks` GPUs, then on one GPU, and prints both speeds and whether the tokens agree. w: the
 * weights file's model, or NULL for random weights of c drawn from seed. Returns 0 when the tokens
 * agree, 1 when they do not, 2 after one line on stderr (no NCCL, too few GPUs, a rank failed). */
int mini_gpu_expert_parallel(int ranks, const MiniWeights *w, const MiniConfig *c, uint64_t seed, const char *prompt,
                             int n_new, int k);

#endif
