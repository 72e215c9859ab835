/*
 * ml-score - the hot path: stream rows through a model's recipe and trees or
 * weights; batch transform, ensembles, data capture, an HTTP endpoint.
 *
 * One scoring path serves both modes: a reader (files, or a request body in
 * memory) is bound to the ensemble's columns as the filters say (struct
 * scoring), batches are predicted and combined, and rows are written (to
 * the output, or to a response body).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mlpipe/capture.h"
#include "mlpipe/cli.h"
#include "mlpipe/jpath.h"
#include "mlpipe/log.h"
#include "mlpipe/model.h"
#include "mlpipe/num.h"
#include "mlpipe/plugin.h"
#include "mlpipe/progress.h"
#include "mlpipe/quality.h"
#include "mlpipe/serve.h"
#include "mlpipe/stream.h"
#include "mlpipe/threads.h"
#include "mlpipe/uri.h"

static struct ml_stream_cli stream;
static struct {
	struct ml_strlist models, keep, features;
	int each, join_source, allow_missing;
	char *combine, *input_filter, *output_filter, *capture, *serve, *evaluate, *output;
	double capture_percent, request_timeout;
	long max_request;
} S = { .capture_percent = 100, .request_timeout = 60, .max_request = 6 * 1024 * 1024 };

static const struct ml_opt score_opts[] = {
	{ "model", 'm', ML_OPT_LIST, &S.models, "FILE", "model artifact (repeat for an ensemble)", NULL,
	  ML_OPTF_NO_SPLIT },
	{ "combine", 0, ML_OPT_STRING, &S.combine, "HOW",
	  "several models' predictions into one: mean (default), max, min, median, sum, "
	  "weighted:W1,W2,... or plugin:NAME" },
	{ "each", 0, ML_OPT_FLAG, &S.each, NULL,
	  "also write each model's prediction (prediction_1, ...) before the combined one" },
	{ "keep", 0, ML_OPT_LIST, &S.keep, "COLS", "copy these input columns to the output (ids)" },
	{ "input-filter", 0, ML_OPT_STRING, &S.input_filter, "EXPR",
	  "fields the model sees, e.g. '$[1:]' or '$.features' (SageMaker InputFilter)" },
	{ "join-source", 0, ML_OPT_CHOICE, &S.join_source, "WHAT",
	  "none (default) or input: write each input record with its prediction", "none|input" },
	{ "output-filter", 0, ML_OPT_STRING, &S.output_filter, "EXPR",
	  "fields written, e.g. '$[0,-1]' (SageMaker OutputFilter)" },
	{ "capture", 0, ML_OPT_STRING, &S.capture, "DIR", "log inputs and predictions (SageMaker capture JSONL)" },
	{ "capture-percent", 0, ML_OPT_DOUBLE, &S.capture_percent, "PCT",
	  "share of rows (or requests with --serve) captured, 0 to 100 (default 100)" },
	{ "serve", 0, ML_OPT_STRING, &S.serve, "ADDR",
	  "serve GET /ping and POST /invocations on ADDR (e.g. 127.0.0.1:8080)" },
	{ "max-request-size", 0, ML_OPT_INT, &S.max_request, "BYTES",
	  "--serve: largest request body (default 6291456, SageMaker's 6 MB); 413 above", NULL, 0, NULL, 1,
	  1L << 30 },
	{ "request-timeout", 0, ML_OPT_DOUBLE, &S.request_timeout, "SECONDS",
	  "--serve: time a request may take (default 60); 503 after it" },
	{ "evaluate", 0, ML_OPT_STRING, &S.evaluate, "COL", "report RMSE/MAE/R2 against this label column" },
	{ "output", 'o', ML_OPT_STRING, &S.output, "FILE", "write here instead of standard output" },
	{ "allow-missing-columns", 0, ML_OPT_FLAG, &S.allow_missing, NULL,
	  "a feature column absent from the input is missing in every row, not an error" },
	{ "features", 0, ML_OPT_LIST, &S.features, "COLS",
	  "an XGBoost model's feature columns, in training order (when it has no names, or to rename them)" },
	ML_OPT_END,
};

#define MAX_MODELS 64
#define HIDDEN "\x1f"	/* prefix of a column the input filter leaves out: no input has it */

enum combine { COMBINE_MEAN, COMBINE_MAX, COMBINE_MIN, COMBINE_MEDIAN, COMBINE_SUM, COMBINE_WEIGHTED, COMBINE_PLUGIN };

/* --combine, --input-filter and --output-filter as parsed. */
static struct {
	enum combine how;
	double w[MAX_MODELS], wsum;
	const char *plugin;
	struct ml_jpath in, out;
	int have_in, have_out;
} C;

/* One model of the ensemble, and where its input columns are in the batch. */
struct member {
	struct ml_model *model;
	size_t *cols;			/* recipe input column j -> batch column */
};

/* The models and what they read; shared by concurrent requests, replaced whole on SIGHUP. */
struct ensemble {
	long refs;
	struct member m[MAX_MODELS];
	size_t nmodels, nfeatures_max;
	struct ml_schema u;		/* every model's input columns once, then --keep */
	size_t nmodel_cols;		/* u's columns that a model reads */
	long *keep_cols;		/* batch column of each --keep column */
	const struct ml_combine_ops *plugin;
};

/* What an output field is. */
enum item_kind { ITEM_CELL, ITEM_EACH, ITEM_PRED, ITEM_INPUT, ITEM_SMO, ITEM_PATH };
struct item {
	enum item_kind kind;
	size_t i;			/* CELL, PATH: batch column; EACH: model */
	const char *key;		/* PATH: the member picked by name, or NULL (see member_value()) */
};

/* One pass over one reader (a whole stream, or one request's body). */
struct scoring {
	const struct ensemble *e;
	struct ml_batch_col *view[MAX_MODELS];	/* a model's columns in its recipe's order */
	double *mpred[MAX_MODELS];		/* each model's prediction (of the batch in b) */
	struct ml_writer *w;
	struct ml_schema bound;		/* e->u as this input is read: filters applied */
	struct item *items;		/* the fields of an output row */
	size_t nitems;
	struct ml_strlist names;	/* their names (ITEM_INPUT: every input column) */
	int join_raw;			/* rows are the input record as read, then predictions */
	int positional;			/* headerless: selected fields are the features in order */
	enum ml_format in_fmt, out_fmt;
	long label_col;			/* --evaluate: batch column of the label, or -1 */
	/* one batch and what is computed from it (struct slot: swapped with a spare when pipelined) */
	struct ml_batch b;
	double *x[MAX_MODELS];		/* each model's features */
	double *pred;			/* the combined prediction */
	size_t cap;
	struct ml_pairs evaluated;	/* --evaluate: label and prediction of every row */
	struct ml_capture *capture;	/* batch mode: one record per row */
	long nested_col;		/* --input-filter '$.a...': batch column of member a, or -1 */
	struct ml_batch inner;		/* ... and the models' columns read from inside it */
	struct ml_buf nested_text;	/* the picked values as NDJSON, for the inner reader */
	double deadline;		/* --serve: give up after this (ml_serve_now()), or 0 */
};

/* ---- combining ---- */

static int parse_combine(struct ml_err *err)
{
	static const char *const names[] = { "mean", "max", "min", "median", "sum" };
	const char *how = S.combine ? S.combine : "mean";
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcmp(how, names[i])) {
			C.how = (enum combine)i;
			return 0;
		}
	if (!strncmp(how, "plugin:", 7) && how[7]) {
		C.how = COMBINE_PLUGIN;
		C.plugin = how + 7;
		return 0;
	}
	if (strncmp(how, "weighted:", 9) != 0)
		return ml_err_set(err, ML_ERR_USAGE,
				  "--combine: \"%s\" is not one of mean|max|min|median|sum|weighted:W1,W2,...|plugin:NAME",
				  how);
	C.how = COMBINE_WEIGHTED;
	size_t n = 0;
	for (const char *p = how + 9; *p; n++) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (n >= MAX_MODELS || ml_parse_double(p, len, &C.w[n]) != ML_NUM_OK)
			return ml_err_set(err, ML_ERR_USAGE, "--combine %s: weight %zu is not a number", how, n + 1);
		C.wsum += C.w[n];
		p = end ? end + 1 : p + len;
	}
	if (n != S.models.n)
		return ml_err_set(err, ML_ERR_USAGE, "--combine %s: %zu weights for %zu models (-m)", how, n,
				  S.models.n);
	if (!(C.wsum != 0))
		return ml_err_set(err, ML_ERR_USAGE, "--combine %s: the weights add up to 0", how);
	return 0;
}

/* f(p[0], ..., p[n-1]); a missing prediction makes the result missing. */
static double combine(double *p, size_t n)
{
	double acc = p[0];
	for (size_t i = 0; i < n; i++)
		if (isnan(p[i]))
			return NAN;
	switch (C.how) {
	case COMBINE_MAX:
		for (size_t i = 1; i < n; i++)
			acc = p[i] > acc ? p[i] : acc;
		return acc;
	case COMBINE_MIN:
		for (size_t i = 1; i < n; i++)
			acc = p[i] < acc ? p[i] : acc;
		return acc;
	case COMBINE_MEDIAN:
		ml_sort_doubles(p, n);
		return n % 2 ? p[n / 2] : (p[n / 2 - 1] + p[n / 2]) / 2;
	case COMBINE_WEIGHTED:
		acc = 0;
		for (size_t i = 0; i < n; i++)
			acc += C.w[i] * p[i];
		return acc / C.wsum;
	case COMBINE_SUM:
	case COMBINE_MEAN:
		for (size_t i = 1; i < n; i++)
			acc += p[i];
		return C.how == COMBINE_SUM ? acc : acc / (double)n;
	case COMBINE_PLUGIN:
		break;
	}
	return NAN;
}

