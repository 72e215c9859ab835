/*
 * ml-baseline - statistics and constraints of training data, and of model
 * quality, in SageMaker Model Monitor's formats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/artifact.h"
#include "mlpipe/baseline.h"
#include "mlpipe/cli.h"
#include "mlpipe/log.h"
#include "mlpipe/model.h"
#include "mlpipe/quality.h"
#include "mlpipe/stream.h"
#include "mlpipe/truth.h"
#include "mlpipe/uri.h"

static struct ml_stream_cli stream;
static struct {
	char *output_dir, *schema, *label, *prediction, *ground_truth, *join_on;
	int model_quality, merge;
} B = { .output_dir = "." };

static const struct ml_opt baseline_opts[] = {
	{ "output-dir", 'o', ML_OPT_STRING, &B.output_dir, "DIR",
	  "write statistics.json and constraints.json here (default .)" },
	{ "schema", 0, ML_OPT_STRING, &B.schema, "FILE",
	  "column types from this recipe or model (default: inferred from the first 10,000 rows)" },
	{ "merge", 0, ML_OPT_FLAG, &B.merge, NULL,
	  "the operands are baseline directories (of shards): write the baseline of them all" },
	{ "model-quality", 0, ML_OPT_FLAG, &B.model_quality, NULL,
	  "baseline model quality (RMSE, MAE, R2...) from --label and --prediction" },
	{ "label", 0, ML_OPT_STRING, &B.label, "COL", "the true value column" },
	{ "prediction", 0, ML_OPT_STRING, &B.prediction, "COL", "the predicted value column" },
	{ "ground-truth", 0, ML_OPT_STRING, &B.ground_truth, "FILE",
	  "labels arriving separately, joined to the predictions (implies --model-quality)" },
	{ "join-on", 0, ML_OPT_STRING, &B.join_on, "COL",
	  "the key column of --ground-truth and the predictions (default inferenceId; capture files: "
	  "their inferenceId, else eventId)" },
	ML_OPT_END,
};

/* Column types: a recipe's or a model's input schema, else inferred from the data. */
static int baseline_schema(struct ml_reader *r, struct ml_schema *s, struct ml_err *err)
{
	if (!B.schema) {
		struct ml_infer_opts infer = ML_INFER_DEFAULTS;
		return ml_schema_infer(r, &infer, s, err);
	}
	json_t *doc = ml_json_load(B.schema, err);
	if (!doc)
		return -1;
	const char *format = json_string_value(json_object_get(doc, "format"));
	int is_model = format && !strncmp(format, ML_MODEL_FORMAT "/", strlen(ML_MODEL_FORMAT) + 1);
	json_decref(doc);
	struct ml_model *m = is_model ? ml_model_load(B.schema, err) : NULL;
	struct ml_recipe *rc = is_model ? NULL : ml_recipe_load(B.schema, err);
	const struct ml_recipe *use = m ? m->recipe : rc;
	int status = use ? ml_schema_copy(s, ml_recipe_input_schema(use), err) : -1;
	ml_model_free(m);
	ml_recipe_free(rc);
	return status;
}

/* A report for people: 15 digits (SageMaker writes 8638.93, not 8638.9300000000003). */
static int write_json(const char *dir, const char *name, json_t *doc, struct ml_err *err)
{
	char path[4096];
	int rc = !doc				       ? ml_err_set(err, ML_ERR_INTERNAL, "out of memory")
		 : ml_uri_join(path, sizeof path, dir, name, err) < 0 ? -1
								       : ml_json_save(doc, path, 15, err);
	json_decref(doc);
	return rc;
}

/*
 * Strings are counted by their text, which the baseline interns itself: read
 * as text, not as the reader's categories, they cost one hash instead of two
 * and leave the reader free to parse the next batch on another thread.
 */
static void strings_as_text(struct ml_schema *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->cols[i].type == ML_TYPE_CATEGORICAL)
			s->cols[i].type = ML_TYPE_TEXT;
}

static int add_batch(const struct ml_batch *b, void *bl, struct ml_err *err)
{
	return ml_baseline_add(bl, b, err);
}

static int run_baseline(struct ml_reader *r, struct ml_err *err)
{
	struct ml_schema s;
	struct ml_baseline *bl = NULL;
	int rc = -1;
	ml_schema_init(&s);
	if (baseline_schema(r, &s, err) == 0) {
		strings_as_text(&s);
		if (ml_reader_bind(r, &s, 0, err) == 0 && (bl = ml_baseline_new(&s, err)) != NULL)
			rc = ml_reader_each_batch(r, add_batch, bl, err);
	}
	if (rc == 0 && (ml_ensure_dir(B.output_dir, err) < 0 ||
			write_json(B.output_dir, "statistics.json", ml_baseline_statistics(bl), err) < 0 ||
			write_json(B.output_dir, "constraints.json", ml_baseline_constraints(bl), err) < 0))
		rc = -1;
	if (rc == 0)
		ml_stream_log_summary(r, NULL);
	ml_baseline_free(bl);
	ml_schema_release(&s);
	return rc;
}

