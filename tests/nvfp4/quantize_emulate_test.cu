// Session 13, exercise 01 on the CPU: three independent versions of each rounding must agree, and
// the solution's block arithmetic must give the grader's bits.
//   - the given decoders (nvfp4_given.cuh) against the grader's (grader/nvfp4.c), every code;
//   - e4m3 rounding: the given bit trick (e4m3_round), the grader's table search (fp4_e4m3_encode)
//     and CUDA's own conversion (cuda_fp8.h, satfinite), on every value, every midpoint and its two
//     neighbours, and a sweep of over a million floats from 0 to 600;
//   - e2m1 rounding: the solution's (e2m1_round), the grader's (fp4_e2m1_encode) and CUDA's
//     (cuda_fp4.h), on the same kind of sweep, negatives included;
//   - the solution's quantize_block and dequantize_block (what its kernels run per thread) against
//     fp4_quantize_block and fp4_dequantize_block on blocks of every kind the check draws.
// Built and run by tests/nvfp4-quantize-test.sh. One PASS or FAIL line a check; exit 1 on a failure.
#include "../../solutions/blackwell/13-nvfp4/01_nvfp4_quantize.cu"

#include <cuda_fp4.h>
#include <cuda_fp8.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <vector>

extern "C" {
#include "nvfp4.h"
}

#define EMULATE_SEED 0x2545F4914F6CDD1Dull  // this test's inputs
#include "../emulate_check.h"  // check(), next_random()
static double unit_random() { return (double)(next_random() >> 11) / 9007199254740992.0; }
static bool same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

static void test_decoders() {
    int wrong = 0;
    char detail[160] = "";
    for (int c = 0; c < 256; c++) {
        if ((c & 0x7F) == 0x7F) continue;   // NaN: never a scale
        if (!same_bits(e4m3_value(c), fp4_e4m3_value((uint8_t)c)) && !wrong++)
            snprintf(detail, sizeof detail, "e4m3 0x%02X: given %a, grader %a", c, e4m3_value(c), fp4_e4m3_value((uint8_t)c));
    }
    for (int c = 0; c < 16; c++)
        if (!same_bits(e2m1_value(c), fp4_e2m1_value((uint8_t)c)) && !wrong++)
            snprintf(detail, sizeof detail, "e2m1 %d: given %a, grader %a", c, e2m1_value(c), fp4_e2m1_value((uint8_t)c));
    check(wrong == 0, "the given decoders agree with the grader's on every e4m3 and e2m1 code", detail);
}

// The floats the roundings are tried on: every e4m3 value, every midpoint of two neighbours and the
// floats either side of each, powers of two far out, and a sweep of bit patterns from 0 to 600.
static std::vector<float> e4m3_trials() {
    std::vector<float> t;
    for (int c = 0; c <= 0x7E; c++) {
        const float v = fp4_e4m3_value((uint8_t)c);
        t.push_back(v);
        if (c < 0x7E) {
            const float mid = 0.5f * (v + fp4_e4m3_value((uint8_t)(c + 1)));
            t.push_back(mid), t.push_back(nextafterf(mid, 0)), t.push_back(nextafterf(mid, 1e9f));
        }
    }
    for (int e = -40; e <= 40; e++) t.push_back(ldexpf(1.0f, e));
    t.push_back(464.0f), t.push_back(480.0f), t.push_back(1e30f);
    uint32_t top;
    const float limit = 600.0f;
    memcpy(&top, &limit, sizeof top);
    for (uint32_t bits = 0; bits < top; bits += 997) {
        float f;
        memcpy(&f, &bits, sizeof f);
        t.push_back(f);
    }
    return t;
}

static void test_e4m3_rounding() {
    const std::vector<float> t = e4m3_trials();
    int wrong = 0;
    char detail[200] = "";
    for (float s : t) {
        const int given = e4m3_round(s), grader = fp4_e4m3_encode(s);
        const int cuda = __nv_cvt_float_to_fp8(s, __NV_SATFINITE, __NV_E4M3);
        if ((given != grader || grader != cuda) && !wrong++)
            snprintf(detail, sizeof detail, "%a: given 0x%02X, grader 0x%02X, cuda_fp8.h 0x%02X", s, given, grader, cuda);
    }
    char what[160];
    snprintf(what, sizeof what, "e4m3 rounding: given, grader and cuda_fp8.h agree on %zu floats (ties, subnormals, saturation)",
             t.size());
    check(wrong == 0, what, detail);
}

