/*
 * test_gbtree.c - the gbtree plugin's model reading, scoring kernels and a
 * small training run, linked from the plugin's own objects (so the
 * sanitizer build checks them too).
 *
 * A model file is untrusted: hand-made hostile models and thousands of
 * random mutations of a valid one must be refused with ML_ERR_DATA or load
 * and score without a fault.
 */
#include <math.h>

#include <jansson.h>

#include "gbtree.h"
#include "mlpipe/random.h"
#include "testutil.h"

static const struct ml_algo_ops *ops(void)
{
	return ml_plugin_entry()->ops.algo;
}

/*
 * Two trees over 2 features:
 *   tree 0: x0 < 0.1 ? (x1 < 5 ? 1 : 2) : 3, missing x0 goes left, missing x1 right
 *   tree 1: a single leaf 0.5
 */
static const char valid_model[] =
	"{\"objective\": \"reg:squarederror\", \"base_score\": 10, \"num_feature\": 2, \"trees\": ["
	"{\"left_children\": [1, 3, -1, -1, -1], \"right_children\": [2, 4, -1, -1, -1],"
	" \"split_indices\": [0, 1, 0, 0, 0], \"split_conditions\": [0.1, 5, 3, 1, 2],"
	" \"default_left\": [1, 0, 0, 0, 0]},"
	"{\"left_children\": [-1], \"right_children\": [-1], \"split_indices\": [0],"
	" \"split_conditions\": [0.5], \"default_left\": [0]}]}";

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	ck_assert_msg(j != NULL, "bad test JSON: %s", e.text);
	return j;
}

static void *load(json_t *model, struct ml_err *err)
{
	void *p = ops()->load(model, err);
	json_decref(model);
	return p;
}

START_TEST(test_scores_a_valid_model)
{
	struct ml_err err = ML_ERR_INIT;
	void *p = load(parse(valid_model), &err);
	ck_assert_msg(p != NULL, "%s", err.msg);
	/* 0.1 as a double is below 0.1f: XGBoost compares in float, so the row goes right */
	double x[] = { 0.05, 4, 0.05, 6, 0.1, 0, NAN, 4, NAN, NAN, 0.05, NAN, 0.2, NAN };
	double want[] = { 11.5, 12.5, 13.5, 11.5, 12.5, 12.5, 13.5 };
	double out[7];
	struct ml_matrix m = { 7, 2, x };
	ck_assert_int_eq(ops()->predict(p, &m, out, &err), 0);
	for (int i = 0; i < 7; i++)
		ck_assert_msg(out[i] == want[i], "row %d: %g, want %g", i, out[i], want[i]);
	ops()->free(p);
}
END_TEST

struct hostile {
	const char *name, *find, *replace, *message;
};

/* Each replaces one piece of the valid model. */
static const struct hostile hostile[] = {
	{ "a child past the end", "[1, 3, -1, -1, -1]", "[1, 9, -1, -1, -1]", "child index" },
	{ "a negative child", "[1, 3, -1, -1, -1]", "[1, -7, -1, -1, -1]", "child index" },
	{ "a cycle", "[1, 3, -1, -1, -1]", "[1, 0, -1, -1, -1]", "reached twice" },
	{ "a node reached twice", "[2, 4, -1, -1, -1]", "[2, 3, -1, -1, -1]", "reached twice" },
	{ "one child only", "[2, 4, -1, -1, -1]", "[2, -1, -1, -1, -1]", "one child" },
	{ "a feature past num_feature", "[0, 1, 0, 0, 0]", "[0, 2, 0, 0, 0]", "split_indices" },
	{ "a short array", "[1, 0, 0, 0, 0]", "[1, 0, 0, 0]", "has 4 entries" },
	{ "a string threshold", "[0.1, 5, 3, 1, 2]", "[0.1, \"5\", 3, 1, 2]", "split_conditions" },
	{ "a threshold beyond float", "[0.1, 5, 3, 1, 2]", "[0.1, 1e300, 3, 1, 2]", "split_conditions" },
	{ "default_left 2", "[1, 0, 0, 0, 0]", "[2, 0, 0, 0, 0]", "default_left" },
	{ "no trees array", "\"trees\": [", "\"forest\": [", "\"trees\"" },
	{ "a tree that is not an object", "\"trees\": [", "\"trees\": [7, ", "not an object" },
	{ "an empty tree", "\"split_conditions\": [0.5]", "\"split_conditions\": [0.5], \"x\": 0",
	  NULL },	/* harmless: an extra member */
	{ "no nodes", "\"left_children\": [-1]", "\"left_children\": []", "nodes" },
	{ "an unknown objective", "reg:squarederror", "reg:nonsense", "objective" },
	{ "a classifier", "reg:squarederror", "binary:logistic", "not supported yet" },
	{ "a huge num_feature", "\"num_feature\": 2", "\"num_feature\": 99999999999", "num_feature" },
	{ "a negative num_feature", "\"num_feature\": 2", "\"num_feature\": -1", "num_feature" },
	{ "base_score not a number", "\"base_score\": 10", "\"base_score\": \"10\"", "base_score" },
	{ "tweedie with base_score 0", "\"objective\": \"reg:squarederror\", \"base_score\": 10",
	  "\"objective\": \"reg:tweedie\", \"base_score\": 0", "above 0" },
};

