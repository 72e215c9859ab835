/* drift.c - Model Monitor's constraint checks of new data against a baseline (see drift.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/buf.h"
#include "mlpipe/dict.h"
#include "mlpipe/drift.h"
#include "mlpipe/kll.h"
#include "mlpipe/num.h"
#include "mlpipe/schema.h"
#include "mlpipe/stattest.h"

#define KLL_K 2048
#define MAX_VALUES 100000	/* distinct current values of a string column we count */
#define NBINS 10		/* PSI and JS on numbers: the baseline's 10 equal-width buckets */
#define PSI_FLOOR 1e-4		/* a share of 0 counts as this in PSI (Evidently's choice) */

struct sample {
	double *v, *w;
	size_t n, alloc;
};

struct dcol {
	const char *name;
	int numeric;			/* the baseline's type: a number */
	int integral;
	double min, max, std_dev;	/* the baseline's numerical_statistics */
	double completeness;		/* the baseline's, from constraints.json */
	struct ml_dict *domain;		/* constraints' domains, or NULL */
	struct sample base;		/* numbers: the baseline sketch as a weighted sample */
	struct ml_dict *base_values;	/* strings: the baseline's value counts */
	uint64_t *base_counts;
	uint64_t base_total;
	int in_input;			/* found in the input's columns */
	/* what the current data holds */
	uint64_t present, missing, wrong_type, outside;
	struct ml_kll *sketch;
	struct ml_dict *values;
	uint64_t *counts;
	size_t ncounts;
};

struct ml_drift {
	const char *name;
	struct dcol *cols;
	size_t ncols;
	double datatype_threshold, domain_threshold, threshold;
	int compare, robust;
	enum ml_drift_method method[2];	/* [1]: numbers, [0]: strings */
	double method_threshold[2];	/* NaN: the method's default */
	struct ml_schema schema;	/* every baseline column, read as text */
	size_t input_cols, extra_cols;
	uint64_t rows;
};

static void sample_free(struct sample *s)
{
	free(s->v);
	free(s->w);
}

void ml_drift_free(struct ml_drift *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ncols; i++) {
		struct dcol *c = &d->cols[i];
		ml_dict_free(c->domain);
		ml_dict_free(c->base_values);
		ml_dict_free(c->values);
		free(c->base_counts);
		free(c->counts);
		sample_free(&c->base);
		ml_kll_free(c->sketch);
	}
	free(d->cols);
	ml_schema_release(&d->schema);
	free(d);
}

static int sample_add(struct sample *s, double v, double w, struct ml_err *err)
{
	if (s->n == s->alloc) {
		size_t n = s->alloc ? s->alloc * 2 : 256;
		double *nv = ml_realloc_array(s->v, n, sizeof *nv, err);
		if (!nv)
			return -1;
		s->v = nv;
		double *nw = ml_realloc_array(s->w, n, sizeof *nw, err);
		if (!nw)
			return -1;
		s->w = nw;
		s->alloc = n;
	}
	s->v[s->n] = v;
	s->w[s->n++] = w;
	return 0;
}

struct pair {
	double v, w;
};

static int cmp_pair(const void *a, const void *b)
{
	double x = ((const struct pair *)a)->v, y = ((const struct pair *)b)->v;
	return (x > y) - (x < y);
}

static int sample_sort(struct sample *s, struct ml_err *err)
{
	struct pair *p = ml_calloc(s->n + 1, sizeof *p, err);
	if (!p)
		return -1;
	for (size_t i = 0; i < s->n; i++)
		p[i] = (struct pair){ s->v[i], s->w[i] };
	qsort(p, s->n, sizeof *p, cmp_pair);
	for (size_t i = 0; i < s->n; i++) {
		s->v[i] = p[i].v;
		s->w[i] = p[i].w;
	}
	free(p);
	return 0;
}

double ml_linf_distance(const double *a, const double *wa, size_t na, const double *b, const double *wb,
			size_t nb)
{
	double ta = 0, tb = 0, ca = 0, cb = 0, d = 0;
	for (size_t i = 0; i < na; i++)
		ta += wa[i];
	for (size_t j = 0; j < nb; j++)
		tb += wb[j];
	if (!(ta > 0) || !(tb > 0))
		return NAN;
	size_t i = 0, j = 0;
	while (i < na || j < nb) {
		double x = j == nb || (i < na && a[i] <= b[j]) ? a[i] : b[j];
		while (i < na && a[i] == x)
			ca += wa[i++];
		while (j < nb && b[j] == x)
			cb += wb[j++];
		d = fmax(d, fabs(ca / ta - cb / tb));
	}
	return d;
}

