/* Timing: warm-up, then many launches each timed with CUDA events, the L2 flushed (flush.cu: why
 * the flush reads as well as writes) and the persisting L2 lines reset before each one, the whole
 * device idle before and after it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flush.h"
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

/* One timed launch: after a device-wide synchronisation, a reset of the persisting L2 lines and a
 * flush of the L2 (nothing the previous launch left there is still cached), the launch between two
 * events on its stream.
 *
 * Work the launcher puts on another stream would escape those events. The legacy default stream
 * (stream 0) and the per-thread default stream are the streams code can reach without creating one
 * (which the object policy forbids), and both order themselves after the legacy stream: so the
 * legacy stream is made to wait for the start event, and a second stop event is recorded on it. Its
 * time covers everything the launcher enqueued anywhere it could. The launch is timed to the later
 * of the two stops, and t->off_stream_ms says how much later the legacy one was. */
bool gr_time_one_launch(gr_case *c, gr_launch_fn fn, cudaStream_t stream, void *flush, size_t flush_bytes,
                        int pass, gr_timing *t, char *err, size_t err_len) {
    cudaEvent_t start = NULL, stop = NULL, stop_all = NULL;
    float given = 0, all = 0;
    TRY(cudaEventCreate(&start));
    TRY(cudaEventCreate(&stop));
    TRY(cudaEventCreate(&stop_all));
    cudaError_t e = cudaCtxResetPersistingL2Cache();
    if (e != cudaSuccess && e != cudaErrorNotSupported) TRY(e);
    cudaGetLastError();
    TRY(cudaDeviceSynchronize());
    TRY(gr_flush_l2(flush, flush_bytes, pass, stream));
    TRY(cudaEventRecord(start, stream));
    TRY(cudaStreamWaitEvent(cudaStreamLegacy, start, 0));
    fn(c, stream);
    TRY(cudaGetLastError());
    TRY(cudaEventRecord(stop, stream));
    TRY(cudaEventRecord(stop_all, cudaStreamLegacy));
    TRY(cudaDeviceSynchronize());
    TRY(cudaEventElapsedTime(&given, start, stop));
    TRY(cudaEventElapsedTime(&all, start, stop_all));
    t->ms = all > given ? all : given;
    t->off_stream_ms = all > given ? all - given : 0;
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    cudaEventDestroy(stop_all);
    return true;
fail:
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    if (stop_all) cudaEventDestroy(stop_all);
    return false;
}

bool gr_off_stream(const gr_timing *t) {
    return t->off_stream_ms > GR_OFF_STREAM_SLACK_MS + GR_OFF_STREAM_SLACK_FRACTION * (t->ms - t->off_stream_ms);
}

bool gr_time_device(gr_case *c, gr_launch_fn fn, cudaStream_t stream, void *flush, size_t flush_bytes,
                    int max_reps, double budget_s, double *times_ms, int *reps, gr_timing *worst,
                    char *err, size_t err_len) {
    for (int w = 0; w < 2; w++) fn(c, stream);  /* warm-up: module load, caches of the driver */
    TRY(cudaGetLastError());
    TRY(cudaDeviceSynchronize());

    double spent = 0;
    int n = 0;
    memset(worst, 0, sizeof *worst);
    while (n < max_reps && (n < 10 || spent < budget_s)) {
        gr_timing t;
        if (!gr_time_one_launch(c, fn, stream, flush, flush_bytes, n, &t, err, err_len)) return false;
        if (t.off_stream_ms > worst->off_stream_ms) *worst = t;
        times_ms[n++] = t.ms;
        spent += t.ms * 1e-3;
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
        TRY(gr_flush_l2(flush, flush_bytes, n, stream));
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
