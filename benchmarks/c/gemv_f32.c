/* Matrix-vector product in float32 (see suite_kernels.gemv_f32); a is n x n, row-major. */
#include <stdint.h>

void gemv_f32(const float *a, const float *x, float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float s = 0.0f;
        for (int64_t j = 0; j < n; j++)
            s += a[i * n + j] * x[j];
        y[i] = s;
    }
}
