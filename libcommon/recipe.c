/*
 * recipe.c - fit and apply feature engineering (see recipe.h).
 *
 * Fit is one streaming pass: numeric columns keep running sums (Welford),
 * min/max, a missing count and a KLL sketch; categorical columns count
 * levels by the reader's dictionary ids.  The fitted values follow
 * scikit-learn's definitions (np.median, population standard deviation,
 * a zero scale replaced by 1, one-hot levels in sorted order), so a recipe
 * can be checked against SimpleImputer / StandardScaler / OneHotEncoder.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/artifact.h"
#include "mlpipe/buf.h"
#include "mlpipe/dict.h"
#include "mlpipe/kll.h"
#include "mlpipe/threads.h"
#include "mlpipe/recipe.h"

#define KLL_K 2048
#define OTHER_LABEL "(other)"

static const char *const impute_names[] = { "none", "median", "mean", "most_frequent", "constant" };
static const char *const scale_names[] = { "none", "standard", "minmax" };
static const char *const encode_names[] = { "onehot", "ordinal" };
static const char *const unseen_names[] = { "other", "missing" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct num_step {
	enum ml_impute impute;
	double fill;		/* imputed value (raw scale) */
	double clip_lo, clip_hi;	/* NaN: none */
	int log1p;
	enum ml_scale scale;
	double center, scale_by;	/* out = (x - center) / scale_by */
};

struct cat_step {
	enum ml_impute impute;
	char *fill;		/* level for missing, or NULL */
	enum ml_encode encode;
	char **levels;		/* sorted */
	size_t nlevels;
	int other;		/* an "(other)" column / code exists */
	enum ml_unseen unseen;
	struct ml_dict *index;	/* level -> position */
};

struct rcol {
	char *name;
	enum ml_type type;
	size_t input_col;	/* index in the input schema */
	size_t first;		/* first output feature */
	size_t width;		/* output features */
	struct num_step num;
	struct cat_step cat;
};

struct ml_recipe {
	struct ml_schema input;
	struct rcol *cols;
	size_t ncols;
	char **features;
	size_t nfeatures;
	char *target;
	long target_col;	/* in the input schema, -1 if none */
	int log1p_target;
	uint64_t rows;
};

void ml_recipe_opts_init(struct ml_recipe_opts *o)
{
	struct ml_infer_opts infer = ML_INFER_DEFAULTS;
	memset(o, 0, sizeof *o);
	o->numeric_impute = ML_IMPUTE_NONE;
	o->categorical_impute = ML_IMPUTE_NONE;
	o->scale = ML_SCALE_NONE;
	o->encode = ML_ENCODE_ONEHOT;
	o->max_levels = 50;
	o->unseen = ML_UNSEEN_OTHER;
	o->clip_low = o->clip_high = NAN;
	o->infer = infer;
}

static void free_col(struct rcol *c)
{
	free(c->name);
	free(c->cat.fill);
	for (size_t i = 0; i < c->cat.nlevels; i++)
		free(c->cat.levels[i]);
	free(c->cat.levels);
	ml_dict_free(c->cat.index);
}

void ml_recipe_free(struct ml_recipe *rc)
{
	if (!rc)
		return;
	for (size_t i = 0; i < rc->ncols; i++)
		free_col(&rc->cols[i]);
	free(rc->cols);
	for (size_t i = 0; i < rc->nfeatures; i++)
		free(rc->features[i]);
	free(rc->features);
	free(rc->target);
	ml_schema_release(&rc->input);
	free(rc);
}

static int in_list(const struct ml_strlist *l, const char *s)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (!strcmp(l->items[i], s))
			return 1;
	return 0;
}

