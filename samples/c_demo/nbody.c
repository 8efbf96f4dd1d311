/* The figure-eight orbit of three equal masses (Chenciner & Montgomery, 2000), integrated in C
 * with forces from an Ember-built library: potential_grad() is the gradient of a Python
 * function, compiled ahead of time with Enzyme. See README.md; build_and_run.sh builds it.
 *
 * Checks printed at the end: the gradient agrees with central finite differences, the
 * leapfrog integrator conserves energy, and after one period the bodies are back where they
 * started. The program exits with status 1 if any check fails. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "physics.h"

#define N 3   /* bodies */
#define D 2   /* dimensions */

static const double PERIOD = 6.32591398;

/* An array parameter is (data, shape, strides); NULL strides mean C-contiguous. */
static int64_t SHAPE[2] = {N, D};
static int64_t MASS_SHAPE[1] = {N};

static double total_energy(double *pos, double *vel, double *mass) {
    return potential(pos, SHAPE, NULL, mass, MASS_SHAPE, NULL, 0.0) +
           kinetic(vel, SHAPE, NULL, mass, MASS_SHAPE, NULL);
}

/* Largest difference between the Ember gradient and central finite differences. */
static double gradient_check(double *pos, double *mass) {
    double g[N * D] = {0};
    potential_grad(pos, SHAPE, NULL, mass, MASS_SHAPE, NULL, 0.0, g);
    double worst = 0.0, h = 1e-6;
    for (int i = 0; i < N * D; i++) {
        double saved = pos[i];
        pos[i] = saved + h;
        double up = potential(pos, SHAPE, NULL, mass, MASS_SHAPE, NULL, 0.0);
        pos[i] = saved - h;
        double down = potential(pos, SHAPE, NULL, mass, MASS_SHAPE, NULL, 0.0);
        pos[i] = saved;
        worst = fmax(worst, fabs(g[i] - (up - down) / (2 * h)));
    }
    return worst;
}

int main(void) {
    double mass[N] = {1.0, 1.0, 1.0};
    double pos[N * D] = {0.97000436, -0.24308753, -0.97000436, 0.24308753, 0.0, 0.0};
    double vel[N * D] = {0.46620368, 0.43236573, 0.46620368, 0.43236573,
                         -0.93240737, -0.86473146};
    double start[N * D], dpot[N * D];
    memcpy(start, pos, sizeof pos);
    int steps = 20000;
    double dt = PERIOD / steps;

    printf("Figure-eight orbit of %d bodies, %d leapfrog steps of %.2e\n", N, steps, dt);
    double grad_error = gradient_check(pos, mass);
    printf("gradient check: max |Ember gradient - finite difference| = %.1e\n", grad_error);

    double e0 = total_energy(pos, vel, mass);
    potential_grad(pos, SHAPE, NULL, mass, MASS_SHAPE, NULL, 0.0, dpot);
    for (int s = 0; s < steps; s++) {  /* kick-drift-kick */
        kick(vel, SHAPE, NULL, dpot, SHAPE, NULL, mass, MASS_SHAPE, NULL, dt / 2);
        drift(pos, SHAPE, NULL, vel, SHAPE, NULL, dt);
        potential_grad(pos, SHAPE, NULL, mass, MASS_SHAPE, NULL, 0.0, dpot);
        kick(vel, SHAPE, NULL, dpot, SHAPE, NULL, mass, MASS_SHAPE, NULL, dt / 2);
    }
    double e1 = total_energy(pos, vel, mass);
    double drift_rel = fabs((e1 - e0) / e0);
    printf("energy: %.10f -> %.10f (relative drift %.1e)\n", e0, e1, drift_rel);

    double away = 0.0;
    for (int i = 0; i < N * D; i++) away = fmax(away, fabs(pos[i] - start[i]));
    printf("after one period the bodies are %.1e from where they started\n", away);

    int ok = grad_error < 1e-6 && drift_rel < 1e-8 && away < 1e-4;
    printf("%s\n", ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
}
