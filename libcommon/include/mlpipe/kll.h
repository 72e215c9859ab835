/*
 * kll.h - a mergeable quantile sketch (Karnin, Lang, Liberty 2016).
 *
 * Bounded memory (about 3.5k values) whatever the stream length, mergeable
 * across shards, and exact while fewer than k values have been seen: the
 * median of 804 prices is the true median, the median of a billion is
 * within about 1.65/k of the true rank (k = 2048: 0.08%).  Deterministic:
 * the compaction coin flips come from a fixed-seed generator, so the same
 * values in the same order give the same sketch (byte-identical artifacts).
 *
 *     struct ml_kll *s = ml_kll_new(2048, &err);
 *     for (...) ml_kll_add(s, x, &err);         // NaN is ignored
 *     double med = ml_kll_quantile(s, 0.5);
 *     ml_kll_free(s);
 */
#ifndef MLPIPE_KLL_H
#define MLPIPE_KLL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

struct ml_kll;

struct ml_kll *ml_kll_new(uint32_t k, struct ml_err *err);
void ml_kll_free(struct ml_kll *s);

int ml_kll_add(struct ml_kll *s, double x, struct ml_err *err);
/* The same for x[0..n), faster: the same sketch as n ml_kll_add() calls. */
int ml_kll_add_n(struct ml_kll *s, const double *x, size_t n, struct ml_err *err);
/* Fold src into dst (same k); src is unchanged. */
int ml_kll_merge(struct ml_kll *dst, const struct ml_kll *src, struct ml_err *err);

uint64_t ml_kll_count(const struct ml_kll *s);	/* values added (NaN excluded) */
double ml_kll_min(const struct ml_kll *s);
double ml_kll_max(const struct ml_kll *s);
/* Is every value still held (no compaction yet)?  Then quantiles are exact. */
int ml_kll_is_exact(const struct ml_kll *s);

/*
 * The q-quantile, 0 <= q <= 1, with linear interpolation between order
 * statistics (numpy's default, so q = 0.5 is np.median when exact).  NaN
 * for an empty sketch.
 */
double ml_kll_quantile(const struct ml_kll *s, double q);
/* Fraction of values <= x (the empirical CDF). */
double ml_kll_cdf(const struct ml_kll *s, double x);

/* Call fn for every held value with its weight (weights add up to the count). */
void ml_kll_visit(const struct ml_kll *s, void (*fn)(double v, uint64_t w, void *arg), void *arg);

/* As JSON {"k":..,"n":..,"min":..,"max":..,"levels":[[...],...]}, and back (validated). */
json_t *ml_kll_to_json(const struct ml_kll *s);
struct ml_kll *ml_kll_from_json(const json_t *j, const char *what, struct ml_err *err);

#endif
