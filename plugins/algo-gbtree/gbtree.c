/*
 * algo-gbtree - gradient-boosted regression trees, with XGBoost's
 * hyperparameter names, formulas and tree format.
 *
 * Training is histogram boosting (XGBoost's tree_method=hist, depthwise):
 * features binned once at quantile cuts, then per round the gradients, a
 * row and column sample, one tree grown from gradient histograms (grow.c),
 * and the margins updated from the leaves the rows ended in.  Per-round
 * metrics go to the host's event log; with early_stopping_rounds the
 * trees after the best validation round are dropped.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gbtree.h"
#include "mlpipe/buf.h"
#include "mlpipe/hparams.h"
#include "mlpipe/random.h"
#include "mlpipe/threads.h"

const struct ml_host *gb_host;

static int gbtree_init(const struct ml_host *h, struct ml_err *err)
{
	(void)err;
	gb_host = h;
	return 0;
}

/* ---- hyperparameters ---- */

struct settings {
	long num_round, max_bin, seed, early_stopping_rounds;
	double subsample, colsample_bytree, base_score;
	struct gb_tree_params tree;
	struct gb_objective objective;
	size_t threads;
};

/* The value of the first name present, as a number in [lo, hi]. */
static int number(const json_t *params, const char *const *names, double lo, double hi, double *out,
		  struct ml_err *err)
{
	const char *name = ml_hparam_alias(params, names);
	return name ? ml_hparam_double(params, name, lo, hi, out, err) : 0;
}

static int whole(const json_t *params, const char *const *names, long lo, long hi, long *out, struct ml_err *err)
{
	const char *name = ml_hparam_alias(params, names);
	return name ? ml_hparam_long(params, name, lo, hi, out, err) : 0;
}

#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })

static int read_objective(const json_t *params, struct gb_objective *o, struct ml_err *err)
{
	const char *name = ml_hparam_str(params, "objective");
	*o = (struct gb_objective){ GB_SQUARED, 0.5, 1.0, 1.5 };
	if (name && gb_objective_parse(name, o, err) < 0)
		return -1;
	return ml_hparam_double(params, "quantile_alpha", 1e-9, 1 - 1e-9, &o->quantile_alpha, err) < 0 ||
			       ml_hparam_double(params, "huber_slope", 1e-12, INFINITY, &o->huber_slope, err) < 0 ||
			       ml_hparam_double(params, "tweedie_variance_power", 1 + 1e-9, 2 - 1e-9,
						&o->tweedie_power, err) < 0
		       ? -1
		       : 0;
}

/* XGBoost settings this plugin does not implement: refused unless left at their default. */
static int check_unsupported(const json_t *params, struct ml_err *err)
{
	static const struct {
		const char *name, *fine;
	} fixed[] = { { "booster", "gbtree" },	  { "grow_policy", "depthwise" }, { "max_leaves", "0" },
		      { "colsample_bylevel", "1" }, { "colsample_bynode", "1" },	  { "max_delta_step", "0" },
		      { "num_parallel_tree", "1" }, { "monotone_constraints", "()" },
		      { "interaction_constraints", "" } };
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
		const char *v = ml_hparam_str(params, fixed[i].name);
		if (v && strcmp(v, fixed[i].fine) != 0 && strtod(v, NULL) != strtod(fixed[i].fine, NULL))
			return ml_err_set(err, ML_ERR_UNAVAILABLE, "%s=%s is not supported yet (only %s)",
					  fixed[i].name, v, fixed[i].fine);
	}
	const char *method = ml_hparam_str(params, "tree_method");
	if (method && strcmp(method, "hist") && strcmp(method, "auto") && strcmp(method, "approx"))
		gb_warn("tree_method %s: training uses hist", method);
	static const char *const linear_only[] = { "epochs", "mini_batch_size", "learning_rate_linear", "optimizer",
						   "l1", "wd", "loss", "huber_delta", "quantile", "normalize_data",
						   "normalize_label", "fit_intercept", "early_stopping_patience",
						   "early_stopping_tolerance", "num_models" };
	for (size_t i = 0; i < sizeof linear_only / sizeof *linear_only; i++)
		if (ml_hparam_str(params, linear_only[i]))
			gb_warn("%s is a linear learner setting: ignored by gbtree", linear_only[i]);
	return 0;
}

