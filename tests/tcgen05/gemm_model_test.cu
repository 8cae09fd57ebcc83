// Session 13, exercise 07 (the tcgen05 NVFP4 GEMM) on the CPU. No GPU here can run sm_100a code,
// so the solution's own layout and descriptor functions, and its kernel's three phases (the copies
// of one K step into shared memory, the tcgen05 work issued by one thread, the accumulator read
// out), are run on the host against a model of what the hardware does with them:
//   - the instruction descriptor, field by field, against the PTX ISA's table for .kind::mxf4nvf4;
//   - the shared-memory descriptors, field by field, against the PTX ISA's table for tcgen05;
//   - load_step fills every byte of a stage exactly once;
//   - A and B read back through the operand descriptors (the no-swizzle K-major layout: core
//     matrices of 8 rows x 16 bytes, LBO between core matrices along K, SBO between 8-row groups)
//     are the global bytes of the tile; the scales read back through tcgen05.cp .32x128b.warpx4
//     into TMEM and the MMA's view of them (row r: lane r, column r / 32 of the chunk, byte j for
//     values 16j .. 16j + 15) are the global scales;
//   - the whole kernel followed tile by tile (MMAs emulated in FP32) equals a float64 reference.
// What the model cannot prove: that the hardware reads these layouts as the model does (our
// reading of the PTX ISA, cross-checked against how CUTLASS and DeepGEMM arrange their scales),
// the fences, barriers and the pipeline's parities, and anything about speed. Only a B200 can.
//
// Built and run by tests/tcgen05-test.sh, once with the solution and once with the skeleton
// (-DTEST_SKELETON), which must fail. One PASS or FAIL line a check; exit status 1 on a failure.
#ifdef TEST_SKELETON
#include "../../blackwell/13-tcgen05/07_tcgen05_gemm.cu"
#else
#include "../../solutions/blackwell/13-tcgen05/07_tcgen05_gemm.cu"
#endif

#include <cuda_fp8.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <vector>

static int failures;
static void check(bool ok, const char *what, const char *detail = "") {
    printf("%s  %s%s%s\n", ok ? "PASS" : "FAIL", what, ok || !*detail ? "" : "  ", ok ? "" : detail);
    if (!ok) failures++;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t next_random() {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 32);
}

