/*
 * stream.c - the squared-loss problem from data handed over in chunks
 * (ml_rows): one pass gathers the moments that standardizing and the Gram
 * matrix need, so data larger than memory is read once.
 *
 * Each row is taken as v = (x_1 .. x_p, y) shifted by the first chunk's
 * means s (close to the true means, so the sums below lose no precision to
 * cancellation, as a one-pass sum of squares would):
 *
 *     s1 = sum (v - s)        S = sum (v - s)(v - s)'
 *
 * and around any centre u:  sum (v - u)(v - u)' = S + e s1' + s1 e' + n e e',
 * e = s - u.  The centre is the mean (fit_intercept) or 0.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linear.h"
#include "mlpipe/buf.h"

struct moments {
	size_t q;		/* p + 1: the features, then the label */
	uint64_t n;
	double *shift, *s1, *s;	/* q, q, q x q (lower triangle used) */
	double *dv;		/* q: one shifted row */
	int shifted;
	int full;		/* the cross products too (the Gram matrix), or only the squares */
};

static int moments_init(struct moments *m, size_t p, int full, struct ml_err *err)
{
	size_t q = p + 1;
	*m = (struct moments){ q, 0, ml_calloc(q, sizeof(double), err), ml_calloc(q, sizeof(double), err),
			       ml_calloc(q * q, sizeof(double), err), ml_calloc(q, sizeof(double), err), 0, full };
	return m->shift && m->s1 && m->s && m->dv ? 0 : -1;
}

static void moments_release(struct moments *m)
{
	free(m->shift);
	free(m->s1);
	free(m->s);
	free(m->dv);
}

/* The shift: the first chunk's means. */
static void take_shift(struct moments *m, const struct ml_matrix *x, const double *y)
{
	size_t p = m->q - 1;
	for (size_t i = 0; i < x->nrows; i++) {
		for (size_t j = 0; j < p; j++)
			m->shift[j] += x->v[i * p + j];
		m->shift[p] += y[i];
	}
	for (size_t j = 0; j < m->q; j++)
		m->shift[j] /= (double)x->nrows;
	m->shifted = 1;
}

static int missing_feature(const struct ml_matrix *x, struct ml_err *err)
{
	for (size_t k = 0; k < x->nrows * x->ncols; k++)
		if (isnan(x->v[k]))
			return ml_err_set(err, ML_ERR_DATA,
					  "feature %zu has missing values: a linear model needs them imputed "
					  "(ml-preprocess fit --numeric-impute median --categorical-impute most-frequent)",
					  k % x->ncols);
	return 0;
}

static int add_chunk(const struct ml_matrix *x, const double *y, void *arg, struct ml_err *err)
{
	struct moments *m = arg;
	size_t p = m->q - 1, q = m->q;
	if (x->ncols != p)
		return ml_err_set(err, ML_ERR_DATA, "a chunk of %zu features in data of %zu", x->ncols, p);
	if (x->nrows == 0)
		return 0;
	if (missing_feature(x, err) < 0)
		return -1;
	if (!m->shifted)
		take_shift(m, x, y);
	double *dv = m->dv;
	for (size_t i = 0; i < x->nrows; i++) {
		for (size_t j = 0; j < p; j++)
			dv[j] = x->v[i * p + j] - m->shift[j];
		dv[p] = y[i] - m->shift[p];
		for (size_t j = 0; j < q; j++) {
			double d = dv[j], *row = m->s + j * q;
			m->s1[j] += d;
			for (size_t k = m->full ? 0 : j; k <= j; k++)
				row[k] += d * dv[k];
		}
	}
	m->n += x->nrows;
	return 0;
}

/* sum (v_j - u_j)(v_k - u_k) from the shifted sums. */
static double centred(const struct moments *m, const double *u, size_t j, size_t k)
{
	double ej = m->shift[j] - u[j], ek = m->shift[k] - u[k];
	const double *s = j >= k ? &m->s[j * m->q + k] : &m->s[k * m->q + j];
	return *s + ej * m->s1[k] + m->s1[j] * ek + (double)m->n * ej * ek;
}

/* The standardizing statistics, as column_stats() in linear.c computes them in memory. */
static void standardize(const struct moments *m, const struct lin_stream_opts *o, double *u, struct lin_data *d)
{
	size_t p = m->q - 1;
	double n = (double)m->n;
	for (size_t j = 0; j < m->q; j++)
		u[j] = m->shift[j] + m->s1[j] / n;	/* the means */
	double *scale = (double *)d->scale, *mean = (double *)d->mean;
	for (size_t j = 0; j < p; j++) {
		double sd = sqrt(fmax(centred(m, u, j, j), 0) / n);
		mean[j] = o->fit_intercept ? u[j] : 0;
		scale[j] = sd > 1e-12 * (fabs(u[j]) + 1) ? (o->normalize_data ? sd : 1) : 0;
	}
	double ysd = sqrt(fmax(centred(m, u, p, p), 0) / n);
	d->ymean = o->fit_intercept ? u[p] : 0;
	d->yscale = o->normalize_label && ysd > 0 ? ysd : 1;
	if (!o->fit_intercept)
		memset(u, 0, m->q * sizeof *u);	/* the centre: the means, or 0 */
}

