/*
 * algo-linear - a linear learner with SageMaker Linear Learner's
 * hyperparameter names.
 *
 * Every loss and penalty is solved to the optimum of one objective over the
 * standardized data (linear.h):
 *
 *     F(b, w) = (1/n) sum_i loss(t_i - b - w.z_i) + wd |w|^2 + l1 |w|_1
 *
 * where z are the features standardized with the training mean and
 * population standard deviation (normalize_data, the default) and t the
 * label, standardized too (normalize_label, by default on, as SageMaker's
 * "auto" is for a regressor).  optimizer auto picks the solver: squared loss
 * by the Gram matrix (exact.c: Cholesky, or coordinate descent with l1), the
 * other losses by smoothed proximal Newton (newton.c).  optimizer sgd or
 * adam runs mini-batch SGD or Adam over the rows (sgd.c).  num_models
 * trains variants of (learning_rate, wd, l1) and keeps the best.  The model
 * stores weights in the original feature units, so scoring is one dot
 * product per row.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "linear.h"
#include "mlpipe/buf.h"
#include "mlpipe/hparams.h"
#include "mlpipe/threads.h"

const struct ml_host *lin_host;

static int linear_init(const struct ml_host *h, struct ml_err *err)
{
	(void)err;
	lin_host = h;
	return 0;
}

/* ---- hyperparameters (strings, as in SageMaker's hyperparameters.json) ---- */

enum optimizer { OPT_AUTO, OPT_SGD, OPT_ADAM };

#define MAX_MODELS LIN_MAX_VARIANTS

struct settings {
	struct lin_loss loss;
	double wd, l1, learning_rate, tolerance;
	long epochs, batch, patience, num_models, seed;
	enum optimizer optimizer;
	int normalize_data, normalize_label, fit_intercept;
	size_t threads;
};

