/* Insertion sort of a copy of src (see suite_kernels.insertion_sort). */
#include <stdint.h>

void insertion_sort(const double *src, double *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        a[i] = src[i];
    for (int64_t i = 1; i < n; i++) {
        double v = a[i];
        int64_t j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}
