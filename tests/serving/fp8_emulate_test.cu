// Session 12, exercise 7 on the CPU: the grader's e4m3 decoder (sv_e4m3_value) against CUDA's own
// conversion (cuda_fp8.h, which converts on the host too) for all 256 codes; the solution's
// decoding for every code in every byte place; then the solution's kernel at the check's shapes
// with the tensor-core product emulated (mma_emulator.h), as in w4a16_emulate_test.cu. Built and
// run by tests/serving-quant-test.sh. One PASS or FAIL line a check; exit status 1 on a failure.
#include "../../solutions/serving/12-serving/07_gemv_fp8.cu"

#include <cuda_fp8.h>
#include <math.h>

#include <vector>

#include "mma_emulator.h"
#include "quant_stubs.h"

#define EMULATE_SEED 0x13198A2E03707344ull  // this test's inputs
#include "../emulate_check.h"  // check(), next_random()
static uint16_t bf16_round(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}
static bool same_value(double a, double b) {   // equal, zeros of the same sign, or both NaN
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

// CUDA's e4m3 (__NV_E4M3: finite, NaN at 0x7F and 0xFF) to FP16, then to double: every e4m3 value
// is exact in FP16 (FP16 reaches 2^-24 and 65504; e4m3 2^-9 and 448 with 4 significant bits).
static void test_decoder_against_cuda() {
    int wrong = 0, first = -1;
    for (int code = 0; code < 256; code++) {
        const __half_raw raw = __nv_cvt_fp8_to_halfraw((__nv_fp8_storage_t)code, __NV_E4M3);
        const double cuda = __half2float(__half(raw)), ours = sv_e4m3_value((uint8_t)code);
        if (!same_value(cuda, ours)) { wrong++; if (first < 0) first = code; }
    }
    char detail[128] = "";
    if (wrong)
        snprintf(detail, sizeof detail, "%d codes differ, the first 0x%02X: cuda %g, sv_e4m3_value %g", wrong, first,
                 (double)__half2float(__half(__nv_cvt_fp8_to_halfraw((__nv_fp8_storage_t)first, __NV_E4M3))),
                 (double)sv_e4m3_value((uint8_t)first));
    check(!wrong, "sv_e4m3_value equals cuda_fp8.h's __nv_cvt_fp8_to_halfraw(__NV_E4M3) on all 256 codes", detail);
}

// Every code in each of the 4 byte places of a word: even = (byte 0, byte 2), odd = (byte 1, byte 3),
// exactly sv_e4m3_value. (The NaN codes 0x7F, 0xFF never occur; they come out as +-480.)
static void test_unpack() {
    int wrong = 0;
    char detail[160] = "";
    for (int place = 0; place < 4; place++)
        for (int code = 0; code < 256; code++) {
            if ((code & 0x7F) == 0x7F) continue;
            const uint32_t filler = 0x3AC5175Eu;   // other bytes: anything (no NaN code)
            const uint32_t w = (filler & ~(0xFFu << (8 * place))) | ((uint32_t)code << (8 * place));
            uint32_t even, odd;
            unpack_e4m3x4(w, even, odd);
            const uint32_t halves[4] = {even & 0xFFFF, odd & 0xFFFF, even >> 16, odd >> 16};   // bytes 0, 1, 2, 3
            for (int b = 0; b < 4; b++) {
                const double want = sv_e4m3_value((uint8_t)(w >> (8 * b))), got = bf16_bits_value(halves[b]);
                if (!same_value(got, want)) {
                    if (!wrong) snprintf(detail, sizeof detail, "word %08x byte %d: %g, expected %g", w, b, got, want);
                    wrong++;
                }
            }
        }
    check(!wrong, "unpack_e4m3x4: the 254 finite codes in all 4 places give sv_e4m3_value, subnormals and -0 included",
          detail);
    const uint32_t v01 = 0x00010000u, v23 = 0x00030002u;   // x_i = i
    uint32_t xe, xo;
    pair_x4(v01, v23, xe, xo);
    check(xe == 0x00020000u && xo == 0x00030001u, "pair_x4 pairs (x0, x2) and (x1, x3), the first in the low half");
}

// The launcher and kernel of 07, followed on the CPU.
static void emulate(const uint8_t *W8, const float *scales, const uint16_t *X, uint16_t *Y, int M, int N, int K,
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
                        const uint8_t *wa = W8 + (size_t)ra * K + 16 * t + (size_t)grp * GROUP_BYTES;
                        const uint8_t *wb = W8 + (size_t)rb * K + 16 * t + (size_t)grp * GROUP_BYTES;
                        uint4 q[4];
                        memcpy(&q[0], wa, 16);
                        memcpy(&q[1], wa + 64, 16);
                        memcpy(&q[2], wb, 16);
                        memcpy(&q[3], wb + 64, 16);
                        scale_a[lane] = scales[(size_t)ra * groups + grp];
                        scale_b[lane] = scales[(size_t)rb * groups + grp];
                        const uint4 *x[2];
                        for (int j = 0; j < NT; j++)
                            x[j] = reinterpret_cast<const uint4 *>(X + (size_t)std::min(m0 + 8 * j + g, M - 1) * K + 16 * t) +
                                   grp * (QUANT_GROUP / 8);
                        float c[2][2][4] = {};
                        Recorder rec{&c[0][0][0], &calls[lane]};
                        if (NT == 1) fp8_group<1>(q, x, reinterpret_cast<float(*)[2][4]>(c), rec);
                        else fp8_group<2>(q, x, c, rec);
                    }
                    const char *why = "";
                    if (!mma_finish(calls, sums, &why)) { *consistent = false; return; }
                    for (int lane = 0; lane < 32; lane++) {
                        sums[lane].resize(NT * 8, 0.0);
                        for (int j = 0; j < NT; j++)
                            for (int i = 0; i < 4; i++) {
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

// Codes as the grader makes them (grader/serving_quant.c, sv_fp8_adjust): per group of 128, the
// exponents folded into four binades from e_lo (0 for one group in four: subnormals), NaN codes
// made +-448, and a scale that brings the group back to weight size.
static void test_shape(int M, int N, int K) {
    const int groups = K / QUANT_GROUP;
    std::vector<uint8_t> W8((size_t)N * K);
    std::vector<float> scales((size_t)N * groups);
    std::vector<uint16_t> X((size_t)M * K), Y((size_t)M * N, 0x7FC0);   // NaN: unwritten
    for (size_t gi = 0; gi < scales.size(); gi++) {
        const int e_lo = next_random() % 4 == 0 ? 0 : 1 + (int)(next_random() % 12);
        for (int k = 0; k < QUANT_GROUP; k++) {
            const uint8_t b = (uint8_t)(next_random() >> 56);
            int e = e_lo + ((b >> 3) & 3), m = b & 7;
            if (e == 15 && m == 7) m = 6;
            W8[gi * QUANT_GROUP + k] = (uint8_t)((b & 0x80) | (e << 3) | m);
        }
        scales[gi] = ldexpf((0.5f + (float)(next_random() >> 40) / (float)(1 << 24)) * 0.25f, 4 - e_lo);
    }
    for (auto &x : X) x = bf16_round(2.0f * (float)(next_random() >> 40) / (float)(1 << 24) - 1.0f);
    bool consistent = true;
    emulate(W8.data(), scales.data(), X.data(), Y.data(), M, N, K, &consistent);
    char what[96], detail[200] = "";
    snprintf(what, sizeof what, "fp8 at M=%d N=%d K=%d: the emulated kernel matches the float64 reference", M, N, K);
    if (!consistent) { check(false, what, "the lanes' mma calls disagree"); return; }
    // Every element written, each within its BF16 rounding plus 2^-16 of the output's rms.
    std::vector<double> ref((size_t)M * N);
    double ref2 = 0, err2 = 0;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double r = 0;
            for (int k = 0; k < K; k++)
                r += bf16_bits_value(X[(size_t)m * K + k]) * (double)sv_e4m3_value(W8[(size_t)n * K + k]) *
                     scales[(size_t)n * groups + k / QUANT_GROUP];
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
    test_decoder_against_cuda();
    test_unpack();
    const int shapes[][3] = {{1, 1, 128}, {1, 17, 256}, {3, 127, 1024}, {8, 1000, 384}, {1, 64, 8192},
                             {2, 4099, 128}, {16, 200, 640}, {9, 33, 256}, {20, 40, 384}, {33, 17, 128}};
    for (const auto &s : shapes) test_shape(s[0], s[1], s[2]);
    return failures ? 1 : 0;
}
