// Session 13, exercise 7: an NVFP4 GEMM on Blackwell's tensor cores (tcgen05), D = A * B^T.
//
// One CTA of 128 threads makes one 128 x 128 tile of D:
//   1. all threads copy a 256-wide step of K (A, B: 128 rows x 128 bytes; their scales: 128 rows x
//      16 bytes) into shared memory with cp.async, in the layouts the tensor core reads; two stages,
//      so that the next step's copies run while the tensor core works on this one;
//   2. one thread copies the step's scales into tensor memory (tcgen05.cp), issues four MMAs of
//      K = 64 (tcgen05.mma .kind::mxf4nvf4, one e4m3 scale per 16 values), and asks the tensor core
//      to arrive on an mbarrier when they are done (tcgen05.commit);
//   3. the accumulator never leaves tensor memory until the end: then each warp reads its 32 lanes
//      (rows) into registers (tcgen05.ld) and writes them to D.
// What cta_group::2 would add (not done here): two CTAs of a cluster issue one MMA of M = 256 from
// one thread, each CTA holding half of A and half of B, so that each B tile is read from global
// memory once for 256 rows of A instead of 128; the scales and the commit then name both CTAs.
//
// Yours: the TODOs below, the descriptors and layouts the tensor core reads, the MMAs, and the
// accumulator's way out. The copies, barriers and tensor-memory allocation are written for you.
// The layout functions are __host__ __device__: print them on the CPU when in doubt.
#include "exercises.h"
#include "tcgen05_given.cuh"

#define THREADS 128
#define STAGES 2
#define STEP_BYTES (TC_STEP_K / 2)          // 128 bytes of a row per step: 256 e2m1 codes
#define PIECES (STEP_BYTES / 16)            // 8 pieces of 16 bytes a row
#define MMA_K 64                            // values along K per MMA: 32 bytes of a row
#define MMAS_PER_STEP (TC_STEP_K / MMA_K)   // 4
#define SCALES_PER_MMA (MMA_K / 16)         // 4 e4m3 scales of a row per MMA: one 32-bit word
#define SCALE_CHUNK_BYTES (TC_TILE_M * SCALES_PER_MMA)   // 512: one MMA's scales for 128 rows

// One stage of shared memory, offsets in bytes.
#define A_OFFSET 0
#define B_OFFSET (A_OFFSET + TC_TILE_M * STEP_BYTES)                    // 16384
#define SFA_OFFSET (B_OFFSET + TC_TILE_N * STEP_BYTES)                  // 32768
#define SFB_OFFSET (SFA_OFFSET + MMAS_PER_STEP * SCALE_CHUNK_BYTES)     // 34816
#define STAGE_BYTES (SFB_OFFSET + MMAS_PER_STEP * SCALE_CHUNK_BYTES)    // 36864
#define SMEM_BYTES (STAGES * STAGE_BYTES + 1024)                        // + room to align to 1024

// Tensor memory columns: the FP32 accumulator (128 lanes x 128 columns), then per stage 16
// columns of A's scales and 16 of B's (4 per MMA). 192 used; allocations are powers of two.
#define ACC_COLUMN 0
#define SF_COLUMN 128
#define SF_COLUMNS_PER_STAGE 32
#define TMEM_COLUMNS 256

// ---- the instruction descriptor: what the MMA multiplies ------------------------------------------
// 32 bits (PTX ISA, "Instruction descriptor" of tcgen05.mma, the table for .kind::mxf4nvf4):
//   bits 0-1 sparsity selector, 2 sparse, 3 reserved             0: dense
//   bits 4-5  which byte of B's scale column to start at         0 (4 scales fill the word)
//   bits 7-9  A's type, 10-12 B's type                           1: E2M1
//   bits 13, 14 negate A, B; 15, 16 transpose A, B               0: K-major, no negation
//   bits 17-22 N >> 3;  bit 23 scale type (0 UE4M3, 1 UE8M0);  bits 24-28 M >> 4
//   bits 29-30 which byte of A's scale column to start at         0
//   bit 31    K of one MMA: 0 for K = 64 (dense FP4)
__host__ __device__ inline uint32_t nvfp4_instr_desc(int m, int n) {
    uint32_t d = 0;
    // TODO 1: set A's and B's types (e2m1), N and M in their fields; every other field stays 0.
    return d;
}

// ---- the shared-memory descriptor: where and how an operand lies ----------------------------------
// 64 bits (PTX ISA, "Shared memory descriptor" of tcgen05): bits 0-13 start address >> 4, 16-29
// leading byte offset >> 4, 32-45 stride byte offset >> 4, 46-48 the constant 0b001 (tcgen05's
// version of the format), 49-51 base offset (0: no swizzle), 52 offset mode (0: relative),
// 61-63 swizzle (0: none).
__host__ __device__ inline uint64_t smem_desc(uint32_t addr, uint32_t leading, uint32_t stride) {
    uint64_t d = 0;
    d |= (uint64_t)((addr >> 4) & 0x3FFF);
    d |= (uint64_t)((leading >> 4) & 0x3FFF) << 16;
    d |= (uint64_t)((stride >> 4) & 0x3FFF) << 32;
    d |= (uint64_t)1 << 46;
    return d;
}

