/* Session 14 check driver: the finale's kernels, each judged against its roof.
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 *
 * What each exercise reads and writes, its reference and its byte count: grader/finale_mla.h (01)
 * grader/finale.h (02, 04), grader/finale_fp8.h (03) and grader/finale_ep.h (05). 05 spans every
 * GPU of the machine; what that takes (NCCL, one stream a GPU, the inputs spread) is below. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exercises.h"
#include "finale.h"
#include "finale_ep.h"
#include "finale_fp8.h"
#include "finale_mla.h"
#include "grader.h"
#include "library.h"

#define S(i) ((int)c->shape.d[i])

static void mla_launch(gr_case *c, cudaStream_t s) {
    mla_decode(gr_ptr(c, "q"), gr_ptr(c, "kv_cache"), gr_ptr(c, "block_table"), gr_ptr(c, "seq_len"),
               (int)c->param[1], (float)c->param[0], gr_ptr(c, "out"), S(0), S(1), S(2), S(3), S(4),
               gr_ptr(c, "work"), s);
}
static void route_launch(gr_case *c, cudaStream_t s) {
    moe_route(gr_ptr(c, "logits"), gr_ptr(c, "bias"), S(0), S(1), S(2), gr_ptr(c, "topk_idx"),
              gr_ptr(c, "topk_weight"), gr_ptr(c, "expert_count"), gr_ptr(c, "expert_offset"), gr_ptr(c, "perm"),
              gr_ptr(c, "inv_perm"), s);
}
static void fp8_contiguous_launch(gr_case *c, cudaStream_t s) {
    fp8_grouped_gemm_contiguous(gr_ptr(c, "A"), gr_ptr(c, "sa"), gr_ptr(c, "B"), gr_ptr(c, "sb"), gr_ptr(c, "D"),
                                gr_ptr(c, "group_offset"), S(0), S(1), S(2), S(3), s);
}
/* The yardstick of the contiguous layout: cuBLASLt's dense FP8 GEMM on the same M x N x K (all M
 * rows against group 0's weights, unit scales), into D. */
static void fp8_dense_library(gr_case *c, cudaStream_t s) {
    gr_lib_gemm_fp8_nt(S(1), S(2), S(3), gr_ptr(c, "A"), gr_ptr(c, "B"), gr_ptr(c, "D"), s);
}
static bool fp8_dense_available(const gr_shape *s) {
    return gr_lib_gemm_fp8_nt_available((int)s->d[1], (int)s->d[2], (int)s->d[3]);
}
static void fp8_masked_launch(gr_case *c, cudaStream_t s) {
    fp8_grouped_gemm_masked(gr_ptr(c, "A"), gr_ptr(c, "sa"), gr_ptr(c, "B"), gr_ptr(c, "sb"), gr_ptr(c, "D"),
                            gr_ptr(c, "masked_m"), S(0), S(1), S(2), S(3), s);
}
static void greedy_launch(gr_case *c, cudaStream_t s) {
    accept_greedy(gr_ptr(c, "draft"), gr_ptr(c, "target_argmax"), S(0), S(1), gr_ptr(c, "accepted"),
                  gr_ptr(c, "out_tokens"), s);
}
static void sampled_launch(gr_case *c, cudaStream_t s) {
    accept_sampled(gr_ptr(c, "p_target"), gr_ptr(c, "p_draft"), gr_ptr(c, "draft"), gr_ptr(c, "u_accept"),
                   gr_ptr(c, "u_sample"), S(0), S(1), S(2), gr_ptr(c, "accepted"), gr_ptr(c, "out_tokens"), s);
}

