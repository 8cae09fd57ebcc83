/* roofs.c: datasheet rows by CUDA device name, the roof derived from attributes, the roofline time,
 * and the cache of measured roofs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "roofs.h"
#include "unit_helpers.h"

/* The row for a real device name (as cudaGetDeviceProperties reports it) must be the given one. */
static const gr_roof *expect_roof(const char *device, const char *row, double gbs, double fp32) {
    const gr_roof *r = gr_roof_lookup(device);
    cr_assert_not_null(r, "'%s' has no row", device);
    cr_assert_str_eq(r->gpu, row, "'%s' was taken for '%s'", device, r->gpu);
    cr_assert_eq(r->hbm_gbs, gbs, "'%s': %g GB/s, expected %g", device, r->hbm_gbs, gbs);
    cr_assert_eq(r->tflops[GR_ROOF_FP32], fp32, "'%s': FP32 %g, expected %g", device, r->tflops[GR_ROOF_FP32], fp32);
    cr_assert_not(r->derived);
    return r;
}

/* ---- gr_roof_lookup -------------------------------------------------------------------------- */

Test(roofs, h100_sxm_by_its_cuda_name) {
    const gr_roof *r = expect_roof("NVIDIA H100 80GB HBM3", "H100 SXM5 80GB", 3352, 66.9);
    cr_assert_eq(r->tflops[GR_ROOF_BF16], 989.4);
    cr_assert_eq(r->tflops[GR_ROOF_TF32], 494.7);
    cr_assert_eq(r->tflops[GR_ROOF_FP8], 1978.9);
}

Test(roofs, h100_pcie_and_nvl_are_not_taken_for_sxm) {
    const gr_roof *p = expect_roof("NVIDIA H100 PCIe", "H100 PCIe 80GB", 2000, 51.2);
    cr_assert_eq(p->tflops[GR_ROOF_BF16], 756.0);
    const gr_roof *n = expect_roof("NVIDIA H100 NVL", "H100 NVL 94GB", 3900, 60.0);
    cr_assert_eq(n->tflops[GR_ROOF_BF16], 835.5);
}

Test(roofs, h200_and_h200_nvl) {
    expect_roof("NVIDIA H200", "H200 SXM 141GB", 4800, 66.9);
    expect_roof("NVIDIA H200 NVL", "H200 NVL 141GB", 4800, 60.0);
}

Test(roofs, h800_sxm_and_pcie) {
    expect_roof("NVIDIA H800", "H800 SXM5 80GB", 3352, 66.9);
    expect_roof("NVIDIA H800 PCIe", "H800 PCIe 80GB", 2000, 51.2);
}

Test(roofs, a100_variants_have_their_own_bandwidth) {
    expect_roof("NVIDIA A100-SXM4-40GB", "A100 40GB", 1555, 19.5);
    expect_roof("NVIDIA A100-PCIE-40GB", "A100 40GB", 1555, 19.5);
    expect_roof("NVIDIA A100-SXM4-80GB", "A100 SXM4 80GB", 2039, 19.5);
    expect_roof("NVIDIA A100 80GB PCIe", "A100 PCIe 80GB", 1935, 19.5);
    cr_assert_eq(gr_roof_lookup("NVIDIA A100-SXM4-80GB")->tflops[GR_ROOF_BF16], 312.0);
}

/* Some DGX A100 80GB systems name the device without the "4". */
Test(roofs, a100_sxm_80gb_dgx_name_gets_the_80gb_row) {
    expect_roof("NVIDIA A100-SXM-80GB", "A100 SXM4 80GB", 2039, 19.5);
}

Test(roofs, l4_and_l40s_are_told_apart) {
    expect_roof("NVIDIA L4", "L4", 300, 30.3);
    const gr_roof *s = expect_roof("NVIDIA L40S", "L40S", 864, 91.6);
    cr_assert_eq(s->tflops[GR_ROOF_BF16], 362.05);
}

/* "L4" is a substring of "NVIDIA L40": the L40 needs a row of its own, found first. */
Test(roofs, l40_is_not_taken_for_l4) {
    const gr_roof *r = expect_roof("NVIDIA L40", "L40", 864, 90.5);
    cr_assert(strcmp(r->gpu, "L4") != 0, "'NVIDIA L40' was taken for the L4 (300 GB/s)");
}

