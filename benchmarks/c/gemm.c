/* PolyBench gemm (see suite_kernels.gemm): square n x n, row-major, i-k-j order. */
#include <stdint.h>

void gemm(double alpha, double beta, const double *c0, double *c, const double *a,
          const double *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < n; j++)
            c[i * n + j] = beta * c0[i * n + j];
        for (int64_t k = 0; k < n; k++)
            for (int64_t j = 0; j < n; j++)
                c[i * n + j] += alpha * a[i * n + k] * b[k * n + j];
    }
}
