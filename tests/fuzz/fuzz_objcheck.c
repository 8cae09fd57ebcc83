// link: grader/tools/objcheck.c
// cflags: -DOBJCHECK_NO_MAIN
/* libFuzzer harness of the object checker (grader/tools/objcheck.c, compiled with -DOBJCHECK_NO_MAIN):
 * the input is a would-be compiled exercise object, checked against a small fixed policy that
 * exercises every rule (allow and forbid lines, namespaces, reserved, session and own names). The
 * objdump step is off (no disassembly path is set), so the run stays in process. Any result
 * 0, 1 or 2 is fine; a crash, a sanitizer report, a hang or another result is a bug.
 * Seeds: tests/fuzz/corpus/objcheck/ (small objects nvcc made). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The entry points of objcheck.c, which has no header of its own. */
typedef struct objcheck_policy objcheck_policy;
objcheck_policy *objcheck_policy_new(void);
int objcheck_policy_parse(objcheck_policy *p, const char *text, size_t len, const char *origin, char *why,
                          size_t why_len);
int objcheck_policy_add_names(objcheck_policy *p, const char *which, const char *text, size_t len, char *why,
                              size_t why_len);
int objcheck_image(const unsigned char *img, size_t len, const objcheck_policy *p, char *why, size_t why_len);

static const char POLICY[] =
    "# a short base policy: nvcc's boilerplate and a few runtime calls\n"
    "allow-undefined __cudaRegister*\n"
    "allow-undefined __cudaUnregisterFatBinary\n"
    "allow-undefined __cudaPushCallConfiguration\n"
    "allow-undefined __cudaPopCallConfiguration\n"
    "allow-undefined __cudaLaunchKernel\n"
    "allow-undefined __cudaGetKernel\n"
    "allow-undefined __cxa_guard_*\n"
    "allow-undefined __gxx_personality_v0\n"
    "allow-undefined _Unwind_Resume\n"
    "allow-undefined atexit\n"
    "allow-undefined exit\n"
    "allow-undefined cudaGetDevice\n"
    "allow-undefined cudaDeviceGetAttribute\n"
    "forbid-undefined __cudaRegisterLinkedBinary* separate compilation is not part of the exercises\n"
    "allow-define DW.ref.__gxx_personality_v0\n"
    "forbid-define main the grader owns main\n"
    "forbid-define gr_* the grader's names\n"
    "forbid-define-prefix _ZN3cub CUB\n"
    "forbid-define-prefix _ZN6thrust Thrust\n"
    "allow-define-prefix _ZN6thrust6system\n";
static const char RESERVED[] = "gr_compare_scaled\ngr_lib_sgemm\ncudaEventElapsedTime\ncudaEventRecord\ngetenv\n"
                               "memcpy\n_start\n__libc_start_main\n";
static const char SESSION[] = "saxpy_vectorized\nrgb_to_grey\n_Z23saxpy_vectorized_kernelfPKfS0_Pfl\n";
static const char OWN[] = "saxpy_grid_stride\n_Z24saxpy_grid_stride_kernelfPKfS0_Pfl\n"
                          "_Z52__device_stub__Z24saxpy_grid_stride_kernelfPKfS0_PflfPKfS0_Pfl\n";

static objcheck_policy *policy_once(void) {
    static objcheck_policy *policy;
    if (policy) return policy;
    char why[512];
    policy = objcheck_policy_new();
    if (!policy || objcheck_policy_parse(policy, POLICY, strlen(POLICY), "fuzz policy", why, sizeof why) ||
        objcheck_policy_add_names(policy, "reserved", RESERVED, strlen(RESERVED), why, sizeof why) ||
        objcheck_policy_add_names(policy, "session", SESSION, strlen(SESSION), why, sizeof why) ||
        objcheck_policy_add_names(policy, "own", OWN, strlen(OWN), why, sizeof why))
        abort();  /* the harness itself is wrong */
    return policy;  /* no disassembly path: the objdump step is skipped */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char why[1024];
    int rc = objcheck_image(data, size, policy_once(), why, sizeof why);
    if (rc < 0 || rc > 2) abort();
    if (rc == 2 && (why[0] == '\0' || !memchr(why, '\0', sizeof why))) abort();  /* a failure says why */
    return 0;
}
