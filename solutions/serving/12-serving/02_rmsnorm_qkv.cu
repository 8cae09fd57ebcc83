// Session 12, exercise 2 (solution): RMSNorm fused into the QKV projection, in one pass over W.
//
// The norm's scale is one number per batch row, so it can wait until the end of each dot product:
//     y[m][n] = inv_rms[m] * sum_k (x[m][k] gamma[k]) w[n][k],  inv_rms[m] = 1 / sqrt(ss[m] / K + eps),
// and ss[m] = sum_k x[m][k]^2 can be summed along the way, from the very chunks of x the product
// loads anyway. No staging, no barrier before the first weight load, no second pass over x:
// the kernel is exercise 1's (teams of warps over R rows, U x R weight loads in flight, split-K
// inside a block, batch passes of up to 8 rows) with a chunk of gamma loaded beside each chunk of
// x, MT more sums a thread (the squares, added over the whole row since a team covers all of K),
// and the scale applied as the outputs are written. Every team sums the squares of the same rows
// again: a few FMAs a chunk, against the weights' HBM time.
//
// K % 8 != 0 takes a plain element-by-element kernel: correct, not fast.
#include <cuda_bf16.h>

#include "exercises.h"
#include "gemv_given.cuh"

#define THREADS 256
#define WARPS (THREADS / 32)
#define MAX_BATCH 8

static __host__ __device__ constexpr int log2_of(int v) { return v <= 1 ? 0 : 1 + log2_of(v / 2); }
static __host__ __device__ constexpr int pow2_at_least(int v) { return v <= 1 ? 1 : 2 * pow2_at_least((v + 1) / 2); }

// Sum V values (a power of two, at most 32) over the warp, as in exercise 1: afterwards lane l holds
// the total of value l >> (5 - log2 V).
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

// One pass: rows [0, Mp) of X (Mp <= MT) against all of W. K8 = K / 8 chunks a row.
template <int MT, int R, int U, int MINB>
__global__ void __launch_bounds__(THREADS, MINB)
rmsnorm_qkv_teams(const uint4 *__restrict__ W, const uint4 *__restrict__ X, const uint4 *__restrict__ gamma, float eps,
                  __nv_bfloat16 *__restrict__ Y, int Mp, int N, int K8, int ksplit) {
    constexpr int P = MT * R;                      // products [m * R + r]; squares [P + m]
    constexpr int V = pow2_at_least(P + MT);
    constexpr int S = log2_of(V);
    __shared__ float part[WARPS][32];

    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int team = warp / ksplit, ks = warp % ksplit;
    const long n0 = ((long)blockIdx.x * (WARPS / ksplit) + team) * R;
    const int T = 32 * ksplit, t = ks * 32 + lane;

    const uint4 *w[R];
#pragma unroll
    for (int r = 0; r < R; r++) w[r] = W + (n0 + r < N ? n0 + r : N - 1) * K8;
    const uint4 *x[MT];
#pragma unroll
    for (int m = 0; m < MT; m++) x[m] = X + (long)(m < Mp ? m : Mp - 1) * K8;

    float acc[V];
#pragma unroll
    for (int i = 0; i < V; i++) acc[i] = 0.0f;

    if (n0 < N) {
        for (int c0 = t; c0 < K8; c0 += U * T) {
            uint4 wv[U][R], xv[U][MT], gv[U];
#pragma unroll
            for (int u = 0; u < U; u++) {
                const int c = min(c0 + u * T, K8 - 1);  // past the end: a valid address, zeroed below
#pragma unroll
                for (int r = 0; r < R; r++) wv[u][r] = load_weights(w[r] + c);
#pragma unroll
                for (int m = 0; m < MT; m++) xv[u][m] = __ldg(x[m] + c);
                gv[u] = __ldg(gamma + c);
            }
#pragma unroll
            for (int u = 0; u < U; u++) {
                const bool past_end = c0 + u * T >= K8;  // x too: its squares would count twice
                float wf[R][8], gf[8];
#pragma unroll
                for (int r = 0; r < R; r++) bf16x8_to_float(wv[u][r], wf[r]);
                bf16x8_to_float(gv[u], gf);
#pragma unroll
                for (int m = 0; m < MT; m++) {
                    float xf[8];
                    if (past_end) xv[u][m] = make_uint4(0, 0, 0, 0);
                    bf16x8_to_float(xv[u][m], xf);
#pragma unroll
                    for (int e = 0; e < 8; e++) {
                        acc[P + m] = fmaf(xf[e], xf[e], acc[P + m]);
                        const float xg = xf[e] * gf[e];
#pragma unroll
                        for (int r = 0; r < R; r++) acc[m * R + r] = fmaf(xg, wf[r][e], acc[m * R + r]);
                    }
                }
            }
        }
    }

    part[warp][lane] = warp_reduce_scatter<V>(acc, lane);
    __syncthreads();
    if (ks != 0 || n0 >= N) return;  // whole warps leave: the shuffle below has all its lanes
    float sum = 0.0f;
    if (lane < V)
        for (int j = 0; j < ksplit; j++) sum += part[warp + j][lane << (5 - S)];
    const int m = lane / R, r = lane % R;
    const float ss = __shfl_sync(FULL_MASK, sum, P + (m < MT ? m : MT - 1));  // row m's squares, from lane P + m
    if (lane < P && m < Mp && n0 + r < N)
        Y[(long)m * N + n0 + r] = __float2bfloat16(sum * rsqrtf(ss / (float)(8 * K8) + eps));
}

