/* mini-gpu --ep N: the engine in expert-parallel mode over N GPUs of this host, one process a GPU
 * (engine.h, GpuEp). The parent makes NCCL's id and forks a process for each other GPU before
 * any CUDA call; every process joins the communicator on its own GPU, builds the whole model (its
 * run of the routed experts is the only part it computes) and generates. Rank 0 then builds the
 * one-GPU model on its GPU, generates again, and prints both speeds and whether the tokens agree.
 *
 * A rank that fails says so on stderr and ends; the others, blocked in NCCL waiting for it, are
 * stopped by the parent (SIGCHLD), or by the time limit when the parent itself is the one stuck. */
#include "ep_run.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cuda_runtime_api.h>

#ifdef WB_HAVE_NCCL
#include <nccl.h>

#define EP_MAX_PROCESSES 8
#define EP_TIME_LIMIT_S 900  /* the scaled model's upload and a few hundred tokens take well under a minute */
#define EP_QUIET 3           /* a rank's exit status when rank 0 says why (too few GPUs): no second line */

static pid_t children[EP_MAX_PROCESSES];
static volatile sig_atomic_t n_children;

static void say_and_stop(const char *line) {
    for (int i = 0; i < n_children; i++)
        if (children[i] > 0) kill(children[i], SIGKILL);
    if (write(2, line, strlen(line)) < 0) { /* nothing more to do */ }
    _exit(2);
}

/* A rank that ended with a failure: the others would wait for it in NCCL for ever. */
static void on_child(int sig) {
    (void)sig;
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (int i = 0; i < n_children; i++)
            if (children[i] == pid) children[i] = 0;  /* reaped here */
        if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != EP_QUIET))
            say_and_stop("mini-gpu: a rank of the expert-parallel run failed (its line is above): stopped\n");
    }
}

static void on_alarm(int sig) {
    (void)sig;
    say_and_stop("mini-gpu: the expert-parallel run was still going after 900 s: stopped\n");
}

/* One rank: the communicator, the model with its run of experts, the generation. Rank 0 keeps the
 * tokens and the decode time. Returns 0, or 2 after one line on stderr (EP_QUIET: too few GPUs,
 * which rank 0 says). */
static int rank_run(int rank, int ranks, const ncclUniqueId *id, const MiniWeights *w, const MiniConfig *c,
                    uint64_t seed, const char *prompt, int n_new, int k, uint8_t *out, GpuGenerateStats *st) {
    char err[256];
    int n_gpus = 0;
    if (cudaGetDeviceCount(&n_gpus) != cudaSuccess) n_gpus = 0;
    if (n_gpus < ranks) {
        if (rank > 0) return EP_QUIET;
        fprintf(stderr, "mini-gpu: --ep %d runs on %d GPUs, and this machine has %d usable\n", ranks, ranks, n_gpus);
        return 2;
    }
    cudaError_t ce = cudaSetDevice(rank);
    if (ce != cudaSuccess) {
        fprintf(stderr, "mini-gpu (rank %d): GPU %d: %s\n", rank, rank, cudaGetErrorString(ce));
        return 2;
    }
    ncclComm_t comm;
    ncclResult_t nr = ncclCommInitRank(&comm, ranks, *id, rank);
    if (nr != ncclSuccess) {
        fprintf(stderr, "mini-gpu (rank %d): joining the ranks (NCCL): %s\n", rank, ncclGetErrorString(nr));
        return 2;
    }
    const GpuEp ep = {rank, ranks, comm};
    GpuModel *g = gpu_model_create_ep(w, c, seed, &ep, err, sizeof err);
    int status = 0;
    if (!g) {
        fprintf(stderr, "mini-gpu (rank %d): %s\n", rank, err);
        status = 2;
    } else if (gpu_generate(g, (const uint8_t *)prompt, (int)strlen(prompt), n_new, k, 0, out, st, err, sizeof err)) {
        fprintf(stderr, "mini-gpu (rank %d): %s\n", rank, err);
        status = 2;
    }
    gpu_model_free(g);
    ncclCommDestroy(comm);
    return status;
}

