// The engine's own kernels (kernels.h says what each computes). Small and plain: at the
// mini-model's sizes each is a few microseconds of launch, and the step is one CUDA graph.
#include "kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <math.h>

#define FULL 0xffffffffu

__device__ __forceinline__ float bf(uint16_t b) { return __uint_as_float((uint32_t)b << 16); }
__device__ __forceinline__ uint16_t to_bf(float x) {  // round to nearest even, as MODEL.md's BF16
    return __bfloat16_as_ushort(__float2bfloat16_rn(x));
}
__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(FULL, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(FULL, v, o));
    return v;
}
// A sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets it.
__device__ float block_sum(float v) {
    __shared__ float part[32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
    v = warp_sum(v);
    __syncthreads();  // part[] may still be read by a previous call
    if (lane == 0) part[warp] = v;
    __syncthreads();
    float t = lane < warps ? part[lane] : 0.0f;
    return warp_sum(t);
}
__device__ float block_max(float v) {
    __shared__ float part[32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) part[warp] = v;
    __syncthreads();
    float t = lane < warps ? part[lane] : 0.0f;
    return warp_max(t);
}
__device__ __forceinline__ float silu(float z) { return z / (1.0f + expf(-z)); }

// Threads of a block that owns a whole row of d values. At the mini-model's widths 256 (a row is a
// loop of a few loads a thread); at the scaled configuration's 4096 a block of 256 would wait on 16
// rounds of memory latency in turn, so 1024. A row's float sums depend on it, so the mini-model's
// numbers stay those of 256 threads.
static int row_threads(int d) { return d > 1024 ? 1024 : 256; }

// ---- embedding and norms --------------------------------------------------------------------

__global__ void embed_kernel(const uint16_t *embed, const int *tokens, const int *pos, float *x, int d) {
    const int t = blockIdx.x, tok = tokens[*pos + t];
    for (int i = threadIdx.x; i < d; i += blockDim.x) x[(size_t)t * d + i] = bf(embed[(size_t)tok * d + i]);
}
void k_embed(const uint16_t *embed, const int *tokens, const int *pos, int T, float *x, int d, cudaStream_t s) {
    embed_kernel<<<T, row_threads(d), 0, s>>>(embed, tokens, pos, x, d);
}

// MODEL.md: g * x / sqrt(mean(x^2) + eps), computed as the CPU engine does: g * (x * inv_rms).
// One block a row; `load(i)` reads the row's value i as a float. A thread owns the values
// threadIdx.x + k * blockDim.x. In a wide row (the scaled configurations': 1024 threads, up to
// ROW_REGS values each) they are read into registers all at once, so that their loads wait on
// memory together rather than one after another; the sums are the same, in the same order, as the
// plain loops', which the mini-model's narrow rows keep.
#define ROW_REGS 8
template <class Load>
__device__ float row_inv_rms(Load load, int d, float eps) {
    float ss = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x) ss += load(i) * load(i);
    return 1.0f / sqrtf(block_sum(ss) / (float)d + eps);
}
template <class Load>
__device__ void rmsnorm_row(Load load, const float *g, int d, float eps, uint16_t *out) {
    if (blockDim.x < 1024 || d > ROW_REGS * (int)blockDim.x) {  // narrow, or wider than the registers hold
        const float inv_rms = row_inv_rms(load, d, eps);
        for (int i = threadIdx.x; i < d; i += blockDim.x) out[i] = to_bf(g[i] * (load(i) * inv_rms));
        return;
    }
    float v[ROW_REGS], ss = 0.0f;
#pragma unroll
    for (int k = 0; k < ROW_REGS; k++) {
        const int i = threadIdx.x + k * blockDim.x;
        v[k] = i < d ? load(i) : 0.0f;
    }
#pragma unroll
    for (int k = 0; k < ROW_REGS; k++) ss += v[k] * v[k];  // past the row: + 0 * 0, which leaves ss as it is
    const float inv_rms = 1.0f / sqrtf(block_sum(ss) / (float)d + eps);
#pragma unroll
    for (int k = 0; k < ROW_REGS; k++) {
        const int i = threadIdx.x + k * blockDim.x;
        if (i < d) out[i] = to_bf(g[i] * (v[k] * inv_rms));
    }
}
__global__ void rmsnorm_kernel(const float *x, const float *g, int d, float eps, uint16_t *out) {
    const float *row = x + (size_t)blockIdx.x * d;
    rmsnorm_row([&](int i) { return row[i]; }, g, d, eps, out + (size_t)blockIdx.x * d);
}
void k_rmsnorm(const float *x, const float *g, int d, float eps, int T, uint16_t *out, cudaStream_t s) {
    rmsnorm_kernel<<<T, row_threads(d), 0, s>>>(x, g, d, eps, out);
}