/* ---- 05: expert parallelism over the machine's GPUs -------------------------------------------
 * The grader's buffers live on one GPU (home: the current device of the exercise's process); the
 * exercise spans R = min(GPUs, EP_MAX_RANKS) of them, home first. The world (an NCCL communicator and
 * a stream a GPU) is made once in the exercise's process, by open(), which runs before the process is
 * confined in grading mode (NCCL's bootstrap opens sockets, and a first exchange between every two
 * GPUs sets up its connections then). A case's inputs are whole-world arrays, every rank's tokens
 * stacked; prepare() (after each upload) gives every other rank its slice on its GPU, from the
 * host copies, and collect() (before the results are read) brings their outputs home and poisons
 * them again. Neither is timed: a launch records an event on the grader's stream that every other
 * rank's stream waits for, calls the launcher, and makes the grader's stream wait for every rank's
 * end, so the timed interval is all GPUs' work and only that. Rank 0 works in the grader's own
 * buffers, guard bands and all; the other ranks' buffers (cudaMalloc) have none: an overrun there
 * shows as a wrong result or a fault, or under compute-sanitizer.
 * The yardstick is NCCL's own all-to-all of the same bytes, twice (dispatch and combine), timed the
 * same way: its time over ours is the ratio of the two bus bandwidths (nccl-tests' busbw =
 * algbw (R - 1) / R, the same R and bytes on both sides). */
#ifdef WB_HAVE_NCCL
static struct {
    int home;
    ep_world world;                   /* stream[0] is the grader's, set at each launch */
    cudaEvent_t go, done[EP_MAX_RANKS];
    /* The current case on every rank: rank 0's pointers are the grader's buffers. */
    uint64_t seed;
    bool ready;
    int E, top_k, H, T[EP_MAX_RANKS];
    long first_row[EP_MAX_RANKS];
    uint16_t *x[EP_MAX_RANKS], *y[EP_MAX_RANKS];
    int *idx[EP_MAX_RANKS];
    float *weight[EP_MAX_RANKS], *scale[EP_MAX_RANKS];
    void *work[EP_MAX_RANKS];
    size_t work_bytes;
} ep;

static void ep_fail(const char *what, cudaError_t e) {
    char m[300];
    snprintf(m, sizeof m, "grader, 05's world: %s: %s", what, cudaGetErrorString(e));
    gr_exercise_fails(GR_CRASH, m);
}
#define EP_CUDA(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) ep_fail(#call, e_); } while (0)
#define EP_NCCL(call) do { ncclResult_t n_ = (call); if (n_ != ncclSuccess) { char m_[300];             \
    snprintf(m_, sizeof m_, "grader, 05's world: %s: %s", #call, ncclGetErrorString(n_));            \
    gr_exercise_fails(GR_CRASH, m_); } } while (0)

/* Every two GPUs (and each with itself) exchange 32 MB once, both ways, so that NCCL's connections
 * exist before the process is confined (it makes them at first use, and some of that opens sockets). */
static bool ep_connect(char *why, size_t len) {
    const int R = ep.world.ranks;
    const size_t bytes = (size_t)32 << 20;  /* large: the channels NCCL adds for large messages connect too */
    void *buf[EP_MAX_RANKS] = {0};
    bool ok = true;
    for (int r = 0; r < R && ok; r++) {
        cudaSetDevice(ep.world.device[r]);
        ok = cudaMalloc(&buf[r], 2 * (size_t)R * bytes) == cudaSuccess;
    }
    if (ok) ok = ncclGroupStart() == ncclSuccess;
    for (int r = 0; r < R && ok; r++) {
        cudaSetDevice(ep.world.device[r]);
        for (int d = 0; d < R && ok; d++) {  /* itself too: the yardstick sends to itself */
            char *out = (char *)buf[r] + (size_t)d * bytes, *in = (char *)buf[r] + (size_t)(R + d) * bytes;
            ok = ncclSend(out, bytes, ncclUint8, d, ep.world.comm[r], ep.world.stream[r]) == ncclSuccess &&
                 ncclRecv(in, bytes, ncclUint8, d, ep.world.comm[r], ep.world.stream[r]) == ncclSuccess;
        }
    }
    if (ok) ok = ncclGroupEnd() == ncclSuccess;
    for (int r = 0; r < R; r++) {
        cudaSetDevice(ep.world.device[r]);
        if (ep.world.stream[r]) ok &= cudaStreamSynchronize(ep.world.stream[r]) == cudaSuccess;
        cudaFree(buf[r]);
    }
    cudaSetDevice(ep.home);
    if (!ok) snprintf(why, len, "NCCL's first exchange between the GPUs failed (NCCL_DEBUG=WARN says why)");
    return ok;
}

