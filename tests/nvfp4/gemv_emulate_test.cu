// Session 13, exercises 02-06 on the CPU: one rung's solution (RUNG=2..6 at compile time, built by
// tests/nvfp4-gemv-test.sh) followed on the host through its own __host__ __device__ functions.
//   - decoding: every code in every place (all 256 bytes) against e2m1's definition, worked here
//     from the sign, exponent and mantissa bits; for 06's conversion, the pairing that
//     cvt.rn.f16x2.e2m1x2 has (cuda_fp4.h's host conversion says which nibble goes where);
//   - 05/06: every block sum of HFMA2s is exact (the claim the FP16 arithmetic rests on), at the
//     largest codes and at random ones;
//   - the whole GEMV, computed lane by lane as the kernel does (chunks in the kernel's order, the
//     warp's xor butterfly), against a float64 reference rounded to FP16: every output within one
//     FP16 step of it, and within the competition's tolerance (rtol = atol = 1e-3).
// One PASS or FAIL line a check; exit status 1 on a failure.
#if RUNG == 2
#include "../../solutions/blackwell/13-nvfp4/02_nvfp4_gemv_table.cu"
#elif RUNG == 3
#include "../../solutions/blackwell/13-nvfp4/03_nvfp4_gemv_bits.cu"
#elif RUNG == 4
#include "../../solutions/blackwell/13-nvfp4/04_nvfp4_gemv_ilp.cu"
#elif RUNG == 5
#include "../../solutions/blackwell/13-nvfp4/05_nvfp4_gemv_fused.cu"
#elif RUNG == 6
#include "../../solutions/blackwell/13-nvfp4/06_nvfp4_gemv_sm100.cu"
#include <cuda_fp4.h>
#else
#error "build with -DRUNG=2 .. 6"
#endif

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <vector>

static int failures;
static void check(bool ok, const char *what, const char *detail = "") {
    printf("%s  %s%s%s\n", ok ? "PASS" : "FAIL", what, ok || !*detail ? "" : "  ", ok ? "" : detail);
    if (!ok) failures++;
}

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t next_random() {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 32);
}

// The definitions, from the bits: e2m1 = sign, 2 exponent bits (bias 1), 1 mantissa bit;
// e4m3 = sign, 4 exponent bits (bias 7), 3 mantissa bits; exponent 0 is subnormal in both.
static double e2m1_ref(int code) {
    const int e = (code >> 1) & 3, m = code & 1;
    const double v = e == 0 ? m * 0.5 : ldexp(1.0 + m / 2.0, e - 1);
    return code & 8 ? -v : v;
}
static double e4m3_ref(int code) {
    const int e = (code >> 3) & 15, m = code & 7;
    const double v = e == 0 ? ldexp(m / 8.0, -6) : ldexp(1.0 + m / 8.0, e - 7);
    return code & 0x80 ? -v : v;
}
static bool same(double a, double b) { return a == b && signbit(a) == signbit(b); }

// ---- decoding, all 256 bytes ------------------------------------------------------------------
#if RUNG == 2
static void test_decode() {
    float table[16];
    int wrong = 0;
    for (int code = 0; code < 16; code++) {
        table[code] = e2m1_table_entry(code);
        wrong += !same(table[code], e2m1_ref(code));
    }
    check(!wrong, "02 e2m1_table_entry: the 16 codes, -0 included");
    wrong = 0;
    for (int x = 0; x < 256; x++)
        for (int y = 0; y < 256; y++)
            wrong += table_byte_dot(table, x, y) != e2m1_ref(x & 15) * e2m1_ref(y & 15) + e2m1_ref(x >> 4) * e2m1_ref(y >> 4);
    check(!wrong, "02 table_byte_dot: all 65536 pairs of bytes, low nibble with low nibble");
}
#elif RUNG == 3 || RUNG == 4
static void test_decode() {
    int wrong = 0;
    for (int x = 0; x < 256; x++)
        wrong += !same(e2m1_to_float(x), e2m1_ref(x & 15)) || !same(e2m1_to_float(x >> 4), e2m1_ref(x >> 4));
    check(!wrong, "e2m1_to_float: both nibbles of all 256 bytes (only the low 4 bits count)");
    wrong = 0;
    for (int x = 0; x < 256; x++) wrong += (x & 0x7F) != 0x7F && !same(e4m3_to_float(x), e4m3_ref(x));
    check(!wrong, "e4m3_to_float (given): the 254 finite codes, subnormals and -0 included");
}
#else
// A decoder's 4 pairs for a word, each half checked against the code it should hold, for every
// byte value in every byte place. lo_code(p) / hi_code(p): the code index (0..7) in pair p.
template <class Decoder>
static int check_pairs(int (*lo_code)(int), int (*hi_code)(int), double worth) {
    int wrong = 0;
    for (int place = 0; place < 4; place++)
        for (int x = 0; x < 256; x++) {
            const uint32_t w = (0x5A3C96E1u & ~(0xFFu << (8 * place))) | ((uint32_t)x << (8 * place));
            uint32_t pairs[4];
            Decoder::decode(w, pairs);
            for (int p = 0; p < 4; p++) {
                const double lo = half_bits_to_float(pairs[p] & 0xFFFF), hi = half_bits_to_float(pairs[p] >> 16);
                wrong += !same(lo, e2m1_ref((w >> (4 * lo_code(p))) & 15) * worth);
                wrong += !same(hi, e2m1_ref((w >> (4 * hi_code(p))) & 15) * worth);
            }
        }
    return wrong;
}
static int nibble_p(int p) { return p; }
static int nibble_p4(int p) { return p + 4; }
#if RUNG == 6
static int nibble_2p(int p) { return 2 * p; }
static int nibble_2p1(int p) { return 2 * p + 1; }

