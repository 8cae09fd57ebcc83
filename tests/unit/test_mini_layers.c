/* The mini-model's pieces against cases worked by hand: RoPE, RMSNorm, the MoE router and gates;
 * and the two MLA paths (naive, absorbed) against each other. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "engine/moe.h"
#include "engine/ops.h"
#include "engine/rope.h"
#include "mini_helpers.h"

#define assert_close(got, want, tol) \
    cr_assert_leq(fabs((double)(got) - (double)(want)), (tol), "%s = %.8g, expected %.8g", #got, (double)(got), (double)(want))

Test(mini_layers, rope_by_hand) {
    /* d_rope 4, theta 10000: pair 0 turns at frequency 1, pair 1 at 10000^(-2/4) = 0.01 per position. */
    MiniRope rope;
    cr_assert_eq(mini_rope_init(&rope, 4, 8, 10000.0f), 0);
    float x[4] = {1, 0, 0, 1};
    mini_rope_apply(&rope, x, 0);
    cr_assert(x[0] == 1 && x[1] == 0 && x[2] == 0 && x[3] == 1, "position 0 is no rotation");
    mini_rope_apply(&rope, x, 1);
    assert_close(x[0], 0.540302306, 1e-7);    /* (1, 0) by 1 radian: (cos 1, sin 1) */
    assert_close(x[1], 0.841470985, 1e-7);
    assert_close(x[2], -0.00999983333, 1e-7); /* (0, 1) by 0.01 radian: (-sin 0.01, cos 0.01) */
    assert_close(x[3], 0.999950000, 1e-7);
    float y[4] = {2, 1, 3, -1};
    mini_rope_apply(&rope, y, 3);             /* pair 0 by 3 rad, pair 1 by 0.03 rad */
    assert_close(y[0], 2 * cos(3.0) - 1 * sin(3.0), 1e-6);
    assert_close(y[1], 2 * sin(3.0) + 1 * cos(3.0), 1e-6);
    assert_close(y[2], 3 * cos(0.03) + 1 * sin(0.03), 1e-6);
    assert_close(y[3], 3 * sin(0.03) - 1 * cos(0.03), 1e-6);
    mini_rope_free(&rope);
}

Test(mini_layers, rmsnorm_softmax_argmax_by_hand) {
    const float x[2] = {3, 4}, g[2] = {1, 2};
    float y[2];
    mini_rmsnorm(x, g, 2, 0.0f, y);           /* rms = sqrt((9 + 16) / 2) = 3.5355339 */
    assert_close(y[0], 0.848528137, 1e-6);
    assert_close(y[1], 2.262741700, 1e-6);
    float p[3] = {0, log(2.0), log(5.0)};     /* exp: 1, 2, 5 */
    mini_softmax(p, 3);
    assert_close(p[0], 0.125, 1e-7);
    assert_close(p[1], 0.25, 1e-7);
    assert_close(p[2], 0.625, 1e-7);
    const float tie[4] = {1, 7, 3, 7};
    cr_assert_eq(mini_argmax(tie, 4), 1, "ties go to the lowest index");
}

/* A tiny MoE: d_model 2, 4 experts top 2, each expert of hidden width 1 with w1 = w3 = (1, 0) and
 * w2 = (c_e, 0): expert_e(a) = (c_e * silu(a0) * a0, 0). The shared expert is zero. */
typedef struct {
    MiniConfig c;
    MiniBlock b;
    MiniSwiGLU experts[4];
    float router[8], bias[4], w13[2], w2[4][2], zero[2];
    MiniWorkspace ws;
} TinyMoe;

static void tiny_moe(TinyMoe *t, const float u[4], const float bias[4]) {
    memset(t, 0, sizeof *t);
    t->c = mini_small_config();
    t->c.d_model = 2, t->c.n_experts = 4, t->c.top_k = 2, t->c.d_expert = 1, t->c.d_shared = 1;
    t->w13[0] = 1;
    for (int e = 0; e < 4; e++) {
        t->router[2 * e] = u[e];             /* with a = (1, 0), router_e · a = u[e] */
        t->bias[e] = bias[e];
        t->w2[e][0] = (float)(e + 1);        /* c_e = e + 1 */
        t->experts[e] = (MiniSwiGLU){.d_hidden = 1, .w1 = t->w13, .w2 = t->w2[e], .w3 = t->w13};
    }
    t->b.router = t->router, t->b.bias = t->bias, t->b.experts = t->experts;
    t->b.shared = (MiniSwiGLU){.d_hidden = 1, .w1 = t->zero, .w2 = t->zero, .w3 = t->zero};
    cr_assert_eq(mini_workspace_init(&t->ws, &t->c, 2), 0);
}

