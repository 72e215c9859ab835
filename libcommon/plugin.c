/* plugin.c - placeholder until the loader lands (being written now). */
#include "mlpipe/plugin.h"

int ml_plugin_load_store_for_scheme(const char *scheme, struct ml_err *err)
{
	return ml_err_set(err, ML_ERR_UNAVAILABLE, "no store plugin for \"%s://\" URIs", scheme);
}
