/*
 * test_xgboost.c - XGBoost JSON models in and out (xgboost.h).
 *
 * Fixtures in tests/data/xgboost (made by its make.sh with Debian's
 * python3-xgboost 1.7): a model with feature names and one without
 * (reg:tweedie), with XGBoost's own predictions on rows with missing values.
 * An imported model is scored through a small built-in "gbtree" algorithm
 * that walks the trees the way XGBoost does (floats, `x < threshold`,
 * missing to default_left), so these tests need no plugin.  Hostile
 * variants of the fixture (bad child index, cycles, wrong lengths and types,
 * huge num_feature, missing members) are refused with ML_ERR_DATA naming the
 * tree; what the plugin cannot score (dart, gblinear, classification,
 * categorical splits, several outputs) with ML_ERR_UNAVAILABLE.  Export
 * writes back exactly the arrays XGBoost wrote (parents included).
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>

#include "mlpipe/artifact.h"
#include "mlpipe/model.h"
#include "mlpipe/plugin.h"
#include "mlpipe/xgboost.h"
#include "testutil.h"

#define NFEAT 6
#define MAX_ROWS 256

static char root[PATH_MAX];

static const char *fixture(const char *name)
{
	static char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/tests/data/xgboost/%s", root, name);
	return path;
}

/* ---- a reference scorer: XGBoost's traversal, in floats ---- */

struct ref_tree {
	size_t n;
	long long *left, *right, *feat, *dleft;
	float *cond;
};

struct ref_forest {
	int tweedie;
	float base;
	size_t ntrees;
	struct ref_tree *trees;
};

static void ref_free(void *p)
{
	struct ref_forest *f = p;
	for (size_t t = 0; f && t < f->ntrees; t++) {
		free(f->trees[t].left);
		free(f->trees[t].right);
		free(f->trees[t].feat);
		free(f->trees[t].dleft);
		free(f->trees[t].cond);
	}
	if (f)
		free(f->trees);
	free(f);
}

static long long *int_array(const json_t *a)
{
	long long *v = calloc(json_array_size(a) + 1, sizeof *v);
	for (size_t i = 0; i < json_array_size(a); i++)
		v[i] = json_integer_value(json_array_get(a, i));
	return v;
}

static void *ref_load(const json_t *model, struct ml_err *err)
{
	const json_t *trees = json_object_get(model, "trees");
	const char *obj = json_string_value(json_object_get(model, "objective"));
	struct ref_forest *f = calloc(1, sizeof *f);
	if (!json_is_array(trees) || !obj) {
		free(f);
		ml_err_set(err, ML_ERR_DATA, "reference scorer: no trees");
		return NULL;
	}
	f->tweedie = !strcmp(obj, "reg:tweedie");
	f->base = (float)json_number_value(json_object_get(model, "base_score"));
	f->ntrees = json_array_size(trees);
	f->trees = calloc(f->ntrees, sizeof *f->trees);
	for (size_t t = 0; t < f->ntrees; t++) {
		const json_t *o = json_array_get(trees, t), *cond = json_object_get(o, "split_conditions");
		struct ref_tree *rt = &f->trees[t];
		rt->n = json_array_size(cond);
		rt->left = int_array(json_object_get(o, "left_children"));
		rt->right = int_array(json_object_get(o, "right_children"));
		rt->feat = int_array(json_object_get(o, "split_indices"));
		rt->dleft = int_array(json_object_get(o, "default_left"));
		rt->cond = calloc(rt->n + 1, sizeof *rt->cond);
		for (size_t i = 0; i < rt->n; i++)
			rt->cond[i] = (float)json_number_value(json_array_get(cond, i));
	}
	return f;
}

static int ref_predict(const void *p, const struct ml_matrix *x, double *out, struct ml_err *err)
{
	(void)err;
	const struct ref_forest *f = p;
	for (size_t r = 0; r < x->nrows; r++) {
		float margin = f->tweedie ? logf(f->base) : f->base;
		for (size_t t = 0; t < f->ntrees; t++) {
			const struct ref_tree *rt = &f->trees[t];
			long long i = 0;
			while (rt->left[i] != -1) {
				double v = x->v[r * x->ncols + (size_t)rt->feat[i]];
				int left = isnan(v) ? rt->dleft[i] != 0 : (float)v < rt->cond[i];
				i = left ? rt->left[i] : rt->right[i];
			}
			margin += rt->cond[i];
		}
		out[r] = f->tweedie ? expf(margin) : margin;
	}
	return 0;
}

static const struct ml_algo_ops ref_ops = {
	.size = sizeof ref_ops,
	.load = ref_load,
	.predict = ref_predict,
	.free = ref_free,
};

static const struct ml_plugin ref_plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof ref_plugin,
	.kind = ML_PLUGIN_ALGORITHM,
	.name = "gbtree",
	.version = "0.0.1",
	.description = "XGBoost's traversal, for tests",
	.ops.algo = &ref_ops,
};

static void setup(void)
{
	test_scratch_setup();
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/plugins", test_dir());
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(setenv("MLPIPE_PLUGIN_PATH", dir, 1), 0);
	struct ml_err err = ML_ERR_INIT;
	ck_assert_msg(ml_plugin_register_builtin(&ref_plugin, &err) == 0, "%s", err.msg);
}

static void teardown(void)
{
	ml_plugin_unload_all();
	test_scratch_teardown();
}

/* ---- the fixture rows: cars.csv (price, then the six features; empty = missing) ---- */