// The operand tiles are in the no-swizzle K-major layout: a "core matrix" is 8 rows x 16 bytes,
// stored as 128 contiguous bytes. A step's 8 pieces of 16 bytes of rows 8g .. 8g+7 are 8 core
// matrices side by side (1024 bytes); row groups follow one another.
__host__ __device__ inline uint32_t operand_piece_offset(int row, int piece) {
    return (uint32_t)((row / 8) * (PIECES * 128) + piece * 128 + (row % 8) * 16);
}
// MMA k (0..3) reads pieces 2k and 2k + 1: it starts 256 bytes further on. Leading byte offset:
// from one core matrix to the next along K (128); stride byte offset: from one 8-row group to the
// next (1024).
__host__ __device__ inline uint64_t operand_desc(uint32_t tile_addr, int k) {
    // TODO 2: the descriptor of MMA k's slice: its start, the leading and the stride byte offsets.
    return smem_desc(tile_addr, 0, 0);
}

// ---- the scales: 128 rows x 4 per MMA, arranged for tcgen05.cp .32x128b.warpx4 ----------------------
// The MMA looks for the 4 scales of row r in TMEM column (r / 32) of the chunk, lane r % 32, byte
// j for values 16j .. 16j + 15 of its K = 64. tcgen05.cp moves 32 rows of 16 bytes: row l becomes
// lane l, its 4 words columns 0..3. So the word of row r goes to row r % 32, word r / 32 of the chunk.
__host__ __device__ inline uint32_t scale_word_offset(int row, int k) {
    // TODO 3: the byte offset of row `row`'s 4-byte word in chunk k (chunks are SCALE_CHUNK_BYTES apart).
    return 0;
}
// A chunk is 32 rows of 16 bytes, each 8-row group 128 contiguous bytes: stride 128, no leading offset.
__host__ __device__ inline uint64_t scale_chunk_desc(uint32_t chunk_addr) { return smem_desc(chunk_addr, 0, 128); }

// ---- 1. one step of K into one stage of shared memory -------------------------------------------------
// `copy` moves bytes: cp.async in the kernel, memcpy in the CPU test. Consecutive threads take
// consecutive 16-byte pieces of a row, so that a warp reads 512 contiguous bytes of A.
template <class Copier>
__host__ __device__ void load_step(Copier &copy, int tid, const uint8_t *a, const uint8_t *sfa, const uint8_t *b,
                                   const uint8_t *sfb, int K, int tile_m, int tile_n, int step) {
    const long row_bytes = K / 2, row_scales = K / 16;
    for (int i = tid; i < TC_TILE_M * PIECES; i += THREADS) {
        const int row = i / PIECES, piece = i % PIECES;
        const long along = (long)step * STEP_BYTES + piece * 16;
        copy.bytes16(A_OFFSET + operand_piece_offset(row, piece), a + (tile_m + row) * row_bytes + along);
        copy.bytes16(B_OFFSET + operand_piece_offset(row, piece), b + (tile_n + row) * row_bytes + along);
    }
    for (int i = tid; i < TC_TILE_M * MMAS_PER_STEP; i += THREADS) {
        const int row = i / MMAS_PER_STEP, k = i % MMAS_PER_STEP;
        const long along = (long)step * (TC_STEP_K / 16) + k * SCALES_PER_MMA;
        copy.bytes4(SFA_OFFSET + scale_word_offset(row, k), sfa + (tile_m + row) * row_scales + along);
        copy.bytes4(SFB_OFFSET + scale_word_offset(row, k), sfb + (tile_n + row) * row_scales + along);
    }
}

// ---- 2. one step on the tensor core, issued by one thread -----------------------------------------------
// `tc` issues tcgen05.cp and tcgen05.mma (the CPU test records them instead). A copy of scales and
// the MMA that reads them, issued by the same thread, run in that order.
template <class TensorCore>
__host__ __device__ void issue_step(TensorCore &tc, uint32_t stage_addr, uint32_t tmem, int stage, int step) {
    const uint32_t sfa = tmem + SF_COLUMN + stage * SF_COLUMNS_PER_STAGE, sfb = sfa + 4 * MMAS_PER_STEP;
    const uint32_t idesc = nvfp4_instr_desc(TC_TILE_M, TC_TILE_N);
    // TODO 4: for each of the step's MMAS_PER_STEP MMAs, copy its chunk of A's scales to sfa + 4k
    // and of B's to sfb + 4k (tc.copy_scales, scale_chunk_desc); then issue the MMAs (tc.mma) into
    // the accumulator. Which MMA must not add to what D held before?
}