static int lookup_name(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

/* ---- output feature names ---- */

static int add_feature(struct ml_recipe *rc, const char *name, const char *level, struct ml_err *err)
{
	struct ml_buf b;
	ml_buf_init(&b, 1 << 20);
	if (ml_buf_adds(&b, name) < 0 || (level && (ml_buf_addc(&b, '=') < 0 || ml_buf_adds(&b, level) < 0))) {
		ml_buf_release(&b);
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory naming features");
	}
	char **f = ml_realloc_array(rc->features, rc->nfeatures + 1, sizeof *f, err);
	if (!f) {
		ml_buf_release(&b);
		return -1;
	}
	rc->features = f;
	rc->features[rc->nfeatures++] = ml_buf_detach(&b);
	return 0;
}

/* Feature names and positions follow from the columns; computed, never trusted. */
static int lay_out_features(struct ml_recipe *rc, struct ml_err *err)
{
	for (size_t i = 0; i < rc->ncols; i++) {
		struct rcol *c = &rc->cols[i];
		c->first = rc->nfeatures;
		if (c->type == ML_TYPE_NUMERIC || c->cat.encode == ML_ENCODE_ORDINAL) {
			if (add_feature(rc, c->name, NULL, err) < 0)
				return -1;
		} else {
			for (size_t l = 0; l < c->cat.nlevels; l++)
				if (add_feature(rc, c->name, c->cat.levels[l], err) < 0)
					return -1;
			if (c->cat.other && add_feature(rc, c->name, OTHER_LABEL, err) < 0)
				return -1;
		}
		c->width = rc->nfeatures - c->first;
	}
	return 0;
}

static int index_levels(struct cat_step *cs, struct ml_err *err)
{
	cs->index = ml_dict_new(cs->nlevels + 1, err);
	if (!cs->index)
		return -1;
	for (size_t l = 0; l < cs->nlevels; l++)
		if (ml_dict_intern(cs->index, cs->levels[l], strlen(cs->levels[l]), err) != (int32_t)l)
			return ml_err_set(err, ML_ERR_DATA, "level \"%s\" is listed twice", cs->levels[l]);
	return 0;
}

/* ---- fitting ---- */

struct num_stats {
	uint64_t present, missing;
	double mean, m2;		/* Welford over raw values */
	double lmean, lm2;		/* ... over log1p(values) */
	double min, max;
	struct ml_kll *sketch;		/* only when a median, mode or quantile is needed */
};

struct cat_stats {
	uint64_t *counts;		/* by reader dictionary id */
	size_t ncounts;
	uint64_t missing;
};

struct fit_state {
	struct ml_recipe *rc;
	const struct ml_recipe_opts *o;
	struct num_stats *num;		/* by recipe column */
	struct cat_stats *cat;
};

static void welford(double *mean, double *m2, uint64_t n, double x)
{
	double d = x - *mean;
	*mean += d / (double)n;
	*m2 += d * (x - *mean);
}

static int observe_numeric(struct num_stats *st, const double *v, size_t n, int use_log1p, const char *name,
			   struct ml_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (isnan(v[i])) {
			st->missing++;
			continue;
		}
		if (use_log1p && v[i] <= -1)
			return ml_err_set(err, ML_ERR_DATA, "column \"%s\": log1p needs values above -1, found %g",
					  name, v[i]);
		if (st->present++ == 0)
			st->min = st->max = v[i];
		st->min = v[i] < st->min ? v[i] : st->min;
		st->max = v[i] > st->max ? v[i] : st->max;
		welford(&st->mean, &st->m2, st->present, v[i]);
		if (use_log1p)
			welford(&st->lmean, &st->lm2, st->present, log1p(v[i]));
		if (st->sketch && ml_kll_add(st->sketch, v[i], err) < 0)
			return -1;
	}
	return 0;
}

static int observe_categorical(struct cat_stats *st, const struct ml_batch_col *col, size_t n, struct ml_err *err)
{
	size_t need = ml_dict_size(col->dict);
	if (need > st->ncounts) {
		uint64_t *c = ml_realloc_array(st->counts, need, sizeof *c, err);
		if (!c)
			return -1;
		memset(c + st->ncounts, 0, (need - st->ncounts) * sizeof *c);
		st->counts = c;
		st->ncounts = need;
	}
	for (size_t i = 0; i < n; i++) {
		if (col->cat[i] < 0)
			st->missing++;
		else
			st->counts[col->cat[i]]++;
	}
	return 0;
}

struct observe_ctx {
	struct fit_state *fs;
	const struct ml_batch *b;
};

/* One column's statistics over a batch; columns are independent, so they run in parallel. */
static int observe_column(size_t i, void *arg, struct ml_err *err)
{
	const struct observe_ctx *o = arg;
	struct rcol *c = &o->fs->rc->cols[i];
	const struct ml_batch_col *col = &o->b->cols[c->input_col];
	return c->type == ML_TYPE_NUMERIC
		       ? observe_numeric(&o->fs->num[i], col->num, o->b->nrows, c->num.log1p, c->name, err)
		       : observe_categorical(&o->fs->cat[i], col, o->b->nrows, err);
}

static int observe_batch(struct fit_state *fs, const struct ml_batch *b, struct ml_err *err)
{
	struct ml_recipe *rc = fs->rc;
	struct observe_ctx o = { fs, b };
	if (ml_parallel_for(rc->ncols, rc->ncols * b->nrows, observe_column, &o, err) < 0)
		return -1;
	if (rc->target_col >= 0 && rc->log1p_target) {
		const double *y = b->cols[rc->target_col].num;
		for (size_t r = 0; r < b->nrows; r++)
			if (y[r] <= -1)
				return ml_err_set(err, ML_ERR_DATA, "target \"%s\": log1p needs values above -1, found %g",
						  rc->target, y[r]);
	}
	rc->rows += b->nrows;
	return 0;
}

/* Per-column strategy from "COL=STRATEGY[:VALUE]" overrides, else the type default. */
static int column_impute(const struct ml_recipe_opts *o, const char *name, enum ml_type t, enum ml_impute *imp,
			 const char **value, struct ml_err *err)
{
	*imp = t == ML_TYPE_NUMERIC ? o->numeric_impute : o->categorical_impute;
	*value = NULL;
	for (size_t i = 0; o->impute && i < o->impute->n; i++) {
		const char *spec = o->impute->items[i], *eq = strchr(spec, '=');
		if (!eq || (size_t)(eq - spec) != strlen(name) || strncmp(spec, name, strlen(name)))
			continue;
		char strategy[32];
		const char *colon = strchr(eq + 1, ':');
		size_t len = colon ? (size_t)(colon - eq - 1) : strlen(eq + 1);
		snprintf(strategy, sizeof strategy, "%.*s", (int)(len < 31 ? len : 31), eq + 1);
		int s = lookup_name(impute_names, COUNT(impute_names), strategy);
		if (s < 0 || (s == ML_IMPUTE_CONSTANT) != (colon != NULL))
			return ml_err_set(err, ML_ERR_USAGE,
					  "--impute %s: expected COL=none|median|mean|most_frequent|constant:VALUE", spec);
		*imp = (enum ml_impute)s;
		*value = colon ? colon + 1 : NULL;
	}
	if (t == ML_TYPE_CATEGORICAL && (*imp == ML_IMPUTE_MEDIAN || *imp == ML_IMPUTE_MEAN))
		return ml_err_set(err, ML_ERR_USAGE, "column \"%s\" is categorical: impute none, most_frequent or constant",
				  name);
	return 0;
}

