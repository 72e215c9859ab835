/*
 * objective.c - the regression objectives, by XGBoost's names and formulas.
 *
 * Each gives the gradient and hessian of its loss with respect to the
 * margin, the link from margin to prediction, the default base_score and
 * the metric XGBoost evaluates it with.  reg:absoluteerror and
 * reg:quantileerror have a constant hessian that says nothing about the
 * step size, so, as in XGBoost, the tree's structure is learned from the
 * gradients and each leaf is then set to the quantile of its rows' residuals.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gbtree.h"
#include "mlpipe/buf.h"

static const char *const names[] = {
	[GB_SQUARED] = "reg:squarederror",	   [GB_ABSOLUTE] = "reg:absoluteerror",
	[GB_PSEUDOHUBER] = "reg:pseudohubererror", [GB_QUANTILE] = "reg:quantileerror",
	[GB_TWEEDIE] = "reg:tweedie",
};

const char *gb_objective_name(enum gb_objective_kind kind)
{
	return names[kind];
}

int gb_objective_parse(const char *name, struct gb_objective *o, struct ml_err *err)
{
	for (size_t k = 0; k < sizeof names / sizeof *names; k++)
		if (!strcmp(name, names[k])) {
			o->kind = (enum gb_objective_kind)k;
			return 0;
		}
	if (!strcmp(name, "reg:linear")) {	/* XGBoost's old name */
		o->kind = GB_SQUARED;
		return 0;
	}
	if (!strncmp(name, "binary:", 7) || !strncmp(name, "multi:", 6) || !strncmp(name, "rank:", 5) ||
	    !strncmp(name, "count:", 6) || !strncmp(name, "survival:", 9) || !strcmp(name, "reg:gamma") ||
	    !strcmp(name, "reg:logistic") || !strcmp(name, "reg:squaredlogerror"))
		return ml_err_set(err, ML_ERR_UNAVAILABLE,
				  "objective %s is not supported yet (regression: reg:squarederror, "
				  "reg:absoluteerror, reg:pseudohubererror, reg:quantileerror, reg:tweedie)",
				  name);
	return ml_err_set(err, ML_ERR_USAGE,
			  "objective: unknown \"%s\" (reg:squarederror, reg:absoluteerror, "
			  "reg:pseudohubererror, reg:quantileerror or reg:tweedie)",
			  name);
}

void gb_gradients(const struct gb_objective *o, const double *margin, const double *y, size_t n,
		  struct gb_gpair *gp)
{
	switch (o->kind) {
	case GB_SQUARED:
		for (size_t i = 0; i < n; i++)
			gp[i] = (struct gb_gpair){ (float)(margin[i] - y[i]), 1.0f };
		break;
	case GB_ABSOLUTE:
		for (size_t i = 0; i < n; i++) {
			double d = margin[i] - y[i];
			gp[i] = (struct gb_gpair){ d > 0 ? 1.0f : d < 0 ? -1.0f : 0.0f, 1.0f };
		}
		break;
	case GB_PSEUDOHUBER: {
		double slope2 = o->huber_slope * o->huber_slope;
		for (size_t i = 0; i < n; i++) {
			double z = margin[i] - y[i];
			double scale = 1 + z * z / slope2, root = sqrt(scale);
			gp[i] = (struct gb_gpair){ (float)(z / root), (float)(1 / (scale * root)) };
		}
		break;
	}
	case GB_QUANTILE: {
		double a = o->quantile_alpha;
		for (size_t i = 0; i < n; i++)
			gp[i] = (struct gb_gpair){ (float)(margin[i] >= y[i] ? 1 - a : -a), 1.0f };
		break;
	}
	case GB_TWEEDIE: {
		double rho = o->tweedie_power;
		for (size_t i = 0; i < n; i++) {
			double a = exp((1 - rho) * margin[i]), b = exp((2 - rho) * margin[i]);
			gp[i] = (struct gb_gpair){ (float)(-y[i] * a + b),
						   (float)(-y[i] * (1 - rho) * a + (2 - rho) * b) };
		}
		break;
	}
	}
}

double gb_base_margin(const struct gb_objective *o, double base_score)
{
	return o->kind == GB_TWEEDIE ? log(base_score) : base_score;
}

double gb_link(const struct gb_objective *o, double margin)
{
	return o->kind == GB_TWEEDIE ? exp(margin) : margin;
}

int gb_objective_adaptive(const struct gb_objective *o)
{
	return o->kind == GB_ABSOLUTE || o->kind == GB_QUANTILE;
}

