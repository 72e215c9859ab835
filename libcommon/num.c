/*
 * num.c - exact, fast conversion between decimal text and doubles.
 *
 * ml_parse_double validates the whole token with its own scanner (so "0x10",
 * "1,5" or "12k" are never half-accepted the way strtod would), converts the
 * common case exactly with Clinger's fast path, and leaves every other case
 * to strtod, which rounds correctly.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mlpipe/num.h"

/* Powers of ten that are exact in a double (10^22 is the largest). */
static const double exact_pow10[] = {
	1e0,  1e1,  1e2,  1e3,	1e4,  1e5,  1e6,  1e7,	1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#define MAX_FAST_DIGITS 19	/* fits a uint64_t */
#define MAX_EXACT_MANTISSA (UINT64_C(1) << 53)

static const char *const missing_tokens[] = { "NA", "N/A", "NaN", "null", "None" };

int ml_is_missing_token(const char *s, size_t len)
{
	if (len == 0)
		return 1;
	for (size_t i = 0; i < sizeof missing_tokens / sizeof missing_tokens[0]; i++)
		if (strlen(missing_tokens[i]) == len && !strncasecmp(s, missing_tokens[i], len))
			return 1;
	return 0;
}

static int is_infinity_token(const char *s, size_t len)
{
	if (len && (*s == '+' || *s == '-')) {
		s++;
		len--;
	}
	return (len == 3 && !strncasecmp(s, "inf", 3)) || (len == 8 && !strncasecmp(s, "infinity", 8));
}

/* The parts of a decimal number, as found by scan_decimal. */
struct decimal {
	int negative;
	uint64_t mantissa;	/* first MAX_FAST_DIGITS significant digits */
	int digits;		/* significant digits seen (may exceed the fast limit) */
	long exp10;		/* value = mantissa * 10^exp10 when digits <= MAX_FAST_DIGITS */
};

static long scan_exponent(const char **pp, const char *end, int *ok)
{
	const char *p = *pp;
	int neg = 0;
	long e = 0;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (p == end || !isdigit((unsigned char)*p)) {
		*ok = 0;
		return 0;
	}
	for (; p < end && isdigit((unsigned char)*p); p++)
		if (e < 100000)	/* beyond this every double under/overflows anyway */
			e = e * 10 + (*p - '0');
	*pp = p;
	*ok = 1;
	return neg ? -e : e;
}

/* Grammar: [+-]? (D+ (. D*)? | . D+) ([eE] [+-]? D+)?  Returns 0 if valid. */
static int scan_decimal(const char *p, const char *end, struct decimal *d)
{
	int any_digit = 0, ok = 1;
	memset(d, 0, sizeof *d);
	if (p < end && (*p == '+' || *p == '-'))
		d->negative = *p++ == '-';
	for (; p < end && isdigit((unsigned char)*p); p++) {
		any_digit = 1;
		if (d->digits == 0 && *p == '0')
			continue;	/* leading zeros are not significant */
		if (d->digits < MAX_FAST_DIGITS)
			d->mantissa = d->mantissa * 10 + (uint64_t)(*p - '0');
		else
			d->exp10++;
		d->digits++;
	}
	if (p < end && *p == '.') {
		for (p++; p < end && isdigit((unsigned char)*p); p++) {
			any_digit = 1;
			if (d->digits == 0 && *p == '0') {
				d->exp10--;
				continue;
			}
			if (d->digits < MAX_FAST_DIGITS) {
				d->mantissa = d->mantissa * 10 + (uint64_t)(*p - '0');
				d->exp10--;
			}
			d->digits++;
		}
	}
	if (!any_digit)
		return -1;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		d->exp10 += scan_exponent(&p, end, &ok);
		if (!ok)
			return -1;
	}
	return p == end ? 0 : -1;
}

static enum ml_num_status slow_parse(const char *s, size_t len, double *out)
{
	char stack[128];
	char *tmp = len < sizeof stack ? stack : malloc(len + 1);
	if (!tmp)
		return ML_NUM_INVALID;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	double v = strtod(tmp, NULL);
	int range = errno == ERANGE && isinf(v);
	if (tmp != stack)
		free(tmp);
	if (range)
		return ML_NUM_RANGE;
	*out = v;	/* underflow to a denormal or zero is a fine answer */
	return ML_NUM_OK;
}

enum ml_num_status ml_parse_double(const char *s, size_t len, double *out)
{
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	*out = NAN;
	if (ml_is_missing_token(s, len))
		return ML_NUM_MISSING;

	struct decimal d;
	if (scan_decimal(s, s + len, &d) < 0)
		return is_infinity_token(s, len) ? ML_NUM_RANGE : ML_NUM_INVALID;
	if (d.digits == 0) {
		*out = d.negative ? -0.0 : 0.0;
		return ML_NUM_OK;
	}
	if (d.digits <= MAX_FAST_DIGITS && d.mantissa <= MAX_EXACT_MANTISSA &&
	    d.exp10 >= -22 && d.exp10 <= 22) {
		double v = (double)d.mantissa;	/* exact: mantissa <= 2^53 */
		v = d.exp10 < 0 ? v / exact_pow10[-d.exp10] : v * exact_pow10[d.exp10];
		*out = d.negative ? -v : v;
		return ML_NUM_OK;
	}
	return slow_parse(s, len, out);
}

/* Integers print without a fraction; the common case for counts and ids. */
static size_t fmt_integer(double v, char *buf)
{
	char tmp[24];
	int neg = v < 0;
	uint64_t u = (uint64_t)(neg ? -v : v);
	size_t n = 0, len = 0;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (neg)
		buf[len++] = '-';
	while (n)
		buf[len++] = tmp[--n];
	buf[len] = '\0';
	return len;
}

size_t ml_fmt_double(double v, char *buf)
{
	if (isnan(v)) {
		buf[0] = '\0';
		return 0;
	}
	if (fabs(v) < 1e15 && v == (double)(int64_t)v && !(v == 0 && signbit(v)))
		return fmt_integer(v, buf);
	/* Shortest of %.15g .. %.17g that reads back exactly. */
	for (int prec = 15; prec <= 17; prec++) {
		int n = snprintf(buf, ML_NUM_BUFSZ, "%.*g", prec, v);
		if (prec == 17 || strtod(buf, NULL) == v)
			return (size_t)n;
	}
	return 0;	/* not reached */
}

size_t ml_fmt_float(float v, char *buf)
{
	if (isnan(v)) {
		buf[0] = '\0';
		return 0;
	}
	if (fabsf(v) < 1e7f && v == (float)(int32_t)v && !(v == 0 && signbit(v)))
		return fmt_integer(v, buf);
	for (int prec = 6; prec <= 9; prec++) {
		int n = snprintf(buf, ML_NUM_BUFSZ, "%.*g", prec, (double)v);
		if (prec == 9 || strtof(buf, NULL) == v)
			return (size_t)n;
	}
	return 0;
}
