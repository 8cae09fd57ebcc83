/* mini-gpu: the mini-model decoding on the GPU, on the course's kernels (engine.h).
 *
 *   mini-gpu [--weights FILE] [--prompt TEXT] [--tokens N] [--speculative K] [--trace N] [--compare]
 *   mini-gpu --scaled [NAME] [--prompt TEXT] [--tokens N]
 *   mini-gpu [--weights FILE | --scaled] --ep N [--prompt TEXT] [--tokens N] [--speculative K]
 *
 * Decodes greedily and prints the text and tokens/s. --speculative K (1 .. 7) decodes again with K
 * drafts a pass and prints its tokens/s beside greedy's, the mean tokens a pass and how often each
 * draft position was accepted, and whether its tokens equal greedy's; --trace N shows its first N
 * passes (the drafts, the verify pass's own tokens, what was kept). --compare also runs the CPU
 * engine with the same roundings (--numerics serving) and says whether the tokens agree. Where two
 * runs first differ it prints the top two logits there, so that a near-tie (the order of float
 * sums) can be told from a bug. Exit 0 when everything agrees or differs only after a near-tie,
 * 1 otherwise, 2 for bad input or no GPU.
 *
 * --scaled runs the same architecture at sizes where decode is bound by reading the weights
 * (SCALED below: 5 to 9 GB of random weights drawn on the GPU, no file) and reports greedy
 * tokens/s as bytes a step over time, against a device copy measured in the same run.
 *
 * --ep N splits the routed experts over N GPUs of this machine, one process each (ep_run.c), then
 * runs the same model on one GPU: both speeds, and whether the tokens are the same (exit 1 if not). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ep_run.h"
#include "generate.h"
#include "model.h"
#include "weights.h"

#ifndef MINI_DEFAULT_WEIGHTS
#define MINI_DEFAULT_WEIGHTS "finale/mini/weights/mini.bin"
#endif

static void usage(void) {
    fprintf(stderr, "usage: mini-gpu [--weights FILE | --scaled [v3 | 4096]] [--prompt TEXT] [--tokens N] [--speculative K] "
                    "[--trace N] [--compare] [--ep GPUS]\n");
}

/* The scaled configurations: MODEL.md's architecture, random weights, at sizes where a decode
 * step is bound by reading its weights. "v3" has DeepSeek-V3's own layer widths (7168 wide, 128
 * heads of 128 + 64, latent 512 + 64, routed experts 2048 wide, top 8, one shared expert of 2048):
 * three such layers and the MTP block hold about 8.5 GB, and a step reads about 3.2 GB of them.
 * "4096" is the smaller one of the first measurements (FlashMLA's latent widths, 32 heads,
 * 4096-wide layers, 8 experts of 4096, top 2): about 5 GB held, 2.4 GB read a step, so that a
 * layer's dozen small launches weigh more beside its weights. --scaled runs both. */
typedef struct {
    const char *name;
    MiniConfig c;
} ScaledConfig;
static const ScaledConfig SCALED[] = {
    {"v3", {.vocab = 256, .d_model = 7168, .n_layers = 3, .n_heads = 128, .d_nope = 128, .d_rope = 64, .d_v = 128,
            .d_latent = 512, .n_experts = 32, .top_k = 8, .d_expert = 2048, .d_shared = 2048, .mtp_depth = 1,
            .max_seq = 1024, .fp8_block = 128, .reserved = 0, .rope_theta = 10000.0f, .norm_eps = 1e-6f}},
    {"4096", {.vocab = 256, .d_model = 4096, .n_layers = 8, .n_heads = 32, .d_nope = 128, .d_rope = 64, .d_v = 128,
              .d_latent = 512, .n_experts = 8, .top_k = 2, .d_expert = 4096, .d_shared = 4096, .mtp_depth = 1,
              .max_seq = 1024, .fp8_block = 128, .reserved = 0, .rope_theta = 10000.0f, .norm_eps = 1e-6f}},
};
#define N_SCALED ((int)(sizeof SCALED / sizeof SCALED[0]))

/* The scaled configuration called name, or NULL. */
static const ScaledConfig *scaled_named(const char *name) {
    for (int i = 0; i < N_SCALED; i++)
        if (!strcmp(SCALED[i].name, name)) return &SCALED[i];
    return NULL;
}

/* FNV-1a over n bytes, continuing from h (start with 2166136261). */
static uint32_t fnv1a(uint32_t h, const void *bytes, size_t n) {
    const uint8_t *b = bytes;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 16777619u;
    return h;
}

