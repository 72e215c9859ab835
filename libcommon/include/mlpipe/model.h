/*
 * model.h - the model artifact and what training and scoring share.
 *
 * A model ("mlpipe.model/1") carries everything needed to score raw rows:
 *
 *     "algorithm":       "linear"           the plugin that reads "model"
 *     "algorithm_version": "1.0.0"
 *     "recipe":          { ... }            the recipe it was trained with
 *     "hyperparameters": { "wd": "0.01" }   as given (strings, like SageMaker)
 *     "metrics":         { "train": {...}, "validation": {...} }
 *     "model":           { ... }            the plugin's own parameters
 *
 *     struct ml_model *m = ml_model_load("model.json", &err);
 *     ml_model_predict(m, &x, out, &err);   // x from ml_recipe_apply(m->recipe, ...)
 *     ml_model_free(m);
 */
#ifndef MLPIPE_MODEL_H
#define MLPIPE_MODEL_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "matrix.h"
#include "plugin.h"
#include "recipe.h"
#include "stream.h"

#define ML_MODEL_FORMAT "mlpipe.model"
#define ML_MODEL_MAJOR 1

/* Regression quality over the rows with both a label and a prediction. */
struct ml_metrics {
	size_t n;
	double rmse, mae, r2;
};

void ml_metrics_compute(const double *y, const double *pred, size_t n, struct ml_metrics *m);
json_t *ml_metrics_to_json(const struct ml_metrics *m);

/* The same metrics over rows that come a chunk at a time: start from a zeroed acc. */
struct ml_metrics_acc {
	size_t n;
	double mean, m2;	/* of the labels: for r2 */
	double sq, abs;		/* sums of squared and absolute errors */
};
void ml_metrics_acc_add(struct ml_metrics_acc *a, const double *y, const double *pred, size_t n);
void ml_metrics_acc_finish(const struct ml_metrics_acc *a, struct ml_metrics *m);

/* A whole stream through a recipe: features and label in memory. */
struct ml_dataset {
	size_t nrows, nfeatures;
	double *x;		/* nrows * nfeatures, row-major */
	double *y;		/* the recipe's (transformed) target */
	size_t alloc;		/* rows allocated */
};

/*
 * Read all of r (unbound; bound here to the recipe) into d.  The label must
 * be present on every row: a missing one is an error naming file:line.
 */
int ml_dataset_read(const struct ml_recipe *rc, struct ml_reader *r, const char *name,
		    struct ml_dataset *d, struct ml_err *err);
void ml_dataset_release(struct ml_dataset *d);
/* Room for rows in all, allocated once (when the count is known, as after a recipe fit). */
int ml_dataset_reserve(const struct ml_recipe *rc, size_t rows, struct ml_dataset *d, struct ml_err *err);
/* Append one batch (read with the recipe's input schema) to d; start from a zeroed d. */
int ml_dataset_add(const struct ml_recipe *rc, const struct ml_batch *b, const char *name, struct ml_dataset *d,
		   struct ml_err *err);

struct ml_model {
	json_t *doc;			/* the artifact */
	struct ml_recipe *recipe;
	const struct ml_plugin *plugin;	/* the algorithm */
	void *predictor;
};

/* Load, verify (SHA-256, format) and prepare a model for scoring. */
struct ml_model *ml_model_load(const char *uri, struct ml_err *err);
/*
 * The same, and a file that is an XGBoost model (save_model("m.json")) is
 * imported (xgboost.h) instead: features, when it holds any, names its
 * columns in training order (ml-score --features); for an mlpipe model it
 * must be NULL or empty.
 */
struct ml_model *ml_model_load_features(const char *uri, const struct ml_strlist *features, struct ml_err *err);
/* Predictions in the label's own units (a log1p target is undone). */
int ml_model_predict(const struct ml_model *m, const struct ml_matrix *x, double *out,
		     struct ml_err *err);
void ml_model_free(struct ml_model *m);

#endif