static int combine_batch(const struct ensemble *e, double *const *mpred, double *pred, size_t n, struct ml_err *err)
{
	double p[MAX_MODELS];
	if (e->plugin) {
		const double *preds[MAX_MODELS];
		for (size_t i = 0; i < e->nmodels; i++)
			preds[i] = mpred[i];
		if (e->plugin->combine(e->nmodels, n, preds, pred, err) < 0)
			return ml_err_prefix(err, "combiner plugin %s", C.plugin);
		return 0;
	}
	for (size_t row = 0; row < n; row++) {
		for (size_t i = 0; i < e->nmodels; i++)
			p[i] = mpred[i][row];
		pred[row] = combine(p, e->nmodels);
	}
	return 0;
}

/* ---- writing rows ---- */

/* The record as read, without its line end. */
static const char *raw_row(const struct ml_batch *b, size_t r, size_t *len)
{
	const char *s = b->raw.data + b->raw_off[r];
	size_t n = b->raw_len[r];
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*len = n;
	return s;
}

/* {"prediction_1":..,"prediction":..}: the NDJSON join's "SageMakerOutput". */
static void smo_text(const struct scoring *sc, size_t r, struct ml_buf *out)
{
	char num[ML_NUM_BUFSZ];
	ml_buf_adds(out, "{");
	for (size_t i = 0; S.each && sc->e->nmodels > 1 && i < sc->e->nmodels; i++) {
		ml_buf_printf(out, "\"prediction_%zu\":", i + 1);
		ml_buf_adds(out, ml_fmt_double(sc->mpred[i][r], num) ? num : "null");
		ml_buf_adds(out, ",");
	}
	ml_buf_adds(out, "\"prediction\":");
	ml_buf_adds(out, ml_fmt_double(sc->pred[r], num) ? num : "null");
	ml_buf_adds(out, "}");
}

/* NDJSON join: the input object with "SageMakerOutput" added as its last member. */
static int write_joined_object(struct ml_writer *w, const struct scoring *sc, size_t r, struct ml_buf *line,
			       struct ml_err *err)
{
	size_t n;
	const char *s = raw_row(&sc->b, r, &n);
	if (!n || s[n - 1] != '}')
		return ml_err_set(err, ML_ERR_DATA, "line %llu: not a JSON object to join with",
				  (unsigned long long)sc->b.line[r]);
	size_t body = n - 1, k = body;
	while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t' || s[k - 1] == '\n' || s[k - 1] == '\r'))
		k--;
	ml_buf_reset(line);
	ml_buf_add(line, s, body);
	if (k > 0 && s[k - 1] != '{')
		ml_buf_adds(line, ",");
	ml_buf_adds(line, "\"SageMakerOutput\":");
	smo_text(sc, r, line);
	if (ml_buf_adds(line, "}\n") < 0)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory joining line %llu",
				  (unsigned long long)sc->b.line[r]);
	return ml_writer_row_raw(w, line->data, line->len, err);
}

/* The elements of an array that an output filter's [indexes, slices] pick, as an array. */
static json_t *pick_elements(json_t *array)
{
	size_t n = json_array_size(array), k;
	size_t *sel = calloc(ml_jpath_max_select(&C.out, n), sizeof *sel);
	const char **names = calloc(n + 1, sizeof *names);
	json_t *out = NULL;
	for (size_t i = 0; names && i < n; i++)
		names[i] = "";
	if (sel && names && ml_jpath_select_items(&C.out, names, n, sel, &k, NULL) == 0) {
		out = json_array();
		for (size_t i = 0; i < k; i++)
			json_array_append(out, json_array_get(array, sel[i]));
	}
	free(sel);
	free(names);
	return out;
}

/*
 * The value an ITEM_PATH picks in row r: the field's JSON, then each
 * member of the path after the first, then the key or the [indexes]; NULL
 * (written as null, as jq gives for a missing member) when it has none.
 */
static json_t *member_value(const struct ml_batch *b, const struct item *it, size_t r)
{
	const struct ml_batch_col *c = &b->cols[it->i];
	if (c->type != ML_TYPE_TEXT || c->text_len[r] == ML_TEXT_MISSING || !(c->text_len[r] & ML_TEXT_JSON))
		return NULL;	/* a string holds no members */
	json_t *root = json_loadb(b->text.data + c->text_off[r], ml_text_len(c->text_len[r]), JSON_DECODE_ANY, NULL);
	json_t *v = root;	/* borrowed from root */
	for (size_t m = 1; v && m < C.out.nmembers; m++)
		v = json_object_get(v, C.out.members[m]);
	if (v && it->key)
		v = json_object_get(v, it->key);
	json_t *out = !v ? NULL : !it->key && C.out.nitems ? (json_is_array(v) ? pick_elements(v) : NULL) : json_incref(v);
	json_decref(root);
	return out;
}

static int write_member_value(struct ml_writer *w, const struct ml_batch *b, const struct item *it, size_t r,
			      struct ml_err *err)
{
	json_t *v = member_value(b, it, r);
	int rc;
	if (!v || json_is_null(v)) {
		rc = ml_writer_null(w, err);
	} else if (json_is_string(v)) {
		rc = ml_writer_str(w, json_string_value(v), json_string_length(v), err);
	} else {
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
		rc = text ? ml_writer_json(w, text, strlen(text), err) : ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
		free(text);
	}
	json_decref(v);
	return rc;
}

static int write_item(struct ml_writer *w, const struct scoring *sc, const struct item *it, size_t r,
		      struct ml_buf *tmp, struct ml_err *err)
{
	size_t n;
	const char *s;
	switch (it->kind) {
	case ITEM_CELL:
		return ml_writer_cell(w, &sc->b, it->i, r, err);
	case ITEM_EACH:
		return ml_writer_num(w, sc->mpred[it->i][r], err);
	case ITEM_PRED:
		return ml_writer_num(w, sc->pred[r], err);
	case ITEM_INPUT:
		s = raw_row(&sc->b, r, &n);
		return ml_writer_verbatim(w, s, n, err);
	case ITEM_SMO:
		ml_buf_reset(tmp);
		smo_text(sc, r, tmp);
		return ml_writer_verbatim(w, tmp->data, tmp->len, err);
	case ITEM_PATH:
		return write_member_value(w, &sc->b, it, r, err);
	}
	return ml_err_set(err, ML_ERR_INTERNAL, "unknown output field");
}

static int write_scored(struct ml_writer *w, size_t begin, size_t end, void *ctx, struct ml_err *err)
{
	const struct scoring *sc = ctx;
	struct ml_buf tmp;
	int rc = 0;
	ml_buf_init(&tmp, (size_t)1 << 30);
	for (size_t r = begin; r < end && rc == 0; r++) {
		if (sc->join_raw && sc->out_fmt == ML_FMT_NDJSON) {
			rc = write_joined_object(w, sc, r, &tmp, err);
			continue;
		}
		for (size_t k = 0; k < sc->nitems && rc == 0; k++)
			rc = write_item(w, sc, &sc->items[k], r, &tmp, err);
		if (rc == 0)
			rc = ml_writer_end_row(w, err);
	}
	ml_buf_release(&tmp);
	return rc;
}

/* --capture in batch mode: each sampled row is one inference. */
static int capture_rows(struct scoring *sc, size_t n, struct ml_err *err)
{
	int json = sc->in_fmt == ML_FMT_NDJSON;
	char num[ML_NUM_BUFSZ];
	struct ml_buf out;
	int rc = 0;
	ml_buf_init(&out, (size_t)1 << 20);
	for (size_t r = 0; r < n && rc == 0; r++) {
		if (!ml_capture_sampled(sc->capture))
			continue;
		size_t len;
		const char *in = raw_row(&sc->b, r, &len);
		ml_buf_reset(&out);
		if (json)
			smo_text(sc, r, &out);
		else
			ml_buf_adds(&out, ml_fmt_double(sc->pred[r], num) ? num : "");
		const char *type = json ? "application/jsonlines" : "text/csv";
		rc = ml_capture_record(sc->capture, type, in, len, type, out.data ? out.data : "", out.len, err);
	}
	ml_buf_release(&out);
	return rc;
}

/* ---- scoring ---- */

static int reserve_rows(struct scoring *sc, size_t n, struct ml_err *err)
{
	if (n <= sc->cap)
		return 0;
	sc->cap = n;
	free(sc->pred);
	sc->pred = ml_calloc(n, sizeof *sc->pred, err);
	for (size_t i = 0; i < sc->e->nmodels; i++) {
		size_t nf = ml_recipe_nfeatures(sc->e->m[i].model->recipe);
		free(sc->mpred[i]);
		free(sc->x[i]);
		sc->mpred[i] = ml_calloc(n, sizeof(double), err);
		sc->x[i] = ml_calloc(n * (nf ? nf : 1), sizeof(double), err);
		if (!sc->mpred[i] || !sc->x[i])
			return -1;
	}
	return sc->pred ? 0 : -1;
}

