/* PolyBench syrk, lower triangle (see suite_kernels.syrk): square n x n, row-major. */
#include <stdint.h>

void syrk(double alpha, double beta, const double *c0, double *c, const double *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j <= i; j++)
            c[i * n + j] = beta * c0[i * n + j];
        for (int64_t k = 0; k < n; k++)
            for (int64_t j = 0; j <= i; j++)
                c[i * n + j] += alpha * a[i * n + k] * a[j * n + k];
    }
}
