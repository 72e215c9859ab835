/*
 * algo-linear - a linear learner with SageMaker Linear Learner's
 * hyperparameter names.
 *
 * This version solves squared loss with an L2 penalty exactly:
 *
 *     minimise  (1/n) sum_i (y_i - b - w.z_i)^2  +  wd * |w|^2
 *
 * where z are the features standardised with the training mean and
 * population standard deviation (normalize_data, the default), by one
 * Cholesky solve of (Z'Z/n + wd I) w = Z'y/n.  That is scikit-learn's
 * Ridge(alpha = n * wd) on StandardScaler'd data.  The model stores weights
 * in the original feature units, so scoring is one dot product per row.
 * The other losses and L1 need an iterative solver: they are refused with
 * "not supported yet" rather than approximated.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mlpipe/buf.h"
#include "mlpipe/hparams.h"
#include "mlpipe/matrix.h"
#include "mlpipe/plugin.h"

static const struct ml_host *host;

static int linear_init(const struct ml_host *h, struct ml_err *err)
{
	(void)err;
	host = h;
	return 0;
}

#define warn(...) (host && host->log ? host->log(0, __VA_ARGS__) : (void)0)

/* ---- hyperparameters (strings, as in SageMaker's hyperparameters.json) ---- */

struct settings {
	double wd;
	int normalize_data, normalize_label, fit_intercept;
	size_t threads;
};

/* What only an iterative solver would honour: refused, or noted as unused. */
static int check_unsupported(const json_t *params, struct ml_err *err)
{
	const char *type = ml_hparam_str(params, "predictor_type");
	if (type && strcmp(type, "regressor") != 0)
		return ml_err_set(err, ML_ERR_UNAVAILABLE,
				  "predictor_type %s is not supported yet (only regressor)", type);
	const char *loss = ml_hparam_str(params, "loss");
	if (loss && strcmp(loss, "squared_loss") != 0 && strcmp(loss, "auto") != 0)
		return ml_err_set(err, ML_ERR_UNAVAILABLE,
				  "loss %s is not supported yet: this version solves squared_loss exactly", loss);
	double l1 = 0;
	if (ml_hparam_double(params, "l1", 0, INFINITY, &l1, err) < 0)
		return -1;
	if (l1 > 0)
		return ml_err_set(err, ML_ERR_UNAVAILABLE, "l1 regularization is not supported yet (use wd)");
	static const char *const sgd_only[] = { "epochs", "mini_batch_size", "learning_rate", "optimizer",
						"early_stopping_patience", "early_stopping_tolerance",
						"num_models", "huber_delta", "quantile" };
	for (size_t i = 0; i < sizeof sgd_only / sizeof *sgd_only; i++)
		if (ml_hparam_str(params, sgd_only[i]))
			warn("%s is ignored: squared_loss with wd is solved exactly, without SGD", sgd_only[i]);
	return 0;
}

static int read_settings(const json_t *params, struct settings *s, struct ml_err *err)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	double threads = 0;
	*s = (struct settings){ 0, 1, 0, 1, cpus > 0 ? (size_t)cpus : 1 };
	if (ml_hparam_double(params, "threads", 0, INFINITY, &threads, err) < 0)
		return -1;
	if (threads >= 1)
		s->threads = (size_t)threads;
	if (ml_hparam_double(params, "wd", 0, INFINITY, &s->wd, err) < 0 ||
	    ml_hparam_bool(params, "normalize_data", &s->normalize_data, err) < 0 ||
	    ml_hparam_bool(params, "normalize_label", &s->normalize_label, err) < 0 ||
	    ml_hparam_bool(params, "fit_intercept", &s->fit_intercept, err) < 0)
		return -1;
	return check_unsupported(params, err);
}

/* ---- the exact solve ---- */

struct problem {
	size_t n, p;
	double *mean, *scale;	/* per feature: z = (x - mean) / scale; scale 0 = constant, unused */
	double ymean, yscale;
	double *a;		/* p x p: Z'Z / n + wd I */
	double *c;		/* p: Z'y / n */
};

static void free_problem(struct problem *pr)
{
	free(pr->mean);
	free(pr->scale);
	free(pr->a);
	free(pr->c);
}

