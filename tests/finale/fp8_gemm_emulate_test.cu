// Session 14, exercise 3 on the CPU: the solution's tile maths (which rows a tile owns, the stage
// copies, the warp's fragments, the per-block promotion, the store) run block by block with the
// tensor-core products emulated, for both layouts and both of the kernel's paths: the FP8
// m16n8k32 e4m3 product of sm_89 and later (its operand layout, grader/mma_ptx.cuh, emulated here)
// and the two BF16 m16n8k16 products of sm_80 (tests/serving/mma_emulator.h). Against the grader's
// float64 reference (grader/finale_fp8.c, fm_fp8_dot), whose own maths is checked on values worked
// by hand. Built and run by tests/finale-fp8-test.sh. One PASS or FAIL line a check; exit 1 on a failure.
#include "../../solutions/finale/14-deepseek/03_fp8_grouped_gemm.cu"

#include <math.h>

#include <algorithm>
#include <vector>

#include "mma_emulator.h"
#include "quant_stubs.h"

extern "C" {
#include "finale_fp8.h"
void sv_e4m3_fold(uint8_t *code, long n, int e_lo);
int gr_inout(gr_case *, const char *, gr_dtype, size_t, long, gr_fill) { stub_reached("gr_inout"); return 0; }
}

#include "../emulate_check.h"  // check(), next_random()
static int below(int n) { return (int)(next_random() % (uint64_t)n); }
static float unit() { return (float)(next_random() >> 40) / (float)(1 << 24); }

// ---- the m16n8k32 e4m3 product, emulated: byte i of each register as grader/mma_ptx.cuh says ----
static bool mma_e4m3_finish(const std::vector<MmaCall> calls[32], std::vector<double> acc[32], const char **why) {
    const size_t n = calls[0].size();
    for (int l = 1; l < 32; l++)
        if (calls[l].size() != n) { *why = "lanes made different numbers of mma calls"; return false; }
    for (size_t k = 0; k < n; k++) {
        double A[16][32], B[32][8];
        const long target = calls[0][k].target;
        for (int l = 0; l < 32; l++) {
            const MmaCall &c = calls[l][k];
            if (c.target != target) { *why = "lanes accumulate one mma into different registers"; return false; }
            const int g = l / 4, t = l % 4;
            for (int i = 0; i < 4; i++) {
                A[g][4 * t + i] = sv_e4m3_value((uint8_t)(c.a[0] >> (8 * i)));
                A[g + 8][4 * t + i] = sv_e4m3_value((uint8_t)(c.a[1] >> (8 * i)));
                A[g][16 + 4 * t + i] = sv_e4m3_value((uint8_t)(c.a[2] >> (8 * i)));
                A[g + 8][16 + 4 * t + i] = sv_e4m3_value((uint8_t)(c.a[3] >> (8 * i)));
                B[4 * t + i][g] = sv_e4m3_value((uint8_t)(c.b[0] >> (8 * i)));
                B[16 + 4 * t + i][g] = sv_e4m3_value((uint8_t)(c.b[1] >> (8 * i)));
            }
        }
        for (int l = 0; l < 32; l++) {
            const int g = l / 4, t = l % 4;
            const int dr[4] = {g, g, g + 8, g + 8}, dc[4] = {2 * t, 2 * t + 1, 2 * t, 2 * t + 1};
            if (acc[l].size() < (size_t)(target * 4 + 4)) acc[l].resize(target * 4 + 4, 0.0);
            for (int i = 0; i < 4; i++) {
                double s = 0;
                for (int kk = 0; kk < 32; kk++) s += A[dr[i]][kk] * B[kk][dc[i]];
                acc[l][target * 4 + i] += s;
            }
        }
    }
    return true;
}

// The kernel's two products as the CPU test passes them: sm_89's recorded as is, sm_80's through
// the given widening to BF16.
struct ViaBf16 {
    Recorder rec;
    void operator()(float d[4], const uint32_t a[4], const uint32_t b[2]) const { mma_e4m3_as_bf16(d, a, b, rec); }
};

