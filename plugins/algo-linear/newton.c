/*
 * newton.c - absolute, huber and quantile losses, with wd and l1: proximal
 * Newton on a smoothed loss whose smoothing shrinks stage by stage.
 *
 * With h_e(r) = r^2 / (2e) for |r| <= e, |r| - e/2 beyond (Huber's function
 * divided by e), every loss here is
 *
 *     rho_e(r) = alpha h_e(r) + beta r
 *
 *     absolute_loss   alpha = 1,      beta = 0,         e -> 0
 *     quantile_loss   alpha = 1/2,    beta = tau - 1/2,  e -> 0
 *     huber_loss      alpha = delta,  beta = 0,         e -> delta (then exact)
 *
 * rho_e is within alpha e / 2 of the loss, and piecewise quadratic, so
 * Newton's method with a line search finds its minimum in a few steps once
 * it knows which residuals lie within e (Madsen and Nielsen, "A finite
 * smoothing algorithm for linear l1 estimation", SIAM J. Optim. 1993).
 * Stages start at e = the mean absolute deviation of the label and divide e
 * by 10, each warm-started from the last, down to 1e-7 of it (absolute and
 * quantile: the objective is then within 1e-7 relative of the exact one) or
 * to huber_delta (huber: exact).
 *
 * Each Newton step minimises the quadratic model of the smooth part plus the
 * l1 term: by Cholesky when l1 is 0, by coordinate descent on the
 * (p+1) x (p+1) model otherwise (proximal Newton: Lee, Sun and Saunders
 * 2014).  A Levenberg-Marquardt term mu max(diag H) I keeps the model
 * definite where no residual has curvature, and an Armijo line search on
 * the smoothed objective makes every step a descent.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linear.h"
#include "mlpipe/buf.h"
#include "mlpipe/threads.h"

struct smooth {
	double alpha, beta, e;
	int last;	/* the final stage */
};

struct pass {
	const struct lin_data *d;
	const struct smooth *s;
	const double *theta;	/* w[0..p-1], then b */
	size_t q;		/* p, or p + 1 with an intercept */
	int hessian;
	size_t chunks;
	double *f, *g, *h, *z;	/* per chunk: 1, q, q x q (lower), q scratch */
	const double *dir;	/* ray_chunk: u - theta */
	double *r, *sl;		/* ray_chunk: per row, the residual at theta and its slope along dir */
};

/* Residuals and their slopes along the step, so the line search costs O(n), not O(np). */
static int ray_chunk(size_t k, void *arg, struct ml_err *err)
{
	(void)err;
	struct pass *ps = arg;
	const struct lin_data *d = ps->d;
	size_t p = d->p, q = ps->q, begin = d->n * k / ps->chunks, end = d->n * (k + 1) / ps->chunks;
	double *z = ps->z + k * q;
	if (q > p)
		z[p] = 1;
	for (size_t i = begin; i < end; i++) {
		lin_zrow(d, i, z);
		double r = lin_t(d, i), sl = 0;
		for (size_t j = 0; j < q; j++) {
			r -= ps->theta[j] * z[j];
			sl += ps->dir[j] * z[j];
		}
		ps->r[i] = r;
		ps->sl[i] = sl;
	}
	return 0;
}

/* The smoothed mean loss at theta + step dir, from ray_chunk's arrays. */
static double ray_loss(const struct pass *ps, double step)
{
	double a = ps->s->alpha, beta = ps->s->beta, e = ps->s->e, f = 0;
	for (size_t i = 0; i < ps->d->n; i++) {
		double r = ps->r[i] - step * ps->sl[i], ar = fabs(r);
		f += (ar <= e ? a * r * r / (2 * e) : a * (ar - e / 2)) + beta * r;
	}
	return f / (double)ps->d->n;
}