/* ---- reading the baseline ---- */

static int number_member(const json_t *o, const char *key, double dflt, double *out)
{
	const json_t *v = json_object_get(o, key);
	*out = json_is_number(v) ? json_number_value(v) : dflt;
	return v && !json_is_number(v) ? -1 : 0;
}

/* Weighted sample of the baseline: the KLL sketch's levels (weight 2^level), or the buckets. */
static int baseline_sample(struct dcol *c, const json_t *num, const char *name, struct ml_err *err)
{
	const json_t *kll = json_object_get(json_object_get(num, "distribution"), "kll");
	const json_t *data = json_object_get(json_object_get(kll, "sketch"), "data");
	if (json_is_array(data)) {
		for (size_t h = 0; h < json_array_size(data) && h < 63; h++) {
			const json_t *level = json_array_get(data, h);
			for (size_t i = 0; i < json_array_size(level); i++) {
				const json_t *v = json_array_get(level, i);
				if (!json_is_number(v))
					return ml_err_set(err, ML_ERR_DATA, "%s: %s: a sketch value is not a number", name,
							  c->name);
				if (sample_add(&c->base, json_number_value(v), ldexp(1, (int)h), err) < 0)
					return -1;
			}
		}
	} else {
		const json_t *buckets = json_object_get(kll, "buckets");
		for (size_t i = 0; i < json_array_size(buckets); i++) {
			const json_t *b = json_array_get(buckets, i);
			double lo, hi, count;
			if (number_member(b, "lower_bound", NAN, &lo) < 0 || number_member(b, "upper_bound", NAN, &hi) < 0 ||
			    number_member(b, "count", 0, &count) < 0 || isnan(lo) || isnan(hi))
				return ml_err_set(err, ML_ERR_DATA, "%s: %s: malformed KLL bucket", name, c->name);
			if (count > 0 && sample_add(&c->base, (lo + hi) / 2, count, err) < 0)
				return -1;
		}
	}
	return sample_sort(&c->base, err);
}

