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

static const struct {
	const char *text;
	size_t len;
} missing_tokens[] = { { "NA", 2 }, { "N/A", 3 }, { "NaN", 3 }, { "null", 4 }, { "None", 4 } };

/* isdigit() without the locale table lookup: this runs once per character of input. */
static inline int is_digit(char c)
{
	return (unsigned char)(c - '0') < 10;
}

int ml_is_missing_token(const char *s, size_t len)
{
	if (len == 0)
		return 1;
	if (is_digit(s[0]) || s[0] == '-' || s[0] == '.')
		return 0;	/* the common case: a number */
	for (size_t i = 0; i < sizeof missing_tokens / sizeof missing_tokens[0]; i++)
		if (missing_tokens[i].len == len && !strncasecmp(s, missing_tokens[i].text, len))
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
	if (p == end || !is_digit(*p)) {
		*ok = 0;
		return 0;
	}
	for (; p < end && is_digit(*p); p++)
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
	for (; p < end && is_digit(*p); p++) {
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
		for (p++; p < end && is_digit(*p); p++) {
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

/* The value of the four digits at p, or -1 if one of them is not a digit: one word, not four bytes. */
static inline int four_digits(const char *p)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t w;
	memcpy(&w, p, sizeof w);
	uint32_t d = w - 0x30303030u;	/* bytes '0'..'9' become 0..9 */
	if (((d + 0x76767676u) | d) & 0x80808080u)	/* a byte over 9, or below '0' */
		return -1;
	d = d * 10 + (d >> 8);	/* bytes 0 and 2: 10 * b0 + b1, 10 * b2 + b3 */
	return (int)((d & 0xff) * 100 + ((d >> 16) & 0xff));
#else
	(void)p;
	return -1;
#endif
}

/* Digits from p on (not past end) appended to *m; where they stop. */
static inline const char *scan_digits(const char *p, const char *end, uint64_t *m)
{
	int v;
	while (end - p >= 4 && (v = four_digits(p)) >= 0) {
		*m = *m * 10000 + (uint64_t)v;
		p += 4;
	}
	for (; p < end && is_digit(*p); p++)
		*m = *m * 10 + (uint64_t)(*p - '0');
	return p;
}

/*
 * The shape most numbers in data have, [-]digits[.digits] with at most 19
 * digits whose value fits in 53 bits, four digits a step; 1 if s was that
 * shape.  The division by an exact power of ten is correctly rounded, as
 * strtod.
 */
static inline int parse_plain(const char *s, size_t len, double *out)
{
	const char *p = s, *end = s + len, *digits;
	int negative = p < end && *p == '-';
	uint64_t m = 0;
	p += negative;
	digits = p;
	p = scan_digits(p, end, &m);
	size_t whole = (size_t)(p - digits), frac = 0;
	if (p < end && *p == '.') {
		digits = ++p;
		p = scan_digits(p, end, &m);
		frac = (size_t)(p - digits);
	}
	if (p != end || whole + frac == 0 || whole + frac > MAX_FAST_DIGITS || m > MAX_EXACT_MANTISSA)
		return 0;
	double v = frac ? (double)m / exact_pow10[frac] : (double)m;
	*out = negative ? -v : v;
	return 1;
}

/* Everything but the plain shape: spaces, missing tokens, exponents, long mantissas (kept out of line). */
static __attribute__((noinline)) enum ml_num_status parse_general(const char *s, size_t len, double *out)
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

enum ml_num_status ml_parse_double(const char *s, size_t len, double *out)
{
	return parse_plain(s, len, out) ? ML_NUM_OK : parse_general(s, len, out);
}

/* Integers print without a fraction; the common case for counts and ids. */
static size_t put_uint(uint64_t u, char *buf);

static size_t fmt_integer(double v, char *buf)
{
	size_t len = 0;
	if (v < 0)
		buf[len++] = '-';
	len += put_uint((uint64_t)fabs(v), buf + len);
	buf[len] = '\0';
	return len;
}

/*
 * Formatting: the fewest of 15, 16 or 17 significant digits that read back
 * as exactly v, without printf on the hot path.  v = f * 2^-shift exactly;
 * the decimal n * 10^-q nearest to it is found with 128-bit integers, and it
 * reads back as v when it lies strictly inside v's rounding interval, i.e.
 * |n * 2^shift - f * 10^q| < 10^q / 2 (a quarter below a power of two).
 * 17 digits always do.
 */
struct digits {
	uint64_t m;	/* significant digits */
	int exp10;	/* value = m * 10^exp10 */
};

typedef unsigned __int128 u128;

static const uint64_t pow10_u64[20] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
	10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
	1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000,
	10000000000000000000u,
};

static u128 pow10_u128(int q)	/* 0 <= q <= 38 */
{
	return q <= 19 ? pow10_u64[q] : (u128)pow10_u64[19] * pow10_u64[q - 19];
}

/* want >> shift rounded to nearest, ties to even. */
static uint64_t round_shift(u128 want, int shift)
{
	u128 n = want >> shift;
	u128 rem = want - (n << shift), half = (u128)1 << (shift - 1);
	if (rem > half || (rem == half && (n & 1)))
		n++;
	return (uint64_t)n;
}

/* Does n * 10^-q read back as f * 2^-shift?  want = f * 10^q. */
static int reads_back(uint64_t n, u128 want, u128 p10, uint64_t f, int shift)
{
	u128 got = (u128)n << shift;
	u128 diff = got > want ? got - want : want - got;
	if (got < want && f == UINT64_C(1) << 52)
		return 4 * diff < p10;	/* the gap below a power of two is half */
	return 2 * diff < p10;
}

/*
 * The k-digit decimal nearest to v, from n17 (itself rounded, so on a tie
 * either neighbour may be the nearer), if it reads back as v.  The farther
 * neighbour can only read back when the nearer one is a tie or v sits just
 * above a power of two, where the rounding interval is lopsided.
 */
static int shorter(uint64_t n17, uint64_t div, u128 want, u128 p10, uint64_t f, int shift,
		   uint64_t *out)
{
	uint64_t lo = n17 / div, rem = n17 % div;
	uint64_t nearer = 2 * rem >= div ? lo + 1 : lo;
	if (reads_back(nearer, want, p10, f, shift))
		return *out = nearer, 1;
	uint64_t farther = nearer == lo ? lo + 1 : lo;
	if ((2 * rem == div || f == UINT64_C(1) << 52) && reads_back(farther, want, p10, f, shift))
		return *out = farther, 1;
	return 0;
}

/* A first guess at floor(log10(a)) from the binary exponent; may be one low. */
static int decimal_exponent_guess(int binary_exp)
{
	/* 78913 / 2^18 ~ log10(2); arithmetic shift floors negative values too. */
	return ((binary_exp - 1) * 78913) >> 18;
}

static int shortest_digits(double a, struct digits *d)
{
	int ex;
	uint64_t f = (uint64_t)ldexp(frexp(a, &ex), 53);
	int shift = 53 - ex;
	if (shift < 1 || shift > 120)
		return -1;	/* huge integers and tiny values: left to printf */
	int E = decimal_exponent_guess(ex);
	for (int attempt = 0; attempt < 2; attempt++, E++) {
		int q = 16 - E;	/* 17 significant digits */
		if (q < 2 || q > 22)
			return -1;
		u128 p15 = pow10_u128(q - 2), want15 = (u128)f * p15;
		u128 want16 = want15 * 10, want17 = want16 * 10;
		uint64_t n17 = round_shift(want17, shift);
		if (n17 < pow10_u64[16])
			return -1;	/* cannot happen: the guess is never high */
		if (n17 > pow10_u64[17])
			continue;	/* the guess was one low: 18 digits */
		/* 15 digits can read back only if n17 is within ~12 of a multiple of 100
		 * (the rounding interval spans at most 2^-53 of v); skip the test otherwise. */
		uint64_t r100 = n17 % 100;
		if ((r100 <= 12 || r100 >= 88) && shorter(n17, 100, want15, p15, f, shift, &d->m)) {
			d->exp10 = 2 - q;
		} else if (shorter(n17, 10, want16, p15 * 10, f, shift, &d->m)) {
			d->exp10 = 1 - q;
		} else {
			d->m = n17;
			d->exp10 = -q;
		}
		while (d->m % 10 == 0) {
			d->m /= 10;
			d->exp10++;
		}
		return 0;
	}
	return -1;
}

static const char two_digits[201] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";

/* Exactly eight digits of x < 10^8, as two independent halves (ILP). */
static void put_8digits(uint32_t x, char *buf)
{
	uint32_t hi = x / 10000, lo = x % 10000;
	memcpy(buf, two_digits + 2 * (hi / 100), 2);
	memcpy(buf + 2, two_digits + 2 * (hi % 100), 2);
	memcpy(buf + 4, two_digits + 2 * (lo / 100), 2);
	memcpy(buf + 6, two_digits + 2 * (lo % 100), 2);
}

static size_t put_small(uint32_t x, char *buf)	/* x < 10^8, no leading zeros */
{
	char tmp[8];
	put_8digits(x, tmp);
	size_t skip = 0;
	while (skip < 7 && tmp[skip] == '0')
		skip++;
	memcpy(buf, tmp + skip, 8 - skip);
	return 8 - skip;
}

/* The decimal digits of u, eight at a time rather than one divide per digit. */
static size_t put_uint(uint64_t u, char *buf)
{
	if (u < 100000000)
		return put_small((uint32_t)u, buf);
	size_t len;
	if (u < UINT64_C(10000000000000000)) {
		len = put_small((uint32_t)(u / 100000000), buf);
	} else {
		uint64_t top = u / 100000000;
		len = put_small((uint32_t)(top / 100000000), buf);
		put_8digits((uint32_t)(top % 100000000), buf + len);
		len += 8;
	}
	put_8digits((uint32_t)(u % 100000000), buf + len);
	return len + 8;
}

size_t ml_fmt_int64(long long v, char *buf)
{
	size_t len = 0;
	unsigned long long u = (unsigned long long)v;
	if (v < 0) {
		buf[len++] = '-';
		u = 0 - u;	/* LLONG_MIN too */
	}
	len += put_uint(u, buf + len);
	buf[len] = '\0';
	return len;
}

/* As printf's %g would lay the digits out: fixed for 1e-5 <= |v| < 1e17. */
static size_t layout(int negative, const struct digits *d, char *buf)
{
	char dig[24];
	size_t nd = put_uint(d->m, dig), len = 0;
	int point = (int)nd + d->exp10;	/* digits before the decimal point */
	if (negative)
		buf[len++] = '-';
	if (point > 17 || point < -3) {	/* %.17g's rule */
		buf[len++] = dig[0];
		if (nd > 1) {
			buf[len++] = '.';
			memcpy(buf + len, dig + 1, nd - 1);
			len += nd - 1;
		}
		int x = point - 1;
		len += (size_t)sprintf(buf + len, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
	} else if (point <= 0) {
		buf[len++] = '0';
		buf[len++] = '.';
		for (int i = point; i < 0; i++)
			buf[len++] = '0';
		memcpy(buf + len, dig, nd);
		len += nd;
	} else {
		for (int i = 0; i < point; i++)
			buf[len++] = i < (int)nd ? dig[i] : '0';
		if ((int)nd > point) {
			buf[len++] = '.';
			memcpy(buf + len, dig + point, nd - (size_t)point);
			len += nd - (size_t)point;
		}
	}
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
	struct digits d;
	if (isfinite(v) && v != 0 && shortest_digits(fabs(v), &d) == 0)
		return layout(signbit(v) != 0, &d, buf);
	/* Tiny, huge and infinite values: rare enough for printf. */
	for (int prec = 15; prec <= 17; prec++) {
		int n = snprintf(buf, ML_NUM_BUFSZ, "%.*g", prec, v);
		if (prec == 17 || strtod(buf, NULL) == v)
			return (size_t)n;
	}
	return 0;	/* not reached */
}

/*
 * The 17 significant digits of a (finite, > 0) rounded to nearest, ties to
 * even, as printf rounds, trailing zeros dropped as %g drops them; -1 when
 * a is beyond the 128-bit arithmetic (printf's business then).
 */
static int digits17(double a, struct digits *d)
{
	int ex;
	uint64_t f = (uint64_t)ldexp(frexp(a, &ex), 53);
	int shift = 53 - ex;
	if (shift < 1 || shift > 120)
		return -1;
	for (int attempt = 0, E = decimal_exponent_guess(ex); attempt < 2; attempt++, E++) {
		int q = 16 - E;
		if (q < 0 || q > 22)
			return -1;	/* f * 10^q must fit in 128 bits */
		uint64_t n17 = round_shift((u128)f * pow10_u128(q), shift);
		if (n17 > pow10_u64[17] || n17 < pow10_u64[16])
			continue;	/* the guess was one low: 18 digits */
		d->m = n17;
		d->exp10 = -q;
		while (d->m % 10 == 0) {
			d->m /= 10;
			d->exp10++;
		}
		return 0;
	}
	return -1;
}

size_t ml_fmt_g17(double v, char *buf)
{
	struct digits d;
	if (!isfinite(v) || v == 0 || digits17(fabs(v), &d) < 0)
		return (size_t)snprintf(buf, ML_NUM_BUFSZ, "%.17g", v);
	return layout(signbit(v) != 0, &d, buf);	/* %g's layout, as for the shortest digits */
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

/*
 * Sorting doubles (no NaN): introsort with the comparison inlined, several
 * times faster than qsort() with a callback, which KLL compaction and
 * histogram binning call millions of times.
 */
static void swap_d(double *a, double *b)
{
	double t = *a;
	*a = *b;
	*b = t;
}

static void insertion_sort(double *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		double x = v[i];
		size_t j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static void sift_down(double *v, size_t root, size_t n)
{
	for (size_t child; (child = 2 * root + 1) < n; root = child) {
		if (child + 1 < n && v[child + 1] > v[child])
			child++;
		if (!(v[child] > v[root]))
			return;
		swap_d(&v[child], &v[root]);
	}
}

static void heap_sort(double *v, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (size_t end = n; end-- > 1;) {
		swap_d(&v[0], &v[end]);
		sift_down(v, 0, end);
	}
}

/* Hoare partition around the median of three; returns the split point. */
static size_t partition(double *v, size_t n)
{
	size_t mid = n / 2;
	if (v[mid] < v[0])
		swap_d(&v[mid], &v[0]);
	if (v[n - 1] < v[0])
		swap_d(&v[n - 1], &v[0]);
	if (v[n - 1] < v[mid])
		swap_d(&v[n - 1], &v[mid]);
	double pivot = v[mid];
	size_t i = 0, j = n - 1;
	for (;;) {
		while (v[i] < pivot)
			i++;
		while (v[j] > pivot)
			j--;
		if (i >= j)
			return j + 1;
		swap_d(&v[i++], &v[j--]);
	}
}

static void intro_sort(double *v, size_t n, int depth)
{
	while (n > 16) {
		if (depth-- == 0) {
			heap_sort(v, n);
			return;
		}
		size_t split = partition(v, n);
		/* Recurse into the smaller side, loop on the larger: O(log n) stack. */
		if (split < n - split) {
			intro_sort(v, split, depth);
			v += split;
			n -= split;
		} else {
			intro_sort(v + split, n - split, depth);
			n = split;
		}
	}
	insertion_sort(v, n);
}

/*
 * Radix sort: a double's bits, the sign bit flipped for positives and every
 * bit for negatives, order like the double (-0 before +0), so passes over
 * the bytes, least significant first, sort them in linear time without the
 * branch mispredictions of comparisons.  Bytes that are the same in every
 * value need no pass.  Only the four most significant bytes that vary get a
 * pass at first: that leaves equal-prefix runs, which on real data are
 * short, for an insertion sort to finish; when it finds them long (more
 * moves than a budget) the lower bytes get their passes after all.
 */
static uint64_t sort_key(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u ^ ((uint64_t)((int64_t)u >> 63) | 0x8000000000000000ull);
}

static double from_sort_key(uint64_t k)
{
	uint64_t u = k ^ (k >> 63 ? 0x8000000000000000ull : ~0ull);
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* One stable pass of keys src -> dst on byte d. */
static void radix_pass(const uint64_t *src, uint64_t *dst, size_t n, const uint32_t *count, unsigned d)
{
	uint32_t pos[256], off = 0;
	unsigned shift = 8 * d;
	for (int j = 0; j < 256; j++) {
		pos[j] = off;
		off += count[j];
	}
	for (size_t i = 0; i < n; i++)
		dst[pos[(src[i] >> shift) & 0xff]++] = src[i];
}

/* Passes on bytes d[0..nd), lowest first; *a ends up holding the keys, *b the scratch. */
static void radix_passes(uint64_t **a, uint64_t **b, size_t n, uint32_t count[8][256], const unsigned *d,
			 unsigned nd)
{
	for (unsigned p = 0; p < nd; p++) {
		radix_pass(*a, *b, n, count[d[p]], d[p]);
		uint64_t *t = *a;
		*a = *b;
		*b = t;
	}
}

/* Insertion sort of nearly sorted keys; 0 when it gives up past budget moves (a is then unsorted). */
static int finish_sorted(uint64_t *a, size_t n, size_t budget)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t x = a[i];
		size_t j = i;
		while (j > 0 && a[j - 1] > x) {
			a[j] = a[j - 1];
			j--;
			if (budget-- == 0) {
				a[j] = x;
				return 0;
			}
		}
		a[j] = x;
	}
	return 1;
}

static void radix_sort(double *v, size_t n, uint64_t *a, uint64_t *b)
{
	uint32_t count[8][256];
	memset(count, 0, sizeof count);
	for (size_t i = 0; i < n; i++) {	/* the eight counts written out: gcc keeps the loop otherwise */
		uint64_t k = a[i] = sort_key(v[i]);
		count[0][k & 0xff]++;
		count[1][(k >> 8) & 0xff]++;
		count[2][(k >> 16) & 0xff]++;
		count[3][(k >> 24) & 0xff]++;
		count[4][(k >> 32) & 0xff]++;
		count[5][(k >> 40) & 0xff]++;
		count[6][(k >> 48) & 0xff]++;
		count[7][k >> 56]++;
	}
	unsigned vary[8], nvary = 0;
	for (unsigned d = 0; d < 8; d++)
		if (count[d][(a[0] >> (8 * d)) & 0xff] != n)
			vary[nvary++] = d;
	unsigned first = nvary > 4 ? nvary - 4 : 0;	/* the top four varying bytes */
	radix_passes(&a, &b, n, count, vary + first, nvary - first);
	if (first && !finish_sorted(a, n, 4 * n))	/* long runs: every varying byte after all */
		radix_passes(&a, &b, n, count, vary, nvary);
	for (size_t i = 0; i < n; i++)
		v[i] = from_sort_key(a[i]);
}

/* Below this many values comparisons win; up to RADIX_STACK the scratch is on the stack. */
#define RADIX_MIN 96
#define RADIX_STACK 1024

void ml_sort_doubles(double *v, size_t n)
{
	if (n >= RADIX_MIN && n <= UINT32_MAX) {
		uint64_t stack[2 * RADIX_STACK];
		uint64_t *tmp = n <= RADIX_STACK ? stack : malloc(2 * n * sizeof *tmp);
		if (tmp) {
			radix_sort(v, n, tmp, tmp + n);
			if (tmp != stack)
				free(tmp);
			return;
		}
	}
	int depth = 0;
	for (size_t m = n; m > 1; m >>= 1)
		depth += 2;
	intro_sort(v, n, depth);
}