Test(roofs, geforce_rtx_3090_and_4090) {
    const gr_roof *a = expect_roof("NVIDIA GeForce RTX 3090", "GeForce RTX 3090", 936, 35.6);
    cr_assert_eq(a->tflops[GR_ROOF_FP8], 0.0, "Ampere has no FP8");
    const gr_roof *b = expect_roof("NVIDIA GeForce RTX 4090", "GeForce RTX 4090", 1008, 82.6);
    cr_assert_eq(b->tflops[GR_ROOF_FP8], 330.3);
}

Test(roofs, b200_has_fp4) {
    const gr_roof *r = expect_roof("NVIDIA B200", "B200 (HGX)", 8000, 75.0);
    cr_assert_eq(r->tflops[GR_ROOF_FP4], 9000.0);
    cr_assert_eq(r->tflops[GR_ROOF_BF16], 2250.0);
}

Test(roofs, tesla_t4_has_no_bf16_or_tf32) {
    const gr_roof *r = expect_roof("Tesla T4", "Tesla T4", 320, 8.1);
    cr_assert_eq(r->tflops[GR_ROOF_BF16], 0.0);
    cr_assert_eq(r->tflops[GR_ROOF_TF32], 0.0);
}

Test(roofs, unknown_names_have_no_row) {
    cr_assert_null(gr_roof_lookup("NVIDIA GeForce GTX 1080"));
    cr_assert_null(gr_roof_lookup("AMD Instinct MI300X"));
    cr_assert_null(gr_roof_lookup(""));
    cr_assert_null(gr_roof_lookup(NULL));
}

Test(roofs, every_table_row_is_complete) {
    int n = 0;
    const gr_roof *t = gr_roof_table(&n);
    cr_assert_geq(n, 16, "the table has %d rows", n);
    for (int i = 0; i < n; i++) {
        cr_assert(t[i].gpu && *t[i].gpu, "row %d has no name", i);
        cr_assert(t[i].source && strlen(t[i].source) > 10, "row %s has no source", t[i].gpu);
        cr_assert_gt(t[i].hbm_gbs, 0, "row %s: bandwidth", t[i].gpu);
        cr_assert_gt(t[i].tflops[GR_ROOF_FP32], 0, "row %s: FP32", t[i].gpu);
        cr_assert_not(t[i].derived, "row %s is a datasheet row", t[i].gpu);
        for (int u = GR_ROOF_TF32; u < GR_N_COMPUTE; u++)
            cr_assert_geq(t[i].tflops[u], 0, "row %s unit %d", t[i].gpu, u);
        /* Narrower formats are never slower than wider ones on the same tensor cores. */
        for (int u = GR_ROOF_TF32; u + 1 < GR_N_COMPUTE; u++)
            if (t[i].tflops[u] > 0 && t[i].tflops[u + 1] > 0)
                cr_assert_geq(t[i].tflops[u + 1], t[i].tflops[u], "row %s: %s slower than %s", t[i].gpu,
                              gr_compute_name(u + 1), gr_compute_name(u));
    }
}

Test(roofs, compute_names) {
    cr_assert_str_eq(gr_compute_name(GR_ROOF_HBM), "HBM");
    cr_assert_str_eq(gr_compute_name(GR_ROOF_FP32), "FP32");
    cr_assert_str_eq(gr_compute_name(GR_ROOF_TF32), "TF32");
    cr_assert_str_eq(gr_compute_name(GR_ROOF_BF16), "BF16");
    cr_assert_str_eq(gr_compute_name(GR_ROOF_FP8), "FP8");
    cr_assert_str_eq(gr_compute_name(GR_ROOF_FP4), "FP4");
    cr_assert_str_eq(gr_compute_name(GR_N_COMPUTE), "?");
}

/* ---- gr_roof_derived --------------------------------------------------------------------------- */

