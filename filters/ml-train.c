/*
 * ml-train - train a model (gbtree or linear plugin) on a record stream,
 * with a quality gate and comparison with the previous best.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/artifact.h"
#include "mlpipe/cli.h"
#include "mlpipe/config.h"
#include "mlpipe/log.h"
#include "mlpipe/model.h"
#include "mlpipe/registry.h"
#include "mlpipe/rows.h"
#include "mlpipe/spool.h"
#include "mlpipe/stream.h"
#include "mlpipe/uri.h"
#include "mlpipe/xgboost.h"

static struct ml_stream_cli stream;
static struct {
	int algorithm;
	char *target, *validation, *recipe, *output, *hyperparameters, *export_xgboost;
	int log_format;
	double max_rmse;
	char *must_beat, *registry, *model_name, *buffer_size;
} T = { .max_rmse = -1 };

/* Hyperparameters keep their XGBoost / SageMaker names, so they are strings here
 * and each algorithm plugin validates the ones it knows. */
static struct {
	char *num_round, *eta, *max_depth, *min_child_weight, *subsample, *colsample_bytree;
	char *lambda, *alpha, *gamma, *max_bin, *seed, *early_stopping_rounds, *objective;
	char *quantile_alpha, *tweedie_variance_power, *huber_slope, *base_score;
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
	{ "log-format", 0, ML_OPT_CHOICE, &T.log_format, "FMT",
	  "per-round metrics on stderr as ndjson (default) or text", "ndjson|text" },
	{ "export-xgboost", 0, ML_OPT_STRING, &T.export_xgboost, "FILE",
	  "also write the model in XGBoost's JSON format" },
	{ "max-rmse", 0, ML_OPT_DOUBLE, &T.max_rmse, "X", "gate: reject (exit 1) when validation RMSE > X" },
	{ "must-beat", 0, ML_OPT_STRING, &T.must_beat, "MODEL",
	  "gate: reject unless its RMSE is below this model's, or with \"best\" the registry's best's, on the same data" },
	{ "registry", 0, ML_OPT_STRING, &T.registry, "DIR|URI", "register an accepted model here and move \"latest\"" },
	{ "model-name", 0, ML_OPT_STRING, &T.model_name, "NAME",
	  "the model's name in the registry (default: the --target column)" },
	{ "buffer-size", 'S', ML_OPT_STRING, &T.buffer_size, "SIZE",
	  "training data kept in memory; beyond it, a temporary file in $TMPDIR (default 64M)" },
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
	HP("base_score", base_score, "gbtree: the trees' starting prediction (default: the labels' mean)"),
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

static const char *const algorithms[] = { "gbtree", "linear" };

/* The hyperparameter options, in the order of the tables, by name. */
static const struct ml_opt *const hp_tables[] = { gbtree_opts, linear_opts, NULL };

/* SageMaker passes every hyperparameter as a string; a number or boolean written by hand is taken as its text. */
static int add_file_hyperparameters(json_t *hp, const json_t *file, struct ml_err *err)
{
	const char *key;
	json_t *v;
	if (!json_is_object(file))
		return ml_err_set(err, ML_ERR_CONFIG, "%s: expected an object of name: value", T.hyperparameters);
	json_object_foreach((json_t *)file, key, v) {
		json_t *text = json_is_string(v)  ? json_incref(v)
			       : json_is_integer(v) ? json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v))
			       : json_is_real(v)    ? json_sprintf("%.17g", json_real_value(v))
			       : json_is_boolean(v) ? json_string(json_is_true(v) ? "true" : "false")
						    : NULL;
		if (!text)
			return ml_err_set(err, ML_ERR_CONFIG, "%s: \"%s\" must be a string, number or boolean",
					  T.hyperparameters, key);
		json_object_set_new(hp, key, text);
	}
	return 0;
}

