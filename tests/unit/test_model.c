/*
 * test_model.c - what training and scoring share: regression metrics worked
 * out by hand, reading a whole stream through a recipe into memory, and the
 * model artifact: refused when missing, not an artifact, without its digest,
 * tampered with, or naming an algorithm there is no plugin for; scored
 * through a tiny built-in "constant" algorithm plugin otherwise, with a
 * log1p target undone on the way out.
 */
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>

#include "mlpipe/artifact.h"
#include "mlpipe/model.h"
#include "mlpipe/plugin.h"
#include "testutil.h"

#define TOL 1e-12

/* ---- a built-in algorithm: every prediction is "value" from the model ---- */

struct constant {
	double value;
};

static int constant_frees;

static void *constant_load(const json_t *model, struct ml_err *err)
{
	const json_t *v = json_object_get(model, "value");
	if (!json_is_number(v)) {
		ml_err_set(err, ML_ERR_DATA, "constant model: \"value\" must be a number");
		return NULL;
	}
	struct constant *c = ml_malloc(sizeof *c, err);
	if (c)
		c->value = json_number_value(v);
	return c;
}

static int constant_predict(const void *predictor, const struct ml_matrix *x, double *out, struct ml_err *err)
{
	(void)err;
	const struct constant *c = predictor;
	for (size_t i = 0; i < x->nrows; i++)
		out[i] = c->value;
	return 0;
}

static void constant_free(void *predictor)
{
	constant_frees++;
	free(predictor);
}

static const struct ml_algo_ops constant_ops = {
	.size = sizeof constant_ops,
	.load = constant_load,
	.predict = constant_predict,
	.free = constant_free,
};

static const struct ml_plugin constant_plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof constant_plugin,
	.kind = ML_PLUGIN_ALGORITHM,
	.name = "constant",
	.version = "0.0.1",
	.description = "predicts one number (tests)",
	.ops.algo = &constant_ops,
};

/* An algorithm that can train but not score. */
static const struct ml_algo_ops trainonly_ops = { .size = sizeof trainonly_ops };
static const struct ml_plugin trainonly_plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof trainonly_plugin,
	.kind = ML_PLUGIN_ALGORITHM,
	.name = "trainonly",
	.version = "0.0.1",
	.ops.algo = &trainonly_ops,
};

static char empty_plugin_dir[4200];

static void setup(void)
{
	test_scratch_setup();
	/* No plugin from the environment: only built-ins and the build tree. */
	snprintf(empty_plugin_dir, sizeof empty_plugin_dir, "%s/plugins", test_dir());
	ck_assert_int_eq(mkdir(empty_plugin_dir, 0755), 0);
	ck_assert_int_eq(setenv("MLPIPE_PLUGIN_PATH", empty_plugin_dir, 1), 0);
	struct ml_err err = ML_ERR_INIT;
	ck_assert_msg(ml_plugin_register_builtin(&constant_plugin, &err) == 0, "%s", err.msg);
	ck_assert_msg(ml_plugin_register_builtin(&trainonly_plugin, &err) == 0, "%s", err.msg);
	constant_frees = 0;
}

static void teardown(void)
{
	ml_plugin_unload_all();
	test_scratch_teardown();
}

/* ---- metrics ---- */

START_TEST(test_metrics_by_hand)
{
	/* e = y - pred = -0.5, 0, 1, -1: SSE 2.25, RMSE sqrt(2.25 / 4) = 0.75,
	 * MAE 2.5 / 4 = 0.625; mean(y) 2.5, SST 5, R2 1 - 2.25 / 5 = 0.55. */
	const double y[] = { 1, 2, 3, 4 }, pred[] = { 1.5, 2, 2, 5 };
	struct ml_metrics m;
	ml_metrics_compute(y, pred, 4, &m);
	ck_assert_uint_eq(m.n, 4);
	ck_assert_double_eq_tol(m.rmse, 0.75, TOL);
	ck_assert_double_eq_tol(m.mae, 0.625, TOL);
	ck_assert_double_eq_tol(m.r2, 0.55, TOL);
}
END_TEST

