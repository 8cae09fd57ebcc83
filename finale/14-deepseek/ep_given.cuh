// Session 14: what the expert-parallel exercise (05) is given, shared by its skeleton and its
// solution: which rank owns an expert, the expert itself (a kernel), how the work buffer is cut,
// and the host side of the exchanges: NCCL's grouped sends and receives, and the one place where
// the launcher waits on the host (the counts read back to size the row exchanges, while the GPUs
// pack).
//
// The rows a rank sends are its (token, slot) pairs in expert order, so that the rows for rank d
// are one run (d's experts are consecutive) and, inside it, grouped by expert. The counts a rank
// sends to d are its pairs per expert of d; from them d knows which expert each received row is
// for. The rows come back into the places they left from, so the combine finds pair p's result
// where pair p was packed.
#ifndef SESSION14_EP_GIVEN_CUH
#define SESSION14_EP_GIVEN_CUH

#include <cuda_bf16.h>
#include <stdint.h>
#include <stdio.h>

#include "exercises.h"

#define EP_MAX_EXPERTS 256
#define EP_MAX_TOP_K 8
#define EP_ROW_PIECE 8   // BF16 values in 16 bytes: rows move in pieces of this many

// ---- experts and their ranks -----------------------------------------------------------------

// The first expert of rank r: rank r owns ep_first_expert(r) .. ep_first_expert(r + 1) - 1.
__host__ __device__ __forceinline__ int ep_first_expert(int r, int E, int R) { return (int)((long)r * E / R); }
// The rank that owns expert e: the largest r with r * E / R <= e, that is r * E < (e + 1) * R.
__host__ __device__ __forceinline__ int ep_owner(int e, int E, int R) { return (int)(((long)(e + 1) * R - 1) / E); }

__device__ __forceinline__ float ep_bf16_value(uint16_t b) { return __uint_as_float((uint32_t)b << 16); }
__device__ __forceinline__ uint16_t ep_bf16_round(float f) { return __bfloat16_as_ushort(__float2bfloat16_rn(f)); }

// The expert: one value of its output, bf16(scale * x), as a float. The experts' kernel below and a
// combine that takes a token's own rank's experts in place both use it, so both give the same bits.
__device__ __forceinline__ float ep_expert(float scale, uint16_t x) {
    return ep_bf16_value(ep_bf16_round(scale * ep_bf16_value(x)));
}

// ---- given kernels ---------------------------------------------------------------------------

static __global__ void ep_zero_ints(int *p, long n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) p[i] = 0;
}

// A piece (8 values) of a received row through the rank's local expert le (0 .. n_local - 1, scales
// in `scale`). An expert out of range gives NaN, so a wrong row_expert fails the check rather than
// reading past the scales.
__device__ __forceinline__ uint4 ep_expert_piece(uint4 piece, int le, const float *scale, int n_local) {
    if (le < 0 || le >= n_local) return make_uint4(0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu);
    const float s = scale[le];
    uint16_t *h = reinterpret_cast<uint16_t *>(&piece);
#pragma unroll
    for (int k = 0; k < EP_ROW_PIECE; k++) h[k] = ep_bf16_round(ep_expert(s, h[k]));
    return piece;
}

// A rank's experts on the rows it received, in place: row i belongs to the rank's local expert
// row_expert[i]. A piece of 8 values a thread.
static __global__ void ep_apply_experts(uint16_t *rows, const int *row_expert, long n_rows, int H, const float *scale,
                                        int n_local) {
    const long pieces_per_row = H / EP_ROW_PIECE, n = n_rows * pieces_per_row;
    for (long v = blockIdx.x * (long)blockDim.x + threadIdx.x; v < n; v += (long)gridDim.x * blockDim.x)
        reinterpret_cast<uint4 *>(rows)[v] =
            ep_expert_piece(reinterpret_cast<uint4 *>(rows)[v], row_expert[v / pieces_per_row], scale, n_local);
}

// Blocks for a grid-stride loop over n items, enough to fill the GPU and no more than needed.
static inline int ep_blocks(long n, int threads) {
    const long want = (n + threads - 1) / threads;
    return (int)(want < 1 ? 1 : want > 4096 ? 4096 : want);
}

// ---- the work buffer ---------------------------------------------------------------------------

