/* mini: the mini-model's CPU reference engine as a command.
 *
 *   mini [--weights FILE] [--prompt TEXT] [--tokens N] [--speculative K] [--fp8-experts] [--naive-mla]
 *        [--numerics float|serving]
 *
 * Prints the prompt and the generated text, then the speed, and for speculative decoding the verify
 * passes and the tokens each pass yielded. --numerics serving rounds where the GPU engine does
 * (MODEL.md "Serving numerics"; FP8 experts, absorbed MLA); the default, float, rounds nowhere.
 * Any problem (a bad argument, a bad weights file, a prompt that does not fit) is one line on
 * stderr and a non-zero exit. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "generate.h"
#include "model.h"
#include "weights.h"

#define DEFAULT_WEIGHTS "finale/mini/weights/mini.bin"   /* relative to the repository root */

static int usage_error(const char *fmt, const char *what) {
    fprintf(stderr, "mini: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, " (usage: mini [--weights FILE] [--prompt TEXT] [--tokens N] [--speculative K] [--fp8-experts] [--naive-mla] [--numerics float|serving])\n");
    return 64;
}

/* A whole decimal integer in [lo, hi], or -1 after printing why not. */
static long parse_count(const char *option, const char *text, long lo, long hi) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) {
        fprintf(stderr, "mini: %s %s: expected a whole number from %ld to %ld\n", option, text, lo, hi);
        return -1;
    }
    return v;
}

/* The default weights: under the current directory (the repository root, as make runs it), else
 * next to this binary, which lives in <root>/build/mini/. */
static void default_weights(char *path, size_t len) {   /* len >= 4096 + 64 */
    snprintf(path, len, "%s", DEFAULT_WEIGHTS);
    if (access(path, R_OK) == 0) return;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = 0;
    char *root = dirname(dirname(dirname(exe)));   /* <root>/build/mini/mini -> <root> */
    char candidate[4096 + 64];   /* fits path */
    snprintf(candidate, sizeof candidate, "%s/%s", root, DEFAULT_WEIGHTS);
    if (access(candidate, R_OK) == 0) snprintf(path, len, "%s", candidate);
}

/* --tokens N: any whole number from 1. Its real limit, the context left after the prompt, is known
 * only once the weights are read; a number too large for a long is kept as "too many" for that check. */