// The launcher and kernel followed on the CPU (masked: group_rows is masked_m).
static bool emulate(bool masked, bool fp8_path, const uint8_t *A, const float *sa, const uint8_t *B, const float *sb,
                    uint16_t *D, const int *group_rows, int G, int M, int N, int K) {
    const int grid_x = masked ? G * ((M + TILE_M - 1) / TILE_M) : (M + TILE_M - 1) / TILE_M + G;
    const int grid_y = (N + TILE_N - 1) / TILE_N, KB = (K + 127) / 128, NB = (N + 127) / 128;
    std::vector<uint8_t> As(TILE_M * ROW_BYTES), Bs(TILE_N * ROW_BYTES);
    for (int bx = 0; bx < grid_x; bx++)
        for (int by = 0; by < grid_y; by++) {
            const TileRows tile = masked ? masked_tile(group_rows, M, bx) : contiguous_tile(group_rows, G, bx);
            if (tile.rows <= 0) continue;
            const int n0 = by * TILE_N;
            const uint8_t *a_slab = A + (size_t)tile.row0 * K, *b_slab = B + ((size_t)tile.group * N + n0) * K;
            static float acc[4][32][2][4][4], part[4][32][2][4][4];
            memset(acc, 0, sizeof acc);
            memset(part, 0, sizeof part);
            for (int kb = 0; kb < KB; kb++) {
                for (int i = 0; i < TILE_M * 8; i++) {
                    bool valid;
                    const uint8_t *src = chunk_source(a_slab, tile.rows, K, kb * 128, i, valid);
                    uint8_t *dst = &As[(i / 8) * ROW_BYTES + 16 * (i % 8)];
                    if (valid) memcpy(dst, src, 16); else memset(dst, 0, 16);
                    src = chunk_source(b_slab, N - n0, K, kb * 128, i, valid);
                    dst = &Bs[(i / 8) * ROW_BYTES + 16 * (i % 8)];
                    if (valid) memcpy(dst, src, 16); else memset(dst, 0, 16);
                }
                for (int warp = 0; warp < 4; warp++) {
                    std::vector<MmaCall> calls[32];
                    std::vector<double> sums[32];
                    for (int lane = 0; lane < 32; lane++) {
                        Recorder rec{&part[warp][lane][0][0][0], &calls[lane]};
                        if (fp8_path) warp_block_product(As.data(), Bs.data(), warp, lane, K - kb * 128, part[warp][lane], rec);
                        else warp_block_product(As.data(), Bs.data(), warp, lane, K - kb * 128, part[warp][lane], ViaBf16{rec});
                    }
                    const char *why = "";
                    if (!(fp8_path ? mma_e4m3_finish(calls, sums, &why) : mma_finish(calls, sums, &why))) return false;
                    for (int lane = 0; lane < 32; lane++) {
                        sums[lane].resize(32, 0.0);
                        float *p = &part[warp][lane][0][0][0];
                        for (int e = 0; e < 32; e++) p[e] += (float)sums[lane][e];
                        float scale_a[4];
                        for (int r = 0; r < 4; r++) {
                            const int row = 32 * (warp / 2) + 16 * (r / 2) + 8 * (r % 2) + lane / 4;
                            scale_a[r] = sa[(size_t)(tile.row0 + (row < tile.rows ? row : 0)) * KB + kb];
                        }
                        const float scale_b = sb[((size_t)tile.group * NB + n0 / 128) * KB + kb];
                        promote_block(acc[warp][lane], part[warp][lane], scale_a, scale_b);
                    }
                }
            }
            for (int warp = 0; warp < 4; warp++)
                for (int lane = 0; lane < 32; lane++) store_tile(D, N, tile, n0, warp, lane, acc[warp][lane]);
        }
    return true;
}

