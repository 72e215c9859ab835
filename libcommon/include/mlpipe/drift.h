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
 *                           Other distances may be chosen per type with
 *                           ml_drift_set_method() (defaults in brackets):
 *                             psi          population stability index over the
 *                                          baseline's 10 equal-width buckets
 *                                          (outer ones open) or the categories;
 *                                          a share of 0 counts as 1e-4 [0.2]
 *                             ks           two-sample Kolmogorov-Smirnov test:
 *                                          drift when its p-value (SciPy's
 *                                          method="auto": exact up to 10000
 *                                          values a side, stattest.h) is
 *                                          below the threshold [0.05]
 *                             wasserstein  Wasserstein-1 distance divided by
 *                                          the baseline's std_dev [0.1]
 *                             js           Jensen-Shannon distance, natural
 *                                          log, same buckets as psi [0.1]
 *                             chi2         Pearson's chi-square test of
 *                                          homogeneity of the two count
 *                                          vectors, no continuity correction:
 *                                          drift when p < threshold [0.05]
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

enum ml_drift_method {
	ML_DRIFT_LINF = 0,	/* numbers and categories: Model Monitor's */
	ML_DRIFT_PSI,		/* numbers and categories */
	ML_DRIFT_KS,		/* numbers */
	ML_DRIFT_WASSERSTEIN,	/* numbers */
	ML_DRIFT_JS,		/* numbers and categories */
	ML_DRIFT_CHI2,		/* categories */
};

/* "linf", "psi", "ks", "wasserstein", "js", "chi2". */
const char *ml_drift_method_name(enum ml_drift_method m);
int ml_drift_method_from_name(const char *name, enum ml_drift_method *m);
/* The method's default threshold; NaN for linf (the baseline's comparison_threshold). */
double ml_drift_default_threshold(enum ml_drift_method m);
/*
 * The distance for numeric (numeric != 0) or categorical columns, with its
 * threshold (NaN: the method's default).  A method that does not apply to the
 * type (ks, wasserstein for categories; chi2 for numbers) is a usage error.
 */
int ml_drift_set_method(struct ml_drift *d, int numeric, enum ml_drift_method m, double threshold,
			struct ml_err *err);

/* Bind r (unbound) to the baseline's columns and read all of it (may be called for several readers). */
int ml_drift_read(struct ml_drift *d, struct ml_reader *r, struct ml_err *err);

/* The baseline's columns, in its order. */
size_t ml_drift_ncols(const struct ml_drift *d);
const char *ml_drift_colname(const struct ml_drift *d, size_t i);

/*
 * Rows that do not come through a reader (data capture, capture_read.h):
 * fields[i] is the text of baseline column i (ML_FIELD_ABSENT: missing).
 * ml_drift_input_columns() says which baseline columns such input had
 * (present[i] != 0) and how many others, for the missing and extra column
 * checks.  Several ml_drift_read() / ml_drift_add_row() calls add up.
 */
int ml_drift_add_row(struct ml_drift *d, const struct ml_field *fields, struct ml_err *err);
void ml_drift_input_columns(struct ml_drift *d, const uint8_t *present, size_t extra_cols);
/* Rows seen so far. */
uint64_t ml_drift_rows(const struct ml_drift *d);

/*
 * The results: *violations a JSON array of {feature_name, constraint_check_type,
 * description}; *records one object per feature (feature, method, distance,
 * threshold, drifted, baseline_count, current_count; adjusted_distance for
 * linf, p_value for ks and chi2, p_value_method "exact" or "asymp" for ks).
 * New references.
 */
int ml_drift_results(const struct ml_drift *d, json_t **violations, json_t **records, struct ml_err *err);

/*
 * The baseline's and the current distribution of every input column, for
 * plots: a JSON array of {"feature", "kind": "numeric", "edges": [11 bucket
 * edges], "baseline": [10 shares], "current": [10 shares]} (the baseline's
 * equal-width buckets, the outer ones open) or {"feature", "kind":
 * "categorical", "labels": [...], "baseline": [...], "current": [...]} (the
 * max_values - 1 values with the largest shares, the rest as "(other)").  New
 * reference; NULL when out of memory.
 */
json_t *ml_drift_distributions(const struct ml_drift *d, size_t max_values);

/* The L-infinity distance of two weighted samples' CDFs; values sorted ascending. */
double ml_linf_distance(const double *a, const double *wa, size_t na, const double *b, const double *wb,
			size_t nb);

#endif