static int pass_chunk(size_t k, void *arg, struct ml_err *err)
{
	(void)err;
	struct pass *ps = arg;
	const struct lin_data *d = ps->d;
	size_t p = d->p, q = ps->q, begin = d->n * k / ps->chunks, end = d->n * (k + 1) / ps->chunks;
	double *g = ps->g + k * q, *h = ps->h + k * q * q, *z = ps->z + k * q, f = 0;
	double a = ps->s->alpha, beta = ps->s->beta, e = ps->s->e;
	if (q > p)
		z[p] = 1;
	for (size_t i = begin; i < end; i++) {
		lin_zrow(d, i, z);
		double r = lin_t(d, i);
		for (size_t j = 0; j < q; j++)
			r -= ps->theta[j] * z[j];
		double ar = fabs(r), psi, omega;
		if (ar <= e) {
			f += a * r * r / (2 * e) + beta * r;
			psi = a * r / e + beta;
			omega = a / e;
		} else {
			f += a * (ar - e / 2) + beta * r;
			psi = (r > 0 ? a : -a) + beta;
			omega = 0;
		}
		if (!ps->hessian)
			continue;
		for (size_t j = 0; j < q; j++)
			g[j] -= psi * z[j];
		if (omega == 0)
			continue;
		for (size_t j = 0; j < q; j++) {
			double oz = omega * z[j];
			double *hrow = h + j * q;
			for (size_t m = 0; m <= j; m++)
				hrow[m] += oz * z[m];
		}
	}
	ps->f[k] = f;
	return 0;
}

struct newton {
	const struct lin_data *d;
	const struct lin_variant *v;
	size_t p, q;
	unsigned char *active;	/* q: a constant feature's weight stays 0 */
	double *theta, *trial, *u, *g, *h, *hd, *l, *vq, *dir;
	struct pass ps;
};

/* The smoothed objective at theta (and its gradient and Hessian when asked). */
static int evaluate(struct newton *nt, const double *theta, const struct smooth *s, int hessian, double *f,
		    struct ml_err *err)
{
	struct pass *ps = &nt->ps;
	size_t q = nt->q, p = nt->p;
	ps->s = s;
	ps->theta = theta;
	ps->hessian = hessian;
	if (hessian) {
		memset(ps->g, 0, ps->chunks * q * sizeof(double));
		memset(ps->h, 0, ps->chunks * q * q * sizeof(double));
	}
	if (ml_parallel_for(ps->chunks, nt->d->n * (hessian ? q * q : q), pass_chunk, ps, err) < 0)
		return -1;
	double n = (double)nt->d->n, sum = 0;
	for (size_t k = 0; k < ps->chunks; k++)
		sum += ps->f[k];
	*f = sum / n;
	for (size_t j = 0; j < p; j++)
		*f += nt->v->wd * theta[j] * theta[j] + nt->v->l1 * fabs(theta[j]);
	if (!hessian)
		return 0;
	memset(nt->g, 0, q * sizeof(double));
	memset(nt->h, 0, q * q * sizeof(double));
	for (size_t k = 0; k < ps->chunks; k++) {
		for (size_t j = 0; j < q; j++)
			nt->g[j] += ps->g[k * q + j];
		for (size_t m = 0; m < q * q; m++)
			nt->h[m] += ps->h[k * q * q + m];
	}
	for (size_t j = 0; j < q; j++) {
		nt->g[j] /= n;
		for (size_t m = 0; m <= j; m++)
			nt->h[j * q + m] = nt->h[m * q + j] = nt->h[j * q + m] / n;
	}
	for (size_t j = 0; j < p; j++) {
		nt->g[j] += 2 * nt->v->wd * theta[j];
		nt->h[j * q + j] += 2 * nt->v->wd;
	}
	return 0;
}

static double soft(double x, double t)
{
	return x > t ? x - t : x < -t ? x + t : 0;
}

/*
 * The step's target u: the minimum of g'(u - theta) + (u - theta)'Hd(u - theta)/2
 * + l1 |u_w|_1 over the active coordinates.  0, or -1 when Hd is not definite.
 */
