/*
 * schema.h - what the columns of a record stream are.
 *
 * A schema lists columns by name with a type (numeric, categorical, text) and
 * a role (feature, target, id, passthrough, ignore).  Recipes and models
 * carry one, so ml-score matches input columns by name, not position.
 * ml_schema_infer() proposes types from a sample of a reader without
 * consuming it: the sampled rows are read again by the next read.
 */
#ifndef MLPIPE_SCHEMA_H
#define MLPIPE_SCHEMA_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

enum ml_type {
	ML_TYPE_NUMERIC = 0,	/* doubles; NaN is missing */
	ML_TYPE_CATEGORICAL,	/* a small set of strings, interned to ids */
	ML_TYPE_TEXT,		/* free text, kept as bytes */
};

enum ml_role {
	ML_ROLE_FEATURE = 0,
	ML_ROLE_TARGET,
	ML_ROLE_ID,
	ML_ROLE_PASSTHROUGH,	/* carried to the output, not used */
	ML_ROLE_IGNORE,		/* not read at all (not even parsed) */
};

struct ml_column_def {
	char *name;
	enum ml_type type;
	enum ml_role role;
};

struct ml_schema {
	size_t n;
	size_t alloc;
	struct ml_column_def *cols;
};

void ml_schema_init(struct ml_schema *s);
void ml_schema_release(struct ml_schema *s);
/* Append a column; a duplicate name is an error (class DATA). */
int ml_schema_add(struct ml_schema *s, const char *name, enum ml_type type, enum ml_role role,
		  struct ml_err *err);
/* Index of the column named name, or -1. */
long ml_schema_find(const struct ml_schema *s, const char *name);
/*
 * Make names[0..n) columns an output carries unchanged (ids): a column s
 * ignores becomes PASSTHROUGH text, a column s lacks is added so; cols[i]
 * is then the index of names[i].  Columns s already reads stay as they are.
 */
int ml_schema_add_kept(struct ml_schema *s, char *const *names, size_t n, long *cols, struct ml_err *err);
int ml_schema_copy(struct ml_schema *dst, const struct ml_schema *src, struct ml_err *err);

const char *ml_type_name(enum ml_type t);	/* "numeric", "categorical", "text" */
const char *ml_role_name(enum ml_role r);	/* "feature", "target", "id", ... */
int ml_type_parse(const char *s, enum ml_type *t);	/* 0, or -1 if unknown */
int ml_role_parse(const char *s, enum ml_role *r);

/*
 * As JSON: [{"name": "price", "type": "numeric", "role": "target"}, ...].
 * ml_schema_from_json validates everything (untrusted input); what names the
 * artifact for messages.
 */
json_t *ml_schema_to_json(const struct ml_schema *s);
int ml_schema_from_json(struct ml_schema *s, const json_t *j, const char *what, struct ml_err *err);

/* How ml_schema_infer decides. */
struct ml_infer_opts {
	size_t sample_rows;		/* rows to look at; default 10000 */
	size_t max_categories;		/* more distinct strings than this -> text; default 1000 */
	double max_category_ratio;	/* distinct/present above this (and > 20 distinct) -> text; default 0.5 */
};

#define ML_INFER_DEFAULTS { 10000, 1000, 0.5 }

struct ml_reader;

/*
 * Propose a schema for the reader's columns from up to sample_rows rows:
 * numeric when every present value parses as a number, categorical when the
 * strings are few, text otherwise; a column with no values at all is
 * numeric.  Every role is FEATURE.  The rows sampled are not consumed.
 */
int ml_schema_infer(struct ml_reader *r, const struct ml_infer_opts *opts, struct ml_schema *out,
		    struct ml_err *err);

#endif
