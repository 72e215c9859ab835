/*
 * test_recipe.c - feature engineering, checked against values worked out by
 * hand the way numpy and scikit-learn define them: column types and roles,
 * imputation (median of an even count is the mean of the two middles),
 * standard scaling with the population deviation, min-max to [0, 1],
 * one-hot levels with an "(other)" bucket, unseen levels, ordinal codes,
 * log1p of features and target, quantile clipping; a saved recipe applies
 * bit for bit like the fitted one, and a hostile recipe document is refused.
 */
#include <math.h>

#include "mlpipe/recipe.h"
#include "testutil.h"


/*
 * Eight cars.  By column:
 *   make     Ford x4, Buick x2, Saab, Kia
 *   year     2008..2016, no gaps in presence
 *   mileage  50 _ 30 100 60 40 20 _   present: sum 300, mean 50, sorted
 *            20 30 40 50 60 100 -> median (40 + 50) / 2 = 45, all distinct
 *   doors    4 2 4 _ 2 _ 4 4          present: 4 x4, 2 x2 -> mode 4, median 4
 *   price    the target, one missing
 *   color    red x4, blue x2, green, one missing
 */
static const char train_csv[] = "make,year,mileage,doors,price,color\n"
				"Ford,2010,50,4,5000,red\n"
				"Ford,2012,,2,7000,blue\n"
				"Buick,2015,30,4,12000,\n"
				"Saab,2008,100,,3000,red\n"
				"Ford,2011,60,2,,blue\n"
				"Buick,2013,40,,9000,green\n"
				"Kia,2016,20,4,11000,red\n"
				"Ford,2009,,4,4000,red\n";
static const double year[8] = { 2010, 2012, 2015, 2008, 2011, 2013, 2016, 2009 };
static const double price[8] = { 5000, 7000, 12000, 3000, NAN, 9000, 11000, 4000 };

/* Rows a recipe fitted on train_csv has not seen: new levels, missing ones. */
static const char unseen_csv[] = "make,year,mileage,doors,price,color\n"
				 "Tesla,2020,5,4,40000,purple\n"
				 ",2014,70,2,6000,\n"
				 "Saab,2010,80,4,3500,green\n"
				 "Ford,2011,55,2,6500,red\n";

static struct ml_reader *open_csv(const char *name, const char *text, struct ml_err *err)
{
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	test_write_file(test_dir(), name, text, strlen(text));
	return ml_reader_open(&name, 1, &o, err);
}

static struct ml_recipe *fit(const char *text, const struct ml_recipe_opts *o, struct ml_err *err)
{
	struct ml_reader *r = open_csv("train.csv", text, err);
	ck_assert_msg(r, "%s", err->msg);
	struct ml_recipe *rc = ml_recipe_fit(r, o, err);
	ml_reader_close(r);
	return rc;
}

static struct ml_recipe *fit_ok(const char *text, const struct ml_recipe_opts *o)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe *rc = fit(text, o, &err);
	ck_assert_msg(rc, "fit: %s", err.msg);
	return rc;
}

/* A fit that must fail with class cls and a message containing want. */
static void fit_fails(const char *text, const struct ml_recipe_opts *o, enum ml_errclass cls, const char *want)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe *rc = fit(text, o, &err);
	ck_assert_msg(!rc, "fit accepted what it should refuse (%s)", want);
	ck_assert_msg(err.class == cls, "class %d, want %d: %s", err.class, cls, err.msg);
	ck_assert_msg(strstr(err.msg, want), "\"%s\" not in: %s", want, err.msg);
}

#define MAXROWS 64
#define MAXFEAT 32

struct applied {
	size_t nrows, nf;
	double x[MAXROWS * MAXFEAT];
	double y[MAXROWS];
};

/* Read text bound to schema s (missing columns allowed) and apply rc to it. */
static void apply_schema(const struct ml_recipe *rc, const struct ml_schema *s, const char *text,
			 struct applied *a)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_csv("apply.csv", text, &err);
	ck_assert_msg(r, "%s", err.msg);
	ck_assert_msg(ml_reader_bind(r, s, 1, &err) == 0, "%s", err.msg);
	struct ml_batch b;
	ml_batch_init(&b);
	long n = ml_reader_read_batch(r, &b, &err);
	ck_assert_msg(n > 0 && n <= MAXROWS, "%ld rows: %s", n, err.msg);
	a->nrows = (size_t)n;
	a->nf = ml_recipe_nfeatures(rc);
	ck_assert_uint_le(a->nf, MAXFEAT);
	for (size_t i = 0; i < MAXROWS * MAXFEAT; i++)
		a->x[i] = -12345;	/* every slot must be written */
	for (size_t i = 0; i < MAXROWS; i++)
		a->y[i] = -12345;
	ck_assert_msg(ml_recipe_apply(rc, &b, a->x, a->y, &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < a->nrows * a->nf; i++)
		ck_assert_msg(a->x[i] != -12345, "x[%zu] not written", i);
	ck_assert_int_eq(ml_reader_read_batch(r, &b, &err), 0);
	ml_batch_release(&b);
	ml_reader_close(r);
}

static void apply_text(const struct ml_recipe *rc, const char *text, struct applied *a)
{
	apply_schema(rc, ml_recipe_input_schema(rc), text, a);
}

static size_t feature(const struct ml_recipe *rc, const char *name)
{
	for (size_t i = 0; i < ml_recipe_nfeatures(rc); i++)
		if (!strcmp(ml_recipe_feature_name(rc, i), name))
			return i;
	ck_abort_msg("no feature \"%s\"", name);
	return 0;
}

static int has_feature(const struct ml_recipe *rc, const char *name)
{
	for (size_t i = 0; i < ml_recipe_nfeatures(rc); i++)
		if (!strcmp(ml_recipe_feature_name(rc, i), name))
			return 1;
	return 0;
}

static double xval(const struct applied *a, const struct ml_recipe *rc, size_t row, const char *name)
{
	ck_assert_uint_lt(row, a->nrows);
	return a->x[row * a->nf + feature(rc, name)];
}

/* The feature names, in order, are exactly want (NULL-terminated). */
static void features_are(const struct ml_recipe *rc, const char *const *want)
{
	size_t n = 0;
	for (; want[n]; n++) {
		const char *got = ml_recipe_feature_name(rc, n);
		ck_assert_msg(got && !strcmp(got, want[n]), "feature %zu is \"%s\", want \"%s\"", n,
			      got ? got : "(none)", want[n]);
	}
	ck_assert_uint_eq(ml_recipe_nfeatures(rc), n);
	ck_assert_ptr_null(ml_recipe_feature_name(rc, n));
}

/* One-hot columns of prefix in row: 1 for level, 0 for the rest. */
static void one_hot_is(const struct applied *a, const struct ml_recipe *rc, size_t row, const char *prefix,
		       const char *level)
{
	size_t plen = strlen(prefix), hot = 0;
	for (size_t i = 0; i < a->nf; i++) {
		const char *f = ml_recipe_feature_name(rc, i);
		if (strncmp(f, prefix, plen) || f[plen] != '=')
			continue;
		double v = a->x[row * a->nf + i];
		int want = !strcmp(f + plen + 1, level);
		ck_assert_msg(v == want, "row %zu, %s: %g, want %d", row, f, v, want);
		hot += want;
	}
	ck_assert_msg(hot == 1, "no feature %s=%s", prefix, level);
}

