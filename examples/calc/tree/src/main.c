/* calc A OP B: prints the result of one operation. */
#include <stdio.h>
#include <stdlib.h>
#include "calc.h"

int main(int argc, char **argv)
{
	int a, b;

	if (argc != 4 || argv[2][0] == '\0' || argv[2][1] != '\0') {
		fprintf(stderr, "usage: calc A OP B   (OP is one of + - x /)\n");
		return 2;
	}
	a = atoi(argv[1]);
	b = atoi(argv[3]);
	switch (argv[2][0]) {
	case '+': printf("%d\n", calc_add(a, b)); break;
	case '-': printf("%d\n", calc_sub(a, b)); break;
	case 'x': printf("%d\n", calc_mul(a, b)); break;
	case '/': printf("%d\n", calc_div(a, b)); break;
	default:
		fprintf(stderr, "calc: unknown operator '%s'\n", argv[2]);
		return 2;
	}
	return 0;
}
