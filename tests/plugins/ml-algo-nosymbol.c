/*
 * ml-algo-nosymbol.c - misspells its entry point, so plugin.map (which keeps
 * only ml_plugin_entry) leaves it exporting nothing at all.
 */
#include "mlpipe/plugin.h"

const struct ml_plugin *ml_plugin_entry_point(void);

static const struct ml_algo_ops ops = { .size = sizeof ops };

static const struct ml_plugin plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof plugin,
	.kind = ML_PLUGIN_ALGORITHM,
	.name = "nosymbol",
	.version = "0.1",
	.description = "test plugin without an entry point",
	.ops.algo = &ops,
};

const struct ml_plugin *ml_plugin_entry_point(void)
{
	return &plugin;
}
