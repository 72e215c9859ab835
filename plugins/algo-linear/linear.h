/*
 * linear.h - the parts of the linear learner: losses, the standardized view
 * of the data, and the three solvers.
 *
 * Every solver minimises the same objective over the standardized data
 * (z = features standardized with the training mean and population standard
 * deviation, t = the label, standardized when normalize_label is on):
 *
 *     F(b, w) = (1/n) sum_i loss(t_i - b - w.z_i) + wd |w|^2 + l1 |w|_1
 *
 * with loss one of
 *
 *     squared_loss    r^2
 *     absolute_loss   |r|
 *     huber_loss      r^2 / 2 when |r| <= delta, else delta (|r| - delta / 2)
 *     quantile_loss   tau r when r >= 0, else (tau - 1) r
 *
 * The bias b is not penalized.
 *
 *   exact.c   squared loss: the Gram matrix Z'Z/n in one pass, then Cholesky
 *             (l1 = 0) or coordinate descent on it (l1 > 0)
 *   newton.c  the other losses: proximal Newton with a Huber smoothing whose
 *             width shrinks stage by stage (Madsen and Nielsen's finite
 *             smoothing), coordinate descent for the l1 term
 *   sgd.c     mini-batch SGD or Adam, when the user asks for them
 *   stream.c  squared loss from data larger than memory, in one pass
 */
#ifndef ALGO_LINEAR_H
#define ALGO_LINEAR_H

#include <stddef.h>
#include <stdint.h>

#include "mlpipe/err.h"
#include "mlpipe/matrix.h"
#include "mlpipe/plugin.h"

extern const struct ml_host *lin_host;

#define lin_warn(...) (lin_host && lin_host->log ? lin_host->log(0, __VA_ARGS__) : (void)0)

enum lin_loss_kind { LOSS_SQUARED, LOSS_ABSOLUTE, LOSS_HUBER, LOSS_QUANTILE };

struct lin_loss {
	enum lin_loss_kind kind;
	double huber_delta;	/* huber_loss */
	double tau;		/* quantile_loss */
};

const char *lin_loss_name(enum lin_loss_kind kind);

/* The loss of a residual, and a subgradient of it (d loss / d r). */
double lin_loss_value(const struct lin_loss *l, double r);
double lin_loss_deriv(const struct lin_loss *l, double r);

/*
 * The standardized view of a data set (borrowed pointers): row i is
 * z_j = (x_ij - mean_j) / scale_j, 0 for a constant feature (scale 0), and
 * t_i = (y_i - ymean) / yscale.  Validation data use the training statistics.
 */
struct lin_data {
	size_t n, p;
	const double *x;	/* n x p, row-major */
	const double *y;
	const double *mean, *scale;
	double ymean, yscale;
};

static inline void lin_zrow(const struct lin_data *d, size_t i, double *restrict z)
{
	const double *row = d->x + i * d->p;
	for (size_t j = 0; j < d->p; j++)
		z[j] = d->scale[j] > 0 ? (row[j] - d->mean[j]) / d->scale[j] : 0;
}

static inline double lin_t(const struct lin_data *d, size_t i)
{
	return (d->y[i] - d->ymean) / d->yscale;
}

/* (1/n) sum loss(t_i - b - w.z_i), the loss unsmoothed; +inf when not finite. */
double lin_mean_loss(const struct lin_data *d, const struct lin_loss *l, const double *w, double b);

/* One set of regularization and step settings: num_models trains several (at most this many). */
#define LIN_MAX_VARIANTS 32
struct lin_variant {
	double wd, l1, learning_rate;
};

/* wd |w|^2 + l1 |w|_1 */
double lin_penalty(const struct lin_variant *v, const double *w, size_t p);
/* mean loss + wd |w|^2 + l1 |w|_1 */
double lin_objective(const struct lin_data *d, const struct lin_loss *l, const struct lin_variant *v,
		     const double *w, double b);

