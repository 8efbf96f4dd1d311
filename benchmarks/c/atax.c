/* PolyBench atax (see suite_kernels.atax): a is n x n, row-major. */
#include <stdint.h>

void atax(const double *a, const double *x, double *y, double *tmp, int64_t n)
{
    for (int64_t j = 0; j < n; j++)
        y[j] = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double t = 0.0;
        for (int64_t j = 0; j < n; j++)
            t += a[i * n + j] * x[j];
        tmp[i] = t;
        for (int64_t j = 0; j < n; j++)
            y[j] += a[i * n + j] * t;
    }
}