// Block t: both halves of row t of mtp.proj's input.
__global__ void mtp_input_kernel(const float *h, const uint16_t *embed, const int *tokens, const int *pos, int tok_off,
                                 const float *hnorm, const float *enorm, int d, float eps, uint16_t *cat) {
    const int t = blockIdx.x, tok = tokens[*pos + tok_off + t];
    const float *hr = h + (size_t)t * d;
    const uint16_t *er = embed + (size_t)tok * d;
    uint16_t *out = cat + (size_t)t * 2 * d;
    rmsnorm_row([&](int i) { return hr[i]; }, hnorm, d, eps, out);
    rmsnorm_row([&](int i) { return bf(er[i]); }, enorm, d, eps, out + d);
}
void k_mtp_input(const float *h, const uint16_t *embed, const int *tokens, const int *pos, int tok_off, int T,
                 const float *hnorm, const float *enorm, int d, float eps, uint16_t *cat, cudaStream_t s) {
    mtp_input_kernel<<<T, row_threads(d), 0, s>>>(h, embed, tokens, pos, tok_off, hnorm, enorm, d, eps, cat);
}

__global__ void bf16_to_float_kernel(const uint16_t *y, int n, float *x) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) x[i] = bf(y[i]);
}
void k_bf16_to_float(const uint16_t *y, int n, float *x, cudaStream_t s) {
    bf16_to_float_kernel<<<(n + 255) / 256, 256, 0, s>>>(y, n, x);
}

// ---- attention glue ---------------------------------------------------------------------------

