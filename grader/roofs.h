/* Roofs: the fastest a GPU can go, by datasheet and by measurement.
 *
 * Percent of peak is the roofline figure: the time the roof allows, the larger of
 * FLOP / peak rate and bytes / peak bandwidth, divided by the measured time.
 */
#ifndef GRADER_ROOFS_H
#define GRADER_ROOFS_H

#include <stdbool.h>

/* Which arithmetic unit an exercise's FLOPs run on. GR_ROOF_HBM: no arithmetic roof, bytes only. */
typedef enum { GR_ROOF_HBM, GR_ROOF_FP32, GR_ROOF_TF32, GR_ROOF_BF16, GR_ROOF_FP8, GR_ROOF_FP4, GR_N_COMPUTE } gr_compute;

const char *gr_compute_name(gr_compute c);

/* Dense (no sparsity) peak rates in TFLOP/s and memory bandwidth in GB/s. 0 means "no such unit". */
typedef struct {
    const char *gpu;        /* short name, e.g. "H100 SXM5 80GB" */
    double tflops[GR_N_COMPUTE]; /* indexed by gr_compute; [GR_ROOF_HBM] unused */
    double hbm_gbs;
    const char *source;     /* where the figures come from */
    bool derived;           /* true: estimated from device attributes, not a datasheet */
} gr_roof;

/* The datasheet entry whose name pattern matches the CUDA device name, or NULL. */
const gr_roof *gr_roof_lookup(const char *device_name);

/* The whole table, for tests and for printing. */
const gr_roof *gr_roof_table(int *count);

/* A roof estimated from device attributes, for GPUs not in the table: FP32 from SM count, cores
 * per SM and clock; bandwidth from memory clock and bus width; tensor rates left 0 (unknown). */
gr_roof gr_roof_derived(int cc_major, int cc_minor, int sm_count, double clock_khz,
                        double mem_clock_khz, int bus_width_bits);

/* Measured roofs (make roofs), cached per GPU. Zero where not measured. */
typedef struct {
    double copy_gbs;        /* device-to-device copy, bytes read plus bytes written */
    double sgemm_tflops;    /* cuBLAS SGEMM */
    double bf16_tflops;     /* cuBLAS BF16 GEMM, FP32 accumulate */
    char measured_on[32];   /* date */
} gr_measured;

/* Cache file for a GPU: <dir>/<slug of the device name>.roofs */
void gr_measured_path(char *out, int out_len, const char *dir, const char *device_name);
bool gr_measured_load(const char *path, gr_measured *m);
bool gr_measured_save(const char *path, const gr_measured *m);

/* Seconds the roof allows for this much work: max(flops / rate, bytes / bandwidth).
 * Returns 0 when the roof has no figure for the unit (then no percent can be given). */
double gr_roof_seconds(double flops, double bytes, gr_compute unit, double tflops, double gbs);

#endif