/* Every one-hot column of prefix is NaN in row. */
static void one_hot_missing(const struct applied *a, const struct ml_recipe *rc, size_t row, const char *prefix)
{
	size_t plen = strlen(prefix), n = 0;
	for (size_t i = 0; i < a->nf; i++) {
		const char *f = ml_recipe_feature_name(rc, i);
		if (strncmp(f, prefix, plen) || f[plen] != '=')
			continue;
		ck_assert_msg(isnan(a->x[row * a->nf + i]), "row %zu, %s: %g, want NaN", row, f,
			      a->x[row * a->nf + i]);
		n++;
	}
	ck_assert_uint_gt(n, 0);
}

/* Population mean and standard deviation (ddof = 0) of the non-NaN values. */
static void mean_sd(const double *v, size_t n, size_t stride, double *mean, double *sd)
{
	double s = 0, ss = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i * stride])) {
			s += v[i * stride];
			k++;
		}
	*mean = s / (double)k;
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i * stride]))
			ss += (v[i * stride] - *mean) * (v[i * stride] - *mean);
	*sd = sqrt(ss / (double)k);
}

/* ---- types, roles, feature names ---- */

START_TEST(test_types_roles_and_feature_names)
{
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.target = "price";
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	ck_assert_str_eq(ml_recipe_target(rc), "price");
	const struct ml_schema *s = ml_recipe_input_schema(rc);
	static const struct {
		const char *name;
		enum ml_type type;
		enum ml_role role;
	} want[] = {
		{ "make", ML_TYPE_CATEGORICAL, ML_ROLE_FEATURE }, { "year", ML_TYPE_NUMERIC, ML_ROLE_FEATURE },
		{ "mileage", ML_TYPE_NUMERIC, ML_ROLE_FEATURE },  { "doors", ML_TYPE_NUMERIC, ML_ROLE_FEATURE },
		{ "price", ML_TYPE_NUMERIC, ML_ROLE_TARGET },	  { "color", ML_TYPE_CATEGORICAL, ML_ROLE_FEATURE },
	};
	ck_assert_uint_eq(s->n, 6);
	for (size_t i = 0; i < 6; i++) {
		ck_assert_str_eq(s->cols[i].name, want[i].name);
		ck_assert_msg(s->cols[i].type == want[i].type, "%s: %s", want[i].name, ml_type_name(s->cols[i].type));
		ck_assert_msg(s->cols[i].role == want[i].role, "%s: %s", want[i].name, ml_role_name(s->cols[i].role));
	}
	/* Levels sorted; the target is not a feature; "(other)" for unseen levels. */
	features_are(rc, (const char *const[]){ "make=Buick", "make=Ford", "make=Kia", "make=Saab", "make=(other)",
						"year", "mileage", "doors", "color=blue", "color=green",
						"color=red", "color=(other)", NULL });
	struct applied a;
	apply_text(rc, train_csv, &a);
	ck_assert_uint_eq(a.nrows, 8);
	one_hot_is(&a, rc, 0, "make", "Ford");
	one_hot_is(&a, rc, 2, "make", "Buick");
	one_hot_is(&a, rc, 3, "make", "Saab");
	one_hot_is(&a, rc, 0, "color", "red");
	one_hot_missing(&a, rc, 2, "color");	/* no imputation: missing stays missing */
	for (size_t r = 0; r < 8; r++) {
		ck_assert_double_eq(xval(&a, rc, r, "year"), year[r]);	/* no scaling: raw values */
		if (isnan(price[r]))
			ck_assert(isnan(a.y[r]));
		else
			ck_assert_double_eq(a.y[r], price[r]);
	}
	ck_assert_double_eq(xval(&a, rc, 0, "mileage"), 50);
	ck_assert(isnan(xval(&a, rc, 1, "mileage")));
	ck_assert(isnan(xval(&a, rc, 3, "doors")));
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_role_and_type_options)
{
	struct ml_strlist drop = { 0 }, keep = { 0 }, cat = { 0 };
	ml_strlist_push(&drop, "year", NULL);
	ml_strlist_push(&keep, "make", NULL);
	ml_strlist_push(&cat, "doors", NULL);
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.drop = &drop;
	o.keep = &keep;
	o.categorical = &cat;
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	ck_assert_ptr_null(ml_recipe_target(rc));
	const struct ml_schema *s = ml_recipe_input_schema(rc);
	ck_assert_int_eq(s->cols[ml_schema_find(s, "year")].role, ML_ROLE_IGNORE);
	ck_assert_int_eq(s->cols[ml_schema_find(s, "make")].role, ML_ROLE_PASSTHROUGH);
	ck_assert_int_eq(s->cols[ml_schema_find(s, "doors")].type, ML_TYPE_CATEGORICAL);
	/* Without a target, price is a feature like the rest. */
	features_are(rc, (const char *const[]){ "mileage", "doors=2", "doors=4", "doors=(other)", "price",
						"color=blue", "color=green", "color=red", "color=(other)", NULL });
	ml_recipe_free(rc);

	/* A text column (too many distinct values) is not a feature. */
	ml_recipe_opts_init(&o);
	o.infer.max_categories = 3;
	rc = fit_ok(train_csv, &o);
	ck_assert_int_eq(ml_recipe_input_schema(rc)->cols[0].type, ML_TYPE_TEXT);
	ck_assert(!has_feature(rc, "make=Ford") && !has_feature(rc, "make"));
	ck_assert(has_feature(rc, "color=red"));
	ml_recipe_free(rc);

	ml_recipe_opts_init(&o);
	o.target = "nope";
	fit_fails(train_csv, &o, ML_ERR_USAGE, "nope");
	o.target = "make";	/* a regression target must be a number */
	fit_fails(train_csv, &o, ML_ERR_DATA, "make");
	ml_recipe_opts_init(&o);
	struct ml_strlist bad = { 0 };
	ml_strlist_push(&bad, "colour", NULL);
	o.drop = &bad;
	fit_fails(train_csv, &o, ML_ERR_USAGE, "colour");
	ml_strlist_clear(&bad);
	ml_strlist_clear(&drop);
	ml_strlist_clear(&keep);
	ml_strlist_clear(&cat);
}
END_TEST

/* ---- imputation ---- */