// Block (t, h, z): position p = *pos + pos_off + t. Head h's query (with_query), latent columns
// z * PREP_COLS ..; block (t, 0, 0) also writes the cache row and seq_len. Row t of proj holds
// [q (heads x (d_nope + d_rope)), kv_a (d_latent), k_rope (d_rope)]. A head's slice of wk_b is
// d_nope x d_latent.
#define PREP_COLS 128     // latent columns a block absorbs, one a thread
#define PREP_ROWS 64      // rows of wk_b staged in shared memory at a time
#define PREP_THREADS 256  // all of them load the tile; PREP_COLS of them sum
__global__ void __launch_bounds__(PREP_THREADS)
mla_prep_kernel(MlaShape sh, const uint16_t *proj, int with_query, const float *kv_norm, const uint16_t *wk_b,
                const float *cos_t, const float *sin_t, const int *pos_p, int pos_off, uint16_t *kv_cache,
                int *seq_len, uint16_t *q_mla) {
    __shared__ __align__(16) uint16_t tile[PREP_ROWS * PREP_COLS];
    const int t = blockIdx.x, h = blockIdx.y, pos = *pos_p + pos_off + t, dl = sh.d_latent, dr = sh.d_rope;
    const int half = dr / 2, row_w = dl + dr, head_q = sh.d_nope + dr, n_q = sh.n_heads * head_q;
    const float *c = cos_t + (size_t)pos * half, *sn = sin_t + (size_t)pos * half;
    const uint16_t *q = proj + (size_t)t * (n_q + dl + dr), *kv = q + n_q, *kr = kv + dl;
    if (h == 0 && blockIdx.z == 0) {
        uint16_t *row = kv_cache + (size_t)pos * row_w;  // blocks in order: row p at p * row_w
        if (threadIdx.x == 0) seq_len[t] = pos + 1;
        // The latent: rmsnorm of the BF16 kv_a, rounded.
        float ss = 0.0f;
        for (int j = threadIdx.x; j < dl; j += blockDim.x) ss += bf(kv[j]) * bf(kv[j]);
        const float inv_rms = 1.0f / sqrtf(block_sum(ss) / (float)dl + sh.eps);
        for (int j = threadIdx.x; j < dl; j += blockDim.x) row[j] = to_bf(kv_norm[j] * (bf(kv[j]) * inv_rms));
        // The shared RoPE key, rotated in float from the BF16 projection, rounded.
        for (int i = threadIdx.x; i < half; i += blockDim.x) {
            const float x0 = bf(kr[2 * i]), x1 = bf(kr[2 * i + 1]);
            row[dl + 2 * i] = to_bf(x0 * c[i] - x1 * sn[i]);
            row[dl + 2 * i + 1] = to_bf(x0 * sn[i] + x1 * c[i]);
        }
    }
    if (!with_query) return;
    // Head h's query: its RoPE part rotated, its latent part absorbed (q_lat[j] = sum_i
    // wk_b[h * d_nope + i][j] q_nope[i], i ascending as the CPU engine sums).
    const uint16_t *qh = q + (size_t)h * head_q;
    uint16_t *out = q_mla + ((size_t)t * sh.n_heads + h) * row_w;
    if (blockIdx.z == 0)
        for (int i = threadIdx.x; i < half; i += blockDim.x) {
            const float x0 = bf(qh[sh.d_nope + 2 * i]), x1 = bf(qh[sh.d_nope + 2 * i + 1]);
            out[dl + 2 * i] = to_bf(x0 * c[i] - x1 * sn[i]);
            out[dl + 2 * i + 1] = to_bf(x0 * sn[i] + x1 * c[i]);
        }
    // The block's columns j0 .. j0 + width - 1. A tile of wk_b's rows is loaded by all the threads at
    // once (the 4 MB of a large model's wk_b then stream), and each column summed from it in order.
    const int j0 = blockIdx.z * PREP_COLS, width = min(PREP_COLS, dl - j0), j = j0 + (int)threadIdx.x;
    const uint16_t *w = wk_b + (size_t)h * sh.d_nope * dl + j0;
    const bool wide = dl % 8 == 0;  // rows of the tile in 16-byte pieces
    float acc = 0.0f;
    for (int i0 = 0; i0 < sh.d_nope; i0 += PREP_ROWS) {
        const int rows = min(PREP_ROWS, sh.d_nope - i0);
        __syncthreads();  // the previous tile is summed
        if (wide) {
            const int pieces = width / 8;
#pragma unroll 4
            for (int k = threadIdx.x; k < rows * pieces; k += blockDim.x) {
                const int r = k / pieces, col = (k % pieces) * 8;
                *reinterpret_cast<uint4 *>(&tile[r * PREP_COLS + col]) =
                    __ldg(reinterpret_cast<const uint4 *>(w + (size_t)(i0 + r) * dl + col));
            }
        } else {
            for (int k = threadIdx.x; k < rows * width; k += blockDim.x)
                tile[(k / width) * PREP_COLS + k % width] = w[(size_t)(i0 + k / width) * dl + k % width];
        }
        __syncthreads();
        if (threadIdx.x < width)
            for (int r = 0; r < rows; r++) acc += bf(tile[r * PREP_COLS + threadIdx.x]) * bf(qh[i0 + r]);
    }
    if (threadIdx.x < width) out[j] = to_bf(acc);
}
void k_mla_prep(MlaShape sh, const uint16_t *proj, int with_query, const float *kv_norm, const uint16_t *wk_b,
                const float *cos_t, const float *sin_t, const int *pos, int pos_off, int T, uint16_t *kv_cache,
                int *seq_len, uint16_t *q_mla, cudaStream_t s) {
    const dim3 grid(T, with_query ? sh.n_heads : 1, with_query ? (sh.d_latent + PREP_COLS - 1) / PREP_COLS : 1);
    mla_prep_kernel<<<grid, PREP_THREADS, 0, s>>>(sh, proj, with_query, kv_norm, wk_b, cos_t, sin_t, pos, pos_off,
                                                  kv_cache, seq_len, q_mla);
}

