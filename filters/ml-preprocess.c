/*
 * ml-preprocess - feature engineering fitted once and applied identically
 * later, and a deterministic train/validation/test split.
 *
 *   ml-preprocess fit   [OPTION]... [FILE]...          > recipe.json
 *   ml-preprocess apply [OPTION]... RECIPE [FILE]...   > features.csv
 *   ml-preprocess split --train F --validation F --test F [FILE]...
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/cli.h"
#include "mlpipe/dict.h"
#include "mlpipe/log.h"
#include "mlpipe/recipe.h"
#include "mlpipe/split.h"
#include "mlpipe/stream.h"
#include "mlpipe/threads.h"

static struct ml_stream_cli stream;
static char *output;
static struct ml_strlist keep;

static const struct ml_opt output_opts[] = {
	{ "output", 'o', ML_OPT_STRING, &output, "FILE", "write here instead of standard output" },
	ML_OPT_END,
};

static const char exit_status[] = "  0   success\n";

/* Open the inputs named by the operands (none: standard input). */
static struct ml_reader *open_inputs(int argc, char **argv, int first, struct ml_reader_opts *o,
				     struct ml_err *err)
{
	return ml_reader_open((const char *const *)argv + first, (size_t)(argc - first), o, err);
}

/* ---- fit ---- */

static struct fit_settings {
	char *target;
	struct ml_strlist drop, categorical, numeric, log1p, impute;
	int log1p_target;
	int numeric_impute, categorical_impute;
	double numeric_fill;
	char *categorical_fill;
	int scale, encode, unseen;
	long max_levels, sample_rows;
	char *clip;
} F = { .max_levels = 50, .sample_rows = 10000, .numeric_fill = NAN };

#define IMPUTE_CHOICES "none|median|mean|most-frequent|constant"

static const struct ml_opt fit_opts[] = {
	{ "target", 't', ML_OPT_STRING, &F.target, "COL", "the label column (kept apart, never a feature)" },
	{ "drop", 0, ML_OPT_LIST, &F.drop, "COLS", "columns not to use (comma-separated; repeatable)" },
	{ "keep", 0, ML_OPT_LIST, &keep, "COLS", "columns carried through apply unchanged (ids)" },
	{ "categorical", 0, ML_OPT_LIST, &F.categorical, "COLS", "treat these columns as categorical" },
	{ "numeric", 0, ML_OPT_LIST, &F.numeric, "COLS", "treat these columns as numeric" },
	{ "numeric-impute", 0, ML_OPT_CHOICE, &F.numeric_impute, "HOW",
	  "fill missing numbers (default none: kept missing)", IMPUTE_CHOICES },
	{ "categorical-impute", 0, ML_OPT_CHOICE, &F.categorical_impute, "HOW",
	  "fill missing categories (default none)", "none|most-frequent|constant" },
	{ "numeric-fill", 0, ML_OPT_DOUBLE, &F.numeric_fill, "X", "value for --numeric-impute constant" },
	{ "categorical-fill", 0, ML_OPT_STRING, &F.categorical_fill, "S",
	  "level for --categorical-impute constant" },
	{ "impute", 0, ML_OPT_LIST, &F.impute, "COL=HOW[:VALUE]",
	  "per-column imputation, e.g. Mileage=median or Trim=constant:base", NULL, ML_OPTF_NO_SPLIT },
	{ "scale", 0, ML_OPT_CHOICE, &F.scale, "HOW", "scale numeric features (default none)",
	  "none|standard|minmax" },
	{ "encode", 0, ML_OPT_CHOICE, &F.encode, "HOW", "encode categorical features (default onehot)",
	  "onehot|ordinal" },
	{ "max-levels", 0, ML_OPT_INT, &F.max_levels, "N",
	  "one-hot keeps the N most frequent levels, the rest go to \"(other)\" (default 50)", NULL, 0,
	  NULL, 1, 100000 },
	{ "unseen", 0, ML_OPT_CHOICE, &F.unseen, "WHERE",
	  "a level not seen at fit time becomes (other) or missing (default other)", "other|missing" },
	{ "log1p", 0, ML_OPT_LIST, &F.log1p, "COLS", "apply log(1 + x) to these numeric features" },
	{ "log1p-target", 0, ML_OPT_FLAG, &F.log1p_target, NULL, "model log(1 + target)" },
	{ "clip", 0, ML_OPT_STRING, &F.clip, "LOW,HIGH",
	  "clip numeric features to these fitted quantiles, e.g. 0.01,0.99" },
	{ "sample-rows", 0, ML_OPT_INT, &F.sample_rows, "N",
	  "rows used to infer column types (default 10000)", NULL, 0, NULL, 1, 100000000 },
	ML_OPT_END,
};

