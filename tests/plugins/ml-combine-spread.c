/*
 * ml-combine-spread.c - a combiner plugin for ml-score --combine plugin:spread
 * (tests/cli/test_score_filters.sh): the spread of the models' predictions,
 * max - min, so a test can tell it from every built-in combination.
 */
#include <math.h>

#include "mlpipe/plugin.h"

static int spread(size_t nmodels, size_t nrows, const double *const *preds, double *out, struct ml_err *err)
{
	if (nmodels < 2)
		return ml_err_set(err, ML_ERR_USAGE, "spread needs two models or more, not %zu", nmodels);
	for (size_t r = 0; r < nrows; r++) {
		double lo = preds[0][r], hi = lo;
		for (size_t i = 1; i < nmodels; i++) {
			lo = preds[i][r] < lo ? preds[i][r] : lo;
			hi = preds[i][r] > hi ? preds[i][r] : hi;
		}
		out[r] = hi - lo;
		for (size_t i = 0; i < nmodels; i++)
			if (isnan(preds[i][r]))
				out[r] = NAN;
	}
	return 0;
}

static const struct ml_combine_ops ops = { .size = sizeof ops, .combine = spread };

static const struct ml_plugin plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof plugin,
	.kind = ML_PLUGIN_COMBINER,
	.name = "spread",
	.version = "1.0.0",
	.description = "max - min of the models' predictions (a test combiner)",
	.ops.combine = &ops,
};

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void)
{
	return &plugin;
}