static char *replaced(const char *text, const char *find, const char *with)
{
	const char *at = strstr(text, find);
	ck_assert_msg(at != NULL, "test bug: \"%s\" not in the model", find);
	size_t n = strlen(text) - strlen(find) + strlen(with) + 1;
	char *s = malloc(n);
	snprintf(s, n, "%.*s%s%s", (int)(at - text), text, with, at + strlen(find));
	return s;
}

START_TEST(test_refuses_hostile_models)
{
	for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
		struct ml_err err = ML_ERR_INIT;
		char *text = replaced(valid_model, hostile[i].find, hostile[i].replace);
		void *p = load(parse(text), &err);
		if (!hostile[i].message) {
			ck_assert_msg(p != NULL, "%s: refused: %s", hostile[i].name, err.msg);
			ops()->free(p);
		} else {
			ck_assert_msg(p == NULL, "%s: accepted", hostile[i].name);
			ck_assert_msg(err.class == ML_ERR_DATA || err.class == ML_ERR_UNAVAILABLE, "%s: class %d",
				      hostile[i].name, err.class);
			ck_assert_msg(strstr(err.msg, hostile[i].message), "%s: \"%s\" lacks \"%s\"", hostile[i].name,
				      err.msg, hostile[i].message);
		}
		free(text);
	}
}
END_TEST

/* ---- fuzzing: random edits of the valid model never crash the loader or the scorer ---- */

static uint64_t rng_state = 42;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static json_t *random_value(void)
{
	switch (rnd() % 7) {
	case 0: return json_integer((json_int_t)(rnd() % 12) - 3);
	case 1: return json_integer((json_int_t)rnd());
	case 2: return json_real((double)(rnd() % 1000) / 100 - 5);
	case 3: return json_string("x");
	case 4: return json_null();
	case 5: return json_true();
	default: return json_array();
	}
}

static void mutate(json_t *model)
{
	json_t *trees = json_object_get(model, "trees");
	static const char *const arrays[] = { "left_children", "right_children", "split_indices",
					      "split_conditions", "default_left" };
	json_t *tree = json_array_get(trees, rnd() % 2);
	json_t *a = json_object_get(tree, arrays[rnd() % 5]);
	switch (rnd() % 4) {
	case 0:
	case 1:
		if (json_array_size(a))
			json_array_set_new(a, rnd() % json_array_size(a), random_value());
		break;
	case 2:
		if (json_array_size(a))
			json_array_remove(a, rnd() % json_array_size(a));
		break;
	default:
		json_object_set_new(model, "num_feature", json_integer((json_int_t)(rnd() % 4)));
	}
}