// Operands as the grader makes them: each block of a row of A and each 128 x 128 tile of B folded
// into its own window of four binades (subnormals in one block in four), scaled back to size.
static void make_operands(long rows, int G, int N, int K, std::vector<uint8_t> &A, std::vector<float> &sa,
                          std::vector<uint8_t> &B, std::vector<float> &sb) {
    const int KB = (K + 127) / 128, NB = (N + 127) / 128;
    A.resize((size_t)rows * K);
    B.resize((size_t)G * N * K);
    sa.resize((size_t)rows * KB);
    sb.resize((size_t)G * NB * KB);
    for (auto &x : A) x = (uint8_t)(next_random() >> 56);
    for (auto &x : B) x = (uint8_t)(next_random() >> 56);
    auto window = [] { return below(4) == 0 ? 0 : 1 + below(12); };
    for (long r = 0; r < rows; r++)
        for (int kb = 0; kb < KB; kb++) {
            const int e_lo = window(), len = std::min(128, K - 128 * kb);
            sv_e4m3_fold(&A[(size_t)r * K + 128 * kb], len, e_lo);
            sa[(size_t)r * KB + kb] = ldexpf((0.5f + unit()) * 0.25f, 4 - e_lo);
        }
    for (int g = 0; g < G; g++)
        for (int nb = 0; nb < NB; nb++)
            for (int kb = 0; kb < KB; kb++) {
                const int e_lo = window(), len = std::min(128, K - 128 * kb);
                for (int n = 128 * nb; n < std::min(N, 128 * nb + 128); n++)
                    sv_e4m3_fold(&B[((size_t)g * N + n) * K + 128 * kb], len, e_lo);
                sb[((size_t)g * NB + nb) * KB + kb] = ldexpf((0.5f + unit()) * 0.25f, 4 - e_lo);
            }
}

// One shape of one layout on one path. Contiguous: sizes uneven, one group empty and one of a
// single row where G allows; masked: counts M_max, 0, 1 and random, and D's other rows must keep
// their values.
static void test_shape(bool masked, bool fp8_path, int G, int M, int N, int K) {
    const int KB = (K + 127) / 128, NB = (N + 127) / 128;
    std::vector<int> rows_of(G);
    long rows = masked ? (long)G * M : M;
    if (masked) {
        for (int g = 0; g < G; g++) rows_of[g] = g == 0 ? M : g == 1 ? 0 : g == 2 ? 1 : below(M + 1);
    } else {
        std::vector<int> cut;
        int rest = M;
        for (int g = 0; g < G; g++) rows_of[g] = -1;
        if (G >= 2) rows_of[1] = 0;
        if (G >= 3) { rows_of[G - 1] = 1; rest--; }
        int free_groups = 0;
        for (int g = 0; g < G; g++) free_groups += rows_of[g] < 0;
        for (int i = 0; i + 1 < free_groups; i++) cut.push_back(below(rest + 1));
        std::sort(cut.begin(), cut.end());
        cut.push_back(rest);
        for (int g = 0, f = 0, lo = 0; g < G; g++)
            if (rows_of[g] < 0) { rows_of[g] = cut[f] - lo; lo = cut[f++]; }
    }
    std::vector<int> table(masked ? G : G + 1);
    if (masked) table = rows_of;
    else for (int g = 0; g < G; g++) table[g + 1] = table[g] + rows_of[g];
    std::vector<uint8_t> A, B;
    std::vector<float> sa, sb;
    make_operands(rows, G, N, K, A, sa, B, sb);
    std::vector<uint16_t> D((size_t)rows * N), before;
    for (auto &d : D) d = masked ? float_to_bf16(2 * unit() - 1) : 0x7FC0;   // masked: old values; else NaN
    before = D;
    char what[160], detail[240] = "";
    snprintf(what, sizeof what, "%s, %s path, G %d %s %d N %d K %d: the emulated kernel matches the float64 reference",
             masked ? "masked" : "contiguous", fp8_path ? "sm_89 e4m3 m16n8k32" : "sm_80 BF16 m16n8k16", G,
             masked ? "M_max" : "M", M, N, K);
    if (!emulate(masked, fp8_path, A.data(), sa.data(), B.data(), sb.data(), D.data(), table.data(), G, M, N, K)) {
        check(false, what, "the lanes' mma calls disagree");
        return;
    }
    // Each row's reference (or its old values), then every element within its BF16 rounding and
    // the FP32 promotion's error: 2^-8 of itself plus 2^-16 of D's rms.
    std::vector<double> ref((size_t)rows * N);
    std::vector<char> used((size_t)rows, 0);
    double ref2 = 0;
    for (long r = 0; r < rows; r++) {
        int g = 0;
        if (masked) { g = (int)(r / M); used[r] = r % M < rows_of[g]; }
        else { while (table[g + 1] <= r) g++; used[r] = 1; }
        for (int n = 0; n < N; n++) {
            double v = bf16_bits_value(before[(size_t)r * N + n]);
            if (used[r]) v = fm_fp8_dot(&A[(size_t)r * K], &B[((size_t)g * N + n) * K], &sa[(size_t)r * KB],
                                        &sb[((size_t)g * NB + n / 128) * KB], K);
            ref[(size_t)r * N + n] = v;
            ref2 += v * v;
        }
    }
    const double rms = sqrt(ref2 / (double)ref.size());
    long bad = -1;
    for (size_t i = 0; i < ref.size() && bad < 0; i++) {
        const long r = (long)(i / N);
        const double got = bf16_bits_value(D[i]);
        const bool ok = used[r] ? fabs(got - ref[i]) <= 0x1p-8 * fabs(ref[i]) + 0x1p-16 * rms : D[i] == before[i];
        if (!ok) bad = (long)i;
    }
    if (bad >= 0)
        snprintf(detail, sizeof detail, "row %ld column %ld (%s): %.6g, expected %.6g (rms of D %.3g)", bad / N, bad % N,
                 used[bad / N] ? "computed" : "past masked_m, to keep", bf16_bits_value(D[bad]), ref[bad], rms);
    check(bad < 0, what, detail);
}

