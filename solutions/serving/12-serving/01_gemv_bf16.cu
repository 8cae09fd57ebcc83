// Session 12, exercise 1 (solution): the decode GEMV, Y = X W^T in BF16 with FP32 sums.
//
// The time is the time to read W once; everything here serves to keep enough bytes in flight
// (bandwidth x latency: 4.8 TB/s x ~1 us, some 36 KB per SM) from the first cycle to the last,
// and to spend few instructions per byte once M grows.
//
//   teams      R consecutive rows of W belong to a team of ksplit warps (T = 32 ksplit threads).
//              Thread t of the team reads the 16-byte chunks t, t + T, t + 2T, ... of each of
//              its R rows: the team reads its rows' chunks side by side, coalesced, and each
//              chunk of x it loads serves R rows.
//   split-K    ksplit > 1 when N / R teams of one warp are too few to fill the GPU (a short, wide
//              W such as 4096 x 14336): the team's warps share K, and their sums meet in shared
//              memory at the end. The team never leaves its block, so no atomics and no scratch.
//   in flight  each thread issues U chunks of each of its R rows (U x R 16-byte loads) before it
//              uses the first; the loads past the end of the row are predicated off, not
//              serialised.
//   batch      a pass handles up to 8 batch rows (MT of them, rounded up to 1, 2, 4 or 8): each
//              weight chunk is loaded once and used MT times. Larger batches run in passes.
//   x          read through the L1 (__ldg): the weights bypass it (load_weights), so the
//              activations, which every team reads, stay there.
//   sums       MT x R partial sums per thread, added across the warp by a reduce-scatter (each
//              shuffle step halves the values a lane holds: V - 1 + 5 - log2 V shuffles for V
//              values instead of 5 V), then across the team's warps in shared memory.
// K % 8 != 0 (rows off 16-byte boundaries) takes a plain element-by-element kernel: correct, not
// fast; every bench shape has K % 8 == 0.
#include <cuda_bf16.h>

#include "exercises.h"
#include "gemv_given.cuh"

#define THREADS 256
#define WARPS (THREADS / 32)
#define MAX_BATCH 8

static __host__ __device__ constexpr int log2_of(int v) { return v <= 1 ? 0 : 1 + log2_of(v / 2); }
static __host__ __device__ constexpr int pow2_at_least(int v) { return v <= 1 ? 1 : 2 * pow2_at_least((v + 1) / 2); }

// Sum V values (a power of two, at most 32) over the warp. Step s swaps half of what a lane holds
// with the lane 16 >> s away, keeping the half that its bit (16 >> s) selects: after log2 V steps a
// lane holds one value, index lane >> (5 - log2 V), summed over the lanes that differ in the top
// bits; the plain butterfly over the low bits finishes it. Every lane ends with its index's total.
template <int V>
static __device__ __forceinline__ float warp_reduce_scatter(float (&v)[V], int lane) {
    constexpr int S = log2_of(V);
    static_assert((1 << S) == V && V <= 32, "V: a power of two, at most 32");
#pragma unroll
    for (int s = 0; s < S; s++) {
        const int half = V >> (s + 1), offset = 16 >> s;
        const bool upper = lane & offset;
#pragma unroll
        for (int i = 0; i < V / 2; i++) {  // a constant bound, so that both loops unroll
            if (i >= half) break;
            const float send = upper ? v[i] : v[i + half];
            const float keep = upper ? v[i + half] : v[i];
            v[i] = keep + __shfl_xor_sync(FULL_MASK, send, offset);
        }
    }
#pragma unroll
    for (int offset = 16 >> S; offset > 0; offset /= 2) v[0] += __shfl_xor_sync(FULL_MASK, v[0], offset);
    return v[0];
}