// What cvt.rn.f16x2.e2m1x2 does, on the CPU: pair p = byte p, low nibble in the low half, exact.
struct E2m1PairsConvertOnCpu {
    static void decode(uint32_t w, uint32_t pairs[4]) {
        for (int p = 0; p < 4; p++) {
            const uint32_t byte = (w >> (8 * p)) & 0xFF;
            pairs[p] = (uint32_t)float_to_half_bits((float)e2m1_ref(byte & 15)) |
                       ((uint32_t)float_to_half_bits((float)e2m1_ref(byte >> 4)) << 16);
        }
    }
    static float value_scale() { return 1.0f; }
};
#endif

// Every block sum exact: random blocks, and the largest ones (all codes +-6, one sign and mixed).
template <class Decoder>
static int check_block_sums_exact() {
    int wrong = 0;
    for (int trial = 0; trial < 20000; trial++) {
        uint32_t a0 = next_random(), a1 = next_random(), bw0 = next_random(), bw1 = next_random();
        if (trial < 4) {  // codes 7 (6) and 15 (-6): sums of +-288 per half, the extremes
            a0 = a1 = trial & 1 ? 0xFFFFFFFFu : 0x77777777u;
            bw0 = bw1 = trial & 2 ? 0xFFFFFFFFu : 0x77777777u;
        }
        uint4 b0, b1;
        float2 unused;
        uint4 staged[4];
        stage_b_chunk<Decoder>(make_uint4(bw0, bw1, 0, 0), 0, staged, &unused);
        b0 = staged[0], b1 = staged[1];
        double exact = 0;
        for (int i = 0; i < 8; i++) {
            exact += e2m1_ref((a0 >> (4 * i)) & 15) * e2m1_ref((bw0 >> (4 * i)) & 15);
            exact += e2m1_ref((a1 >> (4 * i)) & 15) * e2m1_ref((bw1 >> (4 * i)) & 15);
        }
        wrong += fused_block_sum<Decoder>(a0, a1, b0, b1) != exact * Decoder::value_scale();
    }
    return wrong;
}

static void test_decode() {
#if RUNG == 5
    typedef E2m1PairsBits Decoder;
#else
    typedef E2m1PairsSm100 Decoder;  // on the CPU: the fallback branch
#endif
    check(!check_pairs<Decoder>(nibble_p, nibble_p4, 0x1p-14),
          "bit decoder: every byte in every place; pair p = codes p, p + 4, worth 2^-14 of the value");
    check(!check_block_sums_exact<Decoder>(), "fused_block_sum: 8 HFMA2 per block exact (random and extreme blocks)");
#if RUNG == 6
    int wrong = 0;
    for (int x = 0; x < 256; x++) {
        const __half2_raw h = __nv_cvt_fp4x2_to_halfraw2((__nv_fp4x2_storage_t)x, __NV_E2M1);
        wrong += !same(half_bits_to_float(h.x), e2m1_ref(x & 15)) || !same(half_bits_to_float(h.y), e2m1_ref(x >> 4));
    }
    check(!wrong, "cuda_fp4.h's e2m1x2 -> half2 (the instruction's meaning): low nibble in the low half, all 256 bytes");
    check(!check_pairs<E2m1PairsConvertOnCpu>(nibble_2p, nibble_2p1, 1.0),
          "the conversion's pairing on the CPU: pair p = codes 2p, 2p + 1, exact values");
    check(!check_block_sums_exact<E2m1PairsConvertOnCpu>(), "fused_block_sum with the conversion's pairs exact");
#endif
}
#endif