struct rows {
	size_t n;
	double x[MAX_ROWS * NFEAT];
	double want[MAX_ROWS];
};

static void read_rows(const char *pred_name, struct rows *rows)
{
	char line[512];
	FILE *f = fopen(fixture("cars.csv"), "r"), *p = fopen(fixture(pred_name), "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));	/* headers */
	ck_assert_ptr_nonnull(fgets(line, sizeof line, p));
	rows->n = 0;
	while (fgets(line, sizeof line, f)) {
		ck_assert_uint_lt(rows->n, MAX_ROWS);
		char *s = strchr(line, ',');	/* skip price */
		for (size_t j = 0; j < NFEAT; j++) {
			ck_assert_ptr_nonnull(s);
			s++;
			char *end;
			double v = strtod(s, &end);
			rows->x[rows->n * NFEAT + j] = end == s ? NAN : v;
			s = strchr(s, ',');
		}
		char pl[64];
		ck_assert_ptr_nonnull(fgets(pl, sizeof pl, p));
		rows->want[rows->n++] = strtod(pl, NULL);
	}
	fclose(f);
	fclose(p);
	ck_assert_uint_eq(rows->n, 200);
}

/* Largest |got - want| / |want| over the fixture rows, through the model's own predict. */
static double max_rel_diff(const struct ml_model *m, const struct rows *rows)
{
	double got[MAX_ROWS], worst = 0;
	struct ml_matrix x = { rows->n, NFEAT, rows->x };
	struct ml_err err = ML_ERR_INIT;
	ck_assert_msg(ml_model_predict(m, &x, got, &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < rows->n; i++) {
		double d = fabs(got[i] - rows->want[i]) / fabs(rows->want[i]);
		worst = d > worst ? d : worst;
	}
	return worst;
}

static json_t *load_fixture(const char *name)
{
	struct ml_err err = ML_ERR_INIT;
	json_t *j = ml_json_load(fixture(name), &err);
	ck_assert_msg(j != NULL, "%s", err.msg);
	return j;
}

static const char *const names[NFEAT] = { "mileage", "cylinder", "doors", "cruise", "sound", "leather" };

static struct ml_strlist list_of(const char *csv)
{
	struct ml_strlist l = { 0 };
	struct ml_err err = ML_ERR_INIT;
	ck_assert_msg(ml_strlist_push_split(&l, csv, &err) == 0, "%s", err.msg);
	return l;
}

/* ---- import ---- */

START_TEST(test_is_model)
{
	json_t *x = load_fixture("model.json");
	json_t *other = json_pack("{s:s, s:{}}", "format", "mlpipe.model/1", "model");
	json_t *fake = json_pack("{s:s}", "learner", "not an object");
	ck_assert_int_eq(ml_xgboost_is_model(x), 1);
	ck_assert_int_eq(ml_xgboost_is_model(other), 0);
	ck_assert_int_eq(ml_xgboost_is_model(fake), 0);
	ck_assert_int_eq(ml_xgboost_is_model(NULL), 0);
	json_decref(x);
	json_decref(other);
	json_decref(fake);
}
END_TEST

START_TEST(test_import_document)
{
	struct ml_err err = ML_ERR_INIT;
	json_t *x = load_fixture("model.json");
	json_t *doc = ml_xgboost_import(x, NULL, "model.json", &err);
	ck_assert_msg(doc != NULL, "%s", err.msg);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "algorithm")), "gbtree");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "algorithm_version")), "xgboost 1.7.4");
	const json_t *m = json_object_get(doc, "model");
	ck_assert_str_eq(json_string_value(json_object_get(m, "objective")), "reg:squarederror");
	ck_assert_double_eq(json_number_value(json_object_get(m, "base_score")), 0.5);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "num_feature")), NFEAT);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "best_iteration")), 9);
	ck_assert_uint_eq(json_array_size(json_object_get(m, "trees")), 10);
	/* the trees are XGBoost's arrays, unchanged */
	const json_t *mine = json_array_get(json_object_get(m, "trees"), 0);
	const json_t *theirs = json_array_get(
		json_object_get(json_object_get(json_object_get(json_object_get(x, "learner"), "gradient_booster"),
						"model"),
				"trees"),
		0);
	const char *same[] = { "left_children", "right_children", "split_indices", "default_left",
			       "split_conditions", "loss_changes", "sum_hessian", "base_weights" };
	for (size_t k = 0; k < sizeof same / sizeof *same; k++)
		ck_assert_msg(json_equal(json_object_get(mine, same[k]), json_object_get(theirs, same[k])),
			      "tree 0: %s differs", same[k]);
	/* the identity recipe: the model's names, numeric, nothing imputed or scaled, no target */
	struct ml_recipe *rc = ml_recipe_from_json(json_object_get(doc, "recipe"), "recipe", &err);
	ck_assert_msg(rc != NULL, "%s", err.msg);
	ck_assert_uint_eq(ml_recipe_nfeatures(rc), NFEAT);
	for (size_t i = 0; i < NFEAT; i++)
		ck_assert_str_eq(ml_recipe_feature_name(rc, i), names[i]);
	ck_assert_ptr_null(ml_recipe_target(rc));
	const json_t *col = json_array_get(json_object_get(json_object_get(doc, "recipe"), "columns"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(col, "impute")), "none");
	ck_assert_str_eq(json_string_value(json_object_get(col, "scale")), "none");
	/* importance as get_score(): tree 0 splits on feature 1 at nodes 0 and 4 */
	const json_t *w = json_object_get(json_object_get(m, "feature_importance"), "weight");
	ck_assert_uint_eq(json_array_size(w), NFEAT);
	ck_assert_double_ge(json_number_value(json_array_get(w, 1)), 2);
	ml_recipe_free(rc);
	json_decref(doc);
	json_decref(x);
}
END_TEST

