/*
 * exact.c - squared loss: the Gram matrix of the standardized data in one
 * pass, then an exact solve.
 *
 * With t and z centred (fit_intercept), the bias of the optimum is 0 and
 *
 *     F(w) = t't/n - 2 c'w + w'(A + wd I)w + l1 |w|_1,   A = Z'Z/n, c = Z't/n.
 *
 * l1 = 0: one Cholesky solve of (A + wd I) w = c.
 * l1 > 0: cyclic coordinate descent on the same p x p system (glmnet's
 * "covariance updates"): each coordinate is minimised exactly,
 *
 *     w_j = S(c_j - sum_{k != j} Q_jk w_k, l1 / 2) / Q_jj,   Q = A + wd I,
 *
 * S the soft threshold, until no weight moves by more than 1e-13 of the
 * largest; each sweep costs p^2, independent of n.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linear.h"
#include "mlpipe/buf.h"
#include "mlpipe/threads.h"

size_t lin_chunks(size_t n)
{
	size_t k = n / 16384;
	return k < 1 ? 1 : k > 16 ? 16 : k;
}

struct gram_ctx {
	const struct lin_data *d;
	size_t chunks;
	double *a, *c, *tt, *z;	/* per chunk: p x p (lower), p, 1, p scratch */
};

static int gram_chunk(size_t k, void *arg, struct ml_err *err)
{
	(void)err;
	struct gram_ctx *g = arg;
	const struct lin_data *d = g->d;
	size_t p = d->p, begin = d->n * k / g->chunks, end = d->n * (k + 1) / g->chunks;
	double *a = g->a + k * p * p, *c = g->c + k * p, *z = g->z + k * p, tt = 0;
	for (size_t i = begin; i < end; i++) {
		lin_zrow(d, i, z);
		double t = lin_t(d, i);
		tt += t * t;
		for (size_t j = 0; j < p; j++) {
			double zj = z[j];
			if (zj == 0)
				continue;	/* uncentred one-hot rows are mostly zeros */
			double *arow = a + j * p;
			for (size_t m = 0; m <= j; m++)
				arow[m] += zj * z[m];
			c[j] += zj * t;
		}
	}
	g->tt[k] = tt;
	return 0;
}

int lin_gram_build(const struct lin_data *d, struct lin_gram *g, struct ml_err *err)
{
	size_t p = d->p, chunks = lin_chunks(d->n);
	struct gram_ctx ctx = { d, chunks, ml_calloc(chunks * p * p + 1, sizeof(double), err),
				ml_calloc(chunks * p + 1, sizeof(double), err), ml_calloc(chunks, sizeof(double), err),
				ml_calloc(chunks * p + 1, sizeof(double), err) };
	*g = (struct lin_gram){ p, ml_calloc(p * p + 1, sizeof(double), err), ml_calloc(p + 1, sizeof(double), err),
				0 };
	int rc = -1;
	if (!ctx.a || !ctx.c || !ctx.tt || !ctx.z || !g->a || !g->c ||
	    ml_parallel_for(chunks, d->n * p * p, gram_chunk, &ctx, err) < 0)
		goto out_free_chunks;
	for (size_t k = 0; k < chunks; k++) {	/* in a fixed order: the same bits for any thread count */
		for (size_t m = 0; m < p * p; m++)
			g->a[m] += ctx.a[k * p * p + m];
		for (size_t j = 0; j < p; j++)
			g->c[j] += ctx.c[k * p + j];
		g->tt += ctx.tt[k];
	}
	for (size_t j = 0; j < p; j++) {
		for (size_t m = 0; m <= j; m++)
			g->a[j * p + m] = g->a[m * p + j] = g->a[j * p + m] / (double)d->n;
		g->c[j] /= (double)d->n;
	}
	g->tt /= (double)d->n;
	rc = 0;
out_free_chunks:
	free(ctx.a);
	free(ctx.c);
	free(ctx.tt);
	free(ctx.z);
	if (rc < 0)
		lin_gram_release(g);
	return rc;
}

void lin_gram_release(struct lin_gram *g)
{
	free(g->a);
	free(g->c);
	g->a = g->c = NULL;
}

/* In-place Cholesky A = LL' (lower); 0, or -1 when A is not positive definite. */
int lin_cholesky(double *a, size_t p)
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

void lin_cholesky_solve(const double *l, size_t p, double *b)
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
 * Solve (A + wd I) w = c; a singular system (wd = 0 with collinear
 * features, such as every level of a one-hot column next to the intercept)
 * gets the smallest ridge that makes it definite rather than NaN weights.
 * A constant feature gets an identity row, so weight 0.
 */
static int solve_l2(const struct lin_gram *g, const double *scale, double wd, double *w, double *ridge,
		    struct ml_err *err)
{
	size_t p = g->p;
	double *l = ml_malloc(p * p * sizeof *l + 1, err);
	if (!l)
		return -1;
	*ridge = 0;
	for (int attempt = 0; attempt < 12; attempt++) {
		memcpy(l, g->a, p * p * sizeof *l);
		for (size_t j = 0; j < p; j++)
			l[j * p + j] += scale[j] > 0 ? wd + *ridge : 1;
		if (lin_cholesky(l, p) == 0) {
			memcpy(w, g->c, p * sizeof *w);
			lin_cholesky_solve(l, p, w);
			free(l);
			return 0;
		}
		*ridge = *ridge ? *ridge * 10 : 1e-10;
	}
	free(l);
	return ml_err_set(err, ML_ERR_DATA, "the least-squares system cannot be solved (features too collinear)");
}

#define CD_MAX_SWEEPS 1000000L

static double soft(double x, double t)
{
	return x > t ? x - t : x < -t ? x + t : 0;
}

/* Coordinate descent for t't/n - 2c'w + w'(A + wd I)w + l1 |w|_1, from w = 0. */
static int solve_cd(const struct lin_gram *g, const double *scale, double wd, double l1, double *w,
		    long *sweeps, struct ml_err *err)
{
	size_t p = g->p;
	double *q = ml_calloc(p + 1, sizeof *q, err);	/* q = A w */
	if (!q)
		return -1;
	memset(w, 0, p * sizeof *w);
	long s = 0;
	for (; s < CD_MAX_SWEEPS; s++) {
		double moved = 0, largest = 0;
		for (size_t j = 0; j < p; j++) {
			double ajj = g->a[j * p + j];
			if (!(scale[j] > 0) || !(ajj + wd > 0))
				continue;
			double old = w[j];
			double nw = soft(g->c[j] - (q[j] - ajj * old), l1 / 2) / (ajj + wd);
			double delta = nw - old;
			if (delta != 0) {
				const double *acol = g->a + j * p;	/* symmetric: row j = column j */
				for (size_t k = 0; k < p; k++)
					q[k] += acol[k] * delta;
				w[j] = nw;
			}
			moved = fmax(moved, fabs(delta));
			largest = fmax(largest, fabs(nw));
		}
		if (moved <= 1e-13 * largest || largest == 0)
			break;
	}
	free(q);
	*sweeps = s + 1;
	if (s == CD_MAX_SWEEPS)
		lin_warn("coordinate descent stopped after %ld sweeps before converging", CD_MAX_SWEEPS);
	return 0;
}

int lin_gram_solve(const struct lin_gram *g, const double *scale, const struct lin_variant *v, double *w,
		   long *iterations, double *ridge, struct ml_err *err)
{
	*ridge = 0;
	*iterations = 1;
	if (v->l1 > 0)
		return solve_cd(g, scale, v->wd, v->l1, w, iterations, err);
	return solve_l2(g, scale, v->wd, w, ridge, err);
}
