/* The buffers of one exercise at one shape: declared by the check driver, allocated with guard
 * bands, filled with fresh random values, outputs poisoned with NaN before every launch. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compare.h"
#include "internal.h"
#include "rng.h"

/* Poison is all-ones bytes: a quiet NaN in float32, float64 and bfloat16. */
#define POISON_BYTE 0xFF

void gr_case_init(gr_case *c, const gr_exercise *ex, gr_shape shape, uint64_t seed) {
    memset(c, 0, sizeof *c);
    c->ex = ex;
    c->shape = shape;
    c->seed = seed;
    c->rng = seed;
    c->rows = 1;
    c->ref_generation = -1;
    c->on_host = ex->on_host;
}

static int add_buffer(gr_case *c, const char *name, gr_dtype dtype, size_t count, bool is_output,
                      long row_len, gr_fill fill) {
    if (c->n_buffers >= GR_MAX_BUFFERS) {
        fprintf(stderr, "grader: too many buffers in exercise %s (at most %d)\n", c->ex->name, GR_MAX_BUFFERS);
        exit(70);
    }
    gr_buffer *b = &c->buf[c->n_buffers];
    memset(b, 0, sizeof *b);
    b->name = name;
    b->dtype = dtype;
    b->count = count;
    b->is_output = is_output;
    b->row_len = row_len > 0 ? row_len : 1;
    b->fill = fill;
    return c->n_buffers++;
}

int gr_input(gr_case *c, const char *name, gr_dtype dtype, size_t count, gr_fill fill) {
    return add_buffer(c, name, dtype, count, false, 1, fill);
}

int gr_output(gr_case *c, const char *name, gr_dtype dtype, size_t count, long row_len) {
    return add_buffer(c, name, dtype, count, true, row_len, GR_FILL_SIGNED);
}

/* Scratch is treated as an output for poisoning and guards, but nothing is compared. */
int gr_scratch(gr_case *c, const char *name, gr_dtype dtype, size_t count) {
    int i = add_buffer(c, name, dtype, count, true, 1, GR_FILL_SIGNED);
    c->buf[i].is_scratch = true;
    return i;
}

int gr_inout(gr_case *c, const char *name, gr_dtype dtype, size_t count, long row_len, gr_fill fill) {
    int i = add_buffer(c, name, dtype, count, true, row_len, fill);
    c->buf[i].is_inout = true;
    return i;
}

double gr_random_uniform(gr_case *c, double lo, double hi) {
    return lo + (hi - lo) * (double)(gr_rng_next(&c->rng) >> 11) * (1.0 / 9007199254740992.0);
}

const gr_buffer *gr_find(const gr_case *c, const char *name) {
    for (int i = 0; i < c->n_buffers; i++)
        if (strcmp(c->buf[i].name, name) == 0) return &c->buf[i];
    fprintf(stderr, "grader: exercise %s has no buffer named '%s'\n", c->ex->name, name);
    exit(70);
}

void *gr_ptr(gr_case *c, const char *name) { return ((gr_buffer *)gr_find(c, name))->dev; }
const void *gr_in(const gr_case *c, const char *name) {
    const gr_buffer *b = gr_find(c, name);
    return b->is_inout ? b->init : b->host;
}
void *gr_ref(gr_case *c, const char *name) { return ((gr_buffer *)gr_find(c, name))->ref; }

float *gr_scale(gr_case *c, const char *name) {
    gr_buffer *b = (gr_buffer *)gr_find(c, name);
    if (!b->scale) b->scale = calloc(b->count ? b->count : 1, sizeof(float));
    if (!b->scale) { fprintf(stderr, "grader: out of host memory for the scale of '%s'\n", name); exit(70); }
    return b->scale;
}

const float *gr_in_f32(gr_case *c, const char *name) {
    const gr_buffer *b = gr_find(c, name);
    const void *values = gr_in(c, name);
    if (b->dtype == GR_F32) return values;
    int i = (int)(b - c->buf);
    if (!c->as_f32[i]) c->as_f32[i] = malloc(sizeof(float) * (b->count ? b->count : 1));
    if (!c->as_f32[i]) { fprintf(stderr, "grader: out of host memory widening '%s'\n", name); exit(70); }
    if (c->as_f32_generation[i] != c->generation + 1) {
        /* BF16, the common case, without a call an element: an 8192 x 8192 operand in 0.02 s, not 0.25. */
        if (b->dtype == GR_BF16) gr_bf16_to_f32(values, c->as_f32[i], b->count);
        else for (size_t k = 0; k < b->count; k++) c->as_f32[i][k] = (float)gr_value(b->dtype, values, k);
        c->as_f32_generation[i] = c->generation + 1;
    }
    return c->as_f32[i];
}

