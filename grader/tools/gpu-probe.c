/* Is there a GPU this build can run on? Silent and 0 if so; one plain line and 2 if not. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int main(void) {
    gr_options opt;
    gr_gpu gpu;
    gr_result why;
    memset(&opt, 0, sizeof opt);
    memset(&why, 0, sizeof why);
    if (gr_gpu_open(&gpu, &opt, &why)) return 0;
    if (why.verdict == GR_NO_GPU)
        printf("make: everything is built, but %s\n", why.message);
    else
        printf("make: %s\n", why.message);
    return 2;
}