static int baseline_values(struct dcol *c, const json_t *str, struct ml_err *err)
{
	const json_t *buckets = json_object_get(json_object_get(json_object_get(str, "distribution"), "categorical"),
						"buckets");
	size_t n = json_array_size(buckets);
	if (!(c->base_values = ml_dict_new(n + 1, err)) || !(c->base_counts = ml_calloc(n + 1, sizeof(uint64_t), err)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		const json_t *b = json_array_get(buckets, i);
		const char *v = json_string_value(json_object_get(b, "value"));
		double count;
		if (!v || number_member(b, "count", 0, &count) < 0 || count < 0)
			continue;
		int32_t id = ml_dict_intern(c->base_values, v, strlen(v), err);
		if (id < 0)
			return -1;
		c->base_counts[id] += (uint64_t)count;
		c->base_total += (uint64_t)count;
	}
	return 0;
}

static const json_t *find_feature(const json_t *features, const char *name)
{
	for (size_t i = 0; i < json_array_size(features); i++) {
		const json_t *f = json_array_get(features, i);
		const char *fname = json_string_value(json_object_get(f, "name"));
		if (fname && !strcmp(fname, name))
			return f;
	}
	return NULL;
}

static int constraint_of(struct dcol *c, const json_t *cf, struct ml_err *err)
{
	c->completeness = 0;
	if (!cf)
		return 0;
	number_member(cf, "completeness", 0, &c->completeness);
	const json_t *domains = json_object_get(json_object_get(cf, "string_constraints"), "domains");
	if (!json_is_array(domains))
		return 0;
	if (!(c->domain = ml_dict_new(json_array_size(domains) + 1, err)))
		return -1;
	for (size_t i = 0; i < json_array_size(domains); i++) {
		const char *v = json_string_value(json_array_get(domains, i));
		if (v && ml_dict_intern(c->domain, v, strlen(v), err) < 0)
			return -1;
	}
	return 0;
}

static int column_from_baseline(struct ml_drift *d, struct dcol *c, const json_t *f, const json_t *cfeatures,
				struct ml_err *err)
{
	const char *type = json_string_value(json_object_get(f, "inferred_type"));
	if (!c->name || !type)
		return ml_err_set(err, ML_ERR_DATA, "%s: a feature lacks \"name\" or \"inferred_type\"", d->name);
	c->numeric = !strcmp(type, "Integral") || !strcmp(type, "Fractional");
	c->integral = !strcmp(type, "Integral");
	if (constraint_of(c, find_feature(cfeatures, c->name), err) < 0)
		return -1;
	if (c->numeric) {
		const json_t *ns = json_object_get(f, "numerical_statistics");
		if (number_member(ns, "min", NAN, &c->min) < 0 || number_member(ns, "max", NAN, &c->max) < 0 ||
		    number_member(ns, "std_dev", NAN, &c->std_dev) < 0)
			return ml_err_set(err, ML_ERR_DATA, "%s: %s: min, max and std_dev must be numbers", d->name,
					  c->name);
		if (baseline_sample(c, ns, d->name, err) < 0)
			return -1;
		return (c->sketch = ml_kll_new(KLL_K, err)) ? 0 : -1;
	}
	if (baseline_values(c, json_object_get(f, "string_statistics"), err) < 0)
		return -1;
	return (c->values = ml_dict_new(MAX_VALUES, err)) ? 0 : -1;
}

static int read_monitoring_config(struct ml_drift *d, const json_t *constraints)
{
	const json_t *mc = json_object_get(constraints, "monitoring_config");
	const json_t *dc = json_object_get(mc, "distribution_constraints");
	const char *method = json_string_value(json_object_get(dc, "comparison_method"));
	const char *perform = json_string_value(json_object_get(dc, "perform_comparison"));
	d->robust = !method || strcasecmp(method, "Simple") != 0;	/* Robust by default, as DESIGN.md says */
	d->compare = !perform || strcasecmp(perform, "Disabled") != 0;
	return number_member(mc, "datatype_check_threshold", 1.0, &d->datatype_threshold) < 0 ||
			       number_member(mc, "domain_content_threshold", 1.0, &d->domain_threshold) < 0 ||
			       number_member(dc, "comparison_threshold", 0.1, &d->threshold) < 0
		       ? -1
		       : 0;
}

struct ml_drift *ml_drift_new(const json_t *statistics, const json_t *constraints, const char *name,
			      struct ml_err *err)
{
	const json_t *features = json_object_get(statistics, "features");
	const json_t *cfeatures = json_object_get(constraints, "features");
	if (!json_is_array(features)) {
		ml_err_set(err, ML_ERR_DATA, "%s: statistics.json has no \"features\" list", name);
		return NULL;
	}
	struct ml_drift *d = ml_calloc(1, sizeof *d, err);
	if (!d)
		return NULL;
	d->name = name;
	d->method_threshold[0] = d->method_threshold[1] = NAN;
	ml_schema_init(&d->schema);
	if (read_monitoring_config(d, constraints) < 0) {
		ml_err_set(err, ML_ERR_DATA, "%s: constraints.json: monitoring_config thresholds must be numbers", name);
		goto fail;
	}
	if (!(d->cols = ml_calloc(json_array_size(features) + 1, sizeof *d->cols, err)))
		goto fail;
	for (size_t i = 0; i < json_array_size(features); i++) {
		const json_t *f = json_array_get(features, i);
		struct dcol *c = &d->cols[d->ncols++];
		c->name = json_string_value(json_object_get(f, "name"));
		if (column_from_baseline(d, c, f, cfeatures, err) < 0 ||
		    ml_schema_add(&d->schema, c->name, ML_TYPE_TEXT, ML_ROLE_FEATURE, err) < 0)
			goto fail;
	}
	return d;
fail:
	ml_drift_free(d);
	return NULL;
}

void ml_drift_set_threshold(struct ml_drift *d, double threshold)
{
	d->threshold = threshold;
}

static const struct {
	const char *name;
	double threshold;	/* NaN: the baseline's comparison_threshold */
	int numbers, strings;	/* applies to */
	int pvalue;		/* drift when the value is below the threshold */
} methods[] = {
	[ML_DRIFT_LINF] = { "linf", NAN, 1, 1, 0 },
	[ML_DRIFT_PSI] = { "psi", 0.2, 1, 1, 0 },
	[ML_DRIFT_KS] = { "ks", 0.05, 1, 0, 1 },
	[ML_DRIFT_WASSERSTEIN] = { "wasserstein", 0.1, 1, 0, 0 },
	[ML_DRIFT_JS] = { "js", 0.1, 1, 1, 0 },
	[ML_DRIFT_CHI2] = { "chi2", 0.05, 0, 1, 1 },
};

const char *ml_drift_method_name(enum ml_drift_method m)
{
	return (unsigned)m < sizeof methods / sizeof *methods ? methods[m].name : "?";
}

int ml_drift_method_from_name(const char *name, enum ml_drift_method *m)
{
	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
		if (!strcmp(methods[i].name, name)) {
			*m = (enum ml_drift_method)i;
			return 0;
		}
	return -1;
}

double ml_drift_default_threshold(enum ml_drift_method m)
{
	return (unsigned)m < sizeof methods / sizeof *methods ? methods[m].threshold : NAN;
}

int ml_drift_set_method(struct ml_drift *d, int numeric, enum ml_drift_method m, double threshold,
			struct ml_err *err)
{
	if ((unsigned)m >= sizeof methods / sizeof *methods || !(numeric ? methods[m].numbers : methods[m].strings))
		return ml_err_set(err, ML_ERR_USAGE, "%s is not a distance for %s columns", ml_drift_method_name(m),
				  numeric ? "numeric" : "categorical");
	d->method[!!numeric] = m;
	d->method_threshold[!!numeric] = threshold;
	return 0;
}

/* ---- reading the current data ---- */

static int observe_number(struct dcol *c, const char *text, size_t len, struct ml_err *err)
{
	double v;
	enum ml_num_status st = ml_parse_double(text, len, &v);
	if (st == ML_NUM_MISSING) {
		c->missing++;
		return 0;
	}
	c->present++;
	if (st != ML_NUM_OK || (c->integral && v != floor(v))) {
		c->wrong_type++;
		return 0;
	}
	return ml_kll_add(c->sketch, v, err);
}

static int observe_string(struct dcol *c, const char *text, size_t len, struct ml_err *err)
{
	c->present++;
	if (c->domain && ml_dict_find(c->domain, text, len) < 0)
		c->outside++;
	int32_t id = ml_dict_find(c->values, text, len);
	if (id < 0 && ml_dict_size(c->values) >= MAX_VALUES)
		return 0;	/* counted as present; too many values to list */
	if (id < 0 && (id = ml_dict_intern(c->values, text, len, err)) < 0)
		return -1;
	if ((size_t)id >= c->ncounts) {
		size_t n = c->ncounts ? c->ncounts * 2 : 64;
		uint64_t *counts = ml_realloc_array(c->counts, n, sizeof *counts, err);
		if (!counts)
			return -1;
		memset(counts + c->ncounts, 0, (n - c->ncounts) * sizeof *counts);
		c->counts = counts;
		c->ncounts = n;
	}
	c->counts[id]++;
	return 0;
}

static int observe(struct ml_drift *d, const struct ml_batch *b, struct ml_err *err)
{
	for (size_t i = 0; i < d->ncols; i++) {
		struct dcol *c = &d->cols[i];
		const struct ml_batch_col *col = &b->cols[i];
		for (size_t r = 0; r < b->nrows; r++) {
			uint32_t len = col->text_len[r] == ML_TEXT_MISSING ? ML_TEXT_MISSING : ml_text_len(col->text_len[r]);
			const char *text = b->text.data + (len == UINT32_MAX ? 0 : col->text_off[r]);
			int rc = 0;
			if (len == UINT32_MAX || (!c->numeric && len == 0))
				c->missing++;
			else
				rc = c->numeric ? observe_number(c, text, len, err) : observe_string(c, text, len, err);
			if (rc < 0)
				return -1;
		}
	}
	d->rows += b->nrows;
	return 0;
}

int ml_drift_read(struct ml_drift *d, struct ml_reader *r, struct ml_err *err)
{
	size_t extra = 0;
	if (ml_reader_ncols(r) > d->input_cols)
		d->input_cols = ml_reader_ncols(r);
	for (size_t i = 0; i < d->ncols; i++)
		d->cols[i].in_input |= ml_reader_find_column(r, d->cols[i].name) >= 0;
	for (size_t i = 0; i < ml_reader_ncols(r); i++)
		extra += ml_schema_find(&d->schema, ml_reader_colname(r, i)) < 0;
	if (extra > d->extra_cols)
		d->extra_cols = extra;
	if (ml_reader_bind(r, &d->schema, 1, err) < 0)
		return -1;
	struct ml_batch b;
	ml_batch_init(&b);
	long n;
	while ((n = ml_reader_read_batch(r, &b, err)) > 0)
		if (observe(d, &b, err) < 0) {
			n = -1;
			break;
		}
	ml_batch_release(&b);
	return n < 0 ? -1 : 0;
}

size_t ml_drift_ncols(const struct ml_drift *d)
{
	return d->ncols;
}

const char *ml_drift_colname(const struct ml_drift *d, size_t i)
{
	return i < d->ncols ? d->cols[i].name : NULL;
}

int ml_drift_add_row(struct ml_drift *d, const struct ml_field *fields, struct ml_err *err)
{
	for (size_t i = 0; i < d->ncols; i++) {
		struct dcol *c = &d->cols[i];
		const struct ml_field *f = &fields[i];
		int rc = 0;
		if ((f->flags & ML_FIELD_ABSENT) || (!c->numeric && f->len == 0))
			c->missing++;
		else
			rc = c->numeric ? observe_number(c, f->ptr, f->len, err) : observe_string(c, f->ptr, f->len, err);
		if (rc < 0)
			return -1;
	}
	d->rows++;
	return 0;
}

void ml_drift_input_columns(struct ml_drift *d, const uint8_t *present, size_t extra_cols)
{
	size_t n = extra_cols;
	for (size_t i = 0; i < d->ncols; i++) {
		d->cols[i].in_input |= present[i] != 0;
		n += present[i] != 0;
	}
	if (n > d->input_cols)
		d->input_cols = n;
	if (extra_cols > d->extra_cols)
		d->extra_cols = extra_cols;
}

uint64_t ml_drift_rows(const struct ml_drift *d)
{
	return d->rows;
}

/* ---- results ---- */

static void kll_into_sample(double v, uint64_t w, void *arg)
{
	sample_add(arg, v, (double)w, NULL);	/* out of memory shows as a short sample */
}

static double sample_total(const struct sample *s)
{
	double t = 0;
	for (size_t i = 0; i < s->n; i++)
		t += s->w[i];
	return t;
}

/* Wasserstein-1 distance of two weighted samples (sorted): the area between their CDFs. */
static double wasserstein(const struct sample *a, const struct sample *b)
{
	double ta = sample_total(a), tb = sample_total(b), ca = 0, cb = 0, area = 0, prev = 0;
	if (!(ta > 0) || !(tb > 0))
		return NAN;
	size_t i = 0, j = 0;
	int first = 1;
	while (i < a->n || j < b->n) {
		double x = j == b->n || (i < a->n && a->v[i] <= b->v[j]) ? a->v[i] : b->v[j];
		if (!first)
			area += fabs(ca / ta - cb / tb) * (x - prev);
		while (i < a->n && a->v[i] == x)
			ca += a->w[i++];
		while (j < b->n && b->v[j] == x)
			cb += b->w[j++];
		prev = x;
		first = 0;
	}
	return area;
}

/* Shares of s in the baseline's NBINS equal-width buckets over [min, max], the outer ones open. */
static void bin_shares(const struct dcol *c, const struct sample *s, double out[NBINS])
{
	double width = (c->max - c->min) / NBINS, total = sample_total(s);
	memset(out, 0, NBINS * sizeof *out);
	for (size_t i = 0; i < s->n; i++) {
		double f = width > 0 ? floor((s->v[i] - c->min) / width) : 0;
		long b = f < 0 ? 0 : f >= NBINS - 1 ? NBINS - 1 : (long)f;
		out[b] += s->w[i];
	}
	for (int b = 0; b < NBINS; b++)
		out[b] = total > 0 ? out[b] / total : NAN;
}

/* Population stability index of shares q (current) against p (baseline). */
static double psi(const double *p, const double *q, size_t n)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		double a = p[i] > 0 ? p[i] : PSI_FLOOR, b = q[i] > 0 ? q[i] : PSI_FLOOR;
		sum += (b - a) * log(b / a);
	}
	return sum;
}

