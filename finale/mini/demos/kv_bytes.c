/* The program behind `make demo-kv-bytes` (finale/14-deepseek/demo_kv_bytes.sh): KV-cache bytes per
 * token of MLA's latent cache against standard multi-head attention of the same widths, per layer,
 * for the whole model and at a 1024-token context, in FP32 and BF16.
 *
 *   demo_kv_bytes [WEIGHTS]   shapes from the weights file's config (default: the trained file),
 *                             or MODEL.md's defaults when there is no such file */
#include <stdio.h>
#include <string.h>

#include "testfile.h"
#include "weights.h"

#define CONTEXT 1024

/* One cell of the bytes table: the exact count, and the binary unit beside a large one, kept apart
 * so that a column lines up on its "B" and its "=" whatever the shapes. */
typedef struct {
    char exact[32], unit[24];
} cell;

static cell bytes_cell(double bytes) {
    cell c = {{0}, {0}};
    snprintf(c.exact, sizeof c.exact, "%.0f B", bytes);
    if (bytes >= 1 << 30) snprintf(c.unit, sizeof c.unit, "= %.2f GiB", bytes / (1 << 30));
    else if (bytes >= 1 << 20) snprintf(c.unit, sizeof c.unit, "= %.2f MiB", bytes / (1 << 20));
    else if (bytes >= 10 << 10) snprintf(c.unit, sizeof c.unit, "= %.1f KiB", bytes / (1 << 10));
    return c;
}

static int max_int(int a, int b) { return a > b ? a : b; }

/* The bytes table: per token for one layer, for all layers, and the whole cache at CONTEXT tokens;
 * each column as wide as its widest cell or heading. */
static void bytes_table(long mha, long mla, int n_layers) {
    const char *cache[4] = {"standard MHA", "", "MLA", ""}, *type[4] = {"FP32", "BF16", "FP32", "BF16"};
    const long numbers[4] = {mha, mha, mla, mla};
    const int size[4] = {4, 2, 4, 2};
    char head1[3][48] = {"per token", "per token", "whole cache at"}, head2[3][48];
    snprintf(head2[0], sizeof head2[0], "1 layer");
    snprintf(head2[1], sizeof head2[1], "%d layers", n_layers);
    snprintf(head2[2], sizeof head2[2], "%d tokens, %d layers", CONTEXT, n_layers);
    cell cells[4][3];
    int exact_w[3] = {0}, unit_w[3] = {0}, width[3];
    for (int r = 0; r < 4; r++) {
        double one = (double)numbers[r] * size[r];
        cells[r][0] = bytes_cell(one);
        cells[r][1] = bytes_cell(one * n_layers);
        cells[r][2] = bytes_cell(one * n_layers * CONTEXT);
        for (int k = 0; k < 3; k++) {
            exact_w[k] = max_int(exact_w[k], (int)strlen(cells[r][k].exact));
            unit_w[k] = max_int(unit_w[k], (int)strlen(cells[r][k].unit));
        }
    }
    for (int k = 0; k < 3; k++) {
        int cells_w = exact_w[k] + (unit_w[k] ? 1 + unit_w[k] : 0);
        width[k] = max_int(cells_w, max_int((int)strlen(head1[k]), (int)strlen(head2[k])));
        exact_w[k] += width[k] - cells_w;   /* a wide heading: the cells shift right under it */
    }
    printf("  %-13s %-5s", "", "");
    for (int k = 0; k < 3; k++) printf("   %*s", width[k], head1[k]);
    printf("\n  %-13s %-5s", "cache", "type");
    for (int k = 0; k < 3; k++) printf("   %*s", width[k], head2[k]);
    printf("\n");
    for (int r = 0; r < 4; r++) {
        printf("  %-13s %-5s", cache[r], type[r]);
        for (int k = 0; k < 3; k++) {
            printf("   %*s", exact_w[k], cells[r][k].exact);
            if (unit_w[k] && k < 2) printf(" %-*s", unit_w[k], cells[r][k].unit);
            else if (cells[r][k].unit[0]) printf(" %s", cells[r][k].unit);   /* last column: no trailing blanks */
        }
        printf("\n");
    }
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
    /* Numbers cached per token and layer, one row per cached vector, the totals in a column of their own. */
    char formula[4][96];
    snprintf(formula[0], sizeof formula[0], "n_heads*(d_nope+d_rope) = %d*%d = %ld", c.n_heads, c.d_nope + c.d_rope,
             mha_keys);
    snprintf(formula[1], sizeof formula[1], "n_heads*d_v = %d*%d = %ld", c.n_heads, c.d_v, mha_values);
    snprintf(formula[2], sizeof formula[2], "d_latent = %d", c.d_latent);
    snprintf(formula[3], sizeof formula[3], "d_rope = %d", c.d_rope);
    const char *cache[4] = {"standard MHA", "", "MLA", ""};
    const char *what[4] = {"each head's key", "each head's value", "one latent", "one shared RoPE key"};
    const long total[4] = {0, mha, 0, mla};   /* shown on a cache's last row */
    int formula_w = 0;
    for (int r = 0; r < 4; r++) formula_w = max_int(formula_w, (int)strlen(formula[r]));
    const int total_w = snprintf(NULL, 0, "%ld", mha > mla ? mha : mla);
    printf("  Numbers cached per token and layer:\n");
    for (int r = 0; r < 4; r++) {
        if (total[r])
            printf("    %-13s %-19s  %-*s   total %*ld\n", cache[r], what[r], formula_w, formula[r], total_w, total[r]);
        else
            printf("    %-13s %-19s  %s\n", cache[r], what[r], formula[r]);
    }
    printf("    MLA caches %.1fx fewer numbers.\n\n", (double)mha / mla);
    bytes_table(mha, mla, c.n_layers);
    printf("\n  (The MTP draft block keeps one more layer's cache of the same size.)\n");
    /* The same formulas at DeepSeek-V3's published shapes, for scale. */
    const long v3_mha = 128L * (128 + 64) + 128L * 128, v3_mla = 512 + 64;
    printf("  At DeepSeek-V3's shapes (128 heads, d_nope 128, d_rope 64, d_v 128, d_latent 512, 61 layers):\n");
    printf("  MHA %ld numbers per token and layer, MLA %ld: %.0fx fewer; in BF16 %.1f MiB vs %.1f KiB per token.\n\n",
           v3_mha, v3_mla, (double)v3_mha / v3_mla, v3_mha * 2.0 * 61 / (1 << 20), v3_mla * 2.0 * 61 / 1024);
    return 0;
}
