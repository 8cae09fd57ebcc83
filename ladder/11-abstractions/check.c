/* Session 11 check driver: the GEMM one rung up the abstraction ladder (Triton, CuTe, the CuTe DSL) and
 * FlashAttention in Triton, graded exactly as the raw-CUDA rungs are (the same contract, shapes,
 * references and yardsticks as sessions 10 and 09), so that lines of code and percent of cuBLAS can
 * be set side by side.
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 *
 * The Triton and CuTe DSL files are Python: the check embeds an interpreter (grader/python/) that
 * loads each file under the Python policy and calls its launch() with the grader's device pointers
 * and stream; everything else (inputs, poison, timing, the verdict) is this grader's, as for a .cu
 * file.
 */
#include "attention.h"
#include "exercises.h"
#include "gemm.h"
#include "grader.h"
#include "python/host.h"

static void cute_launch(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    cute_gemm(gr_ptr(c, "A"), gr_ptr(c, "B"), gr_ptr(c, "C"), (int)GR_GEMM_M(s), (int)GR_GEMM_N(s), (int)GR_GEMM_K(s),
              stream);
}

/* 01: launch(a, b, c) with a M x K, b N x K, c M x N. */
static void triton_gemm_launch(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    const long M = GR_GEMM_M(s), N = GR_GEMM_N(s), K = GR_GEMM_K(s);
    gr_py_arg args[] = {GR_PY_BUFFER("A", M, K), GR_PY_BUFFER("B", N, K), GR_PY_BUFFER("C", M, N)};
    gr_py_launch(c, stream, args, 3);
}

/* 02: launch(a, b, c, num_sms): a persistent grid needs the multiprocessor count. */
static void triton_persistent_launch(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    const long M = GR_GEMM_M(s), N = GR_GEMM_N(s), K = GR_GEMM_K(s);
    int device = 0, sms = 1;
    if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess)
        sms = 1;
    gr_py_arg args[] = {GR_PY_BUFFER("A", M, K), GR_PY_BUFFER("B", N, K), GR_PY_BUFFER("C", M, N), GR_PY_INT(sms)};
    gr_py_launch(c, stream, args, 4);
}

/* 03: launch(q, k, v, o, lse, causal), session 09's contract in (batch, heads, seq, head_dim) arrays. */
static void triton_flash_launch(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    const long B = ATTN_B(s), H = ATTN_H(s), SQ = ATTN_SQ(s), SKV = ATTN_SKV(s), D = ATTN_HD(s);
    gr_py_arg args[] = {GR_PY_BUFFER("q", B, H, SQ, D), GR_PY_BUFFER("k", B, H, SKV, D), GR_PY_BUFFER("v", B, H, SKV, D),
                        GR_PY_BUFFER("out", B, H, SQ, D), GR_PY_BUFFER("lse", B, H, SQ), GR_PY_INT(ATTN_CAUSAL(s))};
    gr_py_launch(c, stream, args, 6);
}

/* 05: launch(a, b, c, stream): a CuTe DSL launch names its stream (a CUstream of the grader's). */
static void cutedsl_gemm_launch(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    const long M = GR_GEMM_M(s), N = GR_GEMM_N(s), K = GR_GEMM_K(s);
    gr_py_arg args[] = {GR_PY_BUFFER("A", M, K), GR_PY_BUFFER("B", N, K), GR_PY_BUFFER("C", M, N), GR_PY_STREAM};
    gr_py_launch(c, stream, args, 4);
}

/* (M, N, K), K a multiple of 8: single elements, sizes no tile divides in M and N at once, exact
 * tiles, a partial last K tile, a K long enough to run the pipeline round many times, N past what
 * one row of blocks covers; the bench size is session 10's. */
#define GEMM_SHAPES                                                                                           \
    {GR_SHAPE(1, 1, 8), GR_SHAPE(17, 17, 16), GR_SHAPE(127, 65, 40), GR_SHAPE(33, 127, 8),                    \
     GR_SHAPE(128, 256, 64), GR_SHAPE(1000, 520, 264), GR_SHAPE(257, 129, 72), GR_SHAPE(300, 258, 1000),       \
     GR_SHAPE(65, 264, 2056), GR_SHAPE(1100, 8200, 64), GR_SHAPE(384, 136, 24), GR_SHAPE(520, 1000, 8)}

