// Session 14, exercise 1 on the CPU: the solution's MLA decode followed without a GPU.
//   1. the grader's side: MLA_BLOCK and MLA_SPLIT_MAX as exercises.h has them, the byte and FLOP
//      counts of the bench shape worked by hand;
//   2. the fragments: where mla_given.cuh points each lane's ldmatrix, with the loops of the
//      kernel, gives S = Q K^T and P V exactly (ldmatrix and mma.sync emulated: mma_emulator.h);
//   3. the per-row maths of the solution (visible_end, score_log2, softmax_rescale,
//      softmax_weight, split_lse, combine_weight), run tile by tile and split by split as the
//      kernels do, on the grader's own inputs (fm_mla_declare and fm_mla_adjust on a case made
//      here), against the float64 reference (fm_mla_reference) within fm_mla_tolerance, at every
//      check shape, with one split and with many;
//   4. the grader catches what it should: no causal limit, a slot past the end let in, the last
//      token dropped.
// Built and run by tests/finale-mla-test.sh. One PASS or FAIL line a check; exit status 1 on a failure.
#include "../../solutions/finale/14-deepseek/01_mla_decode.cu"

#include <math.h>

#include <vector>

#include "mla_host_case.h"  // the grader case on the host, BF16, the verdict, check()
#include "mma_emulator.h"

// ---- 1. the grader's counts ----------------------------------------------------------------------
static void test_counts() {
    check(FM_MLA_BLOCK == MLA_BLOCK && FM_MLA_SPLIT_MAX == MLA_SPLIT_MAX,
          "grader/finale_mla.h's block and split limit are exercises.h's");
    const gr_shape s = MLA_BENCH_16;
    // Lengths 4096 and 4096 - 8 j (j = 1 .. 127): 459264 tokens in 64 + sum (64 - j / 8) = 7232 pages.
    const double bytes = 2.0 * 459264 * 576 + 2.0 * 128 * 16 * 576 + 2.0 * 128 * 16 * 512 + 4.0 * 7232 + 4.0 * 128;
    char detail[160];
    snprintf(detail, sizeof detail, "bytes %.0f (expected %.0f), FLOP %.0f (expected 15989735424)", fm_mla_bytes(&s),
             bytes, fm_mla_flops(&s));
    check(fm_mla_bytes(&s) == bytes && bytes == 533558016.0 && fm_mla_flops(&s) == 15989735424.0,
          "bench shape (128, 1, 16, 512, 64, 4096): 533558016 bytes, 15989735424 FLOP", detail);
}

// ---- 2. the fragments ---------------------------------------------------------------------------
// ldmatrix on the CPU: lane l's register j from the rows the lanes 8j .. 8j + 7 point at (row-major
// matrix `m` of `stride` BF16 values); .trans reads the 8 x 8 matrix by columns.
struct Addr { int row, col; };
static void ldmatrix_emulated(const uint16_t *m, int stride, const Addr addr[32], int count, bool trans,
                              uint32_t out[32][4]) {
    for (int l = 0; l < 32; l++)
        for (int j = 0; j < count; j++) {
            uint32_t lo, hi;
            if (!trans) {
                const Addr a = addr[8 * j + l / 4];
                lo = m[a.row * stride + a.col + 2 * (l % 4)];
                hi = m[a.row * stride + a.col + 2 * (l % 4) + 1];
            } else {
                const Addr a0 = addr[8 * j + 2 * (l % 4)], a1 = addr[8 * j + 2 * (l % 4) + 1];
                lo = m[a0.row * stride + a0.col + l / 4];
                hi = m[a1.row * stride + a1.col + l / 4];
            }
            out[l][j] = lo | hi << 16;
        }
}