/* A name from a list; -1 when absent or auto. */
static int choose(const json_t *params, const char *name, const char *const *names, size_t count,
		  const char *const *later, int *out, struct ml_err *err)
{
	const char *v = ml_hparam_str(params, name);
	if (!v || strcmp(v, "auto") == 0)
		return 0;
	for (size_t i = 0; i < count; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	for (; later && *later; later++)
		if (strcmp(v, *later) == 0)
			return ml_err_set(err, ML_ERR_UNAVAILABLE, "%s %s is not supported yet", name, v);
	char list[256] = "";
	for (size_t i = 0; i < count; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
	return ml_err_set(err, ML_ERR_USAGE, "%s: expected one of %s or auto, got \"%s\"", name, list, v);
}

static int read_settings(const json_t *params, struct settings *s, struct ml_err *err)
{
	static const char *const losses[] = { "squared_loss", "absolute_loss", "huber_loss", "quantile_loss" };
	static const char *const later_losses[] = { "logistic", "hinge_loss", "softmax_loss",
						    "eps_insensitive_squared_loss",
						    "eps_insensitive_absolute_loss", NULL };
	static const char *const optimizers[] = { "auto", "sgd", "adam" };
	static const char *const later_optimizers[] = { "rmsprop", NULL };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	double threads = 0;
	int loss = LOSS_SQUARED, opt = OPT_AUTO;
	*s = (struct settings){ .loss = { LOSS_SQUARED, 1, 0.5 }, .learning_rate = NAN, .tolerance = 0.001,
				.epochs = 15, .batch = 1000, .patience = 3, .num_models = 1,
				.normalize_data = 1, .normalize_label = 1, .fit_intercept = 1,
				.threads = cpus > 0 ? (size_t)cpus : 1 };
	const char *type = ml_hparam_str(params, "predictor_type");
	if (type && strcmp(type, "regressor") != 0)
		return ml_err_set(err, ML_ERR_UNAVAILABLE,
				  "predictor_type %s is not supported yet (only regressor)", type);
	if (ml_hparam_double(params, "threads", 0, INFINITY, &threads, err) < 0 ||
	    choose(params, "loss", losses, 4, later_losses, &loss, err) < 0 ||
	    choose(params, "optimizer", optimizers, 3, later_optimizers, &opt, err) < 0 ||
	    ml_hparam_double(params, "wd", 0, INFINITY, &s->wd, err) < 0 ||
	    ml_hparam_double(params, "l1", 0, INFINITY, &s->l1, err) < 0 ||
	    ml_hparam_double(params, "huber_delta", 0, INFINITY, &s->loss.huber_delta, err) < 0 ||
	    ml_hparam_double(params, "quantile", 0, 1, &s->loss.tau, err) < 0 ||
	    ml_hparam_double(params, "learning_rate", 0, INFINITY, &s->learning_rate, err) < 0 ||
	    ml_hparam_long(params, "epochs", 1, 1000000000L, &s->epochs, err) < 0 ||
	    ml_hparam_long(params, "mini_batch_size", 1, 1000000000000L, &s->batch, err) < 0 ||
	    ml_hparam_long(params, "early_stopping_patience", 0, 1000000000L, &s->patience, err) < 0 ||
	    ml_hparam_double(params, "early_stopping_tolerance", 0, INFINITY, &s->tolerance, err) < 0 ||
	    ml_hparam_long(params, "num_models", 1, MAX_MODELS, &s->num_models, err) < 0 ||
	    ml_hparam_long(params, "seed", 0, 1000000000000L, &s->seed, err) < 0 ||
	    ml_hparam_bool(params, "normalize_data", &s->normalize_data, err) < 0 ||
	    ml_hparam_bool(params, "normalize_label", &s->normalize_label, err) < 0 ||
	    ml_hparam_bool(params, "fit_intercept", &s->fit_intercept, err) < 0)
		return -1;
	if (threads >= 1)
		s->threads = (size_t)threads;
	s->loss.kind = (enum lin_loss_kind)loss;
	s->optimizer = (enum optimizer)opt;
	if (!(s->loss.huber_delta > 0))
		return ml_err_set(err, ML_ERR_USAGE, "huber_delta: expected a number above 0, got \"%s\"",
				  ml_hparam_str(params, "huber_delta"));
	if (!(s->loss.tau > 0 && s->loss.tau < 1))
		return ml_err_set(err, ML_ERR_USAGE, "quantile: expected a number between 0 and 1 (exclusive), got \"%s\"",
				  ml_hparam_str(params, "quantile"));
	if (!(s->learning_rate > 0) && !isnan(s->learning_rate))
		return ml_err_set(err, ML_ERR_USAGE, "learning_rate: expected a number above 0, got \"%s\"",
				  ml_hparam_str(params, "learning_rate"));
	if (s->optimizer == OPT_AUTO) {
		static const char *const sgd_only[] = { "epochs", "mini_batch_size", "learning_rate",
							"early_stopping_patience", "early_stopping_tolerance" };
		for (size_t i = 0; i < sizeof sgd_only / sizeof *sgd_only; i++)
			if (ml_hparam_str(params, sgd_only[i]) && strcmp(ml_hparam_str(params, sgd_only[i]), "auto"))
				lin_warn("%s is ignored: optimizer auto solves to the optimum without SGD "
					 "(set optimizer sgd or adam to use it)", sgd_only[i]);
	}
	if (s->loss.kind != LOSS_HUBER && ml_hparam_str(params, "huber_delta"))
		lin_warn("huber_delta is ignored: it is for loss huber_loss");
	if (s->loss.kind != LOSS_QUANTILE && ml_hparam_str(params, "quantile"))
		lin_warn("quantile is ignored: it is for loss quantile_loss");
	return 0;
}

/* ---- statistics for standardizing ---- */

struct stats {
	double *mean, *scale;	/* per feature: z = (x - mean) / scale; scale 0 = constant, unused */
	double ymean, yscale;
};

static int column_stats(const struct ml_matrix *x, const double *y, const struct settings *s, struct stats *st,
			struct ml_err *err)
{
	size_t n = x->nrows, p = x->ncols;
	for (size_t j = 0; j < p; j++) {
		double m = 0, m2 = 0;
		for (size_t i = 0; i < n; i++) {
			double v = x->v[i * p + j];
			if (isnan(v))
				return ml_err_set(err, ML_ERR_DATA,
						  "feature %zu has missing values: a linear model needs them imputed "
						  "(ml-preprocess fit --numeric-impute median --categorical-impute most-frequent)",
						  j);
			double d = v - m;
			m += d / (double)(i + 1);
			m2 += d * (v - m);
		}
		double sd = sqrt(m2 / (double)n);
		st->mean[j] = s->fit_intercept ? m : 0;
		st->scale[j] = sd > 1e-12 * (fabs(m) + 1) ? (s->normalize_data ? sd : 1) : 0;
	}
	double ym = 0, ym2 = 0;
	for (size_t i = 0; i < n; i++) {
		double d = y[i] - ym;
		ym += d / (double)(i + 1);
		ym2 += d * (y[i] - ym);
	}
	double ysd = sqrt(ym2 / (double)n);
	st->ymean = s->fit_intercept ? ym : 0;
	st->yscale = s->normalize_label && ysd > 0 ? ysd : 1;
	return 0;
}

/* ---- num_models ---- */

/*
 * Variant 0 is the settings as given; variant k >= 1 multiplies wd and l1 by
 * 10^e_k and the learning rate by 10^(e_k / 2), e_k = -1, 1, -2, 2, -0.5,
 * 0.5, ...  A wd of 0 varies around 1e-3 instead; an l1 of 0 stays 0.
 */
static void make_variants(const struct settings *s, double lr, struct lin_variant *v)
{
	static const double e[MAX_MODELS] = { 0,    -1,   1,    -2,   2,    -0.5, 0.5,  -1.5, 1.5,  -3,  3,
					      -2.5, 2.5,  -0.25, 0.25, -0.75, 0.75, -1.25, 1.25, -1.75, 1.75,
					      -2.25, 2.25, -2.75, 2.75, -3.5, 3.5, -4,   4,    -0.125, 0.125, -5 };
	for (long k = 0; k < s->num_models; k++) {
		double f = pow(10, e[k]);
		v[k].wd = k == 0 ? s->wd : (s->wd > 0 ? s->wd : 1e-3) * f;
		v[k].l1 = s->l1 * (k == 0 ? 1 : f);
		v[k].learning_rate = lr * (k == 0 ? 1 : sqrt(f));
	}
}

/* ---- training ---- */

struct fit {
	double *w, *b;		/* num_models x p, num_models */
	long *iterations;
	double *ridge;
	const char *solver;
	long epochs_run;
};

static int solve_variants(const struct lin_data *d, const struct lin_data *vd, const struct settings *s,
			  const struct lin_variant *v, struct fit *f, struct ml_err *err)
{
	size_t nv = (size_t)s->num_models, p = d->p;
	if (s->optimizer != OPT_AUTO) {
		struct lin_sgd_config cfg = { s->optimizer == OPT_ADAM, s->epochs, s->batch, s->patience,
					      s->tolerance, (uint64_t)s->seed, s->fit_intercept };
		f->solver = cfg.adam ? "adam" : "sgd";
		return lin_sgd(d, vd, &s->loss, &cfg, nv, v, f->w, f->b, &f->epochs_run, err);
	}
	if (s->loss.kind == LOSS_SQUARED) {	/* one pass builds the Gram matrix for every variant */
		struct lin_gram g;
		if (lin_gram_build(d, &g, err) < 0)
			return -1;
		int rc = 0;
		for (size_t k = 0; k < nv && rc == 0; k++) {
			f->b[k] = 0;
			rc = lin_gram_solve(&g, d->scale, &v[k], f->w + k * p, &f->iterations[k], &f->ridge[k], err);
		}
		lin_gram_release(&g);
		f->solver = s->l1 > 0 ? "coordinate_descent" : "exact";
		return rc;
	}
	f->solver = "newton";
	for (size_t k = 0; k < nv; k++)
		if (lin_newton(d, &s->loss, s->fit_intercept, &v[k], f->w + k * p, &f->b[k], &f->iterations[k], err) < 0)
			return -1;
	return 0;
}

/* Weights in the original feature units and the bias. */
static json_t *model_json(const struct lin_data *d, const struct settings *s, const struct lin_variant *v,
			  const struct fit *f, size_t best, const double *metric, int by_validation, double objective)
{
	size_t p = d->p;
	const double *w = f->w + best * p;
	json_t *weights = json_array();
	double bias = d->ymean + d->yscale * f->b[best];
	for (size_t j = 0; j < p; j++) {
		double wj = d->scale[j] > 0 ? w[j] * d->yscale / d->scale[j] : 0;
		bias -= wj * d->mean[j];
		json_array_append_new(weights, json_real(wj));
	}
	json_t *m = json_pack("{s:s}", "loss", lin_loss_name(s->loss.kind));
	if (s->loss.kind == LOSS_HUBER)
		json_object_set_new(m, "huber_delta", json_real(s->loss.huber_delta));
	if (s->loss.kind == LOSS_QUANTILE)
		json_object_set_new(m, "quantile", json_real(s->loss.tau));
	json_object_set_new(m, "solver", json_string(f->solver));
	json_object_set_new(m, "wd", json_real(v[best].wd));
	json_object_set_new(m, "l1", json_real(v[best].l1));
	if (s->optimizer != OPT_AUTO) {
		json_object_set_new(m, "learning_rate", json_real(v[best].learning_rate));
		json_object_set_new(m, "epochs", json_integer(f->epochs_run));
	} else {
		json_object_set_new(m, "iterations", json_integer(f->iterations[best]));
	}
	json_object_set_new(m, "objective", json_real(objective));
	if (s->num_models > 1) {
		json_t *models = json_array();
		for (long k = 0; k < s->num_models; k++) {
			json_t *o = json_pack("{s:f, s:f}", "wd", v[k].wd, "l1", v[k].l1);
			if (s->optimizer != OPT_AUTO)
				json_object_set_new(o, "learning_rate", json_real(v[k].learning_rate));
			json_object_set_new(o, by_validation ? "validation_loss" : "train_loss",
					    isfinite(metric[k]) ? json_real(metric[k]) : json_null());
			json_array_append_new(models, o);
		}
		json_object_set_new(m, "num_models", json_integer(s->num_models));
		json_object_set_new(m, "selected_model", json_integer((json_int_t)best));
		json_object_set_new(m, "models", models);
	}
	json_object_set_new(m, "weights", weights);
	json_object_set_new(m, "bias", json_real(bias));
	return m;
}

/* The SGD step size when learning_rate is auto: see ml-train(1). */
static double auto_learning_rate(const struct settings *s, const struct lin_data *d)
{
	if (s->optimizer == OPT_ADAM)
		return 0.01;
	size_t used = 0;
	for (size_t j = 0; j < d->p; j++)
		used += d->scale[j] > 0;
	return 0.5 / (double)(used + 1);
}

/* The best variant: least mean loss on validation, else on training; said when it matters. */
static size_t best_variant(const struct settings *s, const struct lin_variant *v, const struct fit *f,
			   const double *metric, int by_validation)
{
	size_t best = 0, nv = (size_t)s->num_models;
	for (size_t k = 1; k < nv; k++)
		if (metric[k] < metric[best])
			best = k;
	if (f->ridge[best] > 0)
		lin_warn("the features are collinear (e.g. every level of a one-hot column); solved with "
			 "wd + %g. Set wd > 0 to choose the penalty yourself", f->ridge[best]);
	if (nv > 1 && lin_host && lin_host->verbosity > 0)
		lin_host->log(1, "num_models: model %zu of %zu is best (wd %g, l1 %g) by %s loss %g", best, nv,
			      v[best].wd, v[best].l1, by_validation ? "validation" : "training", metric[best]);
	return best;
}

static int finish_model(const struct lin_data *d, const struct settings *s, const struct lin_variant *v,
			const struct fit *f, size_t best, const double *metric, int by_validation, double objective,
			json_t **model, struct ml_err *err)
{
	if (!(*model = model_json(d, s, v, f, best, metric, by_validation, objective)))
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	return 0;
}

static int stats_alloc(struct stats *st, size_t p, struct ml_err *err)
{
	*st = (struct stats){ ml_calloc(p + 1, sizeof(double), err), ml_calloc(p + 1, sizeof(double), err), 0, 1 };
	return st->mean && st->scale ? 0 : -1;
}

static void stats_release(struct stats *st)
{
	free(st->mean);
	free(st->scale);
}

static int fit_alloc(struct fit *f, size_t nv, size_t p, struct ml_err *err)
{
	*f = (struct fit){ ml_calloc(nv * p + 1, sizeof(double), err), ml_calloc(nv, sizeof(double), err),
			   ml_calloc(nv, sizeof(long), err), ml_calloc(nv, sizeof(double), err), NULL, 0 };
	return f->w && f->b && f->iterations && f->ridge ? 0 : -1;
}

static void fit_release(struct fit *f)
{
	free(f->w);
	free(f->b);
	free(f->iterations);
	free(f->ridge);
}

/* The rows in memory: the statistics, then the solver the settings call for. */
static int train_matrix(const struct ml_matrix *x, const double *y, const struct ml_matrix *vx, const double *vy,
			const struct settings *settings, json_t **model, struct ml_err *err)
{
	struct settings s = *settings;
	if (x->nrows == 0)
		return ml_err_set(err, ML_ERR_DATA, "no training rows");
	if (vx && vx->ncols != x->ncols)
		return ml_err_set(err, ML_ERR_DATA, "validation data have %zu features, training data %zu", vx->ncols,
				  x->ncols);
	ml_set_threads((long)s.threads);
	size_t p = x->ncols, nv = (size_t)s.num_models;
	struct stats st;
	struct lin_variant v[MAX_MODELS];
	struct fit f;
	double metric[MAX_MODELS];
	int rc = -1;
	int allocated = stats_alloc(&st, p, err) == 0;
	if (fit_alloc(&f, nv, p, err) < 0 || !allocated || column_stats(x, y, &s, &st, err) < 0)
		goto out_free;
	struct lin_data d = { x->nrows, p, x->v, y, st.mean, st.scale, st.ymean, st.yscale };
	struct lin_data vd = d;
	if (vx && vx->nrows) {
		vd.n = vx->nrows;
		vd.x = vx->v;
		vd.y = vy;
	}
	int by_validation = vx && vx->nrows;
	make_variants(&s, isnan(s.learning_rate) ? auto_learning_rate(&s, &d) : s.learning_rate, v);
	if (solve_variants(&d, by_validation ? &vd : NULL, &s, v, &f, err) < 0)
		goto out_free;
	for (size_t k = 0; k < nv; k++)
		metric[k] = lin_mean_loss(by_validation ? &vd : &d, &s.loss, f.w + k * p, f.b[k]);
	size_t best = best_variant(&s, v, &f, metric, by_validation);
	double objective = lin_objective(&d, &s.loss, &v[best], f.w + best * p, f.b[best]);
	rc = finish_model(&d, &s, v, &f, best, metric, by_validation, objective, model, err);
out_free:
	stats_release(&st);
	fit_release(&f);
	return rc;
}

static int linear_train(const struct ml_matrix *x, const double *y, const struct ml_matrix *vx,
			const double *vy, const json_t *params, json_t **model, struct ml_err *err)
{
	struct settings s;
	return read_settings(params, &s, err) < 0 ? -1 : train_matrix(x, y, vx, vy, &s, model, err);
}

/* Squared loss with optimizer auto and SGD/Adam train in passes; Newton needs the rows in memory. */
static int trains_in_passes(const struct settings *s)
{
	return s->optimizer != OPT_AUTO || s->loss.kind == LOSS_SQUARED;
}

/* Rows gathered from their chunks into one matrix. */
struct gathered {
	double *x, *y;
	size_t n, cap, p;
};

static int gather_chunk(const struct ml_matrix *x, const double *y, void *arg, struct ml_err *err)
{
	struct gathered *g = arg;
	if (x->ncols != g->p)
		return ml_err_set(err, ML_ERR_DATA, "a chunk of %zu features in data of %zu", x->ncols, g->p);
	if (g->n + x->nrows > g->cap) {
		size_t cap = g->cap ? g->cap : 4096;
		while (cap < g->n + x->nrows)
			cap *= 2;
		double *gx = ml_realloc_array(g->x, cap * (g->p ? g->p : 1), sizeof *gx, err);
		g->x = gx ? gx : g->x;
		double *gy = gx ? ml_realloc_array(g->y, cap, sizeof *gy, err) : NULL;
		g->y = gy ? gy : g->y;
		if (!gy)
			return -1;
		g->cap = cap;
	}
	memcpy(g->x + g->n * g->p, x->v, x->nrows * g->p * sizeof *x->v);
	memcpy(g->y + g->n, y, x->nrows * sizeof *y);
	g->n += x->nrows;
	return 0;
}

static int gather(struct ml_rows *rows, struct gathered *g, struct ml_err *err)
{
	memset(g, 0, sizeof *g);
	g->p = rows->nfeatures;
	return rows->pass(rows, gather_chunk, g, err);
}

/* The in-memory solvers on rows handed over in chunks: gathered first. */
static int train_gathered(struct ml_rows *train, struct ml_rows *valid, const struct settings *s, json_t **model,
			  struct ml_err *err)
{
	struct gathered t, v = { 0 };
	int rc = -1;
	if (gather(train, &t, err) == 0 && (!valid || gather(valid, &v, err) == 0)) {
		struct ml_matrix x = { t.n, t.p, t.x }, vx = { v.n, v.p, v.x };
		rc = train_matrix(&x, t.y, valid ? &vx : NULL, valid ? v.y : NULL, s, model, err);
	}
	free(t.x);
	free(t.y);
	free(v.x);
	free(v.y);
	return rc;
}

/* SGD/Adam over rows in chunks: a pass for the statistics, then an epoch a pass. */
static int sgd_in_passes(struct ml_rows *train, struct ml_rows *valid, const struct settings *s, struct lin_data *d,
			 struct fit *f, json_t **model, struct ml_err *err)
{
	const struct lin_stream_opts o = { s->fit_intercept, s->normalize_data, s->normalize_label };
	struct lin_variant v[MAX_MODELS];
	double metric[MAX_MODELS], objective[MAX_MODELS];
	size_t nv = (size_t)s->num_models, p = d->p;
	int by_validation = valid && valid->nrows;
	if (lin_stream_stats(train, &o, d, err) < 0)
		return -1;
	make_variants(s, isnan(s->learning_rate) ? auto_learning_rate(s, d) : s->learning_rate, v);
	struct lin_sgd_config cfg = { s->optimizer == OPT_ADAM, s->epochs, s->batch, s->patience, s->tolerance,
				      (uint64_t)s->seed, s->fit_intercept };
	f->solver = cfg.adam ? "adam" : "sgd";
	if (lin_sgd_rows(train, by_validation ? valid : NULL, d, &s->loss, &cfg, nv, v, f->w, f->b, &f->epochs_run,
			 err) < 0 ||
	    lin_stream_mean_loss(train, d, &s->loss, nv, f->w, f->b, objective, err) < 0 ||
	    (by_validation && lin_stream_mean_loss(valid, d, &s->loss, nv, f->w, f->b, metric, err) < 0))
		return -1;
	if (!by_validation)
		memcpy(metric, objective, nv * sizeof *metric);
	size_t best = best_variant(s, v, f, metric, by_validation);
	return finish_model(d, s, v, f, best, metric, by_validation,
			    objective[best] + lin_penalty(&v[best], f->w + best * p, p), model, err);
}

/*
 * Rows in chunks (data of any size): squared loss from the Gram matrix that
 * one pass over the rows gathers (stream.c), then a pass over the
 * validation rows when num_models needs them to choose.  SGD and Adam take
 * an epoch a pass.  The Newton solver of the other losses gathers the rows
 * into memory and trains there.
 */
static int linear_train_rows(struct ml_rows *train, struct ml_rows *valid, const json_t *params, json_t **model,
			     struct ml_err *err)
{
	struct settings s;
	if (read_settings(params, &s, err) < 0)
		return -1;
	if (!trains_in_passes(&s))
		return train_gathered(train, valid, &s, model, err);
	if (valid && valid->nfeatures != train->nfeatures)
		return ml_err_set(err, ML_ERR_DATA, "validation data have %zu features, training data %zu",
				  valid->nfeatures, train->nfeatures);
	ml_set_threads((long)s.threads);
	size_t p = train->nfeatures, nv = (size_t)s.num_models;
	struct stats st = { 0 };
	struct fit f = { 0 };
	struct lin_gram g = { 0 };
	struct lin_variant v[MAX_MODELS];
	double metric[MAX_MODELS];
	int rc = -1, by_validation = valid && valid->nrows;
	struct lin_data d = { 0, p, NULL, NULL, NULL, NULL, 0, 1 };
	const struct lin_stream_opts o = { s.fit_intercept, s.normalize_data, s.normalize_label };
	if (stats_alloc(&st, p, err) < 0 || fit_alloc(&f, nv, p, err) < 0)
		goto out;
	d.mean = st.mean;
	d.scale = st.scale;
	if (s.optimizer != OPT_AUTO) {
		rc = sgd_in_passes(train, valid, &s, &d, &f, model, err);
		goto out;
	}
	if (lin_stream_gram(train, &o, &d, &g, err) < 0)
		goto out;
	make_variants(&s, 0, v);
	f.solver = s.l1 > 0 ? "coordinate_descent" : "exact";
	for (size_t k = 0; k < nv; k++)
		if (lin_gram_solve(&g, d.scale, &v[k], f.w + k * p, &f.iterations[k], &f.ridge[k], err) < 0)
			goto out;
	if (by_validation && nv > 1) {
		if (lin_stream_mean_loss(valid, &d, &s.loss, nv, f.w, f.b, metric, err) < 0)
			goto out;
	} else {
		for (size_t k = 0; k < nv; k++)
			metric[k] = lin_gram_mean_loss(&g, f.w + k * p);
		by_validation = 0;
	}
	size_t best = best_variant(&s, v, &f, metric, by_validation);
	double objective = lin_gram_mean_loss(&g, f.w + best * p) + lin_penalty(&v[best], f.w + best * p, p);
	rc = finish_model(&d, &s, v, &f, best, metric, by_validation, objective, model, err);
out:
	lin_gram_release(&g);
	stats_release(&st);
	fit_release(&f);
	return rc;
}

/* ---- scoring ---- */

struct predictor {
	size_t p;
	double bias;
	double w[];
};

static void *linear_load(const json_t *model, struct ml_err *err)
{
	const json_t *weights = json_object_get(model, "weights");
	const json_t *bias = json_object_get(model, "bias");
	if (!json_is_array(weights) || !json_is_number(bias)) {
		ml_err_set(err, ML_ERR_DATA, "linear model: needs \"weights\" (a list) and \"bias\" (a number)");
		return NULL;
	}
	size_t p = json_array_size(weights);
	struct predictor *pr = ml_malloc(sizeof *pr + (p + 1) * sizeof(double), err);
	if (!pr)
		return NULL;
	pr->p = p;
	pr->bias = json_number_value(bias);
	for (size_t j = 0; j < p; j++) {
		const json_t *v = json_array_get(weights, j);
		pr->w[j] = json_is_number(v) ? json_number_value(v) : NAN;
		if (!isfinite(pr->w[j])) {
			ml_err_set(err, ML_ERR_DATA, "linear model: weight %zu is not a finite number", j);
			free(pr);
			return NULL;
		}
	}
	if (!isfinite(pr->bias)) {
		ml_err_set(err, ML_ERR_DATA, "linear model: the bias is not a finite number");
		free(pr);
		return NULL;
	}
	return pr;
}

static int linear_predict(const void *predictor, const struct ml_matrix *x, double *out, struct ml_err *err)
{
	const struct predictor *pr = predictor;
	if (x->ncols != pr->p)
		return ml_err_set(err, ML_ERR_DATA, "linear model has %zu weights, the data %zu features", pr->p,
				  x->ncols);
	for (size_t i = 0; i < x->nrows; i++) {
		const double *row = x->v + i * pr->p;
		double s = pr->bias;
		for (size_t j = 0; j < pr->p; j++)	/* a missing feature gives a missing prediction */
			s += pr->w[j] * row[j];
		out[i] = s;
	}
	return 0;
}

static void linear_free(void *predictor)
{
	free(predictor);
}

static const struct ml_algo_ops linear_ops = {
	.size = sizeof linear_ops,
	.train = linear_train,
	.load = linear_load,
	.predict = linear_predict,
	.free = linear_free,
	.train_rows = linear_train_rows,
};

static const struct ml_plugin plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof plugin,
	.kind = ML_PLUGIN_ALGORITHM,
	.name = "linear",
	.version = "0.2.0",
	.description = "linear learner: squared, absolute, huber and quantile losses with L1/L2",
	.init = linear_init,
	.ops.algo = &linear_ops,
};

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void)
{
	return &plugin;
}