// A warp per output: o[t][h * d_v + j] = BF16(wv_b[h * d_v + j] . o_lat[t][h]).
__global__ void value_up_kernel(const uint16_t *wv_b, const uint16_t *o_lat, int T, int n_heads, int d_v, int dl,
                                uint16_t *o) {
    const int r = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    const int per_token = n_heads * d_v;
    if (r >= T * per_token) return;
    const uint16_t *w = wv_b + (size_t)(r % per_token) * dl, *x = o_lat + (size_t)(r / d_v) * dl;
    float acc = 0.0f;
    for (int m = lane; m < dl; m += 32) acc += bf(w[m]) * bf(x[m]);
    acc = warp_sum(acc);
    if (lane == 0) o[r] = to_bf(acc);
}
void k_value_up(const uint16_t *wv_b, const uint16_t *o_lat, int T, int n_heads, int d_v, int d_latent, uint16_t *o,
                cudaStream_t s) {
    const int rows = T * n_heads * d_v;
    value_up_kernel<<<(rows + 7) / 8, 256, 0, s>>>(wv_b, o_lat, T, n_heads, d_v, d_latent, o);
}

// Block (t, e): the row x[t] + attn[t] (kept in shared memory), its norm, and router[e] . normed[t]
// in float; block (t, 0) writes normed[t]. Every block of a row computes the same norm (a few
// microseconds of the row's 24 KB from L2) so that the E dot products, the router's weights
// (d floats each), are read by E multiprocessors side by side instead of one. x is not written
// here: other blocks of the row are reading it (k_moe_combine adds attn).
__global__ void add_norm_router_kernel(const float *__restrict__ x, const uint16_t *__restrict__ attn,
                                       const float *__restrict__ gain, const float *__restrict__ router, int E, int d,
                                       float eps, uint16_t *__restrict__ normed, float *__restrict__ logits) {
    extern __shared__ float row[];  // [d]
    const int t = blockIdx.x, e = blockIdx.y;
    const float *xr = x + (size_t)t * d;
    const uint16_t *ar = attn + (size_t)t * d;
    uint16_t *nr = normed + (size_t)t * d;
    for (int i = threadIdx.x; i < d; i += blockDim.x) row[i] = xr[i] + bf(ar[i]);
    __syncthreads();  // the row is read whole by the norm below
    const float inv_rms = row_inv_rms([&](int i) { return row[i]; }, d, eps);
    const float *re = router + (size_t)e * d;
    float acc = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
        const uint16_t n = to_bf(gain[i] * (row[i] * inv_rms));  // rmsnorm_row's arithmetic
        if (e == 0) nr[i] = n;
        acc += re[i] * bf(n);
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) logits[(size_t)t * E + e] = acc;
}
void k_add_norm_router(const float *x, const uint16_t *attn, const float *gain, const float *router, int E, int d,
                       float eps, int T, uint16_t *normed, float *logits, cudaStream_t s) {
    add_norm_router_kernel<<<dim3(T, E), row_threads(d), (size_t)d * sizeof(float), s>>>(x, attn, gain, router, E, d,
                                                                                         eps, normed, logits);
}

// ---- the output head's GEMV, float logits ----------------------------------------------------

// A warp per (row r, token t): out[t][r] = W[r] . a[t].
template <class W>
__global__ void gemv_f32out_kernel(const W *__restrict__ Wm, const uint16_t *__restrict__ a, int rows, int cols,
                                   float *__restrict__ out) {
    const int r = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32, t = blockIdx.y;
    if (r >= rows) return;
    const W *w = Wm + (size_t)r * cols;
    const uint16_t *x = a + (size_t)t * cols;
    float acc = 0.0f;
#pragma unroll 16  // loads in flight together (a 7168-wide row is 224 a lane); the sum's order is kept
    for (int i = lane; i < cols; i += 32) acc += (float)w[i] * bf(x[i]);
    acc = warp_sum(acc);
    if (lane == 0) out[(size_t)t * rows + r] = acc;
}
struct Bf16W {  // a BF16 weight read as its float value
    uint16_t b;
    __device__ explicit operator float() const { return bf(b); }
};
void k_gemv_bf16w_f32out(const uint16_t *W, const uint16_t *a, int rows, int cols, int T, float *out, cudaStream_t s) {
    gemv_f32out_kernel<Bf16W><<<dim3((rows + 7) / 8, T), 256, 0, s>>>(reinterpret_cast<const Bf16W *>(W), a, rows,
                                                                       cols, out);
}