static int parse_clip(const char *text, double *low, double *high)
{
	char *end;
	*low = strtod(text, &end);
	if (*end != ',')
		return -1;
	*high = strtod(end + 1, &end);
	return *end || !(*low >= 0 && *low < *high && *high <= 1) ? -1 : 0;
}

static int fit_recipe_opts(struct ml_recipe_opts *o)
{
	ml_recipe_opts_init(o);
	o->target = F.target;
	o->drop = &F.drop;
	o->keep = &keep;
	o->categorical = &F.categorical;
	o->numeric = &F.numeric;
	o->log1p = &F.log1p;
	o->impute = &F.impute;
	o->numeric_impute = (enum ml_impute)F.numeric_impute;
	/* The categorical choices skip median and mean. */
	o->categorical_impute = F.categorical_impute == 0 ? ML_IMPUTE_NONE
				: F.categorical_impute == 1 ? ML_IMPUTE_MOST_FREQUENT
							    : ML_IMPUTE_CONSTANT;
	o->numeric_fill = F.numeric_fill;
	o->categorical_fill = F.categorical_fill;
	o->scale = (enum ml_scale)F.scale;
	o->encode = (enum ml_encode)F.encode;
	o->unseen = (enum ml_unseen)F.unseen;
	o->max_levels = (size_t)F.max_levels;
	o->log1p_target = F.log1p_target;
	o->infer.sample_rows = (size_t)F.sample_rows;
	if (F.clip && parse_clip(F.clip, &o->clip_low, &o->clip_high) < 0)
		return ml_usage_error("--clip: expected two quantiles LOW,HIGH with 0 <= LOW < HIGH <= 1, got \"%s\"",
				      F.clip);
	if (!isnan(F.numeric_fill) && F.numeric_impute != ML_IMPUTE_CONSTANT)
		return ml_usage_error("--numeric-fill needs --numeric-impute constant");
	if (isnan(o->numeric_fill))
		o->numeric_fill = 0;	/* scikit-learn's default fill_value */
	if (F.categorical_impute == 2 && !F.categorical_fill)
		return ml_usage_error("--categorical-impute constant needs --categorical-fill LEVEL");
	return 0;
}

static int cmd_fit(int argc, char **argv, int first)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe_opts o;
	struct ml_reader_opts ro;
	int rc = fit_recipe_opts(&o);
	if (rc)
		return rc;
	if (ml_stream_cli_reader_opts(&stream, &ro, &err) < 0)
		return ml_fail(&err);
	struct ml_reader *r = open_inputs(argc, argv, first, &ro, &err);
	if (!r)
		return ml_fail(&err);
	const char *name = first < argc ? argv[first] : "<stdin>";
	if (ml_reader_ncols(r) == 0) {
		ml_reader_close(r);
		ml_err_set(&err, ML_ERR_DATA, "%s: empty input: no header and no rows", name);
		return ml_fail(&err);
	}
	struct ml_recipe *recipe = ml_recipe_fit(r, &o, &err);
	struct ml_stream_stats st;
	ml_reader_stats(r, &st);
	if (recipe && st.rows_read == st.rows_rejected) {
		ml_err_set(&err, ML_ERR_DATA, "%s: no data rows to fit a recipe to", name);
		ml_recipe_free(recipe);
		recipe = NULL;
	}
	if (recipe) {
		ml_stream_log_summary(r, NULL);
		ml_info("%zu features from %zu input columns", ml_recipe_nfeatures(recipe),
			ml_reader_ncols(r));
	}
	ml_reader_close(r);
	if (!recipe || ml_recipe_save(recipe, output ? output : "-", &err) < 0)
		rc = ml_fail(&err);
	ml_recipe_free(recipe);
	return rc;
}