template <int DL, int DR> static void test_fragments() {
    using M = MlaDims<DL, DR>;
    std::vector<uint16_t> q(HEAD_ROWS * M::ROW), tile(TILE_TOKENS * M::ROW), p(HEAD_ROWS * P_ROW);
    for (auto &x : q) x = bf16_round((float)(2.0 * uniform01() - 1.0));
    for (auto &x : tile) x = bf16_round((float)(2.0 * uniform01() - 1.0));
    for (auto &x : p) x = bf16_round((float)uniform01());
    double worst_s = 0, worst_pv = 0;
    const char *why = "";
    bool agree = true;
    for (int warp = 0; warp < MLA_WARPS; warp++) {
        // The scores: the kernel's loop over k-step pairs, then the odd one.
        std::vector<MmaCall> calls[32];
        std::vector<double> acc[32];
        const int n0 = warp * 8;
        auto step = [&](int k0, bool pair) {
            Addr qa0[32], qa1[32], kb[32];
            uint32_t a0[32][4], a1[32][4], b[32][4];
            for (int l = 0; l < 32; l++) {
                qa0[l] = {a_frag_row(l), a_frag_col(l, k0)};
                qa1[l] = {a_frag_row(l), a_frag_col(l, k0 + 16)};
                kb[l] = {kb_frag_row(l, n0), kb_frag_col(l, k0)};
            }
            ldmatrix_emulated(q.data(), M::ROW, qa0, 4, false, a0);
            if (pair) ldmatrix_emulated(q.data(), M::ROW, qa1, 4, false, a1);
            ldmatrix_emulated(tile.data(), M::ROW, kb, pair ? 4 : 2, false, b);
            for (int l = 0; l < 32; l++) {
                MmaCall c{0, {a0[l][0], a0[l][1], a0[l][2], a0[l][3]}, {b[l][0], b[l][1]}};
                calls[l].push_back(c);
                if (pair) calls[l].push_back(MmaCall{0, {a1[l][0], a1[l][1], a1[l][2], a1[l][3]}, {b[l][2], b[l][3]}});
            }
        };
        for (int kp = 0; kp < M::K_PAIRS; kp++) step(kp * 32, true);
        if (M::K_ODD) step(M::K_PAIRS * 32, false);
        agree &= mma_finish(calls, acc, &why);
        for (int l = 0; l < 32 && agree; l++)
            for (int i = 0; i < 4; i++) {
                const int row = l / 4 + 8 * (i / 2), tok = n0 + 2 * (l % 4) + i % 2;
                double want = 0;
                for (int x = 0; x < M::D; x++) want += bf16_f(q[row * M::ROW + x]) * bf16_f(tile[tok * M::ROW + x]);
                worst_s = fmax(worst_s, fabs(acc[l][i] - want));
            }
        // P V: this warp's columns.
        std::vector<MmaCall> pv_calls[32];
        std::vector<double> pv[32];
        const int c0 = warp * M::COLS_PER_WARP;
        for (int kk = 0; kk < TILE_TOKENS; kk += 16) {
            Addr pa_addr[32];
            uint32_t pa[32][4];
            for (int l = 0; l < 32; l++) pa_addr[l] = {a_frag_row(l), a_frag_col(l, kk)};
            ldmatrix_emulated(p.data(), P_ROW, pa_addr, 4, false, pa);
            for (int n = 0; n < M::N_TILES; n += 2) {
                Addr va[32];
                uint32_t vb[32][4];
                for (int l = 0; l < 32; l++) va[l] = {vb_frag_row(l, kk), vb_frag_col(l, c0 + 8 * n)};
                ldmatrix_emulated(tile.data(), M::ROW, va, 4, true, vb);
                for (int l = 0; l < 32; l++) {
                    pv_calls[l].push_back(MmaCall{n, {pa[l][0], pa[l][1], pa[l][2], pa[l][3]}, {vb[l][0], vb[l][1]}});
                    pv_calls[l].push_back(MmaCall{n + 1, {pa[l][0], pa[l][1], pa[l][2], pa[l][3]}, {vb[l][2], vb[l][3]}});
                }
            }
        }
        agree &= mma_finish(pv_calls, pv, &why);
        for (int l = 0; l < 32 && agree; l++)
            for (int n = 0; n < M::N_TILES; n++)
                for (int i = 0; i < 4; i++) {
                    const int row = l / 4 + 8 * (i / 2), col = c0 + 8 * n + 2 * (l % 4) + i % 2;
                    double want = 0;
                    for (int t = 0; t < TILE_TOKENS; t++) want += bf16_f(p[row * P_ROW + t]) * bf16_f(tile[t * M::ROW + col]);
                    worst_pv = fmax(worst_pv, fabs(pv[l][n * 4 + i] - want));
                }
    }
    char what[160], detail[160];
    snprintf(what, sizeof what, "fragments %d/%d: the kernel's ldmatrix addresses and mma loops give Q K^T and P V", DL, DR);
    snprintf(detail, sizeof detail, "%s; worst |S - QK^T| %.3g, |PV - P V| %.3g", agree ? "" : why, worst_s, worst_pv);
    check(agree && worst_s < 1e-9 && worst_pv < 1e-9, what, detail);
}