// What one rank's work buffer holds. Received rows: at most every other rank's pairs.
struct ep_rank_work {
    int *expert_count;    // E: the rank's pairs per expert
    int *expert_offset;   // E + 1: their exclusive prefix sum: where each expert's pairs start
    int *cursor;          // E: the next free place of each expert while the pairs are placed
    int *recv_count;      // R x n_local: [s * n_local + le] rows from rank s for local expert le
    int *slot;            // T[r] * top_k: the place of pair p in the send rows
    int *row_expert;      // recv_capacity: the local expert of each received row
    uint16_t *send_rows;  // T[r] * top_k rows of H: the pairs in expert order (remote ones packed)
    uint16_t *recv_rows;  // recv_capacity rows of H: from rank 0, 1, ... (not itself), by expert
    long recv_capacity;   // rows
    int rank, first_expert, n_local;
};

static inline char *ep_align(char *p) { return (char *)(((uintptr_t)p + 255) & ~(uintptr_t)255); }

// Cuts work (ep_work_bytes(...) bytes, exercises.h) into rank r's pieces.
static inline ep_rank_work ep_carve(void *work, int r, int R, int E, int top_k, int H, const int *T) {
    long tokens_all = 0;
    for (int q = 0; q < R; q++) tokens_all += T[q];
    ep_rank_work ws;
    ws.rank = r;
    ws.first_expert = ep_first_expert(r, E, R);
    ws.n_local = ep_first_expert(r + 1, E, R) - ws.first_expert;
    ws.recv_capacity = (tokens_all - T[r]) * top_k;
    const long pairs = (long)T[r] * top_k;
    char *p = ep_align((char *)work);
    ws.send_rows = (uint16_t *)p;      p = ep_align(p + 2 * (size_t)pairs * H);
    ws.recv_rows = (uint16_t *)p;      p = ep_align(p + 2 * (size_t)ws.recv_capacity * H);
    ws.expert_count = (int *)p;        p = ep_align(p + 4 * (size_t)E);
    ws.expert_offset = (int *)p;       p = ep_align(p + 4 * (size_t)(E + 1));
    ws.cursor = (int *)p;              p = ep_align(p + 4 * (size_t)E);
    ws.recv_count = (int *)p;          p = ep_align(p + 4 * (size_t)R * ws.n_local);
    ws.slot = (int *)p;                p = ep_align(p + 4 * (size_t)pairs);
    ws.row_expert = (int *)p;
    return ws;
}

// Whether the launcher can run this shape, with a line on stderr when not.
static inline bool ep_shape_ok(const ep_world *w, int E, int top_k, int H, const int *T, size_t work_bytes) {
    const int R = w->ranks;
    long tokens_all = 0;
    bool tokens_ok = true;
    for (int r = 0; r < R && r < EP_MAX_RANKS; r++) { tokens_all += T[r]; tokens_ok &= T[r] >= 0; }
    if (R < 2 || R > EP_MAX_RANKS || E < R || E > EP_MAX_EXPERTS || top_k < 1 || top_k > EP_MAX_TOP_K ||
        top_k > E || H < EP_ROW_PIECE || H % EP_ROW_PIECE || !tokens_ok) {
        fprintf(stderr, "ep_dispatch_combine: %d ranks, E %d, top_k %d, H %d: want 2 <= ranks <= %d, ranks <= E <= %d, "
                "1 <= top_k <= min(E, %d), H a multiple of %d, T[r] >= 0\n", R, E, top_k, H, EP_MAX_RANKS,
                EP_MAX_EXPERTS, EP_MAX_TOP_K, EP_ROW_PIECE);
        return false;
    }
    if (work_bytes < ep_work_bytes(R, E, top_k, H, tokens_all)) {
        fprintf(stderr, "ep_dispatch_combine: work holds %zu bytes, needs %zu\n", work_bytes,
                ep_work_bytes(R, E, top_k, H, tokens_all));
        return false;
    }
    return true;
}

// ---- the host side: devices, and who sends how many rows to whom ------------------------------

// Launches and NCCL calls that follow are rank r's: its device becomes the current one.
static inline void ep_use_rank(const ep_world *w, int r) { cudaSetDevice(w->device[r]); }

// The calling thread's current device as it was when this was made, set back when it goes.
struct ep_keep_device {
    int device = 0;
    ep_keep_device() { cudaGetDevice(&device); }
    ~ep_keep_device() { cudaSetDevice(device); }
};

// Who sends how many rows to whom, in rows of H values, from the counts. A rank sends nothing to
// itself: its own pairs stay.
struct ep_plan {
    long send_rows[EP_MAX_RANKS][EP_MAX_RANKS];   // [r][d]: rows rank r sends to rank d
    long send_first[EP_MAX_RANKS][EP_MAX_RANKS];  // [r][d]: the first of them in r's send rows
    long recv_rows[EP_MAX_RANKS][EP_MAX_RANKS];   // [r][s]: rows rank r receives from rank s
    long recv_first[EP_MAX_RANKS][EP_MAX_RANKS];  // [r][s]: the first of them in r's received rows
    long recv_total[EP_MAX_RANKS];
};

