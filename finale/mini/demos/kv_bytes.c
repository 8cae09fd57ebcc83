/* The program behind `make demo-kv-bytes` (finale/14-deepseek/demo_kv_bytes.sh): KV-cache bytes per
 * token of MLA's latent cache against standard multi-head attention of the same widths, per layer,
 * for the whole model and at a 1024-token context, in FP32 and BF16.
 *
 *   demo_kv_bytes [WEIGHTS]   shapes from the weights file's config (default: the trained file),
 *                             or MODEL.md's defaults when there is no such file */
#include <stdio.h>

#include "testfile.h"
#include "weights.h"

#define CONTEXT 1024

/* Exact bytes, with the binary unit beside large ones. */
static void human(double bytes, char *out, size_t len) {
    if (bytes >= 1 << 20) snprintf(out, len, "%.0f B = %.2f MiB", bytes, bytes / (1 << 20));
    else if (bytes >= 10 << 10) snprintf(out, len, "%.0f B = %.1f KiB", bytes, bytes / (1 << 10));
    else snprintf(out, len, "%.0f B", bytes);
}

static void row(const char *what, const char *format, long numbers, int n_layers, int bytes_per_number) {
    char one[48], all[48], ctx[48];
    human((double)numbers * bytes_per_number, one, sizeof one);
    human((double)numbers * bytes_per_number * n_layers, all, sizeof all);
    human((double)numbers * bytes_per_number * n_layers * CONTEXT, ctx, sizeof ctx);
    printf("  %-13s %-5s %12s %14s %28s\n", what, format, one, all, ctx);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "finale/mini/weights/mini.bin";
    MiniWeights w;
    char err[512];
    MiniConfig c = mini_default_config();
    const char *source = "MODEL.md's defaults (no trained weights file yet)";
    char from[600];
    if (mini_load_weights(path, &w, err, sizeof err) == 0) {
        c = w.cfg;
        snprintf(from, sizeof from, "the config of %s", path);
        source = from;
    } else if (argc > 1) {
        fprintf(stderr, "demo_kv_bytes: %s: %s\n", path, err);
        mini_free_weights(&w);
        return 1;
    }
    mini_free_weights(&w);

    const long mha_keys = (long)c.n_heads * (c.d_nope + c.d_rope), mha_values = (long)c.n_heads * c.d_v;
    const long mha = mha_keys + mha_values, mla = (long)c.d_latent + c.d_rope;
    printf("\nKV-cache bytes per token: MLA's latent cache against standard multi-head attention\n\n");
    printf("  Shapes from %s:\n", source);
    printf("  n_layers %d, n_heads %d, d_nope %d, d_rope %d, d_v %d, d_latent %d\n\n", c.n_layers, c.n_heads, c.d_nope,
           c.d_rope, c.d_v, c.d_latent);
    printf("  Numbers cached per token and layer:\n");
    printf("    standard MHA  every head's key  n_heads*(d_nope+d_rope) = %d*%d = %ld\n", c.n_heads, c.d_nope + c.d_rope,
           mha_keys);
    printf("                  every head's value  n_heads*d_v = %d*%d = %ld          total %ld\n", c.n_heads, c.d_v,
           mha_values, mha);
    printf("    MLA           one latent  d_latent = %d, one RoPE key shared by the heads  d_rope = %d   total %ld\n",
           c.d_latent, c.d_rope, mla);
    printf("    MLA caches %.1fx fewer numbers.\n\n", (double)mha / mla);
    char all_layers[32], context[48];
    snprintf(all_layers, sizeof all_layers, "%d layers", c.n_layers);
    snprintf(context, sizeof context, "%d tokens, %d layers", CONTEXT, c.n_layers);
    printf("  %-13s %-5s %12s %14s %28s\n", "", "", "per token", "per token", "whole cache at");
    printf("  %-13s %-5s %12s %14s %28s\n", "cache", "type", "1 layer", all_layers, context);
    row("standard MHA", "FP32", mha, c.n_layers, 4);
    row("", "BF16", mha, c.n_layers, 2);
    row("MLA", "FP32", mla, c.n_layers, 4);
    row("", "BF16", mla, c.n_layers, 2);
    printf("\n  (The MTP draft block keeps one more layer's cache of the same size.)\n");
    /* The same formulas at DeepSeek-V3's published shapes, for scale. */
    const long v3_mha = 128L * (128 + 64) + 128L * 128, v3_mla = 512 + 64;
    printf("  At DeepSeek-V3's shapes (128 heads, d_nope 128, d_rope 64, d_v 128, d_latent 512, 61 layers):\n");
    printf("  MHA %ld numbers per token and layer, MLA %ld: %.0fx fewer; in BF16 %.1f MiB vs %.1f KiB per token.\n\n",
           v3_mha, v3_mla, (double)v3_mha / v3_mla, v3_mha * 2.0 * 61 / (1 << 20), v3_mla * 2.0 * 61 / 1024);
    return 0;
}