START_TEST(test_import_predicts_like_xgboost)
{
	struct ml_err err = ML_ERR_INIT;
	struct rows rows;
	read_rows("pred.csv", &rows);
	struct ml_model *m = ml_model_load(fixture("model.json"), &err);
	ck_assert_msg(m != NULL, "%s", err.msg);
	double d = max_rel_diff(m, &rows);
	ck_assert_msg(d <= 1e-7, "max relative difference %g", d);
	ml_model_free(m);
}
END_TEST

START_TEST(test_import_without_names)
{
	struct ml_err err = ML_ERR_INIT;
	struct rows rows;
	read_rows("tweedie_pred.csv", &rows);
	ck_assert_ptr_null(ml_model_load(fixture("tweedie.json"), &err));
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	ck_assert_msg(strstr(err.msg, "--features") && strstr(err.msg, "no feature names"), "%s", err.msg);

	struct ml_strlist five = list_of("a,b,c,d,e"), dup = list_of("a,b,c,d,e,a");
	struct ml_strlist six = list_of("mileage,cylinder,doors,cruise,sound,leather");
	ck_assert_ptr_null(ml_model_load_features(fixture("tweedie.json"), &five, &err));
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	ck_assert_msg(strstr(err.msg, "--features names 5 columns, the model has 6"), "%s", err.msg);
	ck_assert_ptr_null(ml_model_load_features(fixture("tweedie.json"), &dup, &err));
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	ck_assert_msg(strstr(err.msg, "\"a\" is given twice"), "%s", err.msg);

	struct ml_model *m = ml_model_load_features(fixture("tweedie.json"), &six, &err);
	ck_assert_msg(m != NULL, "%s", err.msg);
	ck_assert_str_eq(ml_recipe_feature_name(m->recipe, 5), "leather");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(m->doc, "model"), "objective")),
			 "reg:tweedie");
	ck_assert_double_eq(
		json_number_value(json_object_get(json_object_get(m->doc, "model"), "tweedie_variance_power")), 1.5);
	double d = max_rel_diff(m, &rows);
	ck_assert_msg(d <= 1e-6, "max relative difference %g", d);
	ml_model_free(m);
	ml_strlist_clear(&five);
	ml_strlist_clear(&six);
	ml_strlist_clear(&dup);
}
END_TEST

START_TEST(test_features_rename)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_strlist six = list_of("f0,f1,f2,f3,f4,f5"), three = list_of("a,b,c");
	struct ml_model *m = ml_model_load_features(fixture("model.json"), &six, &err);
	ck_assert_msg(m != NULL, "%s", err.msg);
	ck_assert_str_eq(ml_recipe_feature_name(m->recipe, 0), "f0");
	ml_model_free(m);
	ck_assert_ptr_null(ml_model_load_features(fixture("model.json"), &three, &err));
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	ck_assert_int_eq(ml_exit_code(&err), 64);
	struct ml_strlist latin1 = list_of("f0,f1,f2,f3,f4,caf\xe9");
	ck_assert_ptr_null(ml_model_load_features(fixture("model.json"), &latin1, &err));
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	ck_assert_msg(strstr(err.msg, "feature 5: the name is not UTF-8 text"), "%s", err.msg);
	ml_strlist_clear(&latin1);
	ml_strlist_clear(&six);
	ml_strlist_clear(&three);
}
END_TEST

START_TEST(test_mlpipe_artifact_round_trip)
{
	/* An imported model saved as an mlpipe artifact loads as one (features refused there). */
	struct ml_err err = ML_ERR_INIT;
	struct rows rows;
	read_rows("pred.csv", &rows);
	json_t *x = load_fixture("model.json");
	json_t *doc = ml_xgboost_import(x, NULL, "model.json", &err);
	ck_assert_msg(doc != NULL, "%s", err.msg);
	ck_assert_msg(ml_artifact_save(doc, ML_MODEL_FORMAT, ML_MODEL_MAJOR, "mine.json", &err) == 0, "%s", err.msg);
	struct ml_model *m = ml_model_load("mine.json", &err);
	ck_assert_msg(m != NULL, "%s", err.msg);
	double d = max_rel_diff(m, &rows);
	ck_assert_msg(d <= 1e-7, "max relative difference %g", d);
	ml_model_free(m);
	struct ml_strlist six = list_of("f0,f1,f2,f3,f4,f5");
	ck_assert_ptr_null(ml_model_load_features("mine.json", &six, &err));
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	ck_assert_msg(strstr(err.msg, "mlpipe model"), "%s", err.msg);
	/* neither an artifact nor XGBoost: the artifact's message */
	test_write_file(test_dir(), "other.json", "{\"a\": 1}\n", 9);
	ck_assert_ptr_null(ml_model_load("other.json", &err));
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ck_assert_msg(strstr(err.msg, "no \"format\" member"), "%s", err.msg);
	ck_assert_ptr_null(ml_model_load("absent.json", &err));
	ck_assert_int_eq(err.class, ML_ERR_NOINPUT);
	ml_strlist_clear(&six);
	json_decref(doc);
	json_decref(x);
}
END_TEST