/* Peer access between every two ranks' devices, where the hardware has it (NVLink or PCIe P2P):
 * 1 when all of it is on. NCCL may have switched some on already, which is no error. */
static int ep_enable_peers(const ep_world *w) {
    int all = 1;
    for (int r = 0; r < w->ranks; r++) {
        EP_CUDA(cudaSetDevice(w->device[r]));
        for (int d = 0; d < w->ranks; d++) {
            int can = 0;
            if (d == r) continue;
            if (cudaDeviceCanAccessPeer(&can, w->device[r], w->device[d]) != cudaSuccess || !can) { all = 0; continue; }
            const cudaError_t e = cudaDeviceEnablePeerAccess(w->device[d], 0);
            if (e == cudaErrorPeerAccessAlreadyEnabled) (void)cudaGetLastError();
            else if (e != cudaSuccess) { (void)cudaGetLastError(); all = 0; }
        }
    }
    EP_CUDA(cudaSetDevice(w->device[0]));
    return all;
}
#endif

/* Before anything is checked: the world, or one line saying why there is none. */
static bool ep_open(const gr_exercise *ex, gr_verdict *verdict, char *why, size_t len) {
    (void)ex;
#ifndef WB_HAVE_NCCL
    *verdict = GR_NEEDS_ARCH;
    snprintf(why, len, "this build has no NCCL (make found no nccl.h and libnccl): install NCCL (pip install "
             "nvidia-nccl-cu13, or NCCL_HOME=DIR) and rebuild; it needs 2 GPUs as well");
    return false;
#else
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) count = 0;
    if (count < 2) {
        *verdict = GR_NO_GPU;
        snprintf(why, len, "expert parallelism needs 2 GPUs and this machine has %d: it is checked where there are "
                 "two or more (the rest of the session is not affected)", count);
        return false;
    }
    /* NVLink multicast (NVLS) stays off: programs using it have put shared machines' GPUs out of
     * service. Point-to-point sends never need it. */
    setenv("NCCL_NVLS_ENABLE", "0", 1);
    memset(&ep, 0, sizeof ep);
    cudaGetDevice(&ep.home);
    const int R = count < EP_MAX_RANKS ? count : EP_MAX_RANKS;
    ep.world.ranks = R;
    ep.world.device[0] = ep.home;
    for (int d = 0, r = 1; r < R; d++)
        if (d != ep.home) ep.world.device[r++] = d;
    ncclResult_t n = ncclCommInitAll(ep.world.comm, R, ep.world.device);
    if (n != ncclSuccess) {
        *verdict = GR_CRASH;
        snprintf(why, len, "NCCL could not make a communicator over %d GPUs: %s", R, ncclGetErrorString(n));
        return false;
    }
    for (int r = 0; r < R; r++) {
        EP_CUDA(cudaSetDevice(ep.world.device[r]));
        EP_CUDA(cudaStreamCreateWithFlags(&ep.world.stream[r], cudaStreamNonBlocking));
        EP_CUDA(cudaEventCreateWithFlags(&ep.done[r], cudaEventDisableTiming));
        EP_CUDA(cudaEventCreateWithFlags(&ep.world.counts_read[r], cudaEventDisableTiming));
        /* pinned: the launcher's copies of the counts stay asynchronous (to pageable memory they would wait) */
        EP_CUDA(cudaMallocHost((void **)&ep.world.counts_host[r], sizeof(int) * (FM_MAX_EXPERTS + (size_t)EP_MAX_RANKS * FM_MAX_EXPERTS)));
        for (int k = 0; k < EP_WORLD_EVENTS; k++)
            EP_CUDA(cudaEventCreateWithFlags(&ep.world.event[r][k], cudaEventDisableTiming));
    }
    /* WB_EP_NO_PEER=1: the world says it has no peer access, so a launcher's NCCL path is checked too */
    const char *no_peer = getenv("WB_EP_NO_PEER");
    ep.world.peer_access = no_peer && strcmp(no_peer, "0") != 0 ? 0 : ep_enable_peers(&ep.world);
    EP_CUDA(cudaSetDevice(ep.home));
    EP_CUDA(cudaEventCreateWithFlags(&ep.go, cudaEventDisableTiming));
    if (!ep_connect(why, len)) { *verdict = GR_CRASH; return false; }
    return true;