/* Jensen-Shannon distance (natural logarithm; scipy.spatial.distance.jensenshannon). */
static double js_distance(const double *p, const double *q, size_t n)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		double m = (p[i] + q[i]) / 2;
		if (p[i] > 0)
			sum += p[i] * log(p[i] / m);
		if (q[i] > 0)
			sum += q[i] * log(q[i] / m);
	}
	return sqrt(fmax(sum / 2, 0));
}

struct outcome {
	double dist, adjusted, pvalue;	/* pvalue NaN unless the method is a test */
	double n_base, n_current;
	int exact;			/* ks: the exact p-value (else asymptotic) */
};

static void numeric_outcome(const struct dcol *c, enum ml_drift_method m, struct outcome *o)
{
	struct sample cur = { 0 };
	ml_kll_visit(c->sketch, kll_into_sample, &cur);
	sample_sort(&cur, NULL);
	o->n_current = (double)ml_kll_count(c->sketch);
	o->n_base = sample_total(&c->base);
	double p[NBINS], q[NBINS], w;
	switch (m) {
	case ML_DRIFT_LINF:
	case ML_DRIFT_KS:
		o->dist = ml_linf_distance(c->base.v, c->base.w, c->base.n, cur.v, cur.w, cur.n);
		if (m == ML_DRIFT_KS)
			o->pvalue = ml_ks_2samp_pvalue_auto(o->dist, o->n_base, o->n_current, &o->exact);
		break;
	case ML_DRIFT_PSI:
	case ML_DRIFT_JS:
		bin_shares(c, &c->base, p);
		bin_shares(c, &cur, q);
		o->dist = o->n_current > 0 && o->n_base > 0 ? (m == ML_DRIFT_PSI ? psi : js_distance)(p, q, NBINS) : NAN;
		break;
	case ML_DRIFT_WASSERSTEIN:
		w = wasserstein(&c->base, &cur);
		o->dist = c->std_dev > 0 ? w / c->std_dev : w;
		break;
	default:
		o->dist = NAN;
	}
	sample_free(&cur);
}

