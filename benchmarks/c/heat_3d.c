/* PolyBench heat-3d (see suite_kernels.heat_3d); arrays are n x n x n, row-major. */
#include <stdint.h>

#define AT(x, i, j, k) x[((i) * n + (j)) * n + (k)]

static void sweep(const double *s, double *d, int64_t n)
{
    for (int64_t i = 1; i < n - 1; i++)
        for (int64_t j = 1; j < n - 1; j++)
            for (int64_t k = 1; k < n - 1; k++) {
                double c = AT(s, i, j, k);
                AT(d, i, j, k) = 0.125 * (AT(s, i + 1, j, k) - 2.0 * c + AT(s, i - 1, j, k))
                               + 0.125 * (AT(s, i, j + 1, k) - 2.0 * c + AT(s, i, j - 1, k))
                               + 0.125 * (AT(s, i, j, k + 1) - 2.0 * c + AT(s, i, j, k - 1))
                               + c;
            }
}

void heat_3d(const double *a0, double *a, double *b, int64_t tsteps, int64_t n)
{
    for (int64_t i = 0; i < n * n * n; i++) {
        a[i] = a0[i];
        b[i] = a0[i];
    }
    for (int64_t t = 0; t < tsteps; t++) {
        sweep(a, b, n);
        sweep(b, a, n);
    }
}