/* Hyperparameters as SageMaker passes them: a JSON object of strings; options win over the file. */
static json_t *collect_hyperparameters(struct ml_err *err)
{
	json_t *hp = json_object();
	if (T.hyperparameters) {
		json_t *file = ml_json_load(T.hyperparameters, err);
		int rc = file ? add_file_hyperparameters(hp, file, err) : -1;
		json_decref(file);
		if (rc < 0) {
			json_decref(hp);
			return NULL;
		}
	}
	for (size_t t = 0; hp_tables[t]; t++)
		for (const struct ml_opt *o = hp_tables[t]; o->name; o++) {
			const char *v = *(char **)o->dest;
			if (v)
				json_object_set_new(hp, o->name, json_string(v));
		}
	if (stream.threads)
		json_object_set_new(hp, "threads", json_sprintf("%ld", stream.threads));
	return hp;
}

#define DEFAULT_BUFFER_SIZE ((size_t)64 << 20)

/* A data file read once into a spool, with the reader options the command line gave. */
static int open_spooled(const char *path, const char *name, int keep_rejects, size_t budget, struct ml_spooled *d,
			struct ml_err *err)
{
	struct ml_reader_opts ro;
	if (ml_stream_cli_reader_opts(&stream, &ro, err) < 0)
		return -1;
	if (!keep_rejects)
		ro.rejects = NULL;	/* --rejects holds the training file's bad rows */
	return ml_spooled_open(path, name, &ro, budget, d, err);
}

/* The recipe ml-train fits when none is given: categoricals one-hot; for linear, imputation. */
static void default_recipe_opts(struct ml_recipe_opts *o, struct ml_spool *spool)
{
	ml_recipe_opts_init(o);
	o->target = T.target;
	if (T.algorithm == 1) {	/* a linear model needs every value: impute (scikit-learn's defaults) */
		o->numeric_impute = ML_IMPUTE_MEAN;
		o->categorical_impute = ML_IMPUTE_MOST_FREQUENT;
	}
	o->on_batch = ml_spool_add_cb;	/* what the fit reads is kept: the data is read once */
	o->on_batch_arg = spool;
}

/* Fit the default recipe on the data, which is spooled as it is read. */
static struct ml_recipe *fit_spooled(struct ml_spooled *d, struct ml_err *err)
{
	struct ml_recipe_opts o;
	default_recipe_opts(&o, d->spool);
	struct ml_recipe *rc = ml_recipe_fit(d->reader, &o, err);
	if (rc)
		ml_stream_log_summary(d->reader, NULL);
	return rc;
}

static struct ml_recipe *given_recipe(struct ml_err *err)
{
	struct ml_recipe *rc = ml_recipe_load(T.recipe, err);
	const char *target = rc ? ml_recipe_target(rc) : NULL;
	if (rc && (!target || strcmp(target, T.target) != 0)) {
		ml_err_set(err, ML_ERR_USAGE, "%s: the recipe's target is %s%s%s, not \"%s\"", T.recipe,
			   target ? "\"" : "", target ? target : "none", target ? "\"" : "", T.target);
		ml_recipe_free(rc);
		return NULL;
	}
	return rc;
}

static void log_metrics(const char *set, const struct ml_metrics *m)
{
	json_t *j = json_pack("{s:s, s:s}", "event", "metrics", "set", set);
	json_t *values = ml_metrics_to_json(m);
	json_object_update(j, values);
	json_decref(values);
	ml_log_event(j);
	json_decref(j);
}

/*
 * The data an algorithm trains on: in memory (the datasets), or, when it
 * outgrew --buffer-size and the algorithm trains in passes, spooled rows.
 * rows and vrows point to whichever it is (vrows NULL without validation).
 */
struct training {
	struct ml_recipe *recipe;
	struct ml_spooled train_src, valid_src;
	struct ml_dataset train, valid;
	struct ml_dataset_rows train_mem, valid_mem;
	struct ml_spool_rows train_spool, valid_spool;
	struct ml_rows *rows, *vrows;
	json_t *hyperparameters, *params, *doc;
	const struct ml_plugin *plugin;
};

