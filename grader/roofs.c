/* Datasheet peaks, the fallback for unknown GPUs, and the cache of measured roofs. */
#include "roofs.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *gr_compute_name(gr_compute c) {
    static const char *names[GR_N_COMPUTE] = {"HBM", "FP32", "TF32", "BF16", "FP8", "FP4"};
    return (c >= 0 && c < GR_N_COMPUTE) ? names[c] : "?";
}

/* One row per GPU. Tensor figures are dense: NVIDIA's datasheets quote the 2:4-sparsity rate
 * first, and the dense rate is half of it. GeForce and L-series tensor rates are the ones with
 * FP32 accumulation, which is what our kernels use. Order matters: the first pattern found in the
 * device name wins, so the more specific names come first. */
typedef struct {
    const char *pattern;
    gr_roof roof;
} roof_row;

#define ROOF(name, fp32, tf32, bf16, fp8, fp4, gbs, src) \
    { .gpu = name, .tflops = {0, fp32, tf32, bf16, fp8, fp4}, .hbm_gbs = gbs, .source = src, .derived = false }

static const roof_row ROOF_TABLE[] = {
    {"H100 PCIe", ROOF("H100 PCIe 80GB", 51.2, 378.0, 756.0, 1513.0, 0, 2000,
                       "NVIDIA H100 Tensor Core GPU datasheet, PCIe column")},
    {"H100 NVL", ROOF("H100 NVL 94GB", 60.0, 417.5, 835.5, 1670.5, 0, 3900,
                      "NVIDIA H100 Tensor Core GPU datasheet, NVL column")},
    {"H100", ROOF("H100 SXM5 80GB", 66.9, 494.7, 989.4, 1978.9, 0, 3352,
                  "NVIDIA H100 Tensor Core GPU datasheet, SXM5 column")},
    {"H200 NVL", ROOF("H200 NVL 141GB", 60.0, 417.5, 835.5, 1670.5, 0, 4800,
                      "NVIDIA H200 Tensor Core GPU datasheet, NVL column")},
    {"H200", ROOF("H200 SXM 141GB", 66.9, 494.7, 989.4, 1978.9, 0, 4800,
                  "NVIDIA H200 Tensor Core GPU datasheet, SXM column")},
    {"H800 PCIe", ROOF("H800 PCIe 80GB", 51.2, 378.0, 756.0, 1513.0, 0, 2000,
                       "NVIDIA H800 PCIe datasheet (compute as H100 PCIe)")},
    {"H800", ROOF("H800 SXM5 80GB", 66.9, 494.7, 989.4, 1978.9, 0, 3352,
                  "NVIDIA H800 SXM5 datasheet (compute as H100 SXM5; NVLink and FP64 cut)")},
    {"A100-SXM4-80GB", ROOF("A100 SXM4 80GB", 19.5, 156.0, 312.0, 0, 0, 2039,
                            "NVIDIA A100 Tensor Core GPU datasheet, 80GB SXM column")},
    {"A100-SXM-80GB", ROOF("A100 SXM4 80GB", 19.5, 156.0, 312.0, 0, 0, 2039,
                           "NVIDIA A100 Tensor Core GPU datasheet, 80GB SXM column (DGX naming)")},
    {"A100 80GB PCIe", ROOF("A100 PCIe 80GB", 19.5, 156.0, 312.0, 0, 0, 1935,
                            "NVIDIA A100 Tensor Core GPU datasheet, 80GB PCIe column")},
    {"A100", ROOF("A100 40GB", 19.5, 156.0, 312.0, 0, 0, 1555,
                  "NVIDIA A100 Tensor Core GPU datasheet, 40GB columns")},
    {"L40S", ROOF("L40S", 91.6, 183.0, 362.05, 733.0, 0, 864,
                  "NVIDIA L40S datasheet")},
    {"L40", ROOF("L40", 90.5, 90.5, 181.0, 362.0, 0, 864,
                 "NVIDIA L40 datasheet")},
    {"L4", ROOF("L4", 30.3, 60.0, 121.0, 242.5, 0, 300,
                "NVIDIA L4 Tensor Core GPU datasheet")},
    {"RTX 3090", ROOF("GeForce RTX 3090", 35.6, 35.6, 71.0, 0, 0, 936,
                      "NVIDIA Ampere GA102 GPU architecture whitepaper, RTX 3090 column")},
    {"RTX 4090", ROOF("GeForce RTX 4090", 82.6, 82.6, 165.2, 330.3, 0, 1008,
                      "NVIDIA Ada GPU architecture whitepaper, RTX 4090 column")},
    {"B200", ROOF("B200 (HGX)", 75.0, 1125.0, 2250.0, 4500.0, 9000.0, 8000,
                  "NVIDIA HGX B200 specifications: 8-GPU totals divided by 8, sparse rates halved")},
    {"T4", ROOF("Tesla T4", 8.1, 0, 0, 0, 0, 320,
                "NVIDIA T4 datasheet (Turing: FP16 tensor cores only, no BF16/TF32)")},
};

