/*
 * ml-baseline - statistics and constraints of training data, and of model
 * quality, in SageMaker Model Monitor's formats.
 */
#include "mlpipe/cli.h"
#include "mlpipe/stream.h"

static struct ml_stream_cli stream;
static struct {
	char *output_dir, *schema, *label, *prediction, *ground_truth, *join_on;
	int model_quality;
} B = { .output_dir = "." };

static const struct ml_opt baseline_opts[] = {
	{ "output-dir", 'o', ML_OPT_STRING, &B.output_dir, "DIR",
	  "write statistics.json and constraints.json here (default .)" },
	{ "schema", 0, ML_OPT_STRING, &B.schema, "FILE", "column types from this schema or model" },
	{ "model-quality", 0, ML_OPT_FLAG, &B.model_quality, NULL,
	  "baseline model quality (RMSE, MAE, R2...) from --label and --prediction" },
	{ "label", 0, ML_OPT_STRING, &B.label, "COL", "the true value column" },
	{ "prediction", 0, ML_OPT_STRING, &B.prediction, "COL", "the predicted value column" },
	{ "ground-truth", 0, ML_OPT_STRING, &B.ground_truth, "FILE", "labels arriving separately" },
	{ "join-on", 0, ML_OPT_STRING, &B.join_on, "COL", "key joining --ground-truth to predictions" },
	ML_OPT_END,
};

static int cmd_baseline(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	ml_stream_cli_init(&stream);
	const struct ml_opt *tables[] = { baseline_opts, ml_stream_cli_options(&stream), NULL };
	static const char summary[] =
		"Compute the baseline that ml-drift compares new data with: SageMaker Model\n"
		"Monitor statistics.json and constraints.json.";
	const struct ml_cli cli = { .tool = "ml-baseline", .section = "baseline",
				    .synopsis = "ml-baseline [OPTION]... [FILE]...",
				    .summary = summary, .tables = tables };
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	return ml_not_built_yet(B.model_quality ? "the model-quality baseline" : "the data baseline");
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_baseline);
}