// ---- the number formats ----------------------------------------------------------------------------
static double e2m1_value(int code) {
    static const double magnitude[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
    return (code & 8 ? -1 : 1) * magnitude[code & 7];
}
static double e4m3_value(uint8_t code) {
    const int e = (code >> 3) & 15, m = code & 7;
    const double v = e == 0 ? m * ldexp(1.0, -9) : (1 + m / 8.0) * ldexp(1.0, e - 7);
    return code & 0x80 ? -v : v;
}
static void test_e4m3_against_cuda() {
    int wrong = 0;
    for (int code = 0; code < 256; code++) {
        if ((code & 0x7F) == 0x7F) continue;   // NaN, never a scale
        const __half_raw raw = __nv_cvt_fp8_to_halfraw((__nv_fp8_storage_t)code, __NV_E4M3);
        if ((double)__half2float(__half(raw)) != e4m3_value((uint8_t)code)) wrong++;
    }
    check(!wrong, "the model's e4m3 decoder equals cuda_fp8.h's on the 254 finite codes");
}

// ---- descriptors, field by field --------------------------------------------------------------------
static uint32_t bits(uint64_t word, int lo, int hi) { return (uint32_t)((word >> lo) & ((1ull << (hi - lo + 1)) - 1)); }

static void test_instr_desc() {
    const uint32_t d = nvfp4_instr_desc(128, 128);
    char detail[160];
    snprintf(detail, sizeof detail, "got 0x%08X", d);
    // The PTX ISA's table (tcgen05 instruction descriptor, .kind::mxf4nvf4), one field a line.
    const bool fields = bits(d, 0, 1) == 0 && bits(d, 2, 2) == 0 && bits(d, 3, 3) == 0   // dense, reserved
                        && bits(d, 4, 5) == 0                                           // B scale byte
                        && bits(d, 6, 6) == 0 && bits(d, 7, 9) == 1 && bits(d, 10, 12) == 1   // E2M1, E2M1
                        && bits(d, 13, 14) == 0 && bits(d, 15, 16) == 0                 // no negation, K-major
                        && bits(d, 17, 22) == 128 >> 3 && bits(d, 23, 23) == 0          // N, UE4M3 scales
                        && bits(d, 24, 28) == 128 >> 4 && bits(d, 29, 30) == 0          // M, A scale byte
                        && bits(d, 31, 31) == 0;                                        // K = 64
    check(fields, "instruction descriptor M=128 N=128: every field of the PTX ISA's mxf4nvf4 table", detail);
    check(d == 0x08200480u, "instruction descriptor M=128 N=128 is 0x08200480 (worked by hand)", detail);
    const uint32_t wide = nvfp4_instr_desc(128, 256);
    check(bits(wide, 17, 22) == 32 && (wide & ~(63u << 17)) == (d & ~(63u << 17)),
          "instruction descriptor N=256: only the N field changes, to 32");
}

struct SmemDesc {
    uint32_t start, leading, stride, version, base_offset, lbo_mode, fixed_zero, swizzle;
};
static SmemDesc decode_smem_desc(uint64_t d) {
    return {bits(d, 0, 13) << 4, bits(d, 16, 29) << 4, bits(d, 32, 45) << 4, bits(d, 46, 48),
            bits(d, 49, 51),     bits(d, 52, 52),      bits(d, 53, 60),      bits(d, 61, 63)};
}
static bool plain_tcgen05_desc(const SmemDesc &s) {   // fixed 0b001, no base offset, relative, no swizzle
    return s.version == 1 && s.base_offset == 0 && s.lbo_mode == 0 && s.fixed_zero == 0 && s.swizzle == 0;
}
static const uint32_t SMEM_BASE = 0x400;   // where the model puts the (1024-aligned) stages

static void test_smem_descs() {
    bool ok = true;
    char detail[200] = "";
    for (int k = 0; k < MMAS_PER_STEP && ok; k++) {
        const uint64_t raw = operand_desc(SMEM_BASE + A_OFFSET, k);
        const SmemDesc s = decode_smem_desc(raw);
        ok = plain_tcgen05_desc(s) && s.start == SMEM_BASE + A_OFFSET + 256u * k && s.leading == 128 && s.stride == 1024 &&
             bits(raw, 14, 15) == 0 && bits(raw, 30, 31) == 0;
        if (!ok)
            snprintf(detail, sizeof detail, "MMA %d: start 0x%X LBO %u SBO %u version %u swizzle %u", k, s.start,
                     s.leading, s.stride, s.version, s.swizzle);
    }
    check(ok, "operand descriptors: version 0b001, no swizzle, start + 256 B per MMA, LBO 128, SBO 1024", detail);
    const SmemDesc sf = decode_smem_desc(scale_chunk_desc(SMEM_BASE + SFA_OFFSET));
    check(plain_tcgen05_desc(sf) && sf.start == SMEM_BASE + SFA_OFFSET && sf.stride == 128,
          "scale-chunk descriptor: version 0b001, no swizzle, 8-row groups 128 B apart");
}

// ---- the hardware model ------------------------------------------------------------------------------
struct Model {
    std::vector<uint8_t> smem = std::vector<uint8_t>(STAGES * STAGE_BYTES);
    std::vector<uint32_t> tmem = std::vector<uint32_t>(128 * 512);   // [lane][column]
    bool bad = false;
    char why[200] = "";
    void fail(const char *what) {
        if (!bad) snprintf(why, sizeof why, "%s", what);
        bad = true;
    }
    uint8_t byte_at(uint32_t addr) {
        if (addr < SMEM_BASE || addr >= SMEM_BASE + smem.size()) { fail("a descriptor points outside the stages"); return 0; }
        return smem[addr - SMEM_BASE];
    }
    uint32_t &cell(uint32_t lane, uint32_t column) {
        static uint32_t sink;
        if (lane >= 128 || column >= TMEM_COLUMNS) { fail("a TMEM address outside the allocation"); return sink; }
        return tmem[lane * 512 + column];
    }
    // tcgen05.cp .32x128b.warpx4: row r (16 bytes) of the source -> lane r, 4 columns, in each quarter.
    void copy_scales(uint32_t taddr, uint64_t desc) {
        const SmemDesc s = decode_smem_desc(desc);
        if (!plain_tcgen05_desc(s)) fail("tcgen05.cp: the descriptor is not a no-swizzle tcgen05 descriptor");
        if (taddr >> 16) fail("tcgen05.cp .warpx4 starts at lane 0");
        for (uint32_t r = 0; r < 32; r++)
            for (uint32_t c = 0; c < 4; c++) {
                uint32_t word = 0;
                for (uint32_t b = 0; b < 4; b++) word |= (uint32_t)byte_at(s.start + (r / 8) * s.stride + (r % 8) * 16 + 4 * c + b) << (8 * b);
                for (uint32_t q = 0; q < 4; q++) cell(32 * q + r, (taddr & 0xFFFF) + c) = word;
            }
    }
    // The MMA's view of an operand: byte c (values 2c, 2c + 1) of row r, K-major, no swizzle.
    uint8_t operand_byte(const SmemDesc &s, int r, int c) {
        return byte_at(s.start + (r / 8) * s.stride + (c / 16) * s.leading + (r % 8) * 16 + c % 16);
    }
    // The MMA's view of a scale: row r's scale j (values 16j .. 16j + 15 of this MMA).
    uint8_t scale_byte(uint32_t taddr, int r, int j) { return (uint8_t)(cell(r, (taddr & 0xFFFF) + r / 32) >> (8 * j)); }
    void mma(uint32_t d, uint64_t a_desc, uint64_t b_desc, uint32_t idesc, uint32_t sfa, uint32_t sfb, bool acc) {
        const int M = bits(idesc, 24, 28) << 4, N = bits(idesc, 17, 22) << 3;
        if (bits(idesc, 7, 9) != 1 || bits(idesc, 10, 12) != 1 || bits(idesc, 23, 23) != 0 || bits(idesc, 31, 31) != 0 ||
            bits(idesc, 4, 5) != 0 || bits(idesc, 29, 30) != 0 || bits(idesc, 15, 16) != 0 || bits(idesc, 0, 3) != 0)
            fail("the instruction descriptor is not E2M1 x E2M1, UE4M3 scales, K-major, K = 64");
        if (M != 128 || N != 128) { fail("the instruction descriptor's M and N are not 128 x 128"); return; }
        const SmemDesc a = decode_smem_desc(a_desc), b = decode_smem_desc(b_desc);
        if (!plain_tcgen05_desc(a) || !plain_tcgen05_desc(b)) fail("an operand descriptor is not no-swizzle tcgen05");
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                float sum = 0;
                for (int k = 0; k < MMA_K; k++) {
                    const int qa = operand_byte(a, m, k / 2) >> (4 * (k % 2)) & 15;
                    const int qb = operand_byte(b, n, k / 2) >> (4 * (k % 2)) & 15;
                    sum += (float)(e2m1_value(qa) * e4m3_value(scale_byte(sfa, m, k / 16)) * e2m1_value(qb) *
                                   e4m3_value(scale_byte(sfb, n, k / 16)));
                }
                uint32_t &out = cell((d >> 16) + m, (d & 0xFFFF) + n);
                float prev;
                memcpy(&prev, &out, 4);
                const float v = acc ? prev + sum : sum;
                memcpy(&out, &v, 4);
            }
    }
};

