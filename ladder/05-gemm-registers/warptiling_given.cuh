// Session 05, rung 7: what the rung is given, shared by the skeleton and its solution: the tile
// sizes, the 16-byte cp.async wrapper and load_tile, which starts the next K-tile on its way.
#ifndef SESSION05_WARPTILING_GIVEN_CUH
#define SESSION05_WARPTILING_GIVEN_CUH

#define BM 128
#define BN 128
#ifndef BK
#define BK 16          // tuning knob: K per tile
#endif
#ifndef MIN_BLOCKS
#define MIN_BLOCKS 2   // tuning knob: blocks per SM the register budget must allow
#endif
#define THREADS 256
#define LOADS (BK / 8)                // float4s of A, and of B, each thread moves per tile
#define A_ROW_STEP (THREADS / (BK / 4))
#define B_ROW_STEP (THREADS / (BN / 4))
#define A_STRIDE (BM + 4)  // padded rows of the transposed A tile: the transposing stores spread over banks

struct Prefetch {
    float4 a[LOADS], b[LOADS];
    bool b_async;  // B went straight to shared memory with cp.async
};

// 16 bytes global -> shared without passing through registers (sm_80 and later).
__device__ __forceinline__ void cp_async16(float *smem, const float *gmem) {
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem));
}

// Global -> registers (A) and -> Bs_next (B). A: this thread's float4s are rows a_row + h * A_ROW_STEP,
// columns a_col..+3 of the K-tile; B: rows b_row + h * B_ROW_STEP, columns b_col..+3. Tiles at an
// edge go through registers element by element, with zero fill.
__device__ __forceinline__ void load_tile(Prefetch &p, const float *A, const float *B, int M, int N, int K, int bm,
                                          int bn, int k0, bool vector_ok, float *Bs_next) {
    const int t = threadIdx.x;
    const int a_row = t / (BK / 4), a_col = (t % (BK / 4)) * 4;
    const int b_row = t / (BN / 4), b_col = (t % (BN / 4)) * 4;
    const bool inside = vector_ok && bm + BM <= M && bn + BN <= N && k0 + BK <= K;
    p.b_async = inside;
#pragma unroll
    for (int h = 0; h < LOADS; h++) {
        const int r = bm + a_row + A_ROW_STEP * h, k = k0 + a_col;
        const int kb = k0 + b_row + B_ROW_STEP * h, c = bn + b_col;
        if (inside) {
            p.a[h] = *reinterpret_cast<const float4 *>(A + (long)r * K + k);
            cp_async16(Bs_next + (b_row + B_ROW_STEP * h) * BN + b_col, B + (long)kb * N + c);
        } else {
            float va[4], vb[4];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                va[i] = (r < M && k + i < K) ? A[(long)r * K + k + i] : 0.0f;
                vb[i] = (kb < K && c + i < N) ? B[(long)kb * N + c + i] : 0.0f;
            }
            p.a[h] = make_float4(va[0], va[1], va[2], va[3]);
            p.b[h] = make_float4(vb[0], vb[1], vb[2], vb[3]);
        }
    }
}

#endif
