/* PolyBench jacobi-2d (see suite_kernels.jacobi_2d); arrays are n x n, row-major. */
#include <stdint.h>

#define A(i, j) a[(i) * n + (j)]
#define B(i, j) b[(i) * n + (j)]

void jacobi_2d(const double *a0, double *a, double *b, int64_t tsteps, int64_t n)
{
    for (int64_t i = 0; i < n * n; i++) {
        a[i] = a0[i];
        b[i] = a0[i];
    }
    for (int64_t t = 0; t < tsteps; t++) {
        for (int64_t i = 1; i < n - 1; i++)
            for (int64_t j = 1; j < n - 1; j++)
                B(i, j) = 0.2 * (A(i, j) + A(i, j - 1) + A(i, j + 1) + A(i + 1, j) + A(i - 1, j));
        for (int64_t i = 1; i < n - 1; i++)
            for (int64_t j = 1; j < n - 1; j++)
                A(i, j) = 0.2 * (B(i, j) + B(i, j - 1) + B(i, j + 1) + B(i + 1, j) + B(i - 1, j));
    }
}
