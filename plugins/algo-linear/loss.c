/*
 * loss.c - the losses of linear.h, their subgradients, and the objective.
 */
#include <math.h>
#include <stdlib.h>

#include "linear.h"
#include "mlpipe/buf.h"

const char *lin_loss_name(enum lin_loss_kind kind)
{
	static const char *const names[] = { "squared_loss", "absolute_loss", "huber_loss", "quantile_loss" };
	return names[kind];
}

double lin_loss_value(const struct lin_loss *l, double r)
{
	switch (l->kind) {
	case LOSS_SQUARED:
		return r * r;
	case LOSS_ABSOLUTE:
		return fabs(r);
	case LOSS_HUBER:
		return fabs(r) <= l->huber_delta ? r * r / 2 : l->huber_delta * (fabs(r) - l->huber_delta / 2);
	case LOSS_QUANTILE:
		return r >= 0 ? l->tau * r : (l->tau - 1) * r;
	}
	return NAN;
}

double lin_loss_deriv(const struct lin_loss *l, double r)
{
	switch (l->kind) {
	case LOSS_SQUARED:
		return 2 * r;
	case LOSS_ABSOLUTE:
		return r > 0 ? 1 : r < 0 ? -1 : 0;
	case LOSS_HUBER:
		return r > l->huber_delta ? l->huber_delta : r < -l->huber_delta ? -l->huber_delta : r;
	case LOSS_QUANTILE:
		return r > 0 ? l->tau : r < 0 ? l->tau - 1 : 0;
	}
	return NAN;
}

double lin_mean_loss(const struct lin_data *d, const struct lin_loss *l, const double *w, double b)
{
	double *z = malloc((d->p + 1) * sizeof *z), sum = 0;
	if (!z)
		return INFINITY;
	for (size_t i = 0; i < d->n; i++) {
		lin_zrow(d, i, z);
		double r = lin_t(d, i) - b;
		for (size_t j = 0; j < d->p; j++)
			r -= w[j] * z[j];
		sum += lin_loss_value(l, r);
	}
	free(z);
	double m = d->n ? sum / (double)d->n : 0;
	return isfinite(m) ? m : INFINITY;
}

double lin_penalty(const struct lin_variant *v, const double *w, size_t p)
{
	double f = 0;
	for (size_t j = 0; j < p; j++)
		f += v->wd * w[j] * w[j] + v->l1 * fabs(w[j]);
	return f;
}

double lin_objective(const struct lin_data *d, const struct lin_loss *l, const struct lin_variant *v,
		     const double *w, double b)
{
	return lin_mean_loss(d, l, w, b) + lin_penalty(v, w, d->p);
}