START_TEST(test_fuzzed_models_fail_cleanly)
{
	double x[] = { 0.05, 4, NAN, 6, 0.3, NAN, 1e30, -1e30 };
	struct ml_matrix m = { 4, 2, x };
	int loaded = 0, refused = 0;
	for (int i = 0; i < 3000; i++) {
		json_t *model = parse(valid_model);
		for (int k = 1 + (int)(rnd() % 3); k > 0; k--)
			mutate(model);
		struct ml_err err = ML_ERR_INIT;
		void *p = load(model, &err);
		if (!p) {
			ck_assert_msg(err.class == ML_ERR_DATA, "class %d: %s", err.class, err.msg);
			refused++;
			continue;
		}
		double out[4];	/* a num_feature above the data's 2 columns is refused, not read past */
		if (ops()->predict(p, &m, out, &err) < 0)
			ck_assert_msg(err.class == ML_ERR_DATA && strstr(err.msg, "features"), "%s", err.msg);
		ops()->free(p);
		loaded++;
	}
	ck_assert_int_gt(refused, 1000);
	ck_assert_int_gt(loaded, 10);
}
END_TEST

/* ---- the flattened kernels against a plain walk, on deep and shallow trees ---- */

/* A random tree of n splits over p features (default directions random). */
static void random_tree(struct gb_tree *t, size_t splits, size_t p)
{
	gb_tree_reserve(t, 2 * splits + 1, NULL);
	gb_tree_add_leaf(t, 0, 0);
	for (size_t s = 0; s < splits; s++) {
		int32_t leaf;
		do	/* a random leaf to split */
			leaf = (int32_t)(rnd() % t->n);
		while (t->left[leaf] >= 0);
		t->feature[leaf] = (int32_t)(rnd() % p);
		t->cond[leaf] = (float)(rnd() % 100) / 100;
		t->default_left[leaf] = rnd() & 1;
		int32_t l = gb_tree_add_leaf(t, (double)(rnd() % 1000) / 7, 0);
		int32_t r = gb_tree_add_leaf(t, (double)(rnd() % 1000) / 7, 0);
		t->left[leaf] = l;
		t->right[leaf] = r;
	}
	gb_tree_compact(t, NULL);
}

static void check_kernels(size_t ntrees, size_t splits)
{
	size_t p = 5, n = 300;
	struct gb_forest f = { .objective = { GB_SQUARED, 0.5, 1, 1.5 }, .base_score = 1, .num_feature = p };
	for (size_t k = 0; k < ntrees; k++) {
		struct gb_tree t = { 0 };
		random_tree(&t, splits, p);
		gb_forest_add(&f, &t, NULL);
	}
	double *x = malloc(n * p * sizeof *x), *out = malloc(n * sizeof *out);
	float *row = malloc(p * sizeof *row);
	for (size_t i = 0; i < n * p; i++)
		x[i] = rnd() % 10 == 0 ? NAN : (double)(rnd() % 1000) / 999;
	json_t *doc = gb_forest_to_json(&f);	/* through JSON, as a model file would come */
	double *first = malloc(n * sizeof *first);
	/* the best kernel this CPU has, then each lower one: the same bits from all */
	const char *kernels[] = { NULL, "avx2", "portable" };
	for (size_t kn = 0; kn < sizeof kernels / sizeof *kernels; kn++) {
		if (kernels[kn])
			setenv("MLPIPE_KERNEL", kernels[kn], 1);
		struct ml_err err = ML_ERR_INIT;
		void *pr = load(json_incref(doc), &err);
		unsetenv("MLPIPE_KERNEL");
		ck_assert_msg(pr != NULL, "%s", err.msg);
		struct ml_matrix m = { n, p, x };
		ck_assert_int_eq(ops()->predict(pr, &m, out, &err), 0);
		ops()->free(pr);
		for (size_t i = 0; i < n; i++) {
			double want = 0;
			for (size_t j = 0; j < p; j++)
				row[j] = (float)x[i * p + j];
			for (size_t k = 0; k < ntrees; k++)
				want += gb_walk_tree(&f.trees[k], row);
			want += 1;
			/* the kernels sum in float (as XGBoost), the walk here in double */
			ck_assert_msg(fabs(out[i] - want) <= 1e-5 * fabs(want) + 1e-3, "row %zu: %.17g, walked %.17g",
				      i, out[i], want);
			if (kn == 0)
				first[i] = out[i];
			else
				ck_assert_msg(out[i] == first[i], "row %zu: kernel %s %.17g, best kernel %.17g", i,
					      kernels[kn], out[i], first[i]);
		}
	}
	json_decref(doc);
	gb_forest_free(&f);
	free(first);
	free(x);
	free(out);
	free(row);
}