static int model_minimum(struct newton *nt, struct ml_err *err)
{
	size_t q = nt->q, p = nt->p;
	double l1 = nt->v->l1;
	memcpy(nt->u, nt->theta, q * sizeof(double));
	if (l1 == 0) {	/* Cholesky of the active block */
		size_t na = 0;
		size_t *idx = ml_malloc((q + 1) * sizeof *idx, err);
		if (!idx)
			return -1;
		for (size_t j = 0; j < q; j++)
			if (nt->active[j])
				idx[na++] = j;
		for (size_t a = 0; a < na; a++) {
			for (size_t c = 0; c < na; c++)
				nt->l[a * na + c] = nt->hd[idx[a] * q + idx[c]];
			nt->vq[a] = -nt->g[idx[a]];
		}
		int rc = lin_cholesky(nt->l, na);
		if (rc == 0) {
			lin_cholesky_solve(nt->l, na, nt->vq);
			for (size_t a = 0; a < na; a++)
				nt->u[idx[a]] += nt->vq[a];
		}
		free(idx);
		return rc;
	}
	/* coordinate descent; vq = Hd (u - theta) */
	memset(nt->vq, 0, q * sizeof(double));
	for (long sweep = 0; sweep < 100000; sweep++) {
		double moved = 0, largest = 0;
		for (size_t j = 0; j < q; j++) {
			double hjj = nt->hd[j * q + j];
			if (!nt->active[j] || !(hjj > 0))
				continue;
			double grad = nt->g[j] + nt->vq[j], old = nt->u[j];
			double nu = j < p ? soft(hjj * old - grad, l1) / hjj : old - grad / hjj;
			double delta = nu - old;
			if (delta != 0) {
				for (size_t m = 0; m < q; m++)
					nt->vq[m] += nt->hd[m * q + j] * delta;
				nt->u[j] = nu;
			}
			moved = fmax(moved, fabs(delta));
			largest = fmax(largest, fabs(nu));
		}
		if (moved <= 1e-13 * largest || largest == 0)
			break;
	}
	return 0;
}

#define MAX_STEPS_PER_STAGE 500