struct moments {
	const struct num_step *st;
	double w, mean, m2, min, max;
};

static double transform_numeric(const struct num_step *st, double x)
{
	if (isnan(x))
		x = st->impute == ML_IMPUTE_NONE ? NAN : st->fill;
	if (!isnan(st->clip_lo) && x < st->clip_lo)
		x = st->clip_lo;
	if (!isnan(st->clip_hi) && x > st->clip_hi)
		x = st->clip_hi;
	return st->log1p ? log1p(x) : x;
}

/* Moments of the transformed values from the sketch (needed under clipping). */
static void accumulate(double v, uint64_t w, void *arg)
{
	struct moments *m = arg;
	double x = transform_numeric(m->st, v), ww = (double)w;
	m->w += ww;
	double d = x - m->mean;
	m->mean += d * ww / m->w;
	m->m2 += ww * d * (x - m->mean);
	if (x < m->min)
		m->min = x;
	if (x > m->max)
		m->max = x;
}

struct mode_search {
	double *values;
	size_t n;
};

static void collect(double v, uint64_t w, void *arg)
{
	(void)w;	/* exact sketches hold every value with weight 1 */
	struct mode_search *m = arg;
	m->values[m->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/*
 * Most frequent value of a numeric column, the smallest on ties (as
 * scikit-learn).  Only a sketch that still holds every value can count.
 */
static int numeric_mode(const struct rcol *c, const struct ml_kll *s, double *out, struct ml_err *err)
{
	if (!ml_kll_is_exact(s))
		return ml_err_set(err, ML_ERR_USAGE,
				  "column \"%s\": most_frequent needs exact counts, which are kept for up to %d "
				  "values; impute numeric columns by median or mean",
				  c->name, KLL_K);
	struct mode_search m = { ml_malloc((ml_kll_count(s) + 1) * sizeof(double), err), 0 };
	if (!m.values)
		return -1;
	ml_kll_visit(s, collect, &m);
	qsort(m.values, m.n, sizeof *m.values, cmp_double);
	size_t best = 0, best_run = 0;
	for (size_t i = 0, run; i < m.n; i += run) {
		for (run = 1; i + run < m.n && m.values[i + run] == m.values[i]; run++)
			;
		if (run > best_run) {
			best = i;
			best_run = run;
		}
	}
	*out = m.n ? m.values[best] : NAN;
	free(m.values);
	return 0;
}

static int fit_numeric(struct rcol *c, const struct num_stats *st, const struct ml_recipe_opts *o,
		       const char *fill_text, struct ml_err *err)
{
	struct num_step *ns = &c->num;
	switch (ns->impute) {
	case ML_IMPUTE_MEDIAN:
		ns->fill = ml_kll_quantile(st->sketch, 0.5);
		break;
	case ML_IMPUTE_MEAN:
		ns->fill = st->present ? st->mean : NAN;
		break;
	case ML_IMPUTE_MOST_FREQUENT:
		if (numeric_mode(c, st->sketch, &ns->fill, err) < 0)
			return -1;
		break;
	case ML_IMPUTE_CONSTANT:
		ns->fill = fill_text ? strtod(fill_text, NULL) : o->numeric_fill;
		break;
	default:
		ns->fill = NAN;
	}
	if (ns->impute != ML_IMPUTE_NONE && isnan(ns->fill))
		return ml_err_set(err, ML_ERR_DATA, "column \"%s\" has no values to impute from", c->name);
	ns->clip_lo = isnan(o->clip_low) ? NAN : ml_kll_quantile(st->sketch, o->clip_low);
	ns->clip_hi = isnan(o->clip_high) ? NAN : ml_kll_quantile(st->sketch, o->clip_high);
	ns->center = 0;
	ns->scale_by = 1;
	if (ns->scale == ML_SCALE_NONE)
		return 0;
	/* Statistics of what the scaler will see: imputed, clipped, log1p'd. */
	struct moments m = { ns, 0, 0, 0, INFINITY, -INFINITY };
	if (st->sketch)
		ml_kll_visit(st->sketch, accumulate, &m);
	else
		m.w = (double)st->present;
	if (st->present) {	/* exact extremes (a compacted sketch may have dropped them) */
		m.min = transform_numeric(ns, st->min);
		m.max = transform_numeric(ns, st->max);
	}
	if (isnan(ns->clip_lo) && isnan(ns->clip_hi)) {	/* exact sums beat the sketch */
		m.mean = ns->log1p ? st->lmean : st->mean;
		m.m2 = ns->log1p ? st->lm2 : st->m2;
	}
	if (ns->impute != ML_IMPUTE_NONE && st->missing) {	/* fold in the imputed values */
		double f = transform_numeric(ns, NAN), n = m.w, k = (double)st->missing;
		double d = f - m.mean, total = n + k;
		m.m2 += d * d * n * k / total;
		m.mean += d * k / total;
		m.w = total;
		m.min = f < m.min ? f : m.min;
		m.max = f > m.max ? f : m.max;
	}
	if (ns->scale == ML_SCALE_STANDARD) {
		double sd = m.w > 0 ? sqrt(m.m2 / m.w) : 0;
		ns->center = m.w > 0 ? m.mean : 0;
		ns->scale_by = sd > 0 ? sd : 1;
	} else {
		ns->center = m.w > 0 ? m.min : 0;
		ns->scale_by = m.w > 0 && m.max > m.min ? m.max - m.min : 1;
	}
	return 0;
}

struct level_count {
	const char *name;
	uint64_t count;
};

static int by_count_then_name(const void *a, const void *b)
{
	const struct level_count *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fit_categorical(struct rcol *c, const struct cat_stats *st, const struct ml_dict *dict,
			   const struct ml_recipe_opts *o, const char *fill_text, struct ml_err *err)
{
	struct cat_step *cs = &c->cat;
	size_t n = 0;
	struct level_count *lc = ml_calloc(st->ncounts, sizeof *lc, err);
	if (!lc)
		return -1;
	for (size_t id = 0; id < st->ncounts; id++)
		if (st->counts[id])
			lc[n++] = (struct level_count){ ml_dict_name(dict, (int32_t)id, NULL), st->counts[id] };
	qsort(lc, n, sizeof *lc, by_count_then_name);
	const char *fill = cs->impute == ML_IMPUTE_MOST_FREQUENT ? (n ? lc[0].name : NULL)
			   : cs->impute == ML_IMPUTE_CONSTANT
				   ? (fill_text ? fill_text : o->categorical_fill ? o->categorical_fill : "missing")
				   : NULL;
	size_t keep = n < o->max_levels ? n : o->max_levels;
	int failed = (cs->impute == ML_IMPUTE_MOST_FREQUENT && !n)
			     ? ml_err_set(err, ML_ERR_DATA, "column \"%s\" has no values to impute from", c->name)
			     : 0;
	if (!failed && fill && !(cs->fill = ml_strdup(fill, err)))
		failed = -1;
	if (!failed && !(cs->levels = ml_calloc(keep + 1, sizeof *cs->levels, err)))
		failed = -1;
	for (size_t l = 0; !failed && l < keep; l++)
		if (!(cs->levels[cs->nlevels++] = ml_strdup(lc[l].name, err)))
			failed = -1;
	free(lc);
	if (failed)
		return -1;
	qsort(cs->levels, cs->nlevels, sizeof *cs->levels, by_name);
	/* With unseen -> missing, levels past max_levels are missing too: apply
	 * cannot tell a rare level seen at fit time from a new one. */
	cs->other = cs->unseen == ML_UNSEEN_OTHER;
	return index_levels(cs, err);
}

/* Roles and types: inference, then the options' overrides. */
static int plan_input(struct ml_recipe *rc, struct ml_reader *r, const struct ml_recipe_opts *o, struct ml_err *err)
{
	struct ml_schema inferred;
	if (ml_schema_infer(r, &o->infer, &inferred, err) < 0)
		return -1;
	int rc_ = 0;
	for (size_t i = 0; i < inferred.n && rc_ == 0; i++) {
		struct ml_column_def *d = &inferred.cols[i];
		if (in_list(o->categorical, d->name))
			d->type = ML_TYPE_CATEGORICAL;
		if (in_list(o->numeric, d->name))
			d->type = ML_TYPE_NUMERIC;
		if (o->target && !strcmp(d->name, o->target)) {
			if (d->type != ML_TYPE_NUMERIC && !in_list(o->categorical, d->name))
				rc_ = ml_err_set(err, ML_ERR_DATA,
						 "target \"%s\" is not numeric (a regression target must be a number)",
						 d->name);
			d->type = ML_TYPE_NUMERIC;
			d->role = ML_ROLE_TARGET;
		} else if (in_list(o->keep, d->name)) {
			d->type = ML_TYPE_TEXT;
			d->role = ML_ROLE_PASSTHROUGH;
		} else if (in_list(o->drop, d->name) || d->type == ML_TYPE_TEXT) {
			d->role = ML_ROLE_IGNORE;
		}
	}
	if (rc_ == 0)
		rc_ = ml_schema_copy(&rc->input, &inferred, err);
	ml_schema_release(&inferred);
	return rc_;
}

static int check_named_columns(const struct ml_recipe *rc, const struct ml_recipe_opts *o, struct ml_err *err)
{
	const struct ml_strlist *lists[] = { o->drop, o->keep, o->categorical, o->numeric, o->log1p };
	const char *what[] = { "--drop", "--keep", "--categorical", "--numeric", "--log1p" };
	for (size_t l = 0; l < COUNT(lists); l++)
		for (size_t i = 0; lists[l] && i < lists[l]->n; i++)
			if (ml_schema_find(&rc->input, lists[l]->items[i]) < 0)
				return ml_err_set(err, ML_ERR_USAGE, "%s %s: no such column in the input",
						  what[l], lists[l]->items[i]);
	if (o->target && ml_schema_find(&rc->input, o->target) < 0)
		return ml_err_set(err, ML_ERR_USAGE, "--target %s: no such column in the input", o->target);
	return 0;
}

static int define_columns(struct ml_recipe *rc, const struct ml_recipe_opts *o, struct ml_err *err)
{
	rc->cols = ml_calloc(rc->input.n, sizeof *rc->cols, err);
	if (!rc->cols)
		return -1;
	rc->target_col = -1;
	for (size_t i = 0; i < rc->input.n; i++) {
		const struct ml_column_def *d = &rc->input.cols[i];
		if (d->role == ML_ROLE_TARGET)
			rc->target_col = (long)i;
		if (d->role != ML_ROLE_FEATURE)
			continue;
		struct rcol *c = &rc->cols[rc->ncols++];
		c->name = ml_strdup(d->name, err);
		c->type = d->type;
		c->input_col = i;
		c->num.log1p = in_list(o->log1p, d->name);
		c->num.scale = o->scale;
		c->cat.encode = o->encode;
		c->cat.unseen = o->unseen;
		if (!c->name)
			return -1;
	}
	if (o->target && !(rc->target = ml_strdup(o->target, err)))
		return -1;
	rc->log1p_target = o->log1p_target;
	return 0;
}

static void free_fit_state(struct fit_state *fs)
{
	for (size_t i = 0; fs->num && i < fs->rc->ncols; i++)
		ml_kll_free(fs->num[i].sketch);
	for (size_t i = 0; fs->cat && i < fs->rc->ncols; i++)
		free(fs->cat[i].counts);
	free(fs->num);
	free(fs->cat);
}

/* Medians, modes and clipping quantiles need the sketch; means and ranges do not. */
static int needs_sketch(const struct rcol *c, const struct ml_recipe_opts *o)
{
	enum ml_impute imp;
	const char *fill;
	if (c->type != ML_TYPE_NUMERIC)
		return 0;
	if (column_impute(o, c->name, c->type, &imp, &fill, NULL) < 0)
		return 1;	/* the bad setting is reported when the fit finishes */
	return imp == ML_IMPUTE_MEDIAN || imp == ML_IMPUTE_MOST_FREQUENT || !isnan(o->clip_low) ||
	       !isnan(o->clip_high);
}

static int fit_batch(const struct ml_batch *b, void *ctx, struct ml_err *err)
{
	struct fit_state *fs = ctx;
	return observe_batch(fs, b, err) < 0 || (fs->o->on_batch && fs->o->on_batch(b, fs->o->on_batch_arg, err) < 0)
		       ? -1
		       : 0;
}

static int stream_statistics(struct fit_state *fs, struct ml_reader *r, struct ml_err *err)
{
	struct ml_recipe *rc = fs->rc;
	fs->num = ml_calloc(rc->ncols, sizeof *fs->num, err);
	fs->cat = ml_calloc(rc->ncols, sizeof *fs->cat, err);
	if (!fs->num || !fs->cat)
		return -1;
	for (size_t i = 0; i < rc->ncols; i++)
		if (needs_sketch(&rc->cols[i], fs->o) && !(fs->num[i].sketch = ml_kll_new(KLL_K, err)))
			return -1;
	if (ml_reader_bind(r, &rc->input, 0, err) < 0)
		return -1;
	/* the next batch is parsed on a second thread while this one is observed (and kept, for ml-train) */
	return ml_reader_each_batch(r, fit_batch, fs, err);
}

static int finish_fit(struct fit_state *fs, struct ml_reader *r, struct ml_err *err)
{
	struct ml_recipe *rc = fs->rc;
	for (size_t i = 0; i < rc->ncols; i++) {
		struct rcol *c = &rc->cols[i];
		enum ml_impute imp;
		const char *fill;
		if (column_impute(fs->o, c->name, c->type, &imp, &fill, err) < 0)
			return -1;
		if (c->type == ML_TYPE_NUMERIC) {
			c->num.impute = imp;
			if (fit_numeric(c, &fs->num[i], fs->o, fill, err) < 0)
				return -1;
		} else {
			c->cat.impute = imp;
			if (fit_categorical(c, &fs->cat[i], ml_reader_dict(r, c->input_col), fs->o, fill, err) < 0)
				return -1;
		}
	}
	return lay_out_features(rc, err);
}

struct ml_recipe *ml_recipe_fit(struct ml_reader *r, const struct ml_recipe_opts *o, struct ml_err *err)
{
	struct ml_recipe *rc = ml_calloc(1, sizeof *rc, err);
	struct fit_state fs = { rc, o, NULL, NULL };
	if (!rc)
		return NULL;
	if (plan_input(rc, r, o, err) < 0 || check_named_columns(rc, o, err) < 0 ||
	    define_columns(rc, o, err) < 0 || stream_statistics(&fs, r, err) < 0 ||
	    finish_fit(&fs, r, err) < 0) {
		free_fit_state(&fs);
		ml_recipe_free(rc);
		return NULL;
	}
	free_fit_state(&fs);
	return rc;
}

/* ---- applying ---- */

static void apply_numeric(const struct rcol *c, const struct ml_batch_col *col, size_t nrows, double *x,
			  size_t stride)
{
	const struct num_step *ns = &c->num;
	for (size_t r = 0; r < nrows; r++) {
		double v = transform_numeric(ns, col->num[r]);
		x[r * stride + c->first] = (v - ns->center) / ns->scale_by;
	}
}

/* Position of a batch level in the recipe: >= 0 a level, nlevels for other, -1 missing. */
static long level_position(const struct cat_step *cs, const struct ml_dict *dict, int32_t id)
{
	if (id < 0)
		return -1;
	size_t len;
	const char *name = ml_dict_name(dict, id, &len);
	int32_t pos = ml_dict_find(cs->index, name, len);
	if (pos >= 0)
		return pos;
	return cs->unseen == ML_UNSEEN_OTHER ? (long)cs->nlevels : -1;
}

static long impute_level(const struct cat_step *cs, long pos)
{
	if (pos >= 0 || !cs->fill)
		return pos;
	int32_t f = ml_dict_find(cs->index, cs->fill, strlen(cs->fill));
	return f >= 0 ? f : cs->other ? (long)cs->nlevels : -1;
}

static int apply_categorical(const struct rcol *c, const struct ml_batch_col *col, size_t nrows, double *x,
			     size_t stride, struct ml_err *err)
{
	const struct cat_step *cs = &c->cat;
	size_t nids = ml_dict_size(col->dict);
	long *map = ml_malloc((nids ? nids : 1) * sizeof *map, err);	/* batch id -> position */
	if (!map)
		return -1;
	for (size_t id = 0; id < nids; id++)
		map[id] = impute_level(cs, level_position(cs, col->dict, (int32_t)id));
	long missing = impute_level(cs, -1);
	for (size_t r = 0; r < nrows; r++) {
		long pos = col->cat[r] < 0 ? missing : map[col->cat[r]];
		double *out = x + r * stride + c->first;
		if (cs->encode == ML_ENCODE_ORDINAL) {
			out[0] = pos < 0 ? NAN : (double)pos;
			continue;
		}
		if (pos == (long)cs->nlevels && !cs->other)
			pos = -1;
		for (size_t k = 0; k < c->width; k++)
			out[k] = pos < 0 ? NAN : (long)k == pos;
	}
	free(map);
	return 0;
}

int ml_recipe_apply(const struct ml_recipe *rc, const struct ml_batch *b, double *x, double *y, struct ml_err *err)
{
	/* Callers may bind extra trailing columns (ids to pass through). */
	if (b->ncols < rc->input.n)
		return ml_err_set(err, ML_ERR_INTERNAL, "batch not read with the recipe's input schema");
	for (size_t i = 0; i < rc->ncols; i++) {
		const struct rcol *c = &rc->cols[i];
		const struct ml_batch_col *col = &b->cols[c->input_col];
		if (c->type == ML_TYPE_NUMERIC)
			apply_numeric(c, col, b->nrows, x, rc->nfeatures);
		else if (apply_categorical(c, col, b->nrows, x, rc->nfeatures, err) < 0)
			return -1;
	}
	if (y && rc->target_col >= 0) {
		const double *t = b->cols[rc->target_col].num;
		for (size_t r = 0; r < b->nrows; r++)
			y[r] = rc->log1p_target ? log1p(t[r]) : t[r];
	}
	return 0;
}

void ml_recipe_untransform_target(const struct ml_recipe *rc, double *y, size_t n)
{
	if (!rc->log1p_target)
		return;
	for (size_t i = 0; i < n; i++)
		y[i] = expm1(y[i]);
}

const struct ml_schema *ml_recipe_input_schema(const struct ml_recipe *rc)
{
	return &rc->input;
}

size_t ml_recipe_nfeatures(const struct ml_recipe *rc)
{
	return rc->nfeatures;
}

const char *ml_recipe_feature_name(const struct ml_recipe *rc, size_t i)
{
	return i < rc->nfeatures ? rc->features[i] : NULL;
}

const char *ml_recipe_target(const struct ml_recipe *rc)
{
	return rc->target;
}

/* ---- JSON ---- */

static json_t *real_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

static json_t *numeric_to_json(const struct rcol *c)
{
	const struct num_step *ns = &c->num;
	json_t *clip = isnan(ns->clip_lo) && isnan(ns->clip_hi)
			       ? json_null()
			       : json_pack("[o, o]", real_or_null(ns->clip_lo), real_or_null(ns->clip_hi));
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:s, s:f, s:f}", "name", c->name, "type", "numeric",
			 "impute", impute_names[ns->impute], "fill", real_or_null(ns->fill), "clip", clip, "log1p",
			 ns->log1p, "scale", scale_names[ns->scale], "center", ns->center, "scale_by", ns->scale_by);
}

static json_t *categorical_to_json(const struct rcol *c)
{
	const struct cat_step *cs = &c->cat;
	json_t *levels = json_array();
	for (size_t l = 0; l < cs->nlevels; l++)
		json_array_append_new(levels, json_string(cs->levels[l]));
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:b, s:s}", "name", c->name, "type", "categorical", "impute",
			 impute_names[cs->impute], "fill", cs->fill ? json_string(cs->fill) : json_null(), "encoding",
			 encode_names[cs->encode], "levels", levels, "other", cs->other, "unseen",
			 unseen_names[cs->unseen]);
}