// The reference's own maths on values worked by hand: 0x38 is 1, 0x01 the least subnormal 2^-9,
// 0xFE is -448; K 144 = one whole block and one of 16, each with its own scales.
static void test_reference_by_hand() {
    std::vector<uint8_t> a(144, 0x38), b(144, 0x38);
    const float sa_row[2] = {2.0f, 3.0f}, sb_col[2] = {0.5f, 0.25f};
    double d = fm_fp8_dot(a.data(), b.data(), sa_row, sb_col, 144);
    check(d == 128 * 2 * 0.5 + 16 * 3 * 0.25, "fm_fp8_dot: 128 ones at scales 2 x 0.5, 16 at 3 x 0.25 give 140");
    a[0] = 0xFE;   // -448 * 1 in place of 1 * 1
    b[130] = 0x01; // 1 * 2^-9 in place of 1 * 1, in the second block
    d = fm_fp8_dot(a.data(), b.data(), sa_row, sb_col, 144);
    const double want = (127 - 448.0) * 2 * 0.5 + (15 + 0x1p-9) * 3 * 0.25;
    check(d == want, "fm_fp8_dot: -448 in the first block and a subnormal in the second, each block its own scales");
    const gr_shape s = GR_SHAPE(32, 64, 4096, 7168);
    bool has0 = false, has1 = false, hasmax = false, in_range = true;
    for (long j = 0; j < 32; j++) {
        const long m = fm_fp8_masked_rows(&s, j);
        has0 |= m == 0, has1 |= m == 1, hasmax |= m == 64, in_range &= m >= 0 && m <= 64;
    }
    check(has0 && has1 && hasmax && in_range, "fm_fp8_masked_rows: counts in 0 .. M_max, with 0, 1 and M_max among them");
    check(fabs(fm_fp8_contiguous_flops(&s) - 2.0 * 64 * 4096 * 7168) < 1, "fm_fp8_contiguous_flops is 2 M N K");
}