START_TEST(test_kernels_equal_a_walk)
{
	check_kernels(20, 30);	/* shallow enough to flatten, levels below six gathered */
	check_kernels(20, 3);	/* depth up to 3: a level and the leaves in one register */
	check_kernels(20, 7);	/* depths around 4 to 6: one and two registers */
	check_kernels(20, 12);
	check_kernels(1, 0);	/* a single leaf */
	check_kernels(3, 200);	/* random trees this size are deeper than 12: walked */
}
END_TEST

/* ---- bin codes: one byte when every feature's codes fit, two otherwise ---- */

/* Bins of one feature holding `distinct` values, the first row missing if `missing`. */
static void bin_one_feature(size_t distinct, int missing, struct gb_bins *b)
{
	size_t n = distinct + (missing ? 1 : 0);
	double *x = malloc(n * sizeof *x);
	for (size_t i = 0; i < n; i++)
		x[i] = missing && i == 0 ? NAN : (double)(i % distinct);
	struct ml_matrix m = { n, 1, x };
	struct ml_err err = ML_ERR_INIT;
	ck_assert_msg(gb_bins_build(&m, 256, b, &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < n; i++)	/* the value v's code is v, missing's is ncuts */
		ck_assert_uint_eq(gb_code(b->code, b->wide, i), missing && i == 0 ? b->ncuts[0] : x[i]);
	free(x);
}

START_TEST(test_code_width)
{
	struct gb_bins b;
	bin_one_feature(256, 0, &b);	/* codes 0..255 */
	ck_assert_int_eq(b.wide, 0);
	gb_bins_free(&b);
	bin_one_feature(255, 1, &b);	/* 0..254 and missing 255 */
	ck_assert_int_eq(b.wide, 0);
	gb_bins_free(&b);
	bin_one_feature(256, 1, &b);	/* missing is code 256 */
	ck_assert_int_eq(b.wide, 1);
	gb_bins_free(&b);
	double x[40];	/* a feature with no values at all: no cuts, every code "missing" */
	for (size_t i = 0; i < 40; i++)
		x[i] = NAN;
	struct ml_matrix m = { 40, 1, x };
	struct ml_err err = ML_ERR_INIT;
	ck_assert_msg(gb_bins_build(&m, 256, &b, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(b.ncuts[0], 0);
	for (size_t i = 0; i < 40; i++)
		ck_assert_uint_eq(gb_code(b.column, b.wide, i), 0);
	gb_bins_free(&b);
}
END_TEST

/* b's codes widened to two bytes: what more than 256 bins would give, for the same bins. */
static void widen(const struct gb_bins *b, struct gb_bins *w)
{
	size_t n = b->nrows * b->nfeatures;
	*w = *b;
	w->wide = 1;
	w->code = malloc(n * sizeof(uint16_t));
	w->column = malloc(n * sizeof(uint16_t));
	for (size_t i = 0; i < n; i++) {
		gb_code_set(w->code, 1, i, gb_code(b->code, 0, i));
		gb_code_set(w->column, 1, i, gb_code(b->column, 0, i));
	}
}

/* One tree on bins with the given rows (all when sample is 0, else every other row). */
static void grow_on(const struct gb_bins *b, const struct gb_gpair *gp, size_t threads, int sample,
		    struct gb_tree *t)
{
	struct gb_grower g;
	struct ml_err err = ML_ERR_INIT;
	uint8_t use[4] = { 1, 1, 1, 1 };
	struct gb_tree_params p = { .max_depth = 6, .eta = 0.3, .lambda = 1, .min_child_weight = 1 };
	ck_assert_msg(gb_grower_init(&g, b, threads, &err) == 0, "%s", err.msg);
	g.nrows = 0;
	for (size_t i = 0; i < b->nrows; i += sample ? 2 : 1)
		g.rows[g.nrows++] = (uint32_t)i;
	memset(t, 0, sizeof *t);
	ck_assert_msg(gb_grow(&g, gp, use, &p, t, &err) == 0, "%s", err.msg);
	gb_grower_free(&g);
}

static void assert_same_tree(const struct gb_tree *a, const struct gb_tree *b)
{
	ck_assert_uint_eq(a->n, b->n);
	ck_assert_uint_gt(a->n, 31);	/* a real tree, not a stump */
	for (size_t i = 0; i < a->n; i++) {
		ck_assert_int_eq(a->left[i], b->left[i]);
		ck_assert_int_eq(a->feature[i], b->feature[i]);
		ck_assert_int_eq(a->default_left[i], b->default_left[i]);
		ck_assert(a->cond[i] == b->cond[i] && a->sum_hessian[i] == b->sum_hessian[i]);
	}
}

/* Trees grown from one-byte and two-byte codes are the same, on any thread count and sample. */
START_TEST(test_code_widths_grow_the_same_tree)
{
	size_t n = 40000, p = 4;
	double *x = malloc(n * p * sizeof *x);
	struct gb_gpair *gp = malloc(n * sizeof *gp);
	uint64_t rng = 7;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < p; j++)
			x[i * p + j] = ml_random_uniform(&rng) < 0.1 ? NAN : ml_random_uniform(&rng);
		double y = sin(6 * x[i * p]) + (isnan(x[i * p + 1]) ? 2 : x[i * p + 1]) + 0.1 * ml_random_uniform(&rng);
		gp[i] = (struct gb_gpair){ (float)-y, 1 };
	}
	struct ml_matrix m = { n, p, x };
	struct gb_bins narrow, wide;
	struct ml_err err = ML_ERR_INIT;
	ck_assert_msg(gb_bins_build(&m, 200, &narrow, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(narrow.wide, 0);
	widen(&narrow, &wide);
	for (size_t threads = 1; threads <= 3; threads++)
		for (int sample = 0; sample <= 1; sample++) {
			struct gb_tree a, b;
			grow_on(&narrow, gp, threads, sample, &a);
			grow_on(&wide, gp, threads, sample, &b);
			assert_same_tree(&a, &b);
			gb_tree_free(&a);
			gb_tree_free(&b);
		}
	free(wide.code);
	free(wide.column);
	gb_bins_free(&narrow);
	free(x);
	free(gp);
}
END_TEST

/* ---- training: one stump on a step function has the exact leaves ---- */

START_TEST(test_trains_a_stump)
{
	size_t n = 1000;
	double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
	for (size_t i = 0; i < n; i++) {
		x[i] = (double)i / (double)n;
		y[i] = x[i] < 0.25 ? 4 : 8;
	}
	struct ml_matrix m = { n, 1, x };
	json_t *params = json_pack("{s:s, s:s, s:s, s:s, s:s}", "num_round", "1", "max_depth", "1", "eta", "1",
				   "lambda", "0", "min_child_weight", "0.5");
	json_t *model = NULL;
	struct ml_err err = ML_ERR_INIT;
	ck_assert_msg(ops()->train(&m, y, NULL, NULL, params, &model, &err) == 0, "%s", err.msg);
	json_t *tree = json_array_get(json_object_get(model, "trees"), 0);
	json_t *cond = json_object_get(tree, "split_conditions");
	ck_assert_double_eq_tol(json_number_value(json_object_get(model, "base_score")), 7, 1e-12);
	ck_assert_double_eq(json_number_value(json_array_get(cond, 0)), (float)0.25);
	ck_assert_double_eq_tol(json_number_value(json_array_get(cond, 1)), -3, 1e-6);
	ck_assert_double_eq_tol(json_number_value(json_array_get(cond, 2)), 1, 1e-6);
	json_decref(model);
	json_decref(params);
	free(x);
	free(y);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("gbtree");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_scores_a_valid_model);
	tcase_add_test(tc, test_refuses_hostile_models);
	tcase_add_test(tc, test_fuzzed_models_fail_cleanly);
	tcase_add_test(tc, test_kernels_equal_a_walk);
	tcase_add_test(tc, test_trains_a_stump);
	tcase_add_test(tc, test_code_width);
	tcase_add_test(tc, test_code_widths_grow_the_same_tree);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
