/*
 * ml-score - the hot path: stream rows through a model's recipe and trees or
 * weights; batch transform, ensembles, data capture, an HTTP endpoint.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/cli.h"
#include "mlpipe/log.h"
#include "mlpipe/model.h"
#include "mlpipe/num.h"
#include "mlpipe/quality.h"
#include "mlpipe/stream.h"

static struct ml_stream_cli stream;
static struct {
	struct ml_strlist models, keep, features;
	int combine, each, join_source, allow_missing;
	char *input_filter, *output_filter, *capture, *serve, *evaluate, *output;
} S;

static const struct ml_opt score_opts[] = {
	{ "model", 'm', ML_OPT_LIST, &S.models, "FILE", "model artifact (repeat for an ensemble)", NULL,
	  ML_OPTF_NO_SPLIT },
	{ "combine", 0, ML_OPT_CHOICE, &S.combine, "HOW",
	  "several models' predictions into one (default mean)", "mean|max|min|median|sum" },
	{ "each", 0, ML_OPT_FLAG, &S.each, NULL,
	  "also write each model's prediction (prediction_1, ...) before the combined one" },
	{ "keep", 0, ML_OPT_LIST, &S.keep, "COLS", "copy these input columns to the output (ids)" },
	{ "input-filter", 0, ML_OPT_STRING, &S.input_filter, "EXPR",
	  "columns the model sees, e.g. '$[1:]' or 'mileage,make' (SageMaker InputFilter)" },
	{ "join-source", 0, ML_OPT_CHOICE, &S.join_source, "WHAT",
	  "none (default) or input: write each input row with its prediction", "none|input" },
	{ "output-filter", 0, ML_OPT_STRING, &S.output_filter, "EXPR",
	  "columns written, e.g. 'id,prediction' (SageMaker OutputFilter)" },
	{ "capture", 0, ML_OPT_STRING, &S.capture, "DIR", "log requests and predictions (SageMaker capture JSONL)" },
	{ "serve", 0, ML_OPT_STRING, &S.serve, "ADDR",
	  "serve GET /ping and POST /invocations on ADDR (e.g. 127.0.0.1:8080)" },
	{ "evaluate", 0, ML_OPT_STRING, &S.evaluate, "COL", "report RMSE/MAE/R2 against this label column" },
	{ "output", 'o', ML_OPT_STRING, &S.output, "FILE", "write here instead of standard output" },
	{ "allow-missing-columns", 0, ML_OPT_FLAG, &S.allow_missing, NULL,
	  "a feature column absent from the input is missing in every row, not an error" },
	{ "features", 0, ML_OPT_LIST, &S.features, "COLS",
	  "an XGBoost model's feature columns, in training order (when it has no names, or to rename them)" },
	ML_OPT_END,
};

#define MAX_MODELS 64

/* One model of the ensemble, and where its input columns are in the batch. */
struct member {
	struct ml_model *model;
	size_t *cols;			/* recipe input column j -> batch column */
	struct ml_batch_col *view;	/* the batch's columns in the recipe's order */
	double *pred;
};

/* What one batch needs while its rows are written (read-only across threads). */
struct scoring {
	struct member m[MAX_MODELS];
	size_t nmodels, nfeatures_max;
	struct ml_writer *w;
	long *keep_cols;
	long label_col;		/* --evaluate: batch column of the label, or -1 */
	double *x, *pred;	/* pred: the combined prediction */
	size_t cap;
	struct ml_batch b;
	struct ml_pairs evaluated;	/* --evaluate: label and prediction of every row */
};

enum combine { COMBINE_MEAN, COMBINE_MAX, COMBINE_MIN, COMBINE_MEDIAN, COMBINE_SUM };

/* f(p[0], ..., p[n-1]); a missing prediction makes the result missing. */
static double combine(double *p, size_t n)
{
	double acc = p[0];
	for (size_t i = 0; i < n; i++)
		if (isnan(p[i]))
			return NAN;
	switch ((enum combine)S.combine) {
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
	case COMBINE_SUM:
	case COMBINE_MEAN:
		for (size_t i = 1; i < n; i++)
			acc += p[i];
		return S.combine == COMBINE_SUM ? acc : acc / (double)n;
	}
	return NAN;
}

static int write_scored(struct ml_writer *w, size_t begin, size_t end, void *ctx, struct ml_err *err)
{
	const struct scoring *sc = ctx;
	for (size_t r = begin; r < end; r++) {
		for (size_t k = 0; k < S.keep.n; k++)
			if (ml_writer_cell(w, &sc->b, (size_t)sc->keep_cols[k], r, err) < 0)
				return -1;
		for (size_t i = 0; S.each && sc->nmodels > 1 && i < sc->nmodels; i++)
			if (ml_writer_num(w, sc->m[i].pred[r], err) < 0)
				return -1;
		if (ml_writer_num(w, sc->pred[r], err) < 0 || ml_writer_end_row(w, err) < 0)
			return -1;
	}
	return 0;
}