// ---- the routed experts' FP8 inputs ------------------------------------------------------------

// One 128-value block of a row, quantised by a warp: s = amax / 448 (1 when all are 0), codes
// e4m3(x / s), round to nearest even, saturating (MODEL.md; 03's 1 x 128 activation scales).
template <class Load>
__device__ void quantize_block(Load load, int n, uint8_t *codes, float *scale) {
    const int lane = threadIdx.x % 32;
    float amax = 0.0f;
    for (int i = lane; i < n; i += 32) amax = fmaxf(amax, fabsf(load(i)));
    amax = warp_max(amax);
    const float s = amax > 0.0f ? amax / 448.0f : 1.0f;
    for (int i = lane; i < n; i += 32)
        codes[i] = (uint8_t)__nv_cvt_float_to_fp8(load(i) / s, __NV_SATFINITE, __NV_E4M3);
    if (lane == 0) *scale = s;
}

// Block (p, g, z): a warp per 128-value block of the row, written to group g and to group G + g.
__global__ void gather_quantize_kernel(const uint16_t *a, const int *perm, const int *offset, const int *count,
                                       int top_k, int M_max, int d, uint8_t *A, float *sa, int *count2) {
    const int g = blockIdx.y, p = blockIdx.x, G = gridDim.y;
    if (p == 0 && blockIdx.z == 0 && threadIdx.x == 0) count2[g] = count2[G + g] = count[g];
    if (p >= count[g]) return;
    const int t = perm[offset[g] + p] / top_k, blocks = (d + 127) / 128;
    const uint16_t *row = a + (size_t)t * d;
    const size_t r = (size_t)g * M_max + p, r2 = (size_t)(G + g) * M_max + p;  // its row in both copies
    const int warps = blockDim.x / 32, first = blockIdx.z * warps;  // this block's 128-value blocks
    for (int kb = first + threadIdx.x / 32; kb < blocks && kb < first + warps; kb += warps) {
        const int k0 = kb * 128, n = min(128, d - k0);
        quantize_block([&](int i) { return bf(row[k0 + i]); }, n, A + r * d + k0, sa + r * blocks + kb);
        __syncwarp();  // the warp's codes and scale are written: copy them
        for (int i = threadIdx.x % 32; i < n; i += 32) A[r2 * d + k0 + i] = A[r * d + k0 + i];
        if (threadIdx.x % 32 == 0) sa[r2 * blocks + kb] = sa[r * blocks + kb];
    }
}
void k_gather_quantize(const uint16_t *a, const int *perm, const int *offset, const int *count, int top_k, int G,
                       int M_max, int d, uint8_t *A, float *sa, int *count2, cudaStream_t s) {
    // a warp per 128-value block, four a launch block: a row of d = 4096 is 8 blocks side by side
    gather_quantize_kernel<<<dim3(M_max, G, (d + 511) / 512), 128, 0, s>>>(a, perm, offset, count, top_k, M_max, d, A,
                                                                           sa, count2);
}

__global__ void swiglu_quantize_kernel(const uint16_t *D1, const uint16_t *D3, const int *count, int M_max, int dh,
                                       uint8_t *A2, float *sa2) {
    const int g = blockIdx.y, p = blockIdx.x;
    if (p >= count[g]) return;
    const size_t r = (size_t)g * M_max + p;
    const uint16_t *u = D1 + r * dh, *v = D3 + r * dh;
    const int blocks = (dh + 127) / 128, warps = blockDim.x / 32, first = blockIdx.z * warps;
    for (int kb = first + threadIdx.x / 32; kb < blocks && kb < first + warps; kb += warps) {
        const int k0 = kb * 128, n = min(128, dh - k0);
        quantize_block([&](int i) { return silu(bf(u[k0 + i])) * bf(v[k0 + i]); }, n, A2 + r * dh + k0,
                       sa2 + r * blocks + kb);
    }
}
void k_swiglu_quantize(const uint16_t *D1, const uint16_t *D3, const int *count, int G, int M_max, int d_hidden,
                       uint8_t *A2, float *sa2, cudaStream_t s) {
    swiglu_quantize_kernel<<<dim3(M_max, G, (d_hidden + 511) / 512), 128, 0, s>>>(D1, D3, count, M_max, d_hidden, A2,
                                                                                  sa2);
}

