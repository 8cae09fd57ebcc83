# Session 11, exercise 2: persistent BF16 GEMM C = A * B^T in Triton, with TMA (solution)
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
import triton
import triton.language as tl


@triton.jit
def gemm_nt_persistent_kernel(a_ptr, b_ptr, c_ptr, M, N, K, num_progs,
                              BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP_M: tl.constexpr,
                              C_TMA: tl.constexpr):
    # Descriptors: the whole matrix (shape, strides in elements) and the box one load moves.
    a_desc = tl.make_tensor_descriptor(a_ptr, shape=[M, K], strides=[K, 1], block_shape=[BM, BK])
    b_desc = tl.make_tensor_descriptor(b_ptr, shape=[N, K], strides=[K, 1], block_shape=[BN, BK])
    if C_TMA:  # only where N * 2 bytes is a multiple of 16, as a descriptor's strides must be
        c_desc = tl.make_tensor_descriptor(c_ptr, shape=[M, N], strides=[N, 1], block_shape=[BM, BN])

    tiles_m = tl.cdiv(M, BM)
    tiles_n = tl.cdiv(N, BN)
    k_tiles = tl.cdiv(K, BK)
    per_group = GROUP_M * tiles_n
    # flatten=True: one pipeline over (tile, k) pairs, so the next tile's first loads are issued
    # while this tile's last products and its store are still in flight.
    for tile in tl.range(tl.program_id(0), tiles_m * tiles_n, num_progs, flatten=True):
        first_m = (tile // per_group) * GROUP_M
        group_rows = tl.minimum(tiles_m - first_m, GROUP_M)
        off_m = (first_m + (tile % per_group) % group_rows) * BM
        off_n = ((tile % per_group) // group_rows) * BN

        acc = tl.zeros((BM, BN), dtype=tl.float32)
        for k in range(k_tiles):
            a = a_desc.load([off_m, k * BK])  # zeros past M and past K
            b = b_desc.load([off_n, k * BK])  # zeros past N and past K
            acc = tl.dot(a, b.T, acc)

        c = acc.to(tl.bfloat16)
        if C_TMA:
            c_desc.store([off_m, off_n], c)  # TMA writes only what lies inside M x N
        else:
            cm = off_m + tl.arange(0, BM)
            cn = off_n + tl.arange(0, BN)
            tl.store(c_ptr + cm.to(tl.int64)[:, None] * N + cn[None, :], c,
                     mask=(cm[:, None] < M) & (cn[None, :] < N))


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
