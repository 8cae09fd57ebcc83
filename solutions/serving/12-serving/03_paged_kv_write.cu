// Session 12, exercise 3 (solution): append a batch of new tokens' keys and values to the paged KV cache.
//
// The server's scheduler has already chosen a slot for every new token (slot_of[i] = block * 16 +
// position, or -1 for a padding token); the kernel only moves bytes. One thread per 16 bytes (8
// BF16 elements) of a token's row, for K and for V: consecutive threads read consecutive 16 bytes
// of k_new, and write them to consecutive 16 bytes of one KV head's row in the cache, so both the
// reads and the writes are whole 32-byte sectors. The cache is read by nobody: the copy is the
// entire job, and its speed is the memory's.
#include <cuda_bf16.h>
#include <stdint.h>
#include <stdio.h>

#include "exercises.h"

#define THREADS 256

// The arrays are seen as 16-byte chunks (uint4): a row of D BF16 is chunks_per_row = D / 8 of them.
__global__ void __launch_bounds__(THREADS)
paged_kv_write_kernel(const uint4 *__restrict__ k_new, const uint4 *__restrict__ v_new, const int *__restrict__ slot_of,
                      uint4 *__restrict__ k_cache, uint4 *__restrict__ v_cache, int T, int hkv, int chunks_per_row) {
    const long i = (long)blockIdx.x * THREADS + threadIdx.x;  // this thread's chunk of k_new (and v_new)
    const long per_token = (long)hkv * chunks_per_row;         // k_new is [token][kv_head][chunk]
    if (i >= (long)T * per_token) return;
    const int t = (int)(i / per_token), rest = (int)(i % per_token);
    const int h = rest / chunks_per_row, c = rest % chunks_per_row;  // chunk c of KV head h of token t

    const int slot = __ldg(slot_of + t);
    if (slot < 0) return;  // padding: nothing to write
    const long block = slot / PAGE_TOKENS, pos = slot % PAGE_TOKENS;
    const long dst = ((block * hkv + h) * PAGE_TOKENS + pos) * chunks_per_row + c;  // [block][kv_head][pos][chunk]
    k_cache[dst] = k_new[i];
    v_cache[dst] = v_new[i];
}

void paged_kv_write(const uint16_t *k_new, const uint16_t *v_new, const int *slot_of, uint16_t *k_cache,
                    uint16_t *v_cache, int T, int Hkv, int D, cudaStream_t stream) {
    if (T < 1 || Hkv < 1 || D < 1) return;
    if (D % 8) {
        fprintf(stderr, "paged_kv_write: head dim %d is not a multiple of 8 (16-byte rows)\n", D);
        return;
    }
    const long n = (long)T * Hkv * (D / 8);
    paged_kv_write_kernel<<<(unsigned)((n + THREADS - 1) / THREADS), THREADS, 0, stream>>>(
        (const uint4 *)k_new, (const uint4 *)v_new, slot_of, (uint4 *)k_cache, (uint4 *)v_cache, T, Hkv, D / 8);
}