// The decode path of the masked layout (fp8_decode_given.cuh: M_max <= DECODE_ROWS): its blocks,
// warps and lanes run on the CPU through the same decode_load, decode_products (the tensor-core
// products recorded and emulated), decode_promote and decode_store, the warps' sums added in order, against the
// float64 reference; group counts M_max, 0, 1 and random, and D's other rows must keep their values.
static void test_decode_path(int G, int M_max, int N, int K) {
    const int KB = (K + 127) / 128, NB = (N + 127) / 128, rows = G * M_max;
    std::vector<int> count(G);
    for (int g = 0; g < G; g++) count[g] = g == 0 ? M_max : g == 1 ? 0 : g == 2 ? 1 : below(M_max + 1);
    std::vector<uint8_t> A, B;
    std::vector<float> sa, sb;
    make_operands(rows, G, N, K, A, sa, B, sb);
    std::vector<uint16_t> D((size_t)rows * N), before;
    for (auto &d : D) d = float_to_bf16(2 * unit() - 1);
    before = D;
    for (int g = 0; g < G; g++) {
        const int r = std::min(count[g], M_max);
        if (r <= 0) continue;
        const uint8_t *W_g = &B[(size_t)g * N * K], *A_g = &A[(size_t)g * M_max * K];
        const float *sa_g = &sa[(size_t)g * M_max * KB];
        for (int bx = 0; bx < (N + DECODE_COLS - 1) / DECODE_COLS; bx++) {
            const int n0 = bx * DECODE_COLS;
            const float *sb_row = &sb[((size_t)g * NB + n0 / 128) * KB];
            static float sums[DECODE_WARPS][32][4];
            for (int warp = 0; warp < DECODE_WARPS; warp++) {
                float acc[32][4] = {}, part[32][4] = {};
                const DecodeBlocks kbs = decode_blocks(warp, KB);
                for (int kb = kbs.first; kb < kbs.end; kb += kbs.step) {
                    DecodeOps ops[32];
                    std::vector<MmaCall> calls[32];
                    std::vector<double> got[32];
                    for (int lane = 0; lane < 32; lane++) {
                        decode_load(ops[lane], W_g, A_g, sa_g, sb_row, r, N, K, n0, kb, lane);
                        decode_products(ops[lane], part[lane], Recorder{part[lane], &calls[lane]});
                    }
                    const char *why = "";
                    if (!mma_e4m3_finish(calls, got, &why)) {
                        check(false, "masked decode path: the lanes' tensor-core products line up", why);
                        return;
                    }
                    for (int lane = 0; lane < 32; lane++) {
                        got[lane].resize(4, 0.0);
                        for (int i = 0; i < 4; i++) part[lane][i] += (float)got[lane][i];
                        decode_promote(acc[lane], part[lane], ops[lane]);
                    }
                }
                memcpy(sums[warp], acc, sizeof acc);
            }
            for (int lane = 0; lane < 32; lane++) {
                float v[4] = {};
                for (int w = 0; w < DECODE_WARPS; w++)
                    for (int i = 0; i < 4; i++) v[i] += sums[w][lane][i];
                decode_store(D.data(), v, g, M_max, N, n0, r, lane);
            }
        }
    }
    std::vector<double> ref((size_t)rows * N);
    double ref2 = 0;
    for (int row = 0; row < rows; row++) {
        const int g = row / M_max;
        for (int n = 0; n < N; n++) {
            double v = bf16_bits_value(before[(size_t)row * N + n]);
            if (row % M_max < count[g])
                v = fm_fp8_dot(&A[(size_t)row * K], &B[((size_t)g * N + n) * K], &sa[(size_t)row * KB],
                               &sb[((size_t)g * NB + n / 128) * KB], K);
            ref[(size_t)row * N + n] = v;
            ref2 += v * v;
        }
    }
    const double rms = sqrt(ref2 / (double)ref.size());
    long bad = -1;
    for (size_t i = 0; i < ref.size() && bad < 0; i++) {
        const int row = (int)(i / N), used = row % M_max < count[row / M_max];
        const double got = bf16_bits_value(D[i]);
        if (used ? fabs(got - ref[i]) > 0x1p-8 * fabs(ref[i]) + 0x1p-16 * rms : D[i] != before[i]) bad = (long)i;
    }
    char what[160], detail[200] = "";
    snprintf(what, sizeof what, "masked decode path, G %d M_max %d N %d K %d: the emulated kernel matches the float64 "
             "reference, rows past masked_m untouched", G, M_max, N, K);
    if (bad >= 0)
        snprintf(detail, sizeof detail, "row %ld column %ld: %.6g, expected %.6g", bad / N, bad % N,
                 bf16_bits_value(D[bad]), ref[bad]);
    check(bad < 0, what, detail);
}