/* The union of baseline and current values, as two count vectors (n entries). */
static size_t category_counts(const struct dcol *c, double **base, double **cur)
{
	size_t nv = ml_dict_size(c->values), nb = ml_dict_size(c->base_values), n = 0;
	*base = calloc(nv + nb + 1, sizeof **base);
	*cur = calloc(nv + nb + 1, sizeof **cur);
	if (!*base || !*cur)
		return 0;
	for (size_t id = 0; id < nv; id++) {
		size_t len;
		const char *v = ml_dict_name(c->values, (int32_t)id, &len);
		int32_t b = ml_dict_find(c->base_values, v, len);
		(*cur)[n] = (double)c->counts[id];
		(*base)[n++] = b < 0 ? 0 : (double)c->base_counts[b];
	}
	for (size_t b = 0; b < nb; b++) {	/* values gone from the data */
		size_t len;
		const char *v = ml_dict_name(c->base_values, (int32_t)b, &len);
		if (ml_dict_find(c->values, v, len) < 0) {
			(*cur)[n] = 0;
			(*base)[n++] = (double)c->base_counts[b];
		}
	}
	return n;
}

/* Pearson's chi-square test of homogeneity of the 2 x k table (no continuity correction). */
static double chi2_homogeneity(const double *a, const double *b, size_t n, double ta, double tb, double *pvalue)
{
	double stat = 0, t = ta + tb;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		double col = a[i] + b[i];
		if (col <= 0)
			continue;
		double ea = col * ta / t, eb = col * tb / t;
		stat += (a[i] - ea) * (a[i] - ea) / ea + (b[i] - eb) * (b[i] - eb) / eb;
		k++;
	}
	*pvalue = k < 2 ? 1 : ml_chi2_sf(stat, (double)(k - 1));
	return k < 2 ? 0 : stat;
}