/* ---- apply ---- */

static char *recipe_path;
static int label_first, allow_missing;

static const struct ml_opt apply_opts[] = {
	{ "recipe", 'r', ML_OPT_STRING, &recipe_path, "FILE",
	  "the recipe (or give it as the first operand)" },
	{ "keep", 0, ML_OPT_LIST, &keep, "COLS", "copy these input columns to the output first (ids)" },
	{ "label-first", 0, ML_OPT_FLAG, &label_first, NULL,
	  "write the label first and no header: SageMaker's training CSV (with --no-header)" },
	{ "allow-missing-columns", 0, ML_OPT_FLAG, &allow_missing, NULL,
	  "a feature column absent from the input is missing in every row, not an error" },
	ML_OPT_END,
};

/* A recipe fitted with --no-header names its columns c0, c1, ...; read the input the same way. */
static int recipe_is_headerless(const struct ml_schema *s)
{
	for (size_t i = 0; i < s->n; i++) {
		char want[32];
		snprintf(want, sizeof want, "c%zu", i);
		if (strcmp(s->cols[i].name, want) != 0)
			return 0;
	}
	return s->n > 0;
}

/* Columns fitted with --keep travel with the recipe; apply --keep adds more. */
static int collect_kept(const struct ml_recipe *recipe, struct ml_err *err)
{
	const struct ml_schema *in = ml_recipe_input_schema(recipe);
	struct ml_strlist from_cli = keep;
	memset(&keep, 0, sizeof keep);
	int rc = 0;
	/* SageMaker's training CSV is label and features only. */
	for (size_t i = 0; i < in->n && rc == 0 && !label_first; i++)
		if (in->cols[i].role == ML_ROLE_PASSTHROUGH)
			rc = ml_strlist_push(&keep, in->cols[i].name, err);
	for (size_t i = 0; i < from_cli.n && rc == 0; i++) {
		size_t j = 0;
		while (j < keep.n && strcmp(keep.items[j], from_cli.items[i]) != 0)
			j++;
		if (j == keep.n)
			rc = ml_strlist_push(&keep, from_cli.items[i], err);
	}
	ml_strlist_clear(&from_cli);
	return rc;
}

struct apply_out {
	struct ml_writer *w;
	const struct ml_recipe *recipe;
	const long *keep_cols;
	int with_target;
	double *x, *y;
};

struct rows_ctx {
	const struct apply_out *o;
	const struct ml_batch *b;
};

/* Rows [begin, end) of the batch: kept columns, label, features (an ml_row_writer_fn). */
static int write_rows(struct ml_writer *w, size_t begin, size_t end, void *arg, struct ml_err *err)
{
	const struct rows_ctx *c = arg;
	const struct apply_out *o = c->o;
	size_t nf = ml_recipe_nfeatures(o->recipe);
	for (size_t r = begin; r < end; r++) {
		for (size_t k = 0; k < keep.n; k++)
			if (ml_writer_cell(w, c->b, (size_t)o->keep_cols[k], r, err) < 0)
				return -1;
		if (o->with_target && ml_writer_num(w, o->y[r], err) < 0)
			return -1;
		const double *row = o->x + r * nf;
		for (size_t f = 0; f < nf; f++)
			if (ml_writer_num(w, row[f], err) < 0)
				return -1;
		if (ml_writer_end_row(w, err) < 0)
			return -1;
	}
	return 0;
}

