/*
 * config.h - the YAML configuration file (--config pipeline.yaml).
 *
 * One top-level mapping, one section per tool, keyed by the tool's name
 * without "ml-" ("preprocess", "train", "score", "baseline", "drift",
 * "notify"); a section's keys are the tool's long option names.  Scalars
 * become JSON strings, sequences arrays, mappings objects, so a section is
 * handled exactly like a SageMaker hyperparameters.json (string values).
 *
 *     train:
 *       algorithm: gbtree
 *       num_round: 200
 *       eta: 0.1
 *     notify:
 *       to: [ "smtp://localhost:2525", "file:///var/log/ml.jsonl" ]
 */
#ifndef MLPIPE_CONFIG_H
#define MLPIPE_CONFIG_H

#include <jansson.h>

#include "err.h"

/*
 * Parse a YAML document into a JSON object (new reference).  Syntax errors
 * name file:line:column.  Anchors/aliases and multiple documents are refused
 * (a config is untrusted input; aliases allow exponential blow-up).
 */
json_t *ml_config_load_yaml(const char *uri, struct ml_err *err);

/* Same, from text in memory; name is used in messages. */
json_t *ml_config_parse_yaml(const char *text, size_t len, const char *name, struct ml_err *err);

/*
 * The value at a dotted path such as "pipeline.registry" in a loaded config
 * (borrowed from doc), or NULL when a level is missing, is not a mapping, or
 * holds null (an unset key).  Keys compare as option names do: "-" and "_"
 * are the same, so "model-name" finds model_name.  Each level's key is the
 * text up to the next dot; a key that itself holds a dot cannot be named.
 */
const json_t *ml_config_get(const json_t *doc, const char *path);

/*
 * The environment variable that overrides path, as the tools name theirs:
 * MLPIPE_ + the path upper-cased with "." and "-" as "_"
 * ("pipeline.model-name" -> MLPIPE_PIPELINE_MODEL_NAME).  -1 when it does
 * not fit in bufsz.
 */
int ml_config_env_name(char *buf, size_t bufsz, const char *path);

#endif
