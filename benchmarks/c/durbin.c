/* Levinson-Durbin recursion (see suite_kernels.durbin): r, y, z of length n. */
#include <stdint.h>

void durbin(const double *r, double *y, double *z, int64_t n)
{
    y[0] = -r[0];
    double beta = 1.0;
    double alpha = -r[0];
    for (int64_t k = 1; k < n; k++) {
        beta = (1.0 - alpha * alpha) * beta;
        double s = 0.0;
        for (int64_t i = 0; i < k; i++)
            s += r[k - i - 1] * y[i];
        alpha = -(r[k] + s) / beta;
        for (int64_t i = 0; i < k; i++)
            z[i] = y[i] + alpha * y[k - i - 1];
        for (int64_t i = 0; i < k; i++)
            y[i] = z[i];
        y[k] = alpha;
    }
}