Test(mini_layers, moe_routing_bias_changes_the_choice) {
    /* u = (2, 1, 0, -1): s = sigmoid(u) = (0.880797, 0.731059, 0.5, 0.268941).
     * Without bias the top 2 are experts 0 and 1. With bias (0, 0, 0.3, 0.5): s + bias =
     * (0.880797, 0.731059, 0.8, 0.768941), so experts 0 and 2 win; the gates use s alone:
     * 0.880797 / 1.380797 = 0.637890 and 0.5 / 1.380797 = 0.362110. */
    const float u[4] = {2, 1, 0, -1}, no_bias[4] = {0, 0, 0, 0}, bias[4] = {0, 0, 0.3f, 0.5f};
    TinyMoe t;
    int chosen[2];
    float gates[2];
    tiny_moe(&t, u, no_bias);
    const float a[2] = {1, 0};
    mini_moe_route(&t.c, &t.b, a, chosen, gates, t.ws.router_logits);
    cr_assert(chosen[0] == 0 && chosen[1] == 1, "without bias: chose %d, %d", chosen[0], chosen[1]);
    mini_workspace_free(&t.ws);

    tiny_moe(&t, u, bias);
    mini_moe_route(&t.c, &t.b, a, chosen, gates, t.ws.router_logits);
    cr_assert(chosen[0] == 0 && chosen[1] == 2, "with bias: chose %d, %d", chosen[0], chosen[1]);
    assert_close(gates[0], 0.637890, 1e-6);
    assert_close(gates[1], 0.362110, 1e-6);
    /* out = 0.637890 * 1 * silu(1) + 0.362110 * 3 * silu(1), silu(1) = 0.731059 */
    float out[2];
    mini_moe_forward(&t.c, &t.b, a, 1, 0, MINI_NUMERICS_FLOAT, out, &t.ws);
    assert_close(out[0], (0.637890 * 1 + 0.362110 * 3) * 0.731058579, 1e-6);
    assert_close(out[1], 0.0, 0.0);
    mini_workspace_free(&t.ws);
}

Test(mini_layers, moe_routing_ties_go_to_the_lower_index) {
    /* All scores 0.5; biases make experts 1 and 3 tie for the lead and 0 and 2 tie behind. */
    const float u[4] = {0, 0, 0, 0}, bias[4] = {0.25f, 0.5f, 0.25f, 0.5f};
    TinyMoe t;
    tiny_moe(&t, u, bias);
    int chosen[2];
    float gates[2];
    const float a[2] = {1, 0};
    mini_moe_route(&t.c, &t.b, a, chosen, gates, t.ws.router_logits);
    cr_assert(chosen[0] == 1 && chosen[1] == 3, "chose %d, %d", chosen[0], chosen[1]);
    assert_close(gates[0], 0.5, 0);
    assert_close(gates[1], 0.5, 0);
    const float flat[4] = {0, 0, 0, 0};
    mini_workspace_free(&t.ws);
    tiny_moe(&t, u, flat);
    mini_moe_route(&t.c, &t.b, a, chosen, gates, t.ws.router_logits);
    cr_assert(chosen[0] == 0 && chosen[1] == 1, "all tied: chose %d, %d", chosen[0], chosen[1]);
    mini_workspace_free(&t.ws);
}

/* Logits of every prompt position, one token at a time. */
static void prompt_logits(MiniModel *m, const char *prompt, float *logits) {
    mini_truncate(m, 0);
    for (int i = 0; prompt[i]; i++) mini_forward(m, (const uint8_t *)prompt + i, 1, NULL, logits + (size_t)i * 256);
}

Test(mini_layers, absorbed_mla_equals_naive_mla) {
    MiniWeights w;
    mini_test_weights(&w, MINI_TEST_SEED);
    MiniModel naive, absorbed;
    mini_test_model(&naive, &w, 0, 1);
    mini_test_model(&absorbed, &w, 0, 0);
    const char *prompt = "Absorbing wk_b into the query changes nothing but rounding.";
    const int n = (int)strlen(prompt);
    float *a = malloc((size_t)n * 256 * sizeof(float)), *b = malloc((size_t)n * 256 * sizeof(float));
    prompt_logits(&naive, prompt, a);
    prompt_logits(&absorbed, prompt, b);
    double worst = 0;
    for (int i = 0; i < n * 256; i++) {
        double d = fabs(a[i] - b[i]) / (1 + fabs(a[i]));
        if (d > worst) worst = d;
    }
    cr_assert_leq(worst, 1e-4, "naive and absorbed logits differ by %g (relative to 1 + |logit|)", worst);
    cr_assert_gt(worst, 0.0, "the two paths are identical to the bit: are they both the same code?");
    free(a);
    free(b);
    mini_model_free(&naive);
    mini_model_free(&absorbed);
    mini_free_weights(&w);
}

/* What makes speculative == greedy: a batched pass computes each position to the bit as alone. */
Test(mini_layers, batched_pass_equals_one_token_passes_bitwise) {
    MiniWeights w;
    mini_test_weights(&w, MINI_TEST_SEED);
    for (int fp8 = 0; fp8 <= 1; fp8++) {
        MiniModel m;
        mini_test_model(&m, &w, fp8, 0);
        const uint8_t tokens[11] = "batch me!?";
        float one[11 * 256], batched[11 * 256], hidden_one[11 * 64], hidden_batched[11 * 64];
        for (int i = 0; i < 11; i++) mini_forward(&m, tokens + i, 1, hidden_one + i * 64, one + i * 256);
        mini_truncate(&m, 0);
        mini_forward(&m, tokens, 3, hidden_batched, batched);                       /* 3 + 8 */
        mini_forward(&m, tokens + 3, 8, hidden_batched + 3 * 64, batched + 3 * 256);
        cr_assert_eq(memcmp(one, batched, sizeof one), 0, "logits differ (fp8 = %d)", fp8);
        cr_assert_eq(memcmp(hidden_one, hidden_batched, sizeof hidden_one), 0, "hidden states differ (fp8 = %d)", fp8);
        mini_model_free(&m);
    }
    mini_free_weights(&w);
}
