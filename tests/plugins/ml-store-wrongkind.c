/* ml-store-wrongkind.c - named as a store but declares itself an algorithm. */
#include "mlpipe/plugin.h"

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void);

static const struct ml_algo_ops ops = { .size = sizeof ops };

static const struct ml_plugin plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof plugin,
	.kind = ML_PLUGIN_ALGORITHM,
	.name = "wrongkind",
	.version = "0.1",
	.description = "test plugin whose kind contradicts its file name",
	.ops.algo = &ops,
};

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void)
{
	return &plugin;
}
