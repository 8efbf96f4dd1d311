/* Euclidean norm of a float32 vector, accumulated in double (see suite_kernels.l2norm_f32). */
#include <math.h>
#include <stdint.h>

double l2norm_f32(const float *x, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double v = x[i];
        s += v * v;
    }
    return sqrt(s);
}