static void categorical_outcome(const struct dcol *c, enum ml_drift_method m, struct outcome *o)
{
	double *base = NULL, *cur = NULL;
	size_t n = category_counts(c, &base, &cur);
	double tb = 0, tc = 0;
	for (size_t i = 0; i < n; i++) {
		tb += base[i];
		tc += cur[i];
	}
	o->n_base = (double)c->base_total;
	o->n_current = tc;
	o->dist = NAN;
	if (tb > 0 && tc > 0) {
		if (m == ML_DRIFT_CHI2) {
			o->dist = chi2_homogeneity(base, cur, n, tb, tc, &o->pvalue);
		} else {
			for (size_t i = 0; i < n; i++) {
				base[i] /= tb;
				cur[i] /= tc;
			}
			if (m == ML_DRIFT_LINF)
				for (size_t i = 0; i < n; i++)
					o->dist = i ? fmax(o->dist, fabs(cur[i] - base[i])) : fabs(cur[i] - base[i]);
			else
				o->dist = m == ML_DRIFT_PSI ? psi(base, cur, n) : js_distance(base, cur, n);
		}
	}
	free(base);
	free(cur);
}

/* ---- distributions for plots ---- */

static json_t *real_or_null(double x)
{
	return isnan(x) ? json_null() : json_real(x);
}


struct share_row {
	size_t i;
	double key;
};

static int cmp_share_row(const void *a, const void *b)
{
	const struct share_row *x = a, *y = b;
	return x->key < y->key ? 1 : x->key > y->key ? -1 : (x->i > y->i) - (x->i < y->i);
}

static json_t *reals(const double *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, real_or_null(v[i]));
	return a;
}

