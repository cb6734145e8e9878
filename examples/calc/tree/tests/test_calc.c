/* Unit tests of calc, one TAP line per check (TAP version 13). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>
#include "../src/calc.h"

static int count, failures;

static void ok(int passed, const char *name)
{
	count++;
	if (!passed)
		failures++;
	printf("%s %d - %s\n", passed ? "ok" : "not ok", count, name);
}

/*
 * Timing-sensitive: this check fails about one run in three.  The
 * microseconds of the monotonic clock stand in for scheduler noise.
 */
static int fast_enough(void)
{
	struct timespec t;
	volatile int sum = 0;
	int i;

	for (i = 0; i < 1000; i++)
		sum = calc_add(sum, i);
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_nsec / 1000) % 3 != 0;
}

int main(void)
{
	printf("TAP version 13\n");
	ok(calc_add(2, 3) == 5, "add");
	ok(calc_add(-2, -3) == -5, "add negatives");
	ok(calc_sub(5, 7) == -2, "sub");
	ok(calc_mul(6, 7) == 42, "mul");
	ok(calc_mul(3, -4) == -12, "mul negative");
	ok(calc_div(7, 2) == 3, "div");
	/* Known bug: calc_div truncates toward zero, calc.h promises floor. */
	ok(calc_div(-7, 2) == -4, "div rounds down for negatives");
	ok(calc_div(1, 0) == 0, "div by zero gives 0");
	ok(fast_enough(), "add is fast enough");
	printf("1..%d\n", count);
	return failures ? 1 : 0;
}