static int set_output_columns(struct apply_out *o, struct ml_err *err)
{
	size_t nf = ml_recipe_nfeatures(o->recipe), n = 0;
	const char **names = ml_calloc(keep.n + 1 + nf, sizeof *names, err);
	if (!names)
		return -1;
	for (size_t k = 0; k < keep.n; k++)
		names[n++] = keep.items[k];
	if (o->with_target)
		names[n++] = ml_recipe_target(o->recipe);
	for (size_t f = 0; f < nf; f++)
		names[n++] = ml_recipe_feature_name(o->recipe, f);
	int rc = ml_writer_set_columns(o->w, names, n, err);
	free(names);
	return rc;
}

/* r's rows through the recipe into w (the whole output's writer, or a part's). */
static int transform_rows(struct ml_reader *r, struct apply_out *o, struct ml_writer *w, struct ml_err *err)
{
	struct ml_batch b;
	ml_batch_init(&b);
	size_t nf = ml_recipe_nfeatures(o->recipe), cap = 0;
	long n;
	int rc = 0;
	o->x = o->y = NULL;
	while (rc == 0 && (n = ml_reader_read_batch(r, &b, err)) > 0) {
		if ((size_t)n > cap) {
			free(o->x);
			free(o->y);
			cap = (size_t)n;
			o->x = ml_calloc(cap * (nf ? nf : 1), sizeof *o->x, err);
			o->y = ml_calloc(cap, sizeof *o->y, err);
			if (!o->x || !o->y) {
				rc = -1;
				break;
			}
		}
		struct rows_ctx ctx = { o, &b };
		if (ml_recipe_apply(o->recipe, &b, o->x, o->y, err) < 0 ||
		    ml_writer_rows_parallel(w, b.nrows, write_rows, &ctx, err) < 0)
			rc = -1;
	}
	if (rc == 0 && n < 0)
		rc = -1;
	ml_batch_release(&b);
	free(o->x);
	free(o->y);
	o->x = o->y = NULL;
	return rc;
}

static int transform_part(struct ml_reader *part, struct ml_writer *out, void *worker, struct ml_err *err)
{
	return transform_rows(part, worker, out, err);
}

/*
 * With several threads a big input is cut into parts, each transformed on a
 * core of its own and written in order (ml_reader_each_part); what it does
 * not cut (a co-process's input, --line-buffered, among others) is read by r
 * here.
 */
static int transform_stream(struct ml_reader *r, struct apply_out *o, struct ml_err *err)
{
	size_t n = ml_threads();
	if (n > 1) {
		struct apply_out each[ML_MAX_THREADS];
		void *workers[ML_MAX_THREADS];
		for (size_t i = 0; i < n; i++) {
			each[i] = *o;	/* the recipe and columns shared, the buffers each worker's own */
			workers[i] = &each[i];
		}
		int rc = ml_reader_each_part(r, o->w, transform_part, workers, n, err);
		if (rc != 1)
			return rc;
	}
	return transform_rows(r, o, o->w, err);
}

static int run_apply(struct ml_recipe *recipe, struct ml_reader *r, const char *input_name,
		     struct ml_err *err)
{
	struct ml_schema s;
	ml_schema_init(&s);
	long *keep_cols = ml_calloc(keep.n + 1, sizeof *keep_cols, err);
	struct apply_out o = { .recipe = recipe, .keep_cols = keep_cols };
	const char *target = ml_recipe_target(recipe);
	/* Scoring data has no label: then there is no label column in the output. */
	o.with_target = target && ml_reader_find_column(r, target) >= 0;
	struct ml_writer_opts wo;
	int rc = -1;
	if (keep_cols && ml_recipe_check_input(recipe, r, &keep, input_name, allow_missing, err) == 0 &&
	    ml_recipe_bind_schema(recipe, &keep, &s, keep_cols, err) == 0 &&
	    ml_reader_bind(r, &s, 1, err) == 0 &&
	    ml_stream_cli_writer_opts(&stream, ml_reader_format(r), &wo, err) == 0) {
		if (label_first)
			wo.header = 0;
		if ((o.w = ml_writer_open(output ? output : "-", &wo, err)) != NULL) {
			rc = set_output_columns(&o, err) == 0 && transform_stream(r, &o, err) == 0 ? 0 : -1;
			ml_stream_log_summary(r, o.w);
			if (ml_writer_close(o.w, rc == 0, rc < 0 ? NULL : err) < 0)
				rc = -1;
		}
	}
	free(keep_cols);
	ml_schema_release(&s);
	return rc;
}