START_TEST(test_impute_numeric)
{
	static const struct {
		enum ml_impute how;
		double mileage, doors;	/* the value a missing one becomes */
	} cases[] = {
		{ ML_IMPUTE_MEDIAN, 45, 4 },			/* np.median: (40 + 50) / 2 */
		{ ML_IMPUTE_MEAN, 50, 20.0 / 6 },
		{ ML_IMPUTE_MOST_FREQUENT, 20, 4 },		/* all distinct: the smallest, as sklearn */
		{ ML_IMPUTE_CONSTANT, -1, -1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ml_recipe_opts o;
		ml_recipe_opts_init(&o);
		o.target = "price";
		o.numeric_impute = cases[i].how;
		o.numeric_fill = -1;
		struct ml_recipe *rc = fit_ok(train_csv, &o);
		struct applied a;
		apply_text(rc, train_csv, &a);
		ck_assert_double_eq_tol(xval(&a, rc, 1, "mileage"), cases[i].mileage, 1e-12);
		ck_assert_double_eq_tol(xval(&a, rc, 7, "mileage"), cases[i].mileage, 1e-12);
		ck_assert_double_eq_tol(xval(&a, rc, 3, "doors"), cases[i].doors, 1e-12);
		ck_assert_double_eq(xval(&a, rc, 0, "mileage"), 50);	/* present values untouched */
		ck_assert(isnan(a.y[4]));				/* the target is never imputed */
		ml_recipe_free(rc);
	}
}
END_TEST

START_TEST(test_impute_categorical)
{
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.categorical_impute = ML_IMPUTE_MOST_FREQUENT;
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	struct applied a;
	apply_text(rc, train_csv, &a);
	one_hot_is(&a, rc, 2, "color", "red");
	ck_assert(isnan(xval(&a, rc, 1, "mileage")));	/* numeric columns keep their own (none) */
	ml_recipe_free(rc);

	/* A constant that is a known level lands on it, any other in "(other)". */
	o.categorical_impute = ML_IMPUTE_CONSTANT;
	o.categorical_fill = "blue";
	rc = fit_ok(train_csv, &o);
	apply_text(rc, train_csv, &a);
	one_hot_is(&a, rc, 2, "color", "blue");
	ml_recipe_free(rc);
	o.categorical_fill = "unknown";
	rc = fit_ok(train_csv, &o);
	apply_text(rc, train_csv, &a);
	one_hot_is(&a, rc, 2, "color", "(other)");
	one_hot_is(&a, rc, 0, "color", "red");
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_impute_per_column)
{
	struct ml_strlist imp = { 0 };
	ml_strlist_push(&imp, "mileage=constant:7.5", NULL);
	ml_strlist_push(&imp, "doors=median", NULL);
	ml_strlist_push(&imp, "color=most_frequent", NULL);
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.numeric_impute = ML_IMPUTE_MEAN;	/* overridden per column */
	o.impute = &imp;
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	struct applied a;
	apply_text(rc, train_csv, &a);
	ck_assert_double_eq(xval(&a, rc, 1, "mileage"), 7.5);
	ck_assert_double_eq(xval(&a, rc, 3, "doors"), 4);
	one_hot_is(&a, rc, 2, "color", "red");
	ck_assert_double_eq(xval(&a, rc, 0, "year"), 2010);
	ml_recipe_free(rc);
	ml_strlist_clear(&imp);

	static const struct {
		const char *spec, *want;
	} bad[] = {
		{ "mileage=bogus", "mileage=bogus" },
		{ "mileage=constant", "mileage=constant" },	/* constant needs a value */
		{ "mileage=median:3", "mileage=median:3" },	/* only constant takes one */
		{ "color=median", "\"color\" is categorical" },
		{ "color=mean", "\"color\" is categorical" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ml_strlist_push(&imp, bad[i].spec, NULL);
		ml_recipe_opts_init(&o);
		o.impute = &imp;
		fit_fails(train_csv, &o, ML_ERR_USAGE, bad[i].want);
		ml_strlist_clear(&imp);
	}
	/* Nothing to impute from: an empty column. */
	ml_recipe_opts_init(&o);
	o.numeric_impute = ML_IMPUTE_MEDIAN;
	fit_fails("a,b\n1,\n2,\n3,\n", &o, ML_ERR_DATA, "\"b\"");
}
END_TEST

/* ---- scaling ---- */

START_TEST(test_standard_scaling_population_sd)
{
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.target = "price";
	o.scale = ML_SCALE_STANDARD;
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	struct applied a;
	apply_text(rc, train_csv, &a);
	/* year: mean 2011.75; squared deviations add up to 55.5, so the
	 * population variance (ddof = 0) is 55.5 / 8, not 55.5 / 7 */
	const double sd = sqrt(55.5 / 8);
	for (size_t r = 0; r < 8; r++)
		ck_assert_double_eq_tol(xval(&a, rc, r, "year"), (year[r] - 2011.75) / sd, 1e-12);
	/* mileage without imputation: mean 50 and variance 4000 / 6 over the present values */
	ck_assert_double_eq_tol(xval(&a, rc, 0, "mileage"), 0, 1e-12);
	ck_assert_double_eq_tol(xval(&a, rc, 6, "mileage"), -30 / sqrt(4000.0 / 6), 1e-12);
	ck_assert(isnan(xval(&a, rc, 1, "mileage")));
	/* What a user checks: every scaled column has mean 0 and np.std 1. */
	static const char *const cols[] = { "year", "mileage", "doors" };
	for (size_t c = 0; c < 3; c++) {
		double m, s;
		mean_sd(a.x + feature(rc, cols[c]), 8, a.nf, &m, &s);
		ck_assert_msg(fabs(m) < 1e-12 && fabs(s - 1) < 1e-12, "%s: mean %g, sd %.15g", cols[c], m, s);
	}
	/* One-hot columns are not scaled; nor is the target. */
	one_hot_is(&a, rc, 0, "make", "Ford");
	ck_assert_double_eq(a.y[0], 5000);
	ml_recipe_free(rc);
}
END_TEST

/* The scaler sees imputed values (SimpleImputer then StandardScaler). */
START_TEST(test_standard_scaling_after_imputation)
{
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.numeric_impute = ML_IMPUTE_MEDIAN;
	o.scale = ML_SCALE_STANDARD;
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	struct applied a;
	apply_text(rc, train_csv, &a);
	/* mileage after imputation: 50 45 30 100 60 40 20 45, mean 48.75 */
	const double v[8] = { 50, 45, 30, 100, 60, 40, 20, 45 };
	double m, s;
	mean_sd(v, 8, 1, &m, &s);
	ck_assert_double_eq(m, 48.75);
	for (size_t r = 0; r < 8; r++)
		ck_assert_double_eq_tol(xval(&a, rc, r, "mileage"), (v[r] - m) / s, 1e-12);
	static const char *const cols[] = { "year", "mileage", "doors", "price" };
	for (size_t c = 0; c < 4; c++) {
		mean_sd(a.x + feature(rc, cols[c]), 8, a.nf, &m, &s);
		ck_assert_msg(fabs(m) < 1e-12 && fabs(s - 1) < 1e-12, "%s: mean %g, sd %.15g", cols[c], m, s);
	}
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_minmax_scaling)
{
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.target = "price";
	o.scale = ML_SCALE_MINMAX;
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	struct applied a;
	apply_text(rc, train_csv, &a);
	for (size_t r = 0; r < 8; r++)
		ck_assert_double_eq_tol(xval(&a, rc, r, "year"), (year[r] - 2008) / 8, 1e-15);
	ck_assert_double_eq(xval(&a, rc, 3, "year"), 0);
	ck_assert_double_eq(xval(&a, rc, 6, "year"), 1);
	ck_assert_double_eq(xval(&a, rc, 6, "mileage"), 0);	/* 20 */
	ck_assert_double_eq(xval(&a, rc, 3, "mileage"), 1);	/* 100 */
	ck_assert_double_eq(xval(&a, rc, 0, "mileage"), 30.0 / 80);
	ck_assert(isnan(xval(&a, rc, 1, "mileage")));
	/* New data may fall outside [0, 1]: the fitted range is kept. */
	apply_text(rc, unseen_csv, &a);
	ck_assert_double_eq(xval(&a, rc, 0, "year"), 12.0 / 8);
	ml_recipe_free(rc);
}
END_TEST

/* A constant column scales to 0, not to NaN or infinity. */
START_TEST(test_constant_column_scaling)
{
	static const char csv[] = "a,b\n1,5\n2,5\n3,5\n";
	enum ml_scale how[] = { ML_SCALE_STANDARD, ML_SCALE_MINMAX };
	for (size_t i = 0; i < 2; i++) {
		struct ml_recipe_opts o;
		ml_recipe_opts_init(&o);
		o.scale = how[i];
		struct ml_recipe *rc = fit_ok(csv, &o);
		struct applied a;
		apply_text(rc, csv, &a);
		for (size_t r = 0; r < 3; r++)
			ck_assert_double_eq(xval(&a, rc, r, "b"), 0);
		ml_recipe_free(rc);
	}
}
END_TEST

/*
 * Apply rc (fitted on text) to text again; the lowest and highest output of
 * feature 0, and its mean and population deviation.
 */
static void apply_column_stats(const struct ml_recipe *rc, const char *text, size_t n, double *lo, double *hi,
			       double *mean, double *sd)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_csv("all.csv", text, &err);
	ck_assert_msg(r, "%s", err.msg);
	ck_assert_int_eq(ml_reader_bind(r, ml_recipe_input_schema(rc), 0, &err), 0);
	struct ml_batch b;
	ml_batch_init(&b);
	double s = 0, ss = 0, *x = malloc(n * sizeof *x);
	size_t rows = 0;
	long got;
	*lo = INFINITY;
	*hi = -INFINITY;
	while ((got = ml_reader_read_batch(r, &b, &err)) > 0) {
		ck_assert_int_eq(ml_recipe_apply(rc, &b, x, NULL, &err), 0);
		for (long i = 0; i < got; i++) {
			*lo = x[i] < *lo ? x[i] : *lo;
			*hi = x[i] > *hi ? x[i] : *hi;
			s += x[i];
			ss += x[i] * x[i];
		}
		rows += (size_t)got;
	}
	ck_assert_int_eq(got, 0);
	ck_assert_uint_eq(rows, n);
	*mean = s / (double)n;
	*sd = sqrt(ss / (double)n - *mean * *mean);
	free(x);
	ml_batch_release(&b);
	ml_reader_close(r);
}

/* One numeric column of n pseudo-random values, more than the sketch holds exactly. */
static char *large_column(size_t n)
{
	char *csv = malloc(16 + n * 16);
	size_t len = (size_t)sprintf(csv, "x\n");
	unsigned seed = 7;
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		len += (size_t)sprintf(csv + len, "%u\n", (seed >> 8) % 1000003);
	}
	return csv;
}