__global__ void swiglu_bf16_kernel(const uint16_t *u, const uint16_t *v, int n, uint16_t *h) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) h[i] = to_bf(silu(bf(u[i])) * bf(v[i]));
}
void k_swiglu_bf16(const uint16_t *u, const uint16_t *v, int n, uint16_t *h, cudaStream_t s) {
    swiglu_bf16_kernel<<<(n + 255) / 256, 256, 0, s>>>(u, v, n, h);
}

// out = shared, then + g * y for each chosen expert in ascending expert index (the CPU engine's
// order); x += out; then, with a next gain, normed = BF16(rmsnorm(x, next_gain)) for what follows
// (the next block's attention, or the output head). Block (t, z) updates the values z * blockDim.x ..
// of row t when the row is spread over several blocks (gridDim.y > 1: next_gain is then NULL and the
// norm is a kernel of its own), or all of them (gridDim.y == 1) and then normalises the row.
__global__ void moe_combine_kernel(float *__restrict__ x, const uint16_t *__restrict__ attn,
                                   const uint16_t *__restrict__ shared,
                                   const uint16_t *__restrict__ D2, const int *__restrict__ topk_idx,
                                   const float *__restrict__ topk_weight, const int *__restrict__ inv_perm,
                                   const int *__restrict__ offset, int top_k, int M_max, int d,
                                   const float *__restrict__ next_gain, float eps, uint16_t *__restrict__ normed) {
    extern __shared__ float row[];  // the updated row, for the norm
    const int t = blockIdx.x;
    x += (size_t)t * d, attn += (size_t)t * d, shared += (size_t)t * d;
    const int first = blockIdx.y * blockDim.x + threadIdx.x, step = gridDim.y * blockDim.x;
    topk_idx += t * top_k, topk_weight += t * top_k, inv_perm += t * top_k;  // the token's pairs t * top_k + j
    int order[8];
    for (int j = 0; j < top_k; j++) order[j] = j;
    for (int a = 1; a < top_k; a++)  // insertion sort by expert index (top_k <= 8)
        for (int b = a; b > 0 && topk_idx[order[b]] < topk_idx[order[b - 1]]; b--) {
            const int tmp = order[b];
            order[b] = order[b - 1];
            order[b - 1] = tmp;
        }
    const uint16_t *y[8];  // the chosen experts' output rows, in that order, and their weights
    float w[8];
#pragma unroll
    for (int r = 0; r < 8; r++) {  // unrolled to 8 so that y and w stay in registers
        const int j = order[r < top_k ? r : 0], e = topk_idx[j];
        y[r] = D2 + ((size_t)e * M_max + inv_perm[j] - offset[e]) * d;
        w[r] = topk_weight[j];
    }
    for (int i = first; i < d; i += step) {
        float out = bf(shared[i]);
#pragma unroll
        for (int r = 0; r < 8; r++)
            if (r < top_k) out += w[r] * bf(y[r][i]);
        const float v = (x[i] + bf(attn[i])) + out;  // the attention's sum first, as the CPU engine adds
        x[i] = v;
        if (next_gain) row[i] = v;
    }
    if (!next_gain) return;
    __syncthreads();  // the whole row is updated before its norm
    rmsnorm_row([&](int i) { return row[i]; }, next_gain, d, eps, normed + (size_t)t * d);
}
void k_moe_combine(float *x, const uint16_t *attn, const uint16_t *shared, const uint16_t *D2, const int *topk_idx, const float *topk_weight,
                   const int *inv_perm, const int *offset, int top_k, int M_max, int d, int T, const float *next_gain,
                   float eps, uint16_t *normed, cudaStream_t s) {
    if (d <= 1024) {  // the mini-model's rows: one launch, the combine and the norm in one block a row
        moe_combine_kernel<<<T, row_threads(d), (size_t)d * sizeof(float), s>>>(
            x, attn, shared, D2, topk_idx, topk_weight, inv_perm, offset, top_k, M_max, d, next_gain, eps, normed);
        return;
    }
    // Wide rows: one block a row would wait on its 11 loads a value, d / 1024 times in turn. The
    // values are independent, so blocks of 256 share the row, then the norm has a launch of its own
    // (the same sums, from x instead of shared memory).
    moe_combine_kernel<<<dim3(T, (d + 255) / 256), 256, 0, s>>>(x, attn, shared, D2, topk_idx, topk_weight, inv_perm,
                                                                 offset, top_k, M_max, d, NULL, eps, normed);
    if (next_gain) k_rmsnorm(x, next_gain, d, eps, T, normed, s);
}

