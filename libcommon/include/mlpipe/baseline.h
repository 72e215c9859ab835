/*
 * baseline.h - data statistics and constraints in SageMaker Model Monitor's
 * formats (statistics.json, constraints.json), from one streaming pass.
 *
 * Numeric columns: present/missing counts, sum, mean and population
 * standard deviation (Welford), exact min/max, a KLL sketch (k = 2048) for
 * the distribution, summarised as 10 equal-width buckets between min and
 * max.  "Integral" when every present value is a whole number, else
 * "Fractional".  Categorical and text columns ("String"): counts per value
 * (up to ML_BASELINE_MAX_VALUES distinct values, then the rest is counted
 * but not listed).
 *
 *     struct ml_baseline *bl = ml_baseline_new(&schema, &err);
 *     while ((n = ml_reader_read_batch(r, &b, &err)) > 0)
 *             ml_baseline_add(bl, &b, &err);
 *     json_t *stats = ml_baseline_statistics(bl), *cons = ml_baseline_constraints(bl);
 */
#ifndef MLPIPE_BASELINE_H
#define MLPIPE_BASELINE_H

#include <jansson.h>

#include "err.h"
#include "schema.h"
#include "stream.h"

#define ML_BASELINE_BUCKETS 10
#define ML_BASELINE_MAX_VALUES 1000	/* string values listed in buckets and domains */

struct ml_baseline;

/* Statistics for every column of s whose role is not IGNORE. */
struct ml_baseline *ml_baseline_new(const struct ml_schema *s, struct ml_err *err);
void ml_baseline_free(struct ml_baseline *bl);

/* Add a batch read with (a copy of) the same schema. */
int ml_baseline_add(struct ml_baseline *bl, const struct ml_batch *b, struct ml_err *err);

/*
 * A baseline read back from a statistics.json (ml-baseline's or Model
 * Monitor's), and one baseline folded into another: counts and sums add,
 * means and deviations combine exactly (Chan et al.), sketches merge
 * (within the sketch's error bound), value counts add.  Shards of a file
 * baselined in parallel thus merge into the baseline of the whole.
 */
struct ml_baseline *ml_baseline_from_statistics(const json_t *stats, const char *name, struct ml_err *err);
int ml_baseline_merge(struct ml_baseline *dst, const struct ml_baseline *src, const char *name,
		      struct ml_err *err);

/* New references; NULL when out of memory. */
json_t *ml_baseline_statistics(const struct ml_baseline *bl);
json_t *ml_baseline_constraints(const struct ml_baseline *bl);

#endif
