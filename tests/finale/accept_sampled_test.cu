// Session 14, exercise 04's sampled rule on the CPU, through the solution's own per-sequence
// function (accept_sampled_row, __host__ __device__: the kernel's steps one at a time):
//   - speculative sampling's promise: whatever the draft, each emitted token is distributed as the
//     target's row. A chi-square test over 16 tokens and 400000 verify steps with a fixed seed, for
//     the first token, the second (given the first draft was accepted) and the bonus (given all
//     were); a token the target gives probability 0 never comes out. A rule that accepts every
//     draft must fail the same test (the test can tell).
//   - on the check's own inputs (the grader's fill and adjust), the function gives the float64
//     reference's answers exactly, at several shapes and seeds.
// Built and run by tests/accept-sampled-test.sh. One PASS or FAIL line a check; exit 1 on a failure.
#include "../../solutions/finale/14-deepseek/04_accept.cu"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sampled_inputs.h"

static int failures;
static void check(bool ok, const char *what, const char *detail) {
    printf("%s  %s%s%s\n", ok ? "PASS" : "FAIL", what, ok ? "" : "  ", ok ? "" : detail);
    if (!ok) failures++;
}

static uint64_t rng = 0x14acce97ull;   // the fixed seed: the test's answer never changes
static double unit_random() {
    rng += 0x9E3779B97F4A7C15ull;      // splitmix64
    uint64_t z = rng;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}
static float unit_float() {            // uniform in [0, 1) as a float
    const float f = (float)unit_random();
    return f < 1.0f ? f : 0x1.fffffep-1f;
}

#define V 16
#define K 2
#define DRAWS 400000
// Chi-square with V - 1 = 15 degrees of freedom: exceeded with probability 0.001 at 37.70.
#define CHI2_LIMIT 37.70

static int sample(const float *p) {
    double u = unit_random(), run = 0;
    for (int v = 0; v < V; v++) if ((run += p[v]) > u) return v;
    return V - 1;
}

static void normalise(float *p) {
    double s = 0;
    for (int v = 0; v < V; v++) s += p[v];
    for (int v = 0; v < V; v++) p[v] = (float)(p[v] / s);
}

// Observed counts against n draws from p: the statistic over the tokens p can produce, and in
// *impossible the draws of tokens it gives probability 0.
static double chi_square(const long *count, const float *p, long *impossible) {
    long n = 0;
    for (int v = 0; v < V; v++) n += count[v];
    double x2 = 0;
    *impossible = 0;
    for (int v = 0; v < V; v++) {
        if (p[v] == 0) { *impossible += count[v]; continue; }
        const double e = (double)n * p[v];
        x2 += (count[v] - e) * (count[v] - e) / e;
    }
    return x2;
}

// DRAWS verify steps; counts of the first token, the second (given draft 0 accepted) and the bonus.
static void run_steps(const float *pt, const float *pd, bool accept_all, long first[V], long second[V],
                      long bonus[V]) {
    memset(first, 0, sizeof(long) * V); memset(second, 0, sizeof(long) * V); memset(bonus, 0, sizeof(long) * V);
    for (long i = 0; i < DRAWS; i++) {
        int draft[K], out[K + 1];
        float u[K];
        for (int j = 0; j < K; j++) { draft[j] = sample(pd + j * V); u[j] = accept_all ? 0.0f : unit_float(); }
        const int n = accept_sampled_row(pt, pd, draft, u, unit_float(), K, V, out);
        first[out[0]]++;
        if (n >= 1) second[out[1]]++;
        if (n == K) bonus[out[K]]++;
    }
}

