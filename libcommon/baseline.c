/* baseline.c - statistics.json and constraints.json in one pass (see baseline.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/baseline.h"
#include "mlpipe/buf.h"
#include "mlpipe/dict.h"
#include "mlpipe/kll.h"
#include "mlpipe/threads.h"

#define KLL_K 2048

struct numeric {
	double sum, mean, m2, min, max;
	int integral;			/* every present value is whole */
	struct ml_kll *sketch;
};

struct strings {
	struct ml_dict *values;		/* our own ids: the batch's are per reader */
	uint64_t *counts;
	size_t ncounts;
	uint64_t unlisted;		/* present values past ML_BASELINE_MAX_VALUES */
};

struct column {
	const char *name;		/* borrowed from the schema copy */
	enum ml_type type;
	size_t batch_col;
	uint64_t present, missing;
	struct numeric num;
	struct strings str;
};

struct ml_baseline {
	struct ml_schema schema;
	struct column *cols;
	size_t ncols;
	uint64_t rows;
};

void ml_baseline_free(struct ml_baseline *bl)
{
	if (!bl)
		return;
	for (size_t i = 0; i < bl->ncols; i++) {
		ml_kll_free(bl->cols[i].num.sketch);
		ml_dict_free(bl->cols[i].str.values);
		free(bl->cols[i].str.counts);
	}
	free(bl->cols);
	ml_schema_release(&bl->schema);
	free(bl);
}

static int column_init(struct column *c, const struct ml_column_def *d, size_t at, struct ml_err *err)
{
	c->name = d->name;
	c->type = d->type;
	c->batch_col = at;
	if (d->type == ML_TYPE_NUMERIC) {
		c->num.integral = 1;
		c->num.min = INFINITY;
		c->num.max = -INFINITY;
		return (c->num.sketch = ml_kll_new(KLL_K, err)) ? 0 : -1;
	}
	return (c->str.values = ml_dict_new(ML_BASELINE_MAX_VALUES, err)) ? 0 : -1;
}

struct ml_baseline *ml_baseline_new(const struct ml_schema *s, struct ml_err *err)
{
	struct ml_baseline *bl = ml_calloc(1, sizeof *bl, err);
	if (!bl)
		return NULL;
	ml_schema_init(&bl->schema);
	if (ml_schema_copy(&bl->schema, s, err) < 0 || !(bl->cols = ml_calloc(s->n + 1, sizeof *bl->cols, err)))
		goto fail;
	for (size_t i = 0; i < s->n; i++) {
		if (bl->schema.cols[i].role == ML_ROLE_IGNORE)
			continue;
		if (column_init(&bl->cols[bl->ncols], &bl->schema.cols[i], i, err) < 0)
			goto fail;
		bl->ncols++;
	}
	return bl;
fail:
	ml_baseline_free(bl);
	return NULL;
}

/* Is every present value of v[0..n) whole? */
static int all_integral(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]) && v[i] != floor(v[i]))
			return 0;
	return 1;
}

/*
 * A batch's count, sum, range and squared deviations from its own mean, then
 * merged into the running ones (Chan, Golub and LeVeque's update, as
 * ml_baseline_merge does): no division per value, no chain through the
 * running mean.
 */
static int add_numeric(struct column *c, const double *v, size_t n, struct ml_err *err)
{
	struct numeric *s = &c->num;
	size_t m = 0;
	double sum = 0, lo = s->min, hi = s->max, m2 = 0;
	for (size_t i = 0; i < n; i++) {
		double x = v[i];
		if (isnan(x))
			continue;
		m++;
		sum += x;
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
	}
	c->missing += n - m;
	if (m == 0)
		return 0;
	double mean = sum / (double)m;
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]))
			m2 += (v[i] - mean) * (v[i] - mean);
	double na = (double)c->present, nb = (double)m, delta = mean - s->mean;
	s->mean += delta * nb / (na + nb);
	s->m2 += m2 + delta * delta * na * nb / (na + nb);
	s->sum += sum;
	s->min = lo;
	s->max = hi;
	c->present += m;
	if (s->integral)
		s->integral = all_integral(v, n);
	return ml_kll_add_n(s->sketch, v, n, err);
}