static void training_release(struct training *t)
{
	ml_recipe_free(t->recipe);
	ml_dataset_release(&t->train);
	ml_dataset_release(&t->valid);
	ml_spool_rows_release(&t->train_spool);
	ml_spool_rows_release(&t->valid_spool);
	ml_spooled_release(&t->train_src);
	ml_spooled_release(&t->valid_src);
	json_decref(t->hyperparameters);
	json_decref(t->params);
	json_decref(t->doc);
}

/* A plugin's per-feature arrays (feature importance) as objects keyed by feature name. */
static void name_features(const struct ml_recipe *rc, json_t *model)
{
	json_t *imp = json_object_get(model, "feature_importance");
	const char *kind;
	json_t *values;
	size_t nf = ml_recipe_nfeatures(rc);
	json_object_foreach(imp, kind, values) {
		if (!json_is_array(values) || json_array_size(values) != nf)
			continue;
		json_t *named = json_object();
		for (size_t j = 0; j < nf; j++)
			json_object_set(named, ml_recipe_feature_name(rc, j), json_array_get(values, j));
		json_object_set_new(imp, kind, named);
	}
}

static int fit_model(struct training *t, struct ml_err *err)
{
	const struct ml_algo_ops *ops = t->plugin->ops.algo;
	int rc;
	if (t->rows == &t->train_spool.rows) {
		rc = ops->train_rows(t->rows, t->vrows, t->hyperparameters, &t->params, err);
	} else if (!ops->train) {
		return ml_err_set(err, ML_ERR_UNAVAILABLE, "the %s plugin cannot train", t->plugin->name);
	} else {
		struct ml_matrix x = { t->train.nrows, t->train.nfeatures, t->train.x };
		struct ml_matrix vx = { t->valid.nrows, t->valid.nfeatures, t->valid.x };
		rc = ops->train(&x, t->train.y, t->valid.nrows ? &vx : NULL, t->valid.nrows ? t->valid.y : NULL,
				t->hyperparameters, &t->params, err);
	}
	if (rc < 0)
		return ml_err_prefix(err, "training %s", t->plugin->name);
	name_features(t->recipe, t->params);
	t->doc = json_pack("{s:s, s:s, s:o, s:O, s:O}", "algorithm", t->plugin->name, "algorithm_version",
			   t->plugin->version, "recipe", ml_recipe_to_json(t->recipe), "hyperparameters",
			   t->hyperparameters, "model", t->params);
	return t->doc ? 0 : ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
}

/* Metrics into the document, and the one the gate judges (validation if any). */
static int add_metrics(struct training *t, double *judged, struct ml_err *err)
{
	struct ml_model m = { NULL, t->recipe, t->plugin, NULL };
	const struct ml_algo_ops *ops = t->plugin->ops.algo;
	struct ml_metrics tm, vm;
	int rc = -1;
	int validated = t->vrows && t->vrows->nrows;
	if ((m.predictor = ops->load(t->params, err)) != NULL && ml_model_evaluate_rows(&m, t->rows, &tm, err) == 0 &&
	    (!validated || ml_model_evaluate_rows(&m, t->vrows, &vm, err) == 0)) {
		json_t *metrics = json_pack("{s:o}", "train", ml_metrics_to_json(&tm));
		log_metrics("train", &tm);
		*judged = tm.rmse;
		if (validated) {
			json_object_set_new(metrics, "validation", ml_metrics_to_json(&vm));
			log_metrics("validation", &vm);
			*judged = vm.rmse;
		}
		json_object_set_new(t->doc, "metrics", metrics);
		rc = 0;
	}
	if (m.predictor)
		ops->free(m.predictor);
	return rc;
}

