/* calc: small integer arithmetic. */
#ifndef CALC_H
#define CALC_H

int calc_add(int a, int b);
int calc_sub(int a, int b);
int calc_mul(int a, int b);

/*
 * Integer division rounding toward negative infinity (floor), so that
 * calc_div(-7, 2) is -4.  Division by zero returns 0.
 */
int calc_div(int a, int b);

#endif /* CALC_H */
