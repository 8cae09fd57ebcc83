# Session 11, exercise 5: BF16 GEMM C = A * B^T in the CuTe Python DSL, for Hopper (sm_90a) (solution)
#
#   C = A * B^T     A: M x K, B: N x K, C: M x N, all row-major BF16 ("NT": both operands K-major);
#   FP32 accumulation, C rounded to BF16 once at the end; any M, N >= 1, K >= 8 with K % 8 == 0;
#   nothing outside M x N is written. launch(a, b, c, stream) gets the three matrices (.shape and
#   .data_ptr()) and the grader's stream, and enqueues the kernel on that stream.
#
# Session 10's kernel, said in CuTe's words: the same layouts, tiled copies and MMA atoms as 04, but
# written in Python and compiled by the DSL's JIT (cute.compile: Python -> MLIR -> PTX -> cubin).
#   - TMA (cp.async.bulk.tensor) copies 128 x 64 tiles of A and 256 x 64 tiles of B into 128-byte
#     swizzled shared memory; one warp issues them, and the copy engine counts the bytes that land
#     on a stage's mbarrier ("full"). A cluster of two CTAs along M shares each B tile: each CTA
#     loads half and multicasts it to both.
#   - a 4-stage ring of such stages, with a second mbarrier per stage ("empty") that the consumers
#     arrive on when wgmma no longer reads it (cutlass.pipeline.PipelineTmaAsync).
#   - two consumer warpgroups, each a 64 x 256 slice of the 128 x 256 tile, issue wgmma
#     (warpgroup MMA, operands read straight from shared memory) and keep one batch in flight;
#     the producer warpgroup gives its registers to them (setmaxnreg 40 / 232).
#   - persistent: as many clusters as the GPU holds at once, each looping over the tiles, so the
#     producer loads the next tile while the consumers store this one.
#   - the epilogue rounds to BF16; where rows of C are 16-byte aligned (N % 8 == 0) it stages the
#     tile in shared memory (stmatrix) and stores it with TMA, which clips at the edges of C;
#     elsewhere each thread stores its own elements, each guarded by its (row, column) < (M, N).
#     (That variant is for correctness only: its guarded stores read the accumulators in many
#     branches, and ptxas then serializes its wgmmas, warning C7514; the bench size is aligned.)
# Tiles are visited in grouped order (8 cluster rows down one column of clusters, then the next
# column) so that clusters running together share A and B in L2.
#
# Compiling costs a second or two, so launch() compiles once per variant (the epilogue's) with M, N
# and K as run-time values and keeps the result; the grader's warm-up launch pays for it.
import cutlass
import cutlass.cute as cute
import cutlass.pipeline as pipeline
import cutlass.utils.hopper_helpers as sm90
from cutlass.cute.nvgpu import cpasync, warpgroup
from cutlass.cute.runtime import make_ptr

TILE_M, TILE_N, TILE_K = 128, 256, 64
CLUSTER_M, CLUSTER_N = 2, 1       # CTAs of a cluster along M share B (multicast); along N, A
STAGES = 4                        # 4 x (128 + 256) x 64 x 2 bytes = 192 KB of shared memory
GROUP_M = 8                       # cluster rows per group of the tile order
CONSUMER_WARPGROUPS = 2           # each computes 64 rows of the tile
THREADS = 128 * (1 + CONSUMER_WARPGROUPS)
PRODUCER_REGISTERS, CONSUMER_REGISTERS = 40, 232   # 128 x 40 + 256 x 232 <= 64K registers
EPILOGUE_STAGES = 4

PERSISTENT = True                 # False: one cluster per cluster tile, each computing one

COMPILED = {}   # variant -> compiled launcher; "clusters" -> how many clusters the GPU holds at once


