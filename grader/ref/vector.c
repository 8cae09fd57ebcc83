#include "references.h"

void ref_axpby(const float *x, const float *y, float alpha, float beta, float *z, long begin, long end) {
    for (long i = begin; i < end; i++) z[i] = (float)((double)alpha * x[i] + (double)beta * y[i]);
}