json_t *ml_recipe_to_json(const struct ml_recipe *rc)
{
	json_t *cols = json_array(), *features = json_array();
	for (size_t i = 0; i < rc->ncols; i++)
		json_array_append_new(cols, rc->cols[i].type == ML_TYPE_NUMERIC ? numeric_to_json(&rc->cols[i])
										: categorical_to_json(&rc->cols[i]));
	for (size_t i = 0; i < rc->nfeatures; i++)
		json_array_append_new(features, json_string(rc->features[i]));
	return json_pack("{s:s, s:o, s:b, s:I, s:o, s:o, s:o}", "format", ML_RECIPE_FORMAT "/1", "target",
			 rc->target ? json_string(rc->target) : json_null(), "target_log1p", rc->log1p_target, "rows",
			 (json_int_t)rc->rows, "input", ml_schema_to_json(&rc->input), "columns", cols, "features",
			 features);
}

/* A boolean member: absent is false (hand-written recipes), anything but true/false is refused. */
static int bool_field(const json_t *o, const char *key, int *out, const char *what, const char *col,
		      struct ml_err *err)
{
	const json_t *v = json_object_get(o, key);
	if (v && !json_is_boolean(v))
		return ml_err_set(err, ML_ERR_DATA, "%s: column \"%s\": \"%s\" must be true or false", what,
				  col, key);
	*out = json_is_true(v);
	return 0;
}