#endif
}

static void ep_declare(gr_case *c) {
#ifdef WB_HAVE_NCCL
    c->param[0] = ep.world.ranks;
#endif
    fm_ep_declare(c);
}

#ifdef WB_HAVE_NCCL
static void ep_free_case(void) {
    for (int r = 0; r < ep.world.ranks; r++) {
        cudaSetDevice(ep.world.device[r]);
        if (r > 0) { cudaFree(ep.x[r]); cudaFree(ep.y[r]); cudaFree(ep.idx[r]); cudaFree(ep.weight[r]); }
        cudaFree(ep.scale[r]);
        cudaFree(ep.work[r]);
        ep.x[r] = ep.y[r] = NULL; ep.idx[r] = NULL; ep.weight[r] = ep.scale[r] = NULL; ep.work[r] = NULL;
    }
    cudaSetDevice(ep.home);
    ep.ready = false;
}

static void *ep_alloc(size_t bytes) {
    void *p = NULL;
    EP_CUDA(cudaMalloc(&p, bytes ? bytes : 256));
    return p;
}
#endif

/* After every upload of the inputs: each rank's slice on its GPU (buffers made once per case). */
static void ep_prepare(gr_case *c) {
#ifdef WB_HAVE_NCCL
    const gr_shape *s = &c->shape;
    const int R = ep.world.ranks;
    if (!ep.ready || ep.seed != c->seed) {
        ep_free_case();
        ep.E = (int)s->d[1];
        ep.top_k = (int)s->d[2];
        ep.H = (int)s->d[3];
        for (int r = 0; r < R; r++) { ep.T[r] = (int)fm_ep_tokens(s, r); ep.first_row[r] = fm_ep_first_row(s, r); }
        ep.work_bytes = ep_work_bytes(R, ep.E, ep.top_k, ep.H, fm_ep_tokens_all(s, R));
        for (int r = 0; r < R; r++) {
            EP_CUDA(cudaSetDevice(ep.world.device[r]));
            ep.work[r] = ep_alloc(ep.work_bytes);
            ep.scale[r] = ep_alloc((size_t)ep.E * 4);
            if (r == 0) continue;
            ep.x[r] = ep_alloc((size_t)ep.T[r] * ep.H * 2);
            ep.y[r] = ep_alloc((size_t)ep.T[r] * ep.H * 2);
            ep.idx[r] = ep_alloc((size_t)ep.T[r] * ep.top_k * 4);
            ep.weight[r] = ep_alloc((size_t)ep.T[r] * ep.top_k * 4);
        }
        EP_CUDA(cudaSetDevice(ep.home));
        ep.seed = c->seed;
        ep.ready = true;
    }
    /* Rank 0 reads and writes the grader's buffers, where its rows come first. Its experts' scales
     * are a copy of their run, like every rank's: no rank holds another's. */
    ep.x[0] = gr_ptr(c, "x");
    ep.idx[0] = gr_ptr(c, "topk_idx");
    ep.weight[0] = gr_ptr(c, "topk_weight");
    ep.y[0] = gr_ptr(c, "y");
    const uint16_t *x = gr_in(c, "x");
    const int *idx = gr_in(c, "topk_idx");
    const float *weight = gr_in(c, "topk_weight"), *scale = gr_in(c, "expert_scale");
    for (int r = 0; r < R; r++) {
        const size_t T = (size_t)ep.T[r], row = (size_t)ep.first_row[r], K = (size_t)ep.top_k, H = (size_t)ep.H;
        const int first = fm_ep_first_expert(r, ep.E, R), n_local = fm_ep_first_expert(r + 1, ep.E, R) - first;
        EP_CUDA(cudaSetDevice(ep.world.device[r]));
        EP_CUDA(cudaMemcpy(ep.scale[r], scale + first, (size_t)n_local * 4, cudaMemcpyHostToDevice));
        if (r == 0) continue;
        EP_CUDA(cudaMemcpy(ep.x[r], x + row * H, T * H * 2, cudaMemcpyHostToDevice));
        EP_CUDA(cudaMemcpy(ep.idx[r], idx + row * K, T * K * 4, cudaMemcpyHostToDevice));
        EP_CUDA(cudaMemcpy(ep.weight[r], weight + row * K, T * K * 4, cudaMemcpyHostToDevice));
        EP_CUDA(cudaMemset(ep.y[r], 0xFF, T * H * 2));  /* NaN: an unwritten row fails */
        EP_CUDA(cudaDeviceSynchronize());
    }
    EP_CUDA(cudaSetDevice(ep.home));
#else
    (void)c;
#endif
}