/* Session 10's BF16 NT GEMM, graded by the grader's one description of it. */
#define NT_GEMM(file, summary, tip, launch_fn, ...)                                                            \
    {.name = file, .what = summary, .hint = tip, .compute = GR_ROOF_BF16, .check_shapes = GEMM_SHAPES,         \
     .bench_shape = GR_SHAPE(8192, 8192, 8192), .declare = gr_bf16_gemm_nt_declare, .launch = launch_fn,      \
     GR_BF16_GEMM_NT_REF, .tolerance = gr_bf16_gemm_nt_tolerance, .flops = gr_gemm_flops,   \
     .bytes = gr_bf16_gemm_nt_bytes, .library = gr_bf16_gemm_nt_library, .library_name = "cuBLAS BF16",       \
     .library_label = gr_bf16_gemm_nt_library_label, .extra_check = gr_bf16_gemm_nt_freivalds, __VA_ARGS__}

/* Session 09's FlashAttention forward, graded by the grader's one description of it. */
#define FLASH(file, summary, tip, shapes, bench)                                                               \
    {.name = file, .what = summary, .hint = tip, .compute = GR_ROOF_BF16, .check_shapes = shapes,              \
     .bench_shape = bench, .declare = gr_flash_declare, .adjust_inputs = gr_attention_stretch_queries,         \
     .launch = triton_flash_launch, .reference = gr_attention_reference, .tolerance = gr_attention_tolerance,  \
     .flops = gr_attention_flops, .bytes = gr_flash_bytes, .full_reference_limit = 4e9, .open = gr_py_open,    \
     .warm_up = true}

#define TRITON_GEMM_HINT "mask the loads of the last K tile and the store of the edge tiles with offs < M, N, K"
#define PERSISTENT_HINT "tile t of program p is p + i * num_programs; its (m, n) come from the same grouped order as 01"
#define FLASH_WHAT "FlashAttention forward in Triton: online softmax over K/V tiles"
#define FLASH_HINT "m_new = max(m, tile max); scale acc and l by exp2(m - m_new); mask keys >= skv and, causal, " \
                   "j > i + skv - sq; a row with no key writes O = 0 and lse = -inf"

static const gr_exercise EXERCISES[] = {
    NT_GEMM("01_triton_gemm", "BF16 GEMM C = A B^T in Triton: tiles, masks, tl.dot", TRITON_GEMM_HINT,
            triton_gemm_launch, .open = gr_py_open, .warm_up = true),
    NT_GEMM("02_triton_gemm_persistent", "the same GEMM in Triton, persistent, with TMA descriptors on Hopper",
            PERSISTENT_HINT, triton_persistent_launch, .open = gr_py_open, .warm_up = true),
    FLASH("03_triton_flash", FLASH_WHAT, FLASH_HINT, GR_FLASH_SHAPES, GR_FLASH_BENCH_FULL),
    FLASH("03_triton_flash+causal", FLASH_WHAT " (causal)", FLASH_HINT, GR_FLASH_CAUSAL_SHAPES, GR_FLASH_BENCH_CAUSAL),
    NT_GEMM("04_cute_gemm", "BF16 GEMM C = A B^T in CuTe: layouts, a tiled copy, an MMA atom",
            "predicate every copy and store on an identity tensor of (M, N, K); ldmatrix and cp.async must share the swizzle",
            cute_launch),
    NT_GEMM("05_cutedsl_gemm", "BF16 GEMM C = A B^T in the CuTe DSL: TMA, an mbarrier ring, wgmma, warp specialization",
            "TODO 1 and 2 go together (a stage never released hangs the producer); guard each store of an unaligned C "
            "with elem_less on an identity tensor of (M, N)",
            cutedsl_gemm_launch, .open = gr_py_open, .warm_up = true, .needs_arch = "sm_90a"),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "ladder/11-abstractions", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
