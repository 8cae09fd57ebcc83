/* Greedy and speculative decoding of the mini-model: the accept rule, speculative output equal to
 * greedy output token for token (k = 1 .. 7, BF16 and FP8 experts), every acceptance length with
 * drafts that are right up to a chosen position, and the MTP cache kept as MODEL.md says. */
#include <criterion/criterion.h>
#include <string.h>

#include "mini_helpers.h"

static const char *prompts[] = {"The ", "a", "Hello, world. Hello, world. Hello", "\x01\xff binary \x7f bytes"};
#define N_PROMPTS (int)(sizeof prompts / sizeof prompts[0])
#define N_NEW 48

Test(mini_decode, accept_rule_by_hand) {
    /* Drafts d1..d7 against the verifier's v1..v8: d1..d4 match, d5 != v5: keep d1..d4, then v5. */
    const uint8_t drafts[7] = {'f', 'o', 'x', ' ', 'j', 'u', 'm'}, verified[8] = {'f', 'o', 'x', ' ', 'r', 'a', 'n', '.'};
    cr_assert_eq(mini_accept(drafts, verified, 7), 4);
    cr_assert_eq(mini_accept(drafts, drafts, 7), 7, "all drafts right: keep 7, then the bonus token v8");
    const uint8_t wrong[1] = {'x'};
    cr_assert_eq(mini_accept(wrong, verified, 1), 0, "first draft wrong: the pass still yields v1");
    cr_assert_eq(mini_accept(NULL, verified, 0), 0, "no drafts: a plain greedy step");
}

Test(mini_decode, speculative_equals_greedy_bf16_and_fp8) {
    MiniWeights w;
    mini_test_weights(&w, MINI_TEST_SEED);
    for (int fp8 = 0; fp8 <= 1; fp8++) {
        MiniModel m;
        mini_test_model(&m, &w, fp8, 0);
        for (int p = 0; p < N_PROMPTS; p++) {
            uint8_t greedy[N_NEW], spec[N_NEW];
            mini_test_generate(&m, prompts[p], N_NEW, 0, greedy, NULL);
            for (int k = 1; k <= MINI_MAX_DRAFTS; k++) {
                MiniGenerateStats stats;
                memset(spec, 0xAA, sizeof spec);
                mini_test_generate(&m, prompts[p], N_NEW, k, spec, &stats);
                int at = mini_first_difference(greedy, spec, N_NEW);
                cr_assert_eq(at, -1, "%s experts, prompt %d, k = %d: token %d is %d, greedy says %d", fp8 ? "FP8" : "BF16",
                             p, k, at, at >= 0 ? spec[at] : 0, at >= 0 ? greedy[at] : 0);
                cr_assert_geq(stats.passes, (N_NEW - 1 + k) / (k + 1), "fewer passes than possible");
                cr_assert_leq(stats.passes, N_NEW - 1);
            }
        }
        mini_model_free(&m);
    }
    mini_free_weights(&w);
}

Test(mini_decode, speculative_equals_greedy_with_naive_mla) {
    MiniWeights w;
    mini_test_weights(&w, MINI_TEST_SEED + 1);
    MiniModel m;
    mini_test_model(&m, &w, 0, 1);
    uint8_t greedy[N_NEW], spec[N_NEW];
    mini_test_generate(&m, prompts[2], N_NEW, 0, greedy, NULL);
    for (int k = 1; k <= MINI_MAX_DRAFTS; k += 3) {
        mini_test_generate(&m, prompts[2], N_NEW, k, spec, NULL);
        cr_assert_eq(mini_first_difference(greedy, spec, N_NEW), -1, "k = %d", k);
    }
    mini_model_free(&m);
    mini_free_weights(&w);
}

/* Random weights make a poor drafter (almost every draft is rejected), so the acceptance paths are
 * driven with drafts taken from the greedy output itself, made wrong from position `wrong_at` on:
 * each pass must then keep exactly wrong_at drafts (all k when wrong_at >= k) plus one token, and
 * the text must still be the greedy text. */