static int enum_field(const json_t *o, const char *key, const char *const *names, size_t n, int *out,
		      const char *what, const char *col, struct ml_err *err)
{
	int i = lookup_name(names, n, json_string_value(json_object_get(o, key)));
	if (i < 0)
		return ml_err_set(err, ML_ERR_DATA, "%s: column \"%s\": missing or unknown \"%s\"", what, col, key);
	*out = i;
	return 0;
}

static int finite_or_null(const json_t *v, double *out)
{
	if (json_is_null(v) || !v) {
		*out = NAN;
		return 0;
	}
	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return -1;
	*out = json_number_value(v);
	return 0;
}

static int numeric_from_json(struct rcol *c, const json_t *o, const char *what, struct ml_err *err)
{
	struct num_step *ns = &c->num;
	int imp, sc;
	const json_t *clip = json_object_get(o, "clip");
	if (enum_field(o, "impute", impute_names, COUNT(impute_names), &imp, what, c->name, err) < 0 ||
	    enum_field(o, "scale", scale_names, COUNT(scale_names), &sc, what, c->name, err) < 0)
		return -1;
	ns->impute = (enum ml_impute)imp;
	ns->scale = (enum ml_scale)sc;
	if (bool_field(o, "log1p", &ns->log1p, what, c->name, err) < 0)
		return -1;
	if (finite_or_null(json_object_get(o, "fill"), &ns->fill) < 0 ||
	    (ns->impute != ML_IMPUTE_NONE && isnan(ns->fill)) ||
	    finite_or_null(json_object_get(o, "center"), &ns->center) < 0 || isnan(ns->center) ||
	    finite_or_null(json_object_get(o, "scale_by"), &ns->scale_by) < 0 || isnan(ns->scale_by) ||
	    ns->scale_by == 0)
		return ml_err_set(err, ML_ERR_DATA, "%s: column \"%s\": fill, center and scale_by must be numbers "
				  "(scale_by not 0)", what, c->name);
	ns->clip_lo = ns->clip_hi = NAN;
	if (clip && !json_is_null(clip) &&
	    (!json_is_array(clip) || json_array_size(clip) != 2 ||
	     finite_or_null(json_array_get(clip, 0), &ns->clip_lo) < 0 ||
	     finite_or_null(json_array_get(clip, 1), &ns->clip_hi) < 0))
		return ml_err_set(err, ML_ERR_DATA, "%s: column \"%s\": clip must be [low, high]", what, c->name);
	return 0;
}