static int gate(double rmse)
{
	if (T.max_rmse < 0 || rmse <= T.max_rmse)
		return ML_EXIT_OK;
	ml_error("gate: rejected: %s RMSE %.6g is above --max-rmse %.6g", T.validation ? "validation" : "training",
		 rmse, T.max_rmse);
	fprintf(stderr, "{\"event\":\"gate\",\"accepted\":false,\"rmse\":%.17g,\"max_rmse\":%.17g}\n", rmse,
		T.max_rmse);
	return ML_EXIT_FOUND;
}

/* --must-beat's other model: a file, or the registry's best (NULL *uri: there is none yet). */
static int other_model(const char *name, char **uri, json_t **entry, struct ml_err *err)
{
	*uri = NULL;
	*entry = NULL;
	if (strcmp(T.must_beat, "best") != 0)
		return (*uri = ml_strdup(T.must_beat, err)) ? 0 : -1;
	struct ml_registry_ref ref = { .sel = ML_REGISTRY_BEST };
	snprintf(ref.name, sizeof ref.name, "%s", name);
	int found = ml_registry_resolve(T.registry, &ref, entry, err);
	if (found < 0)
		return -1;
	ml_err_clear(err);
	return found && !(*uri = ml_registry_verified_uri(*entry, err)) ? -1 : 0;
}

/*
 * --must-beat: the other model scored on the same rows as this one (the
 * validation file, else the training file).  ML_EXIT_OK with *gate_out
 * describing the comparison, ML_EXIT_FOUND when rejected, or an error.
 */
static int must_beat(const char *name, double rmse, const char *data, const char *data_name, json_t **gate_out,
		     long *beaten)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_metrics om;
	struct ml_model *m = NULL;
	json_t *entry = NULL;
	char *uri = NULL;
	const char *set = T.validation ? "validation" : "training";
	int rc = ML_EXIT_OK;
	if (other_model(name, &uri, &entry, &err) < 0)
		return ml_fail(&err);
	if (!uri) {
		*gate_out = json_pack("{s:s, s:b, s:s, s:f, s:s, s:n}", "event", "gate", "accepted", 1, "must_beat",
				      "best", "rmse", rmse, "data", set, "other_rmse");
		ml_info("gate: %s has no best model yet: accepted", name);
		goto out;
	}
	if ((m = ml_model_load_features(uri, NULL, &err)) && !ml_recipe_target(m->recipe)) {
		rc = ml_not_built_yet("--must-beat with an imported XGBoost model (it names no target column)");
		goto out;
	}
	struct ml_reader_opts ro;
	int opts_ok = ml_stream_cli_reader_opts(&stream, &ro, &err) == 0;
	ro.rejects = NULL;	/* --rejects holds the training file's bad rows */
	if (!m || !opts_ok ||
	    ml_model_evaluate_file(m, T.validation ? T.validation : data, T.validation ? T.validation : data_name, &ro,
				   &om, &err) < 0) {
		rc = ml_fail(&err);
		goto out;
	}
	char other[ML_REGISTRY_NAME_MAX + 32];
	*beaten = entry ? (long)json_integer_value(json_object_get(entry, "version")) : 0;
	if (entry)
		snprintf(other, sizeof other, "%s@%ld", name, *beaten);
	else
		snprintf(other, sizeof other, "%.*s", (int)sizeof other - 1, T.must_beat);
	int accepted = rmse < om.rmse;
	*gate_out = json_pack("{s:s, s:b, s:s, s:f, s:s, s:f}", "event", "gate", "accepted", accepted,
			      "must_beat", other, "rmse", rmse, "data", set, "other_rmse", om.rmse);
	if (accepted) {
		ml_info("gate: accepted: %s RMSE %.6g is below %s's %.6g", set, rmse, other, om.rmse);
		ml_log_event(*gate_out);
		goto out;
	}
	ml_error("gate: rejected: %s RMSE %.6g is not below %s's %.6g on the same %s data%s", set, rmse, other,
		 om.rmse, set, T.validation ? "" : " (no --validation was given)");
	char *text = json_dumps(*gate_out, JSON_COMPACT | JSON_REAL_PRECISION(17));
	if (text)
		fprintf(stderr, "%s\n", text);
	free(text);
	rc = ML_EXIT_FOUND;