/* Before the results are read: every other rank's rows of y into the grader's buffer, through the
 * host (the grader's buffers are mapped for their own GPU only), then poisoned again on their GPU. A
 * fault on another GPU is found here. */
static void ep_collect(gr_case *c) {
#ifdef WB_HAVE_NCCL
    const int R = ep.world.ranks;
    for (int r = 0; r < R; r++) {
        EP_CUDA(cudaSetDevice(ep.world.device[r]));
        cudaError_t e = cudaDeviceSynchronize();
        if (e != cudaSuccess) {
            char m[300];
            snprintf(m, sizeof m, "rank %d's GPU (device %d) faulted: %s (%s); run it under compute-sanitizer", r,
                     ep.world.device[r], cudaGetErrorName(e), cudaGetErrorString(e));
            gr_exercise_fails(GR_CRASH, m);
        }
    }
    uint16_t *y = gr_ptr(c, "y");
    for (int r = 1; r < R; r++) {
        const size_t bytes = (size_t)ep.T[r] * ep.H * 2;
        if (bytes == 0) continue;
        void *stage = malloc(bytes);
        if (!stage) gr_exercise_fails(GR_CRASH, "grader: out of host memory collecting 05's results");
        EP_CUDA(cudaSetDevice(ep.world.device[r]));
        EP_CUDA(cudaMemcpy(stage, ep.y[r], bytes, cudaMemcpyDeviceToHost));
        EP_CUDA(cudaMemset(ep.y[r], 0xFF, bytes));
        EP_CUDA(cudaDeviceSynchronize());
        EP_CUDA(cudaSetDevice(ep.home));
        EP_CUDA(cudaMemcpy(y + (size_t)ep.first_row[r] * ep.H, stage, bytes, cudaMemcpyHostToDevice));
        free(stage);
    }
    EP_CUDA(cudaSetDevice(ep.home));
#else
    (void)c;
#endif
}

#ifdef WB_HAVE_NCCL
/* The other ranks start after everything before the launch on the grader's stream... */
static void ep_fan_out(cudaStream_t s) {
    EP_CUDA(cudaEventRecord(ep.go, s));
    for (int r = 1; r < ep.world.ranks; r++) EP_CUDA(cudaStreamWaitEvent(ep.world.stream[r], ep.go, 0));
}
/* ...and the grader's stream goes on after all of them. The current device is home again. */
static void ep_fan_in(cudaStream_t s) {
    for (int r = 1; r < ep.world.ranks; r++) {
        EP_CUDA(cudaSetDevice(ep.world.device[r]));
        EP_CUDA(cudaEventRecord(ep.done[r], ep.world.stream[r]));
    }
    EP_CUDA(cudaSetDevice(ep.home));
    for (int r = 1; r < ep.world.ranks; r++) EP_CUDA(cudaStreamWaitEvent(s, ep.done[r], 0));
}
static void ep_check_case(const gr_case *c) {
    if (!ep.ready || ep.seed != c->seed)
        gr_exercise_fails(GR_CRASH, "grader: 05 was launched before its inputs were spread over the GPUs");
}
#endif