static int column_stats(const struct ml_matrix *x, const double *y, const struct settings *s,
			struct problem *pr, struct ml_err *err)
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
		pr->mean[j] = s->fit_intercept ? m : 0;
		pr->scale[j] = sd > 1e-12 * (fabs(m) + 1) ? (s->normalize_data ? sd : 1) : 0;
	}
	double ym = 0, ym2 = 0;
	for (size_t i = 0; i < n; i++) {
		double d = y[i] - ym;
		ym += d / (double)(i + 1);
		ym2 += d * (y[i] - ym);
	}
	double ysd = sqrt(ym2 / (double)n);
	pr->ymean = s->fit_intercept ? ym : 0;
	pr->yscale = s->normalize_label && ysd > 0 ? ysd : 1;
	return 0;
}

/* Sums of z z' and z t over rows [begin, end): one thread's share. */
struct share {
	const struct ml_matrix *x;
	const double *y;
	const struct problem *pr;
	size_t begin, end;
	double *a, *c, *z;	/* p x p (lower triangle), p, p scratch */
};

static void *accumulate(void *arg)
{
	struct share *sh = arg;
	const struct problem *pr = sh->pr;
	size_t p = pr->p;
	for (size_t i = sh->begin; i < sh->end; i++) {
		const double *row = sh->x->v + i * p;
		for (size_t j = 0; j < p; j++)
			sh->z[j] = pr->scale[j] > 0 ? (row[j] - pr->mean[j]) / pr->scale[j] : 0;
		double t = (sh->y[i] - pr->ymean) / pr->yscale;
		for (size_t j = 0; j < p; j++) {
			double zj = sh->z[j];
			if (zj == 0)
				continue;	/* one-hot rows are mostly zeros */
			double *arow = sh->a + j * p;
			for (size_t k = 0; k <= j; k++)
				arow[k] += zj * sh->z[k];
			sh->c[j] += zj * t;
		}
	}
	return NULL;
}

#define MAX_SHARES 8

/*
 * A = Z'Z/n + wd I and c = Z'y/n, the rows shared among threads; the shares
 * are added in a fixed order, so the same thread count gives the same bits.
 */
static int normal_equations(const struct ml_matrix *x, const double *y, double wd, size_t threads,
			    struct problem *pr, struct ml_err *err)
{
	size_t n = x->nrows, p = x->ncols, t = threads < 1 ? 1 : threads > MAX_SHARES ? MAX_SHARES : threads;
	if (n < 4096 * t)
		t = 1;
	struct share sh[MAX_SHARES];
	pthread_t tids[MAX_SHARES];
	int rc = 0;
	for (size_t s = 0; s < t; s++) {
		sh[s] = (struct share){ x, y, pr, n * s / t, n * (s + 1) / t,
					ml_calloc(p * p + 1, sizeof(double), err), ml_calloc(p + 1, sizeof(double), err),
					ml_calloc(p + 1, sizeof(double), err) };
		if (!sh[s].a || !sh[s].c || !sh[s].z)
			rc = -1;
	}
	size_t started = 1;
	for (; rc == 0 && started < t; started++)
		if (pthread_create(&tids[started], NULL, accumulate, &sh[started]) != 0)
			break;
	for (size_t s = started; rc == 0 && s < t; s++)
		accumulate(&sh[s]);
	if (rc == 0)
		accumulate(&sh[0]);
	for (size_t s = 1; s < started && rc == 0; s++)
		pthread_join(tids[s], NULL);
	for (size_t s = 0; s < t && rc == 0; s++) {
		for (size_t k = 0; k < p * p; k++)
			pr->a[k] += sh[s].a[k];
		for (size_t j = 0; j < p; j++)
			pr->c[j] += sh[s].c[j];
	}
	for (size_t s = 0; s < t; s++) {
		free(sh[s].a);
		free(sh[s].c);
		free(sh[s].z);
	}
	if (rc < 0)
		return -1;
	for (size_t j = 0; j < p; j++) {
		for (size_t k = 0; k <= j; k++)
			pr->a[j * p + k] = pr->a[k * p + j] = pr->a[j * p + k] / (double)n;
		pr->c[j] /= (double)n;
		/* a constant feature gets weight 0: an identity row keeps A definite */
		pr->a[j * p + j] += pr->scale[j] > 0 ? wd : 1;
	}
	return 0;
}

