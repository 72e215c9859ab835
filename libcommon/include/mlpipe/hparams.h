/*
 * hparams.h - reading an algorithm's hyperparameters.
 *
 * ml-train hands a plugin a JSON object of strings, as SageMaker's
 * hyperparameters.json does ({"eta": "0.1", "max_depth": "6"}).  These read
 * one by name, check its range and leave *out alone when it is absent or
 * "auto" (SageMaker's word for the default), so a plugin writes
 *
 *     double eta = 0.3;
 *     if (ml_hparam_double(params, "eta", 0, 1, &eta, err) < 0) return -1;
 *
 * Errors are usage errors that name the hyperparameter and the range.
 */
#ifndef MLPIPE_HPARAMS_H
#define MLPIPE_HPARAMS_H

#include <jansson.h>

#include "err.h"

/* The string value, or NULL when absent or not a string. */
const char *ml_hparam_str(const json_t *params, const char *name);

/* A number in [lo, hi]. */
int ml_hparam_double(const json_t *params, const char *name, double lo, double hi, double *out,
		     struct ml_err *err);

/* A whole number in [lo, hi] ("100", "1e2" and "100.0" are 100; "1.5" is refused). */
int ml_hparam_long(const json_t *params, const char *name, long lo, long hi, long *out, struct ml_err *err);

/* true/false, 1/0 (any case). */
int ml_hparam_bool(const json_t *params, const char *name, int *out, struct ml_err *err);

/* The first of several names (an alias list such as "eta", "learning_rate") that is present. */
const char *ml_hparam_alias(const json_t *params, const char *const *names);

#endif
