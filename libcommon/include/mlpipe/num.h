/*
 * num.h - number text <-> double, fast and exact.
 *
 * Parsing is the floor under every tool's speed (DESIGN.md section 7): the
 * common case (up to 19 significant digits, small exponent) is converted
 * exactly by integer arithmetic and one exact multiplication or division
 * (Clinger's fast path); everything else falls back to strtod in the C
 * locale, so results are always correctly rounded.
 *
 * Formatting writes the shortest text that reads back to the same double
 * ("%.17g" only when needed), in the C locale, so numbers round-trip.
 */
#ifndef MLPIPE_NUM_H
#define MLPIPE_NUM_H

#include <stddef.h>

enum ml_num_status {
	ML_NUM_OK = 0,
	ML_NUM_MISSING,		/* empty, "NA", "NaN", "nan", "null": a missing value */
	ML_NUM_INVALID,		/* not a number at all */
	ML_NUM_RANGE,		/* overflows a double (1e400) or is infinite */
};

/*
 * Parse s[0..len) as a decimal number; surrounding spaces are allowed.
 * On ML_NUM_OK *out is the value; on ML_NUM_MISSING it is NaN.
 */
enum ml_num_status ml_parse_double(const char *s, size_t len, double *out);

/* Is s[0..len) a token that means "missing" (see above)? */
int ml_is_missing_token(const char *s, size_t len);

#define ML_NUM_BUFSZ 32

/*
 * Write the shortest round-trip text of v into buf (ML_NUM_BUFSZ bytes),
 * NUL-terminated; return its length.  NaN is written as "" by ml_fmt_double
 * (a missing CSV field); callers writing JSON use null.
 */
size_t ml_fmt_double(double v, char *buf);
/* printf's "%lld", without printf. */
size_t ml_fmt_int64(long long v, char *buf);
/* Exactly what printf's "%.17g" writes in the C locale, without printf in the common range. */
size_t ml_fmt_g17(double v, char *buf);
/* Shortest text that reads back to the same float (for float results). */
size_t ml_fmt_float(float v, char *buf);

/* Sort ascending, in place; v must hold no NaN. */
void ml_sort_doubles(double *v, size_t n);

#endif