#define N_ROOF_ROWS ((int)(sizeof(ROOF_TABLE) / sizeof(ROOF_TABLE[0])))

const gr_roof *gr_roof_table(int *count) {
    static gr_roof flat[N_ROOF_ROWS];
    for (int i = 0; i < N_ROOF_ROWS; i++) flat[i] = ROOF_TABLE[i].roof;
    *count = N_ROOF_ROWS;
    return flat;
}

const gr_roof *gr_roof_lookup(const char *device_name) {
    if (!device_name) return NULL;
    for (int i = 0; i < N_ROOF_ROWS; i++)
        if (strstr(device_name, ROOF_TABLE[i].pattern)) return &ROOF_TABLE[i].roof;
    return NULL;
}

/* FP32 lanes per SM by architecture; each lane retires one FMA (2 FLOP) per clock. */
static int fp32_lanes_per_sm(int major, int minor) {
    if (major == 8 && minor == 0) return 64;  /* A100 */
    if (major >= 8) return 128;               /* GA10x, Ada, Hopper, Blackwell */
    return 64;                                /* Volta, Turing */
}

gr_roof gr_roof_derived(int cc_major, int cc_minor, int sm_count, double clock_khz,
                        double mem_clock_khz, int bus_width_bits) {
    gr_roof r = {0};
    r.gpu = "unknown GPU";
    r.tflops[GR_ROOF_FP32] = 2.0 * fp32_lanes_per_sm(cc_major, cc_minor) * sm_count * clock_khz * 1e3 / 1e12;
    /* Double data rate: two transfers per memory clock. */
    r.hbm_gbs = 2.0 * mem_clock_khz * 1e3 * (bus_width_bits / 8.0) / 1e9;
    r.source = "derived from device attributes (SMs x FP32 lanes x clock; memory clock x bus width); "
               "tensor-core rates unknown";
    r.derived = true;
    return r;
}

double gr_roof_seconds(double flops, double bytes, gr_compute unit, double tflops, double gbs) {
    double t_mem = (bytes > 0 && gbs > 0) ? bytes / (gbs * 1e9) : 0;
    double t_math = 0;
    if (flops > 0 && unit != GR_ROOF_HBM) {
        if (tflops <= 0) return 0;  /* no figure for this unit: no roof */
        t_math = flops / (tflops * 1e12);
    }
    if (bytes > 0 && gbs <= 0) return 0;
    return t_math > t_mem ? t_math : t_mem;
}

void gr_measured_path(char *out, int out_len, const char *dir, const char *device_name) {
    char slug[128];
    int j = 0;
    for (const char *p = device_name; *p && j < (int)sizeof(slug) - 1; p++) {
        char ch = (char)tolower((unsigned char)*p);
        if (isalnum((unsigned char)ch)) slug[j++] = ch;
        else if (j > 0 && slug[j - 1] != '-') slug[j++] = '-';
    }
    while (j > 0 && slug[j - 1] == '-') j--;
    slug[j] = 0;
    snprintf(out, (size_t)out_len, "%s/%s.roofs", dir, j ? slug : "gpu");
}

/* The longest cache line read; the saver writes about 30 bytes a line. */
#define ROOFS_LINE_MAX 255

/* Reads one line of f into line (without its '\n'); *len is its full length, which may exceed
 * ROOFS_LINE_MAX: the line is then consumed whole but only its start kept, so that the caller can
 * reject it rather than read its tail as the next line. *nul tells whether it held a NUL byte.
 * Returns false at the end of the file. */
