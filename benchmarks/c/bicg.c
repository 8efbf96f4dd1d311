/* PolyBench bicg (see suite_kernels.bicg): a is n x n, row-major. */
#include <stdint.h>

void bicg(const double *a, const double *p, const double *r, double *s, double *q, int64_t n)
{
    for (int64_t j = 0; j < n; j++)
        s[j] = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double t = 0.0;
        for (int64_t j = 0; j < n; j++) {
            s[j] += r[i] * a[i * n + j];
            t += a[i * n + j] * p[j];
        }
        q[i] = t;
    }
}