struct HostCopier {   // load_step's copies into the model's shared memory, counting writes per byte
    uint8_t *stage;
    std::vector<int> *writes;
    void bytes16(uint32_t offset, const uint8_t *src) { put(offset, src, 16); }
    void bytes4(uint32_t offset, const uint8_t *src) { put(offset, src, 4); }
    void put(uint32_t offset, const uint8_t *src, int n) {
        if (offset + n > STAGE_BYTES) { (*writes)[0] += 1000; return; }   // outside the stage: counts as overlap
        memcpy(stage + offset, src, n);
        for (int i = 0; i < n; i++) (*writes)[offset + i]++;
    }
};
struct HostTensorCore {   // issue_step's tcgen05 work, executed by the model as it is issued
    Model *model;
    int mmas = 0, copies = 0;
    bool first_accumulates = false;
    void copy_scales(uint32_t taddr, uint64_t desc) { copies++; model->copy_scales(taddr, desc); }
    void mma(uint32_t d, uint64_t a, uint64_t b, uint32_t idesc, uint32_t sfa, uint32_t sfb, bool acc) {
        if (mmas == 0 && acc) first_accumulates = true;
        mmas++;
        model->mma(d, a, b, idesc, sfa, sfb, acc);
    }
};
struct HostLoader {   // tcgen05.ld .32x32b.x32: lane i of the warp reads TMEM lane (taddr >> 16) + i
    Model *model;
    void cols32(uint32_t taddr, int lane, float (&v)[32]) {
        for (int j = 0; j < 32; j++) memcpy(&v[j], &model->cell((taddr >> 16) + lane, (taddr & 0xFFFF) + j), 4);
    }
};