START_TEST(test_standard_scaling_large_column)
{
	const size_t n = 20000;
	char *csv = large_column(n);
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.scale = ML_SCALE_STANDARD;
	struct ml_recipe *rc = fit_ok(csv, &o);
	double lo, hi, m, sd;
	apply_column_stats(rc, csv, n, &lo, &hi, &m, &sd);
	ck_assert_msg(fabs(m) < 1e-9 && fabs(sd - 1) < 1e-9, "mean %g, sd %.15g", m, sd);
	ml_recipe_free(rc);
	free(csv);
}
END_TEST

/*
 * Regression (recipe.c fit_numeric): min-max takes the range from the values
 * the KLL sketch still holds, not from ml_kll_min/ml_kll_max, so past 2048
 * values the training data's own extremes map outside [0, 1].
 */
START_TEST(test_minmax_scaling_large_column)
{
	const size_t n = 20000;
	char *csv = large_column(n);
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.scale = ML_SCALE_MINMAX;
	struct ml_recipe *rc = fit_ok(csv, &o);
	double lo, hi, m, sd;
	apply_column_stats(rc, csv, n, &lo, &hi, &m, &sd);
	ck_assert_msg(lo == 0 && hi == 1, "min-max output spans [%.17g, %.17g]", lo, hi);
	ml_recipe_free(rc);
	free(csv);
}
END_TEST

/*
 * With unseen = MISSING, levels past max_levels are missing as well: apply
 * cannot tell a rare level seen while fitting from a new one, so there is
 * no "(other)" column whose meaning would depend on that.
 */
START_TEST(test_rare_levels_missing_when_unseen_missing)
{
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.target = "price";
	o.unseen = ML_UNSEEN_MISSING;
	o.max_levels = 2;
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	ck_assert(!has_feature(rc, "make=(other)"));
	struct applied a;
	apply_text(rc, train_csv, &a);
	one_hot_is(&a, rc, 0, "make", "Ford");
	for (size_t f = 0; f < a.nf; f++) {	/* Saab (row 3): rare, so missing */
		if (!strncmp(ml_recipe_feature_name(rc, f), "make=", 5))
			ck_assert(isnan(a.x[3 * a.nf + f]));
	}
	ml_recipe_free(rc);
}
END_TEST

/* ---- categorical encoding ---- */

START_TEST(test_one_hot_max_levels)
{
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.target = "price";
	o.max_levels = 2;
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	/* The two most frequent kept (Ford 4, Buick 2), sorted; Saab and Kia in (other). */
	features_are(rc, (const char *const[]){ "make=Buick", "make=Ford", "make=(other)", "year", "mileage",
						"doors", "color=blue", "color=red", "color=(other)", NULL });
	struct applied a;
	apply_text(rc, train_csv, &a);
	one_hot_is(&a, rc, 0, "make", "Ford");
	one_hot_is(&a, rc, 2, "make", "Buick");
	one_hot_is(&a, rc, 3, "make", "(other)");	/* Saab */
	one_hot_is(&a, rc, 6, "make", "(other)");	/* Kia */
	one_hot_is(&a, rc, 5, "color", "(other)");	/* green */
	ml_recipe_free(rc);
}
END_TEST

