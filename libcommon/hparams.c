/* hparams.c - hyperparameters as SageMaker passes them (see hparams.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mlpipe/hparams.h"

const char *ml_hparam_str(const json_t *params, const char *name)
{
	const json_t *v = json_object_get(params, name);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *ml_hparam_alias(const json_t *params, const char *const *names)
{
	for (; *names; names++)
		if (ml_hparam_str(params, *names))
			return *names;
	return NULL;
}

/* The text of a present, non-"auto" value; NULL otherwise. */
static const char *given(const json_t *params, const char *name)
{
	const char *s = ml_hparam_str(params, name);
	return s && strcmp(s, "auto") != 0 ? s : NULL;
}

/* The whole of s as a finite number in [lo, hi]. */
static int number_in(const char *s, double lo, double hi, double *v)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	return !errno && end != s && !*end && isfinite(*v) && *v >= lo && *v <= hi;
}

int ml_hparam_double(const json_t *params, const char *name, double lo, double hi, double *out,
		     struct ml_err *err)
{
	const char *s = given(params, name);
	double v;
	if (!s)
		return 0;
	if (!number_in(s, lo, hi, &v)) {
		if (isinf(hi))
			return ml_err_set(err, ML_ERR_USAGE, "%s: expected a number >= %g, got \"%s\"", name,
					  lo, s);
		return ml_err_set(err, ML_ERR_USAGE, "%s: expected a number from %g to %g, got \"%s\"", name,
				  lo, hi, s);
	}
	*out = v;
	return 0;
}

int ml_hparam_long(const json_t *params, const char *name, long lo, long hi, long *out, struct ml_err *err)
{
	const char *s = given(params, name);
	double v;
	if (!s)
		return 0;
	if (!number_in(s, (double)lo, (double)hi, &v) || v != floor(v))
		return ml_err_set(err, ML_ERR_USAGE, "%s: expected a whole number from %ld to %ld, got \"%s\"",
				  name, lo, hi, s);
	*out = (long)v;
	return 0;
}

int ml_hparam_bool(const json_t *params, const char *name, int *out, struct ml_err *err)
{
	const char *s = given(params, name);
	if (!s)
		return 0;
	if (!strcasecmp(s, "true") || !strcmp(s, "1"))
		return *out = 1, 0;
	if (!strcasecmp(s, "false") || !strcmp(s, "0"))
		return *out = 0, 0;
	return ml_err_set(err, ML_ERR_USAGE, "%s: expected true, false or auto, got \"%s\"", name, s);
}