static int gram_from_moments(const struct moments *m, const double *u, const struct lin_data *d, struct lin_gram *g,
			     struct ml_err *err)
{
	size_t p = m->q - 1;
	double n = (double)m->n;
	*g = (struct lin_gram){ p, ml_calloc(p * p + 1, sizeof(double), err), ml_calloc(p + 1, sizeof(double), err), 0 };
	if (!g->a || !g->c) {
		lin_gram_release(g);
		return -1;
	}
	for (size_t j = 0; j < p; j++) {
		if (d->scale[j] == 0)
			continue;	/* a constant feature: z = 0 */
		for (size_t k = 0; k <= j; k++)
			if (d->scale[k] > 0)
				g->a[j * p + k] = g->a[k * p + j] = centred(m, u, j, k) / (n * d->scale[j] * d->scale[k]);
		g->c[j] = centred(m, u, j, p) / (n * d->scale[j] * d->yscale);
	}
	g->tt = centred(m, u, p, p) / (n * d->yscale * d->yscale);
	return 0;
}

/* One pass of moments (the Gram matrix's when g is given), then the statistics. */
static int stream_moments(struct ml_rows *rows, const struct lin_stream_opts *o, struct lin_data *d,
			  struct lin_gram *g, struct ml_err *err)
{
	struct moments m;
	double *u = NULL;
	int rc = -1;
	if (moments_init(&m, rows->nfeatures, g != NULL, err) < 0 || !(u = ml_calloc(m.q, sizeof *u, err)) ||
	    rows->pass(rows, add_chunk, &m, err) < 0)
		goto out;
	if (m.n == 0) {
		ml_err_set(err, ML_ERR_DATA, "no training rows");
		goto out;
	}
	d->n = (size_t)m.n;
	standardize(&m, o, u, d);
	rc = g ? gram_from_moments(&m, u, d, g, err) : 0;
out:
	free(u);
	moments_release(&m);
	return rc;
}

int lin_stream_gram(struct ml_rows *rows, const struct lin_stream_opts *o, struct lin_data *d, struct lin_gram *g,
		    struct ml_err *err)
{
	return stream_moments(rows, o, d, g, err);
}

int lin_stream_stats(struct ml_rows *rows, const struct lin_stream_opts *o, struct lin_data *d, struct ml_err *err)
{
	return stream_moments(rows, o, d, NULL, err);
}

/* (1/n) sum (t - b - w.z)^2 from the Gram matrix: w'Aw - 2c'w + tt when b = 0. */
double lin_gram_mean_loss(const struct lin_gram *g, const double *w)
{
	size_t p = g->p;
	double f = g->tt;
	for (size_t j = 0; j < p; j++) {
		double aw = 0;
		for (size_t k = 0; k < p; k++)
			aw += g->a[j * p + k] * w[k];
		f += w[j] * aw - 2 * g->c[j] * w[j];
	}
	return isfinite(f) ? fmax(f, 0) : INFINITY;
}

/* ---- mean losses of several variants over a pass ---- */

struct loss_pass {
	const struct lin_data *stats;
	const struct lin_loss *loss;
	size_t nv;
	const double *w, *b;
	double *sum;
	uint64_t n;
};

static int loss_chunk(const struct ml_matrix *x, const double *y, void *arg, struct ml_err *err)
{
	struct loss_pass *lp = arg;
	struct lin_data c = *lp->stats;
	if (x->ncols != c.p)
		return ml_err_set(err, ML_ERR_DATA, "validation data have %zu features, training data %zu", x->ncols,
				  c.p);
	c.n = x->nrows;
	c.x = x->v;
	c.y = y;
	for (size_t k = 0; k < lp->nv; k++)
		lp->sum[k] += lin_mean_loss(&c, lp->loss, lp->w + k * c.p, lp->b[k]) * (double)c.n;
	lp->n += c.n;
	return 0;
}

int lin_stream_mean_loss(struct ml_rows *rows, const struct lin_data *stats, const struct lin_loss *l, size_t nv,
			 const double *w, const double *b, double *out, struct ml_err *err)
{
	struct loss_pass lp = { stats, l, nv, w, b, out, 0 };
	for (size_t k = 0; k < nv; k++)
		out[k] = 0;
	if (rows->pass(rows, loss_chunk, &lp, err) < 0)
		return -1;
	for (size_t k = 0; k < nv; k++)
		out[k] = lp.n && isfinite(out[k]) ? out[k] / (double)lp.n : INFINITY;
	return 0;
}