/* Ties are broken by name, so a fit is reproducible: the smallest wins (as sklearn). */
START_TEST(test_ties_broken_by_name)
{
	static const char csv[] = "c,n\nb,1\na,2\nc,3\nb,4\n,5\na,6\nc,7\n";	/* a, b, c twice each */
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.max_levels = 2;
	o.categorical_impute = ML_IMPUTE_MOST_FREQUENT;
	struct ml_recipe *rc = fit_ok(csv, &o);
	features_are(rc, (const char *const[]){ "c=a", "c=b", "c=(other)", "n", NULL });
	struct applied a;
	apply_text(rc, csv, &a);
	one_hot_is(&a, rc, 2, "c", "(other)");
	one_hot_is(&a, rc, 4, "c", "a");	/* missing -> the most frequent, smallest of the tie */
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_unseen_level_to_other)
{
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.target = "price";
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	struct applied a;
	apply_text(rc, unseen_csv, &a);
	one_hot_is(&a, rc, 0, "make", "(other)");	/* Tesla */
	one_hot_is(&a, rc, 0, "color", "(other)");	/* purple */
	one_hot_missing(&a, rc, 1, "make");		/* missing is not unseen */
	one_hot_is(&a, rc, 2, "make", "Saab");
	one_hot_is(&a, rc, 3, "make", "Ford");
	ck_assert_double_eq(a.y[0], 40000);
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_unseen_level_to_missing)
{
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.target = "price";
	o.unseen = ML_UNSEEN_MISSING;
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	/* Every level kept and unseen ones go missing: no (other) column. */
	ck_assert(!has_feature(rc, "make=(other)"));
	ck_assert(!has_feature(rc, "color=(other)"));
	ck_assert(has_feature(rc, "make=Kia"));
	struct applied a;
	apply_text(rc, unseen_csv, &a);
	one_hot_missing(&a, rc, 0, "make");
	one_hot_missing(&a, rc, 0, "color");
	one_hot_is(&a, rc, 2, "make", "Saab");
	one_hot_is(&a, rc, 3, "color", "red");
	ml_recipe_free(rc);
}
END_TEST

START_TEST(test_ordinal)
{
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.target = "price";
	o.encode = ML_ENCODE_ORDINAL;
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	features_are(rc, (const char *const[]){ "make", "year", "mileage", "doors", "color", NULL });
	struct applied a;
	apply_text(rc, train_csv, &a);
	/* Codes in sorted level order: Buick 0, Ford 1, Kia 2, Saab 3. */
	static const double make_code[8] = { 1, 1, 0, 3, 1, 0, 2, 1 };
	for (size_t r = 0; r < 8; r++)
		ck_assert_double_eq(xval(&a, rc, r, "make"), make_code[r]);
	ck_assert_double_eq(xval(&a, rc, 0, "color"), 2);	/* blue 0, green 1, red 2 */
	ck_assert(isnan(xval(&a, rc, 2, "color")));
	apply_text(rc, unseen_csv, &a);
	ck_assert_double_eq(xval(&a, rc, 0, "make"), 4);	/* unseen: the code after the levels */
	ck_assert(isnan(xval(&a, rc, 1, "make")));
	ck_assert_double_eq(xval(&a, rc, 2, "make"), 3);
	ml_recipe_free(rc);

	/* Rare levels share the (other) code with unseen ones. */
	o.max_levels = 2;
	rc = fit_ok(train_csv, &o);
	apply_text(rc, train_csv, &a);
	ck_assert_double_eq(xval(&a, rc, 2, "make"), 0);	/* Buick */
	ck_assert_double_eq(xval(&a, rc, 0, "make"), 1);	/* Ford */
	ck_assert_double_eq(xval(&a, rc, 3, "make"), 2);	/* Saab */
	ck_assert_double_eq(xval(&a, rc, 6, "make"), 2);	/* Kia */
	ml_recipe_free(rc);

	o.max_levels = 50;
	o.unseen = ML_UNSEEN_MISSING;
	rc = fit_ok(train_csv, &o);
	apply_text(rc, unseen_csv, &a);
	ck_assert(isnan(xval(&a, rc, 0, "make")));
	ck_assert_double_eq(xval(&a, rc, 2, "make"), 3);
	ml_recipe_free(rc);
}
END_TEST

/* ---- log1p and clipping ---- */

START_TEST(test_log1p_feature_and_target)
{
	struct ml_strlist l = { 0 };
	ml_strlist_push(&l, "mileage", NULL);
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.target = "price";
	o.log1p = &l;
	o.log1p_target = 1;
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	struct applied a;
	apply_text(rc, train_csv, &a);
	ck_assert_double_eq(xval(&a, rc, 0, "mileage"), log1p(50));
	ck_assert_double_eq(xval(&a, rc, 3, "mileage"), log1p(100));
	ck_assert(isnan(xval(&a, rc, 1, "mileage")));
	ck_assert_double_eq(xval(&a, rc, 0, "year"), 2010);	/* only the named column */
	for (size_t r = 0; r < 8; r++) {
		if (isnan(price[r])) {
			ck_assert(isnan(a.y[r]));
			continue;
		}
		ck_assert_double_eq(a.y[r], log1p(price[r]));
	}
	/* Predictions on the log scale come back in dollars. */
	ml_recipe_untransform_target(rc, a.y, 8);
	for (size_t r = 0; r < 8; r++)
		if (isnan(price[r]))
			ck_assert(isnan(a.y[r]));
		else
			ck_assert_double_eq_tol(a.y[r], price[r], price[r] * 1e-12);
	ml_recipe_free(rc);

	/* log1p with scaling: the scaler sees log1p values. */
	o.scale = ML_SCALE_STANDARD;
	rc = fit_ok(train_csv, &o);
	apply_text(rc, train_csv, &a);
	double m, s;
	mean_sd(a.x + feature(rc, "mileage"), 8, a.nf, &m, &s);
	ck_assert_msg(fabs(m) < 1e-12 && fabs(s - 1) < 1e-12, "mean %g, sd %.15g", m, s);
	const double lv[6] = { log1p(50), log1p(30), log1p(100), log1p(60), log1p(40), log1p(20) };
	double lm, ls;
	mean_sd(lv, 6, 1, &lm, &ls);
	ck_assert_double_eq_tol(xval(&a, rc, 6, "mileage"), (log1p(20) - lm) / ls, 1e-12);
	ml_recipe_free(rc);

	/* Without log1p_target, untransform leaves predictions alone. */
	ml_recipe_opts_init(&o);
	o.target = "price";
	rc = fit_ok(train_csv, &o);
	double y[3] = { 1.5, -2, 1e6 };
	ml_recipe_untransform_target(rc, y, 3);
	ck_assert(y[0] == 1.5 && y[1] == -2 && y[2] == 1e6);
	ml_recipe_free(rc);
	ml_strlist_clear(&l);
}
END_TEST

START_TEST(test_log1p_refuses_values_at_or_below_minus_one)
{
	struct ml_strlist l = { 0 };
	ml_strlist_push(&l, "b", NULL);
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.log1p = &l;
	fit_fails("a,b\n1,3\n2,-1\n", &o, ML_ERR_DATA, "\"b\"");
	ml_recipe_opts_init(&o);
	o.target = "b";
	o.log1p_target = 1;
	fit_fails("a,b\n1,3\n2,-2\n", &o, ML_ERR_DATA, "\"b\"");
	ml_strlist_clear(&l);
	ml_strlist_push(&l, "nope", NULL);
	ml_recipe_opts_init(&o);
	o.log1p = &l;
	fit_fails("a,b\n1,3\n", &o, ML_ERR_USAGE, "nope");
	ml_strlist_clear(&l);
}
END_TEST

