/* Finding the GPU: is there one, is it the architecture this was built for, what are its roofs. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"


/* Code built for sm_XY runs on compute capability X.Z with Z >= Y; built for sm_XYa (Hopper's and
 * Blackwell's architecture-specific features) it runs on X.Y only. */
static bool arch_runs_on(const char *arch, int major, int minor, char *why, size_t why_len) {
    int num = 0;
    char suffix = 0;
    if (sscanf(arch, "sm_%d%c", &num, &suffix) < 1) {
        snprintf(why, why_len, "unrecognised build architecture '%s'", arch);
        return false;
    }
    int a_major = num / 10, a_minor = num % 10;
    bool specific = suffix == 'a' || suffix == 'f';
    if (a_major == major && (specific ? a_minor == minor : a_minor <= minor)) return true;
    snprintf(why, why_len, "built for %s but this GPU is compute capability %d.%d: rebuild with "
             "'make ARCH=sm_%d%d%s' (or leave ARCH unset to detect it)", arch, major, minor, major, minor,
             major >= 9 ? "a" : "");
    return false;
}

bool gr_gpu_open(gr_gpu *gpu, const gr_options *opt, gr_result *res) {
    memset(gpu, 0, sizeof *gpu);
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        res->verdict = GR_NO_GPU;
        const char *why = e == cudaErrorInsufficientDriver ? "no NVIDIA driver, or one too old for this CUDA"
                        : e == cudaErrorNoDevice || e == cudaSuccess ? "no CUDA device found"
                        : cudaGetErrorString(e);
        snprintf(res->message, sizeof res->message, "grading needs a CUDA GPU, and this machine has none "
                 "usable (%s)", why);
        return false;
    }
    struct cudaDeviceProp p;
    e = cudaGetDeviceProperties(&p, 0);
    if (e != cudaSuccess) {
        res->verdict = GR_NO_GPU;
        snprintf(res->message, sizeof res->message, "cudaGetDeviceProperties: %s", cudaGetErrorString(e));
        return false;
    }
    snprintf(gpu->name, sizeof gpu->name, "%s", p.name);
    gpu->cc_major = p.major;
    gpu->cc_minor = p.minor;
    gpu->sm_count = p.multiProcessorCount;
    gpu->l2_bytes = (size_t)p.l2CacheSize;
    snprintf(res->gpu, sizeof res->gpu, "%s", p.name);
    res->cc_major = p.major;
    res->cc_minor = p.minor;

    char why[256];
    if (!arch_runs_on(GR_BUILD_ARCH, p.major, p.minor, why, sizeof why)) {
        res->verdict = GR_WRONG_ARCH;
        snprintf(res->message, sizeof res->message, "%s", why);
        return false;
    }

    const gr_roof *known = gr_roof_lookup(p.name);
    if (known) {
        gpu->roof = *known;
    } else {
        int clock_khz = 0, mem_khz = 0, bus_bits = 0;
        cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, 0);
        cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, 0);
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0);
        gpu->roof = gr_roof_derived(p.major, p.minor, p.multiProcessorCount, clock_khz, mem_khz, bus_bits);
    }
    if (opt->roofs_dir) {
        char path[512];
        gr_measured_path(path, sizeof path, opt->roofs_dir, p.name);
        gpu->have_measured = gr_measured_load(path, &gpu->measured);
    }
    return true;
}