// ---- 3. the kernels' maths on the grader's inputs ------------------------------------------------
enum Mutant { CORRECT, NO_CAUSAL, PAST_END, DROP_LAST };

// Rows of one sequence's group, tile by tile over one split, as mla_split_kernel does (float32
// scores: the tensor cores' sums of exact products), then the combine. out: B x rows x DL floats.
static void emulate(gr_case *c, int per_split, Mutant mutant, std::vector<float> &out) {
    const gr_shape *s = &c->shape;
    const int B = (int)s->d[0], s_q = (int)s->d[1], h_q = (int)s->d[2], DL = (int)s->d[3], D = DL + (int)s->d[4];
    const int R = s_q * h_q, max_blocks = (int)c->param[1];
    const float scale_log2 = (float)c->param[0] * LOG2E;
    const uint16_t *q = (const uint16_t *)gr_in(c, "q"), *kv = (const uint16_t *)gr_in(c, "kv_cache");
    const int *table = (const int *)gr_in(c, "block_table"), *seq_len = (const int *)gr_in(c, "seq_len");
    out.assign((size_t)B * R * DL, 0.0f);
    std::vector<float> partial, lse;
    for (int b = 0; b < B; b++) {
        const int len = seq_len[b], pages = (len + MLA_BLOCK - 1) / MLA_BLOCK;
        const int splits = (pages + per_split - 1) / per_split;
        for (int r = 0; r < R; r++) {
            int end = visible_end(len, s_q, r / h_q);
            if (mutant == NO_CAUSAL) end = len;
            if (mutant == PAST_END) end = len + 1 < pages * MLA_BLOCK ? len + 1 : len;
            if (mutant == DROP_LAST) end -= 1;
            const uint16_t *qr = q + ((size_t)b * R + r) * D;
            partial.assign((size_t)splits * DL, 0.0f);
            lse.assign(splits, -INFINITY);
            for (int sp = 0; sp < splits; sp++) {
                const int first = sp * per_split, last = first + per_split < pages ? first + per_split : pages;
                const int reach = end > len ? end : len;  // PAST_END reaches one slot further
                const int tile_end_all = (reach + TILE_TOKENS - 1) / TILE_TOKENS;
                const int tile_end = last * TILES_PER_BLOCK < tile_end_all ? last * TILES_PER_BLOCK : tile_end_all;
                float m = -INFINITY, l = 0;
                std::vector<float> acc(DL, 0.0f);
                for (int k = first * TILES_PER_BLOCK; k < tile_end; k++) {
                    float sc[TILE_TOKENS], tile_max = -INFINITY;
                    const uint16_t *rows[TILE_TOKENS];
                    for (int i = 0; i < TILE_TOKENS; i++) {
                        const int token = k * TILE_TOKENS + i;
                        const long slot = (long)table[(size_t)b * max_blocks + k / TILES_PER_BLOCK] * MLA_BLOCK + (k % TILES_PER_BLOCK) * TILE_TOKENS + i;
                        // past the end of a sequence's page table nothing is read (the kernel's zero fill)
                        rows[i] = token < pages * MLA_BLOCK ? kv + slot * D : NULL;
                        float dot = 0;
                        if (rows[i] && (token < len || mutant == PAST_END))
                            for (int x = 0; x < D; x++) dot += bf16_f(qr[x]) * bf16_f(rows[i][x]);
                        sc[i] = score_log2(dot, scale_log2, token, end);
                        tile_max = fmaxf(tile_max, sc[i]);
                    }
                    const float alpha = softmax_rescale(m, tile_max);
                    l *= alpha;
                    for (int x = 0; x < DL; x++) acc[x] *= alpha;
                    for (int i = 0; i < TILE_TOKENS; i++) {
                        const float p = softmax_weight(sc[i], m);
                        if (p == 0.0f) continue;
                        l += p;
                        for (int x = 0; x < DL; x++) acc[x] += p * bf16_f(rows[i][x]);
                    }
                }
                for (int x = 0; x < DL; x++) partial[(size_t)sp * DL + x] = l > 0 ? acc[x] / l : 0.0f;
                lse[sp] = split_lse(m, l);
            }
            float big = -INFINITY, sum = 0;
            for (int sp = 0; sp < splits; sp++) big = fmaxf(big, lse[sp]);
            for (int sp = 0; sp < splits; sp++) sum += combine_weight(lse[sp], big);
            for (int x = 0; x < DL; x++) {
                float o = 0;
                for (int sp = 0; sp < splits; sp++) o += combine_weight(lse[sp], big) * partial[(size_t)sp * DL + x];
                out[((size_t)b * R + r) * DL + x] = bf16_f(bf16_round(sum > 0 ? o / sum : 0.0f));
            }
        }
    }
}