START_TEST(test_clip_to_quantiles)
{
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.target = "price";
	o.clip_low = 0.1;
	o.clip_high = 0.9;
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	struct applied a;
	apply_text(rc, train_csv, &a);
	/* year sorted 2008 2009 2010 2011 2012 2013 2015 2016: np.quantile 0.1 is
	 * 2008 + 0.7 * 1, 0.9 is 2015 + 0.3 * 1 */
	ck_assert_double_eq_tol(xval(&a, rc, 3, "year"), 2008.7, 1e-9);
	ck_assert_double_eq_tol(xval(&a, rc, 6, "year"), 2015.3, 1e-9);
	ck_assert_double_eq(xval(&a, rc, 4, "year"), 2011);
	/* mileage 20 30 40 50 60 100: 0.1 -> 25, 0.9 -> 80 */
	ck_assert_double_eq_tol(xval(&a, rc, 6, "mileage"), 25, 1e-9);
	ck_assert_double_eq_tol(xval(&a, rc, 3, "mileage"), 80, 1e-9);
	ck_assert_double_eq(xval(&a, rc, 0, "mileage"), 50);
	ck_assert(isnan(xval(&a, rc, 1, "mileage")));
	ck_assert_double_eq(a.y[2], 12000);	/* the target is not clipped */
	apply_text(rc, unseen_csv, &a);
	ck_assert_double_eq_tol(xval(&a, rc, 0, "year"), 2015.3, 1e-9);
	ck_assert_double_eq_tol(xval(&a, rc, 0, "mileage"), 25, 1e-9);
	ml_recipe_free(rc);

	/* Scaling after clipping: the scaler's statistics are of clipped values. */
	o.scale = ML_SCALE_STANDARD;
	rc = fit_ok(train_csv, &o);
	apply_text(rc, train_csv, &a);
	double m, s;
	mean_sd(a.x + feature(rc, "year"), 8, a.nf, &m, &s);
	ck_assert_msg(fabs(m) < 1e-9 && fabs(s - 1) < 1e-9, "mean %g, sd %.15g", m, s);
	ml_recipe_free(rc);
}
END_TEST

/* ---- save, load, apply ---- */

static struct ml_recipe *fit_everything(void)
{
	struct ml_strlist l = { 0 };
	ml_strlist_push(&l, "mileage", NULL);
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.target = "price";
	o.log1p = &l;
	o.log1p_target = 1;
	o.numeric_impute = ML_IMPUTE_MEDIAN;
	o.categorical_impute = ML_IMPUTE_MOST_FREQUENT;
	o.scale = ML_SCALE_STANDARD;
	o.max_levels = 2;
	o.clip_low = 0.05;
	o.clip_high = 0.95;
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	ml_strlist_clear(&l);
	return rc;
}

START_TEST(test_save_load_identical_output)
{
	struct ml_recipe *rc = fit_everything();
	struct ml_err err = ML_ERR_INIT;
	ck_assert_msg(ml_recipe_save(rc, "recipe.json", &err) == 0, "%s", err.msg);
	struct ml_recipe *back = ml_recipe_load("recipe.json", &err);
	ck_assert_msg(back, "%s", err.msg);
	ck_assert_str_eq(ml_recipe_target(back), "price");
	ck_assert_uint_eq(ml_recipe_nfeatures(back), ml_recipe_nfeatures(rc));
	for (size_t i = 0; i < ml_recipe_nfeatures(rc); i++)
		ck_assert_str_eq(ml_recipe_feature_name(back, i), ml_recipe_feature_name(rc, i));
	const char *texts[] = { train_csv, unseen_csv };
	for (size_t t = 0; t < 2; t++) {
		static struct applied a, b;
		apply_text(rc, texts[t], &a);
		apply_text(back, texts[t], &b);
		ck_assert_uint_eq(a.nrows, b.nrows);
		for (size_t i = 0; i < a.nrows * a.nf; i++)
			ck_assert_msg(!memcmp(&a.x[i], &b.x[i], sizeof(double)), "x[%zu]: %.17g vs %.17g", i, a.x[i],
				      b.x[i]);
		ck_assert(!memcmp(a.y, b.y, a.nrows * sizeof(double)));
	}
	/* And the document says the same thing as before. */
	json_t *j1 = ml_recipe_to_json(rc), *j2 = ml_recipe_to_json(back);
	ck_assert(json_equal(j1, j2));
	json_decref(j1);
	json_decref(j2);
	ml_recipe_free(back);
	ml_recipe_free(rc);
}
END_TEST

/* ---- hostile recipe documents ---- */

static const char base_features[] = "[\"make=Buick\", \"make=Ford\", \"make=(other)\", \"year\", \"mileage\", "
				    "\"doors\", \"color=blue\", \"color=red\", \"color=(other)\"]";

/*
 * Where: "" the document, "=" the document replaced, "columns/N" a recipe
 * column (0 make, 1 year, 2 mileage, 3 doors, 4 color), "input/N" an input
 * schema column (0 make .. 4 price, 5 color).  value NULL deletes key.
 */
