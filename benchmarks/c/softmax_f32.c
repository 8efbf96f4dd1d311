/* Row-wise float32 softmax (see suite_kernels.softmax_f32): x and out are rows x cols. */
#include <math.h>
#include <stdint.h>

void softmax_f32(const float *x, float *out, int64_t rows, int64_t cols)
{
    for (int64_t i = 0; i < rows; i++) {
        const float *xi = x + i * cols;
        float *oi = out + i * cols;
        float m = xi[0];
        for (int64_t j = 1; j < cols; j++)
            m = xi[j] > m ? xi[j] : m;
        float s = 0.0f;
        for (int64_t j = 0; j < cols; j++) {
            float e = expf(xi[j] - m);
            oi[j] = e;
            s += e;
        }
        for (int64_t j = 0; j < cols; j++)
            oi[j] = oi[j] / s;
    }
}