/* Chunks a pass over n rows is cut into: fixed by n alone, so sums do not depend on the thread count. */
size_t lin_chunks(size_t n);

/* ---- exact.c: squared loss ---- */

struct lin_gram {
	size_t p;
	double *a;	/* p x p, Z'Z / n (full, symmetric) */
	double *c;	/* p, Z't / n */
	double tt;	/* t't / n */
};

int lin_gram_build(const struct lin_data *d, struct lin_gram *g, struct ml_err *err);
void lin_gram_release(struct lin_gram *g);

/*
 * The squared-loss optimum for one variant: Cholesky of A + wd I when l1 is
 * 0 (with the least extra ridge that makes a singular system solvable, and a
 * warning), coordinate descent otherwise.  *ridge gets the extra ridge used.
 */
int lin_gram_solve(const struct lin_gram *g, const double *scale, const struct lin_variant *v, double *w,
		   long *iterations, double *ridge, struct ml_err *err);

/* In-place Cholesky A = LL' of a p x p matrix (lower); -1 when A is not positive definite. */
int lin_cholesky(double *a, size_t p);
/* Solve LL' x = b in place. */
void lin_cholesky_solve(const double *l, size_t p, double *b);

/* ---- stream.c: squared loss over data handed over in chunks ---- */

struct lin_stream_opts {
	int fit_intercept, normalize_data, normalize_label;
};

/*
 * One pass over rows: d gets n and the standardizing statistics (d->mean and
 * d->scale must point to p doubles each; d->x and d->y stay NULL), g the
 * Gram matrix of the standardized data, as lin_gram_build() would give.
 */
int lin_stream_gram(struct ml_rows *rows, const struct lin_stream_opts *o, struct lin_data *d, struct lin_gram *g,
		    struct ml_err *err);
/* The same pass for the statistics alone (d as above; no Gram matrix). */
int lin_stream_stats(struct ml_rows *rows, const struct lin_stream_opts *o, struct lin_data *d, struct ml_err *err);
/* The mean squared loss of w (bias 0) over the data g was built from. */
double lin_gram_mean_loss(const struct lin_gram *g, const double *w);
/* out[k] = the mean loss of variant k (w: nv x p, b: nv) over one pass of rows, standardized as stats says. */
int lin_stream_mean_loss(struct ml_rows *rows, const struct lin_data *stats, const struct lin_loss *l, size_t nv,
			 const double *w, const double *b, double *out, struct ml_err *err);

/* ---- newton.c: absolute, huber and quantile losses ---- */

int lin_newton(const struct lin_data *d, const struct lin_loss *l, int fit_intercept, const struct lin_variant *v,
	       double *w, double *b, long *iterations, struct ml_err *err);

/* ---- sgd.c: mini-batch SGD / Adam over several variants at once ---- */

struct lin_sgd_config {
	int adam;
	long epochs, batch;
	long patience;		/* 0: no early stopping */
	double tolerance;
	uint64_t seed;
	int fit_intercept;
};

/*
 * Trains every variant on the same shuffled mini-batches.  w is nv x p,
 * b is nv; on return each variant's best epoch (by validation loss when vd is
 * given, else by training objective).  *epochs_run gets the epochs done.
 */
int lin_sgd(const struct lin_data *d, const struct lin_data *vd, const struct lin_loss *l,
	    const struct lin_sgd_config *cfg, size_t nv, const struct lin_variant *v, double *w, double *b,
	    long *epochs_run, struct ml_err *err);
/* The same over rows in chunks (vrows may be NULL), standardized as stats says; an epoch is a pass. */
int lin_sgd_rows(struct ml_rows *rows, struct ml_rows *vrows, const struct lin_data *stats, const struct lin_loss *l,
		 const struct lin_sgd_config *cfg, size_t nv, const struct lin_variant *v, double *w, double *b,
		 long *epochs_run, struct ml_err *err);

#endif
