/*
 * ml-score - the hot path: stream rows through a model's recipe and trees or
 * weights; batch transform, ensembles, data capture, an HTTP endpoint.
 */
#include "mlpipe/cli.h"
#include "mlpipe/stream.h"

static struct ml_stream_cli stream;
static struct {
	struct ml_strlist models, keep;
	int combine, each, join_source;
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
	ML_OPT_END,
};

static int cmd_score(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	ml_stream_cli_init(&stream);
	const struct ml_opt *tables[] = { score_opts, ml_stream_cli_options(&stream), NULL };
	static const char summary[] =
		"Predict for every row of FILEs or standard input with the model's own recipe,\n"
		"writing a prediction column (and --keep columns) in the input's order.";
	static const char epilog[] = "Examples:\n"
				     "  ml-score -m model.json --keep id < cars.csv > predictions.csv\n"
				     "  ml-score -m a.json -m b.json --combine max < cars.csv\n";
	const struct ml_cli cli = { .tool = "ml-score", .section = "score",
				    .synopsis = "ml-score [OPTION]... -m MODEL [FILE]...",
				    .summary = summary, .tables = tables, .epilog = epilog };
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	if (S.models.n == 0)
		return ml_usage_error("a model is required: -m MODEL");
	return ml_not_built_yet(S.serve ? "the HTTP endpoint (--serve)" : "scoring");
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_score);
}