/* Each model's view of the batch's columns; with the batch, features and predictions, the per-batch state. */
static int alloc_views(struct scoring *sc, struct ml_err *err)
{
	for (size_t i = 0; i < sc->e->nmodels; i++) {
		size_t ncols = ml_recipe_input_schema(sc->e->m[i].model->recipe)->n;
		if (!(sc->view[i] = ml_calloc(ncols + 1, sizeof *sc->view[i], err)))
			return -1;
	}
	return 0;
}

static void release_batch_state(struct scoring *sc)
{
	for (size_t i = 0; i < MAX_MODELS; i++) {
		free(sc->view[i]);
		free(sc->mpred[i]);
		free(sc->x[i]);
	}
	free(sc->pred);
	ml_batch_release(&sc->b);
}

/* --evaluate: keep every label and prediction for the metrics at the end. */
static int remember(struct scoring *sc, size_t n, struct ml_err *err)
{
	for (size_t r = 0; sc->label_col >= 0 && r < n; r++)
		if (ml_pairs_add(&sc->evaluated, sc->b.cols[sc->label_col].num[r], sc->pred[r], err) < 0)
			return -1;
	return 0;
}

/* Each model's features from the batch: its recipe sees its own columns, in its own order. */
static int apply_recipes(struct scoring *sc, struct ml_err *err)
{
	for (size_t i = 0; i < sc->e->nmodels; i++) {
		const struct member *mb = &sc->e->m[i];
		const struct ml_recipe *rc = mb->model->recipe;
		size_t ncols = ml_recipe_input_schema(rc)->n;
		for (size_t j = 0; j < ncols; j++)
			sc->view[i][j] = sc->b.cols[mb->cols[j]];
		struct ml_batch view = sc->b;
		view.cols = sc->view[i];
		view.ncols = ncols;
		if (ml_recipe_apply(rc, &view, sc->x[i], NULL, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * The models and the combiner over features already made: numbers only,
 * nothing of the reader's (its dictionaries may grow meanwhile), so it can
 * run beside the reading of the next batch.
 */
struct prediction {
	const struct ensemble *e;
	double *x[MAX_MODELS], *mpred[MAX_MODELS], *pred;
	size_t n;
	int rc;
	struct ml_err err;
};

static void prediction_of(const struct scoring *sc, size_t n, struct prediction *p)
{
	*p = (struct prediction){ .e = sc->e, .pred = sc->pred, .n = n, .err = ML_ERR_INIT };
	memcpy(p->x, sc->x, sizeof p->x);
	memcpy(p->mpred, sc->mpred, sizeof p->mpred);
}

static int predict(struct prediction *p)
{
	const struct ensemble *e = p->e;
	for (size_t i = 0; i < e->nmodels; i++) {
		const struct ml_model *m = e->m[i].model;
		struct ml_matrix x = { p->n, ml_recipe_nfeatures(m->recipe), p->x[i] };
		if (ml_model_predict(m, &x, p->mpred[i], &p->err) < 0)
			return p->rc = -1;
	}
	return p->rc = combine_batch(e, p->mpred, p->pred, p->n, &p->err);
}

static void *predict_thread(void *arg)
{
	predict(arg);
	return NULL;
}

/* ---- --input-filter into a member: the models read a value inside each record ---- */

static int json_row(const struct ensemble *e, json_t *row, size_t at, struct ml_buf *out, struct ml_err *err);

/* The value of member a, then .b ..., then [selector] of one record. */
static json_t *descend(const char *text, size_t len, struct ml_err *err)
{
	json_error_t je;
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY, &je);
	if (!v) {
		ml_err_set(err, ML_ERR_DATA, "member \"%s\" is not a JSON object or array", C.in.members[0]);
		return NULL;
	}
	for (size_t i = 1; i < C.in.nmembers; i++) {
		json_t *next = json_object_get(v, C.in.members[i]);
		json_incref(next);
		json_decref(v);
		if (!(v = next)) {
			ml_err_set(err, ML_ERR_DATA, "no member \"%s\" in \"%s\"", C.in.members[i], C.in.members[i - 1]);
			return NULL;
		}
	}
	if (!C.in.nitems)
		return v;
	size_t n = json_is_array(v) ? json_array_size(v) : json_is_object(v) ? json_object_size(v) : 0, k = 0, i = 0;
	const char **names = calloc(n + 1, sizeof *names);
	size_t *sel = calloc(ml_jpath_max_select(&C.in, n), sizeof *sel);
	const char *key;
	json_t *val, *out = NULL;
	if (names && sel) {
		if (json_is_object(v))
			json_object_foreach(v, key, val) names[i++] = key;
		else
			for (; i < n; i++)
				names[i] = "";
		struct ml_jpath items = C.in;	/* the selector alone, applied to v */
		items.nmembers = 0;
		if (ml_jpath_select(&items, names, n, sel, &k, err) == 0) {
			out = json_is_object(v) ? json_object() : json_array();
			for (size_t j = 0; j < k; j++)
				if (json_is_object(v))
					json_object_set(out, names[sel[j]], json_object_get(v, names[sel[j]]));
				else
					json_array_append(out, json_array_get(v, sel[j]));
		}
	}
	free(names);
	free(sel);
	json_decref(v);
	return out;
}

/* "@:L:C: why" from the inner reader, as the outer record's place. */
static int nested_error(const struct scoring *sc, const char *name, struct ml_err *err)
{
	size_t line = 0;
	int at = 0;
	if (sscanf(err->msg, "@:%zu:%*u: %n", &line, &at) == 1 && at > 0 && line >= 1 && line <= sc->b.nrows) {
		char why[ML_ERR_MSG_MAX];
		snprintf(why, sizeof why, "%s", err->msg + at);
		return ml_err_set(err, ML_ERR_DATA, "%s:%llu: in %s: %s", name, (unsigned long long)sc->b.line[line - 1],
				  C.in.text, why);
	}
	return -1;
}

static void swap_model_columns(struct scoring *sc)
{
	for (size_t i = 0; i < sc->e->nmodel_cols; i++) {
		struct ml_batch_col t = sc->b.cols[i];
		sc->b.cols[i] = sc->inner.cols[i];
		sc->inner.cols[i] = t;
	}
}

/*
 * Each record's picked value becomes an NDJSON object (an array: the
 * features in order) read by a second reader into sc->inner; its model
 * columns are swapped into the batch while it is scored.
 */
static struct ml_reader *read_nested(struct scoring *sc, size_t n, const char *name, struct ml_err *err)
{
	const struct ml_batch_col *c = &sc->b.cols[sc->nested_col];
	struct ml_buf *lines = &sc->nested_text;
	struct ml_reader *in = NULL;
	int rc = 0;
	ml_buf_reset(lines);
	for (size_t r = 0; r < n && rc == 0; r++) {
		json_t *v = c->text_len[r] == UINT32_MAX ? NULL
							  : descend(sc->b.text.data + c->text_off[r], ml_text_len(c->text_len[r]), err);
		if (!v && c->text_len[r] == UINT32_MAX)
			ml_err_set(err, ML_ERR_DATA, "no member \"%s\"", C.in.members[0]);
		for (size_t i = 0; v && json_is_object(v) && !S.allow_missing && i < sc->e->nmodel_cols; i++)
			if (sc->e->u.cols[i].role == ML_ROLE_FEATURE && !json_object_get(v, sc->e->u.cols[i].name)) {
				ml_err_set(err, ML_ERR_DATA, "no \"%s\", which the model reads (--allow-missing-columns scores "
					   "it as missing)", sc->e->u.cols[i].name);
				json_decref(v);
				v = NULL;
			}
		if (v && !json_is_array(v) && !json_is_object(v)) {
			json_t *one = json_array();
			json_array_append_new(one, v);
			v = one;
		}
		rc = v ? json_row(sc->e, v, r + 1, lines, err) : -1;
		json_decref(v);
		if (rc < 0 && !strncmp(err->msg, "body: row ", 10))
			ml_err_set(err, ML_ERR_DATA, "%s", strchr(err->msg + 10, ' ') + 1);
		if (rc < 0)
			ml_err_prefix(err, "%s:%llu: %s", name, (unsigned long long)sc->b.line[r], C.in.text);
	}
	struct ml_reader_opts ro;
	ml_reader_opts_init(&ro);
	ro.format = ML_FMT_NDJSON;
	ro.batch_rows = n;
	struct ml_istream *s = rc == 0 ? ml_istream_mem(lines->data, lines->len, "@", err) : NULL;
	long got = -1;
	if (s && (in = ml_reader_open_stream(s, lines->len, &ro, err)) && ml_reader_bind(in, &sc->e->u, 1, err) == 0)
		got = ml_reader_read_batch(in, &sc->inner, err);
	if (got < 0 && in)
		nested_error(sc, name, err);
	if (got != (long)n) {
		if (got >= 0)
			ml_err_set(err, ML_ERR_INTERNAL, "%s: %ld of %zu records read after %s", name, got, n, C.in.text);
		ml_reader_close(in);
		return NULL;
	}
	swap_model_columns(sc);
	return in;
}

/* After the predictions: the rows out, the metrics and the capture. */
static int finish_batch(struct scoring *sc, size_t n, struct ml_err *err)
{
	if (ml_writer_rows_parallel(sc->w, n, write_scored, sc, err) < 0 || remember(sc, n, err) < 0 ||
	    (sc->capture && capture_rows(sc, n, err) < 0))
		return -1;
	return 0;
}

static int score_batch(struct scoring *sc, size_t n, struct ml_err *err)
{
	struct prediction p;
	if (reserve_rows(sc, n, err) < 0 || apply_recipes(sc, err) < 0)
		return -1;
	prediction_of(sc, n, &p);
	if (predict(&p) < 0) {
		*err = p.err;
		return -1;
	}
	return finish_batch(sc, n, err);
}

static int score_batches(struct ml_reader *r, struct scoring *sc, const char *name, struct ml_err *err)
{
	long n;
	while ((n = ml_reader_read_batch(r, &sc->b, err)) > 0) {
		if (sc->deadline > 0 && ml_serve_now() > sc->deadline)
			return ml_err_set(err, ML_ERR_TEMPFAIL, "scoring took longer than %g s (--request-timeout)",
					  S.request_timeout);
		struct ml_reader *inner = NULL;
		if (sc->nested_col >= 0 && !(inner = read_nested(sc, (size_t)n, name, err)))
			return -1;
		int rc = score_batch(sc, (size_t)n, err);
		if (inner) {	/* the inner batch's categories point into its reader: both go */
			swap_model_columns(sc);
			ml_reader_close(inner);
			ml_batch_release(&sc->inner);
			ml_batch_init(&sc->inner);
		}
		if (rc < 0)
			return -1;
	}
	return n < 0 ? -1 : 0;
}

/* ---- pipelined: the next batch is read while this one is predicted ---- */

/* What struct scoring holds of one batch: two of them take turns. */
struct slot {
	struct ml_batch b;
	double *x[MAX_MODELS], *mpred[MAX_MODELS], *pred;
	size_t cap;
};

static void swap_slot(struct scoring *sc, struct slot *s)
{
	struct slot t = { sc->b, { 0 }, { 0 }, sc->pred, sc->cap };
	memcpy(t.x, sc->x, sizeof t.x);
	memcpy(t.mpred, sc->mpred, sizeof t.mpred);
	sc->b = s->b;
	memcpy(sc->x, s->x, sizeof sc->x);
	memcpy(sc->mpred, s->mpred, sizeof sc->mpred);
	sc->pred = s->pred;
	sc->cap = s->cap;
	*s = t;
}

static void release_slot(struct slot *s)
{
	ml_batch_release(&s->b);
	for (size_t i = 0; i < MAX_MODELS; i++) {
		free(s->x[i]);
		free(s->mpred[i]);
	}
	free(s->pred);
}

/* Wait for the batch being predicted, then write it (it is in the spare slot). */
static int finish_pending(struct scoring *sc, struct slot *spare, pthread_t worker, struct prediction *p,
			  struct ml_err *err)
{
	pthread_join(worker, NULL);
	if (p->rc < 0) {
		if (err)
			*err = p->err;
		return -1;
	}
	swap_slot(sc, spare);
	int rc = finish_batch(sc, p->n, err);
	swap_slot(sc, spare);
	return rc;
}

/*
 * Reading and the recipes stay on this thread (the reader's dictionaries
 * are not shared); the models run on a worker meanwhile.  The rows come
 * out in their order, as from score_batches().
 */
static int score_batches_pipelined(struct ml_reader *r, struct scoring *sc, struct ml_err *err)
{
	struct slot spare = { 0 };
	struct prediction p;
	pthread_t worker;
	int pending = 0, rc = 0;
	long n;
	ml_batch_init(&spare.b);
	while (rc == 0) {
		n = ml_reader_read_batch(r, &sc->b, err);
		if (n > 0 && (reserve_rows(sc, (size_t)n, err) < 0 || apply_recipes(sc, err) < 0))
			n = -1;
		if (pending && finish_pending(sc, &spare, worker, &p, n < 0 ? NULL : err) < 0 && n >= 0)
			n = -1;
		pending = 0;
		if (n <= 0) {
			rc = n < 0 ? -1 : 0;
			break;
		}
		prediction_of(sc, (size_t)n, &p);
		if (pthread_create(&worker, NULL, predict_thread, &p) != 0) {
			if (predict(&p) < 0 || finish_batch(sc, (size_t)n, err) < 0)
				rc = -1;
			continue;
		}
		pending = 1;
		swap_slot(sc, &spare);	/* the next batch goes into the other slot */
	}
	release_slot(&spare);
	return rc;
}

/* ---- in parts: the input cut at line ends, each part scored on a core of its own ---- */

static int score_part(struct ml_reader *part, struct ml_writer *out, void *worker, struct ml_err *err)
{
	struct scoring *sc = worker;
	sc->w = out;
	return score_batches(part, sc, NULL, err);
}

/* A worker's scoring: the plan shared with sc (read only), the per-batch state its own. */
static int clone_scoring(const struct scoring *sc, struct scoring *c, struct ml_err *err)
{
	*c = *sc;
	memset(c->view, 0, sizeof c->view);
	memset(c->mpred, 0, sizeof c->mpred);
	memset(c->x, 0, sizeof c->x);
	c->pred = NULL;
	c->cap = 0;
	ml_batch_init(&c->b);
	if (alloc_views(c, err) == 0)
		return 0;
	release_batch_state(c);
	return -1;
}

/*
 * Rows whose output is only their own (no capture or metrics, which keep
 * the input's order) are scored in parts; 1 when r cannot be cut, or
 * stopped being cuttable, and the rest is read from r as usual.
 */
static int score_parts(struct ml_reader *r, struct scoring *sc, struct ml_err *err)
{
	size_t n = ml_threads();
	struct scoring clones[ML_MAX_THREADS];
	void *workers[ML_MAX_THREADS];
	size_t made = 0;
	int rc = -1;
	if (sc->capture || sc->label_col >= 0)
		return 1;
	while (made < n && clone_scoring(sc, &clones[made], err) == 0) {
		workers[made] = &clones[made];
		made++;
	}
	if (made == n)
		rc = ml_reader_each_part(r, sc->w, score_part, workers, n, err);
	for (size_t i = 0; i < made; i++)
		release_batch_state(&clones[i]);
	return rc;
}

static void report_evaluation(const struct scoring *sc)
{
	struct ml_metrics m;
	ml_metrics_compute(sc->evaluated.label, sc->evaluated.pred, sc->evaluated.n, &m);
	json_t *j = ml_metrics_to_json(&m);
	json_object_set_new(j, "event", json_string("evaluation"));
	json_object_set_new(j, "label", json_string(S.evaluate));
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	if (text)
		fprintf(stderr, "%s\n", text);
	free(text);
	json_decref(j);
}

/* ---- the ensemble ---- */

/*
 * The batch schema: every model's input columns once (by name; two models
 * may not read one column as different types), then the --keep columns.
 */
static int union_schema(struct ensemble *e, struct ml_err *err)
{
	struct ml_schema *u = &e->u;
	if (ml_schema_copy(u, ml_recipe_input_schema(e->m[0].model->recipe), err) < 0)
		return -1;
	for (size_t i = 0; i < e->nmodels; i++) {
		const struct ml_schema *in = ml_recipe_input_schema(e->m[i].model->recipe);
		e->m[i].cols = ml_calloc(in->n + 1, sizeof *e->m[i].cols, err);
		if (!e->m[i].cols)
			return -1;
		for (size_t j = 0; j < in->n; j++) {
			long at = ml_schema_find(u, in->cols[j].name);
			if (at >= 0 && u->cols[at].type != in->cols[j].type)
				return ml_err_set(err, ML_ERR_DATA, "%s and %s read column \"%s\" as %s and %s",
						  S.models.items[0], S.models.items[i], in->cols[j].name,
						  ml_type_name(u->cols[at].type), ml_type_name(in->cols[j].type));
			if (at < 0 && ml_schema_add(u, in->cols[j].name, in->cols[j].type, in->cols[j].role, err) < 0)
				return -1;
			if (at >= 0 && in->cols[j].role == ML_ROLE_FEATURE)
				u->cols[at].role = ML_ROLE_FEATURE;
			e->m[i].cols[j] = (size_t)(at >= 0 ? at : (long)u->n - 1);
		}
		size_t nf = ml_recipe_nfeatures(e->m[i].model->recipe);
		e->nfeatures_max = nf > e->nfeatures_max ? nf : e->nfeatures_max;
	}
	e->nmodel_cols = u->n;
	return ml_schema_add_kept(u, S.keep.items, S.keep.n, e->keep_cols, err);
}

static void ensemble_free(struct ensemble *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nmodels; i++) {
		ml_model_free(e->m[i].model);
		free(e->m[i].cols);
	}
	ml_schema_release(&e->u);
	free(e->keep_cols);
	free(e);
}

static struct ensemble *ensemble_load(struct ml_err *err)
{
	struct ensemble *e = ml_calloc(1, sizeof *e, err);
	if (!e)
		return NULL;
	e->refs = 1;
	ml_schema_init(&e->u);
	if (!(e->keep_cols = ml_calloc(S.keep.n + 1, sizeof *e->keep_cols, err)))
		goto fail;
	for (size_t i = 0; i < S.models.n; i++) {
		if (!(e->m[i].model = ml_model_load_features(S.models.items[i], &S.features, err)))
			goto fail;
		e->nmodels++;
	}
	if (union_schema(e, err) < 0)
		goto fail;
	if (C.how == COMBINE_PLUGIN) {
		const struct ml_plugin *p = ml_plugin_load(ML_PLUGIN_COMBINER, C.plugin, err);
		if (!p)
			goto fail;
		e->plugin = p->ops.combine;
		if (!e->plugin || e->plugin->size < sizeof *e->plugin || !e->plugin->combine) {
			ml_err_set(err, ML_ERR_UNAVAILABLE, "combiner plugin %s has no combine function", C.plugin);
			goto fail;
		}
	}
	return e;
fail:
	ensemble_free(e);
	return NULL;
}

/* ---- binding an input: filters ---- */

static size_t count_features(const struct ensemble *e)
{
	size_t n = 0;
	for (size_t i = 0; i < e->nmodel_cols; i++)
		n += e->u.cols[i].role == ML_ROLE_FEATURE;
	return n;
}

static int hide_column(struct ml_schema *s, size_t i, struct ml_err *err)
{
	char *name = ml_malloc(strlen(s->cols[i].name) + sizeof HIDDEN, err);
	if (!name)
		return -1;
	strcpy(name, HIDDEN);
	strcat(name, s->cols[i].name);
	free(s->cols[i].name);
	s->cols[i].name = name;
	return 0;
}

static int rename_column(struct ml_schema *s, size_t i, const char *to, struct ml_err *err)
{
	char *name = ml_strdup(to, err);
	if (!name)
		return -1;
	free(s->cols[i].name);
	s->cols[i].name = name;
	return 0;
}

/* The reader's column names, borrowed. */
static const char **column_names(const struct ml_reader *r, struct ml_err *err)
{
	size_t n = ml_reader_ncols(r);
	const char **names = ml_calloc(n + 1, sizeof *names, err);
	for (size_t i = 0; names && i < n; i++)
		names[i] = ml_reader_colname(r, i);
	return names;
}

/*
 * --input-filter: the model columns of sc->bound are renamed to the input
 * fields the filter picks.  By name (a CSV header, NDJSON keys) a feature
 * the filter leaves out is hidden; positionally (headerless CSV) the picked
 * fields are the features in order.  A hidden feature is an error unless
 * --allow-missing-columns.
 */
static int plan_nested(struct scoring *sc, const struct ml_reader *r, const char *name, struct ml_err *err);

/* $.a.b, $.a[...], and in NDJSON $.a when a is not a column the models read: a path into member a. */
static int is_nested(const struct ensemble *e, const struct ml_jpath *jp, const struct ml_reader *r)
{
	if (!ml_jpath_is_flat(jp))
		return 1;
	if (jp->nmembers != 1 || ml_reader_format(r) != ML_FMT_NDJSON)
		return 0;
	long at = ml_schema_find(&e->u, jp->members[0]);
	return at < 0 || (size_t)at >= e->nmodel_cols;
}

static int apply_input_filter(struct scoring *sc, const struct ml_reader *r, const char *name, struct ml_err *err)
{
	static const struct ml_jpath all = { "$" };
	const struct ml_jpath *jp = C.have_in ? &C.in : &all;
	struct ml_schema *s = &sc->bound;
	size_t n = ml_reader_ncols(r), k = 0, f = 0;
	const char **names = column_names(r, err);
	size_t *sel = names ? ml_calloc(ml_jpath_max_select(jp, n), sizeof *sel, err) : NULL;
	int rc = -1;
	if (!sel)
		goto out;
	if (is_nested(sc->e, jp, r)) {
		rc = plan_nested(sc, r, name, err);
		goto out;
	}
	if (ml_jpath_select(jp, names, n, sel, &k, err) < 0)
		goto out;
	for (size_t i = 0; i < sc->e->nmodel_cols; i++) {
		if (s->cols[i].role != ML_ROLE_FEATURE)
			continue;
		int picked = 0;
		if (sc->positional && f < k) {
			if (rename_column(s, i, names[sel[f]], err) < 0)
				goto out;
			picked = 1;
		}
		for (size_t j = 0; !sc->positional && j < k && !picked; j++)
			picked = !strcmp(names[sel[j]], s->cols[i].name);
		f++;
		if (picked)
			continue;
		if (!S.allow_missing && !C.have_in) {
			ml_err_set(err, ML_ERR_DATA, "%s: rows have %zu fields; the model reads %zu features (\"%s\" is #%zu)",
				   name, k, sc->e->nmodel_cols ? count_features(sc->e) : 0, s->cols[i].name, f);
			goto out;
		}
		if (!S.allow_missing) {
			ml_err_set(err, ML_ERR_DATA,
				   "%s: --input-filter '%s' leaves out column \"%s\" that the model reads "
				   "(--allow-missing-columns scores it as missing)",
				   name, jp->text, s->cols[i].name);
			goto out;
		}
		if (hide_column(s, i, err) < 0)
			goto out;
	}
	if (sc->positional && k > f) {
		if (C.have_in)
			ml_err_set(err, ML_ERR_DATA, "%s: --input-filter '%s' picks %zu fields; the model reads %zu features",
				   name, jp->text, k, f);
		else
			ml_err_set(err, ML_ERR_DATA, "%s: rows have %zu fields; the model reads %zu features", name, k, f);
		goto out;
	}
	rc = 0;
out:
	free(names);
	free(sel);
	return rc;
}

/*
 * A path into member a: the models' columns are not read from the record
 * (hidden) but from inside a, which is read as text (read_nested()).
 */
static int plan_nested(struct scoring *sc, const struct ml_reader *r, const char *name, struct ml_err *err)
{
	if (ml_reader_format(r) != ML_FMT_NDJSON)
		return ml_err_set(err, ML_ERR_USAGE, "%s: --input-filter '%s' selects inside a member; CSV fields have none",
				  name, C.in.text);
	for (size_t i = 0; i < sc->e->nmodel_cols; i++)
		if (hide_column(&sc->bound, i, err) < 0)
			return -1;
	char *member[1] = { C.in.members[0] };
	return ml_schema_add_kept(&sc->bound, member, 1, &sc->nested_col, err);
}

static int add_item(struct scoring *sc, enum item_kind kind, size_t i, const char *name, struct ml_err *err)
{
	struct item *items = ml_realloc_array(sc->items, sc->nitems + 1, sizeof *items, err);
	if (!items)
		return -1;
	sc->items = items;
	sc->items[sc->nitems++] = (struct item){ kind, i, NULL };
	return ml_strlist_push(&sc->names, name, err);
}

static int add_path_item(struct scoring *sc, size_t col, const char *key, const char *name, struct ml_err *err)
{
	if (add_item(sc, ITEM_PATH, col, name, err) < 0)
		return -1;
	sc->items[sc->nitems - 1].key = key;
	return 0;
}

/* An input column written as it was read: a passthrough column of the batch. */
static int add_input_cell(struct scoring *sc, const char *name, struct ml_err *err)
{
	char *names[1] = { (char *)name };
	long col;
	if (ml_schema_add_kept(&sc->bound, names, 1, &col, err) < 0)
		return -1;
	return add_item(sc, ITEM_CELL, (size_t)col, name, err);
}

/*
 * What an output row holds before --output-filter: the input record (join)
 * or the --keep columns, then each model's prediction and the combined one
 * (or, joining NDJSON, "SageMakerOutput" holding them).  The names of these
 * fields are what the output filter picks from.
 */
struct field {
	enum item_kind kind;
	size_t i;
	const char *name;
};

static int output_fields(const struct scoring *sc, const struct ml_reader *r, struct field **out, size_t *n,
			 char (*each)[32], struct ml_err *err)
{
	size_t ncols = S.join_source ? ml_reader_ncols(r) : S.keep.n, nm = sc->e->nmodels;
	struct field *f = ml_calloc(ncols + nm + 2, sizeof *f, err);
	size_t k = 0;
	if (!f)
		return -1;
	for (size_t i = 0; i < ncols; i++)
		f[k++] = S.join_source ? (struct field){ ITEM_INPUT, i, ml_reader_colname(r, i) }
				       : (struct field){ ITEM_CELL, (size_t)sc->e->keep_cols[i], S.keep.items[i] };
	if (S.join_source && sc->out_fmt == ML_FMT_NDJSON) {
		f[k++] = (struct field){ ITEM_SMO, 0, "SageMakerOutput" };
	} else {
		for (size_t i = 0; S.each && nm > 1 && i < nm; i++) {
			snprintf(each[i], sizeof each[i], "prediction_%zu", i + 1);
			f[k++] = (struct field){ ITEM_EACH, i, each[i] };
		}
		f[k++] = (struct field){ ITEM_PRED, 0, "prediction" };
	}
	*out = f;
	*n = k;
	return 0;
}

/*
 * --output-filter '$.features.make', '$.features['make','type']', '$.req.x[0,2]':
 * a pick inside an input field that holds JSON (NDJSON's objects and arrays),
 * made row by row (member_value()).  Names picked by '[...]' are output
 * fields of their own; otherwise the one value is, named by the path's last
 * member.
 */
static int plan_output_in_member(struct scoring *sc, const struct field *f, size_t n, struct ml_err *err)
{
	const struct ml_jpath *jp = &C.out;
	const struct field *x = NULL;
	for (size_t i = 0; i < n && !x; i++)
		if ((f[i].kind == ITEM_INPUT || f[i].kind == ITEM_CELL) && !strcmp(f[i].name, jp->members[0]))
			x = &f[i];
	if (!x)
		return ml_err_set(err, ML_ERR_DATA, "--output-filter '%s': no field \"%s\"", jp->text, jp->members[0]);
	size_t col = x->i;
	if (x->kind == ITEM_INPUT) {
		char *names[1] = { (char *)x->name };
		long at;
		if (ml_schema_add_kept(&sc->bound, names, 1, &at, err) < 0)
			return -1;
		col = (size_t)at;
	}
	int by_name = jp->nitems > 0;
	for (size_t k = 0; k < jp->nitems; k++)
		by_name &= jp->items[k].kind == ML_JITEM_NAME;
	if (!by_name)
		return add_path_item(sc, col, NULL, jp->members[jp->nmembers - 1], err);
	for (size_t k = 0; k < jp->nitems; k++)
		if (add_path_item(sc, col, jp->items[k].name, jp->items[k].name, err) < 0)
			return -1;
	return 0;
}

/*
 * --output-filter '$.SageMakerOutput.prediction' (or '$.SageMakerOutput[...]'):
 * a pick among the predictions that "SageMakerOutput" holds when NDJSON is
 * joined.  Other members hold input text that is not parsed as JSON here.
 */
static int plan_output_in_smo(struct scoring *sc, const struct field *f, size_t n, struct ml_err *err)
{
	const struct ml_jpath *jp = &C.out;
	for (size_t i = 0; i < n; i++)
		if ((f[i].kind == ITEM_PRED || f[i].kind == ITEM_EACH) && !strcmp(jp->members[0], f[i].name))
			return ml_err_set(err, ML_ERR_DATA, "--output-filter '%s': \"%s\" is a number, with no members",
					  jp->text, f[i].name);
	if (!(n > 0 && f[n - 1].kind == ITEM_SMO && !strcmp(jp->members[0], f[n - 1].name)))
		return plan_output_in_member(sc, f, n, err);
	const struct ml_jpath inner = { jp->text, jp->members + 1, jp->nmembers - 1, jp->items, jp->nitems };
	if (!ml_jpath_is_flat(&inner))
		return ml_err_set(err, ML_ERR_DATA, "--output-filter '%s': \"%s\" is a number, with no members",
				  jp->text, inner.members[0]);
	size_t nm = sc->e->nmodels, np = 0, k;
	char each[MAX_MODELS][32];
	const char *names[MAX_MODELS + 1];
	struct field preds[MAX_MODELS + 1];
	for (size_t i = 0; S.each && nm > 1 && i < nm; i++) {
		snprintf(each[i], sizeof each[i], "prediction_%zu", i + 1);
		preds[np] = (struct field){ ITEM_EACH, i, each[i] };
		names[np++] = each[i];
	}
	preds[np] = (struct field){ ITEM_PRED, 0, "prediction" };
	names[np++] = "prediction";
	size_t *sel = ml_calloc(ml_jpath_max_select(&inner, np), sizeof *sel, err);
	int rc = -1;
	if (!sel)
		return -1;
	if (ml_jpath_select(&inner, names, np, sel, &k, err) < 0) {
		ml_err_prefix(err, "--output-filter");
		goto out;
	}
	for (size_t j = 0; j < k; j++)
		if (add_item(sc, preds[sel[j]].kind, preds[sel[j]].i, preds[sel[j]].name, err) < 0)
			goto out;
	rc = 0;
out:
	free(sel);
	return rc;
}

static int plan_output(struct scoring *sc, const struct ml_reader *r, struct ml_err *err)
{
	char each[MAX_MODELS][32];
	struct field *f = NULL;
	size_t n, k = 0, *sel = NULL;
	int rc = -1;
	if (output_fields(sc, r, &f, &n, each, err) < 0)
		return -1;
	const char **names = ml_calloc(n + 1, sizeof *names, err);
	for (size_t i = 0; names && i < n; i++)
		names[i] = f[i].name;
	if (!names)
		goto out;
	if (!C.have_out && S.join_source && sc->in_fmt == sc->out_fmt) {
		/* The record as read, then the predictions (or SageMakerOutput). */
		sc->join_raw = 1;
		size_t ncols = ml_reader_ncols(r);
		if (add_item(sc, ITEM_INPUT, 0, ncols ? names[0] : "", err) < 0)
			goto out;
		for (size_t i = 1; i < ncols; i++)
			if (ml_strlist_push(&sc->names, names[i], err) < 0)
				goto out;
		for (size_t i = ncols; i < n; i++)
			if (add_item(sc, f[i].kind, f[i].i, f[i].name, err) < 0)
				goto out;
		rc = 0;
		goto out;
	}
	if (!(sel = ml_calloc(ml_jpath_max_select(&C.out, n), sizeof *sel, err)))
		goto out;
	if (C.have_out && !ml_jpath_is_flat(&C.out)) {
		rc = plan_output_in_smo(sc, f, n, err);
		goto out;
	}
	if (C.have_out) {
		if (ml_jpath_select(&C.out, names, n, sel, &k, err) < 0) {
			ml_err_prefix(err, "--output-filter");
			goto out;
		}
	} else {
		for (k = 0; k < n; k++)
			sel[k] = k;
	}
	for (size_t j = 0; j < k; j++) {
		const struct field *x = &f[sel[j]];
		if ((x->kind == ITEM_INPUT ? add_input_cell(sc, x->name, err)
					   : add_item(sc, x->kind, x->i, x->name, err)) < 0)
			goto out;
	}
	rc = 0;
out:
	free(f);
	free(names);
	free(sel);
	return rc;
}

/* --evaluate names the label every model was trained on: it is then read as a number. */
static int label_column(struct scoring *sc, struct ml_reader *r, const char *name, struct ml_err *err)
{
	const struct ensemble *e = sc->e;
	sc->label_col = -1;
	if (!S.evaluate)
		return 0;
	for (size_t i = 0; i < e->nmodels; i++) {
		const char *target = ml_recipe_target(e->m[i].model->recipe);
		if (!target || strcmp(target, S.evaluate) != 0)
			return ml_err_set(err, ML_ERR_USAGE, "--evaluate %s: %s was trained on %s%s%s", S.evaluate,
					  S.models.items[i], target ? "\"" : "no label", target ? target : "",
					  target ? "\"" : "");
	}
	if (ml_reader_find_column(r, S.evaluate) < 0)
		return ml_err_set(err, ML_ERR_DATA, "%s: no column \"%s\" to evaluate against", name, S.evaluate);
	sc->label_col = ml_schema_find(&sc->bound, S.evaluate);
	return 0;
}

static int check_inputs(const struct scoring *sc, const struct ml_reader *r, const char *name,
			struct ml_err *err)
{
	if (C.have_in || sc->positional)
		return 0;	/* apply_input_filter checked what the filter picks */
	for (size_t i = 0; i < sc->e->nmodels; i++)
		if (ml_recipe_check_input(sc->e->m[i].model->recipe, r, &S.keep, name, S.allow_missing, err) < 0)
			return -1;
	return 0;
}

/* Bind r to the ensemble as the filters say, and name the output columns. */
static int plan(struct scoring *sc, struct ml_reader *r, const char *name, struct ml_err *err)
{
	sc->in_fmt = ml_reader_format(r);
	if (ml_schema_copy(&sc->bound, &sc->e->u, err) < 0 || check_inputs(sc, r, name, err) < 0 ||
	    ((C.have_in || sc->positional) && apply_input_filter(sc, r, name, err) < 0) ||
	    plan_output(sc, r, err) < 0 || label_column(sc, r, name, err) < 0)
		return -1;
	return alloc_views(sc, err) < 0 ? -1 : ml_reader_bind(r, &sc->bound, 1, err);
}

static void release_scoring(struct scoring *sc)
{
	release_batch_state(sc);
	ml_batch_release(&sc->inner);
	ml_buf_release(&sc->nested_text);
	ml_schema_release(&sc->bound);
	ml_strlist_clear(&sc->names);
	free(sc->items);
	ml_pairs_release(&sc->evaluated);
}

/* Bind, plan, then every batch; sc->w is opened (after the plan) unless given. */
static int run(struct scoring *sc, struct ml_reader *r, const char *name, const struct ml_writer_opts *wo,
	       struct ml_err *err)
{
	ml_schema_init(&sc->bound);
	ml_batch_init(&sc->b);
	ml_batch_init(&sc->inner);
	ml_buf_init(&sc->nested_text, (size_t)1 << 31);
	sc->nested_col = -1;
	sc->out_fmt = wo->format;
	if (plan(sc, r, name, err) < 0)
		return -1;
	if (!sc->w && !(sc->w = ml_writer_open(S.output ? S.output : "-", wo, err)))
		return -1;
	if (ml_writer_set_columns(sc->w, (const char *const *)sc->names.items, sc->names.n, err) < 0)
		return -1;
	/* a co-process (--line-buffered) gets each batch's rows before the next is read */
	if (ml_threads() > 1 && sc->nested_col < 0 && !S.serve && !ml_writer_line_buffered(sc->w)) {
		int rc = score_parts(r, sc, err);
		return rc == 1 ? score_batches_pipelined(r, sc, err) : rc;
	}
	return score_batches(r, sc, name, err);
}

/* ---- batch mode ---- */

static int score_stream(struct ensemble *e, struct ml_reader *r, const char *name, struct ml_err *err)
{
	struct scoring sc = { .e = e, .label_col = -1 };
	struct ml_writer_opts wo;
	int rc = -1;
	sc.positional = C.have_in && stream.no_header;
	if (S.capture && !(sc.capture = ml_capture_open(S.capture, S.capture_percent, err)))
		return -1;
	if (ml_stream_cli_writer_opts(&stream, ml_reader_format(r), &wo, err) == 0)
		rc = run(&sc, r, name, &wo, err);
	if (sc.w) {
		ml_stream_log_summary(r, sc.w);
		if (ml_writer_close(sc.w, rc == 0, rc < 0 ? NULL : err) < 0)
			rc = -1;
	}
	if (sc.capture)
		ml_info("captured %llu rows in %s", ml_capture_count(sc.capture), S.capture);
	if (ml_capture_close(sc.capture, rc < 0 ? NULL : err) < 0)
		rc = -1;
	if (rc == 0 && sc.label_col >= 0)
		report_evaluation(&sc);
	release_scoring(&sc);
	return rc;
}

static int score_files(struct ensemble *e, char **files, size_t n, struct ml_err *err)
{
	struct ml_reader_opts ro;
	struct ml_reader *r = NULL;
	int rc = -1;
	if (ml_stream_cli_reader_opts(&stream, &ro, err) == 0) {
		ro.keep_raw = S.join_source || S.capture;
		r = ml_reader_open((const char *const *)files, n, &ro, err);
	}
	if (r)
		rc = score_stream(e, r, n ? files[0] : "<stdin>", err);
	ml_reader_close(r);
	ensemble_free(e);
	return rc;
}

/* ---- --serve: the same scoring per request ---- */

static struct {
	pthread_mutex_t lock;
	struct ensemble *current;
} Srv = { PTHREAD_MUTEX_INITIALIZER, NULL };

static struct ensemble *acquire(void)
{
	pthread_mutex_lock(&Srv.lock);
	struct ensemble *e = Srv.current;
	e->refs++;
	pthread_mutex_unlock(&Srv.lock);
	return e;
}

/* The last request holding a replaced ensemble frees it. */
static void release(struct ensemble *e)
{
	pthread_mutex_lock(&Srv.lock);
	int last = --e->refs == 0;
	pthread_mutex_unlock(&Srv.lock);
	if (last)
		ensemble_free(e);
}

/* SIGHUP: load the models anew, then swap; requests in flight keep the old ones. */
static int serve_reload(void *ctx, struct ml_err *err)
{
	(void)ctx;
	struct ensemble *e = ensemble_load(err);
	if (!e)
		return -1;
	pthread_mutex_lock(&Srv.lock);
	struct ensemble *old = Srv.current;
	Srv.current = e;
	pthread_mutex_unlock(&Srv.lock);
	release(old);
	return 0;
}

enum media { MEDIA_NONE, MEDIA_CSV, MEDIA_JSON, MEDIA_JSONL, MEDIA_ANY };

static const char *const media_names[] = { "", "text/csv", "application/json", "application/jsonlines" };

/* One media type, parameters (";charset=...") and spaces ignored. */
static enum media media_of(const char *s, size_t n)
{
	static const struct {
		const char *name;
		enum media m;
	} known[] = {
		{ "text/csv", MEDIA_CSV },		{ "application/json", MEDIA_JSON },
		{ "application/jsonlines", MEDIA_JSONL }, { "application/x-jsonlines", MEDIA_JSONL },
		{ "application/x-ndjson", MEDIA_JSONL },  { "application/jsonl", MEDIA_JSONL },
		{ "*/*", MEDIA_ANY },
	};
	const char *semi = memchr(s, ';', n);
	if (semi)
		n = (size_t)(semi - s);
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (strlen(known[i].name) == n && !strncasecmp(s, known[i].name, n))
			return known[i].m;
	return MEDIA_NONE;
}

/* The first type of Accept that we write; none given (or any): like the request. */
static enum media accepted(const char *accept, enum media request)
{
	if (!accept || !*accept)
		return request;
	for (const char *p = accept; *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		enum media m = media_of(p, n);
		if (m != MEDIA_NONE)
			return m == MEDIA_ANY ? request : m;
		p += n + (end ? 1 : 0);
	}
	return MEDIA_NONE;
}

/* A JSON row as an NDJSON object: an array (or {"features": [...]}) holds the features in order. */
static int json_row(const struct ensemble *e, json_t *row, size_t at, struct ml_buf *out, struct ml_err *err)
{
	json_t *values = json_is_array(row) ? row : NULL, *obj = row;
	if (json_is_object(row) && json_object_size(row) == 1 && json_is_array(json_object_get(row, "features")))
		values = json_object_get(row, "features");
	if (!values && !json_is_object(row))
		return ml_err_set(err, ML_ERR_DATA, "body: row %zu is neither an object nor an array", at);
	if (values) {
		size_t f = 0, n = json_array_size(values);
		obj = json_object();
		for (size_t i = 0; i < e->nmodel_cols; i++)
			if (e->u.cols[i].role == ML_ROLE_FEATURE && f < n)
				json_object_set(obj, e->u.cols[i].name, json_array_get(values, f++));
			else if (e->u.cols[i].role == ML_ROLE_FEATURE)
				f++;
		if (n != f && (n > f || !S.allow_missing)) {
			json_decref(obj);
			return ml_err_set(err, ML_ERR_DATA, "body: row %zu has %zu values; the model reads %zu features",
					  at, n, f);
		}
	}
	char *text = json_dumps(obj, JSON_COMPACT);
	int rc = text && ml_buf_adds(out, text) == 0 && ml_buf_addc(out, '\n') == 0 ? 0 : -1;
	free(text);
	if (obj != row)
		json_decref(obj);
	return rc < 0 ? ml_err_set(err, ML_ERR_INTERNAL, "out of memory converting the body") : 0;
}

static int json_parse_error(const json_error_t *je, size_t line, struct ml_err *err)
{
	return ml_err_set(err, ML_ERR_DATA, "body:%zu:%d: invalid JSON: %s", line ? line : (size_t)je->line,
			  je->column, je->text);
}

/*
 * application/json: an object (one row), an array of rows, or SageMaker's
 * {"instances": [...]}; application/jsonlines: one row a line.  Rows become
 * NDJSON objects for the reader.
 */
static int json_body(const struct ensemble *e, const char *body, size_t len, enum media m, struct ml_buf *out,
		     struct ml_err *err)
{
	json_error_t je;
	int rc = 0;
	if (m == MEDIA_JSONL) {
		size_t line = 0;
		for (const char *p = body, *end = body + len; p < end && rc == 0; line++) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			json_t *row = NULL;
			if (strspn(p, " \t\r") < n) {
				if (!(row = json_loadb(p, n, 0, &je)))
					return json_parse_error(&je, line + 1, err);
				rc = json_row(e, row, line + 1, out, err);
				json_decref(row);
			}
			p += n + 1;
		}
		return rc;
	}
	json_t *root = json_loadb(body, len, 0, &je);
	if (!root)
		return json_parse_error(&je, 0, err);
	json_t *rows = json_object_get(root, "instances");
	rows = json_is_array(rows) ? rows : root;
	json_t *first = json_array_get(rows, 0);
	if (json_is_array(rows) && (json_is_array(first) || json_is_object(first))) {
		for (size_t i = 0; i < json_array_size(rows) && rc == 0; i++)
			rc = json_row(e, json_array_get(rows, i), i + 1, out, err);
	} else {
		rc = json_row(e, rows, 1, out, err);
	}
	json_decref(root);
	return rc;
}

/* A CSV body has a header when its first line names a column the models read. */
static struct ml_reader *open_body(const struct ensemble *e, const char *data, size_t len, enum media m,
				   int *positional, struct ml_err *err)
{
	struct ml_reader_opts ro;
	if (ml_stream_cli_reader_opts(&stream, &ro, err) < 0)
		return NULL;
	ro.format = m == MEDIA_CSV ? ML_FMT_CSV : ML_FMT_NDJSON;
	ro.on_error = ML_ON_ERROR_FAIL;
	ro.rejects = NULL;
	ro.keep_raw = S.join_source;
	ro.header = 0;
	*positional = m == MEDIA_CSV;
	size_t lines = 1;	/* batches no larger than the body: a one-row request allocates one row */
	for (const char *p = data; (p = memchr(p, '\n', len - (size_t)(p - data))) != NULL; p++)
		lines++;
	if (lines < ro.batch_rows)
		ro.batch_rows = lines;
	struct ml_istream *in = ml_istream_mem(data, len, "body", err);
	struct ml_reader *r = in ? ml_reader_open_stream(in, len, &ro, err) : NULL;
	if (!r || m != MEDIA_CSV)
		return r;
	struct ml_record rec;
	int header = 0;
	if (ml_reader_mark(r, err) < 0 || ml_reader_next(r, &rec, err) < 0 || ml_reader_reset(r, err) < 0) {
		ml_reader_close(r);
		return NULL;
	}
	for (size_t i = 0; i < rec.nfields && !header; i++) {
		char name[256];
		size_t n = rec.fields[i].len < sizeof name - 1 ? rec.fields[i].len : sizeof name - 1;
		memcpy(name, rec.fields[i].ptr, n);
		name[n] = '\0';
		long at = ml_schema_find(&e->u, name);
		header = at >= 0 && (size_t)at < e->nmodel_cols;
	}
	if (!header)
		return r;
	ml_reader_close(r);
	ro.header = 1;
	*positional = 0;
	in = ml_istream_mem(data, len, "body", err);
	return in ? ml_reader_open_stream(in, len, &ro, err) : NULL;
}

static int http_status(const struct ml_err *err)
{
	switch (err->class) {
	case ML_ERR_DATA:
	case ML_ERR_USAGE:
		return 400;
	case ML_ERR_TEMPFAIL:
	case ML_ERR_UNAVAILABLE:
		return 503;
	default:
		return 500;
	}
}

/* The rows written, as the response body: application/json wraps them in {"predictions": [...]}. */
static int respond(struct ml_writer *w, enum media m, struct ml_serve_response *rs)
{
	size_t len;
	const char *data = ml_writer_mem_data(w, &len);
	rs->status = 200;
	rs->content_type = media_names[m];
	if (m != MEDIA_JSON)
		return ml_buf_add(&rs->body, data, len);
	int rc = ml_buf_adds(&rs->body, "{\"predictions\":[");
	for (size_t i = 0; i < len && rc == 0; i++)
		rc = ml_buf_addc(&rs->body, data[i] == '\n' ? (i + 1 < len ? ',' : ']') : data[i]);
	return rc < 0 ? rc : ml_buf_adds(&rs->body, len ? "}\n" : "]}\n");
}

/* 415, 406 or 400 before anything is read: 1 when refused. */
static int refuse(const struct ml_serve_request *rq, enum media in, enum media out, struct ml_serve_response *rs)
{
	if (in == MEDIA_NONE || in == MEDIA_ANY) {
		rs->status = 415;
		ml_buf_printf(&rs->body, "Content-Type %s is not scored: send text/csv, application/json or "
			      "application/jsonlines\n", rq->content_type ? rq->content_type : "(none)");
	} else if (out == MEDIA_NONE) {
		rs->status = 406;
		ml_buf_printf(&rs->body, "Accept %s: the answer can be text/csv, application/json or "
			      "application/jsonlines\n", rq->accept);
	} else if (rq->len == 0) {
		rs->status = 400;
		ml_buf_adds(&rs->body, "POST /invocations: the body is empty\n");
	} else {
		return 0;
	}
	return 1;
}

static void serve_invoke(void *ctx, const struct ml_serve_request *rq, struct ml_serve_response *rs)
{
	struct ml_err err = ML_ERR_INIT;
	enum media in = rq->content_type ? media_of(rq->content_type, strlen(rq->content_type)) : MEDIA_NONE;
	enum media out = accepted(rq->accept, in);
	(void)ctx;
	if (refuse(rq, in, out, rs))
		return;
	struct ensemble *e = acquire();
	struct scoring sc = { .e = e, .label_col = -1, .deadline = rq->deadline };
	struct ml_buf rows;
	struct ml_reader *r = NULL;
	ml_buf_init(&rows, (size_t)S.max_request * 4 + 4096);
	const char *data = rq->body;
	size_t len = rq->len;
	struct ml_writer_opts wo;
	ml_writer_opts_init(&wo);
	wo.format = out == MEDIA_CSV ? ML_FMT_CSV : ML_FMT_NDJSON;
	wo.header = 0;
	int rc = 0;
	if (in != MEDIA_CSV && (rc = json_body(e, rq->body, rq->len, in, &rows, &err)) == 0) {
		data = rows.data ? rows.data : "";
		len = rows.len;
	}
	if (rc == 0 && (!(r = open_body(e, data, len, in, &sc.positional, &err)) ||
			!(sc.w = ml_writer_open_mem(&wo, &err)) || run(&sc, r, "body", &wo, &err) < 0))
		rc = -1;
	if (rc == 0 && respond(sc.w, out, rs) < 0) {
		ml_buf_reset(&rs->body);
		ml_err_set(&err, ML_ERR_INTERNAL, "out of memory for the response");
		rc = -1;
	}
	if (rc < 0) {
		rs->status = http_status(&err);
		rs->content_type = "text/plain; charset=utf-8";
		ml_buf_reset(&rs->body);
		ml_buf_printf(&rs->body, "%s\n", err.msg);
		if (rs->status >= 500)
			ml_error("%s", err.msg);
	}
	ml_writer_close(sc.w, 0, NULL);
	ml_reader_close(r);
	release_scoring(&sc);
	ml_buf_release(&rows);
	release(e);
}

static int serve(struct ensemble *e, struct ml_err *err)
{
	struct ml_capture *cap = NULL;
	if (S.capture && !(cap = ml_capture_open(S.capture, S.capture_percent, err))) {
		ensemble_free(e);
		return -1;
	}
	Srv.current = e;
	ml_progress_set_mode(0);		/* no progress line per request */
	ml_set_threads((long)ml_threads());	/* counted once, not per request */
	const struct ml_serve_opts o = { S.serve, (size_t)S.max_request, S.request_timeout, ml_threads(), cap };
	const struct ml_serve_ops ops = { serve_invoke, serve_reload };
	int rc = ml_serve_run(&o, &ops, NULL, err);
	if (ml_capture_close(cap, rc < 0 ? NULL : err) < 0)
		rc = -1;
	release(Srv.current);
	return rc;
}

/* ---- the command ---- */

static int parse_options(int noperands, struct ml_err *err)
{
	if (S.serve && noperands)
		return ml_err_set(err, ML_ERR_USAGE, "--serve answers requests; it reads no FILE operands");
	if (S.serve && (S.evaluate || S.output))
		return ml_err_set(err, ML_ERR_USAGE, "--serve answers requests: --%s does not apply",
				  S.evaluate ? "evaluate" : "output");
	if (S.join_source && S.keep.n)
		return ml_err_set(err, ML_ERR_USAGE, "--keep with --join-source input: the joined input has every column");
	if (!(S.request_timeout > 0))
		return ml_err_set(err, ML_ERR_USAGE, "--request-timeout must be more than 0 seconds");
	if (!(S.capture_percent >= 0 && S.capture_percent <= 100))
		return ml_err_set(err, ML_ERR_USAGE, "--capture-percent must be 0 to 100, not %g", S.capture_percent);
	if (parse_combine(err) < 0)
		return -1;
	if (S.input_filter) {
		if (ml_jpath_parse(S.input_filter, &C.in, err) < 0)
			return ml_err_prefix(err, "--input-filter");
		C.have_in = !ml_jpath_is_all(&C.in);
	}
	if (S.output_filter) {
		if (ml_jpath_parse(S.output_filter, &C.out, err) < 0)
			return ml_err_prefix(err, "--output-filter");
		C.have_out = !ml_jpath_is_all(&C.out);
	}
	return 0;
}

static int cmd_score(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	ml_stream_cli_init(&stream);
	const struct ml_opt *tables[] = { score_opts, ml_stream_cli_options(&stream), NULL };
	static const char summary[] =
		"Predict for every row of FILEs or standard input with the model's own recipe,\n"
		"writing the --keep columns and a prediction column, in the input's order;\n"
		"or answer HTTP requests as a SageMaker inference container (--serve).";
	static const char epilog[] = "Examples:\n"
				     "  ml-score -m model.json --keep id < cars.csv > predictions.csv\n"
				     "  ml-score -m model.json --evaluate price < test.csv > /dev/null\n"
				     "  ml-score -m model.json --input-filter '$[1:]' --join-source input < ids.csv\n"
				     "  ml-score -m a.json -m b.json --combine max --serve 127.0.0.1:8080 --capture cap/\n";
	const struct ml_cli cli = { .tool = "ml-score", .section = "score",
				    .synopsis = "ml-score [OPTION]... -m MODEL [FILE]...\n"
						"ml-score [OPTION]... -m MODEL --serve ADDR:PORT",
				    .summary = summary, .tables = tables, .epilog = epilog };
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	if (S.models.n == 0)
		return ml_usage_error("a model is required: -m MODEL");
	if (S.models.n > MAX_MODELS)
		return ml_usage_error("at most %d models (-m), not %zu", MAX_MODELS, S.models.n);
	int rc = 0;
	struct ensemble *e = NULL;
	if (parse_options(argc - first, &err) < 0 || !(e = ensemble_load(&err)))
		rc = ml_fail(&err);
	else if (S.serve)
		rc = serve(e, &err) < 0 ? ml_fail(&err) : 0;
	else
		rc = score_files(e, argv + first, (size_t)(argc - first), &err) < 0 ? ml_fail(&err) : 0;
	ml_jpath_release(&C.in);
	ml_jpath_release(&C.out);
	return rc;
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_score);
}