static int read_settings(const json_t *params, struct settings *s, struct ml_err *err)
{
	*s = (struct settings){ .num_round = 100, .max_bin = 256, .subsample = 1, .colsample_bytree = 1,
				.base_score = NAN,
				.tree = { .max_depth = 6, .eta = 0.3, .lambda = 1, .min_child_weight = 1 } };
	double threads = 0;
	if (read_objective(params, &s->objective, err) < 0 || check_unsupported(params, err) < 0 ||
	    whole(params, NAMES("num_round", "num_boost_round", "n_estimators"), 1, 1000000, &s->num_round, err) < 0 ||
	    number(params, NAMES("eta", "learning_rate"), 0, 1, &s->tree.eta, err) < 0 ||
	    whole(params, NAMES("max_depth"), 1, 16, &s->tree.max_depth, err) < 0 ||
	    number(params, NAMES("min_child_weight"), 0, INFINITY, &s->tree.min_child_weight, err) < 0 ||
	    number(params, NAMES("subsample"), 1e-9, 1, &s->subsample, err) < 0 ||
	    number(params, NAMES("colsample_bytree"), 1e-9, 1, &s->colsample_bytree, err) < 0 ||
	    number(params, NAMES("lambda", "reg_lambda"), 0, INFINITY, &s->tree.lambda, err) < 0 ||
	    number(params, NAMES("alpha", "reg_alpha"), 0, INFINITY, &s->tree.alpha, err) < 0 ||
	    number(params, NAMES("gamma", "min_split_loss"), 0, INFINITY, &s->tree.gamma, err) < 0 ||
	    whole(params, NAMES("max_bin"), 2, 65535, &s->max_bin, err) < 0 ||
	    whole(params, NAMES("seed", "random_state"), -2147483648L, 4294967295L, &s->seed, err) < 0 ||
	    whole(params, NAMES("early_stopping_rounds"), 0, 1000000, &s->early_stopping_rounds, err) < 0 ||
	    number(params, NAMES("base_score"), -INFINITY, INFINITY, &s->base_score, err) < 0 ||
	    number(params, NAMES("threads", "nthread"), 0, 4096, &threads, err) < 0)
		return -1;
	if (s->tree.lambda == 0 && s->tree.min_child_weight == 0)
		return ml_err_set(err, ML_ERR_USAGE, "lambda 0 with min_child_weight 0 can divide by zero: "
				  "give one of them a positive value");
	s->threads = threads >= 1 ? (size_t)threads : 0;
	return 0;
}

/* ---- the boosting state (sampling by random.h: the same seed, the same samples on any machine) ---- */

struct booster {
	const struct ml_matrix *x, *vx;
	const double *y, *vy;
	struct settings s;
	struct gb_bins bins;
	struct gb_grower grower;
	struct gb_forest forest;
	struct gb_gpair *gp;
	double *margin, *vmargin, *scratch;
	float *vxf;			/* the validation rows as float */
	uint32_t *unsampled;		/* rows left out of this round's sample */
	size_t nunsampled;
	uint8_t *use;			/* this round's features */
	uint32_t *perm;
	uint64_t rng;
	double best_metric;
	long best_round;
};

static void booster_free(struct booster *b)
{
	gb_bins_free(&b->bins);
	gb_grower_free(&b->grower);
	gb_forest_free(&b->forest);
	free(b->gp);
	free(b->margin);
	free(b->vmargin);
	free(b->scratch);
	free(b->vxf);
	free(b->unsampled);
	free(b->use);
	free(b->perm);
}

static int check_labels(const struct booster *b, struct ml_err *err)
{
	for (size_t i = 0; i < b->x->nrows; i++) {
		if (!isfinite(b->y[i]))
			return ml_err_set(err, ML_ERR_DATA, "training row %zu: the label is not a finite number", i + 1);
		if (b->s.objective.kind == GB_TWEEDIE && b->y[i] < 0)
			return ml_err_set(err, ML_ERR_DATA, "training row %zu: reg:tweedie needs labels >= 0, got %g",
					  i + 1, b->y[i]);
	}
	return 0;
}

