/* model.c - metrics, in-memory datasets and the model artifact (see model.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/artifact.h"
#include "mlpipe/buf.h"
#include "mlpipe/model.h"
#include "mlpipe/threads.h"
#include "mlpipe/xgboost.h"

void ml_metrics_compute(const double *y, const double *pred, size_t n, struct ml_metrics *m)
{
	double sum = 0, sq = 0, abs_err = 0, mean = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (isnan(y[i]) || isnan(pred[i]))
			continue;
		k++;
		mean += (y[i] - mean) / (double)k;
	}
	for (size_t i = 0; i < n; i++) {
		if (isnan(y[i]) || isnan(pred[i]))
			continue;
		double e = y[i] - pred[i], d = y[i] - mean;
		sq += e * e;
		abs_err += fabs(e);
		sum += d * d;
	}
	m->n = k;
	m->rmse = k ? sqrt(sq / (double)k) : NAN;
	m->mae = k ? abs_err / (double)k : NAN;
	m->r2 = k && sum > 0 ? 1 - sq / sum : NAN;
}

/* A chunk's sums merged into a's, the labels' spread by Chan et al.'s formula. */
void ml_metrics_acc_add(struct ml_metrics_acc *a, const double *y, const double *pred, size_t n)
{
	size_t k = 0;
	double mean = 0, m2 = 0, sq = 0, abs_err = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(y[i]) && !isnan(pred[i]))
			mean += (y[i] - mean) / (double)++k;
	for (size_t i = 0; i < n; i++) {
		if (isnan(y[i]) || isnan(pred[i]))
			continue;
		double e = y[i] - pred[i];
		m2 += (y[i] - mean) * (y[i] - mean);
		sq += e * e;
		abs_err += fabs(e);
	}
	if (k == 0)
		return;
	double total = (double)(a->n + k), delta = mean - a->mean;
	a->m2 += m2 + delta * delta * (double)a->n * (double)k / total;
	a->mean += delta * (double)k / total;
	a->sq += sq;
	a->abs += abs_err;
	a->n += k;
}

void ml_metrics_acc_finish(const struct ml_metrics_acc *a, struct ml_metrics *m)
{
	double k = (double)a->n;
	m->n = a->n;
	m->rmse = a->n ? sqrt(a->sq / k) : NAN;
	m->mae = a->n ? a->abs / k : NAN;
	m->r2 = a->n && a->m2 > 0 ? 1 - a->sq / a->m2 : NAN;
}

static json_t *number_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *ml_metrics_to_json(const struct ml_metrics *m)
{
	return json_pack("{s:I, s:o, s:o, s:o}", "rows", (json_int_t)m->n, "rmse", number_or_null(m->rmse),
			 "mae", number_or_null(m->mae), "r2", number_or_null(m->r2));
}

/* ---- datasets ---- */

void ml_dataset_release(struct ml_dataset *d)
{
	free(d->x);
	free(d->y);
	memset(d, 0, sizeof *d);
}

/* Room for exactly n rows. */
static int dataset_alloc(struct ml_dataset *d, size_t n, struct ml_err *err)
{
	size_t width = d->nfeatures ? d->nfeatures : 1;
	if (n > SIZE_MAX / width)
		return ml_err_set(err, ML_ERR_INTERNAL, "%zu rows of %zu features do not fit in memory", n, width);
	double *x = ml_realloc_array(d->x, n * width, sizeof *x, err);
	if (!x)
		return -1;
	d->x = x;
	double *y = ml_realloc_array(d->y, n, sizeof *y, err);
	if (!y)
		return -1;
	d->y = y;
	d->alloc = n;
	return 0;
}

/* Room for rows, doubling. */
static int dataset_grow(struct ml_dataset *d, size_t rows, struct ml_err *err)
{
	if (rows <= d->alloc)
		return 0;
	size_t n = d->alloc ? d->alloc : 4096;
	while (n < rows)
		n *= 2;
	return dataset_alloc(d, n, err);
}