static size_t data_bytes(const gr_buffer *b) { return b->count * gr_dtype_size(b->dtype); }
/* Guard, data rounded up to 256 bytes, guard: what the buffer needs before rounding to the memory's
 * granularity; everything after the data up to the end of the mapping is guard as well. */
static size_t needed_bytes(const gr_buffer *b) { return 2 * (size_t)GR_GUARD_BYTES + (data_bytes(b) + 255) / 256 * 256; }

/* The expected guard contents: bytes drawn from the case's seed, so they can't be guessed. Kept per
 * buffer in a host copy of the whole region. */
static unsigned char *guard_image(const gr_case *c, int i) {
    const gr_buffer *b = &c->buf[i];
    size_t total = b->region_bytes;
    unsigned char *img = malloc(total);
    if (!img) return NULL;
    uint64_t s = gr_derive_seed(c->seed, 0x6A4D, (uint64_t)i);
    for (size_t k = 0; k < total; k += 8) {
        uint64_t v = gr_rng_next(&s);
        memcpy(img + k, &v, total - k < 8 ? total - k : 8);
    }
    return img;
}

/* Host exercises: the region between two inaccessible pages, so that a write past the guard bands
 * faults instead of landing in the allocator's slack. */
static unsigned char *host_region_alloc(size_t bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *p = mmap(NULL, bytes + 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    mprotect(p, page, PROT_NONE);
    mprotect(p + page + bytes, page, PROT_NONE);
    return p + page;
}

static void host_region_free(unsigned char *region, size_t bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    munmap(region - page, bytes + 2 * page);
}

bool gr_case_alloc(gr_case *c, char *err, size_t err_len) {
    for (int i = 0; i < c->n_buffers; i++) {
        gr_buffer *b = &c->buf[i];
        size_t bytes = data_bytes(b) ? data_bytes(b) : 1;
        b->host = malloc(bytes);
        /* References are kept in float32 when the output is narrower (BF16): rounding the reference
         * would add its own error to what the student's is judged by. */
        b->ref = b->is_output ? calloc(b->count ? b->count : 1, gr_dtype_size(gr_ref_dtype(b->dtype))) : NULL;
        b->init = b->is_inout ? malloc(bytes) : NULL;
        if (!b->host || (b->is_output && !b->ref) || (b->is_inout && !b->init)) {
            snprintf(err, err_len, "out of host memory for '%s' (%zu bytes)", b->name, bytes);
            return false;
        }
        if (c->on_host) {
            size_t page = (size_t)sysconf(_SC_PAGESIZE);
            b->region_bytes = (needed_bytes(b) + page - 1) / page * page;
        } else {
            b->region_bytes = gr_devmem_mapped_bytes(needed_bytes(b));
        }
        unsigned char *img = guard_image(c, i);
        if (!img) { snprintf(err, err_len, "out of host memory for guard bands"); return false; }
        if (c->on_host) {
            b->host_base = host_region_alloc(b->region_bytes);
            if (!b->host_base) { free(img); snprintf(err, err_len, "mmap of %zu bytes failed", b->region_bytes); return false; }
            memcpy(b->host_base, img, b->region_bytes);
            free(img);
            b->dev = b->host_base + GR_GUARD_BYTES;
        } else {
            b->mem = calloc(1, sizeof *b->mem);
            if (!b->mem) { free(img); snprintf(err, err_len, "out of host memory"); return false; }
            if (!gr_devmem_alloc(b->mem, b->region_bytes, err, err_len)) { free(img); return false; }
            b->dev_base = b->mem->ptr;
            cudaError_t e = cudaMemcpy(b->dev_base, img, b->region_bytes, cudaMemcpyHostToDevice);
            free(img);
            if (e != cudaSuccess) {
                snprintf(err, err_len, "cudaMemcpy for '%s' (%zu bytes): %s", b->name, b->region_bytes,
                         cudaGetErrorString(e));
                return false;
            }
            b->dev = b->dev_base + GR_GUARD_BYTES;
        }
    }
    return true;
}

void gr_case_fill_inputs(gr_case *c) {
    c->generation++;
    for (int i = 0; i < c->n_buffers; i++) {
        gr_buffer *b = &c->buf[i];
        if (b->is_output && !b->is_inout) continue;
        uint64_t *s = &c->rng;
        void *values = b->is_inout ? b->init : b->host;
        switch (b->dtype) {
        case GR_F32: {
            float *x = values;
            for (size_t k = 0; k < b->count; k++)
                x[k] = b->fill == GR_FILL_UNIT ? gr_rng_unit_f32(s) : 2.0f * gr_rng_unit_f32(s) - 1.0f;
            break;
        }
        case GR_F64: {
            double *x = values;
            for (size_t k = 0; k < b->count; k++)
                x[k] = b->fill == GR_FILL_UNIT ? gr_random_uniform(c, 0, 1) : gr_random_uniform(c, -1, 1);
            break;
        }
        case GR_BF16: {
            uint16_t *x = values;
            for (size_t k = 0; k < b->count; k++) {
                float f = b->fill == GR_FILL_UNIT ? gr_rng_unit_f32(s) : 2.0f * gr_rng_unit_f32(s) - 1.0f;
                uint32_t bits;
                memcpy(&bits, &f, 4);
                x[k] = (uint16_t)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16); /* round to nearest even */
            }
            break;
        }
        case GR_F16: {
            uint16_t *x = values;
            for (size_t k = 0; k < b->count; k++)
                x[k] = gr_f16_round(b->fill == GR_FILL_UNIT ? gr_rng_unit_f32(s) : 2.0f * gr_rng_unit_f32(s) - 1.0f);
            break;
        }
        case GR_U8: {
            unsigned char *x = values;
            for (size_t k = 0; k < b->count; k++) x[k] = (unsigned char)(gr_rng_next(s) >> 56);
            break;
        }
        case GR_I32: {
            int32_t *x = values;
            for (size_t k = 0; k < b->count; k++) x[k] = (int32_t)(gr_rng_next(s) >> 40) - (1 << 23);
            break;
        }
        }
    }
    if (c->ex->adjust_inputs) c->ex->adjust_inputs(c);
}