static void distribution_tests() {
    float pt[(K + 1) * V], pd[K * V];
    for (int v = 0; v < V; v++) {
        pt[v] = expf(2 * sinf((float)v));         // target rows of different shapes
        pt[V + v] = expf(1.5f * cosf(0.7f * v));
        pt[2 * V + v] = 1.0f + v;
        pd[v] = expf(2 * cosf((float)v));         // the draft disagrees with them
        pd[V + v] = expf(-0.3f * v);
    }
    pt[3] = 0;            // a token the target never emits, which the draft proposes
    pd[5] = 0;            // one the draft never proposes, which only the residual can give
    pt[V + 9] = 0;
    for (int r = 0; r <= K; r++) normalise(pt + r * V);
    for (int r = 0; r < K; r++) normalise(pd + r * V);

    long first[V], second[V], bonus[V], impossible;
    char detail[160];
    run_steps(pt, pd, false, first, second, bonus);
    const char *what[3] = {"first token ~ p_target[0]", "second token ~ p_target[1], given draft 0 accepted",
                           "bonus token ~ p_target[2], given both accepted"};
    const long *counts[3] = {first, second, bonus};
    for (int r = 0; r <= K; r++) {
        const double x2 = chi_square(counts[r], pt + r * V, &impossible);
        long n = 0;
        for (int v = 0; v < V; v++) n += counts[r][v];
        snprintf(detail, sizeof detail, "chi-square %.1f over %ld draws (limit %.2f), %ld impossible tokens", x2, n,
                 CHI2_LIMIT, impossible);
        char line[200];
        snprintf(line, sizeof line, "%s: chi-square %.1f < %.2f over %ld draws", what[r], x2, CHI2_LIMIT, n);
        check(x2 < CHI2_LIMIT && impossible == 0 && n > DRAWS / 20, line, detail);
    }
    run_steps(pt, pd, true, first, second, bonus);
    const double x2 = chi_square(first, pt, &impossible);
    snprintf(detail, sizeof detail, "chi-square %.1f, %ld impossible tokens: the test cannot tell", x2, impossible);
    check(x2 > 100 * CHI2_LIMIT || impossible > 0, "a rule that accepts every draft fails the same test", detail);
}

static void reference_tests() {
    const long shapes[][3] = {{64, 7, 300}, {17, 4, 256}, {8, 1, 4097}, {3, 2, 32000}, {9, 7, 1000}, {1, 1, 2}};
    for (const auto &s : shapes)
        for (uint64_t seed = 1; seed <= 3; seed++) {
            sampled_inputs in;
            char line[160], detail[200] = "";
            snprintf(line, sizeof line, "accept_sampled_row = the reference on the check's inputs, (%ld, %ld, %ld) seed %llu",
                     s[0], s[1], s[2], (unsigned long long)seed);
            if (sampled_case(s[0], s[1], s[2], seed, &in) != 0) { check(false, line, "no case"); continue; }
            const long B = s[0], k = s[1], Vs = s[2];
            int bad = 0, all_accepted_ok = 1;
            for (long b = 0; b < B && !bad; b++) {
                int out[64];
                const int n = accept_sampled_row(in.p_target + b * (k + 1) * Vs, in.p_draft + b * k * Vs,
                                                 in.draft + b * k, in.u_accept + b * k, in.u_sample[b], (int)k,
                                                 (int)Vs, out);
                if (b % 4 == 3 && in.ref_accepted[b] != k) all_accepted_ok = 0;
                if (n != in.ref_accepted[b] || memcmp(out, in.ref_tokens + b * (k + 1), sizeof(int) * (k + 1))) {
                    bad = 1;
                    snprintf(detail, sizeof detail, "sequence %ld: accepted %d, reference %d; token at n %d, reference %d",
                             b, n, in.ref_accepted[b], out[n], in.ref_tokens[b * (k + 1) + in.ref_accepted[b]]);
                }
            }
            if (!all_accepted_ok) { bad = 1; snprintf(detail, sizeof detail, "a sequence b %% 4 == 3 did not accept all"); }
            check(!bad, line, detail);
        }
}

int main() {
    distribution_tests();
    reference_tests();
    return failures ? 1 : 0;
}