START_TEST(test_metrics_skip_nan_rows)
{
	/* The same four rows with a missing label and a missing prediction mixed
	 * in: those rows do not count at all (not even in the mean of y). */
	const double y[] = { NAN, 1, 2, 100, 3, NAN, 4 };
	const double pred[] = { 7, 1.5, 2, NAN, 2, NAN, 5 };
	struct ml_metrics m;
	ml_metrics_compute(y, pred, 7, &m);
	ck_assert_uint_eq(m.n, 4);
	ck_assert_double_eq_tol(m.rmse, 0.75, TOL);
	ck_assert_double_eq_tol(m.mae, 0.625, TOL);
	ck_assert_double_eq_tol(m.r2, 0.55, TOL);
}
END_TEST

START_TEST(test_metrics_perfect_and_worse_than_mean)
{
	const double y[] = { 10, 20, 30 };
	struct ml_metrics m;
	ml_metrics_compute(y, y, 3, &m);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_double_eq(m.rmse, 0);
	ck_assert_double_eq(m.mae, 0);
	ck_assert_double_eq(m.r2, 1);

	/* Predicting backwards: SSE 800, SST 200 -> R2 = 1 - 4 = -3 (may go below 0). */
	const double back[] = { 30, 20, 10 };
	ml_metrics_compute(y, back, 3, &m);
	ck_assert_double_eq_tol(m.rmse, sqrt(800.0 / 3), 1e-9);
	ck_assert_double_eq_tol(m.mae, 40.0 / 3, 1e-9);
	ck_assert_double_eq_tol(m.r2, -3, TOL);

	/* Predicting the mean everywhere: R2 0. */
	const double mean[] = { 20, 20, 20 };
	ml_metrics_compute(y, mean, 3, &m);
	ck_assert_double_eq_tol(m.r2, 0, TOL);
	ck_assert_double_eq_tol(m.rmse, sqrt(200.0 / 3), 1e-9);
}
END_TEST

START_TEST(test_metrics_no_rows)
{
	const double y[] = { NAN, 1, NAN }, pred[] = { 1, NAN, NAN };
	struct ml_metrics m;
	ml_metrics_compute(y, pred, 3, &m);
	ck_assert_uint_eq(m.n, 0);
	ck_assert(isnan(m.rmse));
	ck_assert(isnan(m.mae));
	ck_assert(isnan(m.r2));

	memset(&m, 0, sizeof m);
	ml_metrics_compute(y, pred, 0, &m);
	ck_assert_uint_eq(m.n, 0);
	ck_assert(isnan(m.rmse) && isnan(m.mae) && isnan(m.r2));
}
END_TEST

START_TEST(test_metrics_constant_label)
{
	/* R2 is undefined when y does not vary: NaN (JSON null), not a made-up number. */
	const double y[] = { 3, 3, 3, 3 }, pred[] = { 3, 3, 4, 2 };
	struct ml_metrics m;
	ml_metrics_compute(y, pred, 4, &m);
	ck_assert_uint_eq(m.n, 4);
	ck_assert_double_eq_tol(m.rmse, sqrt(0.5), TOL);
	ck_assert_double_eq_tol(m.mae, 0.5, TOL);
	ck_assert(isnan(m.r2));
}
END_TEST