static int categorical_from_json(struct rcol *c, const json_t *o, const char *what, struct ml_err *err)
{
	struct cat_step *cs = &c->cat;
	int imp, enc, uns;
	const json_t *levels = json_object_get(o, "levels"), *fill = json_object_get(o, "fill");
	if (enum_field(o, "impute", impute_names, COUNT(impute_names), &imp, what, c->name, err) < 0 ||
	    enum_field(o, "encoding", encode_names, COUNT(encode_names), &enc, what, c->name, err) < 0 ||
	    enum_field(o, "unseen", unseen_names, COUNT(unseen_names), &uns, what, c->name, err) < 0)
		return -1;
	cs->impute = (enum ml_impute)imp;
	cs->encode = (enum ml_encode)enc;
	cs->unseen = (enum ml_unseen)uns;
	if (bool_field(o, "other", &cs->other, what, c->name, err) < 0)
		return -1;
	if (!json_is_array(levels) || json_array_size(levels) > (1u << 20))
		return ml_err_set(err, ML_ERR_DATA, "%s: column \"%s\": \"levels\" must be an array", what, c->name);
	if (json_is_string(fill) && !(cs->fill = ml_strdup(json_string_value(fill), err)))
		return -1;
	if (cs->impute >= ML_IMPUTE_MOST_FREQUENT && !cs->fill)
		return ml_err_set(err, ML_ERR_DATA, "%s: column \"%s\": imputation needs a \"fill\" level", what, c->name);
	cs->levels = ml_calloc(json_array_size(levels) + 1, sizeof *cs->levels, err);
	if (!cs->levels)
		return -1;
	for (size_t l = 0; l < json_array_size(levels); l++) {
		const char *s = json_string_value(json_array_get(levels, l));
		if (!s)
			return ml_err_set(err, ML_ERR_DATA, "%s: column \"%s\": levels must be strings", what, c->name);
		if (!(cs->levels[cs->nlevels++] = ml_strdup(s, err)))
			return -1;
	}
	if (index_levels(cs, err) < 0)
		return ml_err_prefix(err, "%s: column \"%s\"", what, c->name);
	return 0;
}

