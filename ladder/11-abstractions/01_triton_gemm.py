# Session 11, exercise 1: BF16 GEMM C = A * B^T in Triton
#
#   C = A * B^T     A: M x K, B: N x K, C: M x N, all row-major BF16 ("NT": both operands K-major);
#   FP32 accumulation, C rounded to BF16 once at the end; any M, N >= 1, K >= 8 with K % 8 == 0;
#   nothing outside M x N is written. launch(a, b, c) gets the three matrices (they have .shape,
#   .stride(), .dtype, .data_ptr()) and enqueues the kernel on the current stream.
#
# The same GEMM as sessions 04-06 in about forty lines: one program computes one BM x BN tile of C,
# walking K in BK steps; tl.dot is the tensor-core MMA, and Triton itself writes the cp.async
# multistage pipeline (num_stages), the swizzled shared memory and the wgmma/mma.sync fragments.
# What is left to you (the TODOs): which tile each program takes (grouped order, for L2 reuse), the
# pointer arithmetic, the edges (masks), the epilogue. The launcher and its tile choice are given.
# Allowed here: triton, triton.language and math, nothing named with a leading underscore (the
# grader checks the file before it runs it). `make check` grades it.
import triton
import triton.language as tl


@triton.jit
def gemm_nt_kernel(a_ptr, b_ptr, c_ptr, M, N, K,
                   BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP_M: tl.constexpr):
    pid = tl.program_id(0)
    tiles_m = tl.cdiv(M, BM)
    tiles_n = tl.cdiv(N, BN)

    # TODO 1: this program's tile, (pid_m, pid_n), in grouped order: consecutive programs sweep
    #         GROUP_M tile rows down one tile column before moving one column right, so that the
    #         programs running together share rows of A and columns of B in L2. With
    #         per_group = GROUP_M * tiles_n programs in a group: first_m = (pid // per_group) * GROUP_M,
    #         group_rows = tl.minimum(tiles_m - first_m, GROUP_M) (the last group may be short),
    #         pid_m = first_m + (pid % per_group) % group_rows, pid_n = (pid % per_group) // group_rows.

    # TODO 2: the index vectors. rm: the BM rows of A this tile needs, pid_m * BM + tl.arange(0, BM),
    #         taken % M so that rows past the end wrap onto valid ones (their results land outside
    #         C and are never stored, so the loads need no row mask); rn likewise for B, % N;
    #         rk = tl.arange(0, BK).

    # TODO 3: the pointer tiles a_ptrs (BM x BK) and b_ptrs (BN x BK): base + row * K + column,
    #         built by broadcasting, rm[:, None] * K + rk[None, :]. Make the row index 64-bit first
    #         (rm.to(tl.int64)): M * K may pass 2^31.

    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BK)):
        # TODO 4: load the K slice k of both tiles with tl.load(ptrs, mask=..., other=0.0). The
        #         last slice may be partial (K % BK != 0): mask columns with rk[None, :] < K - k * BK;
        #         the zeros loaded there add nothing to the product.

        # TODO 5: acc = tl.dot(a, tl.trans(b), acc) (B's tile is N x K, the MMA wants K x N; Triton
        #         reads it K-major without moving data), then advance both pointer tiles by BK.
        pass

    # TODO 6: the epilogue. Row and column indices of C without the wrap, cm = pid_m * BM +
    #         tl.arange(0, BM) and cn likewise; pointers c_ptr + cm (64-bit) * N + cn; one
    #         tl.store of acc.to(tl.bfloat16), masked with (cm < M) & (cn < N).


def launch(a, b, c):
    M, K = a.shape
    N = b.shape[0]
    # One fixed tile per size class, no autotuning: 256 x 128 x 64 over 8 warps (two warpgroups of
    # wgmma, each 128 x 128; 3 stages = 144 KB of shared memory; on an H200 it beat 128 x 256 and
    # 128 x 128) once there are enough tiles to fill the machine several times; 128 x 128 below
    # that; 64 x 64 for small products, where more programs beat bigger tiles.
    if M * N >= 4096 * 4096:
        BM, BN, BK, warps, stages = 256, 128, 64, 8, 3
    elif M * N >= 1024 * 1024:
        BM, BN, BK, warps, stages = 128, 128, 64, 4, 4
    else:
        BM, BN, BK, warps, stages = 64, 64, 64, 4, 3
    grid = (triton.cdiv(M, BM) * triton.cdiv(N, BN),)
    gemm_nt_kernel[grid](a, b, c, M, N, K, BM=BM, BN=BN, BK=BK, GROUP_M=8,
                         num_warps=warps, num_stages=stages)