static const struct {
	const char *where, *key, *value;
} hostile[] = {
	{ "=", NULL, "[]" },
	{ "=", NULL, "null" },
	{ "=", NULL, "\"recipe\"" },
	{ "", "columns", NULL },
	{ "", "columns", "{}" },
	{ "", "columns", "[1, 2]" },
	{ "", "columns", "[{}, {}, {}, {}, {}, {}, {}]" },
	{ "", "input", NULL },
	{ "", "input", "\"make\"" },
	{ "", "input", "[]" },
	{ "", "input", "[{\"name\": \"make\"}]" },
	{ "", "features", NULL },
	{ "", "features", "[]" },
	{ "", "features", "\"make=Buick\"" },
	{ "", "features", "[\"make=Buick\", \"make=Ford\", \"make=(other)\", \"year\", \"mileage\", \"doors\", "
			  "\"color=blue\", \"color=red\"]" },
	{ "", "features", "[\"make=Buick\", \"make=Ford\", \"make=(other)\", \"year\", \"mileage\", \"doors\", "
			  "\"color=blue\", \"color=red\", \"color=(other)\", \"extra\"]" },
	{ "", "features", "[\"make=Tesla\", \"make=Ford\", \"make=(other)\", \"year\", \"mileage\", \"doors\", "
			  "\"color=blue\", \"color=red\", \"color=(other)\"]" },
	{ "", "features", "[1, \"make=Ford\", \"make=(other)\", \"year\", \"mileage\", \"doors\", "
			  "\"color=blue\", \"color=red\", \"color=(other)\"]" },
	{ "", "target", "\"make\"" },	/* not numeric */
	{ "", "target", "\"nope\"" },
	{ "columns/0", "name", NULL },
	{ "columns/0", "name", "\"nope\"" },
	{ "columns/0", "name", "\"price\"" },	/* the target, not a feature */
	{ "columns/0", "name", "7" },
	{ "columns/0", "levels", NULL },
	{ "columns/0", "levels", "\"Buick\"" },
	{ "columns/0", "levels", "[1, 2]" },
	{ "columns/0", "levels", "[\"Buick\", null]" },
	{ "columns/0", "levels", "[\"Ford\", \"Ford\"]" },	/* listed twice */
	{ "columns/0", "levels", "[\"Buick\", \"Ford\", \"Kia\"]" },	/* more levels than features */
	{ "columns/0", "levels", "[\"Buick\"]" },
	{ "columns/0", "other", "false" },
	{ "columns/0", "encoding", NULL },
	{ "columns/0", "encoding", "\"binary\"" },
	{ "columns/0", "encoding", "1" },
	{ "columns/0", "unseen", "\"drop\"" },
	{ "columns/0", "impute", "\"most_frequent\"" },	/* with no fill level */
	{ "columns/0", "impute", "\"sometimes\"" },
	{ "columns/0", "impute", NULL },
	{ "columns/1", "impute", "\"sometimes\"" },
	{ "columns/1", "impute", "[]" },
	{ "columns/1", "impute", "\"median\"" },	/* its fill is null */
	{ "columns/1", "scale", "\"log\"" },
	{ "columns/1", "scale", NULL },
	{ "columns/1", "center", NULL },
	{ "columns/1", "center", "null" },		/* NaN */
	{ "columns/1", "center", "\"2011\"" },
	{ "columns/1", "scale_by", "0" },
	{ "columns/1", "scale_by", "-0.0" },
	{ "columns/1", "scale_by", "null" },
	{ "columns/1", "scale_by", "true" },
	{ "columns/1", "scale_by", NULL },
	{ "columns/1", "fill", "\"x\"" },
	{ "columns/1", "clip", "[2009]" },
	{ "columns/1", "clip", "[2009, 2012, 2015]" },
	{ "columns/1", "clip", "\"x\"" },
	{ "columns/1", "clip", "{}" },
	{ "columns/1", "clip", "[\"a\", 2012]" },
	{ "columns/2", "fill", "null" },		/* impute median with a NaN fill */
	{ "columns/2", "fill", NULL },
	{ "columns/2", "name", "\"year\"" },		/* names another column: features differ */
	{ "input/0", "type", "\"blob\"" },
	{ "input/0", "type", "\"text\"" },		/* a text column cannot be one-hot */
	{ "input/0", "type", "\"numeric\"" },		/* numeric make: features differ */
	{ "input/0", "name", "5" },
	{ "input/0", "name", "\"year\"" },		/* duplicate column */
	{ "input/1", "role", "\"ignore\"" },
	{ "input/1", "role", "\"boss\"" },
	{ "input/4", "type", "\"categorical\"" },	/* a categorical target */
};

static json_t *member_parent(json_t *doc, const char *where)
{
	if (!*where)
		return doc;
	const char *slash = strchr(where, '/');
	ck_assert_ptr_nonnull(slash);
	char key[32];
	snprintf(key, sizeof key, "%.*s", (int)(slash - where), where);
	json_t *arr = json_object_get(doc, key), *o = json_array_get(arr, (size_t)atoi(slash + 1));
	ck_assert_msg(json_is_object(o), "no %s in the base document", where);
	return o;
}

START_TEST(test_from_json_refuses_hostile)
{
	struct ml_recipe_opts o;
	ml_recipe_opts_init(&o);
	o.target = "price";
	o.max_levels = 2;
	o.clip_low = 0.1;
	o.clip_high = 0.9;
	o.scale = ML_SCALE_STANDARD;
	struct ml_strlist imp = { 0 };
	ml_strlist_push(&imp, "mileage=median", NULL);
	o.impute = &imp;
	struct ml_recipe *rc = fit_ok(train_csv, &o);
	ml_strlist_clear(&imp);
	json_t *base = ml_recipe_to_json(rc);
	json_t *want_features = json_loads(base_features, 0, NULL);
	ck_assert(json_equal(json_object_get(base, "features"), want_features));
	json_decref(want_features);

	/* The untouched document loads. */
	struct ml_err err = ML_ERR_INIT;
	struct ml_recipe *ok = ml_recipe_from_json(base, "recipe.json", &err);
	ck_assert_msg(ok, "%s", err.msg);
	ml_recipe_free(ok);

	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		json_t *doc;
		json_t *value = hostile[i].value ? json_loads(hostile[i].value, JSON_DECODE_ANY, NULL) : NULL;
		ck_assert_msg(!hostile[i].value || value, "case %zu: bad test JSON", i);
		if (!strcmp(hostile[i].where, "=")) {
			doc = value;
		} else {
			doc = json_deep_copy(base);
			json_t *parent = member_parent(doc, hostile[i].where);
			if (value)
				ck_assert_int_eq(json_object_set_new(parent, hostile[i].key, value), 0);
			else
				ck_assert_int_eq(json_object_del(parent, hostile[i].key), 0);
		}
		ml_err_clear(&err);
		struct ml_recipe *bad = ml_recipe_from_json(doc, "recipe.json", &err);
		ck_assert_msg(!bad, "case %zu (%s %s = %s) accepted", i, hostile[i].where,
			      hostile[i].key ? hostile[i].key : "", hostile[i].value ? hostile[i].value : "(deleted)");
		ck_assert_msg(err.class == ML_ERR_DATA, "case %zu (%s %s): class %d: %s", i, hostile[i].where,
			      hostile[i].key ? hostile[i].key : "", err.class, err.msg);
		ck_assert_msg(strstr(err.msg, "recipe.json"), "case %zu: message does not name the file: %s", i,
			      err.msg);
		json_decref(doc);
	}
	/* A level list past the cap (2^20) is refused before any level is copied. */
	json_t *doc = json_deep_copy(base), *levels = json_array(), *one = json_string("x");
	for (size_t i = 0; i <= (1u << 20); i++)
		json_array_append(levels, one);	/* the same string, shared: cheap */
	json_decref(one);
	json_object_set_new(member_parent(doc, "columns/0"), "levels", levels);
	ml_err_clear(&err);
	ck_assert_ptr_null(ml_recipe_from_json(doc, "recipe.json", &err));
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	json_decref(doc);
	json_decref(base);
	ml_recipe_free(rc);
}
END_TEST

/*
 * Regression (recipe.c numeric_from_json, recipe_from_json): the booleans
 * "log1p" and "target_log1p" are read with json_is_true(), so a wrong type
 * ("log1p": "true", "log1p": 1) loads as false and the recipe silently
 * transforms differently from the one that was fitted.
 */