/* ---- hostile and unsupported variants of the fixture ---- */

static json_t *learner(json_t *d)
{
	return json_object_get(d, "learner");
}

static json_t *lparam(json_t *d)
{
	return json_object_get(learner(d), "learner_model_param");
}

static json_t *booster(json_t *d)
{
	return json_object_get(json_object_get(learner(d), "gradient_booster"), "model");
}

static json_t *tree(json_t *d, size_t t)
{
	return json_array_get(json_object_get(booster(d), "trees"), t);
}

static void set_node(json_t *d, size_t t, const char *key, size_t i, json_t *v)
{
	ck_assert_int_eq(json_array_set_new(json_object_get(tree(d, t), key), i, v), 0);
}

static void bad_child(json_t *d) { set_node(d, 0, "left_children", 1, json_integer(999)); }
static void child_is_root(json_t *d) { set_node(d, 0, "right_children", 0, json_integer(0)); }
static void self_loop(json_t *d) { set_node(d, 2, "left_children", 4, json_integer(4)); }
static void shared_child(json_t *d) { set_node(d, 1, "right_children", 1, json_integer(2)); }
static void back_edge(json_t *d) { set_node(d, 3, "left_children", 4, json_integer(1)); }
static void negative_child(json_t *d) { set_node(d, 0, "left_children", 0, json_integer(-7)); }
static void one_child(json_t *d) { set_node(d, 0, "right_children", 1, json_integer(-1)); }
static void short_array(json_t *d) { json_array_remove(json_object_get(tree(d, 4), "split_conditions"), 8); }
static void long_array(json_t *d) { json_array_append_new(json_object_get(tree(d, 4), "base_weights"), json_real(1)); }
static void no_array(json_t *d) { json_object_del(tree(d, 2), "sum_hessian"); }
static void empty_tree(json_t *d)
{
	const char *k[] = { "left_children", "right_children", "split_indices", "default_left", "split_conditions",
			    "loss_changes", "sum_hessian", "base_weights" };
	for (size_t i = 0; i < 8; i++)
		json_array_clear(json_object_get(tree(d, 5), k[i]));
}
static void wrong_num_nodes(json_t *d) { json_object_set_new(json_object_get(tree(d, 0), "tree_param"), "num_nodes", json_string("7")); }
static void text_threshold(json_t *d) { set_node(d, 0, "split_conditions", 0, json_string("abc")); }
static void real_child(json_t *d) { set_node(d, 0, "left_children", 0, json_real(1.5)); }
static void huge_threshold(json_t *d) { set_node(d, 0, "split_conditions", 0, json_real(1e300)); }
static void huge_leaf(json_t *d) { set_node(d, 0, "split_conditions", 3, json_real(-1e39)); }
static void bad_default(json_t *d) { set_node(d, 0, "default_left", 0, json_integer(2)); }
static void feature_too_big(json_t *d) { set_node(d, 7, "split_indices", 0, json_integer(NFEAT)); }
static void feature_negative(json_t *d) { set_node(d, 7, "split_indices", 0, json_integer(-1)); }
static void tree_not_object(json_t *d) { json_array_set_new(json_object_get(booster(d), "trees"), 3, json_integer(42)); }
static void no_trees(json_t *d) { json_object_del(booster(d), "trees"); }
static void zero_trees(json_t *d)
{
	json_array_clear(json_object_get(booster(d), "trees"));
	json_array_clear(json_object_get(booster(d), "tree_info"));
	json_object_set_new(json_object_get(booster(d), "gbtree_model_param"), "num_trees", json_string("0"));
}
static void num_trees_wrong(json_t *d) { json_object_set_new(json_object_get(booster(d), "gbtree_model_param"), "num_trees", json_string("11")); }
static void huge_num_feature(json_t *d) { json_object_set_new(lparam(d), "num_feature", json_string("99999999999")); }
static void big_num_feature(json_t *d) { json_object_set_new(lparam(d), "num_feature", json_string("2147483647")); }
static void text_num_feature(json_t *d) { json_object_set_new(lparam(d), "num_feature", json_string("6x")); }
static void zero_num_feature(json_t *d) { json_object_set_new(lparam(d), "num_feature", json_string("0")); }
static void no_param(json_t *d) { json_object_del(learner(d), "learner_model_param"); }
static void no_objective(json_t *d) { json_object_del(learner(d), "objective"); }
static void bad_base_score(json_t *d) { json_object_set_new(lparam(d), "base_score", json_string("abc")); }
static void inf_base_score(json_t *d) { json_object_set_new(lparam(d), "base_score", json_string("1e999")); }
static void few_names(json_t *d) { json_array_remove(json_object_get(learner(d), "feature_names"), 0); }
static void dup_names(json_t *d) { json_array_set_new(json_object_get(learner(d), "feature_names"), 1, json_string("mileage")); }
static void names_not_strings(json_t *d) { json_array_set_new(json_object_get(learner(d), "feature_names"), 1, json_integer(3)); }
static void no_booster(json_t *d) { json_object_del(learner(d), "gradient_booster"); }

