/*
 * sgd.c - mini-batch SGD or Adam over the in-memory rows, for when the user
 * asks for them (optimizer sgd or adam).
 *
 * Every epoch visits the rows in a new order (Fisher-Yates with a
 * splitmix64 generator seeded by `seed`), mini_batch_size rows a step.  All
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

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double soft(double x, double t)
{
	return x > t ? x - t : x < -t ? x + t : 0;
}

struct variant_state {
	double *theta, *m, *s, *best, *grad;
	double best_metric;
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

int lin_sgd(const struct lin_data *d, const struct lin_data *vd, const struct lin_loss *l,
	    const struct lin_sgd_config *cfg, size_t nv, const struct lin_variant *v, double *w, double *b,
	    long *epochs_run, struct ml_err *err)
{
	size_t p = d->p, q = p + (cfg->fit_intercept ? 1 : 0), n = d->n;
	size_t batch = cfg->batch < 1 ? 1 : (size_t)cfg->batch;
	if (batch > n)
		batch = n;
	size_t per_epoch = (n + batch - 1) / batch;
	double total = (double)cfg->epochs * (double)per_epoch;
	size_t *perm = ml_malloc((n + 1) * sizeof *perm, err);
	double *z = ml_calloc(q + 1, sizeof *z, err);
	struct variant_state *vs = ml_calloc(nv, sizeof *vs, err);
	int rc = -1;
	if (!perm || !z || !vs)
		goto out_free;
	for (size_t k = 0; k < nv; k++) {
		vs[k] = (struct variant_state){ ml_calloc(q + 1, sizeof(double), err),
						ml_calloc(q + 1, sizeof(double), err),
						ml_calloc(q + 1, sizeof(double), err),
						ml_calloc(q + 1, sizeof(double), err),
						ml_calloc(q + 1, sizeof(double), err), INFINITY, 0 };
		if (!vs[k].theta || !vs[k].m || !vs[k].s || !vs[k].best || !vs[k].grad)
			goto out_free;
	}
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	uint64_t rng = cfg->seed;
	long step = 0, stale = 0, epoch = 0;
	for (; epoch < cfg->epochs; epoch++) {
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = (size_t)(splitmix64(&rng) % (i + 1));
			size_t tmp = perm[i];
			perm[i] = perm[j];
			perm[j] = tmp;
		}
		for (size_t start = 0; start < n; start += batch, step++) {
			size_t end = start + batch < n ? start + batch : n;
			double decay = 1 - (double)step / total;
			for (size_t k = 0; k < nv; k++)
				memset(vs[k].grad, 0, q * sizeof(double));
			for (size_t r = start; r < end; r++) {
				size_t i = perm[r];
				lin_zrow(d, i, z);
				if (q > p)
					z[p] = 1;
				double t = lin_t(d, i);
				for (size_t k = 0; k < nv; k++) {
					if (vs[k].diverged)
						continue;
					double res = t;
					for (size_t j = 0; j < q; j++)
						res -= vs[k].theta[j] * z[j];
					double psi = lin_loss_deriv(l, res);
					for (size_t j = 0; j < q; j++)
						vs[k].grad[j] -= psi * z[j];
				}
			}
			double inv = 1.0 / (double)(end - start);
			for (size_t k = 0; k < nv; k++) {
				struct variant_state *st = &vs[k];
				if (st->diverged)
					continue;
				double lr = v[k].learning_rate * decay;
				double c1 = 1 - pow(0.9, (double)(step + 1)), c2 = 1 - pow(0.999, (double)(step + 1));
				for (size_t j = 0; j < q; j++) {
					if (j < p && !(d->scale[j] > 0))
						continue;
					double g = st->grad[j] * inv + (j < p ? 2 * v[k].wd * st->theta[j] : 0);
					double rate = lr;
					if (cfg->adam) {
						st->m[j] = 0.9 * st->m[j] + 0.1 * g;
						st->s[j] = 0.999 * st->s[j] + 0.001 * g * g;
						rate = lr / (sqrt(st->s[j] / c2) + 1e-8);
						g = st->m[j] / c1;
					}
					st->theta[j] -= rate * g;
					if (j < p && v[k].l1 > 0)
						st->theta[j] = soft(st->theta[j], rate * v[k].l1);
				}
			}
		}
		/* judge the epoch */
		int improved = 0;
		size_t lead = 0;
		double lead_metric = INFINITY;
		for (size_t k = 0; k < nv; k++) {
			struct variant_state *st = &vs[k];
			if (st->diverged)
				continue;
			double bk = q > p ? st->theta[p] : 0;
			double metric = vd ? lin_mean_loss(vd, l, st->theta, bk) : lin_objective(d, l, &v[k], st->theta, bk);
			if (!isfinite(metric)) {
				st->diverged = 1;
				continue;
			}
			if (metric < st->best_metric) {
				if (!(metric >= st->best_metric - cfg->tolerance * fabs(st->best_metric)))
					improved = 1;
				st->best_metric = metric;
				memcpy(st->best, st->theta, q * sizeof(double));
			}
			if (st->best_metric < lead_metric) {
				lead_metric = st->best_metric;
				lead = k;
			}
		}
		if (isfinite(lead_metric)) {
			double bl = q > p ? vs[lead].best[p] : 0;
			report_epoch(epoch + 1, cfg->epochs, lead, lin_objective(d, l, &v[lead], vs[lead].best, bl),
				     lead_metric, vd != NULL, l);
		}
		stale = improved ? 0 : stale + 1;
		if (cfg->patience > 0 && stale >= cfg->patience) {
			epoch++;
			break;
		}
		size_t live = 0;
		for (size_t k = 0; k < nv; k++)
			live += !vs[k].diverged;
		if (!live)
			break;
	}
	*epochs_run = epoch;
	int any = 0;
	for (size_t k = 0; k < nv; k++) {
		any |= isfinite(vs[k].best_metric);
		memcpy(w + k * p, vs[k].best, p * sizeof(double));
		b[k] = q > p ? vs[k].best[p] : 0;
	}
	if (!any) {
		ml_err_set(err, ML_ERR_DATA, "%s diverged: the loss is not finite; lower learning_rate",
			   cfg->adam ? "Adam" : "SGD");
		goto out_free;
	}
	rc = 0;
out_free:
	for (size_t k = 0; vs && k < nv; k++) {
		free(vs[k].theta);
		free(vs[k].m);
		free(vs[k].s);
		free(vs[k].best);
		free(vs[k].grad);
	}
	free(vs);
	free(z);
	free(perm);
	return rc;
}
