/*
 * ml-drift - compare new data (or new predictions with labels) with a
 * baseline; report violations and exit 1 when drift is found.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/artifact.h"
#include "mlpipe/cli.h"
#include "mlpipe/drift.h"
#include "mlpipe/log.h"
#include "mlpipe/quality.h"
#include "mlpipe/stream.h"
#include "mlpipe/uri.h"

static struct ml_stream_cli stream;
static struct {
	char *baseline, *output, *bookmark, *report, *ground_truth, *join_on, *label, *prediction;
	int model_quality, merge;
	double threshold, numeric_threshold, categorical_threshold;
	int numeric_method, categorical_method;
} D = { .threshold = NAN, .numeric_threshold = NAN, .categorical_threshold = NAN };

/* The choices of --numeric-method and --categorical-method, in order. */
static const enum ml_drift_method numeric_methods[] = { ML_DRIFT_LINF, ML_DRIFT_PSI, ML_DRIFT_KS,
							ML_DRIFT_WASSERSTEIN, ML_DRIFT_JS };
static const enum ml_drift_method categorical_methods[] = { ML_DRIFT_LINF, ML_DRIFT_PSI, ML_DRIFT_JS,
							    ML_DRIFT_CHI2 };

static const struct ml_opt drift_opts[] = {
	{ "baseline", 'b', ML_OPT_STRING, &D.baseline, "DIR",
	  "the directory with statistics.json and constraints.json" },
	{ "output-dir", 'o', ML_OPT_STRING, &D.output, "DIR",
	  "write constraint_violations.json here (default: the current directory)" },
	{ "threshold", 0, ML_OPT_DOUBLE, &D.threshold, "X",
	  "distribution distance above which a column has drifted (default: the baseline's, 0.1)" },
	{ "numeric-method", 0, ML_OPT_CHOICE, &D.numeric_method, "M",
	  "distance for numeric columns: linf (default), psi, ks, wasserstein, js", "linf|psi|ks|wasserstein|js" },
	{ "numeric-threshold", 0, ML_OPT_DOUBLE, &D.numeric_threshold, "X",
	  "its threshold (defaults: psi 0.2, ks p-value 0.05, wasserstein 0.1 std_dev, js 0.1)" },
	{ "categorical-method", 0, ML_OPT_CHOICE, &D.categorical_method, "M",
	  "distance for categorical columns: linf (default), psi, js, chi2", "linf|psi|js|chi2" },
	{ "categorical-threshold", 0, ML_OPT_DOUBLE, &D.categorical_threshold, "X",
	  "its threshold (defaults: psi 0.2, js 0.1, chi2 p-value 0.05)" },
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

static json_t *load_baseline_file(const char *dir, const char *name, struct ml_err *err)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	json_t *doc = ml_json_load(path, err);
	if (doc && !json_is_object(doc)) {
		ml_err_set(err, ML_ERR_DATA, "%s: expected a JSON object", path);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static int write_violations(json_t *violations, struct ml_err *err)
{
	const char *dir = D.output ? D.output : ".";
	char path[4096];
	snprintf(path, sizeof path, "%s/constraint_violations.json", dir);
	json_t *doc = json_pack("{s:O}", "violations", violations);
	int rc = !doc ? ml_err_set(err, ML_ERR_INTERNAL, "out of memory")
	       : ml_ensure_dir(dir, err) < 0 ? -1
					     : ml_json_save(doc, path, 15, err);
	json_decref(doc);
	return rc;
}

/* One NDJSON line per feature on stdout, for dashboards and the drift history. */
static void print_records(json_t *records, json_t *inputs)
{
	char now[32];
	ml_utc_now_iso8601(now);
	size_t i;
	json_t *r;
	json_array_foreach(records, i, r) {
		json_object_set_new(r, "run_time", json_string(now));
		json_object_set(r, "inputs", inputs);
		char *line = json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(15));
		if (line)
			printf("%s\n", line);
		free(line);
	}
}

static int check_drift(struct ml_drift *d, struct ml_reader *r, json_t *inputs, struct ml_err *err)
{
	json_t *violations = NULL, *records = NULL;
	int rc = -1;
	if (ml_drift_read(d, r, err) == 0 && ml_drift_results(d, &violations, &records, err) == 0 &&
	    write_violations(violations, err) == 0) {
		print_records(records, inputs);
		size_t n = json_array_size(violations);
		if (n)
			ml_warn("%zu constraint violation%s (see constraint_violations.json)", n, n == 1 ? "" : "s");
		rc = n ? ML_EXIT_FOUND : 0;
	}
	json_decref(violations);
	json_decref(records);
	return rc;
}

/* Model drift: the current metrics against the model-quality baseline's constraints. */
static int check_quality(int argc, char **argv, int first)
{
	struct ml_err err = ML_ERR_INIT;
	const char *name = first < argc ? argv[first] : "<stdin>";
	json_t *cons = load_baseline_file(D.baseline, "constraints.json", &err);
	json_t *violations = json_array();
	struct ml_reader_opts ro;
	struct ml_reader *r = NULL;
	struct ml_pairs p = { 0 };
	int rc = 0;
	if (!cons || ml_stream_cli_reader_opts(&stream, &ro, &err) < 0 ||
	    !(r = ml_reader_open((const char *const *)argv + first, (size_t)(argc - first), &ro, &err)) ||
	    ml_pairs_read(r, D.label, D.prediction, name, &p, &err) < 0 ||
	    ml_quality_check(&p, cons, D.baseline, violations, &err) < 0 || write_violations(violations, &err) < 0) {
		rc = ml_fail(&err);
	} else {
		json_t *stats = ml_quality_statistics(&p);
		char *line = stats ? json_dumps(stats, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
		if (line)
			printf("%s\n", line);
		free(line);
		json_decref(stats);
		size_t n = json_array_size(violations);
		if (n)
			ml_warn("%zu model-quality violation%s (see constraint_violations.json)", n, n == 1 ? "" : "s");
		rc = n ? ML_EXIT_FOUND : 0;
	}
	ml_pairs_release(&p);
	ml_reader_close(r);
	json_decref(violations);
	json_decref(cons);
	return rc;
}

static int unsupported_options(void)
{
	if (D.bookmark)
		return ml_not_built_yet("incremental runs (--bookmark)");
	if (D.merge)
		return ml_not_built_yet("--merge");
	if (D.report)
		return ml_not_built_yet("the HTML drift report (--report)");
	if (D.ground_truth || D.join_on)
		return ml_not_built_yet("labels from a separate file (--ground-truth, --join-on)");
	if (D.model_quality && (!D.label || !D.prediction))
		return ml_usage_error("--model-quality needs --label COL and --prediction COL");
	return 0;
}

static int cmd_drift(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	ml_stream_cli_init(&stream);
	const struct ml_opt *tables[] = { drift_opts, ml_stream_cli_options(&stream), NULL };
	static const char summary[] =
		"Compare data with an ml-baseline (or SageMaker Model Monitor) baseline: data\n"
		"types, completeness, distribution drift, missing and extra columns, category\n"
		"domains. Violations go to DIR/constraint_violations.json, one drift record per\n"
		"feature to standard output as NDJSON.";
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
	int rc = unsupported_options();
	if (rc)
		return rc;
	if (D.model_quality)
		return check_quality(argc, argv, first);
	json_t *stats = load_baseline_file(D.baseline, "statistics.json", &err);
	json_t *cons = stats ? load_baseline_file(D.baseline, "constraints.json", &err) : NULL;
	struct ml_drift *d = cons ? ml_drift_new(stats, cons, D.baseline, &err) : NULL;
	json_t *inputs = json_array();
	for (int i = first; i < argc; i++)
		json_array_append_new(inputs, json_string(argv[i]));
	if (first == argc)
		json_array_append_new(inputs, json_string("-"));
	struct ml_reader_opts ro;
	struct ml_reader *r = NULL;
	if (d && !isnan(D.threshold))
		ml_drift_set_threshold(d, D.threshold);
	if (!d || ml_drift_set_method(d, 1, numeric_methods[D.numeric_method], D.numeric_threshold, &err) < 0 ||
	    ml_drift_set_method(d, 0, categorical_methods[D.categorical_method], D.categorical_threshold, &err) < 0 || ml_stream_cli_reader_opts(&stream, &ro, &err) < 0 ||
	    !(r = ml_reader_open((const char *const *)argv + first, (size_t)(argc - first), &ro, &err)) ||
	    (rc = check_drift(d, r, inputs, &err)) < 0)
		rc = ml_fail(&err);
	ml_reader_close(r);
	ml_drift_free(d);
	json_decref(inputs);
	json_decref(stats);
	json_decref(cons);
	return rc;
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_drift);
}
