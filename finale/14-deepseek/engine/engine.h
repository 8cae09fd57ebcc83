/* The mini-model on the GPU (session 14's engine): the weights file the CPU engine reads
 * (finale/mini/MODEL.md), run on the course's kernels: session 12's gemv_bf16 for the BF16 linear
 * layers, session 14's mla_decode, moe_route and fp8_grouped_gemm_masked for attention and the
 * routed experts, and this folder's own small kernels (kernels.cu) for the glue. It rounds where
 * those kernels' contracts round, the points MODEL.md lists under "Serving numerics", so that its
 * tokens can be compared with the CPU engine run with --numerics serving.
 *
 * Batch 1. Greedy decoding runs one position a step, each step one CUDA graph launch (the prompt
 * goes through the same steps). Speculative decoding (MODEL.md "Decoding") runs the prompt the same
 * way, then passes of k drafts: the MTP module drafts, the main model verifies the k + 1 positions
 * in one pass, session 14's accept_greedy keeps the agreeing prefix; each pass is one graph.
 * The model is tiny, so a step costs its launches: the glue is fused where the course's kernels
 * leave room (one stacked projection GEMV, add + norm + router, the MoE sum + the next norm) and the
 * shared expert runs on a side stream, a parallel branch of the graph. */
#ifndef MINI_GPU_ENGINE_H
#define MINI_GPU_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "weights.h"  /* the CPU engine's loader (C) */

typedef struct GpuModel GpuModel;

/* Uploads the weights (BF16, FP8 experts) and allocates the caches. Returns NULL with one line in
 * err: no GPU, out of memory, a config these kernels do not take. */
GpuModel *gpu_model_create(const MiniWeights *w, char *err, size_t err_len);
void gpu_model_free(GpuModel *m);

/* The same architecture with random weights drawn on the GPU (no file): the scaled configuration,
 * big enough that a decode step is bound by reading its weights. Its tokens mean nothing. */
GpuModel *gpu_model_create_random(const MiniConfig *c, uint64_t seed, char *err, size_t err_len);

/* Expert parallelism over the GPUs of one host, one process a GPU: this process is rank `rank` of
 * `ranks`, on its own GPU (the current device), with `comm` its ncclComm_t of the ranks. Every rank
 * holds the whole model and runs every step on the same tokens; rank r runs only the routed experts
 * r E / R .. (r + 1) E / R - 1 (rounded down, as exercise 05 splits them), and the ranks sum the
 * experts' rows once a block, so every rank's tokens are one GPU's, bit for bit. w: the weights
 * file's model, or NULL for random weights of c from seed. NULL with one line in err, as above, or
 * when the build has no NCCL or there are fewer experts than ranks. */
typedef struct {
    int rank, ranks;
    void *comm;
} GpuEp;
GpuModel *gpu_model_create_ep(const MiniWeights *w, const MiniConfig *c, uint64_t seed, const GpuEp *ep, char *err,
                              size_t err_len);

/* The bytes a greedy step at position pos must read at the least: each weight it uses once (each
 * layer's top_k routed experts, not all of them), the latent cache up to pos, one embedding row. */
double gpu_step_bytes(const GpuModel *m, int pos);

/* A device-to-device copy of 1 GiB on this GPU, median of 10, in GB/s counting bytes read plus
 * written (the grader's measured roof); 0 when it failed. */
double gpu_copy_gbs(GpuModel *m);

#define GPU_TRACE_MAX 16  /* speculative passes a trace can hold */

/* One speculative pass as the board demo shows it: at position pos (tok_pos committed), the k
 * drafts, the main model's k + 1 tokens from its verify pass, and how many drafts it kept. */
typedef struct {
    int pos, k, accepted;
    int draft[8], target[8];
} GpuPassTrace;

typedef struct {
    double ms;            /* the whole generation, prompt included, between two events */
    double decode_ms;     /* after the prompt (and, speculative, the MTP cache's fill) */
    int passes;           /* speculative passes (0 for greedy) */
    int accept_hist[8];   /* passes that kept a = 0, 1, ... k drafts */
    int n_trace;          /* passes traced (the first ones, at most GPU_TRACE_MAX) */
    GpuPassTrace trace[GPU_TRACE_MAX];
} GpuGenerateStats;

/* n_new tokens after the prompt into out; k = 0 greedy, 1 .. 7 drafts a speculative pass. With
 * trace > 0 the first trace passes (at most GPU_TRACE_MAX) are read back one by one into
 * stats->trace, which slows them: for demos, not for timing. Returns 0, or non-zero with one line
 * in err. */
int gpu_generate(GpuModel *m, const uint8_t *prompt, int prompt_len, int n_new, int k, int trace, uint8_t *out,
                 GpuGenerateStats *stats, char *err, size_t err_len);

/* The logits (vocab floats) the last greedy generation computed at position pos (0 .. prompt_len -
 * 2 + n_new): a caller comparing with the CPU engine looks at the margin of the top two where the
 * tokens first differ. */
int gpu_logits_at(GpuModel *m, int pos, float *logits, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif

#endif