// ---- one problem: inputs, read-backs, the whole kernel ---------------------------------------------------
struct Problem {
    int M, N, K;
    std::vector<uint8_t> a, b, sfa, sfb;
};
static Problem make_problem(int M, int N, int K) {
    Problem p{M, N, K, std::vector<uint8_t>((size_t)M * K / 2), std::vector<uint8_t>((size_t)N * K / 2),
              std::vector<uint8_t>((size_t)M * K / 16), std::vector<uint8_t>((size_t)N * K / 16)};
    for (auto &x : p.a) x = (uint8_t)next_random();
    for (auto &x : p.b) x = (uint8_t)next_random();
    // Positive scales from 2^-6 to about 2^3 (subnormal e4m3 codes included), so that a misplaced
    // scale changes the sum by far more than rounding does.
    for (auto *v : {&p.sfa, &p.sfb})
        for (auto &x : *v) x = (uint8_t)(next_random() % 0x50 + 0x08 * (next_random() % 2));
    return p;
}

static void test_problem(const Problem &p) {
    char what[160], detail[200] = "";
    Model model;
    std::vector<float> D((size_t)p.M * p.N, NAN);
    bool coverage = true, operands = true, scales = true;
    int steps_checked = 0;
    const uint32_t tmem = 0;   // the allocation's base address: lane 0, column 0
    bool first_accumulates = false;
    int mmas = 0, copies = 0;
    for (int tile_m = 0; tile_m < p.M; tile_m += TC_TILE_M)
        for (int tile_n = 0; tile_n < p.N; tile_n += TC_TILE_N) {
            for (int step = 0; step < p.K / TC_STEP_K; step++) {
                const int stage = step % STAGES;
                std::vector<int> writes(STAGE_BYTES, 0);
                HostCopier copier{model.smem.data() + stage * STAGE_BYTES, &writes};
                for (int tid = 0; tid < THREADS; tid++)
                    load_step(copier, tid, p.a.data(), p.sfa.data(), p.b.data(), p.sfb.data(), p.K, tile_m, tile_n, step);
                for (int i = 0; i < STAGE_BYTES && coverage; i++)
                    if (writes[i] != 1) {
                        coverage = false;
                        snprintf(detail, sizeof detail, "stage byte %d written %d times", i, writes[i]);
                    }
                // Read-backs through the descriptors of this step, before the MMAs run.
                const uint32_t stage_addr = SMEM_BASE + stage * STAGE_BYTES;
                for (int k = 0; k < MMAS_PER_STEP && steps_checked < 4; k++) {
                    const SmemDesc da = decode_smem_desc(operand_desc(stage_addr + A_OFFSET, k));
                    const SmemDesc db = decode_smem_desc(operand_desc(stage_addr + B_OFFSET, k));
                    for (int r = 0; r < 128; r++)
                        for (int c = 0; c < MMA_K / 2; c++) {
                            const size_t along = (size_t)step * STEP_BYTES + k * (MMA_K / 2) + c;
                            operands &= model.operand_byte(da, r, c) == p.a[(size_t)(tile_m + r) * (p.K / 2) + along];
                            operands &= model.operand_byte(db, r, c) == p.b[(size_t)(tile_n + r) * (p.K / 2) + along];
                        }
                }
                HostTensorCore tc{&model};
                issue_step(tc, stage_addr, tmem, stage, step);
                if (step == 0 && tc.mmas > 0 && tc.first_accumulates) first_accumulates = true;
                mmas += tc.mmas;
                copies += tc.copies;
                // The scales as the MMAs of this step saw them (the TMEM columns stay until overwritten).
                if (steps_checked < 4 && tc.copies > 0) {
                    const uint32_t sfa_col = tmem + SF_COLUMN + stage * SF_COLUMNS_PER_STAGE, sfb_col = sfa_col + 16;
                    for (int k = 0; k < MMAS_PER_STEP; k++)
                        for (int r = 0; r < 128; r++)
                            for (int j = 0; j < 4; j++) {
                                const size_t along = (size_t)step * (TC_STEP_K / 16) + 4 * k + j;
                                scales &= model.scale_byte(sfa_col + 4 * k, r, j) == p.sfa[(size_t)(tile_m + r) * (p.K / 16) + along];
                                scales &= model.scale_byte(sfb_col + 4 * k, r, j) == p.sfb[(size_t)(tile_n + r) * (p.K / 16) + along];
                            }
                }
                steps_checked++;
            }
            HostLoader loader{&model};
            for (int warp = 0; warp < 4; warp++)
                for (int lane = 0; lane < 32; lane++)
                    store_accumulator(loader, tmem, warp, lane, D.data(), p.N, tile_m, tile_n);
        }
    snprintf(what, sizeof what, "%dx%dx%d: load_step writes every byte of a stage exactly once", p.M, p.N, p.K);
    check(coverage, what, detail);
    snprintf(what, sizeof what, "%dx%dx%d: A and B read back through the operand descriptors are the global bytes", p.M,
             p.N, p.K);
    check(operands && !model.bad, what, model.why);
    snprintf(what, sizeof what, "%dx%dx%d: scales read back through tcgen05.cp and TMEM are the global scales", p.M, p.N, p.K);
    check(scales && copies > 0 && !model.bad, what, copies ? model.why : "no tcgen05.cp issued");
    const int tiles = (p.M / 128) * (p.N / 128), want = tiles * (p.K / TC_STEP_K) * MMAS_PER_STEP;
    snprintf(what, sizeof what, "%dx%dx%d: %d MMAs issued (K / 64 per tile), the first of each tile overwriting D",
             p.M, p.N, p.K, want);
    snprintf(detail, sizeof detail, "%d MMAs%s", mmas, first_accumulates ? ", the first accumulating" : "");
    check(mmas == want && !first_accumulates, what, detail);

    // The kernel's result against float64.
    double worst = 0;
    long worst_at = -1;
    for (int m = 0; m < p.M; m++)
        for (int n = 0; n < p.N; n++) {
            double sum = 0, mag = 0;
            for (int k = 0; k < p.K; k++) {
                const int qa = p.a[(size_t)m * (p.K / 2) + k / 2] >> (4 * (k % 2)) & 15;
                const int qb = p.b[(size_t)n * (p.K / 2) + k / 2] >> (4 * (k % 2)) & 15;
                const double t = e2m1_value(qa) * e4m3_value(p.sfa[(size_t)m * (p.K / 16) + k / 16]) * e2m1_value(qb) *
                                 e4m3_value(p.sfb[(size_t)n * (p.K / 16) + k / 16]);
                sum += t;
                mag += fabs(t);
            }
            const double got = D[(size_t)m * p.N + n];
            const double err = isnan(got) ? INFINITY : fabs(got - sum) / (mag > 0 ? mag : 1);
            if (!(err <= worst)) { worst = err; worst_at = (long)m * p.N + n; }
        }
    snprintf(what, sizeof what, "%dx%dx%d: the kernel followed on the model equals the float64 reference (FP32 sums)",
             p.M, p.N, p.K);
    snprintf(detail, sizeof detail, "worst error %.3g of the terms' magnitude at D[%ld][%ld]", worst,
             worst_at < 0 ? 0 : worst_at / p.N, worst_at < 0 ? 0 : worst_at % p.N);
    check(worst <= 1e-5, what, detail);
}

int main() {
    test_e4m3_against_cuda();
    test_instr_desc();
    test_smem_descs();
    test_problem(make_problem(128, 128, 256));    // one tile, one step
    test_problem(make_problem(256, 384, 1024));   // six tiles, four steps: both stages, twice each
    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