static void dart(json_t *d) { json_object_set_new(json_object_get(learner(d), "gradient_booster"), "name", json_string("dart")); }
static void gblinear(json_t *d) { json_object_set_new(json_object_get(learner(d), "gradient_booster"), "name", json_string("gblinear")); }
static void logistic(json_t *d) { json_object_set_new(json_object_get(learner(d), "objective"), "name", json_string("binary:logistic")); }
static void gamma_obj(json_t *d) { json_object_set_new(json_object_get(learner(d), "objective"), "name", json_string("reg:gamma")); }
static void multiclass(json_t *d) { json_object_set_new(lparam(d), "num_class", json_string("3")); }
static void multitarget(json_t *d) { json_object_set_new(lparam(d), "num_target", json_string("2")); }
static void two_base_scores(json_t *d) { json_object_set_new(lparam(d), "base_score", json_string("[1E0,2E0]")); }
static void categorical_split(json_t *d) { set_node(d, 6, "split_type", 0, json_integer(1)); }
static void categorical_type(json_t *d)
{
	json_t *types = json_array();
	for (int i = 0; i < NFEAT; i++)
		json_array_append_new(types, json_string(i == 2 ? "c" : "float"));
	json_object_set_new(learner(d), "feature_types", types);
}
static void tree_info_group(json_t *d) { json_array_set_new(json_object_get(booster(d), "tree_info"), 9, json_integer(1)); }
static void weighted_trees(json_t *d)
{
	json_t *w = json_array();
	for (int i = 0; i < 10; i++)
		json_array_append_new(w, json_real(i == 4 ? 0.5 : 1.0));
	json_object_set_new(booster(d), "weight_drop", w);
}
static void category_encoding(json_t *d) { json_object_set_new(booster(d), "cats", json_pack("{s:[s], s:[i], s:[i]}", "enc", "x", "feature_segments", 0, "sorted_idx", 0)); }
static void vector_leaf(json_t *d) { json_object_set_new(json_object_get(tree(d, 0), "tree_param"), "size_leaf_vector", json_string("2")); }

struct hostile {
	const char *name;
	void (*mutate)(json_t *);
	enum ml_errclass class;
	const char *says;
};

static const struct hostile hostile[] = {
	{ "child index out of range", bad_child, ML_ERR_DATA, "tree 0: node 1: child 999 is outside the tree" },
	{ "child pointing at the root", child_is_root, ML_ERR_DATA, "tree 0: node 0: child 0 is outside" },
	{ "a node its own child", self_loop, ML_ERR_DATA, "tree 2: node 4 is reached twice" },
	{ "two parents of one node", shared_child, ML_ERR_DATA, "tree 1: node 2 is reached twice" },
	{ "a cycle back up", back_edge, ML_ERR_DATA, "tree 3: node 1 is reached twice" },
	{ "negative child", negative_child, ML_ERR_DATA, "tree 0: \"left_children\"[0] must be an integer" },
	{ "one child", one_child, ML_ERR_DATA, "tree 0: node 1 has one child" },
	{ "short array", short_array, ML_ERR_DATA, "tree 4: \"split_conditions\" holds 12 values, \"left_children\" 13" },
	{ "long array", long_array, ML_ERR_DATA, "tree 4: \"base_weights\" holds 14 values, \"left_children\" 13" },
	{ "missing array", no_array, ML_ERR_DATA, "tree 2: no \"sum_hessian\" array" },
	{ "empty tree", empty_tree, ML_ERR_DATA, "tree 5: 0 nodes" },
	{ "num_nodes disagrees", wrong_num_nodes, ML_ERR_DATA, "tree 0: \"tree_param\" does not say num_nodes 9" },
	{ "text threshold", text_threshold, ML_ERR_DATA, "tree 0: \"split_conditions\"[0] must be a number" },
	{ "fractional child", real_child, ML_ERR_DATA, "tree 0: \"left_children\"[0] must be an integer" },
	{ "threshold beyond float", huge_threshold, ML_ERR_DATA, "tree 0: node 0: threshold" },
	{ "leaf beyond float", huge_leaf, ML_ERR_DATA, "tree 0: node 3: leaf value" },
	{ "default_left 2", bad_default, ML_ERR_DATA, "tree 0: \"default_left\"[0] must be 0 or 1" },
	{ "feature beyond num_feature", feature_too_big, ML_ERR_DATA, "tree 7: node 0 splits on feature 6" },
	{ "negative feature", feature_negative, ML_ERR_DATA, "tree 7: \"split_indices\"[0] must be an integer" },
	{ "tree not an object", tree_not_object, ML_ERR_DATA, "tree 3: not an object" },
	{ "no trees member", no_trees, ML_ERR_DATA, "no \"trees\" list" },
	{ "no trees at all", zero_trees, ML_ERR_DATA, "has no trees" },
	{ "num_trees disagrees", num_trees_wrong, ML_ERR_DATA, "gbtree_model_param does not match the 10 trees" },
	{ "num_feature beyond int", huge_num_feature, ML_ERR_DATA, "num_feature must be a whole number" },
	{ "num_feature beyond the names", big_num_feature, ML_ERR_DATA, "6 feature names for num_feature 2147483647" },
	{ "num_feature not a number", text_num_feature, ML_ERR_DATA, "num_feature must be a whole number" },
	{ "num_feature 0", zero_num_feature, ML_ERR_DATA, "num_feature must be a whole number" },
	{ "no learner_model_param", no_param, ML_ERR_DATA, "no \"learner_model_param\"" },
	{ "no objective", no_objective, ML_ERR_DATA, "no objective name" },
	{ "base_score not a number", bad_base_score, ML_ERR_DATA, "base_score must be a number" },
	{ "base_score infinite", inf_base_score, ML_ERR_DATA, "base_score must be a number" },
	{ "too few names", few_names, ML_ERR_DATA, "5 feature names for num_feature 6" },
	{ "a name twice", dup_names, ML_ERR_DATA, "\"mileage\" is given twice" },
	{ "a name not a string", names_not_strings, ML_ERR_DATA, "feature 1 has no name" },
	{ "no booster", no_booster, ML_ERR_DATA, "no \"gradient_booster\"" },
	{ "dart", dart, ML_ERR_UNAVAILABLE, "the \"dart\" booster (only gbtree): not supported yet" },
	{ "gblinear", gblinear, ML_ERR_UNAVAILABLE, "the \"gblinear\" booster" },
	{ "classification", logistic, ML_ERR_UNAVAILABLE, "objective \"binary:logistic\"" },
	{ "reg:gamma", gamma_obj, ML_ERR_UNAVAILABLE, "objective \"reg:gamma\"" },
	{ "multi-class", multiclass, ML_ERR_UNAVAILABLE, "multi-class" },
	{ "multi-target", multitarget, ML_ERR_UNAVAILABLE, "multi-target" },
	{ "several base scores", two_base_scores, ML_ERR_UNAVAILABLE, "several base scores" },
	{ "categorical split", categorical_split, ML_ERR_UNAVAILABLE, "tree 6: categorical splits" },
	{ "categorical feature", categorical_type, ML_ERR_UNAVAILABLE, "categorical features" },
	{ "trees of another output", tree_info_group, ML_ERR_UNAVAILABLE, "several outputs" },
	{ "vector leaves", vector_leaf, ML_ERR_UNAVAILABLE, "tree 0: vector leaves" },
	{ "DART weights", weighted_trees, ML_ERR_UNAVAILABLE, "weighted (DART) trees" },
	{ "category encodings", category_encoding, ML_ERR_UNAVAILABLE, "categorical features (cats.enc)" },
};