static int run_scaled(const ScaledConfig *sc, const char *prompt, int n_new) {
    char err[256];
    const MiniConfig c = sc->c;
    GpuModel *g = gpu_model_create_random(&c, 20261130, err, sizeof err);
    if (!g) {
        fprintf(stderr, "mini-gpu: %s\n", err);
        return 2;
    }
    const int prompt_len = (int)strlen(prompt);
    uint8_t *out = malloc((size_t)n_new);
    GpuGenerateStats st;
    int status = 2;
    if (!out) fprintf(stderr, "mini-gpu: out of memory\n");
    else if (gpu_generate(g, (const uint8_t *)prompt, prompt_len, n_new, 0, 0, out, &st, err, sizeof err))
        fprintf(stderr, "mini-gpu: %s\n", err);
    else {
        double bytes = 0;  // every decode step's bytes, positions prompt_len - 1 .. prompt_len - 2 + n_new
        for (int p = prompt_len - 1; p < prompt_len - 1 + n_new; p++) bytes += gpu_step_bytes(g, p);
        const double gbs = bytes / (st.decode_ms * 1e-3) / 1e9, copy = gpu_copy_gbs(g);
        printf("scaled configuration \"%s\" (random weights): d_model %d, %d layers, %d heads, latent %d + %d, %d experts of %d "
               "(top %d), shared %d\n", sc->name, c.d_model, c.n_layers, c.n_heads, c.d_latent, c.d_rope, c.n_experts, c.d_expert,
               c.top_k, c.d_shared);
        printf("greedy, batch 1: %d tokens in %.3f ms: %.1f tokens/s, %.2f GB read a token, %.0f GB/s", n_new,
               st.decode_ms, n_new / (st.decode_ms / 1e3), bytes / n_new / 1e9, gbs);
        if (copy > 0) printf(" = %.1f%% of a device copy measured now (%.0f GB/s)\n", 100.0 * gbs / copy, copy);
        else printf(" (the device copy could not be measured)\n");
        status = 0;
        // Random weights make the tokens meaningless, but not arbitrary: two builds that do the same
        // arithmetic print the same fingerprint, so a change meant to be faster only is seen to be so.
        float *logits = malloc((size_t)c.vocab * sizeof(float));
        uint32_t h_tok = fnv1a(2166136261u, out, (size_t)n_new), h_log = 2166136261u;
        for (int p = prompt_len - 1; logits && status == 0 && p < prompt_len - 1 + n_new; p++) {
            if (gpu_logits_at(g, p, logits, err, sizeof err)) fprintf(stderr, "mini-gpu: %s\n", err), status = 2;
            else h_log = fnv1a(h_log, logits, (size_t)c.vocab * sizeof(float));
        }
        if (!logits) fprintf(stderr, "mini-gpu: out of memory\n"), status = 2;
        if (status == 0) printf("fingerprint: tokens %08x, logits %08x\n", h_tok, h_log);
        free(logits);
    }
    free(out);
    gpu_model_free(g);
    return status;
}

/* A byte as the board shows it: printable as itself, others as \n, \t or \xHH. */
static void show_byte(int b) {
    if (b == '\n') printf("\\n");
    else if (b == '\t') printf("\\t");
    else if (b >= 32 && b < 127) putchar(b);
    else printf("\\x%02x", b & 0xff);
}

/* One traced speculative pass, e.g. pass 3 at 21: drafted "t a m" | verify says "t a c?" | kept 3 + its own 'c'. */
static void show_pass(int i, const GpuPassTrace *t) {
    printf("pass %2d at %4d: drafted \"", i + 1, t->pos);
    for (int j = 0; j < t->k; j++) show_byte(t->draft[j]);
    printf("\", the model says \"");
    for (int j = 0; j <= t->k; j++) show_byte(t->target[j]);
    printf("\": ");
    if (t->accepted < t->k) printf("first mismatch at draft %d, ", t->accepted + 1);
    else printf("all %d agree, ", t->k);
    printf("%d kept + the model's own '", t->accepted);
    show_byte(t->target[t->accepted]);
    printf("': %d tokens\n", t->accepted + 1);
}

/* The two largest of n values: their indices. */
static void top_two(const float *v, int n, int *first, int *second) {
    int a = 0, b = -1;
    for (int i = 1; i < n; i++) {
        if (v[i] > v[a]) b = a, a = i;
        else if (b < 0 || v[i] > v[b]) b = i;
    }
    *first = a, *second = b;
}