enum ep_direction { EP_DISPATCH, EP_COMBINE };

#ifdef WB_HAVE_NCCL

static inline bool ep_nccl_ok(ncclResult_t result, const char *what) {
    if (result == ncclSuccess) return true;
    fprintf(stderr, "ep_dispatch_combine: %s: %s\n", what, ncclGetErrorString(result));
    return false;
}

// Every rank sends each other rank its counts of that rank's experts, and receives theirs of its
// own: recv_count[s * n_local + le] on rank r is how many rows rank s will send for r's expert
// le. The row for a rank's own pairs (s == r) is left as it was (the launcher zeroes it). One
// group for all ranks: NCCL calls of several devices from one thread must be grouped, or the
// first would wait for peers that are never called.
static inline bool ep_exchange_counts(const ep_world *w, int E, const ep_rank_work *ws) {
    const int R = w->ranks;
    if (!ep_nccl_ok(ncclGroupStart(), "ncclGroupStart")) return false;
    bool ok = true;
    for (int r = 0; r < R; r++) {
        ep_use_rank(w, r);
        for (int d = 0; d < R; d++) {
            if (d == r) continue;
            const int first = ep_first_expert(d, E, R), n = ep_first_expert(d + 1, E, R) - first;
            int *out = ws[r].expert_count + first, *in = ws[r].recv_count + (size_t)d * ws[r].n_local;
            ok = ok && ep_nccl_ok(ncclSend(out, (size_t)n, ncclInt32, d, w->comm[r], w->stream[r]), "ncclSend (counts)");
            ok = ok && ep_nccl_ok(ncclRecv(in, (size_t)ws[r].n_local, ncclInt32, d, w->comm[r], w->stream[r]), "ncclRecv (counts)");
        }
    }
    return ep_nccl_ok(ncclGroupEnd(), "ncclGroupEnd (counts)") && ok;
}

// The rows, one group for all ranks. Dispatch: rank r sends its rows for d (send_first[r][d]
// onwards) and receives rank s's rows for it at recv_first[r][s]. Combine: the same in reverse,
// every row back to where it came from. Zero-row pairs send nothing, on both sides alike.
static inline bool ep_exchange_rows(const ep_world *w, int H, const ep_plan *plan, const ep_rank_work *ws,
                                    ep_direction dir) {
    const int R = w->ranks;
    if (!ep_nccl_ok(ncclGroupStart(), "ncclGroupStart")) return false;
    bool ok = true;
    for (int r = 0; r < R; r++) {
        ep_use_rank(w, r);
        for (int q = 0; q < R; q++) {
            if (q == r) continue;
            uint16_t *mine = ws[r].send_rows + (size_t)plan->send_first[r][q] * H;     // rows of r's pairs for q
            uint16_t *theirs = ws[r].recv_rows + (size_t)plan->recv_first[r][q] * H;  // rows of q's pairs for r
            const size_t n_mine = (size_t)plan->send_rows[r][q] * H, n_theirs = (size_t)plan->recv_rows[r][q] * H;
            uint16_t *out = dir == EP_DISPATCH ? mine : theirs, *in = dir == EP_DISPATCH ? theirs : mine;
            const size_t n_out = dir == EP_DISPATCH ? n_mine : n_theirs, n_in = dir == EP_DISPATCH ? n_theirs : n_mine;
            if (n_out) ok = ok && ep_nccl_ok(ncclSend(out, n_out, ncclBfloat16, q, w->comm[r], w->stream[r]), "ncclSend");
            if (n_in) ok = ok && ep_nccl_ok(ncclRecv(in, n_in, ncclBfloat16, q, w->comm[r], w->stream[r]), "ncclRecv");
        }
    }
    return ep_nccl_ok(ncclGroupEnd(), "ncclGroupEnd (rows)") && ok;
}

#else  // built without NCCL: the exchanges say so and move nothing (the check never gets here)

static inline bool ep_exchange_counts(const ep_world *, int, const ep_rank_work *) {
    fprintf(stderr, "ep_dispatch_combine: built without NCCL\n");
    return false;
}
static inline bool ep_exchange_rows(const ep_world *, int, const ep_plan *, const ep_rank_work *, ep_direction) {
    fprintf(stderr, "ep_dispatch_combine: built without NCCL\n");
    return false;
}

#endif