// One warp per row, element by element: any K, any alignment.
__global__ void __launch_bounds__(THREADS)
rmsnorm_qkv_scalar(const __nv_bfloat16 *X, const __nv_bfloat16 *gamma, float eps, const __nv_bfloat16 *W,
                   __nv_bfloat16 *Y, int M, int N, int K) {
    const int lane = threadIdx.x % 32;
    const long n = (long)blockIdx.x * WARPS + threadIdx.x / 32;
    if (n >= N) return;
    const __nv_bfloat16 *w_row = W + n * K;
    for (int m = 0; m < M; m++) {
        float acc = 0.0f, ss = 0.0f;
        for (int k = lane; k < K; k += 32) {
            const float v = __bfloat162float(X[(long)m * K + k]);
            ss = fmaf(v, v, ss);
            acc = fmaf(v * __bfloat162float(gamma[k]), __bfloat162float(w_row[k]), acc);
        }
        acc = warp_sum(acc);
        ss = warp_sum(ss);
        if (lane == 0) Y[(long)m * N + n] = __float2bfloat16(acc * rsqrtf(ss / (float)K + eps));
    }
}

#define TARGET_WARPS_PER_SM 48

template <int MT, int R, int U, int MINB>
static void launch_pass(const uint4 *W, const uint4 *X, const uint4 *gamma, float eps, __nv_bfloat16 *Y, int Mp, int N,
                        int K8, cudaStream_t stream, int target_warps_per_sm = TARGET_WARPS_PER_SM) {
    int device = 0, sms = 1;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    const long teams = (N + R - 1) / R;
    int ksplit = 1;
    while (ksplit < WARPS && teams * ksplit < (long)sms * target_warps_per_sm && K8 >= 2L * ksplit * 32 * U)
        ksplit *= 2;
    const long teams_per_block = WARPS / ksplit;
    const unsigned blocks = (unsigned)((teams + teams_per_block - 1) / teams_per_block);
    rmsnorm_qkv_teams<MT, R, U, MINB><<<blocks, THREADS, 0, stream>>>(W, X, gamma, eps, Y, Mp, N, K8, ksplit);
}

void rmsnorm_qkv(const uint16_t *X, const uint16_t *gamma, float eps, const uint16_t *W, uint16_t *Y, int M, int N,
                 int K, cudaStream_t stream) {
    if (M <= 0 || N <= 0 || K <= 0) return;
    __nv_bfloat16 *Yb = reinterpret_cast<__nv_bfloat16 *>(Y);
    if (K % 8 != 0 || ((uintptr_t)W | (uintptr_t)X | (uintptr_t)gamma) % 16 != 0) {
        rmsnorm_qkv_scalar<<<(unsigned)((N + WARPS - 1) / WARPS), THREADS, 0, stream>>>(
            reinterpret_cast<const __nv_bfloat16 *>(X), reinterpret_cast<const __nv_bfloat16 *>(gamma), eps,
            reinterpret_cast<const __nv_bfloat16 *>(W), Yb, M, N, K);
        return;
    }
    const int K8 = K / 8;
    const uint4 *W4 = reinterpret_cast<const uint4 *>(W), *G4 = reinterpret_cast<const uint4 *>(gamma);
    for (int m0 = 0; m0 < M; m0 += MAX_BATCH) {
        const int Mp = M - m0 < MAX_BATCH ? M - m0 : MAX_BATCH;
        const uint4 *X4 = reinterpret_cast<const uint4 *>(X) + (long)m0 * K8;
        __nv_bfloat16 *Yp = Yb + (long)m0 * N;
        // (MT, R, U, MINB): R keeps MT (R + 1) sums within 32. Batch 1 takes three rows a warp
        // (tuned on an H200, tests/gpu/session12/s12-gemv-tune.cu: 16.3 us at 6144 x 4096 against
        // 21.2 for one row a warp): each chunk of the normalised row, read from shared memory and
        // scaled by gamma, then serves three rows of W.
        if (Mp == 1) launch_pass<1, 3, 4, 2>(W4, X4, G4, eps, Yp, Mp, N, K8, stream);
        else if (Mp == 2) launch_pass<2, 2, 4, 3>(W4, X4, G4, eps, Yp, Mp, N, K8, stream);
        else if (Mp <= 4) launch_pass<4, 4, 2, 2>(W4, X4, G4, eps, Yp, Mp, N, K8, stream);
        else launch_pass<8, 3, 2, 2>(W4, X4, G4, eps, Yp, Mp, N, K8, stream);
    }
}
