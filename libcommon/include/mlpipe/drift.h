/*
 * drift.h - new data against a baseline (ml-baseline's or SageMaker Model
 * Monitor's statistics.json and constraints.json): the checks Model
 * Monitor runs, with its names.
 *
 *   data_type_check         share of a numeric column's values that are numbers
 *                           below datatype_check_threshold
 *   completeness_check      share of rows with a value below the baseline's
 *   baseline_drift_check    distance between the baseline's and the current
 *                           distribution above comparison_threshold: numbers by
 *                           the L-infinity distance of the two CDFs (the
 *                           two-sample KS statistic), categories by the largest
 *                           difference of a value's share; "Robust" subtracts
 *                           1.8 sqrt((n + m) / (n m)) first, as Deequ does
 *   missing_column_check    a baseline column absent from the input
 *   extra_column_check      an input column absent from the baseline
 *   categorical_values_check share of values inside the baseline's domain below
 *                           domain_content_threshold
 */
#ifndef MLPIPE_DRIFT_H
#define MLPIPE_DRIFT_H

#include <jansson.h>

#include "err.h"
#include "stream.h"

struct ml_drift;

/* Prepare the checks from the baseline documents (borrowed); name is for messages. */
struct ml_drift *ml_drift_new(const json_t *statistics, const json_t *constraints, const char *name,
			      struct ml_err *err);
void ml_drift_free(struct ml_drift *d);

/* Override the baseline's comparison_threshold (ml-drift --threshold). */
void ml_drift_set_threshold(struct ml_drift *d, double threshold);

/* Bind r (unbound) to the baseline's columns and read all of it. */
int ml_drift_read(struct ml_drift *d, struct ml_reader *r, struct ml_err *err);

/*
 * The results: *violations a JSON array of {feature_name, constraint_check_type,
 * description}; *records one object per feature (feature, method, distance,
 * threshold, drifted, baseline_count, current_count).  New references.
 */
int ml_drift_results(const struct ml_drift *d, json_t **violations, json_t **records, struct ml_err *err);

/* The L-infinity distance of two weighted samples' CDFs; values sorted ascending. */
double ml_linf_distance(const double *a, const double *wa, size_t na, const double *b, const double *wb,
			size_t nb);

#endif