Test(mini_decode, every_acceptance_length_rolls_back_correctly) {
    MiniWeights w;
    mini_test_weights(&w, MINI_TEST_SEED);
    for (int fp8 = 0; fp8 <= 1; fp8++) {
        MiniModel m;
        mini_test_model(&m, &w, fp8, 0);
        const char *prompt = prompts[0];
        const int total = 100;
        uint8_t greedy[100];
        mini_test_generate(&m, prompt, total, 0, greedy, NULL);
        for (int k = 1; k <= MINI_MAX_DRAFTS; k++)
            for (int wrong_at = 0; wrong_at <= k; wrong_at++) {
                MiniDecoder d;
                char err[256] = "";
                cr_assert_eq(mini_decoder_start(&d, &m, (const uint8_t *)prompt, (int)strlen(prompt), 1, err, sizeof err), 0,
                             "%s", err);
                cr_assert_eq(d.next_token, greedy[0]);
                int produced = 1;
                while (produced + k + 1 <= total) {
                    uint8_t drafts[MINI_MAX_DRAFTS], out[MINI_MAX_BATCH];
                    uint8_t model_drafts[MINI_MAX_DRAFTS];
                    mini_decoder_draft(&d, k, model_drafts);   /* drafting must leave no trace */
                    for (int j = 0; j < k; j++)
                        drafts[j] = j < wrong_at ? greedy[produced + j] : (uint8_t)(greedy[produced + j] ^ 0x55);
                    int got = mini_decoder_verify(&d, drafts, k, out);
                    int want = wrong_at < k ? wrong_at + 1 : k + 1;
                    cr_assert_eq(got, want, "k = %d, wrong from %d: the pass yields %d tokens, expected %d", k, wrong_at,
                                 got, want);
                    cr_assert_eq(mini_first_difference(out, greedy + produced, got), -1,
                                 "k = %d, wrong from %d: tokens %d .. differ from greedy", k, wrong_at, produced);
                    produced += got;
                    cr_assert_eq(m.len, (int)strlen(prompt) + produced - 1, "main cache length after rollback");
                    cr_assert_eq(m.mtp_len, m.len - 1, "MTP cache length after rollback");
                }
                mini_decoder_free(&d);
            }
        mini_model_free(&m);
    }
    mini_free_weights(&w);
}

/* After speculative decoding, the MTP cache holds exactly what greedy decoding that keeps it
 * computes: every entry from a main hidden state and the next committed token. */
Test(mini_decode, mtp_cache_after_speculation_equals_greedy_mtp_cache) {
    MiniWeights w;
    mini_test_weights(&w, MINI_TEST_SEED);
    MiniModel a, b;
    mini_test_model(&a, &w, 0, 0);
    mini_test_model(&b, &w, 0, 0);
    const char *prompt = prompts[2];
    const int plen = (int)strlen(prompt);
    char err[256] = "";
    uint8_t greedy[64];
    MiniDecoder dg;
    cr_assert_eq(mini_decoder_start(&dg, &a, (const uint8_t *)prompt, plen, 1, err, sizeof err), 0, "%s", err);
    greedy[0] = dg.next_token;
    for (int i = 1; i < 64; i++) greedy[i] = mini_decoder_greedy_step(&dg);

    MiniDecoder ds;
    cr_assert_eq(mini_decoder_start(&ds, &b, (const uint8_t *)prompt, plen, 1, err, sizeof err), 0, "%s", err);
    int produced = 1, pass = 0;
    while (produced < 56) {
        int k = 1 + pass % MINI_MAX_DRAFTS, wrong_at = pass % (k + 1);   /* a mix of lengths */
        uint8_t drafts[MINI_MAX_DRAFTS], out[MINI_MAX_BATCH];
        mini_decoder_draft(&ds, k, drafts);
        for (int j = 0; j < k; j++) drafts[j] = j < wrong_at ? greedy[produced + j] : (uint8_t)~greedy[produced + j];
        produced += mini_decoder_verify(&ds, drafts, k, out);
        pass++;
    }
    /* Greedy model a is further along; compare b's committed MTP entries with a's same positions. */
    const MiniConfig *c = &w.cfg;
    cr_assert_eq(b.mtp_len, plen + produced - 2);
    cr_assert_eq(memcmp(a.mtp_cache.latent, b.mtp_cache.latent, (size_t)b.mtp_len * c->d_latent * sizeof(float)), 0,
                 "MTP latents differ");
    cr_assert_eq(memcmp(a.mtp_cache.rope_key, b.mtp_cache.rope_key, (size_t)b.mtp_len * c->d_rope * sizeof(float)), 0,
                 "MTP RoPE keys differ");
    cr_assert_eq(memcmp(a.caches[1].latent, b.caches[1].latent, (size_t)b.len * c->d_latent * sizeof(float)), 0,
                 "main latents differ");
    mini_decoder_free(&dg);
    mini_decoder_free(&ds);
    mini_model_free(&a);
    mini_model_free(&b);
    mini_free_weights(&w);
}

Test(mini_decode, context_limits_are_refused) {
    MiniWeights w;
    mini_test_weights(&w, MINI_TEST_SEED);
    MiniModel m;
    mini_test_model(&m, &w, 0, 0);
    uint8_t out[200];
    char err[256] = "";
    cr_assert_neq(mini_generate(&m, (const uint8_t *)"abc", 3, 158, 0, out, NULL, err, sizeof err), 0,
                  "3 + 158 > max_seq 160 was accepted");
    cr_assert_not_null(strstr(err, "context"), "%s", err);
    cr_assert_neq(mini_generate(&m, (const uint8_t *)"abc", 3, 10, 8, out, NULL, err, sizeof err), 0, "k = 8 was accepted");
    /* exactly full: prompt + tokens = max_seq, with drafting right up to the end */
    cr_assert_eq(mini_generate(&m, (const uint8_t *)"abc", 3, 157, 7, out, NULL, err, sizeof err), 0, "%s", err);
    mini_model_free(&m);
    mini_free_weights(&w);
}