static int column_from_json(struct ml_recipe *rc, const json_t *o, const char *what, struct ml_err *err)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	long idx = name ? ml_schema_find(&rc->input, name) : -1;
	if (idx < 0 || rc->input.cols[idx].role != ML_ROLE_FEATURE || rc->input.cols[idx].type == ML_TYPE_TEXT)
		return ml_err_set(err, ML_ERR_DATA, "%s: recipe column %zu is not a numeric or categorical feature of the input",
				  what, rc->ncols);
	struct rcol *c = &rc->cols[rc->ncols++];
	c->input_col = (size_t)idx;
	c->type = rc->input.cols[idx].type;
	if (!(c->name = ml_strdup(name, err)))
		return -1;
	return c->type == ML_TYPE_NUMERIC ? numeric_from_json(c, o, what, err)
					  : categorical_from_json(c, o, what, err);
}

static int features_match(const struct ml_recipe *rc, const json_t *features, const char *what, struct ml_err *err)
{
	if (!json_is_array(features) || json_array_size(features) != rc->nfeatures)
		return ml_err_set(err, ML_ERR_DATA, "%s: \"features\" does not match the columns", what);
	for (size_t i = 0; i < rc->nfeatures; i++) {
		const char *f = json_string_value(json_array_get(features, i));
		if (!f || strcmp(f, rc->features[i]))
			return ml_err_set(err, ML_ERR_DATA, "%s: feature %zu is \"%s\", the columns make it \"%s\"", what,
					  i, f ? f : "(not a string)", rc->features[i]);
	}
	return 0;
}

