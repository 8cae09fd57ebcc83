// A warp's mma.sync m16n8k16 (BF16 in, sums kept here in float64) emulated on the CPU, for testing
// the fragment code of session 12's quantised GEMVs without a GPU. The code under test runs once
// per lane with a Recorder in place of the tensor-core product; the Recorder keeps each call's
// registers, and finish() puts the 32 lanes' fragments together into the matrices, multiplies, and
// hands each lane its part of the product, as the hardware does. The fragment layout is PTX's,
// written out in grader/mma_ptx.cuh (g = lane / 4, t = lane % 4):
//   a[0] = A[g][2t, 2t+1]   a[1] = A[g+8][2t, 2t+1]   a[2] = A[g][2t+8, 2t+9]   a[3] = A[g+8][2t+8, 2t+9]
//   b[0] = B[2t, 2t+1][g]   b[1] = B[2t+8, 2t+9][g]
//   d[0], d[1] = C[g][2t, 2t+1]   d[2], d[3] = C[g+8][2t, 2t+1]
// (the lower-numbered element of a pair in the low 16 bits).
#ifndef TESTS_SERVING_MMA_EMULATOR_H
#define TESTS_SERVING_MMA_EMULATOR_H

#include <stdint.h>
#include <string.h>

#include <vector>

static inline double bf16_bits_value(uint32_t bits16) {
    uint32_t u = (bits16 & 0xFFFFu) << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

struct MmaCall {
    long target;        // which accumulator: its offset in floats from the lane's base, / 4
    uint32_t a[4], b[2];
};

// One lane's product calls, in order.
struct Recorder {
    const float *base;
    std::vector<MmaCall> *calls;
    void operator()(float d[4], const uint32_t a[4], const uint32_t b[2]) const {
        MmaCall c;
        c.target = (long)(d - base) / 4;
        memcpy(c.a, a, sizeof c.a);
        memcpy(c.b, b, sizeof c.b);
        calls->push_back(c);
    }
};

// The 32 lanes' calls of one warp-wide step; returns false (and says why in *why) when the lanes
// do not agree on the number of calls or their targets (an mma.sync every lane must reach).
// acc[lane][target * 4 + i] receives d[i] of each call, summed in float64.
static inline bool mma_finish(const std::vector<MmaCall> calls[32], std::vector<double> acc[32], const char **why) {
    const size_t n = calls[0].size();
    for (int l = 1; l < 32; l++)
        if (calls[l].size() != n) { *why = "lanes made different numbers of mma calls"; return false; }
    for (size_t k = 0; k < n; k++) {
        double A[16][16], B[16][8];
        const long target = calls[0][k].target;
        for (int l = 0; l < 32; l++) {
            const MmaCall &c = calls[l][k];
            if (c.target != target) { *why = "lanes accumulate one mma into different registers"; return false; }
            const int g = l / 4, t = l % 4;
            const int ar[4] = {g, g + 8, g, g + 8}, ac[4] = {2 * t, 2 * t, 2 * t + 8, 2 * t + 8};
            for (int r = 0; r < 4; r++) {
                A[ar[r]][ac[r]] = bf16_bits_value(c.a[r]);
                A[ar[r]][ac[r] + 1] = bf16_bits_value(c.a[r] >> 16);
            }
            for (int r = 0; r < 2; r++) {
                B[2 * t + 8 * r][g] = bf16_bits_value(c.b[r]);
                B[2 * t + 8 * r + 1][g] = bf16_bits_value(c.b[r] >> 16);
            }
        }
        for (int l = 0; l < 32; l++) {
            const int g = l / 4, t = l % 4;
            const int dr[4] = {g, g, g + 8, g + 8}, dc[4] = {2 * t, 2 * t + 1, 2 * t, 2 * t + 1};
            std::vector<double> &out = acc[l];
            if (out.size() < (size_t)(target * 4 + 4)) out.resize(target * 4 + 4, 0.0);
            for (int i = 0; i < 4; i++) {
                double s = 0;
                for (int kk = 0; kk < 16; kk++) s += A[dr[i]][kk] * B[kk][dc[i]];
                out[target * 4 + i] += s;
            }
        }
    }
    return true;
}

#endif