START_TEST(test_hostile_refused)
{
	const struct hostile *h = &hostile[_i];
	struct ml_err err = ML_ERR_INIT;
	json_t *x = load_fixture("model.json");
	h->mutate(x);
	json_t *doc = ml_xgboost_import(x, NULL, "m.json", &err);
	ck_assert_msg(doc == NULL, "%s: accepted", h->name);
	ck_assert_msg(err.class == h->class, "%s: class %d: %s", h->name, err.class, err.msg);
	ck_assert_msg(strncmp(err.msg, "m.json: ", 8) == 0, "%s: the file is not named: %s", h->name, err.msg);
	ck_assert_msg(strstr(err.msg, h->says), "%s: \"%s\" lacks \"%s\"", h->name, err.msg, h->says);
	if (h->class == ML_ERR_UNAVAILABLE)
		ck_assert_msg(strstr(err.msg, "not supported yet"), "%s: %s", h->name, err.msg);
	/* and through the model loader: exit 65 or 69, never a crash */
	ck_assert_msg(ml_json_save(x, "m.json", 17, &err) == 0, "%s", err.msg);
	ck_assert_ptr_null(ml_model_load("m.json", &err));
	ck_assert_int_eq(ml_exit_code(&err), h->class == ML_ERR_DATA ? 65 : 69);
	json_decref(x);
}
END_TEST

/* ---- what other XGBoost versions write ---- */

static void bool_default_left(json_t *d)	/* XGBoost 1.0 - 1.2 */
{
	for (size_t t = 0; t < 10; t++) {
		json_t *a = json_object_get(tree(d, t), "default_left");
		for (size_t i = 0; i < json_array_size(a); i++)
			json_array_set_new(a, i, json_boolean(json_integer_value(json_array_get(a, i))));
	}
}

static void bracket_base_score(json_t *d) { json_object_set_new(lparam(d), "base_score", json_string("[5E-1]")); }
static void old_objective(json_t *d) { json_object_set_new(json_object_get(learner(d), "objective"), "name", json_string("reg:linear")); }
static void no_feature_types(json_t *d) { json_object_del(learner(d), "feature_types"); }
static void quantile(json_t *d)	/* XGBoost 2.0 */
{
	json_object_set_new(learner(d), "objective",
			    json_pack("{s:s, s:{s:s}}", "name", "reg:quantileerror", "quantile_loss_param",
				      "quantile_alpha", "[9E-1]"));
}

static void xgboost3_layout(json_t *d)	/* 3.1: iteration_indptr, empty cats, weights of 1, "[...]" */
{
	json_t *indptr = json_array(), *w = json_array();
	for (int i = 0; i <= 10; i++)
		json_array_append_new(indptr, json_integer(i));
	for (int i = 0; i < 10; i++)
		json_array_append_new(w, json_real(1.0));
	json_object_set_new(booster(d), "iteration_indptr", indptr);
	json_object_set_new(booster(d), "weight_drop", w);
	json_object_set_new(booster(d), "cats", json_pack("{s:[], s:[], s:[]}", "enc", "feature_segments", "sorted_idx"));
	json_object_set_new(lparam(d), "base_score", json_string("[5E-1]"));
	json_object_set_new(d, "version", json_pack("[i, i, i]", 3, 1, 0));
}

