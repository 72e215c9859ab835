/*
 * rows.c - training data read once into a spool and handed to algorithms
 * in passes of features (rows.h).
 */
#include <stdlib.h>
#include <string.h>

#include "mlpipe/buf.h"
#include "mlpipe/rows.h"

/* ---- a file read once ---- */

void ml_spooled_release(struct ml_spooled *d)
{
	ml_spool_free(d->spool);
	ml_reader_close(d->reader);
	memset(d, 0, sizeof *d);
}

int ml_spooled_open(const char *uri, const char *name, const struct ml_reader_opts *ro, size_t budget,
		    struct ml_spooled *d, struct ml_err *err)
{
	memset(d, 0, sizeof *d);
	d->name = name;
	if (!(d->spool = ml_spool_new(budget, err)) || !(d->reader = ml_reader_open(&uri, 1, ro, err))) {
		ml_spooled_release(d);
		return -1;
	}
	return 0;
}

/* Bind a reader to a recipe's input schema, its label required. */
static int bind_to_recipe(struct ml_reader *r, const struct ml_recipe *rc, const char *name, const char *why,
			  struct ml_err *err)
{
	const char *target = ml_recipe_target(rc);
	if (!target)
		return ml_err_set(err, ML_ERR_USAGE, "the recipe has no target column %s", why);
	if (ml_reader_find_column(r, target) < 0)
		return ml_err_set(err, ML_ERR_DATA, "%s: no column \"%s\" (the label) %s", name, target, why);
	return ml_reader_bind(r, ml_recipe_input_schema(rc), 1, err);
}

/* Every batch of r to fn (the next one parsed meanwhile), then the reader's summary (rows read, rejected) at -v. */
static int each_batch(struct ml_reader *r, int (*fn)(const struct ml_batch *b, void *arg, struct ml_err *err),
		      void *arg, struct ml_err *err)
{
	int rc = ml_reader_each_batch(r, fn, arg, err);
	if (rc == 0)
		ml_stream_log_summary(r, NULL);
	return rc;
}

int ml_spooled_read(const struct ml_recipe *rc, struct ml_spooled *d, struct ml_err *err)
{
	if (bind_to_recipe(d->reader, rc, d->name, "to train on", err) < 0)
		return -1;
	return each_batch(d->reader, ml_spool_add_cb, d->spool, err);
}

struct to_dataset {
	const struct ml_recipe *recipe;
	const char *name;
	struct ml_dataset *d;
};

static int add_to_dataset(const struct ml_batch *b, void *arg, struct ml_err *err)
{
	struct to_dataset *t = arg;
	return ml_dataset_add(t->recipe, b, t->name, t->d, err);
}

int ml_spooled_materialize(const struct ml_recipe *rc, struct ml_spooled *s, struct ml_dataset *d,
			   struct ml_err *err)
{
	struct to_dataset t = { rc, s->name, d };
	memset(d, 0, sizeof *d);
	if (ml_dataset_reserve(rc, (size_t)ml_spool_rows(s->spool), d, err) < 0 ||
	    ml_spool_drain(s->spool, add_to_dataset, &t, err) < 0)
		return -1;
	d->nfeatures = ml_recipe_nfeatures(rc);
	return 0;
}

/* ---- rows in passes ---- */

static int spool_rows_batch(const struct ml_batch *b, void *arg, struct ml_err *err)
{
	struct ml_spool_rows *sr = arg;
	sr->chunk.nrows = 0;
	if (ml_dataset_add(sr->recipe, b, sr->src->name, &sr->chunk, err) < 0)
		return -1;
	struct ml_matrix x = { sr->chunk.nrows, sr->chunk.nfeatures, sr->chunk.x };
	return sr->fn(&x, sr->chunk.y, sr->arg, err);
}

static int spool_rows_pass(struct ml_rows *rows,
			   int (*fn)(const struct ml_matrix *x, const double *y, void *arg, struct ml_err *err),
			   void *arg, struct ml_err *err)
{
	struct ml_spool_rows *sr = (struct ml_spool_rows *)rows;
	sr->fn = fn;
	sr->arg = arg;
	return ml_spool_each(sr->src->spool, spool_rows_batch, sr, err);
}

