#include "references.h"

void ref_rgb_to_grey(const unsigned char *rgb, float *grey, long begin, long end) {
    for (long p = begin; p < end; p++) {
        double luma = 0.299 * rgb[3 * p] + 0.587 * rgb[3 * p + 1] + 0.114 * rgb[3 * p + 2];
        grey[p] = (float)(luma / 255.0);
    }
}
