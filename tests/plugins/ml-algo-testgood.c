/*
 * ml-algo-testgood.c - a well-formed algorithm plugin for test_plugin.c.
 *
 * A plugin exports nothing but its entry point, so what init() saw comes
 * back through the ops table: predict() writes the number of init() calls,
 * the host's verbosity and the host's size; load() returns the progname.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mlpipe/plugin.h"

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void);

static int init_calls;
static struct ml_host seen;

static int testgood_init(const struct ml_host *host, struct ml_err *err)
{
	if (!host || host->size < sizeof *host || !host->log || !host->progname)
		return ml_err_set(err, ML_ERR_INTERNAL, "testgood: host services missing");
	seen = *host;
	init_calls++;
	host->log(2, "testgood: init call %d", init_calls);
	return 0;
}

/* Leave a mark the test can read after dlclose(). */
static void testgood_fini(void)
{
	const char *mark = getenv("MLPIPE_TEST_FINI_FILE");
	FILE *f = mark ? fopen(mark, "a") : NULL;
	if (f) {
		fputs("testgood fini\n", f);
		fclose(f);
	}
}

static void *testgood_load(const struct json_t *model, struct ml_err *err)
{
	(void)model;
	(void)err;
	return (void *)seen.progname;
}

static int testgood_predict(const void *predictor, const struct ml_matrix *x, double *out,
			    struct ml_err *err)
{
	(void)predictor;
	(void)x;
	(void)err;
	out[0] = init_calls;
	out[1] = seen.verbosity;
	out[2] = seen.size;
	return 0;
}

static const struct ml_algo_ops ops = {
	.size = sizeof ops,
	.load = testgood_load,
	.predict = testgood_predict,
};

static const struct ml_plugin plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof plugin,
	.kind = ML_PLUGIN_ALGORITHM,
	.name = "testgood",
	.version = "1.2.3",
	.description = "test plugin that loads",
	.init = testgood_init,
	.fini = testgood_fini,
	.ops.algo = &ops,
};

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void)
{
	return &plugin;
}
