// Session 14, exercise 1 on the CPU: the solution's Hopper kernel for few rows (mla_swap_given.cuh:
// s_q h_q <= 32 at 512/64, wgmma's operands swapped, the page's 64 tokens as M and the rows as N)
// followed without a GPU. Its layouts are easy to get subtly wrong (a swizzle bit, a descriptor
// field, an accumulator map) and a CPU-only machine would never run it, so this holds them here:
//   1. a model of wgmma's shared-memory operands (descriptor -> byte of each element, the 128-byte
//      swizzle as address bits 4-6 ^ 7-9) and of TMA's swizzled boxes, held to the 64-row rung
//      (mla_wgmma_given.cuh, which passes on the GPU): its S and P V come out right in the model,
//      and the same with V's LBO and SBO swapped comes out wrong;
//   2. one tile: the kernel's descriptors, TMA boxes, P^T stores (sw_p_at) and accumulator map
//      (sw_acc_token, sw_acc_row) give S^T = K Q^T and O^T = V^T P^T, NQ 16 and 32;
//   3. the whole kernel: every block of the grid (132 and 5 blocks), the producer's and consumer's
//      cursors, each of the 128 consumer threads with its registers (shuffles and shared-memory
//      exchanges as the kernel does them), the zero fill, finish, the work layout, then the combine
//      kernel's maths; against the grader's float64 reference (fm_mla_reference) within its
//      tolerance on the grader's own inputs, at every check shape of <= 32 rows at 512/64 and three
//      more (s_q 2 at NQ 16, rows padded at NQ 16 and 32); and mutants that must fail (no causal
//      limit, a warp's own column max, V^T's LBO and SBO swapped, no zero fill past the end).
// The kernel's control flow is transcribed here; its index helpers, shapes and per-row maths
// (SwapShape, sw_*, sw128_at, the schedule, work layout and softmax functions) are the solution's own.
// Built and run by tests/finale-mla-test.sh. One PASS or FAIL line a check; exit status 1 on a failure.
#include "../../solutions/finale/14-deepseek/01_mla_decode.cu"

#include <math.h>

#include <algorithm>
#include <vector>

#include "mla_host_case.h"  // the grader case on the host, BF16, the verdict, check()