static int check_labels(const struct ml_batch *b, const double *y, const char *name, const char *target,
			struct ml_err *err)
{
	for (size_t i = 0; i < b->nrows; i++)
		if (isnan(y[i]))
			return ml_err_set(err, ML_ERR_DATA,
					  "%s:%llu: the label \"%s\" is missing (every training row needs one)",
					  name, (unsigned long long)b->line[i], target);
	return 0;
}

int ml_dataset_reserve(const struct ml_recipe *rc, size_t rows, struct ml_dataset *d, struct ml_err *err)
{
	if (!d->nfeatures && !d->nrows)
		d->nfeatures = ml_recipe_nfeatures(rc);
	return rows <= d->alloc ? 0 : dataset_alloc(d, rows, err);
}

int ml_dataset_add(const struct ml_recipe *rc, const struct ml_batch *b, const char *name, struct ml_dataset *d,
		   struct ml_err *err)
{
	if (!d->nfeatures && !d->nrows)
		d->nfeatures = ml_recipe_nfeatures(rc);
	if (dataset_grow(d, d->nrows + b->nrows, err) < 0 ||
	    ml_recipe_apply(rc, b, d->x + d->nrows * d->nfeatures, d->y + d->nrows, err) < 0 ||
	    check_labels(b, d->y + d->nrows, name, ml_recipe_target(rc), err) < 0)
		return -1;
	d->nrows += b->nrows;
	return 0;
}

int ml_dataset_read(const struct ml_recipe *rc, struct ml_reader *r, const char *name,
		    struct ml_dataset *d, struct ml_err *err)
{
	const char *target = ml_recipe_target(rc);
	memset(d, 0, sizeof *d);
	d->nfeatures = ml_recipe_nfeatures(rc);
	if (!target)
		return ml_err_set(err, ML_ERR_USAGE, "the recipe has no target column to train on");
	if (ml_reader_find_column(r, target) < 0)
		return ml_err_set(err, ML_ERR_DATA, "%s: no column \"%s\" (the label) to train on", name,
				  target);
	if (ml_reader_bind(r, ml_recipe_input_schema(rc), 1, err) < 0)
		return -1;
	struct ml_batch b;
	ml_batch_init(&b);
	long n;
	int rc_ = 0;
	while (rc_ == 0 && (n = ml_reader_read_batch(r, &b, err)) > 0)
		rc_ = ml_dataset_add(rc, &b, name, d, err);
	if (rc_ == 0 && n < 0)
		rc_ = -1;
	ml_batch_release(&b);
	if (rc_ < 0)
		ml_dataset_release(d);
	return rc_;
}

/* ---- the model artifact ---- */

void ml_model_free(struct ml_model *m)
{
	if (!m)
		return;
	if (m->predictor && m->plugin)
		m->plugin->ops.algo->free(m->predictor);
	ml_recipe_free(m->recipe);
	json_decref(m->doc);
	free(m);
}

static int model_algorithm(struct ml_model *m, const char *uri, struct ml_err *err)
{
	const char *name = json_string_value(json_object_get(m->doc, "algorithm"));
	if (!name)
		return ml_err_set(err, ML_ERR_DATA, "%s: no \"algorithm\" member", uri);
	m->plugin = ml_plugin_load(ML_PLUGIN_ALGORITHM, name, err);
	if (!m->plugin) {
		if (err && err->class == ML_ERR_USAGE)
			err->class = ML_ERR_DATA;	/* a bad name in the file, not on the command line */
		return ml_err_prefix(err, "%s", uri);
	}
	const struct ml_algo_ops *ops = m->plugin->ops.algo;
	if (!ops->load || !ops->predict || !ops->free)
		return ml_err_set(err, ML_ERR_UNAVAILABLE, "%s: the %s plugin cannot score", uri, name);
	const json_t *params = json_object_get(m->doc, "model");
	if (!json_is_object(params))
		return ml_err_set(err, ML_ERR_DATA, "%s: no \"model\" object", uri);
	m->predictor = ops->load(params, err);
	return m->predictor ? 0 : ml_err_prefix(err, "%s", uri);
}