bool gr_case_upload_inputs(gr_case *c, char *err, size_t err_len) {
    for (int i = 0; i < c->n_buffers; i++) {
        gr_buffer *b = &c->buf[i];
        if (b->is_output) continue;
        if (c->on_host) { memcpy(b->dev, b->host, data_bytes(b)); continue; }
        cudaError_t e = cudaMemcpy(b->dev, b->host, data_bytes(b), cudaMemcpyHostToDevice);
        if (e != cudaSuccess) {
            snprintf(err, err_len, "upload of '%s': %s", b->name, cudaGetErrorString(e));
            return false;
        }
    }
    if (!c->on_host && c->ex->prepare) c->ex->prepare(c);  /* the inputs' copies on other GPUs */
    return true;
}

bool gr_case_poison_outputs(gr_case *c, char *err, size_t err_len) {
    for (int i = 0; i < c->n_buffers; i++) {
        gr_buffer *b = &c->buf[i];
        if (!b->is_output) continue;
        if (b->is_inout) {  /* back to its values before the launch */
            if (c->on_host) { memcpy(b->dev, b->init, data_bytes(b)); continue; }
            cudaError_t e = cudaMemcpy(b->dev, b->init, data_bytes(b), cudaMemcpyHostToDevice);
            if (e != cudaSuccess) {
                snprintf(err, err_len, "resetting '%s': %s", b->name, cudaGetErrorString(e));
                return false;
            }
            continue;
        }
        if (c->on_host) { memset(b->dev, POISON_BYTE, data_bytes(b)); continue; }
        cudaError_t e = cudaMemset(b->dev, POISON_BYTE, data_bytes(b));
        if (e != cudaSuccess) {
            snprintf(err, err_len, "poisoning '%s': %s", b->name, cudaGetErrorString(e));
            return false;
        }
    }
    return true;
}

