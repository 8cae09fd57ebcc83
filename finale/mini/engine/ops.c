/* Vector and matrix operations with a fixed order of floating-point operations. See ops.h. */
#include "ops.h"

#include <math.h>

float mini_dot(const float *a, const float *b, int n) {
    /* Eight independent sums let the compiler keep several multiply-adds in flight (and use SIMD)
     * while the order stays the same on every call: that order is what makes batched == one-by-one. */
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += a[i + j] * b[i + j];
    for (int j = 0; i < n; i++, j++) acc[j] += a[i] * b[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

void mini_matmul(const float *W, int rows, int cols, const float *X, int n_tok, float *Y) {
    for (int o = 0; o < rows; o++) {
        const float *w_row = W + (size_t)o * cols;
        for (int t = 0; t < n_tok; t++) Y[(size_t)t * rows + o] = mini_dot(w_row, X + (size_t)t * cols, cols);
    }
}

/* The 256 possible codes decoded once: a table lookup per weight instead of bit twiddling. */
static const float *fp8_code_values(void) {
    static float code_value[256];
    static int table_ready;
    if (!table_ready) {
        for (int c = 0; c < 256; c++) code_value[c] = mini_fp8_e4m3_to_float((uint8_t)c);
        table_ready = 1;
    }
    return code_value;
}

/* Y = X W^T with W from its FP8 codes, one row tile at a time; each tile's dot product times the
 * weight's tile scale, and times the row of X's block scale when X_scales is not NULL. */
static void matmul_fp8_tiles(const MiniFp8Matrix *W, const float *X, const float *X_scales, int n_tok, float *Y,
                             float *row_buffer) {
    const float *code_value = fp8_code_values();
    const int B = W->block, tiles_per_row = (W->cols + B - 1) / B;
    for (int o = 0; o < W->rows; o++) {
        const uint8_t *codes = W->codes + (size_t)o * W->cols;
        const float *scales = W->scales + (size_t)(o / B) * tiles_per_row;
        for (int t = 0; t < n_tok; t++) Y[(size_t)t * W->rows + o] = 0.0f;
        for (int tile = 0; tile < tiles_per_row; tile++) {
            int c0 = tile * B, width = W->cols - c0 < B ? W->cols - c0 : B;
            for (int i = 0; i < width; i++) row_buffer[i] = code_value[codes[c0 + i]];
            for (int t = 0; t < n_tok; t++) {
                const float scale = X_scales ? X_scales[(size_t)t * tiles_per_row + tile] * scales[tile] : scales[tile];
                Y[(size_t)t * W->rows + o] += scale * mini_dot(row_buffer, X + (size_t)t * W->cols + c0, width);
            }
        }
    }
}

void mini_matmul_fp8(const MiniFp8Matrix *W, const float *X, int n_tok, float *Y, float *row_buffer) {
    matmul_fp8_tiles(W, X, NULL, n_tok, Y, row_buffer);
}

void mini_matmul_fp8_fp8(const MiniFp8Matrix *W, const uint8_t *X_codes, const float *X_scales, int n_tok, float *Y,
                         float *row_buffer, float *x_buffer) {
    const float *code_value = fp8_code_values();
    for (size_t i = 0; i < (size_t)n_tok * W->cols; i++) x_buffer[i] = code_value[X_codes[i]];
    matmul_fp8_tiles(W, x_buffer, X_scales, n_tok, Y, row_buffer);
}

void mini_rmsnorm(const float *x, const float *g, int n, float eps, float *y) {
    float inv_rms = 1.0f / sqrtf(mini_dot(x, x, n) / (float)n + eps);
    for (int i = 0; i < n; i++) y[i] = g[i] * (x[i] * inv_rms);
}

float mini_silu(float z) { return z / (1.0f + expf(-z)); }

void mini_softmax(float *x, int n) {
    float max = x[0], sum = 0.0f;
    for (int i = 1; i < n; i++) if (x[i] > max) max = x[i];
    for (int i = 0; i < n; i++) sum += (x[i] = expf(x[i] - max));
    for (int i = 0; i < n; i++) x[i] /= sum;
}

int mini_argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) if (x[i] > x[best]) best = i;   /* strict: the first maximum wins */
    return best;
}