static int recipe_from_json(struct ml_recipe *rc, const json_t *j, const char *what, struct ml_err *err)
{
	const json_t *cols = json_object_get(j, "columns"), *target = json_object_get(j, "target");
	json_int_t rows = json_integer_value(json_object_get(j, "rows"));
	if (!json_is_object(j) || !json_is_array(cols))
		return ml_err_set(err, ML_ERR_DATA, "%s: not a recipe (no \"columns\" array)", what);
	if (ml_schema_from_json(&rc->input, json_object_get(j, "input"), what, err) < 0)
		return -1;
	if (json_array_size(cols) > rc->input.n)
		return ml_err_set(err, ML_ERR_DATA, "%s: more recipe columns than input columns", what);
	rc->rows = rows > 0 ? (uint64_t)rows : 0;
	if (bool_field(j, "target_log1p", &rc->log1p_target, what, "(recipe)", err) < 0)
		return -1;
	rc->target_col = -1;
	if (json_is_string(target)) {
		rc->target_col = ml_schema_find(&rc->input, json_string_value(target));
		if (rc->target_col < 0 || rc->input.cols[rc->target_col].type != ML_TYPE_NUMERIC ||
		    !(rc->target = ml_strdup(json_string_value(target), err)))
			return ml_err_set(err, ML_ERR_DATA, "%s: the target is not a numeric input column", what);
	}
	rc->cols = ml_calloc(json_array_size(cols) + 1, sizeof *rc->cols, err);
	if (!rc->cols)
		return -1;
	for (size_t i = 0; i < json_array_size(cols); i++)
		if (column_from_json(rc, json_array_get(cols, i), what, err) < 0)
			return -1;
	if (lay_out_features(rc, err) < 0)
		return -1;
	return features_match(rc, json_object_get(j, "features"), what, err);
}

struct ml_recipe *ml_recipe_from_json(const json_t *j, const char *what, struct ml_err *err)
{
	struct ml_recipe *rc = ml_calloc(1, sizeof *rc, err);
	if (rc && recipe_from_json(rc, j, what, err) < 0) {
		ml_recipe_free(rc);
		return NULL;
	}
	return rc;
}

int ml_recipe_save(const struct ml_recipe *rc, const char *uri, struct ml_err *err)
{
	json_t *doc = ml_recipe_to_json(rc);
	if (!doc)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory writing the recipe");
	int r = ml_artifact_save(doc, ML_RECIPE_FORMAT, ML_RECIPE_MAJOR, uri, err);
	json_decref(doc);
	return r;
}

struct ml_recipe *ml_recipe_load(const char *uri, struct ml_err *err)
{
	json_t *doc = ml_artifact_load(uri, ML_RECIPE_FORMAT, ML_RECIPE_MAJOR, 0, NULL, err);
	if (!doc)
		return NULL;
	struct ml_recipe *rc = ml_recipe_from_json(doc, uri, err);
	json_decref(doc);
	return rc;
}

int ml_recipe_bind_schema(const struct ml_recipe *rc, const struct ml_strlist *keep, struct ml_schema *out,
			  long *keep_cols, struct ml_err *err)
{
	if (ml_schema_copy(out, &rc->input, err) < 0)
		return -1;
	return keep ? ml_schema_add_kept(out, keep->items, keep->n, keep_cols, err) : 0;
}

int ml_recipe_check_input(const struct ml_recipe *rc, const struct ml_reader *r, const struct ml_strlist *keep,
			  const char *name, int allow_missing, struct ml_err *err)
{
	if (ml_reader_format(r) != ML_FMT_CSV)
		return 0;	/* NDJSON objects may omit keys: absent is missing */
	for (size_t i = 0; !allow_missing && i < rc->input.n; i++)
		if (rc->input.cols[i].role == ML_ROLE_FEATURE && ml_reader_find_column(r, rc->input.cols[i].name) < 0)
			return ml_err_set(err, ML_ERR_DATA,
					  "%s: no column \"%s\", which the recipe needs (use "
					  "--allow-missing-columns to treat it as missing)",
					  name, rc->input.cols[i].name);
	for (size_t i = 0; keep && i < keep->n; i++)
		if (ml_reader_find_column(r, keep->items[i]) < 0)
			return ml_err_set(err, ML_ERR_DATA, "%s: no column \"%s\" to keep", name, keep->items[i]);
	return 0;
}