/* In-place Cholesky A = LL' (lower); 0, or -1 when A is not positive definite. */
static int cholesky(double *a, size_t p)
{
	double largest = 0;
	for (size_t j = 0; j < p; j++)
		largest = fmax(largest, a[j * p + j]);
	for (size_t j = 0; j < p; j++) {
		double d = a[j * p + j];
		for (size_t k = 0; k < j; k++)
			d -= a[j * p + k] * a[j * p + k];
		if (!(d > 1e-12 * largest))
			return -1;
		d = sqrt(d);
		a[j * p + j] = d;
		for (size_t i = j + 1; i < p; i++) {
			double s = a[i * p + j];
			for (size_t k = 0; k < j; k++)
				s -= a[i * p + k] * a[j * p + k];
			a[i * p + j] = s / d;
		}
	}
	return 0;
}

static void cholesky_solve(const double *l, size_t p, double *b)
{
	for (size_t i = 0; i < p; i++) {	/* L u = b */
		for (size_t k = 0; k < i; k++)
			b[i] -= l[i * p + k] * b[k];
		b[i] /= l[i * p + i];
	}
	for (size_t i = p; i-- > 0;) {	/* L' w = u */
		for (size_t k = i + 1; k < p; k++)
			b[i] -= l[k * p + i] * b[k];
		b[i] /= l[i * p + i];
	}
}

/*
 * Solve; a singular system (wd = 0 with collinear features, such as every
 * level of a one-hot column next to the intercept) gets the smallest ridge
 * that makes it definite, with a warning, rather than NaN weights.
 */
static int solve(struct problem *pr, double *w, struct ml_err *err)
{
	size_t p = pr->p;
	double *l = ml_malloc(p * p * sizeof *l + 1, err);
	if (!l)
		return -1;
	double ridge = 0;
	for (int attempt = 0; attempt < 12; attempt++) {
		memcpy(l, pr->a, p * p * sizeof *l);
		for (size_t j = 0; j < p; j++)
			l[j * p + j] += ridge;
		if (cholesky(l, p) == 0) {
			memcpy(w, pr->c, p * sizeof *w);
			cholesky_solve(l, p, w);
			free(l);
			if (ridge > 0)
				warn("the features are collinear (e.g. every level of a one-hot column); solved with "
				     "wd + %g. Set wd > 0 to choose the penalty yourself", ridge);
			return 0;
		}
		ridge = ridge ? ridge * 10 : 1e-10;
	}
	free(l);
	return ml_err_set(err, ML_ERR_DATA, "the least-squares system cannot be solved (features too collinear)");
}

/* Weights in the original feature units and the bias. */
static json_t *model_json(const struct problem *pr, const double *w, const struct settings *s)
{
	json_t *weights = json_array();
	double bias = pr->ymean;
	for (size_t j = 0; j < pr->p; j++) {
		double wj = pr->scale[j] > 0 ? w[j] * pr->yscale / pr->scale[j] : 0;
		bias -= wj * pr->mean[j];
		json_array_append_new(weights, json_real(wj));
	}
	return json_pack("{s:s, s:s, s:f, s:o, s:f}", "loss", "squared_loss", "solver", "exact", "wd", s->wd,
			 "weights", weights, "bias", bias);
}

static int linear_train(const struct ml_matrix *x, const double *y, const struct ml_matrix *vx,
			const double *vy, const json_t *params, json_t **model, struct ml_err *err)
{
	(void)vx;
	(void)vy;
	struct settings s;
	if (read_settings(params, &s, err) < 0)
		return -1;
	if (x->nrows == 0)
		return ml_err_set(err, ML_ERR_DATA, "no training rows");
	size_t p = x->ncols;
	struct problem pr = { x->nrows, p, ml_calloc(p + 1, sizeof(double), err),
			      ml_calloc(p + 1, sizeof(double), err), 0, 1,
			      ml_calloc(p * p + 1, sizeof(double), err), ml_calloc(p + 1, sizeof(double), err) };
	double *w = ml_calloc(p + 1, sizeof *w, err);
	int rc = -1;
	if (pr.mean && pr.scale && pr.a && pr.c && w && column_stats(x, y, &s, &pr, err) == 0 &&
	    normal_equations(x, y, s.wd, s.threads, &pr, err) == 0 && solve(&pr, w, err) == 0 &&
	    (*model = model_json(&pr, w, &s)) != NULL)
		rc = 0;
	free(w);
	free_problem(&pr);
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
};

static const struct ml_plugin plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof plugin,
	.kind = ML_PLUGIN_ALGORITHM,
	.name = "linear",
	.version = "0.1.0",
	.description = "linear learner: squared loss with L2, solved exactly",
	.init = linear_init,
	.ops.algo = &linear_ops,
};

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void)
{
	return &plugin;
}
