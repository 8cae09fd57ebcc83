// Session 12, exercise 6's solution on the CPU: its unpacking for every nibble in every position,
// then the whole kernel at the check's shapes with the tensor-core product emulated
// (mma_emulator.h). The launcher's grid and the kernel's loop over groups are followed here step by
// step; what runs of the solution's own code is its per-lane group function (w4a16_group, with the
// unpacking, the pairs of X and the mma fragments), called as the kernel calls it. Built and run by
// tests/serving-quant-test.sh. Prints one PASS or FAIL line a check; exit status 1 on a failure.
#include "../../solutions/serving/12-serving/06_gemv_w4a16.cu"

#include <math.h>

#include <vector>

#include "mma_emulator.h"
#include "quant_stubs.h"

#include "../emulate_check.h"  // check(), next_random()
static uint16_t bf16_round(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

// Every nibble value in each of the 8 places of a word: pair i holds nibble i (low half) and nibble
// i + 4 (high half), as BF16 values q + 136.
static void test_unpack() {
    bool ok = true;
    char detail[160] = "";
    for (int place = 0; place < 8 && ok; place++)
        for (uint32_t n = 0; n < 16 && ok; n++) {
            const uint32_t filler = 0x5A3C96E1u;   // other nibbles: anything
            const uint32_t w = (filler & ~(0xFu << (4 * place))) | (n << (4 * place));
            uint32_t pair[4];
            unpack_int4x8_biased(w, MAGIC_X2, pair);
            for (int p = 0; p < 8; p++) {
                const uint32_t half = p < 4 ? pair[p] & 0xFFFF : pair[p - 4] >> 16;
                const uint32_t nib = (w >> (4 * p)) & 0xF;
                const double want = sv_int4_value((uint8_t)nib) + 136.0;
                if (bf16_bits_value(half) != want) {
                    snprintf(detail, sizeof detail, "word %08x nibble %d: %g, expected %g", w, p, bf16_bits_value(half), want);
                    ok = false;
                    break;
                }
            }
        }
    check(ok, "unpack_int4x8_biased: all 16 nibbles in all 8 places give sv_int4_value + 136", detail);
    // The bias it removes: -136 exactly, and 136 is the magic's BF16 value.
    check(bf16_bits_value(MINUS_136_X2) == -136.0 && bf16_bits_value(MINUS_136_X2 >> 16) == -136.0 &&
              bf16_bits_value(MAGIC_X2) == 136.0,
          "the A operand of the bias mma is -136 in both halves; the magic 0x4308 is 136");
    // pair_x8: (x0, x4), (x1, x5), (x2, x6), (x3, x7).
    const uint4 v = make_uint4(0x00010000u, 0x00030002u, 0x00050004u, 0x00070006u);   // x_i = i
    uint32_t xp[4];
    pair_x8(v, xp);
    check(xp[0] == 0x00040000u && xp[1] == 0x00050001u && xp[2] == 0x00060002u && xp[3] == 0x00070003u,
          "pair_x8 pairs x_i with x_(i+4), x_i in the low half");
}

// The launcher and kernel of 06, followed on the CPU.
static void emulate(const uint8_t *W4, const uint16_t *scales, const uint16_t *X, uint16_t *Y, int M, int N, int K,
                    bool *consistent) {
    const int NT = M <= 8 ? 1 : 2;
    const int tiles = (N + TILE_ROWS - 1) / TILE_ROWS, chunks = M <= 8 ? 1 : (M + 15) / 16;
    const int groups = K / QUANT_GROUP;
    for (int by = 0; by < chunks; by++)
        for (int bx = 0; bx < tiles; bx++) {
            const int n0 = bx * TILE_ROWS, m0 = by * 8 * NT;
            std::vector<float> acc((size_t)WARPS * 32 * NT * 4, 0.0f);   // [warp][lane][j][i]
            for (int warp = 0; warp < WARPS; warp++) {
                const int count = warp < groups ? (groups - 1 - warp) / WARPS + 1 : 0;
                for (int k = 0; k < count; k++) {
                    const int grp = warp + k * WARPS;
                    std::vector<MmaCall> calls[32];
                    std::vector<double> sums[32];
                    float scale_a[32], scale_b[32];
                    for (int lane = 0; lane < 32; lane++) {
                        const int g = lane / 4, t = lane % 4;
                        const int ra = std::min(n0 + g, N - 1), rb = std::min(n0 + g + 8, N - 1);
                        const uint8_t *wa = W4 + (size_t)ra * (K / 2) + 16 * t, *wb = W4 + (size_t)rb * (K / 2) + 16 * t;
                        uint4 qa, qb;
                        memcpy(&qa, wa + (size_t)grp * GROUP_BYTES, 16);
                        memcpy(&qb, wb + (size_t)grp * GROUP_BYTES, 16);
                        scale_a[lane] = (float)bf16_bits_value(scales[(size_t)ra * groups + grp]);
                        scale_b[lane] = (float)bf16_bits_value(scales[(size_t)rb * groups + grp]);
                        const uint4 *x[2];
                        for (int j = 0; j < NT; j++)
                            x[j] = reinterpret_cast<const uint4 *>(X + (size_t)std::min(m0 + 8 * j + g, M - 1) * K + 32 * t) +
                                   grp * (QUANT_GROUP / 8);
                        float c[2][2][4] = {};
                        Recorder rec{&c[0][0][0], &calls[lane]};
                        if (NT == 1) w4a16_group<1>(qa, qb, x, reinterpret_cast<float(*)[2][4]>(c), rec);
                        else w4a16_group<2>(qa, qb, x, c, rec);
                    }
                    const char *why = "";
                    if (!mma_finish(calls, sums, &why)) { *consistent = false; return; }
                    for (int lane = 0; lane < 32; lane++) {
                        sums[lane].resize(NT * 8, 0.0);
                        for (int j = 0; j < NT; j++)
                            for (int i = 0; i < 4; i++) {
                                // c[j][0] and c[j][1] as the kernel has them: FP32 tiles.
                                const float c0 = (float)sums[lane][(j * 2 + 0) * 4 + i], c1 = (float)sums[lane][(j * 2 + 1) * 4 + i];
                                acc[((size_t)warp * 32 + lane) * NT * 4 + j * 4 + i] += (i < 2 ? scale_a[lane] : scale_b[lane]) * (c0 + c1);
                            }
                    }
                }
            }
            for (int lane = 0; lane < 32; lane++) {
                const int g = lane / 4, t = lane % 4;
                for (int j = 0; j < NT; j++)
                    for (int i = 0; i < 4; i++) {
                        float v = acc[((size_t)0 * 32 + lane) * NT * 4 + j * 4 + i];
                        for (int w = 1; w < WARPS; w++) v += acc[((size_t)w * 32 + lane) * NT * 4 + j * 4 + i];
                        const int n = n0 + g + (i >= 2 ? 8 : 0), m = m0 + 8 * j + 2 * t + (i & 1);
                        if (n < N && m < M) Y[(size_t)m * N + n] = bf16_round(v);
                    }
            }
        }
}

static void test_shape(int M, int N, int K) {
    const int groups = K / QUANT_GROUP;
    std::vector<uint8_t> W4((size_t)N * K / 2);
    std::vector<uint16_t> scales((size_t)N * groups), X((size_t)M * K), Y((size_t)M * N, 0x7FC0);   // NaN: unwritten
    for (auto &b : W4) b = (uint8_t)(next_random() >> 56);
    for (auto &s : scales) s = bf16_round((0.5f + (float)(next_random() >> 40) / (float)(1 << 24)) / 8);
    for (auto &x : X) x = bf16_round(2.0f * (float)(next_random() >> 40) / (float)(1 << 24) - 1.0f);
    bool consistent = true;
    emulate(W4.data(), scales.data(), X.data(), Y.data(), M, N, K, &consistent);
    char what[96], detail[200] = "";
    snprintf(what, sizeof what, "w4a16 at M=%d N=%d K=%d: the emulated kernel matches the float64 reference", M, N, K);
    if (!consistent) { check(false, what, "the lanes' mma calls disagree"); return; }
    // Every element written, and each within its BF16 rounding (2^-8 of itself) plus a floor of
    // 2^-16 of the output's rms: the FP32 sums' own error, which outputs near 0 show unrounded.
    std::vector<double> ref((size_t)M * N);
    double ref2 = 0, err2 = 0;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double r = 0;
            for (int k = 0; k < K; k++) {
                const uint8_t byte = W4[(size_t)n * (K / 2) + k / 2];
                const int q = sv_int4_value((uint8_t)(k % 2 ? byte >> 4 : byte & 0xF));
                r += bf16_bits_value(X[(size_t)m * K + k]) * q * bf16_bits_value(scales[(size_t)n * groups + k / QUANT_GROUP]);
            }
            ref[(size_t)m * N + n] = r;
            ref2 += r * r;
        }
    const double rms = sqrt(ref2 / ((double)M * N));
    long bad = -1;
    for (size_t i = 0; i < ref.size(); i++) {
        const double got = bf16_bits_value(Y[i]);
        err2 += (got - ref[i]) * (got - ref[i]);
        if (!(fabs(got - ref[i]) <= 0x1p-8 * fabs(ref[i]) + 0x1p-16 * rms) && bad < 0) bad = (long)i;
    }
    if (bad >= 0)
        snprintf(detail, sizeof detail, "element %ld: %.6g, expected %.6g (rms of Y %.3g); rel L2 error %.3g", bad,
                 bf16_bits_value(Y[bad]), ref[bad], rms, sqrt(err2 / ref2));
    check(bad < 0, what, detail);
}

int main() {
    test_unpack();
    // check.c's QUANT_SHAPES, then batches over 16 (two passes over W) and a tile edge at N = 33.
    const int shapes[][3] = {{1, 1, 128}, {1, 17, 256}, {3, 127, 1024}, {8, 1000, 384}, {1, 64, 8192},
                             {2, 4099, 128}, {16, 200, 640}, {9, 33, 256}, {20, 40, 384}, {33, 17, 128}};
    for (const auto &s : shapes) test_shape(s[0], s[1], s[2]);
    return failures ? 1 : 0;
}
