/* Row-wise softmax (see suite_kernels.softmax): x and out are rows x cols, row-major. */
#include <math.h>
#include <stdint.h>

void softmax(const double *x, double *out, int64_t rows, int64_t cols)
{
    for (int64_t i = 0; i < rows; i++) {
        const double *xi = x + i * cols;
        double *oi = out + i * cols;
        double m = xi[0];
        for (int64_t j = 1; j < cols; j++)
            m = xi[j] > m ? xi[j] : m;
        double s = 0.0;
        for (int64_t j = 0; j < cols; j++) {
            double e = exp(xi[j] - m);
            oi[j] = e;
            s += e;
        }
        for (int64_t j = 0; j < cols; j++)
            oi[j] = oi[j] / s;
    }
}