Test(roofs, derived_hopper_by_hand) {
    /* 2 FLOP x 128 lanes x 132 SMs x 1.98 GHz = 66.90816 TFLOP/s (the datasheet's 66.9);
     * 2 transfers x 2.619 GHz x 5120 bits / 8 = 3352.32 GB/s. */
    gr_roof r = gr_roof_derived(9, 0, 132, 1980000, 2619000, 5120);
    unit_assert_rel(r.tflops[GR_ROOF_FP32], 2.0 * 128 * 132 * 1.98e9 / 1e12, 1e-12);
    unit_assert_rel(r.tflops[GR_ROOF_FP32], 66.90816, 1e-9);
    cr_assert(fabs(r.tflops[GR_ROOF_FP32] - gr_roof_lookup("NVIDIA H100 80GB HBM3")->tflops[GR_ROOF_FP32]) < 0.01);
    unit_assert_rel(r.hbm_gbs, 3352.32, 1e-12);
    cr_assert(r.derived);
    cr_assert_not_null(r.source);
    cr_assert_not_null(strstr(r.source, "derived"));
    for (int u = GR_ROOF_TF32; u < GR_N_COMPUTE; u++) cr_assert_eq(r.tflops[u], 0.0, "tensor rates unknown");
}

Test(roofs, derived_a100_has_64_fp32_lanes_per_sm) {
    /* GA100: 2 x 64 x 108 x 1.41 GHz = 19.49 TFLOP/s; 2 x 1.215 GHz x 5120 / 8 = 1555.2 GB/s. */
    gr_roof r = gr_roof_derived(8, 0, 108, 1410000, 1215000, 5120);
    unit_assert_rel(r.tflops[GR_ROOF_FP32], 19.49184, 1e-9);
    unit_assert_rel(r.hbm_gbs, 1555.2, 1e-12);
}

Test(roofs, derived_ga102_and_turing) {
    /* GA102 (cc 8.6): 128 lanes: 2 x 128 x 82 x 1.695 GHz = 35.58 TFLOP/s; GDDR6X 2 x 9.751 GHz x 48 B. */
    gr_roof a = gr_roof_derived(8, 6, 82, 1695000, 9751000, 384);
    unit_assert_rel(a.tflops[GR_ROOF_FP32], 35.58144, 1e-9);
    unit_assert_rel(a.hbm_gbs, 936.096, 1e-12);
    /* Turing (cc 7.5): 64 lanes: 2 x 64 x 40 x 1.59 GHz = 8.1408 TFLOP/s. */
    gr_roof t = gr_roof_derived(7, 5, 40, 1590000, 5001000, 256);
    unit_assert_rel(t.tflops[GR_ROOF_FP32], 8.1408, 1e-9);
    unit_assert_rel(t.hbm_gbs, 320.064, 1e-12);
}

/* ---- gr_roof_seconds --------------------------------------------------------------------------- */

Test(roofs, seconds_memory_bound) {
    /* 3.352e9 bytes at 3352 GB/s = 1 ms; 1e9 FLOP at 66.9 TFLOP/s = 15 us. */
    unit_assert_rel(gr_roof_seconds(1e9, 3.352e9, GR_ROOF_FP32, 66.9, 3352), 1e-3, 1e-12);
}

Test(roofs, seconds_compute_bound) {
    /* 66.9e12 FLOP at 66.9 TFLOP/s = 1 s; 1e9 bytes = 0.3 ms. */
    unit_assert_rel(gr_roof_seconds(66.9e12, 1e9, GR_ROOF_FP32, 66.9, 3352), 1.0, 1e-12);
    /* BF16: 989.4e12 FLOP at 989.4 TFLOP/s = 1 s. */
    unit_assert_rel(gr_roof_seconds(989.4e12, 0, GR_ROOF_BF16, 989.4, 3352), 1.0, 1e-12);
}

Test(roofs, seconds_hbm_unit_ignores_flops) {
    unit_assert_rel(gr_roof_seconds(1e15, 6.704e9, GR_ROOF_HBM, 0, 3352), 2e-3, 1e-12);
}

Test(roofs, seconds_missing_unit_or_bandwidth_gives_no_roof) {
    cr_assert_eq(gr_roof_seconds(1e12, 1e9, GR_ROOF_TF32, 0, 320), 0.0, "T4 has no TF32 figure");
    cr_assert_eq(gr_roof_seconds(1e12, 1e9, GR_ROOF_FP32, 8.1, 0), 0.0, "no bandwidth figure");
    cr_assert_eq(gr_roof_seconds(0, 0, GR_ROOF_HBM, 0, 3352), 0.0, "no work");
}

/* ---- measured roofs cache ----------------------------------------------------------------------- */