static int reserve_rows(struct scoring *sc, size_t n, struct ml_err *err)
{
	if (n <= sc->cap)
		return 0;
	sc->cap = n;
	free(sc->x);
	free(sc->pred);
	sc->x = ml_calloc(n * (sc->nfeatures_max ? sc->nfeatures_max : 1), sizeof *sc->x, err);
	sc->pred = ml_calloc(n, sizeof *sc->pred, err);
	for (size_t i = 0; i < sc->nmodels; i++) {
		free(sc->m[i].pred);
		sc->m[i].pred = ml_calloc(n, sizeof(double), err);
		if (!sc->m[i].pred)
			return -1;
	}
	return sc->x && sc->pred ? 0 : -1;
}

/* --evaluate: keep every label and prediction for the metrics at the end. */
static int remember(struct scoring *sc, size_t n, struct ml_err *err)
{
	for (size_t r = 0; sc->label_col >= 0 && r < n; r++)
		if (ml_pairs_add(&sc->evaluated, sc->b.cols[sc->label_col].num[r], sc->pred[r], err) < 0)
			return -1;
	return 0;
}

/* One model over the batch: its recipe sees its own columns, in its own order. */
static int predict_member(struct scoring *sc, struct member *mb, size_t n, struct ml_err *err)
{
	const struct ml_recipe *rc = mb->model->recipe;
	size_t ncols = ml_recipe_input_schema(rc)->n;
	for (size_t j = 0; j < ncols; j++)
		mb->view[j] = sc->b.cols[mb->cols[j]];
	struct ml_batch view = sc->b;
	view.cols = mb->view;
	view.ncols = ncols;
	struct ml_matrix x = { n, ml_recipe_nfeatures(rc), sc->x };
	if (ml_recipe_apply(rc, &view, sc->x, NULL, err) < 0)
		return -1;
	return ml_model_predict(mb->model, &x, mb->pred, err);
}

static int score_batches(struct ml_reader *r, struct scoring *sc, struct ml_err *err)
{
	long n;
	double p[MAX_MODELS];
	while ((n = ml_reader_read_batch(r, &sc->b, err)) > 0) {
		if (reserve_rows(sc, (size_t)n, err) < 0)
			return -1;
		for (size_t i = 0; i < sc->nmodels; i++)
			if (predict_member(sc, &sc->m[i], (size_t)n, err) < 0)
				return -1;
		for (size_t row = 0; row < (size_t)n; row++) {
			for (size_t i = 0; i < sc->nmodels; i++)
				p[i] = sc->m[i].pred[row];
			sc->pred[row] = combine(p, sc->nmodels);
		}
		if (ml_writer_rows_parallel(sc->w, (size_t)n, write_scored, sc, err) < 0 ||
		    remember(sc, (size_t)n, err) < 0)
			return -1;
	}
	return n < 0 ? -1 : 0;
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

/*
 * The batch schema: every model's input columns once (by name; two models
 * may not read one column as different types), then the --keep columns.
 */
static int union_schema(struct scoring *sc, struct ml_schema *u, struct ml_err *err)
{
	if (ml_schema_copy(u, ml_recipe_input_schema(sc->m[0].model->recipe), err) < 0)
		return -1;
	for (size_t i = 0; i < sc->nmodels; i++) {
		const struct ml_schema *in = ml_recipe_input_schema(sc->m[i].model->recipe);
		sc->m[i].cols = ml_calloc(in->n + 1, sizeof *sc->m[i].cols, err);
		sc->m[i].view = ml_calloc(in->n + 1, sizeof *sc->m[i].view, err);
		if (!sc->m[i].cols || !sc->m[i].view)
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
			sc->m[i].cols[j] = (size_t)(at >= 0 ? at : (long)u->n - 1);
		}
		size_t nf = ml_recipe_nfeatures(sc->m[i].model->recipe);
		sc->nfeatures_max = nf > sc->nfeatures_max ? nf : sc->nfeatures_max;
	}
	return ml_schema_add_kept(u, S.keep.items, S.keep.n, sc->keep_cols, err);
}

/* --evaluate names the label every model was trained on: it is then read as a number. */
static int label_column(const struct scoring *sc, const struct ml_schema *u, struct ml_reader *r,
			const char *name, long *col, struct ml_err *err)
{
	*col = -1;
	if (!S.evaluate)
		return 0;
	for (size_t i = 0; i < sc->nmodels; i++) {
		const char *target = ml_recipe_target(sc->m[i].model->recipe);
		if (!target || strcmp(target, S.evaluate) != 0)
			return ml_err_set(err, ML_ERR_USAGE, "--evaluate %s: %s was trained on %s%s%s", S.evaluate,
					  S.models.items[i], target ? "\"" : "no label", target ? target : "",
					  target ? "\"" : "");
	}
	if (ml_reader_find_column(r, S.evaluate) < 0)
		return ml_err_set(err, ML_ERR_DATA, "%s: no column \"%s\" to evaluate against", name, S.evaluate);
	*col = ml_schema_find(u, S.evaluate);
	return 0;
}

