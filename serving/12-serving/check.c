/* Session 12 check driver: serving kernels, each judged against the memory roof.
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 *
 * What each exercise reads and writes, its reference and its byte count: grader/serving.h. */
#include "exercises.h"
#include "gemm.h"
#include "grader.h"
#include "serving.h"

#define S(i) ((int)c->shape.d[i])

static void gemv_launch(gr_case *c, cudaStream_t s) {
    gemv_bf16(gr_ptr(c, "W"), gr_ptr(c, "X"), gr_ptr(c, "Y"), S(0), S(1), S(2), s);
}
static void rmsnorm_qkv_launch(gr_case *c, cudaStream_t s) {
    rmsnorm_qkv(gr_ptr(c, "X"), gr_ptr(c, "gamma"), (float)c->param[0], gr_ptr(c, "W"), gr_ptr(c, "Y"), S(0), S(1),
                S(2), s);
}
static void kv_write_launch(gr_case *c, cudaStream_t s) {
    paged_kv_write(gr_ptr(c, "k_new"), gr_ptr(c, "v_new"), gr_ptr(c, "slot_of"), gr_ptr(c, "k_cache"),
                   gr_ptr(c, "v_cache"), S(0), S(1), S(2), s);
}
static void decode_launch(gr_case *c, cudaStream_t s) {
    paged_decode(gr_ptr(c, "q"), gr_ptr(c, "k_cache"), gr_ptr(c, "v_cache"), gr_ptr(c, "block_table"),
                 gr_ptr(c, "seq_len"), (int)c->param[1], (float)c->param[0], gr_ptr(c, "out"), S(0), S(1), S(2), S(3),
                 s);
}
static void decode_split_launch(gr_case *c, cudaStream_t s) {
    paged_decode_split(gr_ptr(c, "q"), gr_ptr(c, "k_cache"), gr_ptr(c, "v_cache"), gr_ptr(c, "block_table"),
                       gr_ptr(c, "seq_len"), (int)c->param[1], (float)c->param[0], gr_ptr(c, "out"), S(0), S(1),
                       S(2), S(3), gr_ptr(c, "work"), s);
}
static void w4a16_launch(gr_case *c, cudaStream_t s) {
    gemv_w4a16(gr_ptr(c, "W4"), gr_ptr(c, "scales"), gr_ptr(c, "X"), gr_ptr(c, "Y"), S(0), S(1), S(2), s);
}
static void fp8_launch(gr_case *c, cudaStream_t s) {
    gemv_fp8(gr_ptr(c, "W8"), gr_ptr(c, "scales"), gr_ptr(c, "X"), gr_ptr(c, "Y"), S(0), S(1), S(2), s);
}

/* One output; odd N and K (no 128-bit load divides them); a batch of 3 and of 8; short and wide
 * (split-K's case) and tall and narrow. */
#define GEMV_SHAPES                                                                                          \
    {GR_SHAPE(1, 1, 1), GR_SHAPE(1, 17, 8), GR_SHAPE(1, 127, 1000), GR_SHAPE(3, 1000, 127), GR_SHAPE(1, 64, 8192), \
     GR_SHAPE(8, 520, 264), GR_SHAPE(1, 4099, 96), GR_SHAPE(2, 33, 4104), GR_SHAPE(16, 200, 72)}
#define GEMV(file, summary, tip, launch_fn, size)                                                             \
    {.name = file, .what = summary, .hint = tip, .compute = GR_ROOF_HBM, .check_shapes = GEMV_SHAPES,         \
     .bench_shape = size, .declare = sv_gemv_declare, .launch = launch_fn, .reference = sv_gemv_reference,    \
     .tolerance = gr_bf16_gemm_nt_tolerance, .flops = gr_gemm_flops, .bytes = gr_bf16_gemm_nt_bytes,        \
     .library = sv_gemv_library, .library_name = "cuBLAS BF16", .library_label = gr_bf16_gemm_nt_library_label}
#define GEMV_WHAT "Y = X W^T at batch 1: a warp per row, 16-byte loads, rows in flight, split-K when short"
#define GEMV_HINT "each warp sums one row of W against X; lanes take 16-byte chunks, then __shfl_xor_sync"

/* Shapes the quantised weights allow: K a multiple of the 128-element group. Their tolerance is the
 * BF16 GEMV's: the scaled weights are exact in float32, the scale's rounding one more eps a term. */
#define QUANT_SHAPES                                                                                         \
    {GR_SHAPE(1, 1, 128), GR_SHAPE(1, 17, 256), GR_SHAPE(3, 127, 1024), GR_SHAPE(8, 1000, 384),              \
     GR_SHAPE(1, 64, 8192), GR_SHAPE(2, 4099, 128), GR_SHAPE(16, 200, 640)}