static void swap(double *a, double *b)
{
	double t = *a;
	*a = *b;
	*b = t;
}

/* The k-th smallest of v[0..n), with v[0..k) <= v[k] <= v[k+1..n) after (Wirth's selection). */
static double select_kth(double *v, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
	while (lo < hi) {
		double pivot = v[kk];
		ptrdiff_t i = lo, j = hi;
		do {
			while (v[i] < pivot)
				i++;
			while (pivot < v[j])
				j--;
			if (i <= j) {
				swap(&v[i], &v[j]);
				i++;
				j--;
			}
		} while (i <= j);
		if (j < kk)
			lo = i;
		if (kk < i)
			hi = j;
	}
	return v[k];
}

/* The alpha-quantile of v[0..n), interpolated between order statistics as numpy's default. */
static double quantile_of(double *v, size_t n, double alpha)
{
	double pos = alpha * (double)(n - 1);
	size_t k = (size_t)pos;
	double lo = select_kth(v, n, k);
	if (k + 1 >= n || pos == (double)k)
		return lo;
	double hi = v[k + 1];	/* after selection, the least of v[k+1..n) */
	for (size_t i = k + 2; i < n; i++)
		hi = v[i] < hi ? v[i] : hi;
	return lo + (pos - (double)k) * (hi - lo);
}

static double objective_alpha(const struct gb_objective *o)
{
	return o->kind == GB_QUANTILE ? o->quantile_alpha : 0.5;
}

double gb_leaf_quantile(const struct gb_objective *o, const double *y, const double *margin,
			const uint32_t *rows, size_t n, double *scratch)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		scratch[i] = y[rows[i]] - margin[rows[i]];
	return quantile_of(scratch, n, objective_alpha(o));
}

int gb_estimate_base_score(const struct gb_objective *o, const double *y, size_t n, double *out,
			   struct ml_err *err)
{
	if (n == 0)
		return ml_err_set(err, ML_ERR_DATA, "no training rows");
	if (o->kind == GB_SQUARED || o->kind == GB_TWEEDIE) {
		double mean = 0;
		for (size_t i = 0; i < n; i++)
			mean += (y[i] - mean) / (double)(i + 1);
		if (o->kind == GB_TWEEDIE && !(mean > 0))
			return ml_err_set(err, ML_ERR_DATA, "reg:tweedie needs a positive mean label, got %g", mean);
		*out = mean;
		return 0;
	}
	double *v = ml_malloc(n * sizeof *v, err);
	if (!v)
		return -1;
	memcpy(v, y, n * sizeof *v);
	*out = quantile_of(v, n, objective_alpha(o));
	free(v);
	return 0;
}

static const char *const metric_names[] = {
	[GB_SQUARED] = "rmse",	   [GB_ABSOLUTE] = "mae", [GB_PSEUDOHUBER] = "mphe",
	[GB_QUANTILE] = "quantile", [GB_TWEEDIE] = "tweedie-nloglik",
};

const char *gb_metric_name(const struct gb_objective *o)
{
	return metric_names[o->kind];
}

static double loss_of(const struct gb_objective *o, double margin, double y)
{
	double p = gb_link(o, margin), d = y - p;
	switch (o->kind) {
	case GB_SQUARED:
		return d * d;
	case GB_ABSOLUTE:
		return fabs(d);
	case GB_PSEUDOHUBER: {
		double s = o->huber_slope;
		return s * s * (sqrt(1 + d * d / (s * s)) - 1);
	}
	case GB_QUANTILE:
		return d >= 0 ? o->quantile_alpha * d : (o->quantile_alpha - 1) * d;
	case GB_TWEEDIE: {
		double rho = o->tweedie_power;
		return -y * exp((1 - rho) * margin) / (1 - rho) + exp((2 - rho) * margin) / (2 - rho);
	}
	}
	return NAN;
}

double gb_metric(const struct gb_objective *o, const double *margin, const double *y, size_t n)
{
	double sum = 0;
	if (o->kind == GB_SQUARED) {	/* every round, over every row: kept to a loop the compiler vectorizes */
		for (size_t i = 0; i < n; i++)
			sum += (y[i] - margin[i]) * (y[i] - margin[i]);
		return n ? sqrt(sum / (double)n) : NAN;
	}
	for (size_t i = 0; i < n; i++)
		sum += loss_of(o, margin[i], y[i]);
	double mean = n ? sum / (double)n : NAN;
	return o->kind == GB_SQUARED ? sqrt(mean) : mean;
}