// ---- expert parallelism ------------------------------------------------------------------------

__global__ void ep_local_counts_kernel(const int *count, int E, int first, int end, int *local) {
    for (int e = threadIdx.x; e < E; e += blockDim.x) local[e] = e >= first && e < end ? count[e] : 0;
}
void k_ep_local_counts(const int *count, int E, int first, int end, int *local, cudaStream_t s) {
    ep_local_counts_kernel<<<1, 256, 0, s>>>(count, E, first, end, local);
}
// A block per (row p, expert e): -0 in the rows an expert of another rank fills. (-0 is the one
// zero that leaves every value as it is when added, +0 and -0 included, whatever the order.)
__global__ void ep_zero_remote_kernel(uint16_t *D2, const int *count, int first, int end, int M_max, int d) {
    const int p = blockIdx.x, e = blockIdx.y;
    if ((e >= first && e < end) || p >= count[e]) return;
    uint16_t *row = D2 + ((size_t)e * M_max + p) * d;
    for (int i = threadIdx.x; i < d; i += blockDim.x) row[i] = 0x8000;
}
void k_ep_zero_remote(uint16_t *D2, const int *count, int E, int first, int end, int M_max, int d, cudaStream_t s) {
    ep_zero_remote_kernel<<<dim3(M_max, E), 256, 0, s>>>(D2, count, first, end, M_max, d);
}

// ---- argmax and the ends of steps -------------------------------------------------------------

// The first maximum of v[0 .. n-1] over the block (the larger value, the lower index on a tie);
// thread 0 gets it.
__device__ int block_argmax(const float *v, int n) {
    __shared__ float best_v[32];
    __shared__ int best_i[32];
    float bv = -INFINITY;
    int bi = n;
    for (int i = threadIdx.x; i < n; i += blockDim.x)
        if (v[i] > bv) bv = v[i], bi = i;  // i ascending: this thread's first maximum
    for (int o = 16; o > 0; o /= 2) {
        const float ov = __shfl_xor_sync(FULL, bv, o);
        const int oi = __shfl_xor_sync(FULL, bi, o);
        if (ov > bv || (ov == bv && oi < bi)) bv = ov, bi = oi;
    }
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    __syncthreads();  // best_* may still be read by a previous call
    if (lane == 0) best_v[warp] = bv, best_i[warp] = bi;
    __syncthreads();
    if (threadIdx.x == 0)
        for (int w = 1; w < (int)blockDim.x / 32; w++)
            if (best_v[w] > bv || (best_v[w] == bv && best_i[w] < bi)) bv = best_v[w], bi = best_i[w];
    return bi;
}

__global__ void argmax_rows_kernel(const float *logits, int V, int *best) {
    const int i = block_argmax(logits + (size_t)blockIdx.x * V, V);
    if (threadIdx.x == 0) best[blockIdx.x] = i;
}
void k_argmax_rows(const float *logits, int V, int T, int *best, cudaStream_t s) {
    argmax_rows_kernel<<<T, 256, 0, s>>>(logits, V, best);
}

__global__ void step_end_kernel(const float *__restrict__ logits, int vocab, const float *__restrict__ x, int d,
                                const int *prompt_len, int *tokens, float *__restrict__ logits_all,
                                float *__restrict__ hidden_all, int *pos_p) {
    const int pos = *pos_p;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) logits_all[(size_t)pos * vocab + i] = logits[i];
