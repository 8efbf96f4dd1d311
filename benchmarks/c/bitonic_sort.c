/* Bitonic sorting network on a copy of src, n a power of two (see suite_kernels.bitonic_sort). */
#include <stdint.h>

void bitonic_sort(const double *src, double *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        a[i] = src[i];
    for (int64_t k = 2; k <= n; k *= 2)
        for (int64_t j = k / 2; j > 0; j /= 2)
            for (int64_t i = 0; i < n; i++) {
                int64_t partner = i ^ j;
                if (partner > i) {
                    int up = (i & k) == 0;
                    if ((a[i] > a[partner]) == up) {
                        double t = a[i];
                        a[i] = a[partner];
                        a[partner] = t;
                    }
                }
            }
}