// One pass: rows [0, Mp) of X (Mp <= MT) against all of W. K8 = K / 8 chunks a row. MINB, the
// blocks an SM must hold, is the register budget (65536 / (256 MINB) a thread): without one, the
// compiler keeps registers few for occupancy and issues each load just before its use, two or so
// in flight, instead of all U x R of them.
template <int MT, int R, int U, int MINB>
__global__ void __launch_bounds__(THREADS, MINB)
gemv_teams(const uint4 *__restrict__ W, const uint4 *__restrict__ X, __nv_bfloat16 *__restrict__ Y, int Mp, int N,
           int K8, int ksplit) {
    constexpr int V = pow2_at_least(MT * R);  // partial sums a thread keeps: [m * R + r], padded
    constexpr int S = log2_of(V);
    __shared__ float part[WARPS][32];

    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int team = warp / ksplit, ks = warp % ksplit;
    const long n0 = ((long)blockIdx.x * (WARPS / ksplit) + team) * R;  // the team's first row
    const int T = 32 * ksplit, t = ks * 32 + lane;                     // team size, place in it

    // Rows past N read row N - 1 again (and are never written); batch rows past Mp read row Mp - 1.
    const uint4 *w[R];
#pragma unroll
    for (int r = 0; r < R; r++) w[r] = W + (n0 + r < N ? n0 + r : N - 1) * K8;
    const uint4 *x[MT];
#pragma unroll
    for (int m = 0; m < MT; m++) x[m] = X + (long)(m < Mp ? m : Mp - 1) * K8;

    float acc[V];
#pragma unroll
    for (int i = 0; i < V; i++) acc[i] = 0.0f;

    if (n0 < N) {  // a team past the end skips the work but still meets the barrier below
        for (int c0 = t; c0 < K8; c0 += U * T) {
            // All the loads first, none behind a branch: U x R weight chunks, U x MT chunks of x.
            // A chunk past the row's end is read at the row's last chunk instead (always a valid
            // address, so the load needs no branch) and then replaced by zeros, which add nothing.
            uint4 wv[U][R], xv[U][MT];
#pragma unroll
            for (int u = 0; u < U; u++) {
                const int c = min(c0 + u * T, K8 - 1);
#pragma unroll
                for (int r = 0; r < R; r++) wv[u][r] = load_weights(w[r] + c);
#pragma unroll
                for (int m = 0; m < MT; m++) xv[u][m] = __ldg(x[m] + c);
            }
#pragma unroll
            for (int u = 0; u < U; u++) {
                const bool past_end = c0 + u * T >= K8;
                float wf[R][8];
#pragma unroll
                for (int r = 0; r < R; r++) {
                    if (past_end) wv[u][r] = make_uint4(0, 0, 0, 0);
                    bf16x8_to_float(wv[u][r], wf[r]);
                }
#pragma unroll
                for (int m = 0; m < MT; m++) {
                    float xf[8];
                    bf16x8_to_float(xv[u][m], xf);
#pragma unroll
                    for (int r = 0; r < R; r++)
#pragma unroll
                        for (int e = 0; e < 8; e++) acc[m * R + r] = fmaf(xf[e], wf[r][e], acc[m * R + r]);
                }
            }
        }
    }

    // Lane l now holds value l >> (5 - S) summed over the warp; the team's warps add theirs.
    part[warp][lane] = warp_reduce_scatter<V>(acc, lane);
    __syncthreads();
    if (ks != 0 || n0 >= N || lane >= MT * R) return;
    float sum = 0.0f;
    for (int j = 0; j < ksplit; j++) sum += part[warp + j][lane << (5 - S)];
    const int m = lane / R, r = lane % R;
    if (m < Mp && n0 + r < N) Y[(long)m * N + n0 + r] = __float2bfloat16(sum);
}

// One warp per row, element by element: any K, any alignment. Rows of X are walked once per m.
__global__ void __launch_bounds__(THREADS)
gemv_scalar(const __nv_bfloat16 *W, const __nv_bfloat16 *X, __nv_bfloat16 *Y, int M, int N, int K) {
    const int lane = threadIdx.x % 32;
    const long n = (long)blockIdx.x * WARPS + threadIdx.x / 32;
    if (n >= N) return;
    const __nv_bfloat16 *w_row = W + n * K;
    for (int m = 0; m < M; m++) {
        float acc = 0.0f;
        for (int k = lane; k < K; k += 32)
            acc = fmaf(__bfloat162float(X[(long)m * K + k]), __bfloat162float(w_row[k]), acc);
        acc = warp_sum(acc);
        if (lane == 0) Y[(long)m * N + n] = __float2bfloat16(acc);
    }
}