START_TEST(test_metrics_json)
{
	struct ml_metrics m = { 4, 0.75, 0.625, 0.55 };
	json_t *j = ml_metrics_to_json(&m);
	ck_assert_ptr_nonnull(j);
	ck_assert_uint_eq(json_object_size(j), 4);
	ck_assert(json_is_integer(json_object_get(j, "rows")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "rows")), 4);
	ck_assert_double_eq(json_number_value(json_object_get(j, "rmse")), 0.75);
	ck_assert_double_eq(json_number_value(json_object_get(j, "mae")), 0.625);
	ck_assert_double_eq(json_number_value(json_object_get(j, "r2")), 0.55);
	json_decref(j);

	/* No rows: the numbers are null, valid JSON (never NaN). */
	const double y[] = { NAN }, pred[] = { NAN };
	ml_metrics_compute(y, pred, 1, &m);
	j = ml_metrics_to_json(&m);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "rows")), 0);
	ck_assert(json_is_null(json_object_get(j, "rmse")));
	ck_assert(json_is_null(json_object_get(j, "mae")));
	ck_assert(json_is_null(json_object_get(j, "r2")));
	char *text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(text, "{\"mae\":null,\"r2\":null,\"rmse\":null,\"rows\":0}");
	free(text);
	json_decref(j);

	/* Only r2 missing (constant label). */
	struct ml_metrics c = { 2, 1, 1, NAN };
	j = ml_metrics_to_json(&c);
	ck_assert(json_is_number(json_object_get(j, "rmse")));
	ck_assert(json_is_null(json_object_get(j, "r2")));
	json_decref(j);
}
END_TEST

/* ---- datasets ---- */

static const char train_csv[] = "make,year,mileage,price\n"
				"Ford,2010,50,5000\n"
				"Saab,2012,,7000\n"
				"Ford,2015,30,12000\n";

static struct ml_reader *open_csv(const char *name, const char *text, size_t batch_rows)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	if (batch_rows)
		o.batch_rows = batch_rows;
	test_write_file(test_dir(), name, text, strlen(text));
	struct ml_reader *r = ml_reader_open(&name, 1, &o, &err);
	ck_assert_msg(r, "%s", err.msg);
	return r;
}

static struct ml_recipe *fit_recipe(const char *text, int log1p_target)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.target = "price";
	o.log1p_target = log1p_target;
	struct ml_reader *r = open_csv("train.csv", text, 0);
	struct ml_recipe *rc = ml_recipe_fit(r, &o, &err);
	ck_assert_msg(rc, "%s", err.msg);
	ml_reader_close(r);
	return rc;
}

static size_t feature(const struct ml_recipe *rc, const char *name)
{
	for (size_t i = 0; i < ml_recipe_nfeatures(rc); i++)
		if (!strcmp(ml_recipe_feature_name(rc, i), name))
			return i;
	ck_abort_msg("no feature \"%s\"", name);
	return 0;
}

