/* test_num.c - number parsing and formatting against strtod and round trips. */
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "mlpipe/num.h"
#include "testutil.h"

static const struct {
	const char *text;
	enum ml_num_status status;
} parse_cases[] = {
	{ "0", ML_NUM_OK },		{ "-0", ML_NUM_OK },		 { "42", ML_NUM_OK },
	{ "22661.05", ML_NUM_OK },	{ " 12 ", ML_NUM_OK },		 { "+3.5", ML_NUM_OK },
	{ ".5", ML_NUM_OK },		{ "5.", ML_NUM_OK },		 { "1e5", ML_NUM_OK },
	{ "1E-5", ML_NUM_OK },		{ "0.1", ML_NUM_OK },		 { "123456789012345678901234", ML_NUM_OK },
	{ "9007199254740993", ML_NUM_OK }, { "2.2250738585072014e-308", ML_NUM_OK },
	{ "4.9e-324", ML_NUM_OK },	{ "1e-400", ML_NUM_OK },	 { "1.7976931348623157e308", ML_NUM_OK },
	{ "0.000000000000000000000000000001", ML_NUM_OK },
	{ "", ML_NUM_MISSING },		{ "NA", ML_NUM_MISSING },	 { "nan", ML_NUM_MISSING },
	{ "NaN", ML_NUM_MISSING },	{ "null", ML_NUM_MISSING },	 { "  ", ML_NUM_MISSING },
	{ "1e400", ML_NUM_RANGE },	{ "-1e400", ML_NUM_RANGE },	 { "inf", ML_NUM_RANGE },
	{ "-Infinity", ML_NUM_RANGE },	{ "12k", ML_NUM_INVALID },	 { "1,5", ML_NUM_INVALID },
	{ "0x10", ML_NUM_INVALID },	{ "1e", ML_NUM_INVALID },	 { ".", ML_NUM_INVALID },
	{ "-", ML_NUM_INVALID },	{ "1.2.3", ML_NUM_INVALID },	 { "abc", ML_NUM_INVALID },
	{ "1 2", ML_NUM_INVALID },	{ "e5", ML_NUM_INVALID },
	/* four digits a word: a bad byte at each place in a word, next to digits */
	{ "0.5413", ML_NUM_OK },	{ "13.6996", ML_NUM_OK },	 { "-0.00001234", ML_NUM_OK },
	{ "12345678.87654321", ML_NUM_OK }, { "/234", ML_NUM_INVALID }, { "1/34", ML_NUM_INVALID },
	{ "12:4", ML_NUM_INVALID },	{ "123\x80", ML_NUM_INVALID },	 { "0.12\xff" "4", ML_NUM_INVALID },
	{ "9999.99x9", ML_NUM_INVALID }, { "1234 5678", ML_NUM_INVALID },
};

START_TEST(test_parse_table)
{
	double v;
	enum ml_num_status st = ml_parse_double(parse_cases[_i].text, strlen(parse_cases[_i].text), &v);
	ck_assert_msg(st == parse_cases[_i].status, "\"%s\": status %d, want %d", parse_cases[_i].text, st,
		      parse_cases[_i].status);
	if (st == ML_NUM_OK) {
		double want = strtod(parse_cases[_i].text, NULL);
		ck_assert_msg(memcmp(&v, &want, sizeof v) == 0, "\"%s\": %.17g, strtod %.17g", parse_cases[_i].text,
			      v, want);
	} else {
		ck_assert(isnan(v));
	}
}
END_TEST

/* Random decimal strings: every result must equal strtod's bit for bit. */
START_TEST(test_parse_matches_strtod)
{
	unsigned seed = 12345;
	char text[64];
	for (int i = 0; i < 200000; i++) {
		seed = seed * 1103515245u + 12345u;
		unsigned digits = 1 + (seed >> 8) % 19, frac = (seed >> 16) % (digits + 1);
		int n = 0;
		if (seed & 1)
			text[n++] = '-';
		for (unsigned d = 0; d < digits; d++) {
			seed = seed * 1103515245u + 12345u;
			if (d == digits - frac)
				text[n++] = '.';
			text[n++] = (char)('0' + (seed >> 16) % 10);
		}
		if ((seed >> 20) % 4 == 0)
			n += snprintf(text + n, sizeof text - (size_t)n, "e%d", (int)((seed >> 8) % 60) - 30);
		text[n] = '\0';
		double v, want = strtod(text, NULL);
		ck_assert_int_eq(ml_parse_double(text, (size_t)n, &v), ML_NUM_OK);
		ck_assert_msg(memcmp(&v, &want, sizeof v) == 0, "\"%s\": %.17g, strtod %.17g", text, v, want);
	}
}
END_TEST

START_TEST(test_format_round_trips)
{
	const double values[] = { 0, 1, -1, 0.1, 22661.05, 1e-300, 1e300, DBL_MAX, DBL_MIN, 4.9e-324,
				  123456789012345.0, 1e15, 1e16, -2.5, 3.141592653589793, 1.0 / 3 };
	char buf[ML_NUM_BUFSZ];
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		size_t n = ml_fmt_double(values[i], buf);
		ck_assert_uint_eq(n, strlen(buf));
		ck_assert_msg(strtod(buf, NULL) == values[i], "%.17g printed as %s", values[i], buf);
	}
	ck_assert_str_eq((ml_fmt_double(0.1, buf), buf), "0.1");
	ck_assert_str_eq((ml_fmt_double(42, buf), buf), "42");
	ck_assert_str_eq((ml_fmt_double(-7, buf), buf), "-7");
	ck_assert_uint_eq(ml_fmt_double(NAN, buf), 0);
}
END_TEST