/* Near-tie: the reference's top two logits closer than this, relative to the larger magnitude
 * (at least 1). The two engines round at the same points but for two things: the order of float
 * sums, and the attention weights, which mla_decode rounds to BF16 before its P.V product (the
 * tensor cores take BF16) where the CPU keeps them float. A value near a rounding midpoint can then
 * round the other way, one BF16 step; through the layers that moves logits by a fraction of a
 * percent. A bug moves them by far more. */
#define NEAR_TIE 1e-2f

/* Where two token sequences first differ, given the reference run's logits at that position:
 * prints the top two and returns 0 for a near-tie, 1 otherwise. */
static int judge_difference(const char *what, int first, int n_new, int ref_tok, int other_tok, const float *logits,
                            int vocab) {
    int a, b;
    top_two(logits, vocab, &a, &b);
    const float scale = fabsf(logits[a]) > 1.0f ? fabsf(logits[a]) : 1.0f;
    const float gap = (logits[a] - logits[b]) / scale;
    printf("%s: the tokens agree for %d of %d, then %d against %d; the top two logits there: %d (%.6f) and %d (%.6f), "
           "relative gap %.2e\n", what, first, n_new, ref_tok, other_tok, a, logits[a], b, logits[b], gap);
    if (gap < NEAR_TIE) {
        printf("%s: a near-tie (gap under %.0e): within the engines' remaining numeric differences\n", what, NEAR_TIE);
        return 0;
    }
    printf("%s: NOT a near-tie: the two compute different things\n", what);
    return 1;
}

static int compare_with_cpu(const MiniWeights *w, GpuModel *g, const uint8_t *prompt, int prompt_len,
                            const uint8_t *gpu_out, int n_new) {
    char err[256];
    MiniModel m;
    if (mini_model_init_numerics(&m, w, 1, 0, MINI_NUMERICS_SERVING, err, sizeof err)) {
        fprintf(stderr, "mini-gpu: the CPU engine: %s\n", err);
        return 2;
    }
    uint8_t *cpu_out = malloc((size_t)n_new);
    float *cpu_logits = malloc((size_t)w->cfg.vocab * sizeof(float)), *gpu_logits = malloc((size_t)w->cfg.vocab * sizeof(float));
    int status = 2;
    if (!cpu_out || !cpu_logits || !gpu_logits) { fprintf(stderr, "mini-gpu: out of memory\n"); goto done; }
    if (mini_generate(&m, prompt, prompt_len, n_new, 0, cpu_out, NULL, err, sizeof err)) {
        fprintf(stderr, "mini-gpu: the CPU engine: %s\n", err);
        goto done;
    }
    int first = -1;
    for (int i = 0; i < n_new && first < 0; i++) if (cpu_out[i] != gpu_out[i]) first = i;
    /* How far apart the two engines' logits are while their texts agree: the CPU engine rerun one
     * position at a time, each position's logits against the GPU's. */
    {
        const int agree = first < 0 ? n_new : first, last = prompt_len - 1 + agree, V = w->cfg.vocab;
        MiniModel r;
        uint8_t *seq = malloc((size_t)last + 1);
        double worst = 0, sum = 0;
        int worst_pos = 0, counted = 0;
        if (seq && !mini_model_init_numerics(&r, w, 1, 0, MINI_NUMERICS_SERVING, err, sizeof err)) {
            memcpy(seq, prompt, (size_t)prompt_len);
            memcpy(seq + prompt_len, cpu_out, (size_t)agree);
            for (int p = 0; p <= last && p < prompt_len - 1 + n_new; p++) {
                mini_forward(&r, seq + p, 1, NULL, cpu_logits);
                if (gpu_logits_at(g, p, gpu_logits, err, sizeof err)) break;
                double num = 0, den = 0;
                for (int v = 0; v < V; v++) {
                    num += (double)(gpu_logits[v] - cpu_logits[v]) * (gpu_logits[v] - cpu_logits[v]);
                    den += (double)cpu_logits[v] * cpu_logits[v];
                }
                const double rel = den > 0 ? sqrt(num / den) : 0;
                sum += rel;
                counted++;
                if (rel > worst) worst = rel, worst_pos = p;
            }
            if (counted)
                printf("compare: logits at the %d positions where the texts agree: relative L2 difference mean %.2e, "
                       "worst %.2e (position %d)\n", counted, sum / counted, worst, worst_pos);
            mini_model_free(&r);
        }
        free(seq);
    }
    if (first < 0) {
        printf("compare: the %d tokens equal the CPU engine's (--numerics serving)\n", n_new);
        status = 0;
        goto done;
    }
    /* The CPU's logits at the position that predicted token `first`: rerun the CPU engine up to it. */
    const int pos = prompt_len - 1 + first;
    mini_model_free(&m);
    if (mini_model_init_numerics(&m, w, 1, 0, MINI_NUMERICS_SERVING, err, sizeof err)) goto done;
    uint8_t *seq = malloc((size_t)pos + 1);
    if (!seq) goto done;
    memcpy(seq, prompt, (size_t)prompt_len);
    memcpy(seq + prompt_len, cpu_out, (size_t)first);
    for (int p = 0; p <= pos; p++) mini_forward(&m, seq + p, 1, NULL, p == pos ? cpu_logits : NULL);
    free(seq);
    if (gpu_logits_at(g, pos, gpu_logits, err, sizeof err) == 0) {
        int a, b;
        top_two(cpu_logits, w->cfg.vocab, &a, &b);
        printf("compare: the GPU's logits for the CPU's top two: %.6f and %.6f\n", gpu_logits[a], gpu_logits[b]);
    }
    status = judge_difference("compare (CPU, GPU)", first, n_new, cpu_out[first], gpu_out[first], cpu_logits,
                              w->cfg.vocab);
done:
    free(cpu_out);
    free(cpu_logits);
    free(gpu_logits);
    mini_model_free(&m);
    return status;
}

