/* PolyBench jacobi-1d (see suite_kernels.jacobi_1d). */
#include <stdint.h>

void jacobi_1d(const double *a0, double *a, double *b, int64_t tsteps, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        a[i] = a0[i];
        b[i] = a0[i];
    }
    for (int64_t t = 0; t < tsteps; t++) {
        for (int64_t i = 1; i < n - 1; i++)
            b[i] = 0.33333 * (a[i - 1] + a[i] + a[i + 1]);
        for (int64_t i = 1; i < n - 1; i++)
            a[i] = 0.33333 * (b[i - 1] + b[i] + b[i + 1]);
    }
}
