/*
 * ml-drift - compare new data (or new predictions with labels) with a
 * baseline; report violations and exit 1 when drift is found.
 */
#include "mlpipe/cli.h"
#include "mlpipe/stream.h"

static struct ml_stream_cli stream;
static struct {
	char *baseline, *output, *bookmark, *report, *ground_truth, *join_on, *label, *prediction;
	int model_quality, merge;
	double threshold;
} D = { .threshold = 0.1 };

static const struct ml_opt drift_opts[] = {
	{ "baseline", 'b', ML_OPT_STRING, &D.baseline, "DIR",
	  "the directory with statistics.json and constraints.json" },
	{ "output", 'o', ML_OPT_STRING, &D.output, "FILE",
	  "write constraint_violations.json here (default: standard output)" },
	{ "threshold", 0, ML_OPT_DOUBLE, &D.threshold, "X",
	  "distribution distance above which a column has drifted (default 0.1)" },
	{ "bookmark", 0, ML_OPT_STRING, &D.bookmark, "FILE",
	  "remember what was processed; the next run reads only new data" },
	{ "merge", 0, ML_OPT_FLAG, &D.merge, NULL, "merge this run's statistics into the bookmark's" },
	{ "report", 0, ML_OPT_STRING, &D.report, "FILE.html", "write an HTML drift report with plots" },
	{ "model-quality", 0, ML_OPT_FLAG, &D.model_quality, NULL, "check model quality, not data" },
	{ "label", 0, ML_OPT_STRING, &D.label, "COL", "the true value column" },
	{ "prediction", 0, ML_OPT_STRING, &D.prediction, "COL", "the predicted value column" },
	{ "ground-truth", 0, ML_OPT_STRING, &D.ground_truth, "FILE", "labels arriving separately" },
	{ "join-on", 0, ML_OPT_STRING, &D.join_on, "COL", "key joining --ground-truth to predictions" },
	ML_OPT_END,
};

static const char exit_status[] = "  0   no drift and no constraint violations\n"
				  "  1   drift or violations found (listed in the output)\n";

static int cmd_drift(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	ml_stream_cli_init(&stream);
	const struct ml_opt *tables[] = { drift_opts, ml_stream_cli_options(&stream), NULL };
	static const char summary[] =
		"Compare data with an ml-baseline baseline: data drift per column, constraint\n"
		"violations, model quality drift, in SageMaker Model Monitor's format.";
	const struct ml_cli cli = { .tool = "ml-drift", .section = "drift",
				    .synopsis = "ml-drift [OPTION]... --baseline DIR [FILE]...",
				    .summary = summary, .tables = tables,
				    .exit_status = exit_status };
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	if (!D.baseline)
		return ml_usage_error("a baseline is required: --baseline DIR");
	return ml_not_built_yet("drift detection");
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_drift);
}