/* Minimise the smoothed objective from nt->theta; counts the Newton steps. */
static int stage(struct newton *nt, const struct smooth *s, long *steps, struct ml_err *err)
{
	size_t q = nt->q, p = nt->p;
	double mu = 1e-8, f;
	if (evaluate(nt, nt->theta, s, 1, &f, err) < 0)
		return -1;
	int it = 0;
	for (; it < MAX_STEPS_PER_STAGE; it++) {
		double hmax = 0;
		for (size_t j = 0; j < q; j++)
			if (nt->active[j])
				hmax = fmax(hmax, nt->h[j * q + j]);
		if (!(hmax > 0))
			hmax = s->alpha / (s->e * (double)nt->d->n);
		int definite = 0;
		for (int tries = 0; tries < 30 && !definite; tries++) {
			memcpy(nt->hd, nt->h, q * q * sizeof(double));
			for (size_t j = 0; j < q; j++)
				nt->hd[j * q + j] += mu * hmax;
			int rc = model_minimum(nt, err);
			if (rc == 0)
				definite = 1;
			else if (err && err->class != ML_ERR_NONE)
				return -1;
			else
				mu *= 10;
		}
		if (!definite)
			break;
		/* predicted decrease */
		double pred = 0;
		for (size_t j = 0; j < q; j++)
			pred += nt->g[j] * (nt->u[j] - nt->theta[j]);
		for (size_t j = 0; j < p; j++)
			pred += nt->v->l1 * (fabs(nt->u[j]) - fabs(nt->theta[j]));
		if (!(pred < -1e-15 * fmax(fabs(f), 1e-12)))
			break;
		for (size_t j = 0; j < q; j++)
			nt->dir[j] = nt->u[j] - nt->theta[j];
		nt->ps.theta = nt->theta;
		nt->ps.s = s;
		if (ml_parallel_for(nt->ps.chunks, nt->d->n * q, ray_chunk, &nt->ps, err) < 0)
			return -1;
		double step = 1, fn = f;
		int halvings = 0, accepted = 0;
		for (; halvings < 60; halvings++, step /= 2) {
			for (size_t j = 0; j < q; j++)
				nt->trial[j] = nt->theta[j] + step * nt->dir[j];
			fn = ray_loss(&nt->ps, step);
			for (size_t j = 0; j < p; j++)
				fn += nt->v->wd * nt->trial[j] * nt->trial[j] + nt->v->l1 * fabs(nt->trial[j]);
			if (fn <= f + 1e-4 * step * pred) {
				accepted = 1;
				break;
			}
		}
		if (!accepted)
			break;
		++*steps;
		memcpy(nt->theta, nt->trial, q * sizeof(double));
		mu = halvings == 0 ? fmax(mu / 10, 1e-14) : halvings > 2 ? fmin(mu * 10, 1e6) : mu;
		double prev = f;
		if (evaluate(nt, nt->theta, s, 1, &f, err) < 0)
			return -1;
		if (halvings == 0 && prev - f <= 1e-15 * fabs(prev))
			break;
	}
	if (it == MAX_STEPS_PER_STAGE && s->last)
		lin_warn("the Newton solver stopped after %d steps at the final smoothing before converging", it);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int lin_newton(const struct lin_data *d, const struct lin_loss *l, int fit_intercept, const struct lin_variant *v,
	       double *w, double *b, long *iterations, struct ml_err *err)
{
	size_t p = d->p, q = p + (fit_intercept ? 1 : 0), chunks = lin_chunks(d->n);
	struct newton nt = { d, v, p, q, ml_calloc(q + 1, 1, err), ml_calloc(q + 1, sizeof(double), err),
			     ml_calloc(q + 1, sizeof(double), err), ml_calloc(q + 1, sizeof(double), err),
			     ml_calloc(q + 1, sizeof(double), err), ml_calloc(q * q + 1, sizeof(double), err),
			     ml_calloc(q * q + 1, sizeof(double), err), ml_calloc(q * q + 1, sizeof(double), err),
			     ml_calloc(q + 1, sizeof(double), err), ml_calloc(q + 1, sizeof(double), err),
			     { d, NULL, NULL, q, 0, chunks, ml_calloc(chunks, sizeof(double), err),
			       ml_calloc(chunks * q + 1, sizeof(double), err),
			       ml_calloc(chunks * q * q + 1, sizeof(double), err),
			       ml_calloc(chunks * q + 1, sizeof(double), err), NULL,
			       ml_malloc((d->n + 1) * sizeof(double), err), ml_malloc((d->n + 1) * sizeof(double), err) } };
	nt.ps.dir = nt.dir;
	double *t = ml_malloc((d->n + 1) * sizeof *t, err);
	int rc = -1;
	if (!nt.active || !nt.theta || !nt.trial || !nt.u || !nt.g || !nt.h || !nt.hd || !nt.l || !nt.vq || !nt.dir ||
	    !nt.ps.r || !nt.ps.sl || !nt.ps.f || !nt.ps.g || !nt.ps.h || !nt.ps.z || !t)
		goto out_free;
	for (size_t j = 0; j < q; j++)
		nt.active[j] = j < p ? d->scale[j] > 0 : 1;

	/* Start at w = 0 and b = the label's quantile (its median for absolute and huber). */
	double tau = l->kind == LOSS_QUANTILE ? l->tau : 0.5;
	for (size_t i = 0; i < d->n; i++)
		t[i] = lin_t(d, i);
	qsort(t, d->n, sizeof *t, cmp_double);
	double start = t[(size_t)fmin((double)d->n - 1, floor(tau * (double)d->n))], spread = 0;
	if (fit_intercept)
		nt.theta[p] = start;
	for (size_t i = 0; i < d->n; i++)
		spread += fabs(t[i] - (fit_intercept ? start : 0));
	spread = d->n ? spread / (double)d->n : 0;
	if (!(spread > 0))
		spread = 1;

	struct smooth s = { 1, 0, 0, 0 };
	double last;
	switch (l->kind) {
	case LOSS_HUBER:
		s.alpha = l->huber_delta;
		last = l->huber_delta;
		break;
	case LOSS_QUANTILE:
		s = (struct smooth){ 0.5, l->tau - 0.5, 0, 0 };
		last = 1e-7 * spread;
		break;
	default:
		last = 1e-7 * spread;
		break;
	}
	*iterations = 0;
	for (s.e = fmax(spread, last);; s.e = fmax(s.e / 10, last)) {
		s.last = s.e <= last;
		if (stage(&nt, &s, iterations, err) < 0)
			goto out_free;
		if (s.e <= last)
			break;
	}
	memcpy(w, nt.theta, p * sizeof *w);
	*b = fit_intercept ? nt.theta[p] : 0;
	rc = 0;
out_free:
	free(t);
	free(nt.active);
	free(nt.theta);
	free(nt.trial);
	free(nt.u);
	free(nt.g);
	free(nt.h);
	free(nt.hd);
	free(nt.l);
	free(nt.vq);
	free(nt.dir);
	free(nt.ps.r);
	free(nt.ps.sl);
	free(nt.ps.f);
	free(nt.ps.g);
	free(nt.ps.h);
	free(nt.ps.z);
	return rc;
}