out:
	ml_model_free(m);
	json_decref(entry);
	free(uri);
	return rc;
}

/* After --max-rmse: --must-beat, then --registry for an accepted model. */
static int beat_and_register(struct training *t, double rmse, const char *data, const char *data_name)
{
	struct ml_err err = ML_ERR_INIT;
	const char *name = T.model_name ? T.model_name : T.target;
	json_t *decision = NULL;
	long beaten = 0;
	int rc = ML_EXIT_OK;
	if (T.registry && ml_registry_check_name(name, &err) < 0)
		return ml_usage_error("%s%s", err.msg, T.model_name ? "" : " (the --target column): give --model-name");
	if (T.must_beat && (rc = must_beat(name, rmse, data, data_name, &decision, &beaten)) != ML_EXIT_OK)
		goto out;
	if (!T.registry)
		goto out;
	json_object_del(decision, "event");
	json_object_del(decision, "accepted");
	struct ml_registry_push p = {
		.name = name, .model_doc = t->doc, .source = "ml-train", .gate = decision,
		.status = T.must_beat || T.max_rmse >= 0 ? "accepted" : "registered",
		.best = T.must_beat && !strcmp(T.must_beat, "best") ? ML_REGISTRY_BEST_ALWAYS : ML_REGISTRY_BEST_IF_NONE,
		.beaten = beaten,
	};
	json_t *s = ml_registry_push(T.registry, &p, &err);
	if (!s) {
		rc = ml_fail(&err);
		goto out;
	}
	json_object_set_new(s, "event", json_string("registered"));
	ml_log_event(s);
	json_decref(s);
out:
	json_decref(decision);
	return rc;
}

/* --buffer-size, for an algorithm that can train in passes; the others need their data in memory. */
static int spool_budget(const struct ml_plugin *plugin, size_t *budget, struct ml_err *err)
{
	*budget = DEFAULT_BUFFER_SIZE;
	if (T.buffer_size && ml_parse_size(T.buffer_size, budget) < 0)
		return ml_err_set(err, ML_ERR_USAGE, "--buffer-size: expected a size such as 512M or 2G, got \"%s\"",
				  T.buffer_size);
	if (!plugin->ops.algo->train_rows) {
		if (T.buffer_size)
			ml_warn("--buffer-size is ignored: %s trains on data held in memory", plugin->name);
		*budget = SIZE_MAX;
	}
	return 0;
}

/* The recipe and the data, read once; in memory, or spooled rows when they outgrew the budget. */
static int training_set(struct training *t, const char *data, const char *name, struct ml_err *err)
{
	size_t budget;
	if (spool_budget(t->plugin, &budget, err) < 0 || open_spooled(data, name, 1, budget, &t->train_src, err) < 0)
		return -1;
	if (!T.recipe ? !(t->recipe = fit_spooled(&t->train_src, err))
		      : !(t->recipe = given_recipe(err)) || ml_spooled_read(t->recipe, &t->train_src, err) < 0)
		return -1;
	if (T.validation && (open_spooled(T.validation, T.validation, 0, budget, &t->valid_src, err) < 0 ||
			     ml_spooled_read(t->recipe, &t->valid_src, err) < 0))
		return -1;
	if (t->plugin->ops.algo->train_rows) {
		if (ml_spool_spilled(t->train_src.spool))
			ml_info("training data larger than --buffer-size: %s trains in passes over a temporary file",
				t->plugin->name);
		ml_spool_rows_init(&t->train_spool, &t->train_src, t->recipe);
		t->rows = &t->train_spool.rows;
		if (T.validation) {
			ml_spool_rows_init(&t->valid_spool, &t->valid_src, t->recipe);
			t->vrows = &t->valid_spool.rows;
		}
		return 0;
	}
	if (ml_spooled_materialize(t->recipe, &t->train_src, &t->train, err) < 0 ||
	    (T.validation && ml_spooled_materialize(t->recipe, &t->valid_src, &t->valid, err) < 0))
		return -1;
	ml_dataset_rows_init(&t->train_mem, &t->train);
	t->rows = &t->train_mem.rows;
	if (T.validation) {
		ml_dataset_rows_init(&t->valid_mem, &t->valid);
		t->vrows = &t->valid_mem.rows;
	}
	return 0;
}