int main(int argc, char **argv) {
    const char *weights = MINI_DEFAULT_WEIGHTS, *prompt = "Once upon a time";
    int n_new = 200, compare = 0, k = 0, trace = 0, scaled = 0, weights_given = 0, ep = 0;
    const ScaledConfig *scaled_one = NULL;  // --scaled NAME; NULL: all of them
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--weights") && i + 1 < argc) weights = argv[++i], weights_given = 1;
        else if (!strcmp(argv[i], "--scaled")) {
            scaled = 1;
            if (i + 1 < argc && argv[i + 1][0] != '-' && !(scaled_one = scaled_named(argv[++i]))) {
                fprintf(stderr, "mini-gpu: --scaled takes");
                for (int j = 0; j < N_SCALED; j++) fprintf(stderr, "%s %s", j ? " or" : "", SCALED[j].name);
                fprintf(stderr, " (or nothing: all of them), not %s\n", argv[i]);
                return 2;
            }
        }
        else if (!strcmp(argv[i], "--prompt") && i + 1 < argc) prompt = argv[++i];
        else if ((!strcmp(argv[i], "--tokens") || !strcmp(argv[i], "--speculative") || !strcmp(argv[i], "--trace") ||
                  !strcmp(argv[i], "--ep")) && i + 1 < argc) {
            const char *opt = argv[i];
            const int lo = !strcmp(opt, "--tokens") ? 1 : !strcmp(opt, "--ep") ? 2 : 0;
            const int hi = !strcmp(opt, "--tokens") ? 100000 : !strcmp(opt, "--speculative") ? MINI_MAX_DRAFTS
                         : !strcmp(opt, "--ep") ? 8 : GPU_TRACE_MAX;
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < lo || v > hi) {
                fprintf(stderr, "mini-gpu: %s wants a number from %d to %d\n", opt, lo, hi);
                return 2;
            }
            if (!strcmp(opt, "--tokens")) n_new = (int)v;
            else if (!strcmp(opt, "--speculative")) k = (int)v;
            else if (!strcmp(opt, "--ep")) ep = (int)v;
            else trace = (int)v;
        } else if (!strcmp(argv[i], "--compare")) compare = 1;
        else { usage(); return 2; }
    }
    const int prompt_len = (int)strlen(prompt);
    if (prompt_len == 0) { fprintf(stderr, "mini-gpu: the prompt is empty\n"); return 2; }
    if (ep && (trace || compare)) {
        fprintf(stderr, "mini-gpu: --ep compares with one GPU itself: no --trace or --compare\n");
        return 2;
    }
    if (ep && scaled) {
        const MiniConfig c = (scaled_one ? scaled_one : &SCALED[0])->c;
        return mini_gpu_expert_parallel(ep, NULL, &c, 20261130, prompt, n_new, k);
    }
    if (scaled) {
        if (weights_given || k || trace || compare) {
            fprintf(stderr, "mini-gpu: --scaled runs greedy on random weights: no --weights, --speculative, --trace or --compare\n");
            return 2;
        }
        if (scaled_one) return run_scaled(scaled_one, prompt, n_new);
        int status = 0;
        for (int i = 0; i < N_SCALED; i++) {
            const int s = run_scaled(&SCALED[i], prompt, n_new);
            if (s > status) status = s;
        }
        return status;
    }
    char err[256];
    MiniWeights w;
    if (mini_load_weights(weights, &w, err, sizeof err)) {
        fprintf(stderr, "mini-gpu: %s: %s\n", weights, err);
        return 2;
    }
    if (ep) {
        const int status = mini_gpu_expert_parallel(ep, &w, NULL, 0, prompt, n_new, k);
        mini_free_weights(&w);
        return status;
    }
    GpuModel *g = gpu_model_create(&w, err, sizeof err);
    if (!g) {
        fprintf(stderr, "mini-gpu: %s\n", err);
        mini_free_weights(&w);
        return 2;
    }
    uint8_t *out = malloc((size_t)n_new), *spec = malloc((size_t)n_new);
    float *logits = malloc((size_t)w.cfg.vocab * sizeof(float));
    GpuGenerateStats st, ss;
    int status = 2;
    if (!out || !spec || !logits) fprintf(stderr, "mini-gpu: out of memory\n");
    else if (gpu_generate(g, (const uint8_t *)prompt, prompt_len, n_new, 0, 0, out, &st, err, sizeof err))
        fprintf(stderr, "mini-gpu: %s\n", err);
    else {
        printf("%s", prompt);
        for (int i = 0; i < n_new; i++) putchar(out[i] >= 32 && out[i] < 127 ? out[i] : out[i] == '\n' ? '\n' : '?');
        const double greedy_tps = n_new / (st.decode_ms / 1e3);
        printf("\n\ngreedy, batch 1, on the GPU: %d tokens in %.3f ms after a prompt of %d (%.3f ms): %.0f tokens/s\n",
               n_new, st.decode_ms, prompt_len, st.ms - st.decode_ms, greedy_tps);
        status = 0;
        if (k > 0) {
            if (gpu_generate(g, (const uint8_t *)prompt, prompt_len, n_new, k, trace, spec, &ss, err, sizeof err)) {
                fprintf(stderr, "mini-gpu: %s\n", err);
                status = 2;
            } else {
                const double tps = n_new / (ss.decode_ms / 1e3);
                int kept = 0;
                for (int a = 0; a <= k; a++) kept += a * ss.accept_hist[a];
                printf("speculative, %d drafts a pass: %d tokens in %.3f ms: %.0f tokens/s, %.2fx greedy; %d passes, "
                       "%.2f tokens a pass\n", k, n_new, ss.decode_ms, tps, tps / greedy_tps, ss.passes,
                       ss.passes ? (double)(kept + ss.passes) / ss.passes : 0.0);
                printf("draft accepted at position:");
                for (int i = 1; i <= k; i++) {
                    int reached = 0;  // passes that kept at least i drafts
                    for (int a = i; a <= k; a++) reached += ss.accept_hist[a];
                    printf(" %d: %.0f%%", i, ss.passes ? 100.0 * reached / ss.passes : 0.0);
                }
                printf("\n");
                for (int i = 0; i < ss.n_trace; i++) show_pass(i, &ss.trace[i]);
                int first = -1;
                for (int i = 0; i < n_new && first < 0; i++) if (spec[i] != out[i]) first = i;
                if (first < 0) printf("speculative: the %d tokens equal greedy's\n", n_new);
                else if (gpu_logits_at(g, prompt_len - 1 + first, logits, err, sizeof err)) {
                    fprintf(stderr, "mini-gpu: %s\n", err);
                    status = 1;
                } else
                    status = judge_difference("speculative (greedy, speculative)", first, n_new, out[first], spec[first],
                                              logits, w.cfg.vocab);
            }
        }
        if (compare) {
            // gpu_logits_at reads the last greedy run's logits: run greedy again if speculative ran after it.
            if (k > 0 && gpu_generate(g, (const uint8_t *)prompt, prompt_len, n_new, 0, 0, out, &st, err, sizeof err)) {
                fprintf(stderr, "mini-gpu: %s\n", err);
                status = 2;
            } else {
                const int c = compare_with_cpu(&w, g, (const uint8_t *)prompt, prompt_len, out, n_new);
                if (c > status) status = c;
            }
        }
    }
    free(out);
    free(spec);
    free(logits);
    gpu_model_free(g);
    mini_free_weights(&w);
    return status;
}