static int cmd_apply(int argc, char **argv, int first)
{
	struct ml_err err = ML_ERR_INIT;
	if (!recipe_path) {
		if (first >= argc)
			return ml_usage_error("apply needs a recipe: ml-preprocess apply RECIPE [FILE]...");
		recipe_path = argv[first++];
	}
	struct ml_recipe *recipe = ml_recipe_load(recipe_path, &err);
	if (!recipe)
		return ml_fail(&err);
	if (label_first && !ml_recipe_target(recipe)) {
		ml_recipe_free(recipe);
		return ml_usage_error("--label-first: the recipe %s has no target column", recipe_path);
	}
	if (label_first && keep.n) {
		ml_recipe_free(recipe);
		return ml_usage_error("--label-first writes SageMaker's numeric training CSV; it cannot carry --keep columns");
	}
	struct ml_reader_opts ro;
	int rc = 0;
	if (ml_stream_cli_reader_opts(&stream, &ro, &err) < 0) {
		rc = ml_fail(&err);
	} else {
		ro.header = !recipe_is_headerless(ml_recipe_input_schema(recipe));
		struct ml_reader *r = open_inputs(argc, argv, first, &ro, &err);
		if (!r || collect_kept(recipe, &err) < 0 ||
		    run_apply(recipe, r, first < argc ? argv[first] : "<stdin>", &err) < 0)
			rc = ml_fail(&err);
		ml_reader_close(r);
	}
	ml_recipe_free(recipe);
	return rc;
}

/* ---- split ---- */

static char *split_train, *split_validation, *split_test, *split_ratios, *split_by;
static long split_seed;

static const struct ml_opt split_opts[] = {
	{ "train", 0, ML_OPT_STRING, &split_train, "FILE", "where the training share goes" },
	{ "validation", 0, ML_OPT_STRING, &split_validation, "FILE", "where the validation share goes" },
	{ "test", 0, ML_OPT_STRING, &split_test, "FILE", "where the test share goes" },
	{ "ratios", 0, ML_OPT_STRING, &split_ratios, "R,R[,R]",
	  "shares of the outputs given, in the order train,validation,test (default 0.7,0.15,0.15)" },
	{ "seed", 0, ML_OPT_INT, &split_seed, "N", "seed of the hash that assigns rows (default 0)",
	  NULL, 0, NULL, 0, 2147483647 },
	{ "by", 0, ML_OPT_STRING, &split_by, "COL",
	  "assign by this key column, so equal keys land in the same output" },
	ML_OPT_END,
};

static int split_outputs(struct ml_split_opts *o)
{
	const char *given[] = { split_train, split_validation, split_test };
	o->n = 0;
	for (size_t i = 0; i < 3; i++)
		if (given[i])
			o->uris[o->n++] = given[i];
	if (o->n < 2)
		return ml_usage_error("split needs at least two of --train, --validation, --test");
	return 0;
}

static int split_shares(struct ml_split_opts *o)
{
	struct ml_err err = ML_ERR_INIT;
	size_t n;
	const char *text = split_ratios ? split_ratios : o->n == 3 ? "0.7,0.15,0.15" : "0.8,0.2";
	if (ml_split_parse_ratios(text, o->ratios, &n, &err) < 0)
		return ml_usage_error("%s", err.msg);
	if (n != o->n)
		return ml_usage_error("--ratios gives %zu shares for %zu outputs", n, o->n);
	return 0;
}