bool gr_case_read_back(gr_case *c, char *err, size_t err_len) {
    for (int i = 0; i < c->n_buffers; i++) {
        gr_buffer *b = &c->buf[i];
        if (!b->is_output) continue;
        if (c->on_host) { memcpy(b->host, b->dev, data_bytes(b)); continue; }
        cudaError_t e = cudaMemcpy(b->host, b->dev, data_bytes(b), cudaMemcpyDeviceToHost);
        if (e != cudaSuccess) {
            snprintf(err, err_len, "reading back '%s': %s", b->name, cudaGetErrorString(e));
            return false;
        }
    }
    return true;
}

/* Every byte outside the outputs' data must be as it was: guard bands of all buffers, and the
 * inputs themselves (an exercise may not change its inputs). */
bool gr_case_check_guards(gr_case *c, char *msg, size_t msg_len) {
    for (int i = 0; i < c->n_buffers; i++) {
        gr_buffer *b = &c->buf[i];
        size_t total = b->region_bytes;
        unsigned char *expected = guard_image(c, i);
        unsigned char *got = c->on_host ? NULL : malloc(total);
        if (!expected || (!c->on_host && !got)) {
            snprintf(msg, msg_len, "out of host memory checking guard bands");
            free(expected); free(got);
            return false;
        }
        if (c->on_host) got = b->host_base;
        else if (cudaMemcpy(got, b->dev_base, total, cudaMemcpyDeviceToHost) != cudaSuccess) {
            snprintf(msg, msg_len, "reading guard bands of '%s': %s", b->name, cudaGetErrorString(cudaGetLastError()));
            free(expected); free(got);
            return false;
        }
        size_t data = data_bytes(b), first;
        size_t before = gr_guard_diff(got, expected, GR_GUARD_BYTES, &first);
        bool ok = true;
        if (before) {
            size_t nearest = GR_GUARD_BYTES;
            while (nearest > 0 && got[nearest - 1] == expected[nearest - 1]) nearest--;
            snprintf(msg, msg_len, "wrote before the start of '%s': %zu guard byte(s) changed, the nearest "
                     "%zu byte(s) before element 0", b->name, before, (size_t)GR_GUARD_BYTES - (nearest - 1));
            ok = false;
        }
        size_t after_len = total - GR_GUARD_BYTES - data;
        size_t after = ok ? gr_guard_diff(got + GR_GUARD_BYTES + data, expected + GR_GUARD_BYTES + data, after_len, &first) : 0;
        if (ok && after) {
            snprintf(msg, msg_len, "wrote past the end of '%s' (%zu element%s): %zu guard byte(s) changed, the "
                     "first at byte %zu after the end (element [%zu] and on)", b->name, b->count, b->count == 1 ? "" : "s", after, first,
                     b->count + first / gr_dtype_size(b->dtype));
            ok = false;
        }
        if (ok && !b->is_output) {
            if (memcmp(got + GR_GUARD_BYTES, b->host, data) != 0) {
                size_t k = 0, es = gr_dtype_size(b->dtype);
                while (k < data && got[GR_GUARD_BYTES + k] == ((unsigned char *)b->host)[k]) k++;
                snprintf(msg, msg_len, "changed its input '%s' (element %zu): inputs are read-only", b->name, k / es);
                ok = false;
            }
        }
        free(expected);
        if (!c->on_host) free(got);
        if (!ok) return false;
    }
    return true;
}

void gr_case_free(gr_case *c) {
    for (int i = 0; i < c->n_buffers; i++) {
        gr_buffer *b = &c->buf[i];
        free(b->host);
        free(b->ref);
        free(b->init);
        free(b->scale);
        free(c->as_f32[i]);
        b->init = NULL;
        b->scale = NULL;
        c->as_f32[i] = NULL;
        if (c->on_host && b->host_base) host_region_free(b->host_base, b->region_bytes);
        else if (b->mem) gr_devmem_free(b->mem);
        free(b->mem);
        b->mem = NULL;
        b->host = b->ref = NULL;
        b->host_base = b->dev_base = NULL;
    }
}

void gr_shape_format(const gr_shape *s, char *buf, size_t len) {
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < s->rank && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, i ? "x%ld" : "%ld", s->d[i]);
}
