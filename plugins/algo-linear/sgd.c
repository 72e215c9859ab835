/*
 * sgd.c - mini-batch SGD or Adam, for when the user asks for them
 * (optimizer sgd or adam), over rows in memory or handed over a chunk at a
 * time (data larger than memory: each epoch is a pass).
 *
 * Every epoch visits the chunks in a new order, when the host can shuffle
 * them (ml-train's spool can), and the rows of each chunk in a new order
 * (Fisher-Yates with a splitmix64 generator seeded by `seed`; rows in
 * memory are one chunk), mini_batch_size rows a step.  All
 * the variants of num_models step on the same mini-batches, so each row is
 * standardized once per epoch for all of them.  A step follows the mean
 * subgradient of the batch's loss plus 2 wd w; the l1 term is applied by its
 * proximal map (soft thresholding by l1 times the step), so weights can be
 * exactly 0.  The step size decays linearly from learning_rate to 0 over the
 * planned epochs x batches (Adam: the same for its base rate; beta1 0.9,
 * beta2 0.999, epsilon 1e-8).
 *
 * After each epoch each variant is judged by its mean validation loss, or
 * by its training objective without validation data, and its best epoch is
 * kept.  Early stopping ends training when for `patience` epochs no variant
 * improved on its best by more than `tolerance` relative.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "linear.h"
#include "mlpipe/buf.h"
#include "mlpipe/random.h"

static double soft(double x, double t)
{
	return x > t ? x - t : x < -t ? x + t : 0;
}

struct variant_state {
	double *theta, *m, *s, *best, *grad;
	double best_metric, best_train;	/* the metric judged by, and the training objective, of the best epoch */
	int diverged;
};

static void report_epoch(long epoch, long epochs, size_t k, double train, double valid, int has_valid,
			 const struct lin_loss *l)
{
	if (ML_HOST_HAS(lin_host, event)) {
		json_t *e = json_pack("{s:s, s:I, s:I, s:f}", "event", "epoch", "epoch", (json_int_t)epoch, "model",
				      (json_int_t)k, "train-objective", train);
		if (has_valid) {
			char key[64];
			snprintf(key, sizeof key, "validation-%s", lin_loss_name(l->kind));
			json_object_set_new(e, key, json_real(valid));
		}
		lin_host->event(e);
		json_decref(e);
	}
	if (ML_HOST_HAS(lin_host, progress))
		lin_host->progress("training", (uint64_t)epoch, (uint64_t)epochs, "epochs");
}

/* The state of a run: the variants, the generator, and the mini-batch being gathered. */
struct sgd {
	const struct lin_data *stats;	/* standardizing statistics (x, y unused) */
	const struct lin_loss *l;
	const struct lin_sgd_config *cfg;
	const struct lin_variant *v;
	size_t nv, p, q, batch;
	double total;			/* planned steps, for the decay */
	struct variant_state *vs;
	double *z, *w, *b;		/* a row; the variants' weights and biases packed for lin_stream_mean_loss */
	size_t *perm, perm_cap;
	uint64_t rng;
	long step;
	size_t in_batch;		/* rows gathered toward the next step */
};

static void add_row(struct sgd *g, const double *z, double t)
{
	for (size_t k = 0; k < g->nv; k++) {
		struct variant_state *st = &g->vs[k];
		if (st->diverged)
			continue;
		double res = t;
		for (size_t j = 0; j < g->q; j++)
			res -= st->theta[j] * z[j];
		double psi = lin_loss_deriv(g->l, res);
		for (size_t j = 0; j < g->q; j++)
			st->grad[j] -= psi * z[j];
	}
}

/* One step of every live variant along the mean gradient of the rows gathered. */
static void take_step(struct sgd *g)
{
	double inv = 1.0 / (double)g->in_batch, decay = 1 - (double)g->step / g->total;
	double c1 = 1 - pow(0.9, (double)(g->step + 1)), c2 = 1 - pow(0.999, (double)(g->step + 1));
	for (size_t k = 0; k < g->nv; k++) {
		struct variant_state *st = &g->vs[k];
		const struct lin_variant *v = &g->v[k];
		if (st->diverged)
			continue;
		double lr = v->learning_rate * decay;
		for (size_t j = 0; j < g->q; j++) {
			if (j < g->p && !(g->stats->scale[j] > 0))
				continue;
			double grad = st->grad[j] * inv + (j < g->p ? 2 * v->wd * st->theta[j] : 0);
			double rate = lr;
			if (g->cfg->adam) {
				st->m[j] = 0.9 * st->m[j] + 0.1 * grad;
				st->s[j] = 0.999 * st->s[j] + 0.001 * grad * grad;
				rate = lr / (sqrt(st->s[j] / c2) + 1e-8);
				grad = st->m[j] / c1;
			}
			st->theta[j] -= rate * grad;
			if (j < g->p && v->l1 > 0)
				st->theta[j] = soft(st->theta[j], rate * v->l1);
		}
		memset(st->grad, 0, g->q * sizeof(double));
	}
	g->step++;
	g->in_batch = 0;
}

