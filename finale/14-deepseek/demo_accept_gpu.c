/* Board demo: speculative decoding's accept step on the GPU, one launch for a batch of four
 * sequences of 7 drafted tokens each, with accept_greedy. Needs a GPU.
 *
 *   make demo-accept-gpu
 *
 * For each sequence it prints the 7 drafts, the target model's argmax at the 8 positions of its
 * one verify pass, the accepted prefix and the token the target adds: a correction at the first
 * mismatch, or the bonus when all 7 match. The first sequence is the board's "7 drafted, first
 * mismatch at 5": 4 accepted, then the target's own fifth token. The tokens are bytes, as in the
 * mini-model, printed as characters. 'make demo-accept' shows the same rule on the CPU.
 *
 * Uses the hidden solutions where they exist (a mentor's checkout), else the student's files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exercises.h"

#define CHECK(call)                                                                                    \
    do {                                                                                               \
        cudaError_t e_ = (call);                                                                       \
        if (e_ != cudaSuccess) {                                                                       \
            fprintf(stderr, "demo: %s failed at %s:%d: %s\n", #call, __FILE__, __LINE__, cudaGetErrorString(e_)); \
            exit(1);                                                                                   \
        }                                                                                              \
    } while (0)

#define B 4
#define K 7

/* Drafts and the target's argmax, as text: a crafted batch with every case on the board. */
static const char *DRAFTS[B] = {"the cat", "a quiet", "xyzzy!!", "hello w"};
static const char *TARGETS[B] = {"the mat.", "a quiet ", "Once up", "hello wo"};
static const char *WHAT[B] = {"first mismatch at 5", "all 7 accepted: a bonus token", "first mismatch at 1",
                              "all 7 accepted"};

static void show(const char *label, const int *tokens, int n) {
    printf("  %-10s", label);
    for (int i = 0; i < n; i++) {
        if (tokens[i] < 0) printf("  . ");
        else printf(" '%c'", (char)tokens[i]);
    }
    printf("\n");
}

int main(int argc, char **argv) {
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "demo-accept-gpu takes no arguments (its batch is built in)\n");
        return 64;
    }
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        printf("demo-accept-gpu needs a CUDA GPU, and this machine has none.\n");
        return 2;
    }
    int draft[B * K], target[B * (K + 1)], accepted[B], out[B * (K + 1)];
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < K; i++) draft[b * K + i] = (unsigned char)DRAFTS[b][i];
        for (int i = 0; i <= K; i++) target[b * (K + 1) + i] = (unsigned char)(TARGETS[b][i] ? TARGETS[b][i] : ' ');
    }
    int *d_draft, *d_target, *d_accepted, *d_out;
    CHECK(cudaMalloc((void **)&d_draft, sizeof draft));
    CHECK(cudaMalloc((void **)&d_target, sizeof target));
    CHECK(cudaMalloc((void **)&d_accepted, sizeof accepted));
    CHECK(cudaMalloc((void **)&d_out, sizeof out));
    CHECK(cudaMemcpy(d_draft, draft, sizeof draft, cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(d_target, target, sizeof target, cudaMemcpyHostToDevice));
    /* A value the kernel must overwrite, so that an unwritten output shows. */
    CHECK(cudaMemset(d_accepted, 0xFF, sizeof accepted));
    CHECK(cudaMemset(d_out, 0xFF, sizeof out));
    cudaStream_t stream;
    CHECK(cudaStreamCreate(&stream));
    accept_greedy(d_draft, d_target, B, K, d_accepted, d_out, stream);
    CHECK(cudaGetLastError());
    CHECK(cudaStreamSynchronize(stream));
    CHECK(cudaMemcpy(accepted, d_accepted, sizeof accepted, cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(out, d_out, sizeof out, cudaMemcpyDeviceToHost));

    printf("speculative accept on the GPU: %d sequences, %d drafted tokens each, one launch\n\n", B, K);
    int emitted = 0;
    for (int b = 0; b < B; b++) {
        const int n = accepted[b];
        printf("sequence %d (%s)\n", b, WHAT[b]);
        show("drafts", draft + b * K, K);
        show("target", target + b * (K + 1), K + 1);
        if (n < 0 || n > K) {
            printf("  accepted   %d: not a count of drafts; is accept_greedy written yet?\n\n", n);
            continue;
        }
        show("kept", out + b * (K + 1), K + 1);
        const int added = out[b * (K + 1) + n];
        printf("  accepted   %d of %d, then the target's '%c' (%s): %d tokens from one verify pass\n\n", n, K,
               (char)added, n == K ? "the bonus" : "a correction", n + 1);
        emitted += n + 1;
    }
    printf("%d tokens for %d sequences from one pass each, where plain decoding makes %d\n", emitted, B, B);
    cudaFree(d_draft); cudaFree(d_target); cudaFree(d_accepted); cudaFree(d_out);
    cudaStreamDestroy(stream);
    return 0;
}