static json_t *numeric_distribution(const struct dcol *c)
{
	struct sample cur = { 0 };
	double p[NBINS], q[NBINS], edges[NBINS + 1];
	ml_kll_visit(c->sketch, kll_into_sample, &cur);
	bin_shares(c, &c->base, p);
	bin_shares(c, &cur, q);
	sample_free(&cur);
	for (int i = 0; i <= NBINS; i++)
		edges[i] = i == NBINS ? c->max : c->min + i * (c->max - c->min) / NBINS;
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "feature", c->name, "kind", "numeric", "edges",
			 reals(edges, NBINS + 1), "baseline", reals(p, NBINS), "current", reals(q, NBINS));
}

/* The values with the largest shares (in either), the rest summed as "(other)". */
static json_t *categorical_distribution(const struct dcol *c, size_t max_values)
{
	double *base = NULL, *cur = NULL, tb = 0, tc = 0;
	size_t n = category_counts(c, &base, &cur);
	struct share_row *rows = calloc(n + 1, sizeof *rows);
	json_t *labels = json_array(), *jb = json_array(), *jc = json_array(), *out = NULL;
	if (!rows || !labels || !jb || !jc)
		goto done;
	for (size_t i = 0; i < n; i++) {
		tb += base[i];
		tc += cur[i];
	}
	for (size_t i = 0; i < n; i++)
		rows[i] = (struct share_row){ i, fmax(tb > 0 ? base[i] / tb : 0, tc > 0 ? cur[i] / tc : 0) };
	qsort(rows, n, sizeof *rows, cmp_share_row);
	size_t nv = ml_dict_size(c->values), shown = n > max_values ? max_values - 1 : n;
	double ob = 0, oc = 0;
	for (size_t k = 0; k < n; k++) {
		size_t i = rows[k].i, len;
		double sb = tb > 0 ? base[i] / tb : 0, sc = tc > 0 ? cur[i] / tc : 0;
		if (k >= shown) {
			ob += sb;
			oc += sc;
			continue;
		}
		/* category_counts() lists the current values first, then the baseline's others */
		const char *v = i < nv ? ml_dict_name(c->values, (int32_t)i, &len) : NULL;
		if (!v) {
			size_t seen = nv;
			for (size_t b = 0; b < ml_dict_size(c->base_values); b++) {
				const char *bv = ml_dict_name(c->base_values, (int32_t)b, &len);
				if (ml_dict_find(c->values, bv, len) >= 0)
					continue;
				if (seen++ == i) {
					v = bv;
					break;
				}
			}
		}
		json_array_append_new(labels, json_stringn(v ? v : "?", v ? len : 1));
		json_array_append_new(jb, json_real(sb));
		json_array_append_new(jc, json_real(sc));
	}
	if (n > shown) {
		json_array_append_new(labels, json_string("(other)"));
		json_array_append_new(jb, json_real(ob));
		json_array_append_new(jc, json_real(oc));
	}
	out = json_pack("{s:s, s:s, s:O, s:O, s:O}", "feature", c->name, "kind", "categorical", "labels", labels,
			"baseline", jb, "current", jc);
done:
	json_decref(labels);
	json_decref(jb);
	json_decref(jc);
	free(rows);
	free(base);
	free(cur);
	return out;
}

json_t *ml_drift_distributions(const struct ml_drift *d, size_t max_values)
{
	json_t *all = json_array();
	for (size_t i = 0; all && i < d->ncols; i++) {
		const struct dcol *c = &d->cols[i];
		if (!c->in_input)
			continue;
		json_t *one = c->numeric ? numeric_distribution(c) : categorical_distribution(c, max_values < 2 ? 2 : max_values);
		if (!one || json_array_append_new(all, one) < 0) {
			json_decref(all);
			return NULL;
		}
	}
	return all;
}

static int violation(json_t *list, const char *feature, const char *check, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int violation(json_t *list, const char *feature, const char *check, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "feature_name", feature,
						     "constraint_check_type", check, "description", text));
}