/* A node no path reaches (XGBoost's deleted node, split index 2^31 - 1) is dropped. */
static void deleted_node(json_t *d)
{
	json_t *t = tree(d, 0);
	json_array_append_new(json_object_get(t, "left_children"), json_integer(-1));
	json_array_append_new(json_object_get(t, "right_children"), json_integer(-1));
	json_array_append_new(json_object_get(t, "split_indices"), json_integer(2147483647));
	json_array_append_new(json_object_get(t, "default_left"), json_integer(0));
	json_array_append_new(json_object_get(t, "split_conditions"), json_real(12345));
	json_array_append_new(json_object_get(t, "loss_changes"), json_real(0));
	json_array_append_new(json_object_get(t, "sum_hessian"), json_real(0));
	json_array_append_new(json_object_get(t, "base_weights"), json_real(0));
	json_object_set_new(json_object_get(t, "tree_param"), "num_nodes", json_string("10"));
}

struct variant {
	const char *name;
	void (*mutate)(json_t *);
	const char *objective;
};

static const struct variant variants[] = {
	{ "default_left as booleans", bool_default_left, "reg:squarederror" },
	{ "base_score in brackets", bracket_base_score, "reg:squarederror" },
	{ "reg:linear", old_objective, "reg:squarederror" },
	{ "no feature_types", no_feature_types, "reg:squarederror" },
	{ "reg:quantileerror", quantile, "reg:quantileerror" },
	{ "a deleted node", deleted_node, "reg:squarederror" },
	{ "XGBoost 3.1 members", xgboost3_layout, "reg:squarederror" },
};

START_TEST(test_variants_accepted)
{
	const struct variant *v = &variants[_i];
	struct ml_err err = ML_ERR_INIT;
	struct rows rows;
	read_rows("pred.csv", &rows);
	json_t *x = load_fixture("model.json");
	v->mutate(x);
	ck_assert_msg(ml_json_save(x, "m.json", 17, &err) == 0, "%s", err.msg);
	struct ml_model *m = ml_model_load("m.json", &err);
	ck_assert_msg(m != NULL, "%s: %s", v->name, err.msg);
	const json_t *model = json_object_get(m->doc, "model");
	ck_assert_str_eq(json_string_value(json_object_get(model, "objective")), v->objective);
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(json_object_get(model, "trees"), 0),
							  "left_children")),
			  9);
	double d = max_rel_diff(m, &rows);	/* the objective does not change the traversal */
	ck_assert_msg(d <= 1e-7, "%s: max relative difference %g", v->name, d);
	if (v->mutate == quantile)
		ck_assert_double_eq_tol(json_number_value(json_object_get(model, "quantile_alpha")), 0.9, 1e-12);
	ml_model_free(m);
	json_decref(x);
}
END_TEST

/* ---- export ---- */

/* a and b are the same, numbers compared as the floats XGBoost holds */
static int same_as_floats(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b) && (json_is_real(a) || json_is_real(b)))
		return (float)json_number_value(a) == (float)json_number_value(b);
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!same_as_floats(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	if (json_is_object(a) && json_is_object(b)) {
		const char *key;
		json_t *v;
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, key, v) {
			if (!same_as_floats(v, json_object_get(b, key)))
				return 0;
		}
		return 1;
	}
	return json_equal(a, b);
}

START_TEST(test_export_is_xgboosts_file)
{
	/* import then export gives back XGBoost's own arrays (parents too) and parameters */
	struct ml_err err = ML_ERR_INIT;
	json_t *x = load_fixture("model.json");
	json_t *doc = ml_xgboost_import(x, NULL, "model.json", &err);
	ck_assert_msg(doc != NULL, "%s", err.msg);
	json_t *e = ml_xgboost_export(doc, &err);
	ck_assert_msg(e != NULL, "%s", err.msg);
	json_t *version = json_pack("[i, i, i]", 1, 7, 4);
	ck_assert(json_equal(json_object_get(e, "version"), version));
	json_decref(version);
	ck_assert(json_equal(json_object_get(learner(e), "feature_names"), json_object_get(learner(x), "feature_names")));
	ck_assert_uint_eq(json_array_size(json_object_get(learner(e), "feature_types")), NFEAT);
	ck_assert(json_equal(lparam(e), lparam(x)));
	ck_assert(json_equal(json_object_get(learner(e), "objective"), json_object_get(learner(x), "objective")));
	ck_assert(json_equal(json_object_get(booster(e), "gbtree_model_param"),
			     json_object_get(booster(x), "gbtree_model_param")));
	ck_assert(json_equal(json_object_get(booster(e), "tree_info"), json_object_get(booster(x), "tree_info")));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(learner(e), "gradient_booster"), "name")),
			 "gbtree");
	for (size_t t = 0; t < 10; t++)
		ck_assert_msg(same_as_floats(tree(e, t), tree(x, t)), "tree %zu differs from XGBoost's", t);
	/* the file: compact JSON that reads back the same */
	ck_assert_msg(ml_xgboost_save(doc, "x.json", &err) == 0, "%s", err.msg);
	json_t *back = ml_json_load("x.json", &err);
	ck_assert_msg(back != NULL, "%s", err.msg);
	ck_assert(ml_xgboost_is_model(back));
	json_t *again = ml_xgboost_import(back, NULL, "x.json", &err);
	ck_assert_msg(again != NULL, "%s", err.msg);
	ck_assert(same_as_floats(json_object_get(json_object_get(again, "model"), "trees"),
				 json_object_get(json_object_get(doc, "model"), "trees")));
	json_decref(again);
	json_decref(back);
	json_decref(e);
	json_decref(doc);
	json_decref(x);
}
END_TEST