/* k more occurrences of a value (k > 1 when merging baselines). */
static int count_value(struct column *c, const char *text, size_t len, uint64_t k, struct ml_err *err)
{
	struct strings *s = &c->str;
	c->present += k;
	int32_t id = ml_dict_find(s->values, text, len);
	if (id < 0 && ml_dict_size(s->values) >= ML_BASELINE_MAX_VALUES) {
		s->unlisted += k;
		return 0;
	}
	if (id < 0 && (id = ml_dict_intern(s->values, text, len, err)) < 0)
		return -1;
	if ((size_t)id >= s->ncounts) {
		size_t n = s->ncounts ? s->ncounts * 2 : 64;
		uint64_t *counts = ml_realloc_array(s->counts, n, sizeof *counts, err);
		if (!counts)
			return -1;
		memset(counts + s->ncounts, 0, (n - s->ncounts) * sizeof *counts);
		s->counts = counts;
		s->ncounts = n;
	}
	s->counts[id] += k;
	return 0;
}

/* Empty text is a missing value, as it is for the reader's categories. */
static int add_strings(struct column *c, const struct ml_batch *b, const struct ml_batch_col *col,
		       struct ml_err *err)
{
	for (size_t r = 0; r < b->nrows; r++) {
		const char *text = NULL;
		size_t len = 0;
		if (col->type == ML_TYPE_CATEGORICAL && col->cat[r] >= 0) {
			text = ml_dict_name(col->dict, col->cat[r], &len);
		} else if (col->type == ML_TYPE_TEXT && col->text_len[r] != ML_TEXT_MISSING && ml_text_len(col->text_len[r])) {
			text = b->text.data + col->text_off[r];
			len = ml_text_len(col->text_len[r]);
		}
		if (!text)
			c->missing++;
		else if (count_value(c, text, len, 1, err) < 0)
			return -1;
	}
	return 0;
}

struct add_ctx {
	struct ml_baseline *bl;
	const struct ml_batch *b;
};

/* One column over a batch; columns are independent, so they run in parallel. */
static int add_column(size_t i, void *arg, struct ml_err *err)
{
	const struct add_ctx *a = arg;
	struct column *c = &a->bl->cols[i];
	const struct ml_batch_col *col = &a->b->cols[c->batch_col];
	return c->type == ML_TYPE_NUMERIC ? add_numeric(c, col->num, a->b->nrows, err) : add_strings(c, a->b, col, err);
}

int ml_baseline_add(struct ml_baseline *bl, const struct ml_batch *b, struct ml_err *err)
{
	struct add_ctx a = { bl, b };
	if (ml_parallel_for(bl->ncols, bl->ncols * b->nrows, add_column, &a, err) < 0)
		return -1;
	bl->rows += b->nrows;
	return 0;
}

/* ---- statistics.json ---- */

static json_t *common_json(const struct column *c)
{
	return json_pack("{s:I, s:I}", "num_present", (json_int_t)c->present, "num_missing",
			 (json_int_t)c->missing);
}

struct bucket_fill {
	double lo, width;
	double counts[ML_BASELINE_BUCKETS];
};

static void fill_bucket(double v, uint64_t w, void *arg)
{
	struct bucket_fill *f = arg;
	long i = f->width > 0 ? (long)((v - f->lo) / f->width) : 0;
	i = i < 0 ? 0 : i >= ML_BASELINE_BUCKETS ? ML_BASELINE_BUCKETS - 1 : i;
	f->counts[i] += (double)w;
}

/* Deequ's summary: 10 equal-width buckets between min and max, counts from the sketch. */
static json_t *kll_buckets(const struct numeric *s)
{
	struct bucket_fill f = { s->min, (s->max - s->min) / ML_BASELINE_BUCKETS, { 0 } };
	ml_kll_visit(s->sketch, fill_bucket, &f);
	json_t *buckets = json_array();
	for (int i = 0; buckets && i < ML_BASELINE_BUCKETS; i++)
		json_array_append_new(buckets, json_pack("{s:f, s:f, s:f}", "lower_bound", f.lo + i * f.width,
							 "upper_bound",
							 i + 1 == ML_BASELINE_BUCKETS ? s->max : f.lo + (i + 1) * f.width,
							 "count", f.counts[i]));
	return buckets;
}

