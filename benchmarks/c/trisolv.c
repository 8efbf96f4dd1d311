/* PolyBench trisolv (see suite_kernels.trisolv): lo is n x n lower triangular, row-major. */
#include <stdint.h>

void trisolv(const double *lo, const double *b, double *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double s = b[i];
        for (int64_t j = 0; j < i; j++)
            s -= lo[i * n + j] * x[j];
        x[i] = s / lo[i * n + i];
    }
}
