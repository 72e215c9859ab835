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
#include "mlpipe/stream.h"

static struct ml_stream_cli stream;
static struct {
	struct ml_strlist models, keep;
	int combine, each, join_source, allow_missing;
	char *input_filter, *output_filter, *capture, *serve, *evaluate, *output;
	long threads;
} S;

static const struct ml_opt score_opts[] = {
	{ "model", 'm', ML_OPT_LIST, &S.models, "FILE", "model artifact (repeat for an ensemble)", NULL,
	  ML_OPTF_NO_SPLIT },
	{ "combine", 0, ML_OPT_CHOICE, &S.combine, "HOW", "combine several models' predictions",
	  "mean|max|min|median|sum" },
	{ "each", 0, ML_OPT_FLAG, &S.each, NULL, "also write each model's prediction" },
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
	{ "threads", 0, ML_OPT_INT, &S.threads, "N", "score batches on N threads, output in input order",
	  NULL, 0, NULL, 0, 1024 },
	{ "output", 'o', ML_OPT_STRING, &S.output, "FILE", "write here instead of standard output" },
	{ "allow-missing-columns", 0, ML_OPT_FLAG, &S.allow_missing, NULL,
	  "a feature column absent from the input is missing in every row, not an error" },
	ML_OPT_END,
};

/* What one batch needs while its rows are written (read-only across threads). */
struct scoring {
	struct ml_model *model;
	struct ml_writer *w;
	long *keep_cols;
	long label_col;		/* --evaluate: batch column of the label, or -1 */
	double *x, *pred, *label;
	size_t cap;
	struct ml_batch b;
	double *all_label, *all_pred;	/* --evaluate: every row, for the metrics */
	size_t nall, allcap;
};

