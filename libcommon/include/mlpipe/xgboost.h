/*
 * xgboost.h - XGBoost JSON models in and out (docs/gbtree-model.md).
 *
 * An mlpipe gbtree model keeps its trees in XGBoost's own parallel arrays,
 * so both directions copy trees rather than translate them:
 *
 *     json_t *xgb = ml_json_load("m.json", &err);      // save_model("m.json")
 *     if (ml_xgboost_is_model(xgb))
 *             doc = ml_xgboost_import(xgb, NULL, "m.json", &err);
 *     ...
 *     ml_xgboost_save(doc, "x.json", &err);          // xgb.Booster(model_file="x.json")
 *
 * Import reads the layouts of XGBoost 1.x and 2.x (base_score "5E-1" or
 * "[5E-1]", default_left as 0/1 or booleans, feature names present or not).
 * Only what the gbtree plugin predicts exactly is accepted: the gbtree
 * booster, numerical splits, one output, and the objectives
 * reg:squarederror (alias reg:linear), reg:absoluteerror,
 * reg:pseudohubererror, reg:quantileerror and reg:tweedie.  Anything else
 * (dart, gblinear, categorical splits, multi-target or classification
 * models) is ML_ERR_UNAVAILABLE, "not supported yet".  The file is untrusted:
 * a wrong type, length, index or cycle is ML_ERR_DATA naming the file and
 * the tree.  Nodes no path reaches (XGBoost's deleted nodes) are dropped.
 *
 * Every function borrows its arguments and returns a new reference.
 */
#ifndef MLPIPE_XGBOOST_H
#define MLPIPE_XGBOOST_H

#include <jansson.h>

#include "cli.h"
#include "err.h"

/* At most this many features in a model we import or export. */
#define ML_XGBOOST_MAX_FEATURES 65536

/* 1 if doc looks like an XGBoost model (it has a "learner" object), else 0. */
int ml_xgboost_is_model(const json_t *doc);

/*
 * Read a JSON file as XGBoost writes it: where plain JSON fails, the bare
 * NaN and Infinity XGBoost writes (categorical split conditions, ...) are
 * read as null, so the import can say what it does not support.  Errors
 * give file:line:column of the plain JSON parse.
 */
json_t *ml_xgboost_load(const char *uri, struct ml_err *err);

/*
 * An XGBoost model document as an mlpipe gbtree model document (without
 * "format" or "sha256": it lives in memory):
 *
 *     { "algorithm": "gbtree", "algorithm_version": "xgboost 1.7.4",
 *       "recipe": <identity recipe: the features by name, numeric, missing kept>,
 *       "hyperparameters": { "objective": ..., and its parameter if any },
 *       "model": { objective, base_score, num_feature, best_iteration, trees,
 *                  feature_importance } }
 *
 * Feature names come from features when it holds any (it must name as many
 * as the model has: it renames them), else from the model's feature_names;
 * a model without names and no features is ML_ERR_USAGE asking for
 * --features.  what names the file in messages.
 */
json_t *ml_xgboost_import(const json_t *xgb, const struct ml_strlist *features, const char *what,
			  struct ml_err *err);

/*
 * An mlpipe gbtree model document as the JSON document XGBoost 1.7 writes
 * with save_model(): it loads in xgb.Booster(model_file=...) and predicts on
 * the recipe's feature matrix (the features in the recipe's order, under its
 * names) what ml-score predicts.  A model of log1p(target) or with the
 * objective reg:quantileerror (which XGBoost 1.7 lacks) is ML_ERR_UNAVAILABLE.
 */
json_t *ml_xgboost_export(const json_t *model_doc, struct ml_err *err);

/* ml_xgboost_export() written compactly and atomically to uri (plain JSON, no digest). */
int ml_xgboost_save(const json_t *model_doc, const char *uri, struct ml_err *err);

/*
 * A float as XGBoost writes base_score: the shortest digits that read back
 * as the same float, in its "1.6791029E0" / "5E-1" style.
 */
void ml_xgboost_format_float(float f, char out[32]);

#endif
