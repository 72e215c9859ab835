/* quality.c - regression quality statistics, constraints and checks (see quality.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/buf.h"
#include "mlpipe/quality.h"
#include "mlpipe/schema.h"

#define BOOTSTRAP_SAMPLES 100
#define BOOTSTRAP_SEED 0x9e3779b97f4a7c15ull

enum { MAE, MSE, RMSE, R2, NMETRICS };
static const char *const metric_names[NMETRICS] = { "mae", "mse", "rmse", "r2" };

void ml_pairs_release(struct ml_pairs *p)
{
	free(p->label);
	free(p->pred);
	memset(p, 0, sizeof *p);
}

int ml_pairs_add(struct ml_pairs *p, double y, double f, struct ml_err *err)
{
	if (p->n == p->alloc) {
		size_t n = p->alloc ? p->alloc * 2 : 4096;
		double *l = ml_realloc_array(p->label, n, sizeof *l, err);
		if (!l)
			return -1;
		p->label = l;
		double *q = ml_realloc_array(p->pred, n, sizeof *q, err);
		if (!q)
			return -1;
		p->pred = q;
		p->alloc = n;
	}
	p->label[p->n] = y;
	p->pred[p->n++] = f;
	return 0;
}

int ml_pairs_read(struct ml_reader *r, const char *label, const char *prediction, const char *name,
		  struct ml_pairs *p, struct ml_err *err)
{
	const char *cols[2] = { label, prediction };
	struct ml_schema s;
	ml_schema_init(&s);
	memset(p, 0, sizeof *p);
	for (int i = 0; i < 2; i++) {
		if (ml_reader_find_column(r, cols[i]) < 0) {
			ml_schema_release(&s);
			return ml_err_set(err, ML_ERR_DATA, "%s: no column \"%s\"", name, cols[i]);
		}
		if (ml_schema_add(&s, cols[i], ML_TYPE_NUMERIC, ML_ROLE_FEATURE, err) < 0) {
			ml_schema_release(&s);
			return -1;
		}
	}
	struct ml_batch b;
	ml_batch_init(&b);
	long n = ml_reader_bind(r, &s, 0, err) < 0 ? -1 : 0;
	while (n >= 0 && (n = ml_reader_read_batch(r, &b, err)) > 0)
		for (size_t i = 0; i < b.nrows; i++)
			if (!isnan(b.cols[0].num[i]) && !isnan(b.cols[1].num[i]) &&
			    ml_pairs_add(p, b.cols[0].num[i], b.cols[1].num[i], err) < 0) {
				n = -1;
				break;
			}
	ml_batch_release(&b);
	ml_schema_release(&s);
	if (n < 0)
		ml_pairs_release(p);
	return n < 0 ? -1 : 0;
}

/* The four metrics over rows idx[0..n) (idx NULL: every row). */
static void metrics(const struct ml_pairs *p, const size_t *idx, size_t n, double out[NMETRICS])
{
	double abs_sum = 0, sq = 0, mean = 0, ss = 0;
	for (size_t k = 0; k < n; k++) {
		size_t i = idx ? idx[k] : k;
		double e = p->label[i] - p->pred[i];
		abs_sum += fabs(e);
		sq += e * e;
		mean += (p->label[i] - mean) / (double)(k + 1);
	}
	for (size_t k = 0; k < n; k++) {
		size_t i = idx ? idx[k] : k;
		ss += (p->label[i] - mean) * (p->label[i] - mean);
	}
	out[MAE] = n ? abs_sum / (double)n : NAN;
	out[MSE] = n ? sq / (double)n : NAN;
	out[RMSE] = sqrt(out[MSE]);
	out[R2] = n && ss > 0 ? 1 - sq / ss : NAN;
}