// ---- the whole GEMV, as the kernel computes it ---------------------------------------------------
static float warp_butterfly(const float lanes[32]) {  // warp_sum's order: xor 16, 8, 4, 2, 1
    float v[32], n[32];
    memcpy(v, lanes, sizeof v);
    for (int off = 16; off > 0; off /= 2) {
        for (int i = 0; i < 32; i++) n[i] = v[i] + v[i ^ off];
        memcpy(v, n, sizeof v);
    }
    return v[0];
}

#if RUNG >= 5
template <class Chunk, class Decoder>
static void emulate_fused(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, uint16_t *c,
                          int M, int K, int L) {
    const int chunks = K / 32;
    std::vector<uint4> pieces((size_t)chunks * 4);
    std::vector<float2> scales(chunks);
    for (int l = 0; l < L; l++) {
        const uint4 *b4 = reinterpret_cast<const uint4 *>(b + (size_t)l * (K / 2));
        const uint16_t *sfb2 = reinterpret_cast<const uint16_t *>(sfb + (size_t)l * (K / 16));
        for (int ch = 0; ch < chunks; ch++) stage_b_chunk<Decoder>(b4[ch], sfb2[ch], &pieces[(size_t)ch * 4], &scales[ch]);
        for (int m = 0; m < M; m++) {
            const size_t row = (size_t)l * M + m;
            const uint4 *a4 = reinterpret_cast<const uint4 *>(a + row * (K / 2));
            const uint16_t *sfa2 = reinterpret_cast<const uint16_t *>(sfa + row * (K / 16));
            float lanes[32];
            for (int lane = 0; lane < 32; lane++) {
                float acc = 0.0f;
                for (int ch = lane; ch < chunks; ch += 32)  // slices and steps keep this order
                    acc = Chunk::dot(a4[ch], sfa2[ch], &pieces[(size_t)ch * 4], scales[ch], acc);
                lanes[lane] = acc;
            }
            c[row] = float_to_half_bits(warp_butterfly(lanes));
        }
    }
}
#endif

static void emulate(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, uint16_t *c, int M,
                    int K, int L, int variant) {
#if RUNG == 2
    (void)variant;
    float table[16];
    for (int code = 0; code < 16; code++) table[code] = e2m1_table_entry(code);
    for (int l = 0; l < L; l++)
        for (int m = 0; m < M; m++) {
            const size_t row = (size_t)l * M + m;
            float lanes[32];
            for (int lane = 0; lane < 32; lane++) {
                float acc = 0.0f;
                for (int j = lane; j < K / 2; j += 32) {
                    const float scale = e4m3_to_float(sfa[row * (K / 16) + j / 8]) * e4m3_to_float(sfb[(size_t)l * (K / 16) + j / 8]);
                    acc += table_byte_dot(table, a[row * (K / 2) + j], b[(size_t)l * (K / 2) + j]) * scale;
                }
                lanes[lane] = acc;
            }
            c[row] = float_to_half_bits(warp_butterfly(lanes));
        }
#elif RUNG == 3 || RUNG == 4
    (void)variant;
    const int chunks = K / 32;
    for (int l = 0; l < L; l++)
        for (int m = 0; m < M; m++) {
            const size_t row = (size_t)l * M + m;
            const uint4 *a4 = reinterpret_cast<const uint4 *>(a + row * (K / 2));
            const uint4 *b4 = reinterpret_cast<const uint4 *>(b + (size_t)l * (K / 2));
            const uint16_t *sa = reinterpret_cast<const uint16_t *>(sfa + row * (K / 16));
            const uint16_t *sb = reinterpret_cast<const uint16_t *>(sfb + (size_t)l * (K / 16));
            float lanes[32];
            for (int lane = 0; lane < 32; lane++) {
                float acc = 0.0f;
                for (int ch = lane; ch < chunks; ch += 32) {
#if RUNG == 3
                    const float s0 = e4m3_to_float(sa[ch] & 0xFF) * e4m3_to_float(sb[ch] & 0xFF);
                    const float s1 = e4m3_to_float(sa[ch] >> 8) * e4m3_to_float(sb[ch] >> 8);
                    acc += chunk_dot_bits(a4[ch], b4[ch], s0, s1);
#else
                    const float2 s = scale_products(sa[ch], sb[ch]);
                    acc += chunk_dot_bits(a4[ch], b4[ch], s.x, s.y);
#endif
                }
                lanes[lane] = acc;
            }
            c[row] = float_to_half_bits(warp_butterfly(lanes));
        }
#elif RUNG == 5
    (void)variant;
    emulate_fused<FusedChunk<E2m1PairsBits>, E2m1PairsBits>(a, sfa, b, sfb, c, M, K, L);
#else
    if (variant == 0) emulate_fused<FusedChunk<E2m1PairsSm100>, E2m1PairsSm100>(a, sfa, b, sfb, c, M, K, L);
    else emulate_fused<FusedChunk<E2m1PairsConvertOnCpu>, E2m1PairsConvertOnCpu>(a, sfa, b, sfb, c, M, K, L);
#endif
}

