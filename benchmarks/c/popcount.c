/* SWAR bit count of non-negative 64-bit words (see suite_kernels.popcount). */
#include <stdint.h>

int64_t popcount(const int64_t *x, int64_t n)
{
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t v = x[i];
        v = v - ((v >> 1) & 0x5555555555555555);
        v = (v & 0x3333333333333333) + ((v >> 2) & 0x3333333333333333);
        v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0F;
        v = v + (v >> 8);
        v = v + (v >> 16);
        v = v + (v >> 32);
        c += v & 0x7F;
    }
    return c;
}