def tile_of(t, cluster_rows, cluster_cols, in_cluster):
    """This CTA's tile (pid_m, pid_n) in cluster tile t: cluster tiles in grouped order (GROUP_M
    cluster rows down one column, then the next column; the last group may be shorter), then the
    CTA's place in its cluster."""
    per_group = GROUP_M * cluster_cols
    first_row = (t // per_group) * GROUP_M
    rows = cutlass.min(cluster_rows - first_row, GROUP_M)
    return ((first_row + (t % per_group) % rows) * CLUSTER_M + in_cluster[0],
            ((t % per_group) // rows) * CLUSTER_N + in_cluster[1])


def make_gemm(tma_store):
    """The host function and kernel of one variant: tma_store picks the epilogue (N % 8 == 0)."""
    tile_mnk = (TILE_M, TILE_N, TILE_K)
    cluster_mnk = (CLUSTER_M, CLUSTER_N, 1)
    a_multicast = CLUSTER_N > 1
    b_multicast = CLUSTER_M > 1
    consumer_threads = 128 * CONSUMER_WARPGROUPS
    epilogue_barrier = pipeline.NamedBarrier(barrier_id=1, num_threads=consumer_threads)

    @cute.kernel
    def gemm_kernel(tma_a: cute.CopyAtom, mA: cute.Tensor, tma_b: cute.CopyAtom, mB: cute.Tensor,
                    tma_c: cute.CopyAtom, mC_tma: cute.Tensor, mC: cute.Tensor, tiled_mma: cute.TiledMma,
                    cta_layout: cute.Layout, a_smem: cute.ComposedLayout, b_smem: cute.ComposedLayout,
                    c_smem: cute.ComposedLayout, epi_tile: cute.Tile):
        tidx = cute.arch.thread_idx()[0]
        warp = cute.arch.make_warp_uniform(cute.arch.warp_idx())
        if warp == 0:
            cpasync.prefetch_descriptor(tma_a)
            cpasync.prefetch_descriptor(tma_b)
            if cutlass.const_expr(tma_store):
                cpasync.prefetch_descriptor(tma_c)

        # The tiles: cluster tiles (CLUSTER_M x CLUSTER_N CTA tiles each), this cluster taking
        # every step-th one from its own index on; its CTAs take their places in each.
        cluster_rows = ((mC.shape[0] + TILE_M - 1) // TILE_M + CLUSTER_M - 1) // CLUSTER_M
        cluster_cols = ((mC.shape[1] + TILE_N - 1) // TILE_N + CLUSTER_N - 1) // CLUSTER_N
        cluster_tiles = cluster_rows * cluster_cols
        first = cute.arch.cluster_idx()[0]
        step = cute.arch.cluster_dim()[0]
        in_cluster = cute.arch.block_in_cluster_idx()
        rank = cute.arch.make_warp_uniform(cute.arch.block_idx_in_cluster())
        cluster_coord = cta_layout.get_flat_coord(rank)

        # Shared memory: the mbarriers, the A and B stages and the epilogue's staging buffers
        # (1024-byte aligned for the swizzle): 192 + 32 KB.
        smem = cutlass.memory.SmemAllocator()
        barriers = smem.allocate_array(cutlass.Int64, 2 * STAGES)
        sA = smem.allocate_tensor(cutlass.BFloat16, a_smem.outer, 1024, a_smem.inner)
        sB = smem.allocate_tensor(cutlass.BFloat16, b_smem.outer, 1024, b_smem.inner)
        sC = smem.allocate_tensor(cutlass.BFloat16, c_smem.outer, 1024, c_smem.inner)

        # The ring: "full" waits for TMA's bytes, "empty" for one arrive per consumer warp of every
        # CTA that reads the stage (its own and, with multicast, its cluster peers).
        stage_bytes = cute.size_in_bytes(cutlass.BFloat16, cute.slice_(a_smem, (None, None, 0))) + \
            cute.size_in_bytes(cutlass.BFloat16, cute.slice_(b_smem, (None, None, 0)))
        readers = CLUSTER_M + CLUSTER_N - 1
        ring = pipeline.PipelineTmaAsync.create(
            barrier_storage=barriers, num_stages=STAGES,
            producer_group=pipeline.CooperativeGroup(pipeline.Agent.Thread),
            consumer_group=pipeline.CooperativeGroup(pipeline.Agent.Thread, readers * 4 * CONSUMER_WARPGROUPS),
            tx_count=stage_bytes, cta_layout_vmnk=cute.make_layout((1, *cta_layout.shape)), defer_sync=True)
        pipeline.pipeline_init_arrive(cluster_shape_mn=(CLUSTER_M, CLUSTER_N), is_relaxed=True)

        # A and B cut into tiles: (BM, BK, tile row, k tile) and (BN, BK, tile column, k tile).
        gA = cute.local_tile(mA, (TILE_M, TILE_K), (None, None))
        gB = cute.local_tile(mB, (TILE_N, TILE_K), (None, None))
        k_tiles = cute.size(gA, mode=[3])

        # TMA's view: each copy is one stage of shared memory from one tile of global memory; with
        # multicast, this CTA's slice of it is the one its cluster coordinate names.
        tAsA, tAgA = cpasync.tma_partition(
            tma_a, cluster_coord[1], cute.make_layout(cute.slice_(cta_layout, (0, None, 0)).shape),
            cute.group_modes(sA, 0, 2), cute.group_modes(gA, 0, 2))
        tBsB, tBgB = cpasync.tma_partition(
            tma_b, cluster_coord[0], cute.make_layout(cute.slice_(cta_layout, (None, 0, 0)).shape),
            cute.group_modes(sB, 0, 2), cute.group_modes(gB, 0, 2))
        a_mask = cute.make_layout_image_mask(cta_layout, cluster_coord, mode=1) if a_multicast else 0
        b_mask = cute.make_layout_image_mask(cta_layout, cluster_coord, mode=0) if b_multicast else 0

        pipeline.pipeline_init_wait(cluster_shape_mn=(CLUSTER_M, CLUSTER_N))
        warpgroup_idx = cute.arch.make_warp_uniform(tidx // 128)

        if warpgroup_idx == 0:
            # The producer: one warp walks the tiles and their K, waiting for an empty stage before
            # each pair of copies; it runs ahead into the next tile while the consumers store.
            cute.arch.setmaxregister_decrease(PRODUCER_REGISTERS)
            if warp == 0:
                put = pipeline.make_pipeline_state(pipeline.PipelineUserType.Producer, STAGES)
                for t in cutlass.range(first, cluster_tiles, step, unroll=1):
                    pid_m, pid_n = tile_of(t, cluster_rows, cluster_cols, in_cluster)
                    for k in cutlass.range(k_tiles, unroll=1):
                        ring.producer_acquire(put)
                        cute.copy(tma_a, tAgA[(None, pid_m, k)], tAsA[(None, put.index)],
                                  tma_bar_ptr=ring.producer_get_barrier(put), mcast_mask=a_mask)
                        cute.copy(tma_b, tBgB[(None, pid_n, k)], tBsB[(None, put.index)],
                                  tma_bar_ptr=ring.producer_get_barrier(put), mcast_mask=b_mask)
                        ring.producer_commit(put)
                        put.advance()
                # Stay until every reader has released every stage: a cluster peer may still
                # arrive on this CTA's barriers.
                ring.producer_tail(put)
        else:
            cute.arch.setmaxregister_increase(CONSUMER_REGISTERS)
            consumer_tidx = tidx - 128
            # A and B are read by a whole warpgroup (its slice: its first thread); C's elements are
            # each thread's own (its slice: the thread).
            wg_mma = tiled_mma.get_slice(cute.make_layout(CONSUMER_WARPGROUPS, stride=128)(warpgroup_idx - 1))
            thr_mma = tiled_mma.get_slice(consumer_tidx)
            tCsA = wg_mma.partition_A(sA)
            tCsB = wg_mma.partition_B(sB)
            tCrA = tiled_mma.make_fragment_A(tCsA)   # wgmma descriptors of shared memory, not registers
            tCrB = tiled_mma.make_fragment_B(tCsB)
            # C cut into tiles, (BM, BN, tile row, tile column), and this thread's part of each.
            tCgC = thr_mma.partition_C(cute.local_tile(mC, (TILE_M, TILE_N), (None, None)))
            acc = cute.make_rmem_tensor(tCgC.shape[:3], cutlass.Float32)
            k_blocks = cute.size(tCrA, mode=[2])   # BK / 16 wgmma steps a stage
            get = pipeline.make_pipeline_state(pipeline.PipelineUserType.Consumer, STAGES)
            done = pipeline.make_pipeline_state(pipeline.PipelineUserType.Consumer, STAGES)

            if cutlass.const_expr(tma_store):
                # The epilogue's pieces: registers -> shared memory by stmatrix (r2s), shared ->
                # global memory by TMA, one 128 x 32 epilogue tile at a time through 4 buffers.
                store_atom = sm90.get_smem_store_op(cutlass.tensor_utils.LayoutEnum.ROW_MAJOR,
                                                    elem_ty_d=cutlass.BFloat16, elem_ty_acc=cutlass.Float32)
                stmatrix = cute.make_copy_atom(cute.nvgpu.warp.StMatrix8x8x16bOp(False, 4), cutlass.BFloat16)
                r2s = cute.make_tiled_copy_S(store_atom, cute.make_tiled_copy_C_atom(stmatrix, tiled_mma))
                thr_r2s = r2s.get_slice(consumer_tidx)
                tRS_sC = thr_r2s.partition_D(sC)
                # The tile in BF16 (converted at once after the last wgmma), as r2s's source.
                acc_bf16 = cute.make_rmem_tensor(acc.shape, cutlass.BFloat16)
                tRS_acc = r2s.retile(acc_bf16)
                frag = cute.make_rmem_tensor(cute.shape(thr_r2s.partition_S(sC))[:3], cutlass.BFloat16)
                frag_size = cute.size(frag)
                gC_tma = cute.local_tile(mC_tma, (TILE_M, TILE_N), (None, None))
                stores = pipeline.PipelineTmaStore.create(
                    num_stages=EPILOGUE_STAGES,
                    producer_group=pipeline.CooperativeGroup(pipeline.Agent.Thread, consumer_threads))
            else:
                # The coordinates of each thread's elements, partitioned as C is, for the guards.
                tCcC = thr_mma.partition_C(cute.local_tile(cute.make_identity_tensor(mC.shape), (TILE_M, TILE_N),
                                                           (None, None)))

            for t in cutlass.range(first, cluster_tiles, step, unroll=1):
                pid_m, pid_n = tile_of(t, cluster_rows, cluster_cols, in_cluster)
                # The mainloop: the wgmmas of k tile k are issued before those of k - 1 are waited
                # for; then k - 1's stage goes back to the producer. The tile's first wgmma ignores
                # what the accumulators hold (no zeroing: an instruction of its own touching them
                # between wgmmas would make ptxas serialize the wgmmas).
                ring.consumer_wait(get)
                warpgroup.fence()
                tiled_mma.set(warpgroup.Field.ACCUMULATE, False)
                for kb in cutlass.range_constexpr(k_blocks):
                    cute.gemm(tiled_mma, acc, tCrA[(None, None, kb, get.index)], tCrB[(None, None, kb, get.index)],
                              acc)
                    tiled_mma.set(warpgroup.Field.ACCUMULATE, True)
                warpgroup.commit_group()
                get.advance()
                for k in cutlass.range(1, k_tiles, 1, unroll=1):
                    ring.consumer_wait(get)
                    warpgroup.fence()
                    for kb in cutlass.range_constexpr(k_blocks):
                        cute.gemm(tiled_mma, acc, tCrA[(None, None, kb, get.index)],
                                  tCrB[(None, None, kb, get.index)], acc)
                    warpgroup.commit_group()
                    warpgroup.wait_group(1)
                    ring.consumer_release(done)
                    done.advance()
                    get.advance()
                warpgroup.wait_group(0)
                ring.consumer_release(done)
                done.advance()

                if cutlass.const_expr(tma_store):
                    # TMA writes nothing outside M x N. A buffer is written again only once the
                    # store that read it is done (stores.producer_acquire: at most 3 in flight).
                    gC_epi = cute.zipped_divide(gC_tma[(None, None, pid_m, pid_n)], epi_tile)
                    bSG_sC, bSG_gC = cpasync.tma_partition(tma_c, 0, cute.make_layout(1),
                                                           cute.group_modes(sC, 0, 2), gC_epi)
                    epi_tiles = cute.size(gC_epi, mode=[1])
                    epi_shape = gC_epi.shape[1]
                    epi_order = cute.make_layout(epi_shape, stride=(epi_shape[1], 1))
                    acc_bf16.store(acc.load().to(cutlass.BFloat16))
                    for e in cutlass.range_constexpr(epi_tiles):
                        for v in cutlass.range_constexpr(frag_size):
                            frag[v] = tRS_acc[e * frag_size + v]
                        buf = e % EPILOGUE_STAGES
                        cute.copy(r2s, frag, tRS_sC[(None, None, None, buf)])
                        cute.arch.fence_proxy("async.shared", space="cta")   # generic writes, seen by TMA
                        epilogue_barrier.arrive_and_wait()
                        if warp == 4:
                            cute.copy(tma_c, bSG_sC[(None, buf)], bSG_gC[(None, epi_order.get_hier_coord(e))])
                            stores.producer_commit()
                            stores.producer_acquire()
                        epilogue_barrier.arrive_and_wait()
                else:
                    # Rows of C not 16-byte aligned (TMA cannot address them): each thread stores
                    # its own accumulators, each one guarded by its coordinates.
                    out = cute.make_rmem_tensor(acc.shape, cutlass.BFloat16)
                    out.store(acc.load().to(cutlass.BFloat16))
                    tile_gC = tCgC[(None, None, None, pid_m, pid_n)]
                    tile_cC = tCcC[(None, None, None, pid_m, pid_n)]
                    for i in cutlass.range_constexpr(cute.size(out)):
                        if cute.elem_less(tile_cC[i], mC.shape):
                            tile_gC[i] = out[i]
            if cutlass.const_expr(tma_store):
                if warp == 4:
                    stores.producer_tail()

    @cute.jit
    def gemm_host(a_ptr: cute.Pointer, b_ptr: cute.Pointer, c_ptr: cute.Pointer,
                  M: cutlass.Int32, N: cutlass.Int32, K: cutlass.Int32, clusters: cutlass.Int32, stream):
        # Row-major tensors of run-time sizes: K % 8 == 0 makes every row 16-byte aligned (TMA's rule).
        k_stride = cute.assume(K, divby=8)
        mA = cute.make_tensor(a_ptr, cute.make_layout((M, K), stride=(k_stride, 1)))
        mB = cute.make_tensor(b_ptr, cute.make_layout((N, K), stride=(k_stride, 1)))
        if cutlass.const_expr(tma_store):
            mC = cute.make_tensor(c_ptr, cute.make_layout((M, N), stride=(cute.assume(N, divby=8), 1)))
        else:
            mC = cute.make_tensor(c_ptr, cute.make_layout((M, N), stride=(N, 1)))

        k_major = cutlass.tensor_utils.LayoutEnum.ROW_MAJOR
        tiled_mma = sm90.make_trivial_tiled_mma(
            cutlass.BFloat16, cutlass.BFloat16, k_major.sm90_mma_major_mode(), k_major.sm90_mma_major_mode(),
            cutlass.Float32, (CONSUMER_WARPGROUPS, 1, 1), tiler_mn=(64, TILE_N))
        a_smem = sm90.make_smem_layout_a(k_major, tile_mnk, cutlass.BFloat16, STAGES)
        b_smem = sm90.make_smem_layout_b(k_major, tile_mnk, cutlass.BFloat16, STAGES)
        epi_tile = sm90.compute_tile_shape_or_override(tile_mnk, cutlass.BFloat16, is_cooperative=True)
        c_smem = sm90.make_smem_layout_epi(cutlass.BFloat16, k_major, epi_tile, EPILOGUE_STAGES)

        a_op = cpasync.CopyBulkTensorTileG2SMulticastOp() if a_multicast else cpasync.CopyBulkTensorTileG2SOp()
        b_op = cpasync.CopyBulkTensorTileG2SMulticastOp() if b_multicast else cpasync.CopyBulkTensorTileG2SOp()
        tma_a, tA = cpasync.make_tiled_tma_atom(a_op, mA, cute.slice_(a_smem, (None, None, 0)), (TILE_M, TILE_K),
                                                num_multicast=CLUSTER_N)
        tma_b, tB = cpasync.make_tiled_tma_atom(b_op, mB, cute.slice_(b_smem, (None, None, 0)), (TILE_N, TILE_K),
                                                num_multicast=CLUSTER_M)
        if cutlass.const_expr(tma_store):
            tma_c, tC = cpasync.make_tiled_tma_atom(cpasync.CopyBulkTensorTileS2GOp(), mC,
                                                    cute.slice_(c_smem, (None, None, 0)), epi_tile)
        else:
            tma_c, tC = tma_a, tA   # unused by this variant

        # One cluster per cluster tile, or (persistent) as many as fit at once, each looping.
        cluster_tiles = ((M + TILE_M - 1) // TILE_M + CLUSTER_M - 1) // CLUSTER_M * \
            (((N + TILE_N - 1) // TILE_N + CLUSTER_N - 1) // CLUSTER_N)
        grid = (cutlass.min(cluster_tiles, clusters) * CLUSTER_M, CLUSTER_N, 1)
        gemm_kernel(tma_a, tA, tma_b, tB, tma_c, tC, mC, tiled_mma, cute.make_layout(cluster_mnk),
                    a_smem, b_smem, c_smem, epi_tile).launch(
            grid=grid, block=[THREADS, 1, 1], cluster=list(cluster_mnk), stream=stream)

    return gemm_host


def launch(a, b, c, stream):
    M, K = a.shape
    N = b.shape[0]
    ptrs = [make_ptr(cutlass.BFloat16, x.data_ptr(), cute.AddressSpace.gmem, assumed_align=16) for x in (a, b, c)]
    # How many clusters the GPU holds at once (asked once: it compiles and loads a probe kernel).
    # Without an answer, one cluster per cluster tile: slower, as right.
    clusters = COMPILED.get("clusters")
    if clusters is None:
        clusters = 1 << 30
        if PERSISTENT:
            try:
                clusters = max(1, cutlass.utils.HardwareInfo().get_max_active_clusters(CLUSTER_M * CLUSTER_N))
            except Exception as e:
                print("05_cutedsl_gemm: not persistent, the GPU's cluster count is unknown: %s" % e)
        COMPILED["clusters"] = clusters
    args = ptrs + [cutlass.Int32(M), cutlass.Int32(N), cutlass.Int32(K), cutlass.Int32(clusters), stream]
    variant = N % 8 == 0
    gemm = COMPILED.get(variant)
    if gemm is None:
        gemm = cute.compile(make_gemm(variant), *args)
        COMPILED[variant] = gemm
    gemm(*args)