static bool read_line(FILE *f, char line[ROOFS_LINE_MAX + 1], size_t *len, bool *nul) {
    int ch;
    *len = 0;
    *nul = false;
    while ((ch = getc(f)) != EOF && ch != '\n') {
        if (ch == 0) *nul = true;
        if (*len < ROOFS_LINE_MAX) line[*len] = (char)ch;
        (*len)++;
    }
    line[*len < ROOFS_LINE_MAX ? *len : ROOFS_LINE_MAX] = 0;
    return ch != EOF || *len > 0;
}

/* The cache is "key value" lines; '#' starts a comment line; unknown keys are ignored. Any other
 * line (too long, a NUL or control byte, not exactly two words, a word too long, a known key twice,
 * a value that is not a finite non-negative number) makes the whole cache untrusted: one warning
 * naming the file and line, and nothing loaded. A missing file is not worth a warning. */
bool gr_measured_load(const char *path, gr_measured *m) {
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char line[ROOFS_LINE_MAX + 1], why[160] = "";
    size_t len;
    bool nul, seen[4] = {false, false, false, false};
    int lineno = 0;
    while (!why[0] && read_line(f, line, &len, &nul)) {
        lineno++;
        if (line[0] == '#') continue;   /* a comment, however long: read whole, ignored */
        if (len > ROOFS_LINE_MAX) { snprintf(why, sizeof why, "line %d is longer than %d bytes", lineno, ROOFS_LINE_MAX); break; }
        if (nul) { snprintf(why, sizeof why, "line %d holds a NUL byte", lineno); break; }
        if (len > 0 && line[len - 1] == '\r') line[--len] = 0;   /* a file saved with CRLF */
        for (size_t i = 0; i < len && !why[0]; i++) {
            unsigned char c = (unsigned char)line[i];
            if ((c < 0x20 && c != '\t') || c >= 0x7f) snprintf(why, sizeof why, "line %d holds byte 0x%02x", lineno, c);
        }
        if (why[0]) break;
        char key[64], val[64], extra[2];
        int words = sscanf(line, "%63s %63s %1s", key, val, extra);
        if (words == EOF) continue;   /* blank */
        bool long_word = false;   /* a word %63s had to cut: its rest would pass for the next word */
        for (const char *p = line; *p;) {
            while (*p == ' ' || *p == '\t') p++;
            size_t w = strcspn(p, " \t");
            if (w > 63) long_word = true;
            p += w;
        }
        if (long_word) { snprintf(why, sizeof why, "line %d has a word longer than 63 bytes", lineno); break; }
        if (words != 2) { snprintf(why, sizeof why, "line %d is not \"key value\"", lineno); break; }
        static const char *known[4] = {"copy_gbs", "sgemm_tflops", "bf16_tflops", "measured_on"};
        int k = 0;
        while (k < 4 && strcmp(key, known[k])) k++;
        if (k < 4 && seen[k]) { snprintf(why, sizeof why, "line %d: %s given twice", lineno, key); break; }
        if (k < 4) seen[k] = true;
        if (k == 3) { snprintf(m->measured_on, sizeof m->measured_on, "%s", val); continue; }
        char *end;
        double v = strtod(val, &end);
        if (*end || !isfinite(v) || v < 0) { snprintf(why, sizeof why, "line %d: %s is not a finite number >= 0", lineno, key); break; }
        if (k == 0) m->copy_gbs = v;
        else if (k == 1) m->sgemm_tflops = v;
        else if (k == 2) m->bf16_tflops = v;
    }
    if (!why[0] && ferror(f)) snprintf(why, sizeof why, "read error");
    fclose(f);
    if (why[0]) {
        fprintf(stderr, "roofs: warning: %s: %s; the cached roofs are ignored (make roofs measures them again)\n", path, why);
        memset(m, 0, sizeof *m);
        return false;
    }
    return m->copy_gbs > 0;
}

bool gr_measured_save(const char *path, const gr_measured *m) {
    FILE *f = fopen(path, "w");
    if (!f) return false;
    fprintf(f, "# measured roofs (make roofs): copy bandwidth counts bytes read plus written\n");
    fprintf(f, "copy_gbs %.1f\nsgemm_tflops %.2f\nbf16_tflops %.1f\nmeasured_on %s\n", m->copy_gbs,
            m->sgemm_tflops, m->bf16_tflops, m->measured_on[0] ? m->measured_on : "unknown");
    return fclose(f) == 0;
}
