/* Longest common subsequence with one DP row (see suite_kernels.lcs). */
#include <stdint.h>

int64_t lcs(const uint8_t *a, const uint8_t *b, int64_t *row, int64_t n, int64_t m)
{
    for (int64_t j = 0; j <= m; j++)
        row[j] = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t diag = 0;
        uint8_t ai = a[i];
        for (int64_t j = 1; j <= m; j++) {
            int64_t up = row[j];
            if (ai == b[j - 1])
                row[j] = diag + 1;
            else
                row[j] = up > row[j - 1] ? up : row[j - 1];
            diag = up;
        }
    }
    return row[m];
}