static int write_scored(struct ml_writer *w, size_t begin, size_t end, void *ctx, struct ml_err *err)
{
	const struct scoring *sc = ctx;
	for (size_t r = begin; r < end; r++) {
		for (size_t k = 0; k < S.keep.n; k++)
			if (ml_writer_cell(w, &sc->b, (size_t)sc->keep_cols[k], r, err) < 0)
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
	size_t nf = ml_recipe_nfeatures(sc->model->recipe);
	free(sc->x);
	free(sc->pred);
	sc->cap = n;
	sc->x = ml_calloc(n * (nf ? nf : 1), sizeof *sc->x, err);
	sc->pred = ml_calloc(n, sizeof *sc->pred, err);
	return sc->x && sc->pred ? 0 : -1;
}

/* --evaluate: keep every label and prediction for the metrics at the end. */
static int remember(struct scoring *sc, size_t n, struct ml_err *err)
{
	if (sc->label_col < 0)
		return 0;
	if (sc->nall + n > sc->allcap) {
		size_t cap = sc->allcap ? sc->allcap * 2 : 65536;
		while (cap < sc->nall + n)
			cap *= 2;
		double *l = ml_realloc_array(sc->all_label, cap, sizeof *l, err);
		if (!l)
			return -1;
		sc->all_label = l;
		double *p = ml_realloc_array(sc->all_pred, cap, sizeof *p, err);
		if (!p)
			return -1;
		sc->all_pred = p;
		sc->allcap = cap;
	}
	memcpy(sc->all_label + sc->nall, sc->b.cols[sc->label_col].num, n * sizeof(double));
	memcpy(sc->all_pred + sc->nall, sc->pred, n * sizeof(double));
	sc->nall += n;
	return 0;
}

static int score_batches(struct ml_reader *r, struct scoring *sc, struct ml_err *err)
{
	long n;
	size_t nf = ml_recipe_nfeatures(sc->model->recipe);
	while ((n = ml_reader_read_batch(r, &sc->b, err)) > 0) {
		struct ml_matrix x = { (size_t)n, nf, NULL };
		if (reserve_rows(sc, (size_t)n, err) < 0)
			return -1;
		x.v = sc->x;
		if (ml_recipe_apply(sc->model->recipe, &sc->b, sc->x, NULL, err) < 0 ||
		    ml_model_predict(sc->model, &x, sc->pred, err) < 0 ||
		    ml_writer_rows_parallel(sc->w, (size_t)n, write_scored, sc, err) < 0 || remember(sc, (size_t)n, err) < 0)
			return -1;
	}
	return n < 0 ? -1 : 0;
}

static void report_evaluation(const struct scoring *sc)
{
	struct ml_metrics m;
	ml_metrics_compute(sc->all_label, sc->all_pred, sc->nall, &m);
	json_t *j = ml_metrics_to_json(&m);
	json_object_set_new(j, "event", json_string("evaluation"));
	json_object_set_new(j, "label", json_string(S.evaluate));
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	if (text)
		fprintf(stderr, "%s\n", text);
	free(text);
	json_decref(j);
}

/* --evaluate names the label the model was trained on: it is then read as a number. */
static int label_column(const struct ml_recipe *rc, struct ml_reader *r, const char *name, long *col,
			struct ml_err *err)
{
	*col = -1;
	if (!S.evaluate)
		return 0;
	const char *target = ml_recipe_target(rc);
	if (!target || strcmp(target, S.evaluate) != 0)
		return ml_err_set(err, ML_ERR_USAGE, "--evaluate %s: the model was trained on %s%s%s", S.evaluate,
				  target ? "\"" : "no label", target ? target : "", target ? "\"" : "");
	if (ml_reader_find_column(r, target) < 0)
		return ml_err_set(err, ML_ERR_DATA, "%s: no column \"%s\" to evaluate against", name, target);
	*col = ml_schema_find(ml_recipe_input_schema(rc), target);
	return 0;
}

static int open_output(struct scoring *sc, const struct ml_reader *r, struct ml_err *err)
{
	struct ml_writer_opts wo;
	if (ml_stream_cli_writer_opts(&stream, ml_reader_format(r), &wo, err) < 0 ||
	    !(sc->w = ml_writer_open(S.output ? S.output : "-", &wo, err)))
		return -1;
	const char **names = ml_calloc(S.keep.n + 1, sizeof *names, err);
	if (!names)
		return -1;
	for (size_t k = 0; k < S.keep.n; k++)
		names[k] = S.keep.items[k];
	names[S.keep.n] = "prediction";
	int rc = ml_writer_set_columns(sc->w, names, S.keep.n + 1, err);
	free(names);
	return rc;
}

static int score(struct ml_model *model, struct ml_reader *r, const char *name, struct ml_err *err)
{
	struct scoring sc = { .model = model, .label_col = -1 };
	struct ml_schema s;
	ml_schema_init(&s);
	ml_batch_init(&sc.b);
	int rc = -1;
	sc.keep_cols = ml_calloc(S.keep.n + 1, sizeof *sc.keep_cols, err);
	if (sc.keep_cols && label_column(model->recipe, r, name, &sc.label_col, err) == 0 &&
	    ml_recipe_check_input(model->recipe, r, &S.keep, name, S.allow_missing, err) == 0 &&
	    ml_recipe_bind_schema(model->recipe, &S.keep, &s, sc.keep_cols, err) == 0 &&
	    ml_reader_bind(r, &s, 1, err) == 0 && open_output(&sc, r, err) == 0)
		rc = score_batches(r, &sc, err);
	if (sc.w) {
		ml_stream_log_summary(r, sc.w);
		if (ml_writer_close(sc.w, rc == 0, rc < 0 ? NULL : err) < 0)
			rc = -1;
	}
	if (rc == 0 && sc.label_col >= 0)
		report_evaluation(&sc);
	ml_batch_release(&sc.b);
	ml_schema_release(&s);
	free(sc.keep_cols);
	free(sc.x);
	free(sc.pred);
	free(sc.all_label);
	free(sc.all_pred);
	return rc;
}

static int unsupported_options(void)
{
	if (S.serve)
		return ml_not_built_yet("the HTTP endpoint (--serve)");
	if (S.capture)
		return ml_not_built_yet("data capture (--capture)");
	if (S.models.n > 1 || S.combine || S.each)
		return ml_not_built_yet("scoring with several models (--combine, --each)");
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
	struct ml_model *model = ml_model_load(S.models.items[0], &err);
	if (!model)
		return ml_fail(&err);
	struct ml_reader_opts ro;
	struct ml_reader *r = NULL;
	if (ml_stream_cli_reader_opts(&stream, &ro, &err) < 0 ||
	    !(r = ml_reader_open((const char *const *)argv + first, (size_t)(argc - first), &ro, &err)) ||
	    score(model, r, first < argc ? argv[first] : "<stdin>", &err) < 0)
		rc = ml_fail(&err);
	ml_reader_close(r);
	ml_model_free(model);
	return rc;
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_score);
}
