/*
 * quality.h - model quality in SageMaker Model Monitor's regression format.
 *
 * statistics.json:  {"version": 0.0, "dataset": {"item_count": n},
 *                    "regression_metrics": {"mae": {"value", "standard_deviation"},
 *                                           "mse": ..., "rmse": ..., "r2": ...}}
 * constraints.json: {"version": 0.0, "regression_constraints":
 *                    {"mae": {"threshold", "comparison_operator": "GreaterThanThreshold"},
 *                     ..., "r2": {..., "LessThanThreshold"}}}
 *
 * The standard deviations come from a bootstrap (100 resamples of the rows
 * with a fixed seed, so the same data gives the same file).  The suggested
 * thresholds are the baseline's metrics made three standard deviations
 * worse: a later run violates a constraint when its error is larger (or its
 * r2 smaller) than sampling noise explains.  Edit them to taste.
 */
#ifndef MLPIPE_QUALITY_H
#define MLPIPE_QUALITY_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "stream.h"

/* Label and prediction pairs read from a stream. */
struct ml_pairs {
	double *label, *pred;
	size_t n, alloc;
};

/* Read the two numeric columns of r (rows where either is missing are skipped). */
int ml_pairs_read(struct ml_reader *r, const char *label, const char *prediction, const char *name,
		  struct ml_pairs *p, struct ml_err *err);
void ml_pairs_release(struct ml_pairs *p);
/* Append one pair, growing the arrays. */
int ml_pairs_add(struct ml_pairs *p, double label, double pred, struct ml_err *err);

json_t *ml_quality_statistics(const struct ml_pairs *p);
json_t *ml_quality_constraints(const struct ml_pairs *p);

/*
 * Append a violation per broken constraint to violations, as Model Monitor
 * writes them: {metric_name, constraint_check_type (the operator), description}.
 */
int ml_quality_check(const struct ml_pairs *p, const json_t *constraints, const char *name, json_t *violations,
		     struct ml_err *err);

#endif