#define QUANT(file, summary, tip, launch_fn, prefix, size)                                                    \
    {.name = file, .what = summary, .hint = tip, .compute = GR_ROOF_HBM, .check_shapes = QUANT_SHAPES,        \
     .bench_shape = size, .declare = prefix##_declare, .adjust_inputs = prefix##_adjust, .launch = launch_fn, \
     .reference = prefix##_reference, .tolerance = gr_bf16_gemm_nt_tolerance, .flops = gr_gemm_flops,                \
     .bytes = prefix##_bytes}
#define W4_WHAT "Y = X W^T with 4-bit weights, a BF16 scale per 128: unpack two weights a byte in registers"
#define W4_HINT "low nibble first; sign-extend the nibble ((q ^ 8) - 8); the group of k is k / 128"
#define FP8_WHAT "Y = X W^T with FP8 e4m3 weights and a float scale per 128 weights of a row"
#define FP8_HINT "e4m3: exponent bias 7, subnormals at exponent 0; apply the scale once per group"

/* Sequences of ragged lengths (drawn up to the last extent), one token, lengths one past a page,
 * grouped heads 1, 4, 6 and 8 query heads per KV head, head dims 64 and 128. */
#define DECODE_SHAPES                                                                                        \
    {GR_SHAPE(1, 1, 1, 64, 1), GR_SHAPE(1, 4, 1, 128, 17), GR_SHAPE(3, 8, 2, 64, 100),                      \
     GR_SHAPE(5, 32, 8, 128, 300), GR_SHAPE(2, 8, 8, 128, 1000), GR_SHAPE(7, 16, 2, 64, 33),                \
     GR_SHAPE(1, 32, 8, 128, 5000), GR_SHAPE(2, 12, 2, 64, 150), GR_SHAPE(2, 64, 8, 128, 257)}
#define DECODE(file, summary, tip, launch_fn, size)                                                           \
    {.name = file, .what = summary, .hint = tip, .compute = GR_ROOF_HBM, .check_shapes = DECODE_SHAPES,       \
     .bench_shape = size, .declare = sv_decode_declare, .adjust_inputs = sv_decode_adjust, .launch = launch_fn, \
     .reference = sv_decode_reference, .tolerance = sv_decode_tolerance, .flops = sv_decode_flops,           \
     .bytes = sv_decode_bytes, .bench_note = sv_decode_note}
#define DECODE_WHAT "paged-attention decode, grouped heads: one block per (sequence, KV head), online softmax"
#define DECODE_HINT                                                                                          \
    "token t of sequence b: block block_table[b][t / 16], slot t % 16; query head h reads KV head h / (Hq / Hkv)"
#define SPLIT_WHAT "flash-decoding: a sequence's tokens split over blocks, partials combined by their log-sum-exp"
#define SPLIT_HINT "each split keeps its max and sum; combine with weights exp(lse_i - lse_max)"

static const gr_exercise EXERCISES[] = {
    GEMV("01_gemv_bf16", GEMV_WHAT, GEMV_HINT, gemv_launch, GR_SHAPE(1, 14336, 4096)),
    GEMV("01_gemv_bf16+wide", GEMV_WHAT, GEMV_HINT, gemv_launch, GR_SHAPE(1, 4096, 14336)),
    GEMV("01_gemv_bf16+square", GEMV_WHAT, GEMV_HINT, gemv_launch, GR_SHAPE(1, 4096, 4096)),
    GEMV("01_gemv_bf16+batch8", GEMV_WHAT, GEMV_HINT, gemv_launch, GR_SHAPE(8, 14336, 4096)),
    {.name = "02_rmsnorm_qkv", .what = "RMSNorm fused into the QKV projection: the normalised row stays on chip",
     .hint = "sum x^2 of the row first (a block reduction), then the GEMV with x * gamma * inv_rms on the fly",
     .compute = GR_ROOF_HBM, .check_shapes = GEMV_SHAPES, .bench_shape = GR_SHAPE(1, 6144, 4096),
     .declare = sv_rmsnorm_qkv_declare, .adjust_inputs = sv_rmsnorm_qkv_adjust, .launch = rmsnorm_qkv_launch,
     .reference = sv_rmsnorm_qkv_reference,
     .tolerance = sv_rmsnorm_qkv_tolerance, .flops = sv_rmsnorm_qkv_flops, .bytes = sv_rmsnorm_qkv_bytes,
     .library = sv_rmsnorm_qkv_library, .library_name = "RMSNorm kernel + cuBLAS"},
    {.name = "03_paged_kv_write", .what = "new keys and values into a paged KV cache, through a slot mapping",
     .hint = "slot s is block s / 16, position s % 16; a negative slot is padding: write nothing",
     .compute = GR_ROOF_HBM,
     .check_shapes = {GR_SHAPE(1, 1, 64, 4), GR_SHAPE(17, 2, 128, 8), GR_SHAPE(100, 8, 64, 40),
                      GR_SHAPE(33, 8, 128, 3), GR_SHAPE(257, 4, 128, 100)},
     .bench_shape = GR_SHAPE(4096, 8, 128, 2048), .declare = sv_kv_write_declare, .adjust_inputs = sv_kv_write_adjust,
     .launch = kv_write_launch, .reference = sv_kv_write_reference, .tolerance = sv_kv_write_tolerance,
     .bytes = sv_kv_write_bytes},
    DECODE("04_paged_decode", DECODE_WHAT, DECODE_HINT, decode_launch, GR_SHAPE(32, 32, 8, 128, 4096)),
    DECODE("04_paged_decode+batch1", DECODE_WHAT, DECODE_HINT, decode_launch, GR_SHAPE(1, 32, 8, 128, 32768)),
    DECODE("05_paged_decode_split", SPLIT_WHAT, SPLIT_HINT, decode_split_launch, GR_SHAPE(1, 32, 8, 128, 32768)),
    DECODE("05_paged_decode_split+batch32", SPLIT_WHAT, SPLIT_HINT, decode_split_launch,
           GR_SHAPE(32, 32, 8, 128, 4096)),
    QUANT("06_gemv_w4a16", W4_WHAT, W4_HINT, w4a16_launch, sv_w4a16, GR_SHAPE(1, 14336, 4096)),
    QUANT("06_gemv_w4a16+batch8", W4_WHAT, W4_HINT, w4a16_launch, sv_w4a16, GR_SHAPE(8, 14336, 4096)),
    QUANT("07_gemv_fp8", FP8_WHAT, FP8_HINT, fp8_launch, sv_fp8, GR_SHAPE(1, 14336, 4096)),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "serving/12-serving", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