START_TEST(test_from_json_refuses_wrong_type_booleans)
{
	struct ml_recipe *rc = fit_everything();
	json_t *base = ml_recipe_to_json(rc);
	static const struct {
		const char *where, *key, *value;
	} cases[] = {
		{ "columns/2", "log1p", "\"true\"" },
		{ "columns/2", "log1p", "1" },
		{ "", "target_log1p", "\"yes\"" },
		{ "", "target_log1p", "1" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *doc = json_deep_copy(base);
		json_object_set_new(member_parent(doc, cases[i].where), cases[i].key,
				    json_loads(cases[i].value, JSON_DECODE_ANY, NULL));
		struct ml_err err = ML_ERR_INIT;
		struct ml_recipe *bad = ml_recipe_from_json(doc, "recipe.json", &err);
		ml_recipe_free(bad);
		json_decref(doc);
		ck_assert_msg(!bad, "%s %s = %s accepted", cases[i].where, cases[i].key, cases[i].value);
		ck_assert_int_eq(err.class, ML_ERR_DATA);
	}
	json_decref(base);
	ml_recipe_free(rc);
}
END_TEST

/* A hand-damaged file on disk is refused with the file's name, not loaded. */
START_TEST(test_load_refuses_damaged_file)
{
	struct ml_recipe *rc = fit_everything();
	struct ml_err err = ML_ERR_INIT;
	json_t *doc = ml_recipe_to_json(rc);
	json_object_set_new(json_array_get(json_object_get(doc, "columns"), 1), "scale_by", json_real(0));
	json_object_set_new(doc, "format", json_string("mlpipe.recipe/1"));
	char *text = json_dumps(doc, 0);
	test_write_file(test_dir(), "bad.json", text, strlen(text));	/* no sha256: hand-written */
	free(text);
	json_decref(doc);
	ck_assert_ptr_null(ml_recipe_load("bad.json", &err));
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ck_assert_msg(strstr(err.msg, "bad.json") && strstr(err.msg, "scale_by"), "%s", err.msg);
	ml_recipe_free(rc);
}
END_TEST

/* ---- applying with extra columns ---- */

START_TEST(test_apply_with_extra_trailing_columns)
{
	struct ml_recipe *rc = fit_everything();
	struct ml_err err = ML_ERR_INIT;
	struct ml_schema s;
	ml_schema_init(&s);
	ck_assert_int_eq(ml_schema_copy(&s, ml_recipe_input_schema(rc), &err), 0);
	ck_assert_int_eq(ml_schema_add(&s, "vin", ML_TYPE_TEXT, ML_ROLE_PASSTHROUGH, &err), 0);
	ck_assert_int_eq(ml_schema_add(&s, "odo2", ML_TYPE_NUMERIC, ML_ROLE_PASSTHROUGH, &err), 0);
	/* The input's columns in another order, with the passthrough ones among them. */
	static const char with_ids[] = "vin,color,price,odo2,doors,mileage,year,make\n"
				       "V1,red,5000,1,4,50,2010,Ford\n"
				       "V2,blue,7000,2,2,,2012,Ford\n"
				       "V3,,12000,3,4,30,2015,Buick\n"
				       "V4,purple,3000,4,,100,2008,Tesla\n";
	static const char plain[] = "make,year,mileage,doors,price,color\n"
				    "Ford,2010,50,4,5000,red\n"
				    "Ford,2012,,2,7000,blue\n"
				    "Buick,2015,30,4,12000,\n"
				    "Tesla,2008,100,,3000,purple\n";
	static struct applied a, b;
	apply_schema(rc, &s, with_ids, &a);
	apply_text(rc, plain, &b);
	ck_assert_uint_eq(a.nrows, 4);
	ck_assert(!memcmp(a.x, b.x, a.nrows * a.nf * sizeof(double)));
	ck_assert(!memcmp(a.y, b.y, a.nrows * sizeof(double)));
	ml_schema_release(&s);

	/* A batch with fewer columns than the recipe's input is refused. */
	struct ml_reader *r = open_csv("short.csv", "make,year\nFord,2010\n", &err);
	struct ml_schema shortschema;
	ml_schema_init(&shortschema);
	ml_schema_add(&shortschema, "make", ML_TYPE_CATEGORICAL, ML_ROLE_FEATURE, &err);
	ml_schema_add(&shortschema, "year", ML_TYPE_NUMERIC, ML_ROLE_FEATURE, &err);
	ck_assert_int_eq(ml_reader_bind(r, &shortschema, 0, &err), 0);
	struct ml_batch batch;
	ml_batch_init(&batch);
	ck_assert_int_eq(ml_reader_read_batch(r, &batch, &err), 1);
	double x[MAXFEAT];
	ck_assert_int_eq(ml_recipe_apply(rc, &batch, x, NULL, &err), -1);
	ck_assert_int_ne(err.class, ML_ERR_NONE);
	ml_batch_release(&batch);
	ml_schema_release(&shortschema);
	ml_reader_close(r);
	ml_recipe_free(rc);
}
END_TEST


static Suite *make_suite(void)
{
	Suite *s = suite_create("recipe");
	TCase *tc = tcase_create("fit");
	tcase_add_checked_fixture(tc, test_scratch_setup, test_scratch_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_types_roles_and_feature_names);
	tcase_add_test(tc, test_role_and_type_options);
	tcase_add_test(tc, test_impute_numeric);
	tcase_add_test(tc, test_impute_categorical);
	tcase_add_test(tc, test_impute_per_column);
	tcase_add_test(tc, test_standard_scaling_population_sd);
	tcase_add_test(tc, test_standard_scaling_after_imputation);
	tcase_add_test(tc, test_minmax_scaling);
	tcase_add_test(tc, test_constant_column_scaling);
	tcase_add_test(tc, test_standard_scaling_large_column);
	tcase_add_test(tc, test_one_hot_max_levels);
	tcase_add_test(tc, test_ties_broken_by_name);
	tcase_add_test(tc, test_unseen_level_to_other);
	tcase_add_test(tc, test_unseen_level_to_missing);
	tcase_add_test(tc, test_ordinal);
	tcase_add_test(tc, test_log1p_feature_and_target);
	tcase_add_test(tc, test_log1p_refuses_values_at_or_below_minus_one);
	tcase_add_test(tc, test_clip_to_quantiles);
	suite_add_tcase(s, tc);
	tc = tcase_create("artifact");
	tcase_add_checked_fixture(tc, test_scratch_setup, test_scratch_teardown);
	tcase_add_test(tc, test_save_load_identical_output);
	tcase_add_test(tc, test_from_json_refuses_hostile);
	tcase_add_test(tc, test_load_refuses_damaged_file);
	tcase_add_test(tc, test_apply_with_extra_trailing_columns);
	suite_add_tcase(s, tc);
	/* Bugs found by these tests, kept as regressions. */
	tc = tcase_create("regressions");
	tcase_add_checked_fixture(tc, test_scratch_setup, test_scratch_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_minmax_scaling_large_column);
	tcase_add_test(tc, test_rare_levels_missing_when_unseen_missing);
	tcase_add_test(tc, test_from_json_refuses_wrong_type_booleans);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
