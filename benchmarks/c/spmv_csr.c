/* CSR sparse matrix-vector product (see suite_kernels.spmv_csr). */
#include <stdint.h>

void spmv_csr(const int64_t *indptr, const int64_t *indices, const double *data,
              const double *x, double *y, int64_t rows)
{
    for (int64_t i = 0; i < rows; i++) {
        double s = 0.0;
        for (int64_t k = indptr[i]; k < indptr[i + 1]; k++)
            s += data[k] * x[indices[k]];
        y[i] = s;
    }
}
