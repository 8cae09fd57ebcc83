# Session 11, exercise 1: BF16 GEMM C = A * B^T in Triton (solution)
#
#   C = A * B^T     A: M x K, B: N x K, C: M x N, all row-major BF16 ("NT": both operands K-major);
#   FP32 accumulation, C rounded to BF16 once at the end; any M, N >= 1, K >= 8 with K % 8 == 0;
#   nothing outside M x N is written. launch(a, b, c) gets the three matrices (they have .shape,
#   .stride(), .dtype, .data_ptr()) and enqueues the kernel on the current stream.
#
# The same GEMM as sessions 04-06 in about forty lines: one program computes one BM x BN tile of C,
# walking K in BK steps; tl.dot is the tensor-core MMA, and Triton itself writes the cp.async
# multistage pipeline (num_stages), the swizzled shared memory and the wgmma/mma.sync fragments.
# What is left to us: which tile each program takes (grouped order, for L2 reuse), the pointer
# arithmetic, the edges (masks), the epilogue, and the choice of tile.
import triton
import triton.language as tl


@triton.jit
def gemm_nt_kernel(a_ptr, b_ptr, c_ptr, M, N, K,
                   BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP_M: tl.constexpr):
    # Grouped order: consecutive programs sweep GROUP_M tile rows down one tile column before moving
    # right, so the A rows and B columns that programs running together read stay in L2.
    pid = tl.program_id(0)
    tiles_m = tl.cdiv(M, BM)
    tiles_n = tl.cdiv(N, BN)
    per_group = GROUP_M * tiles_n
    first_m = (pid // per_group) * GROUP_M
    group_rows = tl.minimum(tiles_m - first_m, GROUP_M)
    pid_m = first_m + (pid % per_group) % group_rows
    pid_n = (pid % per_group) // group_rows

    # Rows of A and B past M or N wrap onto valid rows (their products land outside C and are never
    # stored), so only the K edge needs a mask. 64-bit row offsets: M * K may pass 2^31.
    rm = (pid_m * BM + tl.arange(0, BM)) % M
    rn = (pid_n * BN + tl.arange(0, BN)) % N
    rk = tl.arange(0, BK)
    a_ptrs = a_ptr + rm.to(tl.int64)[:, None] * K + rk[None, :]
    b_ptrs = b_ptr + rn.to(tl.int64)[:, None] * K + rk[None, :]

    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BK)):
        k_ok = rk[None, :] < K - k * BK  # the last K tile may be partial: zeros add nothing
        a = tl.load(a_ptrs, mask=k_ok, other=0.0)
        b = tl.load(b_ptrs, mask=k_ok, other=0.0)
        acc = tl.dot(a, tl.trans(b), acc)  # B's tile is N x K; the MMA wants K x N
        a_ptrs += BK
        b_ptrs += BK

    # Epilogue: one rounding to BF16, stores masked to M x N.
    cm = pid_m * BM + tl.arange(0, BM)
    cn = pid_n * BN + tl.arange(0, BN)
    c_ptrs = c_ptr + cm.to(tl.int64)[:, None] * N + cn[None, :]
    tl.store(c_ptrs, acc.to(tl.bfloat16), mask=(cm[:, None] < M) & (cn[None, :] < N))


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