START_TEST(test_dataset_read)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe *rc = fit_recipe(train_csv, 0);
	ck_assert_str_eq(ml_recipe_target(rc), "price");
	/* make=Ford, make=Saab, make=(other), year, mileage; price is the label. */
	ck_assert_uint_eq(ml_recipe_nfeatures(rc), 5);

	struct ml_reader *r = open_csv("train.csv", train_csv, 0);
	struct ml_dataset d;
	ck_assert_msg(ml_dataset_read(rc, r, "train.csv", &d, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(d.nrows, 3);
	ck_assert_uint_eq(d.nfeatures, 5);
	size_t ford = feature(rc, "make=Ford"), saab = feature(rc, "make=Saab"), other = feature(rc, "make=(other)");
	size_t year = feature(rc, "year"), mileage = feature(rc, "mileage");
	const double *x = d.x;
	ck_assert_double_eq(x[0 * 5 + ford], 1);
	ck_assert_double_eq(x[0 * 5 + saab], 0);
	ck_assert_double_eq(x[0 * 5 + other], 0);
	ck_assert_double_eq(x[0 * 5 + year], 2010);
	ck_assert_double_eq(x[0 * 5 + mileage], 50);
	ck_assert_double_eq(x[1 * 5 + ford], 0);
	ck_assert_double_eq(x[1 * 5 + saab], 1);
	ck_assert_double_eq(x[1 * 5 + year], 2012);
	ck_assert(isnan(x[1 * 5 + mileage]));	/* no imputation asked: missing stays NaN */
	ck_assert_double_eq(x[2 * 5 + ford], 1);
	ck_assert_double_eq(x[2 * 5 + year], 2015);
	ck_assert_double_eq(x[2 * 5 + mileage], 30);
	ck_assert_double_eq(d.y[0], 5000);
	ck_assert_double_eq(d.y[1], 7000);
	ck_assert_double_eq(d.y[2], 12000);
	ml_dataset_release(&d);
	ck_assert_ptr_null(d.x);
	ck_assert_ptr_null(d.y);
	ck_assert_uint_eq(d.nrows, 0);
	ml_reader_close(r);
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_dataset_log1p_target)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe *rc = fit_recipe(train_csv, 1);
	struct ml_reader *r = open_csv("train.csv", train_csv, 0);
	struct ml_dataset d;
	ck_assert_msg(ml_dataset_read(rc, r, "train.csv", &d, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(d.nrows, 3);
	/* y is the transformed target the algorithm trains on. */
	ck_assert_double_eq(d.y[0], log1p(5000));
	ck_assert_double_eq(d.y[1], log1p(7000));
	ck_assert_double_eq(d.y[2], log1p(12000));
	/* Features are not touched by the target's transform. */
	ck_assert_double_eq(d.x[0 * 5 + feature(rc, "year")], 2010);
	ml_dataset_release(&d);
	ml_reader_close(r);
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_dataset_many_rows_and_batches)
{
	/* More rows than a batch and than the first allocation (4096 rows). */
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe *rc = fit_recipe(train_csv, 0);
	struct ml_buf text;
	ml_buf_init(&text, 1 << 24);
	ml_buf_adds(&text, "price,mileage,year,make,extra\n");	/* any column order */
	const size_t n = 10000;
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(ml_buf_printf(&text, "%zu,%zu,%zu,%s,zz\n", i * 2, i, 2000 + i % 20,
					       i % 3 ? "Ford" : "Saab"), 0);
	struct ml_reader *r = open_csv("big.csv", text.data, 1000);
	ml_buf_release(&text);
	struct ml_dataset d;
	ck_assert_msg(ml_dataset_read(rc, r, "big.csv", &d, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(d.nrows, n);
	ck_assert_uint_eq(d.nfeatures, 5);
	size_t year = feature(rc, "year"), mileage = feature(rc, "mileage"), saab = feature(rc, "make=Saab");
	for (size_t i = 0; i < n; i++) {
		ck_assert_double_eq(d.y[i], (double)(i * 2));
		ck_assert_double_eq(d.x[i * 5 + mileage], (double)i);
		ck_assert_double_eq(d.x[i * 5 + year], (double)(2000 + i % 20));
		ck_assert_double_eq(d.x[i * 5 + saab], i % 3 ? 0 : 1);
	}
	ml_dataset_release(&d);
	ml_reader_close(r);
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_dataset_without_label_column)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe *rc = fit_recipe(train_csv, 0);
	struct ml_reader *r = open_csv("score.csv", "make,year,mileage\nFord,2011,20\n", 0);
	struct ml_dataset d;
	memset(&d, 0x5a, sizeof d);
	ck_assert_int_eq(ml_dataset_read(rc, r, "score.csv", &d, &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ck_assert_msg(strstr(err.msg, "score.csv") && strstr(err.msg, "\"price\""), "%s", err.msg);
	ml_dataset_release(&d);	/* harmless after a failure */
	ml_reader_close(r);
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_dataset_empty_label_names_line)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe *rc = fit_recipe(train_csv, 0);
	/* Line 1 is the header; the empty label is on line 4. */
	struct ml_reader *r = open_csv("holes.csv", "make,year,mileage,price\n"
						    "Ford,2010,50,5000\n"
						    "Saab,2012,40,7000\n"
						    "Ford,2013,45,\n"
						    "Ford,2014,35,9000\n",
				       0);
	struct ml_dataset d;
	ck_assert_int_eq(ml_dataset_read(rc, r, "holes.csv", &d, &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ck_assert_msg(!strncmp(err.msg, "holes.csv:4:", 12), "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "price"), "%s", err.msg);
	ck_assert_ptr_null(d.x);	/* nothing half-read is handed back */
	ck_assert_ptr_null(d.y);
	ck_assert_uint_eq(d.nrows, 0);
	ml_reader_close(r);

	/* The same in a later batch, after a quoted field spanning lines, and as "NA". */
	r = open_csv("holes2.csv", "make,year,mileage,price\n"
				   "\"Fo\nrd\",2010,50,5000\n"
				   "Saab,2012,40,7000\n"
				   "Ford,2013,45,8000\n"
				   "Ford,2014,35,NA\n",
		     2);
	ck_assert_int_eq(ml_dataset_read(rc, r, "holes2.csv", &d, &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ck_assert_msg(!strncmp(err.msg, "holes2.csv:6:", 13), "%s", err.msg);
	ml_reader_close(r);
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_dataset_recipe_without_target)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	struct ml_reader *r = open_csv("train.csv", train_csv, 0);
	struct ml_recipe *rc = ml_recipe_fit(r, &o, &err);
	ck_assert_msg(rc, "%s", err.msg);
	ml_reader_close(r);
	ck_assert_ptr_null(ml_recipe_target(rc));
	r = open_csv("train.csv", train_csv, 0);
	struct ml_dataset d;
	ck_assert_int_eq(ml_dataset_read(rc, r, "train.csv", &d, &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	ml_reader_close(r);
	ml_recipe_free(rc);
}
END_TEST

/* ---- the model artifact ---- */

static const char *path_in_dir(const char *name)
{
	static char path[4200];
	snprintf(path, sizeof path, "%s/%s", test_dir(), name);
	return path;
}

/* A model document as ml-train writes it; model_params is stolen. */
static json_t *model_doc(const struct ml_recipe *rc, const char *algorithm, json_t *model_params)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "algorithm", json_string(algorithm));
	json_object_set_new(doc, "algorithm_version", json_string("0.0.1"));
	json_object_set_new(doc, "recipe", ml_recipe_to_json(rc));
	json_object_set_new(doc, "hyperparameters", json_pack("{s:s}", "value", "42.5"));
	json_object_set_new(doc, "model", model_params);
	return doc;
}

static void save_doc(json_t *doc, const char *path)
{
	struct ml_err err = ML_ERR_INIT;
	ck_assert_msg(ml_artifact_save(doc, ML_MODEL_FORMAT, ML_MODEL_MAJOR, path, &err) == 0, "%s", err.msg);
	json_decref(doc);
}

static const char *save_constant_model(const struct ml_recipe *rc, const char *name, double value)
{
	const char *path = path_in_dir(name);
	save_doc(model_doc(rc, "constant", json_pack("{s:f}", "value", value)), path);
	return path;
}

/* Load path expecting failure of class want; return the message. */
static const char *load_fails(const char *path, enum ml_errclass want)
{
	static struct ml_err err;
	ml_err_clear(&err);
	struct ml_model *m = ml_model_load(path, &err);
	ck_assert_msg(!m, "%s loaded", path);
	ck_assert_msg(err.class == want, "%s: class %s, want %s: %s", path, ml_errclass_name(err.class),
		      ml_errclass_name(want), err.msg);
	ck_assert_msg(err.msg[0], "no message");
	return err.msg;
}

START_TEST(test_load_missing_file)
{
	const char *msg = load_fails(path_in_dir("nope.json"), ML_ERR_NOINPUT);
	ck_assert_msg(strstr(msg, "nope.json"), "%s", msg);
}
END_TEST

START_TEST(test_load_not_an_artifact)
{
	const char *msg;
	test_write_file(test_dir(), "hp.json", "{\"eta\": 0.3}\n", 13);
	msg = load_fails(path_in_dir("hp.json"), ML_ERR_DATA);
	ck_assert_msg(strstr(msg, "hp.json") && strstr(msg, "format"), "%s", msg);

	test_write_file(test_dir(), "list.json", "[1, 2]\n", 7);
	load_fails(path_in_dir("list.json"), ML_ERR_DATA);

	test_write_file(test_dir(), "broken.json", "{\"format\": \n", 12);
	msg = load_fails(path_in_dir("broken.json"), ML_ERR_DATA);
	ck_assert_msg(strstr(msg, "broken.json:"), "%s", msg);	/* file:line:column */

	test_write_file(test_dir(), "data.csv", "a,b\n1,2\n", 8);
	load_fails(path_in_dir("data.csv"), ML_ERR_DATA);

	/* A recipe is an artifact, but not a model. */
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe *rc = fit_recipe(train_csv, 0);
	ck_assert_int_eq(ml_recipe_save(rc, path_in_dir("recipe.json"), &err), 0);
	msg = load_fails(path_in_dir("recipe.json"), ML_ERR_DATA);
	ck_assert_msg(strstr(msg, "mlpipe.recipe"), "%s", msg);
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_load_requires_digest)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe *rc = fit_recipe(train_csv, 0);
	const char *path = save_constant_model(rc, "model.json", 42.5);
	char saved[4200];
	snprintf(saved, sizeof saved, "%s", path);

	/* Remove only "sha256": the format is right, the rest is a valid model. */
	json_error_t je;
	json_t *doc = json_load_file(saved, 0, &je);
	ck_assert_msg(doc, "%s", je.text);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "format")), "mlpipe.model/1");
	ck_assert_int_eq(json_object_del(doc, "sha256"), 0);
	ck_assert_int_eq(json_dump_file(doc, saved, JSON_INDENT(2)), 0);
	json_decref(doc);
	json_t *lenient = ml_artifact_load(saved, ML_MODEL_FORMAT, ML_MODEL_MAJOR, 0, NULL, &err);
	ck_assert_msg(lenient, "only the digest is missing, yet: %s", err.msg);
	json_decref(lenient);

	const char *msg = load_fails(saved, ML_ERR_DATA);
	ck_assert_msg(strstr(msg, "sha256") && strstr(msg, "model.json"), "%s", msg);
	ck_assert_int_eq(constant_frees, 0);	/* refused before the plugin saw it */
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_load_detects_tampering)
{
	struct ml_recipe *rc = fit_recipe(train_csv, 0);
	const char *path = save_constant_model(rc, "model.json", 42.5);
	char saved[4200];
	snprintf(saved, sizeof saved, "%s", path);
	json_error_t je;
	json_t *doc = json_load_file(saved, 0, &je);
	ck_assert_ptr_nonnull(doc);

	/* Re-indenting keeps the content, so the digest still holds. */
	ck_assert_int_eq(json_dump_file(doc, saved, JSON_COMPACT), 0);
	struct ml_err err = ML_ERR_INIT;
	struct ml_model *m = ml_model_load(saved, &err);
	ck_assert_msg(m, "re-indented model refused: %s", err.msg);
	ml_model_free(m);

	/* Changing a parameter does not. */
	json_object_set_new(json_object_get(doc, "model"), "value", json_real(1e6));
	ck_assert_int_eq(json_dump_file(doc, saved, JSON_INDENT(2)), 0);
	json_decref(doc);
	const char *msg = load_fails(saved, ML_ERR_DATA);
	ck_assert_msg(strstr(msg, "SHA-256"), "%s", msg);
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_load_newer_major_refused)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe *rc = fit_recipe(train_csv, 0);
	json_t *doc = model_doc(rc, "constant", json_pack("{s:f}", "value", 1.0));
	const char *path = path_in_dir("future.json");
	ck_assert_int_eq(ml_artifact_save(doc, ML_MODEL_FORMAT, ML_MODEL_MAJOR + 1, path, &err), 0);
	json_decref(doc);
	const char *msg = load_fails(path, ML_ERR_DATA);
	ck_assert_msg(strstr(msg, "newer"), "%s", msg);
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_load_unknown_algorithm)
{
	struct ml_recipe *rc = fit_recipe(train_csv, 0);
	const char *path = path_in_dir("model.json");
	save_doc(model_doc(rc, "nosuchalgo", json_pack("{s:f}", "value", 1.0)), path);
	const char *msg = load_fails(path, ML_ERR_UNAVAILABLE);
	ck_assert_msg(strstr(msg, "nosuchalgo") && strstr(msg, "model.json"), "%s", msg);
	ck_assert_int_eq(ml_exit_code(&(struct ml_err){ ML_ERR_UNAVAILABLE, "x" }), 69);

	/* A plugin that cannot score is "unavailable" too. */
	save_doc(model_doc(rc, "trainonly", json_pack("{s:f}", "value", 1.0)), path);
	msg = load_fails(path, ML_ERR_UNAVAILABLE);
	ck_assert_msg(strstr(msg, "trainonly"), "%s", msg);
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_load_incomplete_models)
{
	struct ml_recipe *rc = fit_recipe(train_csv, 0);
	const char *path = path_in_dir("model.json");
	const char *msg;

	json_t *doc = model_doc(rc, "constant", json_pack("{s:f}", "value", 1.0));
	json_object_del(doc, "algorithm");
	save_doc(doc, path);
	msg = load_fails(path, ML_ERR_DATA);
	ck_assert_msg(strstr(msg, "algorithm"), "%s", msg);

	doc = model_doc(rc, "constant", json_pack("{s:f}", "value", 1.0));
	json_object_del(doc, "recipe");
	save_doc(doc, path);
	msg = load_fails(path, ML_ERR_DATA);
	ck_assert_msg(strstr(msg, "recipe"), "%s", msg);

	doc = model_doc(rc, "constant", json_pack("{s:f}", "value", 1.0));
	json_object_del(doc, "model");
	save_doc(doc, path);
	msg = load_fails(path, ML_ERR_DATA);
	ck_assert_msg(strstr(msg, "model"), "%s", msg);

	/* The plugin refuses its own parameters: its message, prefixed with the file. */
	save_doc(model_doc(rc, "constant", json_pack("{s:s}", "value", "lots")), path);
	msg = load_fails(path, ML_ERR_DATA);
	ck_assert_msg(strstr(msg, "model.json") && strstr(msg, "\"value\" must be a number"), "%s", msg);

	/* A broken embedded recipe. */
	doc = model_doc(rc, "constant", json_pack("{s:f}", "value", 1.0));
	json_object_set_new(doc, "recipe", json_pack("{s:s}", "format", "mlpipe.recipe/1"));
	save_doc(doc, path);
	load_fails(path, ML_ERR_DATA);
	ck_assert_int_eq(constant_frees, 0);
	ml_recipe_free(rc);
}
END_TEST

/* Read text through the model's recipe into x (nrows x nfeatures); returns nrows. */
static size_t features_of(const struct ml_model *m, const char *text, double **x)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_csv("score.csv", text, 0);
	ck_assert_msg(ml_reader_bind(r, ml_recipe_input_schema(m->recipe), 1, &err) == 0, "%s", err.msg);
	struct ml_batch b;
	ml_batch_init(&b);
	long n = ml_reader_read_batch(r, &b, &err);
	ck_assert_msg(n > 0, "%s", err.msg);
	size_t nf = ml_recipe_nfeatures(m->recipe);
	*x = calloc((size_t)n * nf, sizeof **x);
	ck_assert_msg(ml_recipe_apply(m->recipe, &b, *x, NULL, &err) == 0, "%s", err.msg);
	ml_batch_release(&b);
	ml_reader_close(r);
	return (size_t)n;
}

static const char score_csv[] = "make,year,mileage\n"
				"Ford,2011,20\n"
				"Kia,2020,\n"
				",,\n";

START_TEST(test_load_and_predict)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe *rc = fit_recipe(train_csv, 0);
	const char *path = save_constant_model(rc, "model.json", 42.5);
	ml_recipe_free(rc);

	struct ml_model *m = ml_model_load(path, &err);
	ck_assert_msg(m, "%s", err.msg);
	ck_assert_ptr_eq(m->plugin, &constant_plugin);
	ck_assert_ptr_nonnull(m->predictor);
	ck_assert_ptr_nonnull(m->doc);
	ck_assert_str_eq(json_string_value(json_object_get(m->doc, "algorithm")), "constant");
	ck_assert_str_eq(ml_recipe_target(m->recipe), "price");
	ck_assert_uint_eq(ml_recipe_nfeatures(m->recipe), 5);

	/* Scoring rows without the label, with an unseen level and missing values. */
	double *x;
	size_t n = features_of(m, score_csv, &x);
	ck_assert_uint_eq(n, 3);
	double out[3] = { 0, 0, 0 };
	struct ml_matrix mx = { n, ml_recipe_nfeatures(m->recipe), x };
	ck_assert_msg(ml_model_predict(m, &mx, out, &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < n; i++)
		ck_assert_double_eq(out[i], 42.5);

	/* A matrix of the wrong width is refused, not read out of bounds. */
	struct ml_matrix narrow = { n, 4, x };
	ck_assert_int_eq(ml_model_predict(m, &narrow, out, &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_INTERNAL);

	/* No rows is fine. */
	struct ml_matrix none = { 0, 5, x };
	ck_assert_int_eq(ml_model_predict(m, &none, out, &err), 0);
	free(x);

	ml_model_free(m);
	ck_assert_int_eq(constant_frees, 1);	/* the predictor went back to the plugin */
	ml_model_free(NULL);
}
END_TEST

START_TEST(test_predict_undoes_log1p_target)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe *rc = fit_recipe(train_csv, 1);
	const char *path = save_constant_model(rc, "model.json", 42.5);
	ml_recipe_free(rc);
	struct ml_model *m = ml_model_load(path, &err);
	ck_assert_msg(m, "%s", err.msg);

	/* The algorithm predicts on the log1p scale; the model answers in price units. */
	double *x;
	size_t n = features_of(m, score_csv, &x);
	double out[3];
	struct ml_matrix mx = { n, ml_recipe_nfeatures(m->recipe), x };
	ck_assert_msg(ml_model_predict(m, &mx, out, &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < n; i++)
		ck_assert_double_eq(out[i], expm1(42.5));
	free(x);
	ml_model_free(m);

	/* A realistic value round-trips: log1p(7000) predicted gives 7000 back. */
	rc = fit_recipe(train_csv, 1);
	path = save_constant_model(rc, "model2.json", log1p(7000));
	ml_recipe_free(rc);
	m = ml_model_load(path, &err);
	ck_assert_msg(m, "%s", err.msg);
	n = features_of(m, score_csv, &x);
	struct ml_matrix mx2 = { n, ml_recipe_nfeatures(m->recipe), x };
	ck_assert_int_eq(ml_model_predict(m, &mx2, out, &err), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_double_eq_tol(out[i], 7000, 1e-9);
	free(x);
	ml_model_free(m);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("metrics");
	tcase_add_test(tc, test_metrics_by_hand);
	tcase_add_test(tc, test_metrics_skip_nan_rows);
	tcase_add_test(tc, test_metrics_perfect_and_worse_than_mean);
	tcase_add_test(tc, test_metrics_no_rows);
	tcase_add_test(tc, test_metrics_constant_label);
	tcase_add_test(tc, test_metrics_json);
	suite_add_tcase(s, tc);

	tc = tcase_create("dataset");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dataset_read);
	tcase_add_test(tc, test_dataset_log1p_target);
	tcase_add_test(tc, test_dataset_many_rows_and_batches);
	tcase_add_test(tc, test_dataset_without_label_column);
	tcase_add_test(tc, test_dataset_empty_label_names_line);
	tcase_add_test(tc, test_dataset_recipe_without_target);
	suite_add_tcase(s, tc);

	tc = tcase_create("artifact");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_load_missing_file);
	tcase_add_test(tc, test_load_not_an_artifact);
	tcase_add_test(tc, test_load_requires_digest);
	tcase_add_test(tc, test_load_detects_tampering);
	tcase_add_test(tc, test_load_newer_major_refused);
	tcase_add_test(tc, test_load_unknown_algorithm);
	tcase_add_test(tc, test_load_incomplete_models);
	tcase_add_test(tc, test_load_and_predict);
	tcase_add_test(tc, test_predict_undoes_log1p_target);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