static long parse_tokens(const char *text) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < 1 || (errno && !(errno == ERANGE && v == LONG_MAX))) {
        fprintf(stderr, "mini: --tokens %s: expected a whole number, at least 1\n", text);
        return -1;
    }
    return v;
}

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv) {
    char weights_path[4096 + 64];
    const char *prompt = "The ", *tokens_text = "100";   /* --tokens as typed, for the message */
    long n_tokens = 100, speculative_k = 0;
    int use_fp8 = 0, naive_mla = 0, weights_given = 0, numerics = MINI_NUMERICS_FLOAT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--fp8-experts")) use_fp8 = 1;
        else if (!strcmp(a, "--naive-mla")) naive_mla = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: mini [--weights FILE] [--prompt TEXT] [--tokens N] [--speculative K] [--fp8-experts] [--naive-mla] [--numerics float|serving]\n"
                   "  --weights FILE   weights file (default %s)\n"
                   "  --prompt TEXT    the start of the text (default \"The \")\n"
                   "  --tokens N       bytes to generate (default 100; at most the model's context minus the prompt)\n"
                   "  --speculative K  draft K tokens (1..7) with the MTP module and verify them in one pass\n"
                   "  --fp8-experts    routed experts from the FP8 weights and their block scales\n"
                   "  --naive-mla      attention by up-projecting the cached latents (default: absorbed)\n"
                   "  --numerics M     float (default): no rounding; serving: BF16 activations and FP8 expert\n"
                   "                   inputs where the GPU engine rounds them (implies --fp8-experts)\n",
                   DEFAULT_WEIGHTS);
            return 0;
        } else if (!strcmp(a, "--weights") || !strcmp(a, "--prompt") || !strcmp(a, "--tokens") ||
                   !strcmp(a, "--speculative") || !strcmp(a, "--numerics")) {
            if (!has_value) return usage_error("%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--weights")) { snprintf(weights_path, sizeof weights_path, "%s", v); weights_given = 1; }
            else if (!strcmp(a, "--prompt")) prompt = v;
            else if (!strcmp(a, "--tokens")) { if ((n_tokens = parse_tokens(v)) < 0) return 64; tokens_text = v; }
            else if (!strcmp(a, "--numerics")) {
                if (!strcmp(v, "float")) numerics = MINI_NUMERICS_FLOAT;
                else if (!strcmp(v, "serving")) numerics = MINI_NUMERICS_SERVING;
                else { fprintf(stderr, "mini: --numerics %s: expected float or serving\n", v); return 64; }
            }
            else if ((speculative_k = parse_count(a, v, 1, MINI_MAX_DRAFTS)) < 0) return 64;
        } else return usage_error("unknown argument '%s'", a);
    }
    if (!*prompt) return usage_error("%sthe prompt is empty (the model has no start token)", "");
    if (!weights_given) default_weights(weights_path, sizeof weights_path);

    char err[512];
    MiniWeights weights;
    if (mini_load_weights(weights_path, &weights, err, sizeof err)) {
        fprintf(stderr, "mini: %s: %s%s\n", weights_path, err,
                weights_given ? "" : " (the default: the trained weights; --weights FILE names another)");
        mini_free_weights(&weights);
        return 1;
    }
    const int prompt_len = (int)strlen(prompt), context = weights.cfg.max_seq;
    const long room = (long)context - prompt_len;   /* the prompt and the new tokens share the context */
    if (room < 1 || n_tokens > room) {
        if (room < 1)
            fprintf(stderr, "mini: the prompt of %d bytes fills the model's context of %d bytes; a prompt of at most "
                    "%d bytes leaves room to generate\n", prompt_len, context, context - 1);
        else
            fprintf(stderr, "mini: --tokens %s is too many: the model's context of %d bytes less the %d-byte prompt "
                    "leaves at most %ld\n", tokens_text, context, prompt_len, room);
        mini_free_weights(&weights);
        return 1;
    }
    MiniModel model;
    if (mini_model_init_numerics(&model, &weights, use_fp8, naive_mla, numerics, err, sizeof err)) {
        fprintf(stderr, "mini: %s\n", err);
        mini_free_weights(&weights);
        return 1;
    }
    uint8_t *out = malloc((size_t)n_tokens);
    MiniGenerateStats stats = {0};
    double t0 = seconds_now();
    int failed = !out || mini_generate(&model, (const uint8_t *)prompt, prompt_len, (int)n_tokens, (int)speculative_k,
                                       out, &stats, err, sizeof err);
    double elapsed = seconds_now() - t0;
    if (failed) {
        fprintf(stderr, "mini: %s\n", out ? err : "out of memory");
    } else {
        fwrite(prompt, 1, (size_t)prompt_len, stdout);
        fwrite(out, 1, (size_t)n_tokens, stdout);
        printf("\n---\n%ld tokens in %.3f s (prompt of %d bytes included): %.0f tokens/s; %s, %s experts, %s MLA, "
               "%s numerics\n", n_tokens, elapsed, prompt_len, n_tokens / elapsed, speculative_k ? "speculative" : "greedy",
               model.use_fp8 ? "FP8" : "BF16", naive_mla ? "naive" : "absorbed",
               numerics == MINI_NUMERICS_SERVING ? "serving" : "float");
        if (speculative_k)   /* the first token comes from the prompt pass; the rest from verify passes */
            printf("speculative k = %ld: %d verify passes, %.2f tokens per pass (%d of %d drafts accepted)\n",
                   speculative_k, stats.passes, stats.passes ? (double)(n_tokens - 1) / stats.passes : 0.0,
                   stats.accepted, stats.drafted);
    }
    free(out);
    mini_model_free(&model);
    mini_free_weights(&weights);
    return failed ? 1 : 0;
}