static void ep_launch(gr_case *c, cudaStream_t s) {
#ifdef WB_HAVE_NCCL
    ep_check_case(c);
    ep_fan_out(s);
    ep_world w = ep.world;
    w.stream[0] = s;
    ep_dispatch_combine(&w, ep.E, ep.top_k, ep.H, ep.T, (const uint16_t *const *)ep.x, (const int *const *)ep.idx,
                        (const float *const *)ep.weight, (const float *const *)ep.scale, ep.y, ep.work, ep.work_bytes);
    ep_fan_in(s);
#else
    (void)c;
    (void)s;
#endif
}

/* The yardstick: an all-to-all of every rank's top_k * H * 2 bytes a token (each rank sends an
 * equal share to every rank, itself included, as nccl-tests' alltoall does), then the same back,
 * in the ranks' work buffers. */
static void ep_nccl_library(gr_case *c, cudaStream_t s) {
#ifdef WB_HAVE_NCCL
    ep_check_case(c);
    const int R = ep.world.ranks;
    const size_t all = (size_t)fm_ep_tokens_all(&c->shape, R) * ep.top_k * ep.H * 2;  /* the receive half starts here */
    size_t share[EP_MAX_RANKS];
    for (int r = 0; r < R; r++) share[r] = (size_t)ep.T[r] * ep.top_k * ep.H * 2 / R;
    ep_fan_out(s);
    for (int round = 0; round < 2; round++) {
        EP_NCCL(ncclGroupStart());
        for (int r = 0; r < R; r++) {
            EP_CUDA(cudaSetDevice(ep.world.device[r]));
            char *out = (char *)ep.work[r] + (round ? all : 0), *in = (char *)ep.work[r] + (round ? 0 : all);
            cudaStream_t rs = r == 0 ? s : ep.world.stream[r];
            size_t at = 0;  /* rank d's share lands after the shares of the ranks before it */
            for (int d = 0; d < R; d++) {
                EP_NCCL(ncclSend(out + d * share[r], share[r], ncclUint8, d, ep.world.comm[r], rs));
                EP_NCCL(ncclRecv(in + at, share[d], ncclUint8, d, ep.world.comm[r], rs));
                at += share[d];
            }
        }
        EP_NCCL(ncclGroupEnd());
    }
    EP_CUDA(cudaSetDevice(ep.home));
    ep_fan_in(s);
#else
    (void)c;
    (void)s;
#endif
}

static void ep_note(const gr_shape *s, char *buf, size_t len) {
#ifdef WB_HAVE_NCCL
    const int R = ep.world.ranks;
#else
    const int R = 2;
#endif
    const double mb = (double)s->d[0] * s->d[2] * s->d[3] * 2 / 1e6;
    snprintf(buf, len, "%d GPUs; a rank sends %.0f MB of rows and gets them back, (R-1)/R = %.0f%% of them to other "
             "GPUs; %% of NCCL = its all-to-all's time over ours (the same bus bandwidth ratio)", R, mb,
             100.0 * (R - 1) / R);
}

#define MLA(file, size)                                                                                       \
    {.name = file, .what = "absorbed MLA decode over a paged latent cache: every head reads one latent per token", \
     .hint = "token t: block block_table[b][t / 64], slot t % 64; scores over [c, kr], values are c itself",  \
     .compute = GR_ROOF_BF16, .check_shapes = MLA_CHECK_SHAPES, .bench_shape = size, .declare = fm_mla_declare, \
     .adjust_inputs = fm_mla_adjust, .launch = mla_launch, .reference = fm_mla_reference,                   \
     .tolerance = fm_mla_tolerance, .flops = fm_mla_flops, .bytes = fm_mla_bytes, .bench_note = fm_mla_note}

/* (T, E, top_k): one token; odd T; T past any one block (1000, 2049 tokens of 8 slots); the
 * mini-model's E = 8 and top_k = 2; E = 64; DeepSeek-V3's E = 256 and top_k = 8; every expert
 * chosen (top_k = E = 8) and one chosen of many. */