START_TEST(test_export_tweedie_parameters)
{
	struct ml_err err = ML_ERR_INIT;
	json_t *x = load_fixture("tweedie.json");
	struct ml_strlist six = list_of("mileage,cylinder,doors,cruise,sound,leather");
	json_t *doc = ml_xgboost_import(x, &six, "tweedie.json", &err);
	ck_assert_msg(doc != NULL, "%s", err.msg);
	json_object_set_new(json_object_get(doc, "model"), "tweedie_variance_power", json_real(1.25));
	json_t *e = ml_xgboost_export(doc, &err);
	ck_assert_msg(e != NULL, "%s", err.msg);
	const json_t *obj = json_object_get(learner(e), "objective");
	ck_assert_str_eq(json_string_value(json_object_get(obj, "name")), "reg:tweedie");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(obj, "tweedie_regression_param"),
							   "tweedie_variance_power")),
			 "1.25");
	ck_assert_str_eq(json_string_value(json_object_get(lparam(e), "base_score")), "5E-1");
	ml_strlist_clear(&six);
	json_decref(e);
	json_decref(doc);
	json_decref(x);
}
END_TEST

static void linear_model(json_t *doc) { json_object_set_new(doc, "algorithm", json_string("linear")); }
static void log1p_target(json_t *doc) { json_object_set_new(json_object_get(doc, "recipe"), "target_log1p", json_true()); }
static void quantile_model(json_t *doc) { json_object_set_new(json_object_get(doc, "model"), "objective", json_string("reg:quantileerror")); }
static void hostile_model(json_t *doc)
{
	json_t *t = json_array_get(json_object_get(json_object_get(doc, "model"), "trees"), 2);
	json_array_set_new(json_object_get(t, "right_children"), 0, json_integer(77));
}
static void mismatched_features(json_t *doc) { json_object_set_new(json_object_get(doc, "model"), "num_feature", json_integer(5)); }
static void no_recipe(json_t *doc) { json_object_del(doc, "recipe"); }

static const struct hostile unexportable[] = {
	{ "a linear model", linear_model, ML_ERR_UNAVAILABLE, "only gbtree models" },
	{ "log1p target", log1p_target, ML_ERR_UNAVAILABLE, "log1p(target)" },
	{ "quantile", quantile_model, ML_ERR_UNAVAILABLE, "reg:quantileerror" },
	{ "a bad tree", hostile_model, ML_ERR_DATA, "tree 2: node 0: child 77 is outside the tree" },
	{ "num_feature not the recipe's", mismatched_features, ML_ERR_DATA, "not the recipe's 6 features" },
	{ "no recipe", no_recipe, ML_ERR_DATA, "no \"recipe\"" },
};

START_TEST(test_export_refused)
{
	const struct hostile *h = &unexportable[_i];
	struct ml_err err = ML_ERR_INIT;
	json_t *x = load_fixture("model.json");
	json_t *doc = ml_xgboost_import(x, NULL, "model.json", &err);
	ck_assert_msg(doc != NULL, "%s", err.msg);
	h->mutate(doc);
	ck_assert_ptr_null(ml_xgboost_export(doc, &err));
	ck_assert_msg(err.class == h->class, "%s: class %d: %s", h->name, err.class, err.msg);
	ck_assert_msg(strstr(err.msg, h->says), "%s: \"%s\" lacks \"%s\"", h->name, err.msg, h->says);
	ck_assert_int_eq(ml_xgboost_save(doc, "x.json", &err), -1);
	ck_assert_msg(strstr(err.msg, "x.json"), "%s", err.msg);
	ck_assert_int_eq(access("x.json", F_OK), -1);
	json_decref(doc);
	json_decref(x);
}
END_TEST

START_TEST(test_format_float)
{
	/* what XGBoost 1.7 wrote for these base_score values */
	static const struct {
		float f;
		const char *want;
	} cases[] = {
		{ 0.5f, "5E-1" }, { 0.0f, "0E0" }, { -2.5f, "-2.5E0" }, { 22350.5f, "2.23505E4" },
		{ 1e-7f, "1E-7" }, { 1.0f, "1E0" }, { 123456789.0f, "1.2345679E8" }, { 0.1f, "1E-1" },
		{ 1.6791029f, "1.6791029E0" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char out[32];
		ml_xgboost_format_float(cases[i].f, out);
		ck_assert_str_eq(out, cases[i].want);
	}
}
END_TEST

static Suite *make_suite(void)
{
	const char *env = getenv("MLPIPE_ROOT");
	if (!realpath(env ? env : ".", root))
		snprintf(root, sizeof root, ".");
	Suite *s = suite_create("xgboost");
	TCase *tc = tcase_create("import");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_is_model);
	tcase_add_test(tc, test_import_document);
	tcase_add_test(tc, test_import_predicts_like_xgboost);
	tcase_add_test(tc, test_import_without_names);
	tcase_add_test(tc, test_features_rename);
	tcase_add_test(tc, test_mlpipe_artifact_round_trip);
	tcase_add_loop_test(tc, test_hostile_refused, 0, (int)(sizeof hostile / sizeof *hostile));
	tcase_add_loop_test(tc, test_variants_accepted, 0, (int)(sizeof variants / sizeof *variants));
	suite_add_tcase(s, tc);

	tc = tcase_create("export");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_export_is_xgboosts_file);
	tcase_add_test(tc, test_export_tweedie_parameters);
	tcase_add_loop_test(tc, test_export_refused, 0, (int)(sizeof unexportable / sizeof *unexportable));
	tcase_add_test(tc, test_format_float);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
