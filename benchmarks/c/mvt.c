/* PolyBench mvt (see suite_kernels.mvt): a is n x n, row-major; the second loop walks columns. */
#include <stdint.h>

void mvt(const double *a, const double *y1, const double *y2, const double *x1_0,
         const double *x2_0, double *x1, double *x2, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double s = x1_0[i];
        for (int64_t j = 0; j < n; j++)
            s += a[i * n + j] * y1[j];
        x1[i] = s;
    }
    for (int64_t i = 0; i < n; i++) {
        double s = x2_0[i];
        for (int64_t j = 0; j < n; j++)
            s += a[j * n + i] * y2[j];
        x2[i] = s;
    }
}