// Warps per SM worth starting before a team is split along K (the SM holds 64).
#define TARGET_WARPS_PER_SM 48

// Rows (teams of one warp) that fill every SM with TARGET_WARPS_PER_SM warps without splitting K.
static long rows_for_every_warp() {
    int device = 0, sms = 1;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    return (long)sms * TARGET_WARPS_PER_SM;
}

template <int MT, int R, int U, int MINB>
static void launch_pass(const uint4 *W, const uint4 *X, __nv_bfloat16 *Y, int Mp, int N, int K8, cudaStream_t stream,
                        int target_warps_per_sm = TARGET_WARPS_PER_SM) {
    int device = 0, sms = 1;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    const long teams = (N + R - 1) / R;
    // Split K while the warps are too few, as long as each thread keeps at least U chunks a row.
    int ksplit = 1;
    while (ksplit < WARPS && teams * ksplit < (long)sms * target_warps_per_sm && K8 >= 2L * ksplit * 32 * U)
        ksplit *= 2;
    const long teams_per_block = WARPS / ksplit;
    const unsigned blocks = (unsigned)((teams + teams_per_block - 1) / teams_per_block);
    gemv_teams<MT, R, U, MINB><<<blocks, THREADS, 0, stream>>>(W, X, Y, Mp, N, K8, ksplit);
}

void gemv_bf16(const uint16_t *W, const uint16_t *X, uint16_t *Y, int M, int N, int K, cudaStream_t stream) {
    if (M <= 0 || N <= 0 || K <= 0) return;
    const __nv_bfloat16 *Wb = reinterpret_cast<const __nv_bfloat16 *>(W);
    const __nv_bfloat16 *Xb = reinterpret_cast<const __nv_bfloat16 *>(X);
    __nv_bfloat16 *Yb = reinterpret_cast<__nv_bfloat16 *>(Y);
    if (K % 8 != 0 || ((uintptr_t)W | (uintptr_t)X) % 16 != 0) {
        gemv_scalar<<<(unsigned)((N + WARPS - 1) / WARPS), THREADS, 0, stream>>>(Wb, Xb, Yb, M, N, K);
        return;
    }
    const int K8 = K / 8;
    const uint4 *W4 = reinterpret_cast<const uint4 *>(W);
    for (int m0 = 0; m0 < M; m0 += MAX_BATCH) {
        const int Mp = M - m0 < MAX_BATCH ? M - m0 : MAX_BATCH;
        const uint4 *X4 = reinterpret_cast<const uint4 *>(X) + (long)m0 * K8;
        __nv_bfloat16 *Yp = Yb + (long)m0 * N;
        // (MT, R, U): 4 to 16 weight chunks in flight a thread, and 1 to 32 sums.
        // Batch 1 (tuned on an H200, tests/gpu/session12/s12-gemv-tune.cu): with rows enough for
        // every warp, 16 chunks in flight a thread and fewer warps (31.0 us at 14336 x 4096 against
        // 32.5 for 8 chunks); when K is split, 4 chunks and more warps (30.7 us at 4096 x 14336).
        if (Mp == 1 && N >= rows_for_every_warp()) launch_pass<1, 1, 16, 2>(W4, X4, Yp, Mp, N, K8, stream);
        else if (Mp == 1) launch_pass<1, 1, 4, 4>(W4, X4, Yp, Mp, N, K8, stream);
        else if (Mp == 2) launch_pass<2, 2, 4, 3>(W4, X4, Yp, Mp, N, K8, stream);
        else if (Mp <= 4) launch_pass<4, 4, 2, 2>(W4, X4, Yp, Mp, N, K8, stream);
        else launch_pass<8, 4, 2, 2>(W4, X4, Yp, Mp, N, K8, stream);
    }
}