START_TEST(test_format_float_shortest)
{
	char buf[ML_NUM_BUFSZ];
	ml_fmt_float(0.1f, buf);
	ck_assert_str_eq(buf, "0.1");
	ml_fmt_float(22661.05f, buf);
	ck_assert_float_eq(strtof(buf, NULL), 22661.05f);
	unsigned seed = 7;
	for (int i = 0; i < 100000; i++) {
		seed = seed * 1103515245u + 12345u;
		float f = (float)seed / 3.7f - 1e8f;
		ml_fmt_float(f, buf);
		ck_assert_msg(strtof(buf, NULL) == f, "%.9g printed as %s", (double)f, buf);
	}
}
END_TEST

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Every size path of ml_sort_doubles (comparisons, radix on the stack, radix on the heap) against qsort. */
START_TEST(test_sort_doubles)
{
	static const size_t sizes[] = { 0, 1, 2, 17, 95, 96, 300, 1024, 1025, 5000 };
	unsigned seed = 3;
	for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
		size_t n = sizes[t];
		double *v = malloc((n + 1) * sizeof *v), *w = malloc((n + 1) * sizeof *w);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			int r = (int)(seed >> 16) % 1000;
			v[i] = i % 50 == 7 ? -INFINITY : i % 50 == 9 ? INFINITY : i % 25 == 3 ? 1e-310 : (r - 500) * 0.37;
			w[i] = v[i];
		}
		ml_sort_doubles(v, n);
		qsort(w, n, sizeof *w, cmp_d);
		for (size_t i = 0; i < n; i++)
			ck_assert_msg(v[i] == w[i], "n %zu: [%zu] %g != %g", n, i, v[i], w[i]);
		free(v);
		free(w);
	}
	/* Long runs equal in the top bytes (1 + a few ulps) among values that vary everywhere: the fallback. */
	double *v = malloc(2000 * sizeof *v), *w = malloc(2000 * sizeof *w);
	for (size_t i = 0; i < 2000; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = w[i] = i % 2 ? 1.0 + (double)(seed >> 24) * DBL_EPSILON : (double)seed * 1e-3 - 2e6;
	}
	ml_sort_doubles(v, 2000);
	qsort(w, 2000, sizeof *w, cmp_d);
	ck_assert(memcmp(v, w, 2000 * sizeof *v) == 0);
	free(v);
	free(w);
	double z[100];
	for (int i = 0; i < 100; i++)
		z[i] = i % 2 ? 0.0 : -0.0;
	ml_sort_doubles(z, 100);
	ck_assert(signbit(z[0]) && !signbit(z[99]));	/* -0 before +0: still ascending */
}
END_TEST


/* ---- printf's %.17g and %lld, without printf ---- */

START_TEST(test_format_g17_is_printf)
{
	static const double edges[] = { 1, 0.1, 0.5, 1e-5, 1e-4, 9.9999999999999995e-5, 1e16, 1e17, 99999999999999999.0,
					1e15, 0.30000000000000004, 2.5, 1e-7, 5e-324, DBL_MAX, -0.0, 0.0, 100, 1e22, 1e23,
					123456789012345678.0, 0.000123, 1.0 / 3, 2.0 / 3, 0.9999999999999999 };
	char got[ML_NUM_BUFSZ], want[ML_NUM_BUFSZ];
	for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
		ml_fmt_g17(edges[i], got);
		snprintf(want, sizeof want, "%.17g", edges[i]);
		ck_assert_str_eq(got, want);
	}
	uint64_t r = 88172645463325252u;
	for (long i = 0; i < 200000; i++) {	/* 20M agreed when written; this many each run */
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		double v;
		if (i % 3 == 0)
			memcpy(&v, &r, sizeof v);	/* any bit pattern */
		else if (i % 3 == 1)
			v = (double)(float)((double)(r >> 11) / 9007199254740992.0);	/* a float threshold */
		else
			v = ldexp((double)(r >> 11), (int)(r % 140) - 120) * (r & 1 ? -1 : 1);
		if (!isfinite(v))
			continue;
		ml_fmt_g17(v, got);
		snprintf(want, sizeof want, "%.17g", v);
		ck_assert_msg(!strcmp(got, want), "%a: %s, printf %s", v, got, want);
	}
}
END_TEST

START_TEST(test_format_int64_is_printf)
{
	static const long long v[] = { 0, 1, -1, 9, 10, 99999999, 100000000, -100000000, 1234567890123456789LL,
				       9223372036854775807LL, -9223372036854775807LL - 1 };
	char got[ML_NUM_BUFSZ], want[ML_NUM_BUFSZ];
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		ck_assert_uint_eq(ml_fmt_int64(v[i], got), strlen(got));
		snprintf(want, sizeof want, "%lld", v[i]);
		ck_assert_str_eq(got, want);
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("num");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_parse_table, 0, sizeof parse_cases / sizeof parse_cases[0]);
	tcase_add_test(tc, test_sort_doubles);
	tcase_add_test(tc, test_parse_matches_strtod);
	tcase_add_test(tc, test_format_round_trips);
	tcase_add_test(tc, test_format_float_shortest);
	tcase_add_test(tc, test_format_g17_is_printf);
	tcase_add_test(tc, test_format_int64_is_printf);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
