/* PolyBench floyd-warshall (see suite_kernels.floyd_warshall): n x n int64, row-major. */
#include <stdint.h>

void floyd_warshall(const int64_t *d0, int64_t *d, int64_t n)
{
    for (int64_t i = 0; i < n * n; i++)
        d[i] = d0[i];
    for (int64_t k = 0; k < n; k++)
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < n; j++) {
                int64_t via = d[i * n + k] + d[k * n + j];
                if (via < d[i * n + j])
                    d[i * n + j] = via;
            }
}