// ---- 1. the model of shared memory, TMA and wgmma's descriptors ------------------------------------
// Shared memory as bytes at offsets from a 1024-byte aligned base (the kernels align theirs so).
struct Smem {
    std::vector<uint8_t> b;
    explicit Smem(size_t n) : b(n, 0xFF) {}  // 0xFFFF: a BF16 NaN, so that what was never written shows
    float bf(uint32_t at) const { return bf16_f((uint16_t)(b[at] | b[at + 1] << 8)); }
    void put(uint32_t at, uint16_t v) { b[at] = v & 0xFF, b[at + 1] = v >> 8; }
};
// The 128-byte swizzle: 16-byte piece (bits 4-6) ^= 128-byte row within 1024 (bits 7-9), of the address.
static uint32_t swz(uint32_t L) { return L ^ (((L >> 7) & 7) << 4); }
// The descriptors as the device builds them (grader/wgmma_sw128.cuh's sw128_desc, K-major;
// mla_wgmma_given.cuh's sw128_mn_desc, MN-major), from a shared address: host copies of their bits
// (those are device functions), which the rung's check below holds to the layouts the GPU confirms.
static uint64_t h_desc_k(uint32_t addr) {
    return (uint64_t)((addr & 0x3FFFF) >> 4) | (uint64_t)1 << 16 | (uint64_t)(1024 >> 4) << 32 | (uint64_t)1 << 62;
}
static uint64_t h_desc_mn(uint32_t addr, uint32_t lbo, uint32_t sbo = 1024) {
    return (uint64_t)((addr & 0x3FFFF) >> 4) | (uint64_t)((lbo >> 4) & 0x3FFF) << 16 | (uint64_t)((sbo >> 4) & 0x3FFF) << 32 |
           (uint64_t)1 << 62;
}
// The byte of element (i, k) of an operand (k < 16: one k-step) as the hardware reads it, in the
// PTX ISA's canonical 128-byte-swizzled layouts: K-major, i the row (M or N): 8-row groups SBO apart,
// rows 128 bytes apart, k along the row; MN-major, i contiguous: 64-element groups of i LBO apart,
// 8-row groups of k SBO apart, rows of k 128 bytes apart. The swizzle on the whole address.
static uint32_t operand_at(uint64_t d, bool mn_major, int i, int k) {
    const uint32_t start = (uint32_t)(d & 0x3FFF) << 4, lbo = (uint32_t)((d >> 16) & 0x3FFF) << 4;
    const uint32_t sbo = (uint32_t)((d >> 32) & 0x3FFF) << 4;
    const uint32_t L = mn_major ? start + (i / 64) * lbo + (k / 8) * sbo + (k % 8) * 128 + (i % 64) * 2
                                : start + (i / 8) * sbo + (i % 8) * 128 + k * 2;
    return swz(L);
}
// One wgmma k16 step on a 64 x N accumulator D (row-major, m x n): D = (acc ? D : 0) + A B, A(m, k)
// and B(k, n) through their descriptors (ta / tb: MN-major). Products summed in double.
static void wgmma_model(const Smem &s, std::vector<float> &D, int N, uint64_t da, bool ta, uint64_t db, bool tb, bool acc) {
    for (int m = 0; m < 64; m++)
        for (int n = 0; n < N; n++) {
            double sum = 0;
            for (int k = 0; k < 16; k++) sum += (double)s.bf(operand_at(da, ta, m, k)) * s.bf(operand_at(db, tb, n, k));
            D[(size_t)m * N + n] = (float)((acc ? D[(size_t)m * N + n] : 0.0) + sum);
        }
}
// A TMA box of `rows` x 128 bytes from row row0, byte col0 of a row-major matrix (row_bytes a row,
// rows_total rows: past them, zeros), written 128-byte swizzled at dst (1024-byte aligned).
static void tma_box(Smem &s, uint32_t dst, const uint8_t *g, long rows_total, size_t row_bytes, long row0, int col0, int rows) {
    for (int r = 0; r < rows; r++)
        for (int x = 0; x < 128; x++)
            s.b[swz(dst + r * 128 + x)] = row0 + r < rows_total ? g[(size_t)(row0 + r) * row_bytes + col0 + x] : 0;
}

// The 64-row rung (mla_wgmma_given.cuh), one tile in the model: S = Q K^T (A = Q K-major, B = the
// tile K-major, N = 64) and P V (A = P K-major, B = V MN-major over N = 256 with LBO = lbo, SBO =
// sbo). Largest error of each. The rung passes the GPU check, so the model must get it right; with
// LBO and SBO swapped (a layout that fails on the GPU) it must get P V wrong.
static void rung_in_model(uint32_t lbo, uint32_t sbo, double *err_s, double *err_pv) {
    const int T = 64, CH = T * 128;
    const uint32_t sQ = 0, sP = WG_CHUNKS * WG_ROWS * 128, sT = sP + WG_ROWS * 128;
    Smem s(sT + WG_CHUNKS * CH);
    std::vector<uint16_t> q(64 * 576), kv(T * 576), p(64 * 64);
    for (auto &x : q) x = bf16_round((float)(2 * uniform01() - 1));
    for (auto &x : kv) x = bf16_round((float)(2 * uniform01() - 1));
    for (auto &x : p) x = bf16_round((float)uniform01());
    for (int c = 0; c < WG_CHUNKS; c++) {
        tma_box(s, sQ + c * WG_ROWS * 128, (const uint8_t *)q.data(), 64, 1152, 0, c * 128, 64);
        tma_box(s, sT + c * CH, (const uint8_t *)kv.data(), T, 1152, 0, c * 128, T);
    }
    for (int r = 0; r < 64; r++)  // the rung's P stores: pairs at sw128_at(row, n) + 4 t
        for (int k = 0; k < 64; k++) s.put(sP + sw128_at(r, k / 8) + 2 * (k % 8), p[r * 64 + k]);
    std::vector<float> S(64 * 64), O(64 * 256);
    for (int c = 0; c < WG_CHUNKS; c++)
        for (int k = 0; k < 4; k++)
            wgmma_model(s, S, 64, h_desc_k(sQ + c * WG_ROWS * 128) + 2 * k, false, h_desc_k(sT + c * CH) + 2 * k, false, (c | k) != 0);
    *err_s = 0;
    for (int m = 0; m < 64; m++)
        for (int n = 0; n < 64; n++) {
            double want = 0;
            for (int x = 0; x < 576; x++) want += (double)bf16_f(q[m * 576 + x]) * bf16_f(kv[n * 576 + x]);
            *err_s = fmax(*err_s, fabs(S[m * 64 + n] - want));
        }
    *err_pv = 0;
    for (int wg = 0; wg < 2; wg++) {
        for (int kk = 0; kk < T / 16; kk++)
            wgmma_model(s, O, 256, h_desc_k(sP) + 2 * kk, false, h_desc_mn(sT + 4 * wg * CH + kk * 16 * 128, lbo, sbo), true, kk != 0);
        for (int m = 0; m < 64; m++)
            for (int n = 0; n < 256; n++) {
                double want = 0;
                for (int t = 0; t < T; t++) want += (double)bf16_f(p[m * 64 + t]) * bf16_f(kv[t * 576 + 256 * wg + n]);
                *err_pv = fmax(*err_pv, fabs(O[m * 256 + n] - want));
            }
    }
}
static void test_model() {
    double es, ep, es3, ep3;
    rung_in_model(64 * 128, 1024, &es, &ep);    // the rung's descriptors: LBO the chunk stride, SBO 1024
    rung_in_model(1024, 64 * 128, &es3, &ep3);  // the mutant: LBO and SBO swapped
    char d[200];
    snprintf(d, sizeof d, "rung: |S err| %.3g |PV err| %.3g; swapped: |PV err| %.3g", es, ep, ep3);
    check(es < 1e-3 && ep < 1e-3, "model: the 64-row rung's descriptors and TMA boxes give S = Q K^T and P V", d);
    check(ep3 > 1e-1, "model: the rung with V's LBO and SBO swapped gives P V wrong (the model can fail)", d);
}

