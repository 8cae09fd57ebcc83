/* The program behind `make demo-accept` (finale/14-deepseek/demo_accept.sh): speculative decoding's
 * accept step worked by hand on one verify pass, with the engine's own rule (mini_accept).
 *
 *   demo_accept [DRAFTS VERIFIED]   DRAFTS: k = 1..7 bytes the MTP head drafted;
 *                                   VERIFIED: the main model's k+1 bytes, one per position
 * Default: drafts "fox jum", verifier "fox ran.": d1..d4 match, d5 does not, so the pass keeps
 * d1..d4 and the verifier's v5: 5 tokens from one pass. */
#include <stdio.h>
#include <string.h>

#include "generate.h"

/* A 5-row block font for the banner: digits, '+', '=' and space. */
static const char *glyph(char c, int row) {
    static const char *digits[10][5] = {
        {"#####", "#   #", "#   #", "#   #", "#####"}, {"  #  ", " ##  ", "  #  ", "  #  ", " ### "},
        {"#####", "    #", "#####", "#    ", "#####"}, {"#####", "    #", " ####", "    #", "#####"},
        {"#   #", "#   #", "#####", "    #", "    #"}, {"#####", "#    ", "#####", "    #", "#####"},
        {"#####", "#    ", "#####", "#   #", "#####"}, {"#####", "    #", "   # ", "  #  ", "  #  "},
        {"#####", "#   #", "#####", "#   #", "#####"}, {"#####", "#   #", "#####", "    #", "#####"}};
    static const char *plus[5] = {"     ", "  #  ", "#####", "  #  ", "     "};
    static const char *equals[5] = {"     ", "#####", "     ", "#####", "     "};
    if (c >= '0' && c <= '9') return digits[c - '0'][row];
    if (c == '+') return plus[row];
    if (c == '=') return equals[row];
    return "     ";
}

static void banner(const char *text, const char *caption) {
    for (int row = 0; row < 5; row++) {
        printf("      ");
        for (const char *c = text; *c; c++) printf("%s  ", glyph(*c, row));
        if (row == 2) printf("  %s", caption);
        printf("\n");
    }
}

/* A byte as the board shows it: 'x', or its code when it does not print. */
static const char *shown(unsigned char b, char *buf) {
    if (b == ' ') snprintf(buf, 8, "' '");
    else if (b > ' ' && b < 127) snprintf(buf, 8, "'%c'", b);
    else snprintf(buf, 8, "%u", b);
    return buf;
}

int main(int argc, char **argv) {
    const char *drafts = "fox jum", *verified = "fox ran.";
    if (argc == 3) drafts = argv[1], verified = argv[2];
    else if (argc != 1) { fprintf(stderr, "usage: demo_accept [DRAFTS VERIFIED]\n"); return 64; }
    const int k = (int)strlen(drafts);
    if (k < 1 || k > MINI_MAX_DRAFTS || (int)strlen(verified) != k + 1) {
        fprintf(stderr, "demo_accept: DRAFTS has 1..7 bytes and VERIFIED exactly one more (got %d and %d)\n", k,
                (int)strlen(verified));
        return 64;
    }
    const int a = mini_accept((const uint8_t *)drafts, (const uint8_t *)verified, k);
    char buf[8], buf2[8];

    printf("\nSpeculative decoding: the accept step of one verify pass\n\n");
    printf("  The MTP head drafted k = %d tokens d1..d%d. The main model ran ONCE on the last committed token\n", k, k);
    printf("  and the %d drafts (causal mask) and gave its own greedy token v_i at each of the %d positions:\n\n", k, k + 1);
    printf("  %-22s", "position i");
    for (int i = 1; i <= k + 1; i++) printf("%6d", i);
    printf("\n  %-22s", "draft d_i (MTP head)");
    for (int i = 0; i < k; i++) printf("%6s", shown((unsigned char)drafts[i], buf));
    printf("\n  %-22s", "main model v_i");
    for (int i = 0; i <= k; i++) printf("%6s", shown((unsigned char)verified[i], buf));
    printf("\n  %-22s", "d_i == v_i ?");
    for (int i = 0; i < k && i <= a; i++) printf("%6s", i < a ? "yes" : "NO");
    printf("\n  %-22s", "kept");
    for (int i = 0; i <= a; i++) {
        char label[8];
        snprintf(label, sizeof label, i < a ? "d%d" : "v%d", i + 1);
        printf("%6s", label);
    }
    printf("\n\n");
    if (a < k)
        printf("  First mismatch at position %d: d%d = %s but the main model says v%d = %s.\n", a + 1, a + 1,
               shown((unsigned char)drafts[a], buf), a + 1, shown((unsigned char)verified[a], buf2));
    else
        printf("  Every draft matched: all %d are kept, and v%d comes free as the bonus token.\n", k, k + 1);
    if (a == 0) printf("  No draft is kept; the main model's own v1 is, as in a greedy step:\n\n");
    else printf("  Keep d1..d%d (%d accepted draft%s) and take the main model's own v%d:\n\n", a, a, a == 1 ? "" : "s", a + 1);
    char sum[32];
    snprintf(sum, sizeof sum, "%d+1=%d", a, a + 1);
    banner(sum, a + 1 == 1 ? "token from one pass" : "tokens from one pass");
    printf("\n");
    if (a < k)
        printf("  Thrown away: d%d..d%d and v%d..v%d (computed after a wrong token); the KV caches roll back past them.\n",
               a + 1, k, a + 2, k + 1);
    printf("  Always between 1 token (d1 wrong: just v1, as greedy) and k+1 = %d (all drafts right + the bonus).\n", k + 1);
    printf("  Every kept token is the main model's own greedy choice, so the text is exactly the greedy text.\n\n");
    return 0;
}
