# Session 11, exercise 2: persistent BF16 GEMM C = A * B^T in Triton, with TMA
#
#   C = A * B^T     A: M x K, B: N x K, C: M x N, all row-major BF16; FP32 accumulation, C rounded
#   to BF16 once; any M, N >= 1, K >= 8 with K % 8 == 0; nothing outside M x N is written.
#   launch(a, b, c, num_sms) enqueues the kernel on the current stream. The grader has already
#   called triton.set_allocator: descriptors made on the device need a little global scratch memory.
#
# Exercise 1's product, restructured the way session 10 restructured the CUDA one:
#   persistent   min(num_sms, tiles) programs, each looping over output tiles in grouped order, so
#                a program's next tile's loads overlap the current tile's epilogue (the loop nest
#                is flattened into one software pipeline) and no launch tail of part-full waves;
#   TMA          A and B tiles arrive through tensor descriptors made on the device
#                (tl.make_tensor_descriptor): one bulk copy per tile instead of per-thread
#                addresses, and out-of-bounds rows and columns come back as zeros, so no masks.
#   C goes out through a descriptor too (TMA clips the edges) when its row stride is a multiple of
#   16 bytes (N % 8 == 0); otherwise through a masked tl.store.
# The TODOs: the descriptors, the persistent loop, the tile order, the K loop, the two epilogues.
# Allowed here: triton, triton.language and math, nothing named with a leading underscore (the
# grader checks the file before it runs it). `make check` grades it.
import triton
import triton.language as tl


@triton.jit
def gemm_nt_persistent_kernel(a_ptr, b_ptr, c_ptr, M, N, K, num_progs,
                              BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP_M: tl.constexpr,
                              C_TMA: tl.constexpr):
    # TODO 1: the descriptors of A and B: tl.make_tensor_descriptor(base, shape=[rows, cols],
    #         strides=[row stride, 1], block_shape=[box rows, box cols]), in elements. A is M x K with
    #         row stride K, read in BM x BK boxes; B is N x K, read in BN x BK boxes. (A descriptor's
    #         row stride must be a multiple of 16 bytes: K % 8 == 0 guarantees it.)

    # TODO 2: only `if C_TMA:` (the launcher sets it where N % 8 == 0), c_desc, the descriptor of C:
    #         M x N, row stride N, BM x BN boxes.

    tiles_m = tl.cdiv(M, BM)
    tiles_n = tl.cdiv(N, BN)
    k_tiles = tl.cdiv(K, BK)
    per_group = GROUP_M * tiles_n
    # TODO 3: make the loop persistent. As written each program does one tile; make it start at
    #         tl.program_id(0), stop at tiles_m * tiles_n and step by num_progs, and pass flatten=True
    #         to tl.range: the compiler then pipelines the (tile, k) pairs as one loop, issuing the
    #         next tile's first loads while this tile's last products and its store are in flight.
    for tile in tl.range(tl.program_id(0), tl.program_id(0) + 1):
        # TODO 4: this tile's corner (off_m, off_n), in elements, in exercise 1's grouped order:
        #         first_m = (tile // per_group) * GROUP_M, group_rows = tl.minimum(tiles_m - first_m,
        #         GROUP_M), off_m = (first_m + (tile % per_group) % group_rows) * BM,
        #         off_n = ((tile % per_group) // group_rows) * BN.

        acc = tl.zeros((BM, BN), dtype=tl.float32)
        for k in range(k_tiles):
            # TODO 5: a = a_desc.load([off_m, k * BK]), b likewise from b_desc at [off_n, k * BK]
            #         (no masks: TMA returns zeros past M, N and K), then acc = tl.dot(a, b.T, acc).
            pass

        # TODO 6: the epilogue, c = acc.to(tl.bfloat16) written once. If C_TMA: c_desc.store([off_m,
        #         off_n], c), and TMA writes only what lies inside M x N. Else: exercise 1's masked
        #         tl.store, rows off_m + tl.arange(0, BM) (64-bit times N), columns off_n +
        #         tl.arange(0, BN), mask (rows < M) & (columns < N).


def launch(a, b, c, num_sms):
    M, K = a.shape
    N = b.shape[0]
    # 128 x 256 x 64 over two warpgroups once the tiles fill every SM several times, 128 x 128
    # below; 3 stages of A and B (48 KB each at 128 x 256) plus C's staging tile fit in 227 KB.
    if M * N >= 4096 * 4096:
        BM, BN, BK, warps, stages = 128, 256, 64, 8, 3
    else:
        BM, BN, BK, warps, stages = 128, 128, 64, 8, 4
    tiles = triton.cdiv(M, BM) * triton.cdiv(N, BN)
    progs = min(num_sms, tiles)
    gemm_nt_persistent_kernel[(progs,)](a, b, c, M, N, K, progs, BM=BM, BN=BN, BK=BK, GROUP_M=8,
                                        C_TMA=(N % 8 == 0), num_warps=warps, num_stages=stages)
