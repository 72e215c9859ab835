/*
 * gen_csv.c - the benchmark's input: ROWS rows of 21 numeric columns (a
 * label and 20 features, as in DESIGN.md's measurements), deterministic.
 *
 *     gen_csv [ROWS] [SEED] > numeric.csv      (header: y,x1,...,x20)
 *     gen_csv ROWS SEED --no-header             (data rows only)
 *     gen_csv ROWS SEED --categorical           (3 more columns: make, type, color)
 *     gen_csv ROWS SEED --friedman [--no-header]
 *
 * --friedman is the gbtree benchmark's regression (Friedman #1): x1..x20
 * uniform on [0, 1) with 4 decimals, y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2
 * + 10 x4 + 5 x5 + N(0, 1) noise, so x6..x20 are pure noise features.  Its
 * numbers are formatted by hand: fast enough to stream 10,000,000 rows
 * through a pipe (about 1.5 GB) without the generator being the bottleneck.
 */
#include <math.h>
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

/* [0, 1) from the top 53 bits */
static double uniform(uint64_t *s)
{
	return (double)(next(s) >> 11) * 0x1.0p-53;
}

/* "d.dddd" for v in [0, 10) given as an integer count of 1e-4. */
static char *put_fixed4(char *p, long v)
{
	if (v >= 100000) {	/* two or more integer digits */
		char tmp[24];
		int n = 0;
		long ip = v / 10000;
		while (ip) {
			tmp[n++] = (char)('0' + ip % 10);
			ip /= 10;
		}
		while (n)
			*p++ = tmp[--n];
	} else {
		*p++ = (char)('0' + v / 10000);
	}
	v %= 10000;
	*p++ = '.';
	*p++ = (char)('0' + v / 1000);
	*p++ = (char)('0' + v / 100 % 10);
	*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

static int friedman(long rows, uint64_t seed, int header)
{
	static char buf[1 << 16];
	setvbuf(stdout, buf, _IOFBF, sizeof buf);
	if (header) {
		fputs("y", stdout);
		for (int j = 1; j <= 20; j++)
			printf(",x%d", j);
		fputs("\n", stdout);
	}
	const double pi = 3.14159265358979323846;
	for (long i = 0; i < rows; i++) {
		char line[256], *p = line;
		long q[20];
		double x[20];
		for (int j = 0; j < 20; j++) {
			q[j] = (long)(next(&seed) % 10000);	/* 4 decimals, and x is exactly what is printed */
			x[j] = (double)q[j] / 10000.0;
		}
		/* Box-Muller: one standard normal per row */
		double u1 = uniform(&seed), u2 = uniform(&seed);
		double noise = sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * pi * u2);
		double y = 10.0 * sin(pi * x[0] * x[1]) + 20.0 * (x[2] - 0.5) * (x[2] - 0.5) + 10.0 * x[3] +
			   5.0 * x[4] + noise;
		long yq = lround(y * 10000.0);
		if (yq < 0) {
			*p++ = '-';
			yq = -yq;
		}
		p = put_fixed4(p, yq);
		for (int j = 0; j < 20; j++) {
			*p++ = ',';
			p = put_fixed4(p, q[j]);
		}
		*p++ = '\n';
		fwrite(line, 1, (size_t)(p - line), stdout);
	}
	return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	long rows = argc > 1 ? atol(argv[1]) : 1000000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
	int header = 1, categorical = 0, regression = 0;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--no-header"))
			header = 0;
		else if (!strcmp(argv[i], "--categorical"))
			categorical = 1;
		else if (!strcmp(argv[i], "--friedman"))
			regression = 1;
		else {
			fprintf(stderr, "gen_csv: unknown option %s\n", argv[i]);
			return 64;
		}
	}
	if (regression)
		return friedman(rows, seed, header);
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
