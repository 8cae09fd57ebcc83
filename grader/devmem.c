/* Exercise buffers whose neighbours are not memory at all.
 *
 * cudaMalloc rounds every allocation up to its granularity (2 MiB on current GPUs) and packs
 * allocations next to each other, so a write past a buffer's guard band lands either in slack that
 * nobody checks or in someone else's memory. Here each buffer gets a range of virtual addresses of
 * its own: physical memory is mapped for exactly the granules it needs, and a wide band of
 * addresses on either side is reserved but never mapped. A write into the slack of the last granule
 * changes bytes the guard check compares (the caller treats the whole mapping as guard); a write
 * beyond the mapping faults, and the exercise is a CRASH.
 *
 * The driver's virtual memory calls are reached through cudaGetDriverEntryPointByVersion, so the
 * check still links and starts on a machine without libcuda (and says there is no GPU). Where they
 * are missing, the buffer falls back to cudaMalloc rounded up to the granularity. */
#include <cuda.h>
#include <string.h>

#include "internal.h"

/* Addresses reserved and left unmapped before and after every buffer. */
#define UNMAPPED_BAND ((size_t)64 << 20)

typedef CUresult (*fn_granularity)(size_t *, const CUmemAllocationProp *, CUmemAllocationGranularity_flags);
typedef CUresult (*fn_reserve)(CUdeviceptr *, size_t, size_t, CUdeviceptr, unsigned long long);
typedef CUresult (*fn_create)(CUmemGenericAllocationHandle *, size_t, const CUmemAllocationProp *, unsigned long long);
typedef CUresult (*fn_map)(CUdeviceptr, size_t, size_t, CUmemGenericAllocationHandle, unsigned long long);
typedef CUresult (*fn_set_access)(CUdeviceptr, size_t, const CUmemAccessDesc *, size_t);
typedef CUresult (*fn_unmap)(CUdeviceptr, size_t);
typedef CUresult (*fn_release)(CUmemGenericAllocationHandle);
typedef CUresult (*fn_address_free)(CUdeviceptr, size_t);

static struct {
    bool tried, ok;
    fn_granularity granularity;
    fn_reserve reserve;
    fn_create create;
    fn_map map;
    fn_set_access set_access;
    fn_unmap unmap;
    fn_release release;
    fn_address_free address_free;
} vmm;

static void *entry(const char *name) {
    void *fn = NULL;
    enum cudaDriverEntryPointQueryResult found;
    if (cudaGetDriverEntryPointByVersion(name, &fn, 12000, cudaEnableDefault, &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess)
        return NULL;
    return fn;
}

static bool vmm_load(void) {
    if (vmm.tried) return vmm.ok;
    vmm.tried = true;
    vmm.granularity = (fn_granularity)entry("cuMemGetAllocationGranularity");
    vmm.reserve = (fn_reserve)entry("cuMemAddressReserve");
    vmm.create = (fn_create)entry("cuMemCreate");
    vmm.map = (fn_map)entry("cuMemMap");
    vmm.set_access = (fn_set_access)entry("cuMemSetAccess");
    vmm.unmap = (fn_unmap)entry("cuMemUnmap");
    vmm.release = (fn_release)entry("cuMemRelease");
    vmm.address_free = (fn_address_free)entry("cuMemAddressFree");
    vmm.ok = vmm.granularity && vmm.reserve && vmm.create && vmm.map && vmm.set_access && vmm.unmap &&
             vmm.release && vmm.address_free;
    cudaGetLastError();
    return vmm.ok;
}

static CUmemAllocationProp device_prop(void) {
    int device = 0;
    cudaGetDevice(&device);
    CUmemAllocationProp prop;
    memset(&prop, 0, sizeof prop);
    prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
    prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    prop.location.id = device;
    return prop;
}

size_t gr_devmem_granularity(void) {
    size_t g = 0;
    CUmemAllocationProp prop = device_prop();
    if (!vmm_load() || vmm.granularity(&g, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM) != CUDA_SUCCESS || g == 0)
        g = (size_t)2 << 20;
    return g;
}

size_t gr_devmem_mapped_bytes(size_t bytes) {
    size_t g = gr_devmem_granularity();
    return (bytes + g - 1) / g * g;
}

bool gr_devmem_alloc(gr_devmem *m, size_t bytes, char *err, size_t err_len) {
    memset(m, 0, sizeof *m);
    m->mapped = gr_devmem_mapped_bytes(bytes ? bytes : 1);
    if (!vmm_load()) {
        cudaError_t e = cudaMalloc(&m->ptr, m->mapped);
        if (e != cudaSuccess) {
            snprintf(err, err_len, "cudaMalloc of %zu bytes: %s", m->mapped, cudaGetErrorString(e));
            return false;
        }
        return true;
    }
    CUmemAllocationProp prop = device_prop();
    CUdeviceptr base = 0;
    CUmemGenericAllocationHandle handle = 0;
    size_t range = m->mapped + 2 * UNMAPPED_BAND;
    const char *step = "cuMemAddressReserve";
    if (vmm.reserve(&base, range, 0, 0, 0) != CUDA_SUCCESS) goto fail;
    step = "cuMemCreate";
    if (vmm.create(&handle, m->mapped, &prop, 0) != CUDA_SUCCESS) { vmm.address_free(base, range); goto fail; }
    step = "cuMemMap";
    if (vmm.map(base + UNMAPPED_BAND, m->mapped, 0, handle, 0) != CUDA_SUCCESS) {
        vmm.release(handle);
        vmm.address_free(base, range);
        goto fail;
    }
    CUmemAccessDesc access = {.location = prop.location, .flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE};
    step = "cuMemSetAccess";
    if (vmm.set_access(base + UNMAPPED_BAND, m->mapped, &access, 1) != CUDA_SUCCESS) {
        vmm.unmap(base + UNMAPPED_BAND, m->mapped);
        vmm.release(handle);
        vmm.address_free(base, range);
        goto fail;
    }
    m->vmm = true;
    m->reserved = base;
    m->reserved_bytes = range;
    m->handle = handle;
    m->ptr = (void *)(uintptr_t)(base + UNMAPPED_BAND);
    return true;
fail:
    snprintf(err, err_len, "%s for a buffer of %zu bytes failed (out of device memory?)", step, m->mapped);
    return false;
}

void gr_devmem_free(gr_devmem *m) {
    if (!m->ptr) return;
    if (m->vmm) {
        cudaDeviceSynchronize();
        vmm.unmap((CUdeviceptr)(uintptr_t)m->ptr, m->mapped);
        vmm.release((CUmemGenericAllocationHandle)m->handle);
        vmm.address_free((CUdeviceptr)m->reserved, m->reserved_bytes);
    } else {
        cudaFree(m->ptr);
    }
    memset(m, 0, sizeof *m);
}
