/* Calls every kind of function of the Ember-built libphysics_mod.so from C, through the
 * generated header; prints one line per result: a name, then numbers (%.17g or integers).
 * tests/aot/test_aot_c.py compiles it, runs it and compares each line with the JIT. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "physics_mod.h"

static void print_doubles(const char *name, const double *a, int64_t n) {
    printf("%s", name);
    for (int64_t i = 0; i < n; i++) printf(" %.17g", a[i]);
    printf("\n");
}

static const double POS[12] = {0.0, 0.0, 0.0, 1.0, 0.2, 0.0, 0.3, 1.1, -0.4, -0.7, 0.5, 0.9};
static const double V[4] = {1.0, -1.0, 0.5, 2.0};
static const double Q[4] = {0.0, 0.3, 0.5, 1.2};
static const double SEED[4] = {1.0, -1.0, 0.5, 2.0};

int main(void) {
    int64_t n4[1] = {4}, n3[1] = {3}, pos_shape[2] = {4, 3};
    double pos[12], pos_f[12];  /* row-major, and column-major (Fortran) copies of POS */
    memcpy(pos, POS, sizeof pos);
    for (int i = 0; i < 4; i++)
        for (int c = 0; c < 3; c++) pos_f[c * 4 + i] = POS[i * 3 + c];
    int64_t pos_f_strides[2] = {1, 4};  /* in elements */
    double v[4], q[4];  /* array parameters are `T*`: pass writable copies */
    memcpy(v, V, sizeof v);
    memcpy(q, Q, sizeof q);

    /* scalars in, scalar out */
    printf("kinetic %.17g\n", kinetic(2.0, 3.0, 4));

    /* 1-D arrays mutated in place: contiguous (NULL strides), then every other element */
    double x[4] = {0.0, 1.0, 2.0, 3.0};
    advance(x, n4, NULL, v, n4, NULL, 0.25);
    print_doubles("advance", x, 4);
    double wide[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    int64_t every_other[1] = {2}, unit[1] = {1};
    advance(wide, n4, every_other, v, n4, unit, 0.25);
    print_doubles("advance_strided", wide, 8);
    double backwards[4] = {0.0, 1.0, 2.0, 3.0};
    int64_t reverse[1] = {-1};  /* negative strides: the pointer is the first element visited */
    advance(backwards + 3, n4, reverse, v, n4, NULL, 0.25);
    print_doubles("advance_reversed", backwards, 4);

    /* 2-D reduction: row-major with NULL strides, column-major with explicit strides */
    printf("energy %.17g\n", energy(pos, pos_shape, NULL, 0.1));
    printf("energy_fortran %.17g\n", energy(pos_f, pos_shape, pos_f_strides, 0.1));

    /* tuple[float, int] */
    nearest_result near = nearest(pos, pos_shape, NULL, 1);
    printf("nearest %.17g %lld\n", near.v0, (long long)near.v1);

    /* an array allocated by the kernel, released by the caller */
    ember_array_float64_1d com = center(pos, pos_shape, NULL);
    printf("center_shape %lld %lld\n", (long long)com.shape[0], (long long)com.strides[0]);
    printf("center");
    for (int64_t c = 0; c < com.shape[0]; c++) printf(" %.17g", com.data[c * com.strides[0]]);
    printf("\n");
    ember_release(com.owner);
    double padded[4 * 5];  /* rows of 5 elements, of which the first 3 are used */
    for (int i = 0; i < 20; i++) padded[i] = 1e9;
    for (int i = 0; i < 4; i++)
        for (int c = 0; c < 3; c++) padded[i * 5 + c] = POS[i * 3 + c];
    int64_t padded_strides[2] = {5, 1};
    ember_array_float64_1d com2 = center(padded, pos_shape, padded_strides);
    printf("center_padded");
    for (int64_t c = 0; c < com2.shape[0]; c++) printf(" %.17g", com2.data[c * com2.strides[0]]);
    printf("\n");
    ember_release(com2.owner);

    /* f32 scalars and arrays */
    float x32[3] = {1.0f, 2.0f, 3.0f};
    float s32 = scale32(x32, n3, NULL, 0.3f);
    printf("scale32 %.17g %.17g %.17g %.17g\n", (double)s32, (double)x32[0], (double)x32[1],
           (double)x32[2]);

    /* a while loop */
    printf("relax %.17g\n", relax(0.3, 1.2));

    /* an array output */
    double forces[4];
    spring(q, n4, NULL, forces, n4, NULL, 2.0);
    print_doubles("spring", forces, 4);

    /* grad wrt an array: the value is returned, the gradient written into grad_pos */
    double g[12];
    memset(g, 0, sizeof g);
    double e = dforce(pos, pos_shape, NULL, 0.1, g);
    printf("dforce_value %.17g\n", e);
    print_doubles("dforce", g, 12);
    double g2[12];
    for (int i = 0; i < 12; i++) g2[i] = 1e6;  /* must be overwritten, not accumulated */
    dforce(pos_f, pos_shape, pos_f_strides, 0.1, g2);  /* the gradient is C-contiguous */
    print_doubles("dforce_fortran", g2, 12);

    /* value_and_grad wrt an array and a scalar */
    double gp[12], geps = 1e6;  /* gradient buffers are overwritten: start them dirty */
    for (int i = 0; i < 12; i++) gp[i] = -1e6;
    double val = energy_and_grads(pos, pos_shape, NULL, 0.1, gp, &geps);
    printf("energy_and_grads %.17g %.17g\n", val, geps);
    print_doubles("energy_and_grads_pos", gp, 12);

    /* grad through a while loop, wrt two scalars */
    double gx = 1e6, gk = -1e6;
    double y = drelax(0.3, 1.2, &gx, &gk);
    printf("drelax %.17g %.17g %.17g\n", y, gx, gk);

    /* vjp: cotangent of the output array, then gradients of q and stiffness */
    double out[4] = {0}, gq[4] = {7, 7, 7, 7}, gs = 7.0;
    spring_vjp(q, n4, NULL, out, n4, NULL, 2.0, SEED, gq, &gs);
    print_doubles("spring_vjp", gq, 4);
    printf("spring_vjp_stiffness %.17g\n", gs);
    print_doubles("spring_vjp_side_effect", out, 4);

    /* jvp: tangent of q in, tangent of the output array out */
    double out2[4] = {0}, tan_out[4] = {7, 7, 7, 7};
    spring_jvp(q, n4, NULL, out2, n4, NULL, 2.0, SEED, tan_out);
    print_doubles("spring_jvp", tan_out, 4);
    return 0;
}