Test(roofs, measured_path_slug) {
    char p[512];
    gr_measured_path(p, sizeof p, "/tmp/roofs", "NVIDIA H100 80GB HBM3");
    cr_assert_str_eq(p, "/tmp/roofs/nvidia-h100-80gb-hbm3.roofs");
    gr_measured_path(p, sizeof p, "d", "NVIDIA A100-SXM4-80GB");
    cr_assert_str_eq(p, "d/nvidia-a100-sxm4-80gb.roofs");
    gr_measured_path(p, sizeof p, "d", "  Odd (rev. 2)!! ");
    cr_assert_str_eq(p, "d/odd-rev-2.roofs");
    gr_measured_path(p, sizeof p, "d", "--- ");
    cr_assert_str_eq(p, "d/gpu.roofs", "a name with no letters or digits still gets a file");
}

Test(roofs, measured_path_respects_the_buffer) {
    char p[12];
    gr_measured_path(p, sizeof p, "/tmp/roofs", "NVIDIA H100 80GB HBM3");
    cr_assert_eq(strlen(p), sizeof p - 1);
    cr_assert_eq(strncmp(p, "/tmp/roofs/", 11), 0);
}

Test(roofs, measured_save_load_round_trip) {
    char dir[256], path[512];
    unit_temp_dir(dir, sizeof dir);
    gr_measured_path(path, sizeof path, dir, "NVIDIA H100 80GB HBM3");
    gr_measured m = {.copy_gbs = 2950.5, .sgemm_tflops = 51.23, .bf16_tflops = 720.4};
    snprintf(m.measured_on, sizeof m.measured_on, "2025-01-02");
    cr_assert(gr_measured_save(path, &m));
    gr_measured back;
    cr_assert(gr_measured_load(path, &back));
    cr_assert_eq(back.copy_gbs, 2950.5);
    unit_assert_rel(back.sgemm_tflops, 51.23, 1e-12);
    unit_assert_rel(back.bf16_tflops, 720.4, 1e-12);
    cr_assert_str_eq(back.measured_on, "2025-01-02");
}

Test(roofs, measured_load_missing_file_fails) {
    char path[512];
    unit_temp_file(path, sizeof path, "absent.roofs");
    gr_measured m;
    memset(&m, 0x55, sizeof m);
    cr_assert_not(gr_measured_load(path, &m));
    cr_assert_eq(m.copy_gbs, 0.0);
}

/* Write `text` to a fresh cache file and load it. */
static bool load_text(const char *text, gr_measured *m) {
    char path[512];
    unit_temp_file(path, sizeof path, "gpu.roofs");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return gr_measured_load(path, m);
}

Test(roofs, measured_load_accepts_comments_blank_lines_and_unknown_keys) {
    gr_measured m;
    cr_assert(load_text("# comment\n\ncopy_gbs 3000\nfuture_key 12\nsgemm_tflops 50.5\n", &m));
    cr_assert_eq(m.copy_gbs, 3000.0);
    cr_assert_eq(m.sgemm_tflops, 50.5);
    cr_assert_eq(m.bf16_tflops, 0.0);
}

Test(roofs, measured_load_rejects_garbage_value) {
    gr_measured m;
    cr_assert_not(load_text("copy_gbs fast\n", &m));
    cr_assert_not(load_text("copy_gbs 3000\nsgemm_tflops 12abc\n", &m));
    cr_assert_eq(m.copy_gbs, 0.0, "a rejected file leaves nothing behind");
}

Test(roofs, measured_load_rejects_negative_numbers) {
    gr_measured m;
    cr_assert_not(load_text("copy_gbs -3000\n", &m));
    cr_assert_not(load_text("copy_gbs 3000\nbf16_tflops -1\n", &m));
    cr_assert_eq(m.copy_gbs, 0.0);
}

Test(roofs, measured_load_rejects_a_key_without_value_and_a_file_without_bandwidth) {
    gr_measured m;
    cr_assert_not(load_text("copy_gbs\n", &m));
    cr_assert_not(load_text("sgemm_tflops 50\n", &m), "no copy bandwidth: not a usable measurement");
    cr_assert_not(load_text("", &m));
}

/* strtod reads "nan" and "inf": a cache holding them is corrupt. */
Test(roofs, measured_load_rejects_non_finite_numbers) {
    gr_measured m;
    cr_assert_not(load_text("copy_gbs 3000\nsgemm_tflops nan\n", &m));
    cr_assert_not(load_text("copy_gbs inf\n", &m));
}