static int open_output(struct scoring *sc, const struct ml_reader *r, struct ml_err *err)
{
	struct ml_writer_opts wo;
	if (ml_stream_cli_writer_opts(&stream, ml_reader_format(r), &wo, err) < 0 ||
	    !(sc->w = ml_writer_open(S.output ? S.output : "-", &wo, err)))
		return -1;
	size_t n = 0, each = S.each && sc->nmodels > 1 ? sc->nmodels : 0;
	const char **names = ml_calloc(S.keep.n + each + 1, sizeof *names, err);
	char (*each_names)[32] = ml_calloc(each + 1, sizeof *each_names, err);
	int rc = -1;
	if (names && each_names) {
		for (size_t k = 0; k < S.keep.n; k++)
			names[n++] = S.keep.items[k];
		for (size_t i = 0; i < each; i++) {
			snprintf(each_names[i], sizeof each_names[i], "prediction_%zu", i + 1);
			names[n++] = each_names[i];
		}
		names[n++] = "prediction";
		rc = ml_writer_set_columns(sc->w, names, n, err);
	}
	free(names);
	free(each_names);
	return rc;
}

static int check_inputs(const struct scoring *sc, const struct ml_reader *r, const char *name,
			struct ml_err *err)
{
	for (size_t i = 0; i < sc->nmodels; i++)
		if (ml_recipe_check_input(sc->m[i].model->recipe, r, &S.keep, name, S.allow_missing, err) < 0)
			return -1;
	return 0;
}

static void release_scoring(struct scoring *sc)
{
	for (size_t i = 0; i < sc->nmodels; i++) {
		ml_model_free(sc->m[i].model);
		free(sc->m[i].cols);
		free(sc->m[i].view);
		free(sc->m[i].pred);
	}
	ml_batch_release(&sc->b);
	free(sc->keep_cols);
	free(sc->x);
	free(sc->pred);
	ml_pairs_release(&sc->evaluated);
}

static int score(struct scoring *sc, struct ml_reader *r, const char *name, struct ml_err *err)
{
	struct ml_schema u;
	ml_schema_init(&u);
	ml_batch_init(&sc->b);
	int rc = -1;
	sc->label_col = -1;
	sc->keep_cols = ml_calloc(S.keep.n + 1, sizeof *sc->keep_cols, err);
	if (sc->keep_cols && check_inputs(sc, r, name, err) == 0 && union_schema(sc, &u, err) == 0 &&
	    label_column(sc, &u, r, name, &sc->label_col, err) == 0 && ml_reader_bind(r, &u, 1, err) == 0 &&
	    open_output(sc, r, err) == 0)
		rc = score_batches(r, sc, err);
	if (sc->w) {
		ml_stream_log_summary(r, sc->w);
		if (ml_writer_close(sc->w, rc == 0, rc < 0 ? NULL : err) < 0)
			rc = -1;
	}
	if (rc == 0 && sc->label_col >= 0)
		report_evaluation(sc);
	ml_schema_release(&u);
	return rc;
}

static int load_models(struct scoring *sc, struct ml_err *err)
{
	if (S.models.n > MAX_MODELS)
		return ml_err_set(err, ML_ERR_USAGE, "at most %d models (-m), not %zu", MAX_MODELS, S.models.n);
	for (size_t i = 0; i < S.models.n; i++) {
		if (!(sc->m[i].model = ml_model_load_features(S.models.items[i], &S.features, err)))
			return -1;
		sc->nmodels++;
	}
	return 0;
}

static int unsupported_options(void)
{
	if (S.serve)
		return ml_not_built_yet("the HTTP endpoint (--serve)");
	if (S.capture)
		return ml_not_built_yet("data capture (--capture)");
	if (S.input_filter || S.output_filter || S.join_source)
		return ml_not_built_yet("batch-transform filters (--input-filter, --output-filter, --join-source)");
	return 0;
}

static int cmd_score(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	ml_stream_cli_init(&stream);
	const struct ml_opt *tables[] = { score_opts, ml_stream_cli_options(&stream), NULL };
	static const char summary[] =
		"Predict for every row of FILEs or standard input with the model's own recipe,\n"
		"writing the --keep columns and a prediction column, in the input's order.";
	static const char epilog[] = "Examples:\n"
				     "  ml-score -m model.json --keep id < cars.csv > predictions.csv\n"
				     "  ml-score -m model.json --evaluate price < test.csv > /dev/null\n";
	const struct ml_cli cli = { .tool = "ml-score", .section = "score",
				    .synopsis = "ml-score [OPTION]... -m MODEL [FILE]...",
				    .summary = summary, .tables = tables, .epilog = epilog };
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	if (S.models.n == 0)
		return ml_usage_error("a model is required: -m MODEL");
	int rc = unsupported_options();
	if (rc)
		return rc;
	struct scoring sc = { 0 };
	struct ml_reader_opts ro;
	struct ml_reader *r = NULL;
	if (load_models(&sc, &err) < 0 || ml_stream_cli_reader_opts(&stream, &ro, &err) < 0 ||
	    !(r = ml_reader_open((const char *const *)argv + first, (size_t)(argc - first), &ro, &err)) ||
	    score(&sc, r, first < argc ? argv[first] : "<stdin>", &err) < 0)
		rc = ml_fail(&err);
	ml_reader_close(r);
	release_scoring(&sc);
	return rc;
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_score);
}