/* The sketch as Model Monitor serialises it: parameters, and one array per level. */
static json_t *kll_sketch(const struct numeric *s)
{
	json_t *ours = ml_kll_to_json(s->sketch);
	json_t *data = json_incref(json_object_get(ours, "levels"));
	json_decref(ours);
	return json_pack("{s:{s:f, s:f}, s:o}", "parameters", "c", 2.0 / 3.0, "k", (double)KLL_K, "data", data);
}

static json_t *numeric_json(const struct column *c)
{
	const struct numeric *s = &c->num;
	if (!c->present)
		return json_pack("{s:o}", "common", common_json(c));
	return json_pack("{s:o, s:f, s:f, s:f, s:f, s:f, s:{s:{s:o, s:o}}}", "common", common_json(c), "mean",
			 s->mean, "sum", s->sum, "std_dev", sqrt(s->m2 / (double)c->present), "min", s->min,
			 "max", s->max, "distribution", "kll", "buckets", kll_buckets(s), "sketch", kll_sketch(s));
}

static json_t *string_json(const struct column *c)
{
	const struct strings *s = &c->str;
	json_t *buckets = json_array();
	size_t n = ml_dict_size(s->values);
	for (size_t id = 0; buckets && id < n; id++) {
		size_t len;
		const char *v = ml_dict_name(s->values, (int32_t)id, &len);
		json_array_append_new(buckets, json_pack("{s:s%, s:I}", "value", v, len, "count",
							 (json_int_t)s->counts[id]));
	}
	/* distinct_count is exact while every value fits the list */
	return json_pack("{s:o, s:I, s:{s:{s:o}}}", "common", common_json(c), "distinct_count",
			 (json_int_t)(n + (s->unlisted ? 1 : 0)), "distribution", "categorical", "buckets", buckets);
}

static const char *inferred_type(const struct column *c)
{
	if (c->type != ML_TYPE_NUMERIC)
		return "String";
	if (!c->present)
		return "Unknown";
	return c->num.integral ? "Integral" : "Fractional";
}

json_t *ml_baseline_statistics(const struct ml_baseline *bl)
{
	json_t *features = json_array();
	for (size_t i = 0; features && i < bl->ncols; i++) {
		const struct column *c = &bl->cols[i];
		int numeric = c->type == ML_TYPE_NUMERIC;
		json_array_append_new(features, json_pack("{s:s, s:s, s:o}", "name", c->name, "inferred_type",
							  inferred_type(c),
							  numeric ? "numerical_statistics" : "string_statistics",
							  numeric ? numeric_json(c) : string_json(c)));
	}
	return json_pack("{s:f, s:{s:I}, s:o}", "version", 0.0, "dataset", "item_count", (json_int_t)bl->rows,
			 "features", features);
}

/* ---- constraints.json ---- */

static json_t *feature_constraint(const struct column *c, uint64_t rows)
{
	double completeness = rows ? (double)c->present / (double)rows : 1.0;
	json_t *f = json_pack("{s:s, s:s, s:f}", "name", c->name, "inferred_type", inferred_type(c),
			      "completeness", completeness);
	if (c->type == ML_TYPE_NUMERIC && c->present) {
		json_object_set_new(f, "num_constraints",
				    json_pack("{s:b}", "is_non_negative", c->num.min >= 0));
	} else if (c->type != ML_TYPE_NUMERIC && !c->str.unlisted) {
		json_t *domains = json_array();
		size_t n = ml_dict_size(c->str.values);
		for (size_t id = 0; domains && id < n; id++) {
			size_t len;
			const char *v = ml_dict_name(c->str.values, (int32_t)id, &len);
			json_array_append_new(domains, json_stringn(v, len));
		}
		json_object_set_new(f, "string_constraints", json_pack("{s:o}", "domains", domains));
	}
	return f;
}

