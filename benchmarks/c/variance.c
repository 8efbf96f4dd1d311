/* Two-pass population variance (see suite_kernels.variance). */
#include <stdint.h>

double variance(const double *x, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += x[i];
    double mean = s / n, acc = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = x[i] - mean;
        acc += d * d;
    }
    return acc / n;
}
