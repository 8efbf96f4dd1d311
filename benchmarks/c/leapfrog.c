/* Kick-drift oscillators, one loop per update (see suite_kernels.leapfrog). */
#include <stdint.h>

void leapfrog(const double *pos0, const double *vel0, double *pos, double *vel, double dt,
              int64_t steps, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        pos[i] = pos0[i];
        vel[i] = vel0[i];
    }
    for (int64_t t = 0; t < steps; t++) {
        for (int64_t i = 0; i < n; i++)
            vel[i] -= dt * pos[i];
        for (int64_t i = 0; i < n; i++)
            pos[i] += dt * vel[i];
    }
}