int mini_gpu_expert_parallel(int ranks, const MiniWeights *w, const MiniConfig *c, uint64_t seed, const char *prompt,
                             int n_new, int k) {
    if (ranks < 2 || ranks > EP_MAX_PROCESSES) {
        fprintf(stderr, "mini-gpu: --ep takes 2 to %d GPUs\n", EP_MAX_PROCESSES);
        return 2;
    }
    /* NCCL's id before any process touches CUDA (a forked child must not inherit a CUDA context). */
    setenv("NCCL_NVLS_ENABLE", "0", 1);  /* NVLink multicast stays off */
    ncclUniqueId id;
    ncclResult_t nr = ncclGetUniqueId(&id);
    if (nr != ncclSuccess) {
        fprintf(stderr, "mini-gpu: NCCL could not start: %s\n", ncclGetErrorString(nr));
        return 2;
    }
    uint8_t *out = malloc((size_t)n_new), *one = malloc((size_t)n_new);
    if (!out || !one) {
        fprintf(stderr, "mini-gpu: out of memory\n");
        free(out);
        free(one);
        return 2;
    }
    fflush(stdout);
    fflush(stderr);
    signal(SIGCHLD, on_child);
    for (int r = 1; r < ranks; r++) {
        pid_t pid = fork();
        if (pid < 0) say_and_stop("mini-gpu: fork failed: stopped\n");
        if (pid == 0) {
            signal(SIGCHLD, SIG_DFL);
            prctl(PR_SET_PDEATHSIG, SIGKILL);  /* the parent gone: nothing waits for this rank */
            GpuGenerateStats st;
            _exit(rank_run(r, ranks, &id, w, c, seed, prompt, n_new, k, out, &st));
        }
        children[n_children++] = pid;
    }
    signal(SIGALRM, on_alarm);
    alarm(EP_TIME_LIMIT_S);
    GpuGenerateStats ep_st, one_st;
    if (rank_run(0, ranks, &id, w, c, seed, prompt, n_new, k, out, &ep_st)) say_and_stop("");
    /* The other ranks end after their last exchange; wait for every one, then time one GPU alone. */
    signal(SIGCHLD, SIG_DFL);
    for (int i = 0; i < n_children; i++) {
        int st;
        if (children[i] > 0 && waitpid(children[i], &st, 0) == children[i] && (!WIFEXITED(st) || WEXITSTATUS(st)))
            say_and_stop("mini-gpu: a rank of the expert-parallel run failed (its line is above): stopped\n");
        children[i] = 0;
    }
    char err[256];
    GpuModel *g = w ? gpu_model_create(w, err, sizeof err) : gpu_model_create_random(c, seed, err, sizeof err);
    int status = 2;
    if (!g) fprintf(stderr, "mini-gpu: the one-GPU model: %s\n", err);
    else if (gpu_generate(g, (const uint8_t *)prompt, (int)strlen(prompt), n_new, k, 0, one, &one_st, err, sizeof err))
        fprintf(stderr, "mini-gpu: the one-GPU model: %s\n", err);
    else {
        const MiniConfig *mc = w ? &w->cfg : c;
        const char *how = k ? "speculative" : "greedy";
        printf("expert parallelism, %d GPUs (one process each, NCCL), %d routed experts split %d ways, %s batch 1: "
               "%d tokens in %.3f ms: %.1f tokens/s\n", ranks, mc->n_experts, ranks, how, n_new, ep_st.decode_ms,
               n_new / (ep_st.decode_ms / 1e3));
        printf("one GPU, the same model and tokens asked for: %d tokens in %.3f ms: %.1f tokens/s (%.2fx the "
               "expert-parallel run's time)\n", n_new, one_st.decode_ms, n_new / (one_st.decode_ms / 1e3),
               ep_st.decode_ms / one_st.decode_ms);
        int first = -1;
        for (int i = 0; i < n_new && first < 0; i++) if (out[i] != one[i]) first = i;
        if (first < 0) {
            printf("expert parallelism: the %d tokens equal one GPU's\n", n_new);
            status = 0;
        } else {
            printf("expert parallelism: the tokens differ from one GPU's at token %d of %d (%d against %d): the "
                   "experts' rows should come back with their owner's bits\n", first + 1, n_new, out[first], one[first]);
            status = 1;
        }
    }
    alarm(0);
    gpu_model_free(g);
    free(out);
    free(one);
    return status;
}

#else  /* built without NCCL */

int mini_gpu_expert_parallel(int ranks, const MiniWeights *w, const MiniConfig *c, uint64_t seed, const char *prompt,
                             int n_new, int k) {
    (void)ranks, (void)w, (void)c, (void)seed, (void)prompt, (void)n_new, (void)k;
    fprintf(stderr, "mini-gpu: --ep needs NCCL, and this build has none (make found no nccl.h and libnccl; "
                    "pip install nvidia-nccl-cu13, or NCCL_HOME=DIR, and rebuild)\n");
    return 2;
}

#endif
