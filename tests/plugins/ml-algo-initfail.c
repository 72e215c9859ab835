/* ml-algo-initfail.c - passes every check, then its init() fails. */
#include "mlpipe/plugin.h"

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void);

static int initfail_init(const struct ml_host *host, struct ml_err *err)
{
	(void)host;
	return ml_err_set(err, ML_ERR_CONFIG, "TESTFAIL_TOKEN is not set");
}

static const struct ml_algo_ops ops = { .size = sizeof ops };

static const struct ml_plugin plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof plugin,
	.kind = ML_PLUGIN_ALGORITHM,
	.name = "initfail",
	.version = "0.1",
	.description = "test plugin whose init fails",
	.init = initfail_init,
	.ops.algo = &ops,
};

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void)
{
	return &plugin;
}