static int cmd_split(int argc, char **argv, int first)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_split_opts o = { .seed = (uint64_t)split_seed, .by = split_by };
	int rc = split_outputs(&o);
	if (rc || (rc = split_shares(&o)))
		return rc;
	if (stream.output_format)
		return ml_usage_error("split copies rows verbatim; --output-format does not apply");
	struct ml_reader_opts ro;
	if (ml_stream_cli_reader_opts(&stream, &ro, &err) < 0)
		return ml_fail(&err);
	struct ml_reader *r = open_inputs(argc, argv, first, &ro, &err);
	uint64_t counts[ML_SPLIT_MAX] = { 0 };
	if (!r || ml_split_run(r, &o, counts, &err) < 0)
		rc = ml_fail(&err);
	else
		for (size_t i = 0; i < o.n; i++)
			ml_info("%s: %llu rows", o.uris[i], (unsigned long long)counts[i]);
	if (r)
		ml_stream_log_summary(r, NULL);
	ml_reader_close(r);
	return rc;
}

/* ---- the command ---- */

static const struct ml_subcommand subcommands[] = {
	{ "fit", "ml-preprocess fit [OPTION]... [FILE]... > recipe.json",
	  "Fit a recipe (types, imputation, encoding, scaling) to the data in one streaming pass.",
	  fit_opts, cmd_fit },
	{ "apply", "ml-preprocess apply [OPTION]... RECIPE [FILE]... > features.csv",
	  "Transform rows exactly as the recipe says; unseen levels never fail.", apply_opts, cmd_apply },
	{ "split", "ml-preprocess split --train F --validation F --test F [OPTION]... [FILE]...",
	  "Split rows deterministically, in one pass, each row to exactly one output.", split_opts,
	  cmd_split },
};

static const char top_summary[] =
	"Feature engineering fitted once and applied identically later.\n\n"
	"Commands:\n"
	"  fit     fit a recipe to training data\n"
	"  apply   transform data with a recipe\n"
	"  split   split data into train/validation/test\n\n"
	"Run 'ml-preprocess COMMAND --help' for a command's options.";

#define NSUB (sizeof subcommands / sizeof *subcommands)

static int run_subcommand(const struct ml_subcommand *sc, int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	ml_stream_cli_init(&stream);
	/* split names its outputs itself: no -o. */
	const struct ml_opt *own = sc->run == cmd_split ? NULL : output_opts;
	const struct ml_opt *tables[] = { sc->opts, ml_stream_cli_options(&stream), own, NULL };
	/* The preprocess: section serves all three commands. */
	const struct ml_opt *siblings[NSUB + 2] = { 0 };
	size_t ns = ml_subcommand_siblings(subcommands, NSUB, sc, siblings);
	if (!own)
		siblings[ns] = output_opts;
	const struct ml_cli cli = { .tool = "ml-preprocess",
				    .section = "preprocess",
				    .synopsis = sc->synopsis,
				    .summary = sc->summary,
				    .tables = tables,
				    .exit_status = exit_status,
				    .config_siblings = siblings };
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	return sc->run(argc, argv, first);
}

static int cmd_preprocess(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;
	const struct ml_subcommand *sc = ml_subcommand_find(subcommands, NSUB, name);
	if (sc)
		return run_subcommand(sc, argc - 1, argv + 1);
	static const struct ml_opt none[] = { ML_OPT_END };
	const struct ml_opt *tables[] = { none, NULL };
	const struct ml_cli cli = { .tool = "ml-preprocess",
				    .synopsis = "ml-preprocess fit|apply|split [OPTION]... [FILE]...",
				    .summary = top_summary,
				    .tables = tables };
	struct ml_err err = ML_ERR_INIT;
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	if (!name)
		return ml_usage_error("a command is required: fit, apply or split");
	return ml_usage_error("unknown command \"%s\": expected fit, apply or split", name);
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_preprocess);
}