static json_t *drift_record(const struct ml_drift *d, const struct dcol *c, json_t *violations)
{
	enum ml_drift_method m = d->method[c->numeric];
	double threshold = d->method_threshold[c->numeric];
	if (isnan(threshold))
		threshold = m == ML_DRIFT_LINF ? d->threshold : methods[m].threshold;
	struct outcome o = { .dist = NAN, .pvalue = NAN };
	if (c->numeric)
		numeric_outcome(c, m, &o);
	else
		categorical_outcome(c, m, &o);
	o.adjusted = o.dist;
	if (m == ML_DRIFT_LINF && d->robust && o.n_current > 0 && o.n_base > 0)
		o.adjusted = fmax(0, o.dist - 1.8 * sqrt((o.n_base + o.n_current) / (o.n_base * o.n_current)));
	int drifted = 0;
	if (methods[m].pvalue) {
		drifted = d->compare && !isnan(o.pvalue) && o.pvalue < threshold;
		if (drifted)
			violation(violations, c->name, "baseline_drift_check",
				  "Baseline drift %s test p-value: %.6g is below threshold: %g (statistic %.6g)",
				  m == ML_DRIFT_KS ? "Kolmogorov-Smirnov" : "chi-square", o.pvalue, threshold, o.dist);
	} else {
		drifted = d->compare && !isnan(o.adjusted) && o.adjusted > threshold;
		if (drifted && m == ML_DRIFT_LINF)
			violation(violations, c->name, "baseline_drift_check",
				  "Baseline drift distance: %.6g exceeds threshold: %g", o.adjusted, threshold);
		else if (drifted)
			violation(violations, c->name, "baseline_drift_check",
				  "Baseline drift distance (%s): %.6g exceeds threshold: %g", methods[m].name, o.adjusted,
				  threshold);
	}
	const char *name = m != ML_DRIFT_LINF ? methods[m].name : d->robust ? "linf_robust" : "linf_simple";
	json_t *r = json_pack("{s:s, s:s, s:o, s:f, s:b, s:f, s:f}", "feature", c->name, "method", name, "distance",
			      real_or_null(o.dist), "threshold", threshold, "drifted", drifted, "baseline_count",
			      o.n_base, "current_count", o.n_current);
	if (r && m == ML_DRIFT_LINF)
		json_object_set_new(r, "adjusted_distance", real_or_null(o.adjusted));
	if (r && methods[m].pvalue)
		json_object_set_new(r, "p_value", real_or_null(o.pvalue));
	if (r && m == ML_DRIFT_KS)
		json_object_set_new(r, "p_value_method", json_string(o.exact ? "exact" : "asymp"));
	return r;
}

static void column_checks(const struct ml_drift *d, const struct dcol *c, json_t *violations)
{
	double rows = (double)d->rows, present = (double)c->present;
	if (rows > 0 && present / rows < c->completeness)
		violation(violations, c->name, "completeness_check",
			  "Data completeness requirement is not met. Expected completeness: %.1f%%. Observed: %.1f%%.",
			  100 * c->completeness, 100 * present / rows);
	if (c->numeric && present > 0 && 1 - (double)c->wrong_type / present < d->datatype_threshold)
		violation(violations, c->name, "data_type_check",
			  "Data type match requirement is not met. Expected data type: %s, Expected match: %.1f%%. "
			  "Observed: Only %.1f%% of data is %s.",
			  c->integral ? "Integral" : "Fractional", 100 * d->datatype_threshold,
			  100 * (1 - (double)c->wrong_type / present), c->integral ? "Integral" : "Fractional");
	if (c->domain && present > 0 && 1 - (double)c->outside / present < d->domain_threshold)
		violation(violations, c->name, "categorical_values_check",
			  "Data does not meet domain content requirement. Expected: %.1f%%. Observed: %.1f%% of data "
			  "within the domain.",
			  100 * d->domain_threshold, 100 * (1 - (double)c->outside / present));
}

int ml_drift_results(const struct ml_drift *d, json_t **violations, json_t **records, struct ml_err *err)
{
	*violations = json_array();
	*records = json_array();
	if (!*violations || !*records)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	size_t missing = 0;
	for (size_t i = 0; i < d->ncols; i++) {
		const struct dcol *c = &d->cols[i];
		if (!c->in_input) {
			missing++;
			continue;
		}
		column_checks(d, c, *violations);
		json_array_append_new(*records, drift_record(d, c, *violations));
	}
	for (size_t i = 0; i < d->ncols && missing; i++)
		if (!d->cols[i].in_input)
			violation(*violations, d->cols[i].name, "missing_column_check",
				  "There are missing columns in current dataset. Number of columns in current dataset: "
				  "%zu, Number of columns in baseline constraints: %zu",
				  d->input_cols, d->ncols);
	if (d->extra_cols)
		violation(*violations, "", "extra_column_check",
			  "There are extra columns in current dataset. Number of columns in current dataset: %zu, "
			  "Number of columns in baseline constraints: %zu",
			  d->input_cols, d->ncols);
	return 0;
}