static uint64_t next_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Standard deviation of each metric over bootstrap resamples of the rows. */
static void bootstrap(const struct ml_pairs *p, double sd[NMETRICS])
{
	size_t *idx = p->n ? malloc(p->n * sizeof *idx) : NULL;
	double sum[NMETRICS] = { 0 }, sumsq[NMETRICS] = { 0 }, m[NMETRICS];
	uint64_t state = BOOTSTRAP_SEED;
	for (int k = 0; k < NMETRICS; k++)
		sd[k] = NAN;
	if (!idx)
		return;
	for (int s = 0; s < BOOTSTRAP_SAMPLES; s++) {
		for (size_t i = 0; i < p->n; i++)
			idx[i] = (size_t)(next_random(&state) % p->n);
		metrics(p, idx, p->n, m);
		for (int k = 0; k < NMETRICS; k++) {
			sum[k] += m[k];
			sumsq[k] += m[k] * m[k];
		}
	}
	for (int k = 0; k < NMETRICS; k++) {
		double mean = sum[k] / BOOTSTRAP_SAMPLES, var = sumsq[k] / BOOTSTRAP_SAMPLES - mean * mean;
		sd[k] = var > 0 ? sqrt(var) : 0;
	}
	free(idx);
}

static json_t *number(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *ml_quality_statistics(const struct ml_pairs *p)
{
	double m[NMETRICS], sd[NMETRICS];
	metrics(p, NULL, p->n, m);
	bootstrap(p, sd);
	json_t *rm = json_object();
	for (int k = 0; k < NMETRICS; k++)
		json_object_set_new(rm, metric_names[k],
				    json_pack("{s:o, s:o}", "value", number(m[k]), "standard_deviation", number(sd[k])));
	return json_pack("{s:f, s:{s:I}, s:o}", "version", 0.0, "dataset", "item_count", (json_int_t)p->n,
			 "regression_metrics", rm);
}

/* Three bootstrap standard deviations worse than the baseline: beyond sampling noise. */
#define NOISE_SDS 3

json_t *ml_quality_constraints(const struct ml_pairs *p)
{
	double m[NMETRICS], sd[NMETRICS];
	metrics(p, NULL, p->n, m);
	bootstrap(p, sd);
	json_t *rc = json_object();
	for (int k = 0; k < NMETRICS; k++) {
		double margin = isfinite(sd[k]) ? NOISE_SDS * sd[k] : 0;
		double threshold = k == R2 ? m[k] - margin : m[k] + margin;
		json_object_set_new(rc, metric_names[k],
				    json_pack("{s:o, s:s}", "threshold", number(threshold), "comparison_operator",
					      k == R2 ? "LessThanThreshold" : "GreaterThanThreshold"));
	}
	return json_pack("{s:f, s:o}", "version", 0.0, "regression_constraints", rc);
}

static int breaks(double value, double threshold, const char *op)
{
	if (!strcmp(op, "GreaterThanThreshold"))
		return value > threshold;
	if (!strcmp(op, "GreaterThanOrEqualToThreshold"))
		return value >= threshold;
	if (!strcmp(op, "LessThanThreshold"))
		return value < threshold;
	if (!strcmp(op, "LessThanOrEqualToThreshold"))
		return value <= threshold;
	return -1;
}

int ml_quality_check(const struct ml_pairs *p, const json_t *constraints, const char *name, json_t *violations,
		     struct ml_err *err)
{
	const json_t *rc = json_object_get(constraints, "regression_constraints");
	if (!json_is_object(rc))
		return ml_err_set(err, ML_ERR_DATA, "%s: constraints.json has no \"regression_constraints\"", name);
	double m[NMETRICS];
	metrics(p, NULL, p->n, m);
	for (int k = 0; k < NMETRICS; k++) {
		const json_t *c = json_object_get(rc, metric_names[k]);
		if (!c)
			continue;
		const json_t *t = json_object_get(c, "threshold");
		const char *op = json_string_value(json_object_get(c, "comparison_operator"));
		if (!json_is_number(t) || !op || breaks(0, 0, op) < 0)
			return ml_err_set(err, ML_ERR_DATA, "%s: regression constraint \"%s\" is malformed", name,
					  metric_names[k]);
		if (isnan(m[k]) || !breaks(m[k], json_number_value(t), op))
			continue;
		char text[256];
		snprintf(text, sizeof text, "Metric %s with %.6g was %s '%.6g'", metric_names[k], m[k], op,
			 json_number_value(t));
		json_array_append_new(violations, json_pack("{s:s, s:s, s:s}", "metric_name", metric_names[k],
							     "constraint_check_type", op, "description", text));
	}
	return 0;
}