// Random codes (every byte value), scales from 2^-3 to about 3.75 with one in 16 subnormal: sums
// stay well inside FP16 at K = 16384.
static uint8_t random_scale() {
    if (next_random() % 16 == 0) return (uint8_t)(1 + next_random() % 7);  // subnormal: exponent 0
    return (uint8_t)(((4 + next_random() % 6) << 3) | (next_random() % 8));
}

static void test_shape(int M, int K, int L, int variant, const char *what_variant) {
    std::vector<uint8_t> a((size_t)L * M * K / 2), sfa((size_t)L * M * K / 16), b((size_t)L * K / 2), sfb((size_t)L * K / 16);
    for (auto &x : a) x = (uint8_t)next_random();
    for (auto &x : b) x = (uint8_t)next_random();
    for (auto &x : sfa) x = random_scale();
    for (auto &x : sfb) x = random_scale();
    std::vector<uint16_t> c((size_t)L * M, 0x7E00);  // NaN: unwritten
    emulate(a.data(), sfa.data(), b.data(), sfb.data(), c.data(), M, K, L, variant);
    long bad = -1;
    double bad_ref = 0, worst_rel = 0;
    for (int l = 0; l < L; l++)
        for (int m = 0; m < M; m++) {
            const size_t row = (size_t)l * M + m;
            double ref = 0;
            for (int k = 0; k < K; k++) {
                const int ca = (a[row * (K / 2) + k / 2] >> (4 * (k % 2))) & 15;
                const int cb = (b[(size_t)l * (K / 2) + k / 2] >> (4 * (k % 2))) & 15;
                ref += e2m1_ref(ca) * e4m3_ref(sfa[row * (K / 16) + k / 16]) * e2m1_ref(cb) *
                       e4m3_ref(sfb[(size_t)l * (K / 16) + k / 16]);
            }
            const double got = half_bits_to_float(c[row]);
            const double step = ldexp(1.0, (fabs(ref) < 0x1p-14 ? -14 : ilogb(ref)) - 10);  // FP16's step at ref
            const bool ok = fabs(got - ref) <= step && fabs(got - ref) <= 1e-3 + 1e-3 * fabs(ref);
            if (fabs(ref) > 0) worst_rel = fmax(worst_rel, fabs(got - ref) / fabs(ref));
            if (!ok && bad < 0) bad = (long)row, bad_ref = ref;
        }
    char what[160], detail[200] = "";
    snprintf(what, sizeof what, "GEMV%s at M=%d K=%d L=%d: within one FP16 step of float64 (worst rel %.1e)",
             what_variant, M, K, L, worst_rel);
    if (bad >= 0)
        snprintf(detail, sizeof detail, "c[%ld] = %.6g, expected %.6g", bad, half_bits_to_float(c[bad]), bad_ref);
    check(bad < 0, what, detail);
}

int main() {
    test_decode();
    const int shapes[][3] = {{1, 64, 1},    {3, 128, 2},   {17, 1024, 1}, {7, 2048, 3}, {33, 3072, 2},
                             {128, 256, 1}, {9, 7168, 2},  {5, 16384, 1}, {3, 16448, 2}, {2, 33024, 1}};
    for (const auto &s : shapes) test_shape(s[0], s[1], s[2], 0, "");
#if RUNG == 6
    for (const auto &s : shapes) test_shape(s[0], s[1], s[2], 1, " (the conversion's pairing)");
#endif
    return failures ? 1 : 0;
}
