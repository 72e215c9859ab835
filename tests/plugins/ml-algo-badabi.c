/* ml-algo-badabi.c - built for the next plugin ABI; the loader must refuse it. */
#include "mlpipe/plugin.h"

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void);

static const struct ml_algo_ops ops = { .size = sizeof ops };

static const struct ml_plugin plugin = {
	.abi = ML_PLUGIN_ABI + 1,
	.size = sizeof plugin,
	.kind = ML_PLUGIN_ALGORITHM,
	.name = "badabi",
	.version = "9.9.9",
	.description = "test plugin from the future",
	.ops.algo = &ops,
};

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void)
{
	return &plugin;
}