json_t *ml_baseline_constraints(const struct ml_baseline *bl)
{
	json_t *features = json_array();
	for (size_t i = 0; features && i < bl->ncols; i++)
		json_array_append_new(features, feature_constraint(&bl->cols[i], bl->rows));
	return json_pack("{s:f, s:o, s:{s:s, s:s, s:f, s:f, s:{s:s, s:f, s:s}}}", "version", 0.0, "features",
			 features, "monitoring_config", "evaluate_constraints", "Enabled", "emit_metrics", "Enabled",
			 "datatype_check_threshold", 1.0, "domain_content_threshold", 1.0,
			 "distribution_constraints", "perform_comparison", "Enabled", "comparison_threshold", 0.1,
			 "comparison_method", "Robust");
}

/* ---- reading back and merging ---- */

static double member_number(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Model Monitor's sketch ({"parameters": {"k"}, "data": [[level 0], ...]}) as our KLL. */
static struct ml_kll *sketch_from_json(const json_t *sketch, const struct column *c, const char *name,
				       struct ml_err *err)
{
	const json_t *data = json_object_get(sketch, "data");
	double k = member_number(json_object_get(sketch, "parameters"), "k");
	if (!json_is_array(data) || isnan(k)) {
		ml_err_set(err, ML_ERR_DATA, "%s: %s: no KLL sketch to merge", name, c->name);
		return NULL;
	}
	double weight = 0;
	for (size_t h = 0; h < json_array_size(data); h++)
		weight += ldexp((double)json_array_size(json_array_get(data, h)), (int)h);
	json_t *ours = json_pack("{s:I, s:I, s:f, s:f, s:b, s:O}", "k", (json_int_t)k, "n", (json_int_t)weight, "min",
				 c->num.min, "max", c->num.max, "exact", json_array_size(data) <= 1, "levels", data);
	struct ml_kll *kll = ours ? ml_kll_from_json(ours, name, err) : NULL;
	json_decref(ours);
	return kll;
}

static int numeric_from_json(struct column *c, const json_t *ns, int integral, const char *name,
			     struct ml_err *err)
{
	const json_t *common = json_object_get(ns, "common");
	c->present = (uint64_t)fmax(0, member_number(common, "num_present"));
	c->missing = (uint64_t)fmax(0, member_number(common, "num_missing"));
	c->num.integral = integral;
	if (!c->present)
		return 0;
	double sd = member_number(ns, "std_dev");
	c->num.mean = member_number(ns, "mean");
	c->num.sum = member_number(ns, "sum");
	c->num.min = member_number(ns, "min");
	c->num.max = member_number(ns, "max");
	c->num.m2 = sd * sd * (double)c->present;
	if (isnan(c->num.mean) || isnan(c->num.sum) || isnan(sd) || isnan(c->num.min) || isnan(c->num.max))
		return ml_err_set(err, ML_ERR_DATA, "%s: %s: numerical_statistics lacks mean, sum, std_dev, min or max",
				  name, c->name);
	ml_kll_free(c->num.sketch);
	const json_t *kll = json_object_get(json_object_get(ns, "distribution"), "kll");
	c->num.sketch = sketch_from_json(json_object_get(kll, "sketch"), c, name, err);
	return c->num.sketch ? 0 : -1;
}

static int strings_from_json(struct column *c, const json_t *ss, struct ml_err *err)
{
	const json_t *common = json_object_get(ss, "common");
	const json_t *buckets = json_object_get(json_object_get(json_object_get(ss, "distribution"), "categorical"),
						"buckets");
	c->missing = (uint64_t)fmax(0, member_number(common, "num_missing"));
	uint64_t present = (uint64_t)fmax(0, member_number(common, "num_present")), listed = 0;
	for (size_t i = 0; i < json_array_size(buckets); i++) {
		const json_t *b = json_array_get(buckets, i);
		const char *v = json_string_value(json_object_get(b, "value"));
		double count = member_number(b, "count");
		if (!v || !(count >= 0))
			continue;
		if (count_value(c, v, strlen(v), (uint64_t)count, err) < 0)
			return -1;
		listed += (uint64_t)count;
	}
	if (present > listed) {	/* values the file did not list */
		c->str.unlisted += present - listed;
		c->present = present;
	}
	return 0;
}

struct ml_baseline *ml_baseline_from_statistics(const json_t *stats, const char *name, struct ml_err *err)
{
	const json_t *features = json_object_get(stats, "features");
	struct ml_schema s;
	ml_schema_init(&s);
	if (!json_is_array(features)) {
		ml_err_set(err, ML_ERR_DATA, "%s: no \"features\" list", name);
		return NULL;
	}
	for (size_t i = 0; i < json_array_size(features); i++) {
		const json_t *f = json_array_get(features, i);
		const char *fname = json_string_value(json_object_get(f, "name"));
		int numeric = json_object_get(f, "numerical_statistics") != NULL;
		if (!fname || ml_schema_add(&s, fname, numeric ? ML_TYPE_NUMERIC : ML_TYPE_TEXT, ML_ROLE_FEATURE, err) < 0) {
			if (!fname)
				ml_err_set(err, ML_ERR_DATA, "%s: a feature has no name", name);
			ml_schema_release(&s);
			return NULL;
		}
	}
	struct ml_baseline *bl = ml_baseline_new(&s, err);
	ml_schema_release(&s);
	for (size_t i = 0; bl && i < bl->ncols; i++) {
		const json_t *f = json_array_get(features, i);
		const char *type = json_string_value(json_object_get(f, "inferred_type"));
		struct column *c = &bl->cols[i];
		int rc = c->type == ML_TYPE_NUMERIC
				 ? numeric_from_json(c, json_object_get(f, "numerical_statistics"),
						     type && !strcmp(type, "Integral"), name, err)
				 : strings_from_json(c, json_object_get(f, "string_statistics"), err);
		if (rc < 0) {
			ml_baseline_free(bl);
			return NULL;
		}
	}
	if (bl)
		bl->rows = (uint64_t)fmax(0, member_number(json_object_get(stats, "dataset"), "item_count"));
	return bl;
}

static int merge_numeric(struct column *d, const struct column *s, struct ml_err *err)
{
	if (!s->present)
		return 0;
	if (d->present) {	/* Chan et al.: exact mean and sum of squares of the union */
		double na = (double)d->present, nb = (double)s->present, n = na + nb, delta = s->num.mean - d->num.mean;
		d->num.mean += delta * nb / n;
		d->num.m2 += s->num.m2 + delta * delta * na * nb / n;
	} else {
		d->num.mean = s->num.mean;
		d->num.m2 = s->num.m2;
	}
	d->num.sum += s->num.sum;
	d->num.min = fmin(d->num.min, s->num.min);
	d->num.max = fmax(d->num.max, s->num.max);
	d->num.integral &= s->num.integral;
	d->present += s->present;
	return ml_kll_merge(d->num.sketch, s->num.sketch, err);
}

static int merge_strings(struct column *d, const struct column *s, struct ml_err *err)
{
	size_t n = ml_dict_size(s->str.values);
	for (size_t id = 0; id < n; id++) {
		size_t len;
		const char *v = ml_dict_name(s->str.values, (int32_t)id, &len);
		if (count_value(d, v, len, s->str.counts[id], err) < 0)
			return -1;
	}
	d->str.unlisted += s->str.unlisted;
	d->present += s->str.unlisted;
	return 0;
}

int ml_baseline_merge(struct ml_baseline *dst, const struct ml_baseline *src, const char *name, struct ml_err *err)
{
	for (size_t i = 0; i < src->ncols; i++) {
		const struct column *s = &src->cols[i];
		struct column *d = NULL;
		for (size_t j = 0; j < dst->ncols && !d; j++)
			if (!strcmp(dst->cols[j].name, s->name))
				d = &dst->cols[j];
		if (!d || d->type != s->type)
			return ml_err_set(err, ML_ERR_DATA, "%s: column \"%s\" %s", name, s->name,
					  d ? "has another type than in the first baseline" : "is not in the first baseline");
		int rc = s->type == ML_TYPE_NUMERIC ? merge_numeric(d, s, err) : merge_strings(d, s, err);
		if (rc < 0)
			return -1;
		d->missing += s->missing;
	}
	if (src->ncols != dst->ncols)
		return ml_err_set(err, ML_ERR_DATA, "%s: %zu columns, the first baseline has %zu", name, src->ncols,
				  dst->ncols);
	dst->rows += src->rows;
	return 0;
}