// ---- 3. the accumulator out: TMEM lane r holds row r of the tile, column n its column n -------------------
// `load` is tcgen05.ld of 32 columns by the warp (the CPU test reads its model of TMEM).
template <class Loader>
__host__ __device__ void store_accumulator(Loader &load, uint32_t tmem, int warp, int lane, float *D, int N,
                                           int tile_m, int tile_n) {
    const int row = tile_m + 32 * warp + lane;
    for (int c = 0; c < TC_TILE_N; c += 32) {
        float v[32];
        // TODO 5: load 32 columns starting at column c of the warp's 32 lanes (load.cols32: the TMEM
        // address holds the lane in its top 16 bits), then write this thread's 32 values to row `row`.
    }
}

// ---- the device's copier, tensor core and loader ---------------------------------------------------------
struct CpAsyncCopier {
    uint32_t stage;   // shared address of the stage
    __device__ void bytes16(uint32_t offset, const uint8_t *src) { cp_async_16(stage + offset, src); }
    __device__ void bytes4(uint32_t offset, const uint8_t *src) { cp_async_4(stage + offset, src); }
};
struct Tcgen05 {
    __device__ void copy_scales(uint32_t taddr, uint64_t desc) { tc_copy_scales(taddr, desc); }
    __device__ void mma(uint32_t d, uint64_t a, uint64_t b, uint32_t idesc, uint32_t sfa, uint32_t sfb, bool acc) {
        tc_mma_nvfp4(d, a, b, idesc, sfa, sfb, acc);
    }
};
struct TmemLoader {
    __device__ void cols32(uint32_t taddr, int, float (&v)[32]) { tmem_load_32cols(taddr, v); }
};

// The phase of stage s's "MMAs done" barrier that step t waits for: the (t / STAGES)-th use of it.
__host__ __device__ inline uint32_t use_parity(int step) { return (uint32_t)(step / STAGES) & 1; }

__global__ void __launch_bounds__(THREADS) nvfp4_gemm_tcgen05_kernel(const uint8_t *a, const uint8_t *sfa,
                                                                     const uint8_t *b, const uint8_t *sfb, float *D,
                                                                     int N, int K) {
    extern __shared__ uint8_t smem_raw[];
    __shared__ __align__(8) uint64_t mma_done[STAGES];
    __shared__ uint32_t tmem_slot;
    const uint32_t smem = (smem_u32(smem_raw) + 1023) & ~1023u;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const int tile_m = blockIdx.y * TC_TILE_M, tile_n = blockIdx.x * TC_TILE_N, steps = K / TC_STEP_K;

    if (warp == 0) {
        tmem_alloc(&tmem_slot, TMEM_COLUMNS);
        tmem_relinquish_alloc_permit();
    }
    if (tid == 0) {
        for (int s = 0; s < STAGES; s++) mbar_init(&mma_done[s], 1);
        mbar_fence_init();
    }
    tc_fence_before();
    __syncthreads();
    tc_fence_after();
    const uint32_t tmem = tmem_slot;

    CpAsyncCopier first{smem};
    load_step(first, tid, a, sfa, b, sfb, K, tile_m, tile_n, 0);
    cp_async_commit();
    for (int step = 0; step < steps; step++) {
        const int stage = step % STAGES;
        if (step + 1 < steps) {
            const int next = (step + 1) % STAGES;
            // The MMAs of step - 1 read stage `next`: wait for them before overwriting it.
            if (step >= 1) mbar_wait(&mma_done[next], use_parity(step - 1));
            CpAsyncCopier copier{smem + next * STAGE_BYTES};
            load_step(copier, tid, a, sfa, b, sfb, K, tile_m, tile_n, step + 1);
            cp_async_commit();
            cp_async_wait<1>();   // this step's copies have landed, the next step's may still fly
        } else {
            cp_async_wait<0>();
        }
        fence_async_shared();
        __syncthreads();
        if (tid == 0) {
            tc_fence_after();
            Tcgen05 tc;
            issue_step(tc, smem + stage * STAGE_BYTES, tmem, stage, step);
            tc_commit(&mma_done[stage]);   // arrives when these MMAs (and every earlier one) are done
        }
        __syncwarp();
    }
    mbar_wait(&mma_done[(steps - 1) % STAGES], use_parity(steps - 1));
    tc_fence_after();

    TmemLoader loader;
    store_accumulator(loader, tmem, warp, lane, D, N, tile_m, tile_n);

    tc_fence_before();
    __syncthreads();
    if (warp == 0) {
        tc_fence_after();
        tmem_dealloc(tmem, TMEM_COLUMNS);
    }
}

extern "C" void nvfp4_gemm_tcgen05(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, float *D,
                                   int M, int N, int K, cudaStream_t stream) {
    cudaFuncSetAttribute(nvfp4_gemm_tcgen05_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM_BYTES);
    const dim3 grid(N / TC_TILE_N, M / TC_TILE_M);
    nvfp4_gemm_tcgen05_kernel<<<grid, THREADS, SMEM_BYTES, stream>>>(a, sfa, b, sfb, D, N, K);
}