static int spool_rows_shuffled_pass(struct ml_rows *rows, uint64_t seed,
				   int (*fn)(const struct ml_matrix *x, const double *y, void *arg, struct ml_err *err),
				   void *arg, struct ml_err *err)
{
	struct ml_spool_rows *sr = (struct ml_spool_rows *)rows;
	sr->fn = fn;
	sr->arg = arg;
	return ml_spool_each_shuffled(sr->src->spool, seed, spool_rows_batch, sr, err);
}

void ml_spool_rows_init(struct ml_spool_rows *sr, struct ml_spooled *src, const struct ml_recipe *rc)
{
	memset(sr, 0, sizeof *sr);
	sr->rows = (struct ml_rows){ sizeof sr->rows, ml_recipe_nfeatures(rc), ml_spool_rows(src->spool),
				     spool_rows_pass, spool_rows_shuffled_pass };
	sr->src = src;
	sr->recipe = rc;
}

void ml_spool_rows_release(struct ml_spool_rows *sr)
{
	ml_dataset_release(&sr->chunk);
}

static int dataset_rows_pass(struct ml_rows *rows,
			     int (*fn)(const struct ml_matrix *x, const double *y, void *arg, struct ml_err *err),
			     void *arg, struct ml_err *err)
{
	const struct ml_dataset *d = ((struct ml_dataset_rows *)rows)->d;
	struct ml_matrix x = { d->nrows, d->nfeatures, d->x };
	return d->nrows ? fn(&x, d->y, arg, err) : 0;
}

void ml_dataset_rows_init(struct ml_dataset_rows *dr, const struct ml_dataset *d)
{
	dr->rows = (struct ml_rows){ sizeof dr->rows, d->nfeatures, d->nrows, dataset_rows_pass, NULL };
	dr->d = d;
}

/* ---- metrics ---- */

struct evaluation {
	const struct ml_model *m;
	struct ml_metrics_acc acc;
	double *pred, *y;
	size_t cap;
};

static int evaluate_chunk(const struct ml_matrix *x, const double *y, void *arg, struct ml_err *err)
{
	struct evaluation *e = arg;
	size_t n = x->nrows;
	if (n > e->cap) {
		double *pred = ml_realloc_array(e->pred, n, sizeof *pred, err);
		e->pred = pred ? pred : e->pred;
		double *yy = pred ? ml_realloc_array(e->y, n, sizeof *yy, err) : NULL;
		e->y = yy ? yy : e->y;
		if (!yy)
			return -1;
		e->cap = n;
	}
	if (ml_model_predict(e->m, x, e->pred, err) < 0)
		return -1;
	memcpy(e->y, y, n * sizeof *y);
	ml_recipe_untransform_target(e->m->recipe, e->y, n);
	ml_metrics_acc_add(&e->acc, e->y, e->pred, n);
	return 0;
}

static int finish_evaluation(struct evaluation *e, int rc, struct ml_metrics *out)
{
	if (rc == 0)
		ml_metrics_acc_finish(&e->acc, out);
	free(e->pred);
	free(e->y);
	return rc;
}

int ml_model_evaluate_rows(const struct ml_model *m, struct ml_rows *rows, struct ml_metrics *out,
			   struct ml_err *err)
{
	struct evaluation e = { m, { 0 }, NULL, NULL, 0 };
	return finish_evaluation(&e, rows->pass(rows, evaluate_chunk, &e, err), out);
}

int ml_model_evaluate_file(const struct ml_model *m, const char *uri, const char *name,
			   const struct ml_reader_opts *ro, struct ml_metrics *out, struct ml_err *err)
{
	struct ml_spooled src;
	struct ml_spool_rows sr;
	struct evaluation e = { m, { 0 }, NULL, NULL, 0 };
	if (ml_spooled_open(uri, name, ro, 0, &src, err) < 0)
		return -1;
	ml_spool_rows_init(&sr, &src, m->recipe);	/* its batch step, without the spool */
	sr.fn = evaluate_chunk;
	sr.arg = &e;
	int rc = bind_to_recipe(src.reader, m->recipe, name, "to compare on", err) < 0
			 ? -1
			 : each_batch(src.reader, spool_rows_batch, &sr, err);
	ml_spool_rows_release(&sr);
	ml_spooled_release(&src);
	return finish_evaluation(&e, rc, out);
}
