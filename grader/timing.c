/* Timing: warm-up, then many launches each timed with CUDA events, the L2 flushed and the
 * persisting L2 lines reset before each one, the whole device idle before and after it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double gr_median(double *v, int n) {
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double gr_wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define TRY(call)                                                                                      \
    do {                                                                                               \
        cudaError_t e_ = (call);                                                                       \
        if (e_ != cudaSuccess) {                                                                       \
            snprintf(err, err_len, "%s: %s", #call, cudaGetErrorString(e_));                          \
            goto fail;                                                                                 \
        }                                                                                              \
    } while (0)

/* One timed launch. The flush is queued on the launch stream first, so the start event follows it
 * at once and the kernel starts without a launch gap; device-wide synchronisation before and after
 * keeps work from earlier launches, or from other streams, out of the interval and in the next. */
/* One launch between events, after a device-wide synchronisation, a reset of the persisting L2
 * lines and a flush of the L2 (nothing the previous launch left there is still cached). */
bool gr_time_one_launch(gr_case *c, gr_launch_fn fn, cudaStream_t stream, void *flush, size_t flush_bytes,
                        int pass, float *ms, char *err, size_t err_len) {
    cudaEvent_t start = NULL, stop = NULL;
    TRY(cudaEventCreate(&start));
    TRY(cudaEventCreate(&stop));
    cudaError_t e = cudaCtxResetPersistingL2Cache();
    if (e != cudaSuccess && e != cudaErrorNotSupported) TRY(e);
    cudaGetLastError();
    TRY(cudaDeviceSynchronize());
    TRY(cudaMemsetAsync(flush, pass & 0xFF, flush_bytes, stream));
    TRY(cudaEventRecord(start, stream));
    fn(c, stream);
    TRY(cudaGetLastError());
    TRY(cudaEventRecord(stop, stream));
    TRY(cudaDeviceSynchronize());
    TRY(cudaEventElapsedTime(ms, start, stop));
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return true;
fail:
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    return false;
}

bool gr_time_device(gr_case *c, gr_launch_fn fn, cudaStream_t stream, void *flush, size_t flush_bytes,
                    int max_reps, double budget_s, double *times_ms, int *reps, char *err, size_t err_len) {
    for (int w = 0; w < 2; w++) fn(c, stream);  /* warm-up: module load, caches of the driver */
    TRY(cudaGetLastError());
    TRY(cudaDeviceSynchronize());

    double spent = 0;
    int n = 0;
    while (n < max_reps && (n < 10 || spent < budget_s)) {
        float ms = 0;
        if (!gr_time_one_launch(c, fn, stream, flush, flush_bytes, n, &ms, err, err_len)) return false;
        times_ms[n++] = ms;
        spent += ms * 1e-3;
    }
    *reps = n;
    return true;
fail:
    return false;
}

/* The yardstick for memory-bound exercises without a library routine: a device-to-device copy
 * that moves as many bytes (half read, half written). */
bool gr_time_copy(size_t bytes, cudaStream_t stream, void *flush, size_t flush_bytes, double *median_ms,
                  char *err, size_t err_len) {
    size_t half = bytes / 2;
    void *a = NULL, *b = NULL;
    cudaEvent_t start = NULL, stop = NULL;
    double times[50];
    int n = 0;
    TRY(cudaMalloc(&a, half));
    TRY(cudaMalloc(&b, half));
    TRY(cudaMemset(a, 0x3C, half));
    TRY(cudaEventCreate(&start));
    TRY(cudaEventCreate(&stop));
    TRY(cudaMemcpyAsync(b, a, half, cudaMemcpyDeviceToDevice, stream));
    for (n = 0; n < 50; n++) {
        TRY(cudaDeviceSynchronize());
        TRY(cudaMemsetAsync(flush, n & 0xFF, flush_bytes, stream));
        TRY(cudaEventRecord(start, stream));
        TRY(cudaMemcpyAsync(b, a, half, cudaMemcpyDeviceToDevice, stream));
        TRY(cudaEventRecord(stop, stream));
        TRY(cudaDeviceSynchronize());
        float ms;
        TRY(cudaEventElapsedTime(&ms, start, stop));
        times[n] = ms;
    }
    *median_ms = gr_median(times, n);
    cudaFree(a);
    cudaFree(b);
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return true;
fail:
    cudaFree(a);
    cudaFree(b);
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    return false;
}

/* CPU exercises: wall clock around each call, median of `reps`. */
double gr_time_host(gr_case *c, int reps, double *min_ms, double *max_ms) {
    double times[64];
    if (reps > 64) reps = 64;
    for (int i = 0; i < reps; i++) {
        double t0 = gr_wall_seconds();
        c->ex->launch(c, NULL);
        times[i] = (gr_wall_seconds() - t0) * 1e3;
    }
    double med = gr_median(times, reps);
    *min_ms = times[0];
    *max_ms = times[reps - 1];
    return med;
}