// The grader's tolerance (fm_fp8_tolerance, widened on the H200 to BF16's half ulp) against the
// shortcuts a submission could take, measured the grader's way, ||D - ref|| / ||ref||: the exact
// result rounded to BF16 passes; one scale pair for the whole row, a dropped last K block, and D
// rounded to e4m3 instead of BF16 all fail by a wide margin.
static double e4m3_round(double x) {  // to 4 significant bits (e4m3's mantissa), ties away: enough here
    if (x == 0) return 0;
    int e;
    const double m = frexp(x, &e);
    return ldexp(round(m * 16) / 16, e);
}
static void test_tolerance_catches_shortcuts() {
    const int N = 256, K = 1000, KB = (K + 127) / 128, rows = 48;
    std::vector<uint8_t> A, B;
    std::vector<float> sa, sb;
    make_operands(rows, 1, N, K, A, sa, B, sb);
    const gr_shape shape = GR_SHAPE(1, rows, N, K);
    const double tol = fm_fp8_tolerance(&shape);
    double ref2 = 0, err[4] = {0, 0, 0, 0};
    for (int r = 0; r < rows; r++)
        for (int n = 0; n < N; n++) {
            const uint8_t *a = &A[(size_t)r * K], *b = &B[(size_t)n * K];
            const float *sar = &sa[(size_t)r * KB], *sbc = &sb[(size_t)(n / 128) * KB];
            const double ref = fm_fp8_dot(a, b, sar, sbc, K);
            double once = 0, dropped = 0;
            for (int k = 0; k < K; k++) {
                const double p = (double)sv_e4m3_value(a[k]) * sv_e4m3_value(b[k]);
                once += p * sar[0] * sbc[0];
                if (k / 128 < KB - 1) dropped += p * sar[k / 128] * sbc[k / 128];
            }
            const double got[4] = {bf16_bits_value(float_to_bf16((float)ref)), once, dropped, e4m3_round(ref)};
            for (int v = 0; v < 4; v++) err[v] += (got[v] - ref) * (got[v] - ref);
            ref2 += ref * ref;
        }
    const char *name[4] = {"the exact result rounded to BF16", "one scale pair for the whole row",
                           "the last K block dropped", "D rounded to e4m3 instead of BF16"};
    for (int v = 0; v < 4; v++) {
        const double rel = sqrt(err[v] / ref2);
        char what[200], detail[120];
        snprintf(what, sizeof what, "03's tolerance %.2e %s %s", tol, v == 0 ? "passes" : "fails", name[v]);
        snprintf(detail, sizeof detail, "relative error %.2e", rel);
        check(v == 0 ? rel <= tol : rel > 4 * tol, what, detail);
    }
}

int main() {
    test_reference_by_hand();
    test_tolerance_catches_shortcuts();
    const int decode[][4] = {{1, 1, 1, 16},    {8, 1, 64, 256}, {4, 4, 130, 272}, {3, 2, 70, 1040},
                             {8, 3, 256, 64}, {4, 8, 48, 272}, {5, 6, 33, 128}};  // M_max 8: a 7-draft verify pass
    for (const auto &s : decode) test_decode_path(s[0], s[1], s[2], s[3]);
    const int contiguous[][4] = {{1, 1, 1, 16}, {2, 1, 1, 16}, {3, 17, 33, 272}, {8, 64, 64, 256},
                                 {8, 64, 256, 64}, {4, 130, 129, 144}, {5, 200, 70, 48}};
    const int masked[][4] = {{1, 1, 1, 16}, {4, 17, 129, 272}, {8, 64, 64, 256}, {3, 65, 70, 48}, {8, 64, 256, 64}};
    for (int path = 0; path < 2; path++) {
        for (const auto &s : contiguous) test_shape(false, path == 1, s[0], s[1], s[2], s[3]);
        for (const auto &s : masked) test_shape(true, path == 1, s[0], s[1], s[2], s[3]);
    }
    return failures ? 1 : 0;
}