/* The rows of a chunk in a new order (Fisher-Yates), mini_batch_size to a step; a batch may span chunks. */
static int sgd_chunk(const struct ml_matrix *x, const double *y, void *arg, struct ml_err *err)
{
	struct sgd *g = arg;
	size_t n = x->nrows;
	if (x->ncols != g->p)
		return ml_err_set(err, ML_ERR_DATA, "a chunk of %zu features in data of %zu", x->ncols, g->p);
	if (n > g->perm_cap) {
		size_t *perm = ml_realloc_array(g->perm, n, sizeof *perm, err);
		if (!perm)
			return -1;
		g->perm = perm;
		g->perm_cap = n;
	}
	for (size_t i = 0; i < n; i++)
		g->perm[i] = i;
	ml_random_shuffle(g->perm, n, &g->rng);
	struct lin_data c = *g->stats;
	c.n = n;
	c.x = x->v;
	c.y = y;
	for (size_t r = 0; r < n; r++) {
		lin_zrow(&c, g->perm[r], g->z);
		if (g->q > g->p)
			g->z[g->p] = 1;
		add_row(g, g->z, lin_t(&c, g->perm[r]));
		if (++g->in_batch == g->batch)
			take_step(g);
	}
	return 0;
}

/* Mean losses of every variant's weights (best: its best epoch's) over one pass of rows. */
static int variant_losses(struct sgd *g, struct ml_rows *rows, int best, double *out, struct ml_err *err)
{
	for (size_t k = 0; k < g->nv; k++) {
		const double *theta = best ? g->vs[k].best : g->vs[k].theta;
		memcpy(g->w + k * g->p, theta, g->p * sizeof(double));
		g->b[k] = g->q > g->p ? theta[g->p] : 0;
	}
	return lin_stream_mean_loss(rows, g->stats, g->l, g->nv, g->w, g->b, out, err);
}

/* After an epoch: each variant's metric, its best kept; 1 when any improved by more than the tolerance. */
static int judge_epoch(struct sgd *g, struct ml_rows *rows, struct ml_rows *vrows, long epoch, struct ml_err *err)
{
	double train[LIN_MAX_VARIANTS], valid[LIN_MAX_VARIANTS];
	if (variant_losses(g, rows, 0, train, err) < 0 || (vrows && variant_losses(g, vrows, 0, valid, err) < 0))
		return -1;
	int improved = 0;
	size_t lead = 0;
	double lead_metric = INFINITY;
	for (size_t k = 0; k < g->nv; k++) {
		struct variant_state *st = &g->vs[k];
		if (st->diverged)
			continue;
		train[k] += lin_penalty(&g->v[k], st->theta, g->p);
		double metric = vrows ? valid[k] : train[k];
		if (!isfinite(metric)) {
			st->diverged = 1;
			continue;
		}
		if (metric < st->best_metric) {
			if (!(metric >= st->best_metric - g->cfg->tolerance * fabs(st->best_metric)))
				improved = 1;
			st->best_metric = metric;
			st->best_train = train[k];
			memcpy(st->best, st->theta, g->q * sizeof(double));
		}
		if (st->best_metric < lead_metric) {
			lead_metric = st->best_metric;
			lead = k;
		}
	}
	if (isfinite(lead_metric))
		report_epoch(epoch + 1, g->cfg->epochs, lead, g->vs[lead].best_train, lead_metric, vrows != NULL, g->l);
	return improved;
}

static int sgd_alloc(struct sgd *g, struct ml_err *err)
{
	size_t q = g->q, nv = g->nv;
	g->z = ml_calloc(q + 1, sizeof *g->z, err);
	g->w = ml_calloc(nv * g->p + 1, sizeof *g->w, err);
	g->b = ml_calloc(nv, sizeof *g->b, err);
	g->vs = ml_calloc(nv, sizeof *g->vs, err);
	if (!g->z || !g->w || !g->b || !g->vs)
		return -1;
	for (size_t k = 0; k < nv; k++) {
		g->vs[k] = (struct variant_state){ ml_calloc(q + 1, sizeof(double), err),
						   ml_calloc(q + 1, sizeof(double), err),
						   ml_calloc(q + 1, sizeof(double), err),
						   ml_calloc(q + 1, sizeof(double), err),
						   ml_calloc(q + 1, sizeof(double), err), INFINITY, INFINITY, 0 };
		if (!g->vs[k].theta || !g->vs[k].m || !g->vs[k].s || !g->vs[k].best || !g->vs[k].grad)
			return -1;
	}
	return 0;
}

