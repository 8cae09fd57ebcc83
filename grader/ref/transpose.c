#include "references.h"

void ref_transpose(const float *in, float *out, long rows, long cols, long row_begin, long row_end) {
    for (long c = row_begin; c < row_end; c++)
        for (long r = 0; r < rows; r++) out[c * rows + r] = in[r * cols + c];
    (void)cols;
}
