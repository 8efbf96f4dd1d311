/* PolyBench cholesky (see suite_kernels.cholesky): n x n, row-major, in place on a copy. */
#include <math.h>
#include <stdint.h>

#define A(i, j) a[(i) * n + (j)]

void cholesky(const double *a0, double *a, int64_t n)
{
    for (int64_t i = 0; i < n * n; i++)
        a[i] = a0[i];
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < i; j++) {
            for (int64_t k = 0; k < j; k++)
                A(i, j) -= A(i, k) * A(j, k);
            A(i, j) /= A(j, j);
        }
        for (int64_t k = 0; k < i; k++)
            A(i, i) -= A(i, k) * A(i, k);
        A(i, i) = sqrt(A(i, i));
    }
}