static int train(const char *data, const char *data_name)
{
	struct ml_err err = ML_ERR_INIT;
	struct training t = { 0 };
	double judged = NAN;
	int rc = 0;
	if (!(t.plugin = ml_plugin_load(ML_PLUGIN_ALGORITHM, algorithms[T.algorithm], &err)) ||
	    !(t.hyperparameters = collect_hyperparameters(&err)) || training_set(&t, data, data_name, &err) < 0 ||
	    fit_model(&t, &err) < 0 || add_metrics(&t, &judged, &err) < 0 ||
	    ml_artifact_save(t.doc, ML_MODEL_FORMAT, ML_MODEL_MAJOR, T.output ? T.output : "-", &err) < 0 ||
	    (T.export_xgboost && ml_xgboost_save(t.doc, T.export_xgboost, &err) < 0))
		rc = ml_fail(&err);
	else
		rc = gate(judged);
	if (rc == ML_EXIT_OK && (T.must_beat || T.registry))
		rc = beat_and_register(&t, judged, data, data_name);
	training_release(&t);
	return rc;
}

static int unsupported_options(void)
{
	if (T.must_beat && !strcmp(T.must_beat, "best") && !T.registry)
		return ml_usage_error("--must-beat best needs --registry: the best of which registry?");
	if (T.model_name && !T.registry)
		return ml_usage_error("--model-name is the name in the registry: it needs --registry");
	if (T.export_xgboost && T.algorithm == 1)
		return ml_usage_error("--export-xgboost writes gradient-boosted trees: it needs -a gbtree, not -a linear");
	return 0;
}

static int cmd_train(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	ml_stream_cli_init(&stream);
	const struct ml_opt *tables[] = { train_opts, gbtree_opts, linear_opts,
					  ml_stream_cli_options(&stream), NULL };
	static const char summary[] =
		"Train a regression model on rows from FILE or standard input and write it as\n"
		"an mlpipe.model artifact (recipe, schema, parameters, metrics, SHA-256).\n"
		"Metrics go to stderr as NDJSON. Without --recipe, a default recipe is fitted:\n"
		"categoricals one-hot encoded; for linear, missing values imputed.";
	static const char epilog[] = "Example:\n"
				     "  ml-train -a linear --target price --wd 0.01 -o model.json < train.csv\n";
	const struct ml_cli cli = { .tool = "ml-train", .section = "train",
				    .synopsis = "ml-train [OPTION]... --target COL [FILE]",
				    .summary = summary, .tables = tables, .epilog = epilog,
				    .exit_status = exit_status };
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	if (!T.target)
		return ml_usage_error("the column to predict is required: --target COL");
	if (argc - first > 1)
		return ml_usage_error("one training file at most (or standard input)");
	int rc = unsupported_options();
	if (rc)
		return rc;
	ml_set_event_format(T.log_format == 1);
	const char *uri = first < argc ? argv[first] : "-";
	if (T.must_beat && !T.validation && !strcmp(uri, "-"))
		return ml_usage_error("--must-beat without --validation compares on the training data, "
				      "which must then be a file, not standard input");
	return train(uri, strcmp(uri, "-") ? uri : "<stdin>");
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_train);
}