// With peer access (w->peer_access), where kernels store into other ranks' memory: every rank's
// stream waits until every other rank's stream has passed this point, through event k of each rank
// (all recorded first, then all waited for). After it, what any rank stored anywhere is there.
static inline void ep_meet(const ep_world *w, int k) {
    for (int r = 0; r < w->ranks; r++) {
        ep_use_rank(w, r);
        cudaEventRecord(w->event[r][k], w->stream[r]);
    }
    for (int r = 0; r < w->ranks; r++) {
        ep_use_rank(w, r);
        for (int q = 0; q < w->ranks; q++)
            if (q != r) cudaStreamWaitEvent(w->stream[r], w->event[q][k], 0);
    }
}

// Every rank's counts and received counts copied to the host (after the count exchange on its
// stream, into the world's pinned room) and an event recorded after them: the host waits for that
// event in ep_make_plan, not for the whole stream, so work queued in between (the packing) runs
// on the GPUs while the host waits and plans.
static inline void ep_read_counts(const ep_world *w, int E, const ep_rank_work *ws) {
    for (int r = 0; r < w->ranks; r++) {
        ep_use_rank(w, r);
        cudaMemcpyAsync(w->counts_host[r], ws[r].expert_count, sizeof(int) * E, cudaMemcpyDeviceToHost, w->stream[r]);
        cudaMemcpyAsync(w->counts_host[r] + E, ws[r].recv_count, sizeof(int) * w->ranks * ws[r].n_local,
                        cudaMemcpyDeviceToHost, w->stream[r]);
        cudaEventRecord(w->counts_read[r], w->stream[r]);
    }
}

// The one wait: every rank's counts there (ep_read_counts), and the plan made from them. In one
// process all ranks' tables are here, so they are checked against each other before any row
// moves: a row exchange whose two sides disagree on a size would hang, one whose counts are wrong
// would overrun a buffer. When they do not add up, one line says why, nothing moves, and y stays
// unwritten.
static inline bool ep_make_plan(const ep_world *w, int E, int top_k, const int *T, const ep_rank_work *ws, ep_plan *plan) {
    const int R = w->ranks;
    const int *count[EP_MAX_RANKS], *received[EP_MAX_RANKS];
    for (int r = 0; r < R; r++) {
        ep_use_rank(w, r);
        const cudaError_t e = cudaEventSynchronize(w->counts_read[r]);
        if (e != cudaSuccess) {
            fprintf(stderr, "ep_dispatch_combine: rank %d, reading the counts back: %s\n", r, cudaGetErrorString(e));
            return false;
        }
        count[r] = w->counts_host[r];
        received[r] = w->counts_host[r] + E;
    }
    for (int r = 0; r < R; r++) {
        long total = 0, at = 0;
        for (int e = 0; e < E; e++) {
            if (count[r][e] < 0 || count[r][e] > T[r] * top_k) {
                fprintf(stderr, "ep_dispatch_combine: rank %d counts %d pairs for expert %d (it has %d tokens x top_k %d)\n",
                        r, count[r][e], e, T[r], top_k);
                return false;
            }
            total += count[r][e];
        }
        if (total != (long)T[r] * top_k) {
            fprintf(stderr, "ep_dispatch_combine: rank %d's expert counts add up to %ld, not T x top_k = %ld: no row "
                    "is sent\n", r, total, (long)T[r] * top_k);
            return false;
        }
        for (int d = 0; d < R; d++) {  // the rank's pairs in expert order: rank d's run starts at its first expert
            long n = 0;
            for (int e = ep_first_expert(d, E, R); e < ep_first_expert(d + 1, E, R); e++) n += count[r][e];
            plan->send_first[r][d] = at;
            plan->send_rows[r][d] = d == r ? 0 : n;
            at += n;
        }
    }
    for (int r = 0; r < R; r++) {
        long at = 0;
        for (int s = 0; s < R; s++) {
            long n = 0;
            for (int le = 0; le < ws[r].n_local; le++) n += s == r ? 0 : received[r][s * ws[r].n_local + le];
            if (n != plan->send_rows[s][r]) {
                fprintf(stderr, "ep_dispatch_combine: rank %d expects %ld rows from rank %d, which sends %ld\n", r, n, s,
                        plan->send_rows[s][r]);
                return false;
            }
            plan->recv_first[r][s] = at;
            plan->recv_rows[r][s] = n;
            at += n;
        }
        plan->recv_total[r] = at;
        if (at > ws[r].recv_capacity) {  // cannot happen with valid counts; a guard for the buffer
            fprintf(stderr, "ep_dispatch_combine: rank %d would receive %ld rows, room for %ld\n", r, at, ws[r].recv_capacity);
            return false;
        }
    }
    return true;
}

#endif