static void test_e2m1_rounding() {
    std::vector<float> t;
    const float mids[] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, 6.0f};
    for (float m : mids) t.push_back(m), t.push_back(nextafterf(m, 0)), t.push_back(nextafterf(m, 100));
    for (int c = 0; c < 8; c++) t.push_back(fp4_e2m1_value((uint8_t)c));
    t.push_back(0.0f), t.push_back(1e-30f), t.push_back(100.0f), t.push_back(INFINITY);
    uint32_t top;
    const float limit = 8.0f;
    memcpy(&top, &limit, sizeof top);
    for (uint32_t bits = 0; bits < top; bits += 911) {
        float f;
        memcpy(&f, &bits, sizeof f);
        t.push_back(f);
    }
    const size_t n = t.size();
    for (size_t i = 0; i < n; i++) t.push_back(-t[i]);
    int wrong = 0, cuda_wrong = 0;
    char detail[200] = "", cuda_detail[200] = "";
    for (float v : t) {
        const int solution = (int)e2m1_round(v), grader = fp4_e2m1_encode(v);
        const int cuda = __nv_cvt_float_to_fp4(v, __NV_E2M1, cudaRoundNearest) & 0xF;
        if (solution != grader && !wrong++)
            snprintf(detail, sizeof detail, "%a: solution %d, grader %d", v, solution, grader);
        if (cuda != grader && !cuda_wrong++)
            snprintf(cuda_detail, sizeof cuda_detail, "%a: cuda_fp4.h %d, grader %d", v, cuda, grader);
    }
    char what[160];
    snprintf(what, sizeof what, "e2m1 rounding: the solution's and the grader's agree on %zu floats (ties, -0, saturation)",
             t.size());
    check(wrong == 0, what, detail);
    check(cuda_wrong == 0, "e2m1 rounding: the grader's agrees with cuda_fp4.h's round-to-nearest", cuda_detail);
}

// A block of one of the check's kinds (grader/nvfp4_check.c), around the global scale gs.
static void make_block(float *x, float gs, int kind) {
    const int at = (int)(next_random() % 16);
    const double sign[2] = {1.0, -1.0};
    switch (kind) {
    case 0:   // zeros of both signs
        for (int k = 0; k < 16; k++) x[k] = (float)(0.0 * sign[next_random() & 1]);
        break;
    case 1:   // too small for the smallest scale
        for (int k = 0; k < 16; k++) x[k] = (float)((2 * unit_random() - 1) * 6 * gs * 0x1p-11);
        break;
    case 2: {  // values j/4 of S: e2m1 ties
        const uint8_t sc = (uint8_t)(1 + next_random() % 0x7E);
        const double S = (double)fp4_e4m3_value(sc) * gs;
        for (int k = 0; k < 16; k++) x[k] = (float)(sign[next_random() & 1] * (double)(next_random() % 25) / 4 * S);
        x[at] = (float)(sign[next_random() & 1] * 6 * S);
        break;
    }
    case 3: {  // amax / (6 gs) on a midpoint of two e4m3 values
        const uint8_t sc = (uint8_t)(next_random() % 0x7E);
        const double amax = 3.0 * ((double)fp4_e4m3_value(sc) + fp4_e4m3_value((uint8_t)(sc + 1))) * gs;
        for (int k = 0; k < 16; k++) x[k] = (float)((2 * unit_random() - 1) * amax);
        x[at] = (float)(sign[next_random() & 1] * amax);
        break;
    }
    default:   // spread over twenty binades
        const double size = 2688.0 * gs * pow(2.0, -20 * unit_random());
        for (int k = 0; k < 16; k++) x[k] = (float)((2 * unit_random() - 1) * size);
    }
}

static void test_blocks() {
    int wrong = 0, blocks = 0;
    char detail[240] = "";
    for (int trial = 0; trial < 400000; trial++) {
        // Half the global scales powers of two (the ties are exact), half any float.
        const float gs = (float)(trial % 2 ? ldexp(1.0, (int)(next_random() % 25) - 12)
                                           : ldexp(1.0 + unit_random(), (int)(next_random() % 25) - 12));
        float x[16];
        make_block(x, gs, (int)(next_random() % 8));
        uint8_t want_codes[8];
        const uint8_t want_scale = fp4_quantize_block(x, gs, want_codes);
        uint2 codes;
        const uint8_t scale = quantize_block(x, gs, &codes);
        uint8_t got_codes[8];
        memcpy(got_codes, &codes, 8);
        float want_y[16], got_y[16];
        fp4_dequantize_block(want_codes, want_scale, gs, want_y);
        dequantize_block(codes, scale, gs, got_y);
        blocks++;
        if ((scale != want_scale || memcmp(got_codes, want_codes, 8) != 0 || memcmp(got_y, want_y, sizeof got_y) != 0) &&
            !wrong++)
            snprintf(detail, sizeof detail, "trial %d (gs %a, x[0] %a): scale 0x%02X want 0x%02X; byte 0 0x%02X want 0x%02X",
                     trial, gs, x[0], scale, want_scale, got_codes[0], want_codes[0]);
    }
    char what[160];
    snprintf(what, sizeof what, "the solution's quantize_block and dequantize_block give the grader's bits on %d blocks",
             blocks);
    check(wrong == 0, what, detail);
}

int main() {
    test_decoders();
    test_e4m3_rounding();
    test_e2m1_rounding();
    test_blocks();
    return failures ? 1 : 0;
}