#define ROUTE_SHAPES                                                                                         \
    {GR_SHAPE(1, 8, 2), GR_SHAPE(1, 256, 8), GR_SHAPE(7, 8, 1), GR_SHAPE(17, 64, 2), GR_SHAPE(33, 256, 8),   \
     GR_SHAPE(5, 8, 8), GR_SHAPE(100, 256, 1), GR_SHAPE(129, 64, 8), GR_SHAPE(1000, 8, 2),                  \
     GR_SHAPE(2049, 256, 8), GR_SHAPE(300, 64, 1)}
#define ROUTE(file, size)                                                                                     \
    {.name = file, .what = "MoE routing: top-k experts by sigmoid score + bias, weights, pairs grouped by expert", \
     .hint = "ties go to the lower expert; inside an expert the pairs stay in index order (count the earlier ones)", \
     .compute = GR_ROOF_HBM, .check_shapes = ROUTE_SHAPES, .bench_shape = size, .declare = fm_route_declare,   \
     .adjust_inputs = fm_route_adjust, .launch = route_launch, .reference = fm_route_reference,              \
     .tolerance = fm_route_tolerance, .bytes = fm_route_bytes, .bench_note = fm_route_note}

/* (B, k): one sequence, one draft; odd batches; k from 1 to 40 (past a warp). */
#define GREEDY_SHAPES                                                                                        \
    {GR_SHAPE(1, 1), GR_SHAPE(1, 7), GR_SHAPE(3, 2), GR_SHAPE(17, 7), GR_SHAPE(100, 3), GR_SHAPE(5, 33),     \
     GR_SHAPE(129, 8), GR_SHAPE(1000, 1), GR_SHAPE(7, 40)}
/* (B, k, V): one sequence; the mini-model's byte vocabulary (256); odd V; a vocabulary of 32000. */
#define SAMPLED_SHAPES                                                                                       \
    {GR_SHAPE(1, 1, 2), GR_SHAPE(1, 7, 256), GR_SHAPE(4, 3, 17), GR_SHAPE(9, 7, 1000), GR_SHAPE(8, 1, 4097),  \
     GR_SHAPE(17, 4, 256), GR_SHAPE(3, 2, 32000), GR_SHAPE(64, 7, 300)}

/* (T, E, top_k, H [, dT [, routing]]), rank r with T + r dT tokens (finale_ep.h): one token a
 * rank; odd counts; a rank without tokens; every token to experts 0 and 1 (the other experts, and
 * the ranks that own none of those two, receive nothing) or to the last top_k experts (the last
 * rank's); 1000 tokens with DeepSeek's routing; every expert of every token (top_k = E); top_k 1;
 * one token and 129 uneven ones at DeepSeek's width 7168. */
#define EP_SHAPES                                                                                             \
    {GR_SHAPE(1, 8, 2, 64), GR_SHAPE(17, 8, 2, 128), GR_SHAPE(0, 8, 2, 64, 5), GR_SHAPE(17, 8, 2, 64, 0, 1),      \
     GR_SHAPE(33, 64, 8, 136, 0, 2), GR_SHAPE(1000, 256, 8, 256), GR_SHAPE(1000, 8, 8, 64, 1),                  \
     GR_SHAPE(257, 256, 1, 64, 3), GR_SHAPE(1, 256, 8, 7168), GR_SHAPE(129, 256, 8, 7168, 7)}
#define EP(file, size)                                                                                        \
    {.name = file, .what = "expert parallelism: tokens to their experts' GPUs and back (NCCL or NVLink stores), weighted sum",   \
     .hint = "rows go out in expert order and come back to the places they left; a token's own rank's experts stay home", \
     .compute = GR_ROOF_HBM, .check_shapes = EP_SHAPES, .bench_shape = size, .declare = ep_declare,             \
     .adjust_inputs = fm_ep_adjust, .launch = ep_launch, .reference = fm_ep_reference,                         \
     .tolerance = fm_ep_tolerance, .bytes = fm_ep_bytes, .bench_note = ep_note, .library = ep_nccl_library,    \
     .library_name = "NCCL all-to-all x2", .open = ep_open, .prepare = ep_prepare, .collect = ep_collect}

