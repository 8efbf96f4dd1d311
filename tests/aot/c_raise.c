/* Calls the functions of raising_mod.py through libraising_mod.so, prints one line per call:
   the name, the status, then the result or the error text. */
#include <stdio.h>

#include "raising_mod.h"

static void error_or(const char* name, int status, double value) {
  if (status) printf("%s %d %s\n", name, status, raising_mod_last_error());
  else printf("%s %d %.17g\n", name, status, value);
}

int main(void) {
  double x[3] = {0.5, 1.5, 4.0}, grad[3], r = 0.0;
  int64_t shape[1] = {3};
  int s = checked_sum(x, shape, NULL, 10.0, &r);  /* C leaves argument order open: call first */
  error_or("sum_ok", s, r);
  s = checked_sum(x, shape, NULL, 2.0, &r);
  error_or("sum_raise", s, r);
  s = checked_sum(x, shape, NULL, 10.0, &r);
  error_or("after_raise", s, r);
  printf("no_error %d\n", raising_mod_last_error() == NULL);
  ember_array_float64_1d a;
  s = ones(4, &a);
  error_or("ones_ok", s, s ? 0.0 : a.data[3] + (double)a.shape[0]);
  if (!s) ember_release(a.owner);
  s = ones(0, &a);
  error_or("ones_raise", s, 0.0);
  s = pick(x, shape, NULL, -1, &r);
  error_or("pick_ok", s, r);
  s = pick(x, shape, NULL, 3, &r);
  error_or("pick_raise", s, r);
  s = dsum(x, shape, NULL, 10.0, grad, &r);
  error_or("dsum_ok", s, grad[2]);
  s = dsum(x, shape, NULL, 1.0, grad, &r);
  error_or("dsum_raise", s, r);
  halve(x, shape, NULL);
  printf("halve %.17g\n", x[0]);
  return 0;
}
