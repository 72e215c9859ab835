/*
 * ml-train - train a model (gbtree or linear plugin) on a record stream,
 * with a quality gate and comparison with the previous best.
 */
#include "mlpipe/cli.h"
#include "mlpipe/stream.h"

static struct ml_stream_cli stream;
static struct {
	int algorithm;
	char *target, *validation, *recipe, *output, *hyperparameters, *export_xgboost;
	int log_format;
	long threads;
	double max_rmse;
	char *must_beat, *registry;
} T = { .threads = 0, .max_rmse = -1 };

/* Hyperparameters keep their XGBoost / SageMaker names, so they are strings here
 * and each algorithm plugin validates the ones it knows. */
static struct {
	char *num_round, *eta, *max_depth, *min_child_weight, *subsample, *colsample_bytree;
	char *lambda, *alpha, *gamma, *max_bin, *seed, *early_stopping_rounds, *objective;
	char *quantile_alpha, *tweedie_variance_power, *huber_slope;
	char *epochs, *mini_batch_size, *learning_rate, *optimizer, *l1, *wd, *loss, *huber_delta;
	char *quantile, *normalize_data, *normalize_label, *fit_intercept;
	char *early_stopping_patience, *early_stopping_tolerance, *num_models;
} H;

static const struct ml_opt train_opts[] = {
	{ "algorithm", 'a', ML_OPT_CHOICE, &T.algorithm, "ALGO", "gbtree (default) or linear",
	  "gbtree|linear" },
	{ "target", 't', ML_OPT_STRING, &T.target, "COL", "the column to predict" },
	{ "validation", 0, ML_OPT_STRING, &T.validation, "FILE", "validation data (early stopping, gate)" },
	{ "recipe", 0, ML_OPT_STRING, &T.recipe, "FILE",
	  "feature recipe from ml-preprocess fit (default: fit one: categoricals encoded, missing kept)" },
	{ "output", 'o', ML_OPT_STRING, &T.output, "FILE", "write the model here (default: standard output)" },
	{ "hyperparameters", 0, ML_OPT_STRING, &T.hyperparameters, "FILE",
	  "a SageMaker hyperparameters.json (string values)" },
	{ "threads", 0, ML_OPT_INT, &T.threads, "N", "worker threads (default: all cores)", NULL, 0, NULL,
	  0, 1024 },
	{ "log-format", 0, ML_OPT_CHOICE, &T.log_format, "FMT",
	  "per-round metrics on stderr as ndjson (default) or text", "ndjson|text" },
	{ "export-xgboost", 0, ML_OPT_STRING, &T.export_xgboost, "FILE",
	  "also write the model in XGBoost's JSON format" },
	{ "max-rmse", 0, ML_OPT_DOUBLE, &T.max_rmse, "X", "gate: reject (exit 1) when validation RMSE > X" },
	{ "must-beat", 0, ML_OPT_STRING, &T.must_beat, "MODEL",
	  "gate: reject unless better than this model (or the registry's best)" },
	{ "registry", 0, ML_OPT_STRING, &T.registry, "DIR|URI", "register an accepted model here" },
	ML_OPT_END,
};

#define HP(name, field, help) { name, 0, ML_OPT_STRING, &H.field, "V", help }
static const struct ml_opt gbtree_opts[] = {
	HP("num_round", num_round, "gbtree: boosting rounds (default 100)"),
	HP("eta", eta, "gbtree: learning rate (default 0.3)"),
	HP("max_depth", max_depth, "gbtree: tree depth (default 6)"),
	HP("min_child_weight", min_child_weight, "gbtree: least hessian in a leaf (default 1)"),
	HP("subsample", subsample, "gbtree: row sampling ratio (default 1)"),
	HP("colsample_bytree", colsample_bytree, "gbtree: column sampling per tree (default 1)"),
	HP("lambda", lambda, "gbtree: L2 regularization (default 1)"),
	HP("alpha", alpha, "gbtree: L1 regularization (default 0)"),
	HP("gamma", gamma, "gbtree: least loss reduction for a split (default 0)"),
	HP("max_bin", max_bin, "gbtree: histogram bins (default 256)"),
	HP("seed", seed, "random seed (default 0)"),
	HP("early_stopping_rounds", early_stopping_rounds, "stop when validation has not improved for N rounds"),
	HP("objective", objective, "gbtree: reg:squarederror (default), reg:absoluteerror, ..."),
	HP("quantile_alpha", quantile_alpha, "gbtree: quantile for reg:quantileerror"),
	HP("tweedie_variance_power", tweedie_variance_power, "gbtree: for reg:tweedie (default 1.5)"),
	HP("huber_slope", huber_slope, "gbtree: for reg:pseudohubererror (default 1)"),
	ML_OPT_END,
};

static const struct ml_opt linear_opts[] = {
	HP("epochs", epochs, "linear: passes over the data (default 15)"),
	HP("mini_batch_size", mini_batch_size, "linear: rows per SGD step (default 1000)"),
	HP("learning_rate", learning_rate, "linear: step size (default auto)"),
	HP("optimizer", optimizer, "linear: sgd, adam or auto"),
	HP("l1", l1, "linear: L1 regularization"),
	HP("wd", wd, "linear: L2 regularization (weight decay)"),
	HP("loss", loss, "linear: squared_loss (default), absolute_loss, huber_loss, quantile_loss"),
	HP("huber_delta", huber_delta, "linear: for huber_loss (default 1)"),
	HP("quantile", quantile, "linear: for quantile_loss (default 0.5)"),
	HP("normalize_data", normalize_data, "linear: standardize features (default true)"),
	HP("normalize_label", normalize_label, "linear: standardize the label"),
	HP("fit_intercept", fit_intercept, "linear: learn a bias (default true)"),
	HP("early_stopping_patience", early_stopping_patience, "linear: epochs without improvement"),
	HP("early_stopping_tolerance", early_stopping_tolerance, "linear: relative improvement needed"),
	HP("num_models", num_models, "linear: models trained in parallel, best kept"),
	ML_OPT_END,
};

static const char exit_status[] = "  0   the model was trained (and accepted by the gate, if any)\n"
				  "  1   the gate rejected the model; the reason is on stderr\n";

static int cmd_train(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	ml_stream_cli_init(&stream);
	const struct ml_opt *tables[] = { train_opts, gbtree_opts, linear_opts,
					  ml_stream_cli_options(&stream), NULL };
	static const char summary[] =
		"Train a regression model on rows from FILEs or standard input and write it as\n"
		"an mlpipe.model artifact (recipe, schema, parameters, metrics, SHA-256).";
	static const char epilog[] = "Example:\n"
				     "  ml-train -a gbtree --target price --num_round 200 -o model.json < train.csv\n";
	const struct ml_cli cli = { .tool = "ml-train", .section = "train",
				    .synopsis = "ml-train [OPTION]... --target COL [FILE]...",
				    .summary = summary, .tables = tables, .epilog = epilog,
				    .exit_status = exit_status };
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	if (!T.target)
		return ml_usage_error("the column to predict is required: --target COL");
	return ml_not_built_yet(T.algorithm == 0 ? "training with -a gbtree" : "training with -a linear");
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_train);
}
