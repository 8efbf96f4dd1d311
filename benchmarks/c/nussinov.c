/* PolyBench nussinov (see suite_kernels.nussinov): table is n x n int64, row-major. */
#include <stdint.h>

#define T(i, j) table[(i) * n + (j)]

static inline int64_t max2(int64_t a, int64_t b) { return a > b ? a : b; }

void nussinov(const int64_t *seq, int64_t *table, int64_t n)
{
    for (int64_t i = 0; i < n * n; i++)
        table[i] = 0;
    for (int64_t i = n - 1; i >= 0; i--)
        for (int64_t j = i + 1; j < n; j++) {
            int64_t best = T(i, j);
            if (j - 1 >= 0)
                best = max2(best, T(i, j - 1));
            if (i + 1 < n)
                best = max2(best, T(i + 1, j));
            if (j - 1 >= 0 && i + 1 < n) {
                if (i < j - 1)
                    best = max2(best, T(i + 1, j - 1) + (seq[i] + seq[j] == 3 ? 1 : 0));
                else
                    best = max2(best, T(i + 1, j - 1));
            }
            for (int64_t k = i + 1; k < j; k++)
                best = max2(best, T(i, k) + T(k + 1, j));
            T(i, j) = best;
        }
}