#pragma unroll 4
    for (int i = threadIdx.x; i < d; i += blockDim.x) hidden_all[(size_t)pos * d + i] = x[i];
    const int best = block_argmax(logits, vocab);
    if (threadIdx.x == 0) {
        if (pos + 1 >= *prompt_len) tokens[pos + 1] = best;
        *pos_p = pos + 1;
    }
}
void k_step_end(const float *logits, int vocab, const float *x, int d, const int *prompt_len, int *tokens,
                float *logits_all, float *hidden_all, int *pos, cudaStream_t s) {
    step_end_kernel<<<1, row_threads(d), 0, s>>>(logits, vocab, x, d, prompt_len, tokens, logits_all, hidden_all, pos);
}

__global__ void draft_pick_kernel(const float *logits, int vocab, int *tokens, const int *pos, int j, int *draft) {
    const int best = block_argmax(logits, vocab);
    if (threadIdx.x == 0) tokens[*pos + j] = best, draft[j - 1] = best;
}
void k_draft_pick(const float *logits, int vocab, int *tokens, const int *pos, int j, int *draft, cudaStream_t s) {
    draft_pick_kernel<<<1, 256, 0, s>>>(logits, vocab, tokens, pos, j, draft);
}

__global__ void accept_commit_kernel(const int *accepted, const int *out_tokens, const float *hidden, int d,
                                     int *tokens, const int *pos, float *h_last, int *accept_hist) {
    const int a = accepted[0], n = *pos;
    for (int i = threadIdx.x; i <= a; i += blockDim.x) tokens[n + 1 + i] = out_tokens[i];
    for (int i = threadIdx.x; i < d; i += blockDim.x) h_last[i] = hidden[(size_t)a * d + i];
    if (threadIdx.x == 0) accept_hist[a] += 1;
}
void k_accept_commit(const int *accepted, const int *out_tokens, const float *hidden, int d, int *tokens, const int *pos,
                     float *h_last, int *accept_hist, cudaStream_t s) {
    accept_commit_kernel<<<1, 256, 0, s>>>(accepted, out_tokens, hidden, d, tokens, pos, h_last, accept_hist);
}

__global__ void advance_kernel(const int *accepted, int *pos) { *pos += accepted[0] + 1; }
void k_advance(const int *accepted, int *pos, cudaStream_t s) { advance_kernel<<<1, 1, 0, s>>>(accepted, pos); }

// ---- random weights for the scaled configuration -------------------------------------------------

// A uniform number in [-1, 1) from (seed, index): splitmix64, so that any element can be drawn alone.
__device__ __forceinline__ float hash_uniform(uint64_t seed, uint64_t i) {
    uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(z >> 40) * 0x1p-23f - 1.0f;
}
__global__ void fill_f32_kernel(float *p, size_t n, uint64_t seed, float center, float amplitude) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = center + amplitude * hash_uniform(seed, i);
}
__global__ void fill_bf16_kernel(uint16_t *p, size_t n, uint64_t seed, float amplitude) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = to_bf(amplitude * hash_uniform(seed, i));
}
// e4m3 codes of magnitude 0.25 to 3.75 (exponent fields 5 to 8), either sign: no NaN, no overflow.
__global__ void fill_fp8_kernel(uint8_t *p, size_t n, uint64_t seed) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const uint32_t r = (uint32_t)((hash_uniform(seed, i) + 1.0f) * 0x1p23f);
        p[i] = (uint8_t)((r & 0x80) | ((5 + (r >> 8) % 4) << 3) | (r & 7));
    }
}
void k_fill_f32(float *p, size_t n, uint64_t seed, float center, float amplitude, cudaStream_t s) {
    fill_f32_kernel<<<1024, 256, 0, s>>>(p, n, seed, center, amplitude);
}
void k_fill_bf16(uint16_t *p, size_t n, uint64_t seed, float amplitude, cudaStream_t s) {
    fill_bf16_kernel<<<1024, 256, 0, s>>>(p, n, seed, amplitude);
}
void k_fill_fp8(uint8_t *p, size_t n, uint64_t seed, cudaStream_t s) { fill_fp8_kernel<<<1024, 256, 0, s>>>(p, n, seed); }
