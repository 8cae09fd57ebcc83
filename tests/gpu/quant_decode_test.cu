// Session 12 on a GPU: the FP8 decoding of solutions/serving/12-serving/07_gemv_fp8.cu run on the
// device for every finite e4m3 code in every byte place of a word, against the grader's decoder
// (sv_e4m3_value); and the GPU's own conversion (cuda_fp8.h, cvt.rn.f16x2.e4m3x2 on sm_89 and
// later) against the same decoder. The subnormal codes are the point: the solution moves them into
// subnormal BF16 bit patterns and relies on a BF16 multiply that keeps subnormal inputs (PTX: fma and
// mul on bf16 have no .ftz; subnormals are supported). Compile it for sm_90a, and for compute_80
// PTX so that the driver compiles sm_80's fma.rn.bf16x2 form for the GPU at hand:
//
//   nvcc -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Iserving/12-serving -Igrader \
//       -Itests/serving -diag-suppress 20011,20014 \
//       tests/gpu/quant_decode_test.cu grader/serving_quant.c -o build/quant_decode_test
//
// (gpu-run/s12-quant.sh does both.) One PASS or FAIL line a check; exit status 1 on a failure.
#include "../../solutions/serving/12-serving/07_gemv_fp8.cu"

#include <cuda_fp8.h>
#include <math.h>

#include "mma_emulator.h"
#include "quant_stubs.h"

#define FILLER 0x3AC5175Eu   // the other bytes of the word: no NaN code

// out[(code * 4 + place) * 4 + b]: the BF16 bits of byte b of the word with `code` in byte `place`.
__global__ void solution_decode(uint16_t *out) {
    const int code = blockIdx.x, place = threadIdx.x;
    const uint32_t w = (FILLER & ~(0xFFu << (8 * place))) | ((uint32_t)code << (8 * place));
    uint32_t even, odd;
    unpack_e4m3x4(w, even, odd);
    uint16_t *o = out + (code * 4 + place) * 4;
    o[0] = even & 0xFFFF, o[1] = odd & 0xFFFF, o[2] = even >> 16, o[3] = odd >> 16;
}

// The device's own e4m3 -> FP16 conversion, two codes at a time.
__global__ void cuda_decode(uint32_t *out) {
    const int code = threadIdx.x;
    const __nv_fp8x2_storage_t pair = (__nv_fp8x2_storage_t)(code | (code ^ 0x80) << 8);   // the code and its negation
    const __half2_raw h = __nv_cvt_fp8x2_to_halfraw2(pair, __NV_E4M3);
    out[code] = (uint32_t)h.x | (uint32_t)h.y << 16;
}

static double half_bits_value(uint32_t bits) {
    __half_raw r;
    r.x = (unsigned short)bits;
    return __half2float(__half(r));
}
static bool same_value(double a, double b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

#define CUDA_OK(call)                                                                            \
    do {                                                                                         \
        cudaError_t e_ = (call);                                                                 \
        if (e_ != cudaSuccess) {                                                                 \
            printf("FAIL  %s: %s\n", #call, cudaGetErrorString(e_));                            \
            return 1;                                                                            \
        }                                                                                        \
    } while (0)

int main() {
    int failures = 0;
    uint16_t *d_sol;
    uint32_t *d_cuda;
    CUDA_OK(cudaMalloc(&d_sol, 256 * 4 * 4 * sizeof(uint16_t)));
    CUDA_OK(cudaMalloc(&d_cuda, 256 * sizeof(uint32_t)));
    solution_decode<<<256, 4>>>(d_sol);
    cuda_decode<<<1, 256>>>(d_cuda);
    CUDA_OK(cudaGetLastError());
    CUDA_OK(cudaDeviceSynchronize());
    static uint16_t sol[256 * 4 * 4];
    static uint32_t cuda[256];
    CUDA_OK(cudaMemcpy(sol, d_sol, sizeof sol, cudaMemcpyDeviceToHost));
    CUDA_OK(cudaMemcpy(cuda, d_cuda, sizeof cuda, cudaMemcpyDeviceToHost));

    int wrong = 0, wrong_sub = 0;
    char detail[160] = "";
    for (int code = 0; code < 256; code++) {
        if ((code & 0x7F) == 0x7F) continue;   // NaN: never occurs
        for (int place = 0; place < 4; place++) {
            const uint32_t w = (FILLER & ~(0xFFu << (8 * place))) | ((uint32_t)code << (8 * place));
            for (int b = 0; b < 4; b++) {
                const uint8_t byte = (uint8_t)(w >> (8 * b));
                const double want = sv_e4m3_value(byte), got = bf16_bits_value(sol[(code * 4 + place) * 4 + b]);
                if (!same_value(got, want)) {
                    if (!wrong) snprintf(detail, sizeof detail, "byte 0x%02X: %g, expected %g", byte, got, want);
                    wrong++;
                    wrong_sub += ((byte >> 3) & 15) == 0;
                }
            }
        }
    }
    if (wrong) snprintf(detail + strlen(detail), sizeof detail - strlen(detail), " (%d wrong, %d of them subnormal)", wrong, wrong_sub);
    printf("%s  the solution's unpack_e4m3x4 on the device: the 254 finite codes in 4 places, subnormals included%s%s\n",
           wrong ? "FAIL" : "PASS", wrong ? "  " : "", wrong ? detail : "");
    failures += wrong != 0;

    wrong = 0;
    for (int code = 0; code < 256; code++) {
        const double lo = half_bits_value(cuda[code] & 0xFFFF), hi = half_bits_value(cuda[code] >> 16);
        if (!same_value(lo, sv_e4m3_value((uint8_t)code)) || !same_value(hi, sv_e4m3_value((uint8_t)(code ^ 0x80)))) {
            if (!wrong) snprintf(detail, sizeof detail, "code 0x%02X: %g, expected %g", code, lo, (double)sv_e4m3_value((uint8_t)code));
            wrong++;
        }
    }
    printf("%s  the device's __nv_cvt_fp8x2_to_halfraw2(__NV_E4M3) equals sv_e4m3_value on all 256 codes%s%s\n",
           wrong ? "FAIL" : "PASS", wrong ? "  " : "", wrong ? detail : "");
    failures += wrong != 0;
    return failures ? 1 : 0;
}
