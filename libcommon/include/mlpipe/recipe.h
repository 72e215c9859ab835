/*
 * recipe.h - feature engineering fitted once, applied identically later.
 *
 * A recipe turns raw input columns into a numeric feature matrix: per
 * numeric column impute -> clip -> log1p -> scale; per categorical column
 * impute -> one-hot (most frequent levels, the rest into "other") or
 * ordinal.  Fitting streams: numeric statistics are running sums plus a KLL
 * sketch for medians and quantiles; categorical levels are counted in a
 * capped dictionary.  Apply never fails on a category it has not seen: it
 * goes to "other" (or to missing, by choice).
 *
 *     struct ml_recipe *rc = ml_recipe_fit(reader, &opts, &err);
 *     ml_recipe_save(rc, "recipe.json", &err);
 *     ...
 *     rc = ml_recipe_load("recipe.json", &err);
 *     ml_reader_bind(r, ml_recipe_input_schema(rc), 1, &err);
 *     while ((n = ml_reader_read_batch(r, &b, &err)) > 0)
 *             ml_recipe_apply(rc, &b, x, y, &err);   // x: n * nfeatures, row-major
 */
#ifndef MLPIPE_RECIPE_H
#define MLPIPE_RECIPE_H

#include <stddef.h>

#include <jansson.h>

#include "cli.h"
#include "err.h"
#include "schema.h"
#include "stream.h"

#define ML_RECIPE_FORMAT "mlpipe.recipe"
#define ML_RECIPE_MAJOR 1

enum ml_impute {
	ML_IMPUTE_NONE = 0,	/* keep missing as NaN (trees handle it) */
	ML_IMPUTE_MEDIAN,
	ML_IMPUTE_MEAN,
	ML_IMPUTE_MOST_FREQUENT,
	ML_IMPUTE_CONSTANT,
};

enum ml_scale { ML_SCALE_NONE = 0, ML_SCALE_STANDARD, ML_SCALE_MINMAX };
enum ml_encode { ML_ENCODE_ONEHOT = 0, ML_ENCODE_ORDINAL };
enum ml_unseen { ML_UNSEEN_OTHER = 0, ML_UNSEEN_MISSING };

struct ml_recipe_opts {
	const char *target;			/* label column, or NULL */
	const struct ml_strlist *drop;		/* columns not used */
	const struct ml_strlist *keep;		/* passthrough columns (ids) */
	const struct ml_strlist *categorical;	/* force these categorical */
	const struct ml_strlist *numeric;	/* force these numeric */
	const struct ml_strlist *log1p;		/* numeric features to log1p */
	const struct ml_strlist *impute;	/* per column "COL=STRATEGY[:VALUE]" */
	enum ml_impute numeric_impute;
	enum ml_impute categorical_impute;
	double numeric_fill;			/* value for CONSTANT */
	const char *categorical_fill;		/* level for CONSTANT */
	enum ml_scale scale;
	enum ml_encode encode;
	size_t max_levels;			/* one-hot levels kept, most frequent first */
	enum ml_unseen unseen;
	int log1p_target;
	double clip_low, clip_high;		/* quantiles (e.g. 0.01, 0.99); NaN: no clipping */
	struct ml_infer_opts infer;
	/* Called with every batch the fit reads (bound to the recipe's input
	 * schema), so a caller can keep the rows instead of reading them again. */
	int (*on_batch)(const struct ml_batch *b, void *arg, struct ml_err *err);
	void *on_batch_arg;
};

void ml_recipe_opts_init(struct ml_recipe_opts *o);

struct ml_recipe;

/* One streaming pass over r (unbound; the recipe binds it). */
struct ml_recipe *ml_recipe_fit(struct ml_reader *r, const struct ml_recipe_opts *o, struct ml_err *err);
void ml_recipe_free(struct ml_recipe *rc);

/* The recipe as an artifact document (new reference), and back (validated). */
json_t *ml_recipe_to_json(const struct ml_recipe *rc);
struct ml_recipe *ml_recipe_from_json(const json_t *j, const char *what, struct ml_err *err);
int ml_recipe_save(const struct ml_recipe *rc, const char *uri, struct ml_err *err);
struct ml_recipe *ml_recipe_load(const char *uri, struct ml_err *err);

/* What the input must provide: features, target (if any), kept columns. */
const struct ml_schema *ml_recipe_input_schema(const struct ml_recipe *rc);
size_t ml_recipe_nfeatures(const struct ml_recipe *rc);
const char *ml_recipe_feature_name(const struct ml_recipe *rc, size_t i);
const char *ml_recipe_target(const struct ml_recipe *rc);	/* NULL if none */

/*
 * Transform a batch read with ml_recipe_input_schema(): x gets nrows rows of
 * nfeatures values (row-major), y (if not NULL and the recipe has a target)
 * the transformed target, NaN where missing.
 */
int ml_recipe_apply(const struct ml_recipe *rc, const struct ml_batch *b, double *x, double *y,
		    struct ml_err *err);

/*
 * The schema to bind a reader with when the output also carries input
 * columns (ids): the recipe's input schema plus each keep column it does not
 * read; keep_cols[i] is the batch column of keep->items[i].
 */
int ml_recipe_bind_schema(const struct ml_recipe *rc, const struct ml_strlist *keep, struct ml_schema *out,
			  long *keep_cols, struct ml_err *err);

/*
 * A CSV input lacking a feature column (unless allow_missing) or a keep
 * column is an error naming it: usually a renamed column or the wrong file.
 */
int ml_recipe_check_input(const struct ml_recipe *rc, const struct ml_reader *r, const struct ml_strlist *keep,
			  const char *name, int allow_missing, struct ml_err *err);

/* Undo the target transform (log1p) on predictions. */
void ml_recipe_untransform_target(const struct ml_recipe *rc, double *y, size_t n);

#endif
