/*
 * gen_csv.c - the benchmark's input: ROWS rows of 21 numeric columns (a
 * label and 20 features, as in DESIGN.md's measurements), deterministic.
 *
 *     gen_csv [ROWS] [SEED] > numeric.csv      (header: y,x1,...,x20)
 *     gen_csv ROWS SEED --no-header             (data rows only)
 *     gen_csv ROWS SEED --categorical           (3 more columns: make, type, color)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t next(uint64_t *s)
{
	/* splitmix64: fast, good enough for test data */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
	long rows = argc > 1 ? atol(argv[1]) : 1000000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
	int header = !(argc > 3 && !strcmp(argv[3], "--no-header"));
	int categorical = argc > 3 && !strcmp(argv[3], "--categorical");
	static const char *const makes[] = { "Buick", "Cadillac", "Chevy", "Pontiac", "Saab", "Saturn" };
	static const char *const types[] = { "convertible", "coupe", "hatchback", "sedan", "wagon" };
	static const char *const colors[] = { "black", "white", "silver", "red", "blue", "green", "grey", "" };
	static char buf[1 << 16];
	setvbuf(stdout, buf, _IOFBF, sizeof buf);
	if (header) {
		fputs("y", stdout);
		for (int j = 1; j <= 20; j++)
			printf(",x%d", j);
		fputs(categorical ? ",make,type,color\n" : "\n", stdout);
	}
	for (long i = 0; i < rows; i++) {
		double y = 0;
		char line[512];
		int n = 0;
		double x[20];
		for (int j = 0; j < 20; j++) {
			uint64_t r = next(&seed);
			x[j] = (double)(r % 2000000) / 1000.0 - 1000.0;	/* 3 decimals */
			y += x[j] * (j + 1);
		}
		n += snprintf(line + n, sizeof line - (size_t)n, "%.4f", y);
		for (int j = 0; j < 20; j++)
			n += snprintf(line + n, sizeof line - (size_t)n, ",%.3f", x[j]);
		if (categorical) {
			uint64_t r = next(&seed);
			n += snprintf(line + n, sizeof line - (size_t)n, ",%s,%s,%s", makes[r % 6], types[(r >> 8) % 5],
				      colors[(r >> 16) % 8]);	/* "" = a missing color */
		}
		line[n++] = '\n';
		fwrite(line, 1, (size_t)n, stdout);
	}
	return fflush(stdout) ? 1 : 0;
}
