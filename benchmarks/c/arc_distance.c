/* Great-circle distance per element (see suite_kernels.arc_distance). */
#include <math.h>
#include <stdint.h>

void arc_distance(const double *theta_1, const double *phi_1, const double *theta_2,
                  const double *phi_2, double *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double a = sin((theta_2[i] - theta_1[i]) / 2.0);
        double b = sin((phi_2[i] - phi_1[i]) / 2.0);
        double t = a * a + cos(theta_1[i]) * cos(theta_2[i]) * (b * b);
        out[i] = 2.0 * atan2(sqrt(t), sqrt(1.0 - t));
    }
}