static int booster_start(struct booster *b, struct ml_err *err)
{
	size_t n = b->x->nrows, p = b->x->ncols, nv = b->vx ? b->vx->nrows : 0;
	if (n == 0)
		return ml_err_set(err, ML_ERR_DATA, "no training rows");
	if (check_labels(b, err) < 0)
		return -1;
	ml_set_threads((long)b->s.threads);
	if (isnan(b->s.base_score) && gb_estimate_base_score(&b->s.objective, b->y, n, &b->s.base_score, err) < 0)
		return -1;
	if (b->s.objective.kind == GB_TWEEDIE && !(b->s.base_score > 0))
		return ml_err_set(err, ML_ERR_USAGE, "base_score must be above 0 for reg:tweedie");
	b->forest = (struct gb_forest){ .objective = b->s.objective, .base_score = b->s.base_score,
					.num_feature = p, .best_iteration = -1 };
	b->gp = ml_malloc((n + 1) * sizeof *b->gp, err);
	b->margin = ml_malloc((n + 1) * sizeof *b->margin, err);
	b->scratch = ml_malloc((n + 1) * sizeof *b->scratch, err);
	b->unsampled = ml_malloc((n + 1) * sizeof *b->unsampled, err);
	b->vmargin = ml_malloc((nv + 1) * sizeof *b->vmargin, err);
	b->vxf = ml_malloc((nv * p + 1) * sizeof *b->vxf, err);
	b->use = ml_calloc(p + 1, 1, err);
	b->perm = ml_calloc(p + 1, sizeof *b->perm, err);
	if (!b->gp || !b->margin || !b->scratch || !b->unsampled || !b->vmargin || !b->vxf || !b->use || !b->perm)
		return -1;
	double base = gb_base_margin(&b->s.objective, b->s.base_score);
	for (size_t i = 0; i < n; i++)
		b->margin[i] = base;
	for (size_t i = 0; i < nv; i++)
		b->vmargin[i] = base;
	for (size_t i = 0; i < nv * p; i++)
		b->vxf[i] = (float)b->vx->v[i];
	b->rng = (uint64_t)b->s.seed;
	b->best_metric = INFINITY;
	b->best_round = -1;
	if (gb_bins_build(b->x, b->s.max_bin, &b->bins, err) < 0)
		return -1;
	size_t threads = b->s.threads ? b->s.threads : ml_threads();
	return gb_grower_init(&b->grower, &b->bins, threads, err);
}

/* This round's rows (subsample) and features (colsample_bytree). */
static void sample(struct booster *b)
{
	size_t n = b->x->nrows, p = b->x->ncols, m = 0;
	b->nunsampled = 0;
	for (size_t i = 0; i < n; i++) {
		if (b->s.subsample >= 1 || ml_random_uniform(&b->rng) < b->s.subsample)
			b->grower.rows[m++] = (uint32_t)i;
		else
			b->unsampled[b->nunsampled++] = (uint32_t)i;
	}
	b->grower.nrows = m;
	size_t keep = (size_t)(b->s.colsample_bytree * (double)p);
	keep = keep < 1 ? 1 : keep;
	memset(b->use, keep >= p, p);
	if (keep >= p)
		return;
	for (size_t j = 0; j < p; j++)
		b->perm[j] = (uint32_t)j;
	for (size_t j = 0; j < keep; j++) {	/* a partial Fisher-Yates shuffle */
		size_t k = j + (size_t)(ml_random_uniform(&b->rng) * (double)(p - j));
		uint32_t t = b->perm[j];
		b->perm[j] = b->perm[k];
		b->perm[k] = t;
		b->use[b->perm[j]] = 1;
	}
}

/* Margins of the sampled rows from the leaves they ended in (leaves refreshed first if adaptive). */
static int apply_leaves(struct booster *b, struct gb_tree *t, struct ml_err *err)
{
	const struct gb_grower *g = &b->grower;
	int32_t *stack = ml_malloc((t->n + 1) * sizeof *stack, err);
	if (!stack)
		return -1;
	size_t top = 0;
	stack[top++] = 0;
	while (top) {
		int32_t i = stack[--top];
		if (t->left[i] >= 0) {
			stack[top++] = t->left[i];
			stack[top++] = t->right[i];
			continue;
		}
		const uint32_t *rows = g->rows + g->node_begin[i];
		size_t n = g->node_end[i] - g->node_begin[i];
		if (gb_objective_adaptive(&b->s.objective)) {
			double v = gb_leaf_quantile(&b->s.objective, b->y, b->margin, rows, n, b->scratch);
			t->weight[i] = v;
			t->cond[i] = (float)(b->s.tree.eta * v);
		}
		double leaf = t->cond[i];
		for (size_t k = 0; k < n; k++)
			b->margin[rows[k]] += leaf;
	}
	free(stack);
	for (size_t k = 0; k < b->nunsampled; k++)
		b->margin[b->unsampled[k]] += t->cond[gb_binned_leaf(g, t, b->unsampled[k])];
	return 0;
}

static void report_round(const struct booster *b, long round, double train, double valid)
{
	if (!ML_HOST_HAS(gb_host, event))
		return;
	char key[64];
	json_t *e = json_pack("{s:s, s:I}", "event", "round", "round", (json_int_t)round + 1);
	snprintf(key, sizeof key, "train-%s", gb_metric_name(&b->s.objective));
	json_object_set_new(e, key, json_real(train));
	if (b->vx) {
		snprintf(key, sizeof key, "validation-%s", gb_metric_name(&b->s.objective));
		json_object_set_new(e, key, json_real(valid));
	}
	gb_host->event(e);
	json_decref(e);
}

static void report_progress(long done, long total)
{
	if (ML_HOST_HAS(gb_host, progress))
		gb_host->progress("training", (uint64_t)done, (uint64_t)total, "rounds");
}