/*
 * A file that is not an mlpipe artifact may be an XGBoost model: import it
 * (*is_xgboost set); anything else leaves err alone for the artifact's message.
 */
static json_t *xgboost_model(const char *uri, const struct ml_strlist *features, int *is_xgboost,
			     struct ml_err *err)
{
	struct ml_err ignored = ML_ERR_INIT;
	json_t *xgb = ml_xgboost_load(uri, &ignored), *doc = NULL;
	*is_xgboost = ml_xgboost_is_model(xgb);
	if (*is_xgboost)
		doc = ml_xgboost_import(xgb, features, uri, err);
	json_decref(xgb);
	return doc;
}

static json_t *model_document(const char *uri, const struct ml_strlist *features, struct ml_err *err)
{
	struct ml_err artifact = ML_ERR_INIT;
	int is_xgboost = 0;
	json_t *doc = ml_artifact_load(uri, ML_MODEL_FORMAT, ML_MODEL_MAJOR, 1, NULL, &artifact);
	if (doc && features && features->n) {
		json_decref(doc);
		ml_err_set(err, ML_ERR_USAGE, "%s: --features names an XGBoost model's columns; this mlpipe model "
			   "has its own recipe", uri);
		return NULL;
	}
	if (!doc && artifact.class == ML_ERR_DATA)
		doc = xgboost_model(uri, features, &is_xgboost, err);
	if (!doc && !is_xgboost && err)
		*err = artifact;
	return doc;
}

struct ml_model *ml_model_load_features(const char *uri, const struct ml_strlist *features, struct ml_err *err)
{
	struct ml_model *m = ml_calloc(1, sizeof *m, err);
	if (!m)
		return NULL;
	m->doc = model_document(uri, features, err);
	if (!m->doc)
		goto fail;
	const json_t *recipe = json_object_get(m->doc, "recipe");
	if (!json_is_object(recipe)) {
		ml_err_set(err, ML_ERR_DATA, "%s: no \"recipe\" object", uri);
		goto fail;
	}
	if (!(m->recipe = ml_recipe_from_json(recipe, uri, err)) || model_algorithm(m, uri, err) < 0)
		goto fail;
	return m;
fail:
	ml_model_free(m);
	return NULL;
}

struct ml_model *ml_model_load(const char *uri, struct ml_err *err)
{
	return ml_model_load_features(uri, NULL, err);
}

/* Rows of one batch scored in slices across threads: slice i is rows [i * step, (i + 1) * step). */
struct predict_job {
	const struct ml_model *m;
	const struct ml_matrix *x;
	double *out;
	size_t step;
};

static int predict_slice(size_t i, void *ctx, struct ml_err *err)
{
	const struct predict_job *job = ctx;
	size_t lo = i * job->step, n = job->x->nrows - lo < job->step ? job->x->nrows - lo : job->step;
	struct ml_matrix part = { n, job->x->ncols, job->x->v + lo * job->x->ncols };
	return job->m->plugin->ops.algo->predict(job->m->predictor, &part, job->out + lo, err);
}

int ml_model_predict(const struct ml_model *m, const struct ml_matrix *x, double *out, struct ml_err *err)
{
	if (x->ncols != ml_recipe_nfeatures(m->recipe))
		return ml_err_set(err, ML_ERR_INTERNAL, "%zu features given, the model has %zu", x->ncols,
				  ml_recipe_nfeatures(m->recipe));
	/* plugins' predict() is reentrant on a loaded model: --threads splits the rows */
	size_t threads = ml_threads(), step = (x->nrows + threads - 1) / (threads ? threads : 1);
	struct predict_job job = { m, x, out, step ? step : 1 };
	size_t slices = (x->nrows + job.step - 1) / job.step;
	if (ml_parallel_for(slices, x->nrows * 64, predict_slice, &job, err) < 0)
		return -1;
	ml_recipe_untransform_target(m->recipe, out, x->nrows);
	return 0;
}