// ---- 2. the swapped kernel, one tile --------------------------------------------------------------
template <int NQ> struct SwapLayout {  // the kernel's offsets from the aligned base
    using W = SwapShape<NQ>;
    static constexpr uint32_t KV = 0, Q = W::STAGES * W::TILE, P = Q + W::Q_BYTES, END = P + W::P_BYTES;
};
template <int NQ> static void test_swap_tile() {
    using W = SwapShape<NQ>;
    using L = SwapLayout<NQ>;
    constexpr int NA = NQ / 2;
    Smem s(L::END);
    std::vector<uint16_t> q(NQ * 576), kv(64 * 576), p(NQ * 64);
    for (auto &x : q) x = bf16_round((float)(2 * uniform01() - 1));
    for (auto &x : kv) x = bf16_round((float)(2 * uniform01() - 1));
    for (auto &x : p) x = bf16_round((float)uniform01());
    const uint32_t tile = L::KV + 1 * W::TILE;  // stage 1
    for (int c = 0; c < WG_CHUNKS; c++) {
        tma_box(s, L::Q + c * W::Q_CH, (const uint8_t *)q.data(), NQ, 1152, 0, c * 128, NQ);
        tma_box(s, tile + c * W::CH, (const uint8_t *)kv.data(), 64, 1152, 0, c * 128, 64);
    }
    // S^T as the kernel issues it, read out through the accumulator map.
    std::vector<float> D(64 * NQ);
    for (int c = 0; c < WG_CHUNKS; c++)
        for (int k = 0; k < 4; k++)
            wgmma_model(s, D, NQ, h_desc_k(tile + c * W::CH) + 2 * k, false, h_desc_k(L::Q + c * W::Q_CH) + 2 * k, false, (c | k) != 0);
    double err_s = 0;
    for (int tid = 0; tid < 128; tid++)
        for (int i = 0; i < NA; i++) {
            const int tok = sw_acc_token(tid, i), r = sw_acc_row(tid, i);
            double want = 0;
            for (int x = 0; x < 576; x++) want += (double)bf16_f(q[r * 576 + x]) * bf16_f(kv[tok * 576 + x]);
            err_s = fmax(err_s, fabs(D[tok * NQ + r] - want));
        }
    // P^T stores as the kernel makes them (each thread its 2 tokens of its NQ/4 rows), then O^T.
    for (int tid = 0; tid < 128; tid++)
        for (int i = 0; i < NA; i++) {
            const int tok = sw_acc_token(tid, i), r = sw_acc_row(tid, i);
            s.put(L::P + sw_p_at(r, tok), p[r * 64 + tok]);
        }
    double err_o = 0;
    bool covered = true;
    std::vector<int> seen(64 * NQ, 0);
    for (int tid = 0; tid < 128; tid++)
        for (int i = 0; i < NA; i++) seen[sw_acc_token(tid, i) * NQ + sw_acc_row(tid, i)]++;
    for (int x : seen) covered &= x == 1;
    for (int mb = 0; mb < 8; mb++) {
        std::vector<float> O(64 * NQ);
        for (int kk = 0; kk < 4; kk++)
            wgmma_model(s, O, NQ, h_desc_mn(tile + mb * W::CH + kk * 16 * 128, W::CH), true, h_desc_k(L::P) + 2 * kk, false, kk != 0);
        for (int m = 0; m < 64; m++)
            for (int r = 0; r < NQ; r++) {
                double want = 0;
                for (int t = 0; t < 64; t++) want += (double)bf16_f(p[r * 64 + t]) * bf16_f(kv[t * 576 + 64 * mb + m]);
                err_o = fmax(err_o, fabs(O[m * NQ + r] - want));
            }
    }
    char what[200], d[200];
    snprintf(what, sizeof what, "swap kernel NQ %d, one tile: its descriptors, boxes, P^T stores and accumulator map give K Q^T and V^T P^T", NQ);
    snprintf(d, sizeof d, "|S^T err| %.3g |O^T err| %.3g, accumulator map a bijection: %d", err_s, err_o, covered);
    check(err_s < 1e-3 && err_o < 1e-3 && covered, what, d);
}