static void test_shape(const gr_shape &s, uint64_t seed) {
    gr_case c;
    make_case(&c, s, seed);
    const double tol = fm_mla_tolerance(&s);
    const int max_blocks = (int)c.param[1];
    const int many = (max_blocks + MLA_SPLIT_MAX - 1) / MLA_SPLIT_MAX;  // a page a split, up to 64 splits
    char what[200], detail[200];
    std::vector<float> out;
    for (int per_split : {max_blocks, many}) {
        double rel;
        emulate(&c, per_split, CORRECT, out);
        const bool ok = within(&c, out, tol, &rel);
        snprintf(what, sizeof what, "(%ld, %ld, %ld, %ld, %ld, %ld) with %d split(s): within the tolerance", s.d[0],
                 s.d[1], s.d[2], s.d[3], s.d[4], s.d[5], (max_blocks + per_split - 1) / per_split);
        snprintf(detail, sizeof detail, "error %.3g of the magnitudes, tolerance %.3g (seed %llx)", rel, tol,
                 (unsigned long long)seed);
        check(ok, what, detail);
        if (per_split == many && many == max_blocks) break;  // one page: the same run
    }
    // The grader's traps: each mutant must fail (where the shape can show it).
    const struct { Mutant m; const char *name; bool applies; } mutants[] = {
        {NO_CAUSAL, "no causal limit", s.d[1] > 1},
        {PAST_END, "one slot past the end let in", true},
        {DROP_LAST, "the last visible token dropped", true},
    };
    for (const auto &mu : mutants) {
        if (!mu.applies) continue;
        const int *seq_len = (const int *)gr_in(&c, "seq_len");
        bool any_garbage = false;  // PAST_END needs a sequence whose last page has a free slot
        for (int b = 0; b < (int)s.d[0]; b++) any_garbage |= seq_len[b] % MLA_BLOCK != 0;
        if (mu.m == PAST_END && !any_garbage) continue;
        double rel;
        emulate(&c, max_blocks, mu.m, out);
        const bool caught = !within(&c, out, tol, &rel);
        snprintf(what, sizeof what, "(%ld, %ld, %ld, %ld, %ld, %ld): the grader catches %s", s.d[0], s.d[1], s.d[2],
                 s.d[3], s.d[4], s.d[5], mu.name);
        snprintf(detail, sizeof detail, "error only %.3g of the magnitudes, tolerance %.3g", rel, tol);
        check(caught, what, detail);
    }
    free_case(&c);
}

// ---- 4. the per-row maths at its edges -----------------------------------------------------------
static void test_edges() {
    check(visible_end(10, 1, 0) == 10 && visible_end(10, 2, 0) == 9 && visible_end(10, 2, 1) == 10 &&
              visible_end(2, 2, 0) == 1,
          "visible_end: s_q 1 sees all, s_q 2's first query token one fewer");
    float m = -INFINITY;
    const float a0 = softmax_rescale(m, -INFINITY);
    check(a0 == 1.0f && m == -INFINITY && softmax_weight(-INFINITY, m) == 0.0f && split_lse(m, 0.0f) == -INFINITY,
          "a row that has seen only masked tokens: factor 1, weight 0, no NaN, lse -inf");
    const float a1 = softmax_rescale(m, 3.0f), a2 = softmax_rescale(m, 5.0f);
    check(a1 == 0.0f && a2 == 0.25f && m == 5.0f && softmax_weight(4.0f, m) == 0.5f,
          "softmax_rescale: 2^(m_old - m_new), the max kept; softmax_weight 2^(s - m)");
    check(combine_weight(-INFINITY, 2.0f) == 0.0f && combine_weight(1.0f, 2.0f) == 0.5f,
          "combine_weight: an empty split weighs 0, others 2^(lse - lse_max)");
}

int main() {
    test_counts();
    test_fragments<64, 16>();
    test_fragments<512, 64>();
    test_edges();
    const gr_shape shapes[] = MLA_CHECK_SHAPES;
    const int n = (int)(sizeof shapes / sizeof shapes[0]);
    for (int i = 0; i < n; i++) test_shape(shapes[i], 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1));
    test_shape(MLA_BENCH_MINI, 0xD1B54A32D192ED03ull);
    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