static void sgd_release(struct sgd *g)
{
	for (size_t k = 0; g->vs && k < g->nv; k++) {
		free(g->vs[k].theta);
		free(g->vs[k].m);
		free(g->vs[k].s);
		free(g->vs[k].best);
		free(g->vs[k].grad);
	}
	free(g->vs);
	free(g->z);
	free(g->w);
	free(g->b);
	free(g->perm);
}

int lin_sgd_rows(struct ml_rows *rows, struct ml_rows *vrows, const struct lin_data *stats, const struct lin_loss *l,
		 const struct lin_sgd_config *cfg, size_t nv, const struct lin_variant *v, double *w, double *b,
		 long *epochs_run, struct ml_err *err)
{
	size_t p = stats->p, n = (size_t)rows->nrows;
	struct sgd g = { .stats = stats, .l = l, .cfg = cfg, .v = v, .nv = nv, .p = p,
			 .q = p + (cfg->fit_intercept ? 1 : 0), .rng = cfg->seed };
	g.batch = cfg->batch < 1 ? 1 : (size_t)cfg->batch;
	if (g.batch > n)
		g.batch = n ? n : 1;
	g.total = (double)cfg->epochs * (double)((n + g.batch - 1) / g.batch);
	int rc = -1;
	long stale = 0, epoch = 0;
	if (nv > LIN_MAX_VARIANTS) {
		ml_err_set(err, ML_ERR_USAGE, "at most %d models at once", LIN_MAX_VARIANTS);
		goto out;
	}
	if (sgd_alloc(&g, err) < 0)
		goto out;
	int shuffled = rows->size >= offsetof(struct ml_rows, shuffled_pass) + sizeof rows->shuffled_pass &&
		       rows->shuffled_pass;
	for (; epoch < cfg->epochs; epoch++) {
		if ((shuffled ? rows->shuffled_pass(rows, ml_random_next(&g.rng), sgd_chunk, &g, err)
			      : rows->pass(rows, sgd_chunk, &g, err)) < 0)
			goto out;
		if (g.in_batch)
			take_step(&g);
		int improved = judge_epoch(&g, rows, vrows, epoch, err);
		if (improved < 0)
			goto out;
		stale = improved ? 0 : stale + 1;
		if (cfg->patience > 0 && stale >= cfg->patience) {
			epoch++;
			break;
		}
		size_t live = 0;
		for (size_t k = 0; k < nv; k++)
			live += !g.vs[k].diverged;
		if (!live)
			break;
	}
	*epochs_run = epoch;
	int any = 0;
	for (size_t k = 0; k < nv; k++) {
		any |= isfinite(g.vs[k].best_metric);
		memcpy(w + k * p, g.vs[k].best, p * sizeof(double));
		b[k] = g.q > p ? g.vs[k].best[p] : 0;
	}
	if (!any) {
		ml_err_set(err, ML_ERR_DATA, "%s diverged: the loss is not finite; lower learning_rate",
			   cfg->adam ? "Adam" : "SGD");
		goto out;
	}
	rc = 0;
out:
	sgd_release(&g);
	return rc;
}

/* The rows in memory as one chunk. */
struct memory_rows {
	struct ml_rows rows;
	const struct lin_data *d;
};

static int memory_pass(struct ml_rows *rows,
		       int (*fn)(const struct ml_matrix *x, const double *y, void *arg, struct ml_err *err), void *arg,
		       struct ml_err *err)
{
	const struct lin_data *d = ((struct memory_rows *)rows)->d;
	struct ml_matrix x = { d->n, d->p, d->x };
	return d->n ? fn(&x, d->y, arg, err) : 0;
}

int lin_sgd(const struct lin_data *d, const struct lin_data *vd, const struct lin_loss *l,
	    const struct lin_sgd_config *cfg, size_t nv, const struct lin_variant *v, double *w, double *b,
	    long *epochs_run, struct ml_err *err)
{
	struct memory_rows rows = { { sizeof rows.rows, d->p, d->n, memory_pass }, d };
	struct memory_rows vrows = { { sizeof vrows.rows, d->p, vd ? vd->n : 0, memory_pass }, vd };
	return lin_sgd_rows(&rows.rows, vd ? &vrows.rows : NULL, d, l, cfg, nv, v, w, b, epochs_run, err);
}