/* Validation margins and metrics; returns 1 when early stopping says stop. */
static int evaluate_round(struct booster *b, const struct gb_tree *t, long round)
{
	size_t nv = b->vx ? b->vx->nrows : 0, p = b->x->ncols;
	for (size_t i = 0; i < nv; i++)
		b->vmargin[i] += gb_walk_tree(t, b->vxf + i * p);
	double train = gb_metric(&b->s.objective, b->margin, b->y, b->x->nrows);
	double valid = nv ? gb_metric(&b->s.objective, b->vmargin, b->vy, nv) : NAN;
	report_round(b, round, train, valid);
	double judged = nv ? valid : train;
	if (judged < b->best_metric) {
		b->best_metric = judged;
		b->best_round = round;
	}
	return b->s.early_stopping_rounds > 0 && round - b->best_round >= b->s.early_stopping_rounds;
}

static int boost(struct booster *b, struct ml_err *err)
{
	long round;
	for (round = 0; round < b->s.num_round; round++) {
		struct gb_tree t = { 0 };
		gb_gradients(&b->s.objective, b->margin, b->y, b->x->nrows, b->gp);
		sample(b);
		if (gb_grow(&b->grower, b->gp, b->use, &b->s.tree, &t, err) < 0 || apply_leaves(b, &t, err) < 0 ||
		    gb_tree_compact(&t, err) < 0) {
			gb_tree_free(&t);
			return -1;
		}
		int stop = evaluate_round(b, &t, round);
		if (gb_forest_add(&b->forest, &t, err) < 0) {
			gb_tree_free(&t);
			return -1;
		}
		report_progress(round + 1, b->s.num_round);
		if (stop)
			break;
	}
	if (b->s.early_stopping_rounds > 0) {
		if (b->best_round + 1 < (long)b->forest.ntrees && gb_host && gb_host->log)
			gb_host->log(1, "early stopping: best round %ld of %ld (%s)", b->best_round + 1,
				     (long)b->forest.ntrees, gb_metric_name(&b->s.objective));
		gb_forest_truncate(&b->forest, (size_t)b->best_round + 1);
	}
	b->forest.best_iteration = (long)b->forest.ntrees - 1;
	return 0;
}

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define gb_debug(...) (gb_host && gb_host->log ? gb_host->log(2, __VA_ARGS__) : (void)0)

static int gbtree_train(const struct ml_matrix *x, const double *y, const struct ml_matrix *vx, const double *vy,
			const json_t *params, json_t **model, struct ml_err *err)
{
	struct booster b = { .x = x, .y = y, .vx = vx, .vy = vy };
	int rc = -1;
	if (read_settings(params, &b.s, err) < 0)
		return -1;
	if (b.s.early_stopping_rounds > 0 && !vx)
		return ml_err_set(err, ML_ERR_USAGE, "early_stopping_rounds needs validation data (--validation FILE)");
	if (vx && vx->ncols != x->ncols)
		return ml_err_set(err, ML_ERR_INTERNAL, "validation has %zu features, training %zu", vx->ncols,
				  x->ncols);
	double t0 = seconds(), t1 = t0;
	if (booster_start(&b, err) == 0 && (t1 = seconds(), boost(&b, err) == 0)) {
		gb_debug("gbtree: %zu x %zu binned in %.3f s (%d-byte codes), %zu trees grown in %.3f s", x->nrows,
			 x->ncols, t1 - t0, b.bins.wide ? 2 : 1, b.forest.ntrees, seconds() - t1);
		*model = gb_forest_to_json(&b.forest);
		json_object_set_new(*model, "feature_importance", gb_forest_importance(&b.forest));
		rc = *model ? 0 : ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	}
	booster_free(&b);
	return rc;
}

/* ---- scoring ---- */

static void *gbtree_load(const json_t *model, struct ml_err *err)
{
	struct gb_forest f;
	if (gb_forest_from_json(model, &f, err) < 0)
		return NULL;
	return gb_predictor_new(&f, err);
}

static int gbtree_predict(const void *predictor, const struct ml_matrix *x, double *out, struct ml_err *err)
{
	return gb_predict(predictor, x, out, err);
}

static void gbtree_free(void *predictor)
{
	gb_predictor_free(predictor);
}

static const struct ml_algo_ops gbtree_ops = {
	.size = sizeof gbtree_ops,
	.train = gbtree_train,
	.load = gbtree_load,
	.predict = gbtree_predict,
	.free = gbtree_free,
};

static const struct ml_plugin plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof plugin,
	.kind = ML_PLUGIN_ALGORITHM,
	.name = "gbtree",
	.version = "1.0.0",
	.description = "gradient-boosted regression trees (histogram, XGBoost-compatible models)",
	.init = gbtree_init,
	.ops.algo = &gbtree_ops,
};

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void)
{
	return &plugin;
}