// ---- 3. the swapped kernel, whole, thread by thread ---------------------------------------------
enum SwapMutant { S_CORRECT, S_NO_CAUSAL, S_WARP_MAX_ONLY, S_PV_SWAPPED_DESC, S_NO_ZERO_NAN };
struct Problem {  // the launcher's arguments, on the host
    const uint16_t *q, *kv;
    const int *table, *seq_len;
    long kv_rows;
    int max_blocks, B, s_q, h_q;
    float scale_log2;
};
static float shfl_xor(const float *v, int tid, int off) { return v[(tid / 32) * 32 + ((tid % 32) ^ off)]; }

// One block of mla_swap_kernel<NQ>, as the kernel runs it. work and out as on the device.
template <int NQ>
static void swap_block(const Problem &pr, int block, int grid, std::vector<float> &work, std::vector<uint16_t> &out,
                       SwapMutant mu, int *zero_fills, int *q_loads) {
    using W = SwapShape<NQ>;
    using L = SwapLayout<NQ>;
    constexpr int NA = NQ / 2, NJ = NQ / 8, STAGES = W::STAGES;
    const int R = pr.s_q * pr.h_q;
    const long rows_all = (long)pr.B * R;
    const int max_tiles = tiles_of(pr.max_blocks * MLA_BLOCK, SW_T);
    // 1. the schedule (the kernel's warp 0, here plainly)
    int total = 0;
    for (int b = 0; b < pr.B; b++) total += tiles_of(pr.seq_len[b], SW_T);
    const int per_block = tiles_per_block(total, grid, max_tiles), begin = block * per_block;
    if (begin >= total) return;
    int b0 = 0, first0 = 0;
    for (int b = 0, carry = 0; b < pr.B; b++) {
        const int n = tiles_of(pr.seq_len[b], SW_T);
        if (n > 0 && carry <= begin && begin < carry + n) {
            b0 = b, first0 = carry;
            break;
        }
        carry += n;
    }
    const int n_tiles = std::min(begin + per_block, total) - begin;
    Smem s(L::END);
    // the producer's cursor (its rows, in order) and the consumer's
    int lb = b0, llen = pr.seq_len[b0], lk = begin - first0;
    int cb = b0, clen = pr.seq_len[b0], cfirst = first0, ck = begin - first0;
    static float o[128][8][32], m_r[128][4][2], l_r[128][4][2];
    static int end_r[128][4][2];
    static float red[2][4][32], lred[4][32];
    static float sc[128][16];
    for (int tid = 0; tid < 128; tid++)
        for (int mb = 0; mb < 8; mb++)
            for (int i = 0; i < NA; i++) o[tid][mb][i] = 0.0f;
    for (int j = 0; j < n_tiles; j++) {
        // the producer: this tile's 9 boxes into stage j % STAGES
        const int st = j % STAGES, token = lk * SW_T;
        const long row = (long)pr.table[(size_t)lb * pr.max_blocks + token / MLA_BLOCK] * MLA_BLOCK + token % MLA_BLOCK;
        const uint32_t tile = L::KV + st * W::TILE;
        for (int c = 0; c < WG_CHUNKS; c++) tma_box(s, tile + c * W::CH, (const uint8_t *)pr.kv, pr.kv_rows, 1152, row, c * 128, SW_T);
        const int p_seq = lb, p_tile = lk;
        if (++lk == tiles_of(llen, SW_T) && j + 1 < n_tiles) {
            lb++;
            llen = pr.seq_len[lb];
            lk = 0;
        }
        // the consumer
        if (p_seq != cb || p_tile != ck) {
            check(false, "swap kernel: the producer's and the consumer's cursors agree");
            return;
        }
        const int seq_tiles = tiles_of(clen, SW_T), valid = clen - ck * SW_T;
        const bool first_of_seq = j == 0 || ck == 0, last_of_seq = ck == seq_tiles - 1 || j == n_tiles - 1;
        if (first_of_seq) {
            for (int c = 0; c < WG_CHUNKS; c++) tma_box(s, L::Q + c * W::Q_CH, (const uint8_t *)pr.q, rows_all, 1152, (long)cb * R, c * 128, NQ);
            (*q_loads)++;
            for (int tid = 0; tid < 128; tid++) {
                const int t = tid % 4;
                for (int jj = 0; jj < NJ; jj++)
                    for (int e = 0; e < 2; e++) {
                        const int r = 8 * jj + 2 * t + e;
                        m_r[tid][jj][e] = -INFINITY;
                        l_r[tid][jj][e] = 0.0f;
                        end_r[tid][jj][e] = r < R ? visible_end(clen, pr.s_q, r / pr.h_q) : clen;
                        if (mu == S_NO_CAUSAL) end_r[tid][jj][e] = clen;
                    }
            }
        }
        if (valid < SW_T && mu != S_NO_ZERO_NAN) {
            (*zero_fills)++;
            const int per_chunk = (SW_T - valid) * 8;
            for (int i = 0; i < WG_CHUNKS * per_chunk; i++)
                for (int x = 0; x < 16; x++) s.b[tile + (i / per_chunk) * W::CH + valid * 128 + (i % per_chunk) * 16 + x] = 0;
        }
        if (valid < SW_T && mu == S_NO_ZERO_NAN) {  // the mutant: no zero fill, and NaN past the end
            for (int c = 0; c < WG_CHUNKS; c++)
                for (int r = valid; r < SW_T; r++)
                    for (int x = 0; x < 128; x++) s.b[tile + c * W::CH + r * 128 + x] = 0xFF;
        }
        // S^T
        std::vector<float> D(64 * NQ);
        for (int c = 0; c < WG_CHUNKS; c++)
            for (int k = 0; k < 4; k++)
                wgmma_model(s, D, NQ, h_desc_k(tile + c * W::CH) + 2 * k, false, h_desc_k(L::Q + c * W::Q_CH) + 2 * k, false, (c | k) != 0);
        for (int tid = 0; tid < 128; tid++)
            for (int i = 0; i < NA; i++) sc[tid][i] = D[sw_acc_token(tid, i) * NQ + sw_acc_row(tid, i)];
        // the softmax, as the kernel: masked scores, column maxima by shuffles, then the warps
        static float v[128], mx[128][4][2];
        for (int jj = 0; jj < NJ; jj++)
            for (int e = 0; e < 2; e++) {
                for (int tid = 0; tid < 128; tid++) {
                    const int warp = tid / 32, g = (tid % 32) / 4, tk = 16 * warp + g, tok = ck * SW_T + tk;
                    sc[tid][4 * jj + e] = score_log2(sc[tid][4 * jj + e], pr.scale_log2, tok, end_r[tid][jj][e]);
                    sc[tid][4 * jj + 2 + e] = score_log2(sc[tid][4 * jj + 2 + e], pr.scale_log2, tok + 8, end_r[tid][jj][e]);
                    v[tid] = fmaxf(sc[tid][4 * jj + e], sc[tid][4 * jj + 2 + e]);
                }
                for (int off : {4, 8, 16}) {
                    float nv[128];
                    for (int tid = 0; tid < 128; tid++) nv[tid] = fmaxf(v[tid], shfl_xor(v, tid, off));
                    memcpy(v, nv, sizeof v);
                }
                for (int tid = 0; tid < 128; tid++) mx[tid][jj][e] = v[tid];
            }
        float(*rd)[32] = red[j & 1];
        for (int tid = 0; tid < 128; tid++) {
            const int warp = tid / 32, g = (tid % 32) / 4, t = tid % 4;
            if (g == 0)
                for (int jj = 0; jj < NJ; jj++)
                    for (int e = 0; e < 2; e++) rd[warp][8 * jj + 2 * t + e] = mx[tid][jj][e];
        }
        static float alpha[128][4][2];
        for (int tid = 0; tid < 128; tid++) {
            const int warp = tid / 32, g = (tid % 32) / 4, t = tid % 4, tk = 16 * warp + g;
            for (int jj = 0; jj < NJ; jj++)
                for (int e = 0; e < 2; e++) {
                    const int r = 8 * jj + 2 * t + e;
                    const float tile_max = mu == S_WARP_MAX_ONLY ? rd[warp][r] : fmaxf(fmaxf(rd[0][r], rd[1][r]), fmaxf(rd[2][r], rd[3][r]));
                    alpha[tid][jj][e] = softmax_rescale(m_r[tid][jj][e], tile_max);
                    const float p_lo = softmax_weight(sc[tid][4 * jj + e], m_r[tid][jj][e]);
                    const float p_hi = softmax_weight(sc[tid][4 * jj + 2 + e], m_r[tid][jj][e]);
                    l_r[tid][jj][e] = l_r[tid][jj][e] * alpha[tid][jj][e] + (p_lo + p_hi);
                    s.put(L::P + sw_p_at(r, tk), bf16_round(p_lo));
                    s.put(L::P + sw_p_at(r, tk + 8), bf16_round(p_hi));
                }
        }
        // O^T = alpha O^T + V^T P^T, per chunk through the accumulator map
        if (!first_of_seq)
            for (int tid = 0; tid < 128; tid++)
                for (int mb = 0; mb < 8; mb++)
                    for (int jj = 0; jj < NJ; jj++)
                        for (int i = 0; i < 4; i++) o[tid][mb][4 * jj + i] *= alpha[tid][jj][i % 2];
        for (int mb = 0; mb < 8; mb++) {
            std::vector<float> O(64 * NQ);
            for (int tid = 0; tid < 128; tid++)
                for (int i = 0; i < NA; i++) O[sw_acc_token(tid, i) * NQ + sw_acc_row(tid, i)] = o[tid][mb][i];
            const uint32_t lbo = mu == S_PV_SWAPPED_DESC ? 1024 : W::CH, sbo = mu == S_PV_SWAPPED_DESC ? W::CH : 1024;
            for (int kk = 0; kk < 4; kk++)
                wgmma_model(s, O, NQ, h_desc_mn(tile + mb * W::CH + kk * 16 * 128, lbo, sbo), true, h_desc_k(L::P) + 2 * kk, false,
                            !(first_of_seq && kk == 0));
            for (int tid = 0; tid < 128; tid++)
                for (int i = 0; i < NA; i++) o[tid][mb][i] = O[sw_acc_token(tid, i) * NQ + sw_acc_row(tid, i)];
        }
        if (last_of_seq) {  // finish
            static float la[128];
            static float l_all[128][4][2];
            for (int jj = 0; jj < NJ; jj++)
                for (int e = 0; e < 2; e++) {
                    for (int tid = 0; tid < 128; tid++) la[tid] = l_r[tid][jj][e];
                    for (int off : {4, 8, 16}) {
                        float nv[128];
                        for (int tid = 0; tid < 128; tid++) nv[tid] = la[tid] + shfl_xor(la, tid, off);
                        memcpy(la, nv, sizeof la);
                    }
                    for (int tid = 0; tid < 128; tid++)
                        if ((tid % 32) / 4 == 0) lred[tid / 32][8 * jj + 2 * (tid % 4) + e] = la[tid];
                }
            for (int tid = 0; tid < 128; tid++)
                for (int jj = 0; jj < NJ; jj++)
                    for (int e = 0; e < 2; e++) {
                        const int r = 8 * jj + 2 * (tid % 4) + e;
                        l_all[tid][jj][e] = (lred[0][r] + lred[1][r]) + (lred[2][r] + lred[3][r]);
                    }
            const int split = split_index(block, cfirst, per_block), count = split_count(cfirst, seq_tiles, per_block);
            const bool direct = count == 1;
            for (int tid = 0; tid < 128; tid++) {
                const int warp = tid / 32, g = (tid % 32) / 4, t = tid % 4, tk = 16 * warp + g;
                for (int jj = 0; jj < NJ; jj++)
                    for (int e = 0; e < 2; e++) {
                        const int r = 8 * jj + 2 * t + e;
                        if (r >= R) continue;
                        const long orow = (long)cb * R + r;
                        const float l = l_all[tid][jj][e], inv = l > 0.0f ? 1.0f / l : 0.0f;
                        for (int mb = 0; mb < 8; mb++)
                            for (int h = 0; h < 2; h++) {
                                const int col = 64 * mb + tk + 8 * h;
                                const float val = o[tid][mb][4 * jj + 2 * h + e] * inv;
                                if (direct) out[orow * MLA_DL_WG + col] = bf16_round(val);
                                else work[partial_at(orow, split, MLA_DL_WG) + col] = val;
                            }
                        if (warp == 0 && g == 0) {
                            if (!direct) work[lse_at(orow, split, rows_all, MLA_DL_WG)] = split_lse(m_r[tid][jj][e], l);
                            if (split == 0) work[split_count_at(orow, rows_all, MLA_DL_WG)] = (float)count;
                        }
                    }
            }
        }
        if (last_of_seq && j + 1 < n_tiles) {
            cfirst += seq_tiles;
            cb++;
            clen = pr.seq_len[cb];
            ck = 0;
        } else {
            ck++;
        }
    }
}
// mla_combine_kernel<512>'s maths, a row at a time (a warp's lanes folded into loops).
static void combine(const std::vector<float> &work, std::vector<uint16_t> &out, long rows) {
    const int DL = MLA_DL_WG;
    for (long row = 0; row < rows; row++) {
        const int splits = (int)work[split_count_at(row, rows, DL)];
        if (splits <= 1) continue;
        const float *lse = work.data() + lse_at(row, 0, rows, DL);
        float big = -INFINITY, sum = 0;
        for (int i = 0; i < splits; i++) big = fmaxf(big, lse[i]);
        for (int i = 0; i < splits; i++) sum += combine_weight(lse[i], big);
        for (int x = 0; x < DL; x++) {
            float o = 0;
            for (int i = 0; i < splits; i++) {
                const float w = combine_weight(lse[i], big);
                if (w == 0.0f) continue;
                o = fmaf(w, work[partial_at(row, i, DL) + x], o);
            }
            out[row * DL + x] = bf16_round(sum > 0.0f ? o / sum : 0.0f);
        }
    }
}
template <int NQ>
static bool swap_case(gr_case *c, int grid, SwapMutant mu, double *rel, int *zf, int *ql) {
    const gr_shape *sh = &c->shape;
    Problem pr;
    pr.B = (int)sh->d[0], pr.s_q = (int)sh->d[1], pr.h_q = (int)sh->d[2];
    pr.q = (const uint16_t *)gr_in(c, "q"), pr.kv = (const uint16_t *)gr_in(c, "kv_cache");
    pr.table = (const int *)gr_in(c, "block_table"), pr.seq_len = (const int *)gr_in(c, "seq_len");
    pr.max_blocks = (int)c->param[1];
    pr.kv_rows = fm_mla_num_blocks(sh) * MLA_BLOCK;
    pr.scale_log2 = (float)c->param[0] * LOG2E;
    const long rows = (long)pr.B * pr.s_q * pr.h_q;
    std::vector<float> work((size_t)rows * MLA_SPLIT_MAX * (MLA_DL_WG + 1), NAN);  // garbage, as the grader's work buffer may hold
    std::vector<uint16_t> outb((size_t)rows * MLA_DL_WG, 0x7FC0);                  // NaN: a row never written shows
    *zf = *ql = 0;
    for (int blk = 0; blk < grid; blk++) swap_block<NQ>(pr, blk, grid, work, outb, mu, zf, ql);
    combine(work, outb, rows);
    std::vector<float> out(outb.size());
    for (size_t i = 0; i < out.size(); i++) out[i] = bf16_f(outb[i]);
    return within(c, out, fm_mla_tolerance(sh), rel);
}
static void test_swap_shape(const gr_shape &s, uint64_t seed) {
    const int R = (int)(s.d[1] * s.d[2]);
    gr_case c;
    make_case(&c, s, seed);
    char what[240], d[240];
    for (int grid : {132, 5}) {
        double rel;
        int zf, ql;
        const bool ok = R <= 16 ? swap_case<16>(&c, grid, S_CORRECT, &rel, &zf, &ql) : swap_case<32>(&c, grid, S_CORRECT, &rel, &zf, &ql);
        snprintf(what, sizeof what, "swap kernel NQ %d, (%ld, %ld, %ld, %ld, %ld, %ld), grid %d: within the tolerance",
                 R <= 16 ? 16 : 32, s.d[0], s.d[1], s.d[2], s.d[3], s.d[4], s.d[5], grid);
        snprintf(d, sizeof d, "error %.3g of the magnitudes, tolerance %.3g; %d zero fills, %d Q loads", rel, fm_mla_tolerance(&s), zf, ql);
        check(ok, what, d);
        printf("      (%s)\n", d);
    }
    const struct { SwapMutant m; const char *name; bool applies; } mutants[] = {
        {S_NO_CAUSAL, "no causal limit", s.d[1] > 1},
        {S_WARP_MAX_ONLY, "each warp's own column max (no exchange)", true},
        {S_PV_SWAPPED_DESC, "V^T's LBO and SBO swapped", true},
        {S_NO_ZERO_NAN, "no zero fill, NaN past the end", true},
    };
    for (const auto &mu : mutants) {
        if (!mu.applies) continue;
        double rel;
        int zf, ql;
        const bool ok = R <= 16 ? swap_case<16>(&c, 132, mu.m, &rel, &zf, &ql) : swap_case<32>(&c, 132, mu.m, &rel, &zf, &ql);
        snprintf(what, sizeof what, "swap kernel (%ld, %ld, %ld, %ld, %ld, %ld): the emulation catches %s", s.d[0], s.d[1], s.d[2],
                 s.d[3], s.d[4], s.d[5], mu.name);
        snprintf(d, sizeof d, "error only %.3g", rel);
        check(!ok, what, d);
    }
    free_case(&c);
}

int main() {
    test_model();
    test_swap_tile<16>();
    test_swap_tile<32>();
    const gr_shape shapes[] = MLA_CHECK_SHAPES;
    const int n = (int)(sizeof shapes / sizeof shapes[0]);
    for (int i = 0; i < n; i++) {
        const gr_shape &s = shapes[i];
        if (s.d[3] == 512 && s.d[1] * s.d[2] <= 32) test_swap_shape(s, 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1));
    }
    // Shapes the check does not have, for the kernel's other cases: s_q 2 at NQ 16 (R 16, and R 6
    // padded), and NQ 32 padded (R 20).
    const gr_shape extra[] = {GR_SHAPE(3, 2, 8, 512, 64, 150), GR_SHAPE(2, 2, 3, 512, 64, 70), GR_SHAPE(3, 1, 20, 512, 64, 150)};
    for (int i = 0; i < 3; i++) test_swap_shape(extra[i], 0xC2B2AE3D27D4EB4Full * (uint64_t)(i + 1));
    printf("%d passed, %d failed\n", passes, failures);
    return failures ? 1 : 0;
}