static const gr_exercise EXERCISES[] = {
    MLA("01_mla_decode", MLA_BENCH_16),
    MLA("01_mla_decode+heads128", MLA_BENCH_128),
    MLA("01_mla_decode+mini", MLA_BENCH_MINI),
    ROUTE("02_moe_route", GR_SHAPE(4096, 256, 8)),
    ROUTE("02_moe_route+mini", GR_SHAPE(8, 8, 2)),
    {.name = "03_fp8_grouped_gemm", .what = "FP8 grouped GEMM of an MoE layer, 128-block scales; groups' rows stacked",
     .hint = "a tile's rows belong to one group; each 128-value K block's FP32 sums times sa[row] * sb[g][n / 128]",
     .compute = GR_ROOF_FP8, .check_shapes = FP8_CONTIGUOUS_SHAPES, .bench_shape = FP8_BENCH_CONTIGUOUS,
     .declare = fm_fp8_contiguous_declare, .adjust_inputs = fm_fp8_contiguous_adjust, .launch = fp8_contiguous_launch,
     FM_FP8_CONTIGUOUS_REF, .tolerance = fm_fp8_tolerance, .flops = fm_fp8_contiguous_flops,
     .bytes = fm_fp8_contiguous_bytes, .bench_note = fm_fp8_contiguous_note, .library = fp8_dense_library,
     .library_name = "cuBLASLt FP8 dense", .library_available = fp8_dense_available},
    {.name = "03_fp8_grouped_gemm+masked", .what = "the same, masked: group g uses its first masked_m[g] of M_max rows",
     .hint = "rows past masked_m[g] keep their values; each 128-value K block's sums times sa * sb",
     .compute = GR_ROOF_FP8, .check_shapes = FP8_MASKED_SHAPES, .bench_shape = FP8_BENCH_MASKED,
     .declare = fm_fp8_masked_declare, .adjust_inputs = fm_fp8_masked_adjust, .launch = fp8_masked_launch,
     FM_FP8_MASKED_REF, .tolerance = fm_fp8_tolerance, .flops = fm_fp8_masked_flops,
     .bytes = fm_fp8_masked_bytes, .bench_note = fm_fp8_masked_note},
    {.name = "04_accept", .what = "speculative accept, greedy: the longest prefix of drafts the target agrees with",
     .hint = "n = the first i with draft != target_argmax (k if none); then target_argmax[n], then -1",
     .compute = GR_ROOF_HBM, .check_shapes = GREEDY_SHAPES, .bench_shape = GR_SHAPE(256, 7),
     .declare = fm_greedy_declare, .adjust_inputs = fm_greedy_adjust, .launch = greedy_launch,
     .reference = fm_greedy_reference, .tolerance = fm_accept_tolerance, .bytes = fm_greedy_bytes,
     .bench_note = fm_greedy_note},
    {.name = "04_accept+sampled", .what = "speculative sampling: accept while u < p/q, then draw from the residual",
     .hint = "accept when u * p_draft[x] < p_target[x]; draw: the smallest v whose running sum passes u * total",
     .compute = GR_ROOF_HBM, .check_shapes = SAMPLED_SHAPES, .bench_shape = GR_SHAPE(256, 7, 32000),
     .declare = fm_sampled_declare, .adjust_inputs = fm_sampled_adjust, .launch = sampled_launch,
     .reference = fm_sampled_reference, .tolerance = fm_accept_tolerance, .bytes = fm_sampled_bytes,
     .bench_note = fm_sampled_note},
    EP("05_ep_dispatch_combine", GR_SHAPE(4096, 256, 8, 7168)),
    EP("05_ep_dispatch_combine+decode", GR_SHAPE(128, 256, 8, 7168)),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "finale/14-deepseek", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
