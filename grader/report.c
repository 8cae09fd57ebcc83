/* What people and scripts read: a table per session, one JSON record per exercise. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static double measured_rate(const gr_gpu *gpu, gr_compute unit) {
    if (!gpu->have_measured) return 0;
    if (unit == GR_ROOF_FP32) return gpu->measured.sgemm_tflops;
    if (unit == GR_ROOF_BF16) return gpu->measured.bf16_tflops;
    return 0;
}

void gr_fill_speed(gr_result *r, const gr_gpu *gpu) {
    double t = r->median_ms * 1e-3;
    gr_compute unit = r->compute;
    r->roof_tflops = unit == GR_ROOF_HBM ? 0 : gpu->roof.tflops[unit];
    r->roof_gbs = gpu->roof.hbm_gbs;
    r->roof_derived = gpu->roof.derived;
    double t_roof = gr_roof_seconds(r->flops, r->bytes, unit, r->roof_tflops, r->roof_gbs);
    r->pct_peak = (t_roof > 0 && t > 0) ? 100.0 * t_roof / t : -1;
    double t_math = (unit != GR_ROOF_HBM && r->roof_tflops > 0) ? r->flops / (r->roof_tflops * 1e12) : 0;
    double t_mem = r->roof_gbs > 0 ? r->bytes / (r->roof_gbs * 1e9) : 0;
    snprintf(r->bound, sizeof r->bound, "%s", t_math > t_mem ? gr_compute_name(unit) : "HBM");

    r->pct_measured = -1;
    if (gpu->have_measured && t > 0) {
        double rate = measured_rate(gpu, unit);
        if (unit == GR_ROOF_HBM || r->flops <= 0 || rate > 0) {
            double t_meas = gr_roof_seconds(r->flops, r->bytes, unit, rate, gpu->measured.copy_gbs);
            if (t_meas > 0) r->pct_measured = 100.0 * t_meas / t;
        }
    }
    r->pct_library = (r->library_ms > 0 && t > 0) ? 100.0 * r->library_ms / r->median_ms : -1;
}

void gr_report_header(const char *session, const gr_gpu *gpu, const gr_options *opt) {
    printf("\n== %s%s  seed 0x%llx  (replay: SEED=0x%llx)\n", session, opt->solution ? "  [solutions]" : "",
           (unsigned long long)opt->seed, (unsigned long long)opt->seed);
    if (gpu) {
        printf("   GPU %s (compute %d.%d, %d SMs); roof: %s%s\n", gpu->name, gpu->cc_major, gpu->cc_minor,
               gpu->sm_count, gpu->roof.gpu, gpu->roof.derived ? " (derived, not a datasheet)" : "");
        if (gpu->have_measured)
            printf("   measured roofs (%s): copy %.0f GB/s, cuBLAS SGEMM %.1f TFLOP/s, BF16 %.0f TFLOP/s\n",
                   gpu->measured.measured_on, gpu->measured.copy_gbs, gpu->measured.sgemm_tflops,
                   gpu->measured.bf16_tflops);
        else
            printf("   measured roofs: none cached for this GPU yet (run 'make roofs')\n");
    }
}

static void format_rate(const gr_result *r, char *buf, size_t len) {
    double t = r->median_ms * 1e-3;
    if (r->flops > 0 && r->flops / t < 1e12) snprintf(buf, len, "%.1f GFLOP/s", r->flops / t / 1e9);
    else if (r->flops > 0) snprintf(buf, len, "%.2f TFLOP/s", r->flops / t / 1e12);
    else if (r->bytes > 0) snprintf(buf, len, "%.0f GB/s", r->bytes / t / 1e9);
    else snprintf(buf, len, "-");
}

static void format_pct(double pct, char *buf, size_t len) {
    if (pct < 0) snprintf(buf, len, "-");
    else snprintf(buf, len, "%.1f%%", pct);
}

void gr_report_table(const char *session, const gr_exercise *ex, const gr_result *res, int n) {
    printf("\n   %-24s %-13s %-9s %-10s %-14s %-8s %-9s %s\n", "exercise", "verdict", "error", "time",
           "rate", "% peak", "% roof*", "% library");
    for (int i = 0; i < n; i++) {
        const gr_result *r = &res[i];
        char err[16] = "-", tm[24] = "-", rate[24] = "-", peak[24] = "-", meas[16] = "-", lib[80] = "-";
        if (r->shapes_checked) snprintf(err, sizeof err, "%.1e", r->worst_rel_err);
        if (r->timed) {
            snprintf(tm, sizeof tm, "%.3f ms", r->median_ms);
            format_rate(r, rate, sizeof rate);
            char p[16];
            format_pct(r->pct_peak, p, sizeof p);
            if (r->pct_peak >= 0) snprintf(peak, sizeof peak, "%s %s", p, r->bound);
            format_pct(r->pct_measured, meas, sizeof meas);
            if (r->pct_library >= 0) snprintf(lib, sizeof lib, "%.1f%% of %s", r->pct_library, r->library_name);
        }
        printf("   %-24s %-13s %-9s %-10s %-14s %-8s %-9s %s\n", ex[i].name, gr_verdict_name(r->verdict), err,
               tm, rate, peak, meas, lib);
    }
    printf("   * %% roof: against the roofs 'make roofs' measured on this GPU (copy bandwidth, cuBLAS GEMM)\n");
    (void)session;
}

bool gr_report_json(FILE *f, const char *session, const char *exercise, const gr_options *opt, const gr_result *r) {
    char when[32];
    gr_record_now(when, sizeof when);
    gr_record_write_head(f, session, exercise, r->verdict, r->message, opt->solution, r->given);
    fprintf(f, ",\"seed\":\"0x%llx\",\"when\":\"%s\",\"gpu\":", (unsigned long long)opt->seed, when);
    gr_json_write_string(f, r->gpu);
    fprintf(f, ",\"compute_capability\":\"%d.%d\",\"shapes_checked\":%d,\"shapes_passed\":%d,\"rel_error\":",
            r->cc_major, r->cc_minor, r->shapes_checked, r->shapes_passed);
    gr_json_write_number(f, r->worst_rel_err);
    fputs(",\"tolerance\":", f);
    gr_json_write_number(f, r->tol_at_worst);
    fprintf(f, ",\"timed\":%s", r->timed ? "true" : "false");
    if (r->timed) {
        fputs(",\"bench_shape\":", f);
        gr_json_write_string(f, r->bench_shape);
        fputs(",\"median_ms\":", f); gr_json_write_number(f, r->median_ms);
        fputs(",\"min_ms\":", f); gr_json_write_number(f, r->min_ms);
        fputs(",\"max_ms\":", f); gr_json_write_number(f, r->max_ms);
        fprintf(f, ",\"reps\":%d,\"flops\":", r->reps);
        gr_json_write_number(f, r->flops);
        fputs(",\"bytes\":", f); gr_json_write_number(f, r->bytes);
        fputs(",\"roof\":", f); gr_json_write_string(f, gr_compute_name(r->compute));
        fputs(",\"bound\":", f); gr_json_write_string(f, r->bound);
        fputs(",\"roof_tflops\":", f); gr_json_write_number(f, r->roof_tflops);
        fputs(",\"roof_gbs\":", f); gr_json_write_number(f, r->roof_gbs);
        fprintf(f, ",\"roof_derived\":%s,\"pct_peak\":", r->roof_derived ? "true" : "false");
        gr_json_write_number(f, r->pct_peak >= 0 ? r->pct_peak : NAN);
        fputs(",\"pct_measured_roof\":", f); gr_json_write_number(f, r->pct_measured >= 0 ? r->pct_measured : NAN);
        fputs(",\"library\":", f); gr_json_write_string(f, r->library_name);
        fputs(",\"library_ms\":", f); gr_json_write_number(f, r->library_ms > 0 ? r->library_ms : NAN);
        fputs(",\"pct_library\":", f); gr_json_write_number(f, r->pct_library >= 0 ? r->pct_library : NAN);
    }
    fputs("}\n", f);
    return !ferror(f);
}