/* The (label, prediction) pairs: the input's two columns, or its predictions joined with --ground-truth. */
static int quality_pairs(struct ml_reader *r, const char *name, const struct ml_reader_opts *ro, struct ml_pairs *p,
			 struct ml_err *err)
{
	if (!B.ground_truth)
		return ml_pairs_read(r, B.label, B.prediction, name, p, err);
	const struct ml_truth_join_opts o = { B.ground_truth, B.join_on, B.label, B.prediction };
	struct ml_truth_stats st;
	return ml_truth_join_file(&o, r, ro, p, &st, err);
}

static int run_quality_baseline(struct ml_reader *r, const char *name, const struct ml_reader_opts *ro,
				struct ml_err *err)
{
	struct ml_pairs p;
	if (quality_pairs(r, name, ro, &p, err) < 0)
		return -1;
	int rc = 0;
	if (p.n == 0)
		rc = ml_err_set(err, ML_ERR_DATA, "%s: no rows with both \"%s\" and \"%s\"", name, B.label,
				B.prediction);
	if (rc == 0 && (ml_ensure_dir(B.output_dir, err) < 0 ||
			write_json(B.output_dir, "statistics.json", ml_quality_statistics(&p), err) < 0 ||
			write_json(B.output_dir, "constraints.json", ml_quality_constraints(&p), err) < 0))
		rc = -1;
	ml_pairs_release(&p);
	return rc;
}

/* --merge: the data baselines of shards, folded into the first. */
static int merge_baselines(int argc, char **argv, int first, struct ml_err *err)
{
	if (argc - first < 1)
		return ml_err_set(err, ML_ERR_USAGE, "--merge needs the baseline directories to merge");
	struct ml_baseline *all = NULL;
	int rc = 0;
	for (int i = first; i < argc && rc == 0; i++) {
		char path[4096];
		json_t *stats = ml_uri_join(path, sizeof path, argv[i], "statistics.json", err) < 0
					? NULL
					: ml_json_load(path, err);
		struct ml_baseline *one = stats ? ml_baseline_from_statistics(stats, path, err) : NULL;
		json_decref(stats);
		if (!one)
			rc = -1;
		else if (!all)
			all = one;
		else {
			rc = ml_baseline_merge(all, one, path, err);
			ml_baseline_free(one);
		}
	}
	if (rc == 0 && (ml_ensure_dir(B.output_dir, err) < 0 ||
			write_json(B.output_dir, "statistics.json", ml_baseline_statistics(all), err) < 0 ||
			write_json(B.output_dir, "constraints.json", ml_baseline_constraints(all), err) < 0))
		rc = -1;
	ml_baseline_free(all);
	return rc;
}

static int cmd_baseline(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	ml_stream_cli_init(&stream);
	const struct ml_opt *tables[] = { baseline_opts, ml_stream_cli_options(&stream), NULL };
	static const char summary[] =
		"Compute the baseline that ml-drift compares new data with, in one streaming\n"
		"pass: SageMaker Model Monitor's statistics.json and constraints.json.";
	static const char epilog[] = "Example:\n"
				     "  ml-baseline -o baseline/ < train.csv\n";
	const struct ml_cli cli = { .tool = "ml-baseline", .section = "baseline",
				    .synopsis = "ml-baseline [OPTION]... -o DIR [FILE]...",
				    .summary = summary, .tables = tables, .epilog = epilog };
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	if (B.join_on && !B.ground_truth)
		return ml_usage_error("--join-on is the key of --ground-truth: give --ground-truth FILE too");
	if (B.ground_truth) {
		B.model_quality = 1;
		if (!B.join_on)
			B.join_on = "inferenceId";
	}
	if (B.model_quality && (!B.label || !B.prediction))
		return ml_usage_error(B.ground_truth ? "--ground-truth needs --label COL (its label) and --prediction COL"
						     : "--model-quality needs --label COL and --prediction COL");
	if (B.merge) {
		if (B.model_quality)
			return ml_usage_error("--merge combines data baselines, not model-quality ones");
		return merge_baselines(argc, argv, first, &err) < 0 ? ml_fail(&err) : 0;
	}
	struct ml_reader_opts ro;
	struct ml_reader *r = NULL;
	int rc = 0;
	if (ml_stream_cli_reader_opts(&stream, &ro, &err) < 0 ||
	    !(r = ml_reader_open((const char *const *)argv + first, (size_t)(argc - first), &ro, &err)) ||
	    (B.model_quality ? run_quality_baseline(r, first < argc ? argv[first] : "<stdin>", &ro, &err)
			     : run_baseline(r, &err)) < 0)
		rc = ml_fail(&err);
	ml_reader_close(r);
	return rc;
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_baseline);
}
