/*
 * rows.h - training data read once and handed to algorithms in passes.
 *
 * A data file is read once into a spool (spool.h): batches stay in memory
 * up to a budget and go to a temporary file beyond it, so the rows can be
 * read again: for the training set once the recipe is fitted, and for each
 * pass of an algorithm that trains in passes.  The reader stays open, as
 * its dictionaries name the categories the batches hold.
 *
 *     struct ml_spooled d;
 *     ml_spooled_open("train.csv", "train.csv", &ro, 64 << 20, &d, &err);
 *     ml_spooled_read(recipe, &d, &err);              // or a recipe fit spooling as it reads
 *     struct ml_spool_rows sr;
 *     ml_spool_rows_init(&sr, &d, recipe);            // sr.rows: passes of features
 *     ml_model_evaluate_rows(model, &sr.rows, &metrics, &err);
 *     ml_spool_rows_release(&sr);
 *     ml_spooled_release(&d);
 */
#ifndef MLPIPE_ROWS_H
#define MLPIPE_ROWS_H

#include <stddef.h>

#include "err.h"
#include "model.h"
#include "plugin.h"
#include "recipe.h"
#include "spool.h"
#include "stream.h"

struct ml_spooled {
	struct ml_reader *reader;
	struct ml_spool *spool;
	const char *name;	/* for messages, borrowed */
};

/* Open uri for reading into a spool that keeps budget bytes in memory. */
int ml_spooled_open(const char *uri, const char *name, const struct ml_reader_opts *ro, size_t budget,
		    struct ml_spooled *d, struct ml_err *err);
void ml_spooled_release(struct ml_spooled *d);
/* Read the whole file through a recipe's input schema (its label must be a column) into the spool. */
int ml_spooled_read(const struct ml_recipe *rc, struct ml_spooled *d, struct ml_err *err);
/* The spooled rows through the recipe into memory; each batch is let go once added. */
int ml_spooled_materialize(const struct ml_recipe *rc, struct ml_spooled *s, struct ml_dataset *d,
			   struct ml_err *err);

/* Spooled rows as struct ml_rows: each pass turns the batches into features, one batch at a time. */
struct ml_spool_rows {
	struct ml_rows rows;	/* first: what an algorithm sees */
	struct ml_spooled *src;
	const struct ml_recipe *recipe;
	struct ml_dataset chunk;
	int (*fn)(const struct ml_matrix *x, const double *y, void *arg, struct ml_err *err);
	void *arg;
};

void ml_spool_rows_init(struct ml_spool_rows *sr, struct ml_spooled *src, const struct ml_recipe *rc);
void ml_spool_rows_release(struct ml_spool_rows *sr);

/* Rows in memory as struct ml_rows: one chunk. */
struct ml_dataset_rows {
	struct ml_rows rows;
	const struct ml_dataset *d;
};

void ml_dataset_rows_init(struct ml_dataset_rows *dr, const struct ml_dataset *d);

/* A model's regression metrics over rows, a chunk at a time, in the label's own units. */
int ml_model_evaluate_rows(const struct ml_model *m, struct ml_rows *rows, struct ml_metrics *out,
			   struct ml_err *err);
/* The same in one pass straight from a file through the model's recipe (nothing kept). */
int ml_model_evaluate_file(const struct ml_model *m, const char *uri, const char *name,
			   const struct ml_reader_opts *ro, struct ml_metrics *out, struct ml_err *err);

#endif
