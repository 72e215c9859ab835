/* xgboost.c - XGBoost JSON models in and out (see xgboost.h, docs/gbtree-model.md). */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/artifact.h"
#include "mlpipe/buf.h"
#include "mlpipe/recipe.h"
#include "mlpipe/uri.h"
#include "mlpipe/xgboost.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* XGBoost's "no parent" for the root, and the most nodes a tree may have. */
#define XGB_NO_PARENT 2147483647
#define NODES_MAX INT32_MAX

/*
 * The objectives the gbtree plugin scores.  XGBoost keeps one parameter
 * object beside the name; hp says whether its member is also an mlpipe
 * hyperparameter (scale_pos_weight is not).
 */
struct objective {
	const char *name;	/* as XGBoost spells it */
	const char *canonical;	/* as the mlpipe model does */
	const char *section;	/* XGBoost's parameter object, or NULL */
	const char *param;
	const char *dflt;
	int hp;
};

static const struct objective objectives[] = {
	{ "reg:squarederror", "reg:squarederror", "reg_loss_param", "scale_pos_weight", "1", 0 },
	{ "reg:linear", "reg:squarederror", "reg_loss_param", "scale_pos_weight", "1", 0 },
	{ "reg:absoluteerror", "reg:absoluteerror", NULL, NULL, NULL, 0 },
	{ "reg:pseudohubererror", "reg:pseudohubererror", "pseudo_huber_param", "huber_slope", "1", 1 },
	{ "reg:quantileerror", "reg:quantileerror", "quantile_loss_param", "quantile_alpha", "0.5", 1 },
	{ "reg:tweedie", "reg:tweedie", "tweedie_regression_param", "tweedie_variance_power", "1.5", 1 },
};

static const struct objective *find_objective(const char *name)
{
	for (size_t i = 0; name && i < COUNT(objectives); i++)
		if (!strcmp(objectives[i].name, name))
			return &objectives[i];
	return NULL;
}

int ml_xgboost_is_model(const json_t *doc)
{
	return json_is_object(doc) && json_is_object(json_object_get(doc, "learner"));
}

/* ---- reading the file: XGBoost writes NaN and Infinity, which JSON lacks ---- */

#define XGB_MAX_BYTES ((size_t)1 << 30)

/* text with the bare tokens NaN, Infinity and -Infinity (outside strings) as null; NULL if none */
static char *nan_as_null(const char *text, size_t len, size_t *out_len)
{
	static const char *const tokens[] = { "-Infinity", "Infinity", "NaN" };
	struct ml_buf b;
	int in_string = 0, found = 0;
	ml_buf_init(&b, len + len / 2 + 16);	/* "NaN" grows to "null" */
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\' && i + 1 < len) {
				if (ml_buf_add(&b, text + i, 2) < 0)
					goto fail;
				i++;
				continue;
			}
			in_string = c != '"';
		} else if (c == '"') {
			in_string = 1;
		} else {
			size_t k = 0;
			while (k < COUNT(tokens) && strncmp(text + i, tokens[k], strlen(tokens[k])))
				k++;
			if (k < COUNT(tokens)) {
				if (ml_buf_adds(&b, "null") < 0)
					goto fail;
				i += strlen(tokens[k]) - 1;
				found = 1;
				continue;
			}
		}
		if (ml_buf_addc(&b, c) < 0)
			goto fail;
	}
	if (found) {
		*out_len = b.len;
		return ml_buf_detach(&b);
	}
fail:
	ml_buf_release(&b);
	return NULL;
}

json_t *ml_xgboost_load(const char *uri, struct ml_err *err)
{
	size_t len, len2;
	char *text = ml_read_all(uri, XGB_MAX_BYTES, &len, err), *again = NULL;
	json_error_t jerr, jerr2;
	if (!text)
		return NULL;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc && (again = nan_as_null(text, len, &len2)) != NULL) {
		doc = json_loadb(again, len2, JSON_REJECT_DUPLICATES, &jerr2);
		if (doc && !ml_xgboost_is_model(doc)) {
			json_decref(doc);
			doc = NULL;
		}
	}
	if (!doc)
		ml_err_set(err, ML_ERR_DATA, "%s:%d:%d: %s", uri, jerr.line, jerr.column, jerr.text);
	free(text);
	free(again);
	return doc;
}

/* ---- numbers as XGBoost writes them: parameters are strings ---- */

static int parse_int_value(const json_t *v, long long *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	const char *s = json_string_value(v);
	if (!s || !(*s == '-' || (*s >= '0' && *s <= '9')))
		return -1;
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = x;
	return 0;
}

static int parse_real_text(const char *s, size_t n, double *out)
{
	char buf[64];
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *end;
	double x = strtod(buf, &end);
	if (end == buf || *end || !isfinite(x))
		return -1;
	*out = x;
	return 0;
}

/* A number, or a string holding one ("5E-1"), or in 2.1+ a list of them ("[5E-1]"). */
static int parse_real_value(const json_t *v, double *out, int *several)
{
	*several = 0;
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return isfinite(*out) ? 0 : -1;
	}
	const char *s = json_string_value(v);
	if (!s)
		return -1;
	size_t n = strlen(s);
	if (n && s[0] == '[') {
		if (n < 2 || s[n - 1] != ']')
			return -1;
		if (strchr(s, ',')) {
			*several = 1;
			return -1;
		}
		s++;
		n -= 2;
	}
	return parse_real_text(s, n, out);
}

static int float_finite(double v)
{
	return isfinite(v) && fabs(v) <= FLT_MAX;
}

void ml_xgboost_format_float(float f, char out[32])
{
	char buf[24];	/* "-3.40282347e+38" at most */
	int p = 0;
	for (; p < 9; p++) {	/* the fewest digits that read back as f */
		snprintf(buf, sizeof buf, "%.*e", p, (double)f);
		if (strtof(buf, NULL) == f)
			break;
	}
	char *e = strchr(buf, 'e');
	if (!e) {	/* inf or nan: not a base_score we write */
		snprintf(out, 32, "%.16s", buf);
		return;
	}
	*e = '\0';
	snprintf(out, 32, "%.16sE%d", buf, atoi(e + 1));
}

/* ---- trees: XGBoost's parallel arrays, read, checked and written ---- */

struct tree {
	size_t n;			/* nodes in the arrays */
	long long *left, *right, *feat;
	int *dleft;
	double *cond, *loss, *hess, *weight;
	int32_t *id;			/* new index of a reachable node, -1 otherwise */
	size_t kept;			/* reachable nodes */
};

static void tree_release(struct tree *tr)
{
	free(tr->left);
	free(tr->right);
	free(tr->feat);
	free(tr->dleft);
	free(tr->cond);
	free(tr->loss);
	free(tr->hess);
	free(tr->weight);
	free(tr->id);
	memset(tr, 0, sizeof *tr);
}

static int tree_fail(struct ml_err *err, const char *what, size_t t, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int tree_fail(struct ml_err *err, const char *what, size_t t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return ml_err_set(err, ML_ERR_DATA, "%s: tree %zu: %s", what, t, msg);
}

static const json_t *node_array(const json_t *tree, const char *key, size_t n, const char *what, size_t t,
				struct ml_err *err)
{
	const json_t *a = json_object_get(tree, key);
	if (!json_is_array(a)) {
		tree_fail(err, what, t, "no \"%s\" array", key);
		return NULL;
	}
	if (json_array_size(a) != n) {
		tree_fail(err, what, t, "\"%s\" holds %zu values, \"left_children\" %zu", key, json_array_size(a), n);
		return NULL;
	}
	return a;
}

static int read_ints(const json_t *tree, const char *key, long long lo, long long hi, long long *out,
		     size_t n, const char *what, size_t t, struct ml_err *err)
{
	const json_t *a = node_array(tree, key, n, what, t, err);
	if (!a)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_array_get(a, i);
		if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
			return tree_fail(err, what, t, "\"%s\"[%zu] must be an integer from %lld to %lld", key, i, lo,
					 hi);
		out[i] = json_integer_value(v);
	}
	return 0;
}

static int read_reals(const json_t *tree, const char *key, double *out, size_t n, const char *what, size_t t,
		      struct ml_err *err)
{
	const json_t *a = node_array(tree, key, n, what, t, err);
	if (!a)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_array_get(a, i);
		if (!json_is_number(v) || !isfinite(json_number_value(v)))
			return tree_fail(err, what, t, "\"%s\"[%zu] must be a number", key, i);
		out[i] = json_number_value(v);
	}
	return 0;
}

/* 0/1 in XGBoost 1.3 and later, true/false before. */
static int read_flags(const json_t *tree, const char *key, int *out, size_t n, const char *what, size_t t,
		      struct ml_err *err)
{
	const json_t *a = node_array(tree, key, n, what, t, err);
	if (!a)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_array_get(a, i);
		if (json_is_boolean(v))
			out[i] = json_is_true(v);
		else if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
			out[i] = (int)json_integer_value(v);
		else
			return tree_fail(err, what, t, "\"%s\"[%zu] must be 0 or 1", key, i);
	}
	return 0;
}

static int tree_alloc(struct tree *tr, size_t n, struct ml_err *err)
{
	tr->n = n;
	tr->left = ml_calloc(n, sizeof *tr->left, err);
	tr->right = ml_calloc(n, sizeof *tr->right, err);
	tr->feat = ml_calloc(n, sizeof *tr->feat, err);
	tr->dleft = ml_calloc(n, sizeof *tr->dleft, err);
	tr->cond = ml_calloc(n, sizeof *tr->cond, err);
	tr->loss = ml_calloc(n, sizeof *tr->loss, err);
	tr->hess = ml_calloc(n, sizeof *tr->hess, err);
	tr->weight = ml_calloc(n, sizeof *tr->weight, err);
	tr->id = ml_calloc(n, sizeof *tr->id, err);
	return tr->left && tr->right && tr->feat && tr->dleft && tr->cond && tr->loss && tr->hess && tr->weight &&
			       tr->id
		       ? 0
		       : -1;
}

/*
 * Walk from the root: every child inside the tree, no node reached twice (so
 * no cycle), both children or none, a split feature below nfeat, thresholds
 * and leaf values that are floats.  Reachable nodes keep their order.
 */
static int tree_check(struct tree *tr, size_t nfeat, const char *what, size_t t, struct ml_err *err)
{
	size_t *stack = ml_calloc(tr->n, sizeof *stack, err), sp = 0;
	int rc = -1;
	if (!stack)
		return -1;
	for (size_t i = 0; i < tr->n; i++)
		tr->id[i] = -1;
	tr->id[0] = 0;
	stack[sp++] = 0;
	while (sp) {
		size_t i = stack[--sp];
		long long kids[2] = { tr->left[i], tr->right[i] };
		if ((kids[0] == -1) != (kids[1] == -1)) {
			tree_fail(err, what, t, "node %zu has one child (left %lld, right %lld)", i, kids[0], kids[1]);
			goto out;
		}
		if (!float_finite(tr->cond[i])) {
			tree_fail(err, what, t, "node %zu: %s %g is not a float", i, kids[0] == -1 ? "leaf value" : "threshold",
				  tr->cond[i]);
			goto out;
		}
		if (kids[0] == -1)
			continue;
		if (tr->feat[i] < 0 || (unsigned long long)tr->feat[i] >= nfeat) {
			tree_fail(err, what, t, "node %zu splits on feature %lld, the model has %zu", i, tr->feat[i],
				  nfeat);
			goto out;
		}
		for (int k = 0; k < 2; k++) {
			long long c = kids[k];
			if (c < 1 || (unsigned long long)c >= tr->n) {
				tree_fail(err, what, t, "node %zu: child %lld is outside the tree (1 to %zu)", i, c,
					  tr->n - 1);
				goto out;
			}
			if (tr->id[c] >= 0) {
				tree_fail(err, what, t, "node %lld is reached twice (a cycle or a shared subtree)", c);
				goto out;
			}
			tr->id[c] = 0;
			stack[sp++] = (size_t)c;
		}
	}
	tr->kept = 0;
	for (size_t i = 0; i < tr->n; i++)
		if (tr->id[i] >= 0)
			tr->id[i] = (int32_t)tr->kept++;
	rc = 0;
out:
	free(stack);
	return rc;
}

/* A tree object of either format (the array names are the same) into tr, checked. */
static int tree_read(const json_t *tree, size_t nfeat, const char *what, size_t t, struct tree *tr,
		     struct ml_err *err)
{
	memset(tr, 0, sizeof *tr);
	if (!json_is_object(tree))
		return tree_fail(err, what, t, "not an object");
	const json_t *lefts = json_object_get(tree, "left_children");
	if (!json_is_array(lefts))
		return tree_fail(err, what, t, "no \"left_children\" array");
	size_t n = json_array_size(lefts);
	if (n == 0 || n > NODES_MAX)
		return tree_fail(err, what, t, "%zu nodes (1 to %d allowed)", n, NODES_MAX);
	const json_t *param = json_object_get(tree, "tree_param");
	long long declared;
	if (param && (!json_is_object(param) || !json_object_get(param, "num_nodes") ||
		      parse_int_value(json_object_get(param, "num_nodes"), &declared) < 0 ||
		      declared != (long long)n))
		return tree_fail(err, what, t, "\"tree_param\" does not say num_nodes %zu", n);
	if (tree_alloc(tr, n, err) < 0 ||
	    read_ints(tree, "left_children", -1, NODES_MAX, tr->left, n, what, t, err) < 0 ||
	    read_ints(tree, "right_children", -1, NODES_MAX, tr->right, n, what, t, err) < 0 ||
	    read_ints(tree, "split_indices", 0, UINT32_MAX, tr->feat, n, what, t, err) < 0 ||
	    read_flags(tree, "default_left", tr->dleft, n, what, t, err) < 0 ||
	    read_reals(tree, "split_conditions", tr->cond, n, what, t, err) < 0 ||
	    read_reals(tree, "loss_changes", tr->loss, n, what, t, err) < 0 ||
	    read_reals(tree, "sum_hessian", tr->hess, n, what, t, err) < 0 ||
	    read_reals(tree, "base_weights", tr->weight, n, what, t, err) < 0 ||
	    tree_check(tr, nfeat, what, t, err) < 0) {
		tree_release(tr);
		return -1;
	}
	return 0;
}

static int is_leaf(const struct tree *tr, size_t i)
{
	return tr->left[i] == -1;
}

/* The eight arrays of docs/gbtree-model.md, reachable nodes only; values as doubles or floats. */
static json_t *tree_arrays(const struct tree *tr, int as_float)
{
	json_t *a[9];
	int bad = 0;
	for (size_t k = 0; k < COUNT(a); k++)
		bad |= !(a[k] = json_array());
	for (size_t i = 0; !bad && i < tr->n; i++) {
		if (tr->id[i] < 0)
			continue;
		int leaf = is_leaf(tr, i);
		double v[4] = { tr->cond[i], tr->loss[i], tr->hess[i], tr->weight[i] };
		bad |= json_array_append_new(a[0], json_integer(leaf ? -1 : tr->id[tr->left[i]]));
		bad |= json_array_append_new(a[1], json_integer(leaf ? -1 : tr->id[tr->right[i]]));
		bad |= json_array_append_new(a[2], json_integer(leaf ? 0 : tr->feat[i]));
		bad |= json_array_append_new(a[3], json_integer(leaf ? 0 : tr->dleft[i]));
		for (int k = 0; k < 4; k++) {
			double x = v[k];
			if (as_float)	/* XGBoost holds floats; out-of-range statistics saturate */
				x = fabs(x) > FLT_MAX ? copysign(FLT_MAX, x) : (double)(float)x;
			bad |= json_array_append_new(a[4 + k], json_real(x));
		}
	}
	json_t *parents = a[8];	/* XGBoost's own: the root has 2147483647 */
	for (size_t i = 0; !bad && i < tr->kept; i++)
		bad |= json_array_append_new(parents, json_integer(XGB_NO_PARENT));
	for (size_t i = 0; !bad && i < tr->n; i++)
		if (tr->id[i] >= 0 && !is_leaf(tr, i)) {
			bad |= json_array_set_new(parents, (size_t)tr->id[tr->left[i]], json_integer(tr->id[i]));
			bad |= json_array_set_new(parents, (size_t)tr->id[tr->right[i]], json_integer(tr->id[i]));
		}
	if (bad) {
		for (size_t k = 0; k < COUNT(a); k++)
			json_decref(a[k]);
		return NULL;
	}
	/* json_pack() takes its "o" arguments, also when it fails (jansson 2.11 and later) */
	json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "left_children", a[0], "right_children",
			      a[1], "split_indices", a[2], "default_left", a[3], "split_conditions", a[4],
			      "loss_changes", a[5], "sum_hessian", a[6], "base_weights", a[7]);
	if (!o) {
		json_decref(parents);
		return NULL;
	}
	if (as_float)
		json_object_set_new(o, "parents", parents);
	else
		json_decref(parents);
	return o;
}

/* Feature importance as XGBoost's get_score() counts it: splits, their gain and cover. */
struct importance {
	double *weight, *gain, *cover;
};

static void importance_add(struct importance *imp, const struct tree *tr)
{
	for (size_t i = 0; i < tr->n; i++)
		if (tr->id[i] >= 0 && !is_leaf(tr, i)) {
			imp->weight[tr->feat[i]] += 1;
			imp->gain[tr->feat[i]] += tr->loss[i];
			imp->cover[tr->feat[i]] += tr->hess[i];
		}
}

static json_t *importance_json(const struct importance *imp, size_t nfeat)
{
	json_t *w = json_array(), *g = json_array(), *c = json_array(), *tg = json_array(), *tc = json_array();
	int bad = !w || !g || !c || !tg || !tc;
	for (size_t f = 0; !bad && f < nfeat; f++) {
		double n = imp->weight[f];
		bad |= json_array_append_new(w, json_real(n));
		bad |= json_array_append_new(g, json_real(n > 0 ? imp->gain[f] / n : 0));
		bad |= json_array_append_new(c, json_real(n > 0 ? imp->cover[f] / n : 0));
		bad |= json_array_append_new(tg, json_real(imp->gain[f]));
		bad |= json_array_append_new(tc, json_real(imp->cover[f]));
	}
	if (bad) {
		json_decref(w);
		json_decref(g);
		json_decref(c);
		json_decref(tg);
		json_decref(tc);
		return NULL;
	}
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "weight", w, "gain", g, "cover", c, "total_gain", tg,
			 "total_cover", tc);
}

/* ---- import ---- */

static int unavailable(struct ml_err *err, const char *what, const char *thing)
{
	return ml_err_set(err, ML_ERR_UNAVAILABLE, "%s: %s: not supported yet", what, thing);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The feature names: --features when given (renaming), else the model's; unique and not empty. */
static int feature_names(const json_t *learner, const struct ml_strlist *given, size_t nfeat, const char ***out,
			 const char *what, struct ml_err *err)
{
	const json_t *names = json_object_get(learner, "feature_names");
	const json_t *types = json_object_get(learner, "feature_types");
	size_t have = json_is_array(names) ? json_array_size(names) : 0;
	int from_model = !(given && given->n);
	enum ml_errclass class = from_model ? ML_ERR_DATA : ML_ERR_USAGE;
	if (names && !json_is_array(names))
		return ml_err_set(err, ML_ERR_DATA, "%s: \"feature_names\" must be a list", what);
	if (have && have != nfeat)
		return ml_err_set(err, ML_ERR_DATA, "%s: %zu feature names for num_feature %zu", what, have, nfeat);
	for (size_t i = 0; json_is_array(types) && i < json_array_size(types); i++) {
		const char *ty = json_string_value(json_array_get(types, i));
		if (!ty)
			return ml_err_set(err, ML_ERR_DATA, "%s: \"feature_types\" must hold strings", what);
		if (!strcmp(ty, "c"))
			return unavailable(err, what, "categorical features (feature_types \"c\")");
	}
	if (from_model && !have)
		return ml_err_set(err, ML_ERR_USAGE,
				  "%s: the model has no feature names: give its %zu columns in training order with "
				  "--features COL,COL,...",
				  what, nfeat);
	if (!from_model && given->n != nfeat)
		return ml_err_set(err, ML_ERR_USAGE, "%s: --features names %zu columns, the model has %zu features",
				  what, given->n, nfeat);
	const char **v = ml_calloc(nfeat + 1, sizeof *v, err), **sorted = ml_calloc(nfeat + 1, sizeof *v, err);
	int rc = -1;
	if (!v || !sorted)
		goto out;
	for (size_t i = 0; i < nfeat; i++) {
		v[i] = from_model ? json_string_value(json_array_get(names, i)) : given->items[i];
		if (!v[i] || !*v[i]) {
			ml_err_set(err, class, "%s: feature %zu has no name", what, i);
			goto out;
		}
		json_t *utf8 = json_string(v[i]);	/* NULL unless UTF-8 */
		json_decref(utf8);
		if (!utf8) {
			ml_err_set(err, class, "%s: feature %zu: the name is not UTF-8 text", what, i);
			goto out;
		}
	}
	memcpy(sorted, v, nfeat * sizeof *v);
	qsort(sorted, nfeat, sizeof *sorted, by_name);
	for (size_t i = 1; i < nfeat; i++)
		if (!strcmp(sorted[i - 1], sorted[i])) {
			ml_err_set(err, class, "%s: the feature name \"%s\" is given twice%s", what, sorted[i],
				   from_model ? "" : " in --features");
			goto out;
		}
	*out = v;
	v = NULL;
	rc = 0;
out:
	free(v);
	free(sorted);
	return rc;
}

/* The recipe ml-preprocess fit would write for these numeric features: nothing imputed or scaled. */
static json_t *identity_recipe(const char *const *names, size_t n, const char *what, struct ml_err *err)
{
	json_t *input = json_array(), *cols = json_array(), *feats = json_array();
	int bad = !input || !cols || !feats;
	for (size_t i = 0; !bad && i < n; i++) {
		bad |= json_array_append_new(input, json_pack("{s:s, s:s, s:s}", "name", names[i], "type", "numeric",
							       "role", "feature"));
		bad |= json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:n, s:n, s:b, s:s, s:f, s:f}", "name",
							      names[i], "type", "numeric", "impute", "none", "fill",
							      "clip", "log1p", 0, "scale", "none", "center", 0.0,
							      "scale_by", 1.0));
		bad |= json_array_append_new(feats, json_string(names[i]));
	}
	json_t *j = bad ? NULL
			: json_pack("{s:s, s:n, s:b, s:i, s:O, s:O, s:O}", "format", ML_RECIPE_FORMAT "/1", "target",
				    "target_log1p", 0, "rows", 0, "input", input, "columns", cols, "features", feats);
	json_decref(input);
	json_decref(cols);
	json_decref(feats);
	if (!j) {
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	struct ml_recipe *rc = ml_recipe_from_json(j, what, err);	/* the same checks as any recipe */
	json_decref(j);
	if (!rc)
		return NULL;
	json_t *out = ml_recipe_to_json(rc);
	ml_recipe_free(rc);
	if (!out)
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	return out;
}

/* The learner's scalar parameters: one output, num_feature, base_score. */
struct learner_params {
	size_t nfeat;
	double base_score;
	const struct objective *obj;
	char obj_param[64];	/* the objective's parameter as written, or "" */
};

static int read_objective(const json_t *learner, struct learner_params *lp, const char *what, struct ml_err *err)
{
	const json_t *o = json_object_get(learner, "objective");
	const char *name = json_string_value(json_object_get(o, "name"));
	char thing[160];
	if (!name)
		return ml_err_set(err, ML_ERR_DATA, "%s: no objective name (learner.objective.name)", what);
	if (!(lp->obj = find_objective(name))) {
		snprintf(thing, sizeof thing, "objective \"%.80s\" (regression objectives only)", name);
		return unavailable(err, what, thing);
	}
	lp->obj_param[0] = '\0';
	if (!lp->obj->hp)
		return 0;
	const json_t *v = json_object_get(json_object_get(o, lp->obj->section), lp->obj->param);
	double x;
	int several;
	if (!v)
		return 0;
	if (parse_real_value(v, &x, &several) < 0) {
		if (several) {
			snprintf(thing, sizeof thing, "several %s (a multi-output model)", lp->obj->param);
			return unavailable(err, what, thing);
		}
		return ml_err_set(err, ML_ERR_DATA, "%s: %s must be a number", what, lp->obj->param);
	}
	snprintf(lp->obj_param, sizeof lp->obj_param, "%.9g", x);
	return 0;
}

static int read_learner_params(const json_t *learner, struct learner_params *lp, const char *what,
			       struct ml_err *err)
{
	const json_t *mp = json_object_get(learner, "learner_model_param");
	long long nfeat, ncls = 0, ntarget = 1;
	int several;
	if (!json_is_object(mp))
		return ml_err_set(err, ML_ERR_DATA, "%s: no \"learner_model_param\" object", what);
	if (parse_int_value(json_object_get(mp, "num_feature"), &nfeat) < 0 || nfeat < 1 || nfeat > INT32_MAX)
		return ml_err_set(err, ML_ERR_DATA, "%s: num_feature must be a whole number from 1 to %d", what,
				  INT32_MAX);
	if (json_object_get(mp, "num_class") && parse_int_value(json_object_get(mp, "num_class"), &ncls) < 0)
		return ml_err_set(err, ML_ERR_DATA, "%s: num_class must be a whole number", what);
	if (json_object_get(mp, "num_target") && parse_int_value(json_object_get(mp, "num_target"), &ntarget) < 0)
		return ml_err_set(err, ML_ERR_DATA, "%s: num_target must be a whole number", what);
	if (ncls > 1)
		return unavailable(err, what, "multi-class classification (num_class > 1)");
	if (ntarget > 1)
		return unavailable(err, what, "multi-target models (num_target > 1)");
	if (read_objective(learner, lp, what, err) < 0)
		return -1;
	if (parse_real_value(json_object_get(mp, "base_score"), &lp->base_score, &several) < 0)
		return several ? unavailable(err, what, "several base scores (a multi-output model)")
			       : ml_err_set(err, ML_ERR_DATA, "%s: base_score must be a number", what);
	if (!float_finite(lp->base_score) || (!strcmp(lp->obj->canonical, "reg:tweedie") && lp->base_score <= 0))
		return ml_err_set(err, ML_ERR_DATA, "%s: base_score %g is out of range for %s", what, lp->base_score,
				  lp->obj->name);
	lp->nfeat = (size_t)nfeat;
	return 0;
}

/* The booster's trees array, after refusing what the plugin cannot score. */
static const json_t *booster_trees(const json_t *learner, size_t *rounds, const char *what, struct ml_err *err)
{
	const json_t *gb = json_object_get(learner, "gradient_booster");
	const char *name = json_string_value(json_object_get(gb, "name"));
	char thing[160];
	if (!json_is_object(gb) || !name) {
		ml_err_set(err, ML_ERR_DATA, "%s: no \"gradient_booster\" with a name", what);
		return NULL;
	}
	if (strcmp(name, "gbtree")) {
		snprintf(thing, sizeof thing, "the \"%.40s\" booster (only gbtree)", name);
		unavailable(err, what, thing);
		return NULL;
	}
	const json_t *model = json_object_get(gb, "model");
	const json_t *trees = json_object_get(model, "trees"), *info = json_object_get(model, "tree_info");
	const json_t *param = json_object_get(model, "gbtree_model_param");
	long long ntrees, parallel = 1;
	if (!json_is_array(trees) || !json_is_object(param)) {
		ml_err_set(err, ML_ERR_DATA, "%s: no \"trees\" list and \"gbtree_model_param\"", what);
		return NULL;
	}
	if (parse_int_value(json_object_get(param, "num_trees"), &ntrees) < 0 ||
	    ntrees != (long long)json_array_size(trees) ||
	    (json_object_get(param, "num_parallel_tree") &&
	     parse_int_value(json_object_get(param, "num_parallel_tree"), &parallel) < 0) ||
	    parallel < 1) {
		ml_err_set(err, ML_ERR_DATA, "%s: gbtree_model_param does not match the %zu trees", what,
			   json_array_size(trees));
		return NULL;
	}
	if (ntrees == 0) {
		ml_err_set(err, ML_ERR_DATA, "%s: the model has no trees", what);
		return NULL;
	}
	if (info && (!json_is_array(info) || json_array_size(info) != (size_t)ntrees)) {
		ml_err_set(err, ML_ERR_DATA, "%s: \"tree_info\" does not match the %lld trees", what, ntrees);
		return NULL;
	}
	for (size_t t = 0; info && t < (size_t)ntrees; t++)
		if (!json_is_integer(json_array_get(info, t)) || json_integer_value(json_array_get(info, t)) != 0) {
			unavailable(err, what, "trees for several outputs (tree_info not all 0)");
			return NULL;
		}
	/* XGBoost 3 may keep DART's tree weights, and category encodings ("cats"), in a gbtree */
	const json_t *drop = json_object_get(model, "weight_drop");
	const json_t *enc = json_object_get(json_object_get(model, "cats"), "enc");
	for (size_t t = 0; json_is_array(drop) && t < json_array_size(drop); t++)
		if (json_number_value(json_array_get(drop, t)) != 1.0) {
			unavailable(err, what, "weighted (DART) trees (weight_drop not all 1)");
			return NULL;
		}
	if (json_is_array(enc) && json_array_size(enc) > 0) {
		unavailable(err, what, "categorical features (cats.enc)");
		return NULL;
	}
	*rounds = (size_t)((ntrees + parallel - 1) / parallel);
	return trees;
}

/* What a tree may hold that the plugin does not score. */
static int tree_supported(const json_t *tree, const char *what, size_t t, struct ml_err *err)
{
	char thing[160];
	const json_t *types = json_object_get(tree, "split_type"), *cats = json_object_get(tree, "categories_nodes");
	const json_t *param = json_object_get(tree, "tree_param");
	long long leaf_vector = 0;
	for (size_t i = 0; json_is_array(types) && i < json_array_size(types); i++)
		if (json_integer_value(json_array_get(types, i)) != 0) {
			snprintf(thing, sizeof thing, "tree %zu: categorical splits", t);
			return unavailable(err, what, thing);
		}
	if (json_is_array(cats) && json_array_size(cats) > 0) {
		snprintf(thing, sizeof thing, "tree %zu: categorical splits", t);
		return unavailable(err, what, thing);
	}
	if (json_object_get(param, "size_leaf_vector") &&
	    parse_int_value(json_object_get(param, "size_leaf_vector"), &leaf_vector) == 0 && leaf_vector > 1) {
		snprintf(thing, sizeof thing, "tree %zu: vector leaves (a multi-target model)", t);
		return unavailable(err, what, thing);
	}
	return 0;
}

static json_t *import_trees(const json_t *trees, size_t nfeat, struct importance *imp, const char *what,
			    struct ml_err *err)
{
	json_t *out = json_array();
	if (!out) {
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	for (size_t t = 0; t < json_array_size(trees); t++) {
		const json_t *tree = json_array_get(trees, t);
		struct tree tr;
		if (tree_supported(tree, what, t, err) < 0 || tree_read(tree, nfeat, what, t, &tr, err) < 0)
			goto fail;
		importance_add(imp, &tr);
		json_t *arrays = tree_arrays(&tr, 0);
		tree_release(&tr);
		if (!arrays || json_array_append_new(out, arrays) < 0) {
			ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
			goto fail;
		}
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

static const char *xgboost_version(const json_t *xgb, char buf[64])
{
	const json_t *v = json_object_get(xgb, "version");
	if (json_is_array(v) && json_array_size(v) == 3)
		snprintf(buf, 64, "xgboost %lld.%lld.%lld", (long long)json_integer_value(json_array_get(v, 0)),
			 (long long)json_integer_value(json_array_get(v, 1)),
			 (long long)json_integer_value(json_array_get(v, 2)));
	else
		snprintf(buf, 64, "xgboost");
	return buf;
}

json_t *ml_xgboost_import(const json_t *xgb, const struct ml_strlist *features, const char *what,
			  struct ml_err *err)
{
	const json_t *learner = json_object_get(xgb, "learner");
	struct learner_params lp = { 0 };
	struct importance imp = { 0 };
	const char **names = NULL;
	json_t *recipe = NULL, *trees = NULL, *hp = NULL, *doc = NULL;
	size_t rounds = 0;
	char version[64];
	if (!ml_xgboost_is_model(xgb)) {
		ml_err_set(err, ML_ERR_DATA, "%s: not an XGBoost model (no \"learner\" object)", what);
		return NULL;
	}
	const json_t *tree_list = NULL;
	if (read_learner_params(learner, &lp, what, err) < 0 ||
	    !(tree_list = booster_trees(learner, &rounds, what, err)) ||
	    feature_names(learner, features, lp.nfeat, &names, what, err) < 0)
		goto out;
	if (lp.nfeat > ML_XGBOOST_MAX_FEATURES) {
		char thing[96];
		snprintf(thing, sizeof thing, "%zu features (at most %d)", lp.nfeat, ML_XGBOOST_MAX_FEATURES);
		unavailable(err, what, thing);
		goto out;
	}
	imp.weight = ml_calloc(lp.nfeat, sizeof(double), err);
	imp.gain = ml_calloc(lp.nfeat, sizeof(double), err);
	imp.cover = ml_calloc(lp.nfeat, sizeof(double), err);
	if (!imp.weight || !imp.gain || !imp.cover ||
	    !(trees = import_trees(tree_list, lp.nfeat, &imp, what, err)) ||
	    !(recipe = identity_recipe(names, lp.nfeat, what, err)))
		goto out;
	hp = json_pack("{s:s}", "objective", lp.obj->canonical);
	json_t *model = json_pack("{s:s, s:f, s:I, s:I, s:O, s:o}", "objective", lp.obj->canonical, "base_score",
				  lp.base_score, "num_feature", (json_int_t)lp.nfeat, "best_iteration",
				  (json_int_t)rounds - 1, "trees", trees, "feature_importance",
				  importance_json(&imp, lp.nfeat));
	if (hp && model && lp.obj_param[0]) {	/* the plugin reads it from the model, a person from both */
		json_object_set_new(hp, lp.obj->param, json_string(lp.obj_param));
		json_object_set_new(model, lp.obj->param, json_real(strtod(lp.obj_param, NULL)));
	}
	doc = json_pack("{s:s, s:s, s:O, s:O, s:o}", "algorithm", "gbtree", "algorithm_version",
			xgboost_version(xgb, version), "recipe", recipe, "hyperparameters", hp, "model", model);
	if (!doc)
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
out:
	free(names);
	free(imp.weight);
	free(imp.gain);
	free(imp.cover);
	json_decref(recipe);
	json_decref(trees);
	json_decref(hp);
	return doc;
}

/* ---- export ---- */

/* The objective's parameter: the model's number, else the hyperparameter (a string), else the default. */
static const char *objective_param(const struct objective *obj, const json_t *model, const json_t *hp,
				   char buf[64])
{
	const json_t *v = json_object_get(model, obj->param);
	const char *s = json_string_value(json_object_get(hp, obj->param));
	double x;
	if (obj->hp && json_is_number(v) && isfinite(json_number_value(v)))
		snprintf(buf, 64, "%.9g", json_number_value(v));
	else if (obj->hp && s && parse_real_text(s, strlen(s), &x) == 0)
		snprintf(buf, 64, "%.9g", x);
	else
		snprintf(buf, 64, "%s", obj->dflt);
	return buf;
}

static json_t *objective_json(const struct objective *obj, const json_t *model, const json_t *hp)
{
	char buf[64];
	if (!obj->section)
		return json_pack("{s:s}", "name", obj->name);
	return json_pack("{s:s, s:{s:s}}", "name", obj->name, obj->section, obj->param,
			 objective_param(obj, model, hp, buf));
}

static json_t *xgboost_tree(const struct tree *tr, size_t id, size_t nfeat)
{
	json_t *o = tree_arrays(tr, 1), *split_type = json_array();
	char nodes[32], feats[32];
	int bad = !o || !split_type;
	for (size_t i = 0; !bad && i < tr->kept; i++)
		bad |= json_array_append_new(split_type, json_integer(0));
	snprintf(nodes, sizeof nodes, "%zu", tr->kept);
	snprintf(feats, sizeof feats, "%zu", nfeat);
	bad = bad || json_object_set_new(o, "split_type", split_type) < 0;
	split_type = NULL;
	bad = bad || json_object_set_new(o, "id", json_integer((json_int_t)id)) < 0;
	bad = bad || json_object_set_new(o, "categories", json_array()) < 0;
	bad = bad || json_object_set_new(o, "categories_nodes", json_array()) < 0;
	bad = bad || json_object_set_new(o, "categories_segments", json_array()) < 0;
	bad = bad || json_object_set_new(o, "categories_sizes", json_array()) < 0;
	bad = bad || json_object_set_new(o, "tree_param",
					 json_pack("{s:s, s:s, s:s, s:s}", "num_deleted", "0", "num_feature", feats,
						   "num_nodes", nodes, "size_leaf_vector", "0")) < 0;
	json_decref(split_type);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The mlpipe model's own members, checked like any untrusted file. */
struct export_src {
	const json_t *model;
	const struct objective *obj;
	double base_score;
	size_t nfeat;
	const json_t *trees;
	long long best;		/* -1: not recorded */
};

static int export_source(const json_t *doc, const struct ml_recipe *rc, struct export_src *s, struct ml_err *err)
{
	const json_t *model = json_object_get(doc, "model");
	const char *algo = json_string_value(json_object_get(doc, "algorithm"));
	const json_t *best = json_object_get(model, "best_iteration");
	long long nfeat;
	if (!algo || strcmp(algo, "gbtree"))
		return ml_err_set(err, ML_ERR_UNAVAILABLE,
				  "only gbtree models can be written for XGBoost, not a %s model: not supported yet",
				  algo ? algo : "(unnamed)");
	if (!json_is_object(model))
		return ml_err_set(err, ML_ERR_DATA, "the model has no \"model\" object");
	s->model = model;
	const char *objective = json_string_value(json_object_get(model, "objective"));
	if (!objective)
		objective = "reg:squarederror";
	if (!(s->obj = find_objective(objective)))
		return ml_err_set(err, ML_ERR_DATA, "unknown objective \"%s\"", objective);
	if (!strcmp(s->obj->canonical, "reg:quantileerror"))
		return ml_err_set(err, ML_ERR_UNAVAILABLE,
				  "reg:quantileerror in XGBoost's format: not supported yet (XGBoost 1.7 has no such "
				  "objective)");
	if (json_is_true(json_object_get(json_object_get(doc, "recipe"), "target_log1p")))
		return ml_err_set(err, ML_ERR_UNAVAILABLE,
				  "a model of log1p(target) in XGBoost's format: not supported yet (XGBoost would "
				  "predict log1p of the label)");
	const json_t *bs = json_object_get(model, "base_score");
	s->base_score = json_number_value(bs);
	if (!json_is_number(bs) || !float_finite(s->base_score) ||
	    (!strcmp(s->obj->canonical, "reg:tweedie") && s->base_score <= 0))
		return ml_err_set(err, ML_ERR_DATA, "the model's base_score must be a float%s",
				  !strcmp(s->obj->canonical, "reg:tweedie") ? " above 0" : "");
	if (parse_int_value(json_object_get(model, "num_feature"), &nfeat) < 0 ||
	    nfeat != (long long)ml_recipe_nfeatures(rc))
		return ml_err_set(err, ML_ERR_DATA, "the model's num_feature is not the recipe's %zu features",
				  ml_recipe_nfeatures(rc));
	if (nfeat < 1 || nfeat > ML_XGBOOST_MAX_FEATURES)
		return ml_err_set(err, ML_ERR_UNAVAILABLE, "%lld features in XGBoost's format: not supported yet",
				  nfeat);
	s->nfeat = (size_t)nfeat;
	s->trees = json_object_get(model, "trees");
	if (!json_is_array(s->trees) || json_array_size(s->trees) == 0)
		return ml_err_set(err, ML_ERR_DATA, "the model has no trees");
	s->best = -1;
	if (best && (!json_is_integer(best) || json_integer_value(best) < 0))
		return ml_err_set(err, ML_ERR_DATA, "the model's best_iteration must be a whole number");
	if (best)
		s->best = json_integer_value(best);
	return 0;
}

static json_t *export_trees(const struct export_src *s, json_t **info, struct ml_err *err)
{
	json_t *out = json_array();
	*info = json_array();
	if (!out || !*info)
		goto oom;
	for (size_t t = 0; t < json_array_size(s->trees); t++) {
		struct tree tr;
		if (tree_read(json_array_get(s->trees, t), s->nfeat, "the model", t, &tr, err) < 0)
			goto fail;
		json_t *x = xgboost_tree(&tr, t, s->nfeat);
		tree_release(&tr);
		if (!x || json_array_append_new(out, x) < 0 || json_array_append_new(*info, json_integer(0)) < 0)
			goto oom;
	}
	return out;
oom:
	ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
fail:
	json_decref(out);
	json_decref(*info);
	*info = NULL;
	return NULL;
}

static json_t *learner_json(const struct export_src *s, const struct ml_recipe *rc, const json_t *hp,
			    json_t *trees, json_t *info)
{
	json_t *names = json_array(), *types = json_array(), *attrs = json_object();
	char base[32], nfeat[32], ntrees[32];
	int bad = !names || !types || !attrs;
	for (size_t i = 0; !bad && i < s->nfeat; i++) {
		bad |= json_array_append_new(names, json_string(ml_recipe_feature_name(rc, i)));
		bad |= json_array_append_new(types, json_string("float"));
	}
	if (!bad && s->best >= 0) {
		char b[32], limit[32];
		snprintf(b, sizeof b, "%lld", s->best);
		snprintf(limit, sizeof limit, "%lld", s->best + 1);
		bad |= json_object_set_new(attrs, "best_iteration", json_string(b));
		bad |= json_object_set_new(attrs, "best_ntree_limit", json_string(limit));
	}
	ml_xgboost_format_float((float)s->base_score, base);
	snprintf(nfeat, sizeof nfeat, "%zu", s->nfeat);
	snprintf(ntrees, sizeof ntrees, "%zu", json_array_size(trees));
	if (bad) {
		json_decref(names);
		json_decref(types);
		json_decref(attrs);
		json_decref(trees);
		json_decref(info);
		return NULL;
	}
	return json_pack("{s:o, s:o, s:o, s:{s:{s:{s:s, s:s, s:s}, s:o, s:o}, s:s}, s:{s:s, s:s, s:s, s:s, s:s}, s:o}",
			 "attributes", attrs, "feature_names", names, "feature_types", types, "gradient_booster",
			 "model", "gbtree_model_param", "num_parallel_tree", "1", "num_trees", ntrees,
			 "size_leaf_vector", "0", "tree_info", info, "trees", trees, "name", "gbtree",
			 "learner_model_param", "base_score", base, "boost_from_average", "1", "num_class", "0",
			 "num_feature", nfeat, "num_target", "1", "objective",
			 objective_json(s->obj, s->model, hp));
}

json_t *ml_xgboost_export(const json_t *model_doc, struct ml_err *err)
{
	struct export_src s = { 0 };
	json_t *info = NULL, *trees = NULL, *learner = NULL;
	const json_t *recipe = json_object_get(model_doc, "recipe");
	if (!json_is_object(model_doc) || !json_is_object(recipe)) {
		ml_err_set(err, ML_ERR_DATA, "not an mlpipe model (no \"recipe\" object)");
		return NULL;
	}
	struct ml_recipe *rc = ml_recipe_from_json(recipe, "the model's recipe", err);
	if (!rc || export_source(model_doc, rc, &s, err) < 0 || !(trees = export_trees(&s, &info, err)))
		goto out;
	learner = learner_json(&s, rc, json_object_get(model_doc, "hyperparameters"), trees, info);
	if (!learner) {
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
		goto out;
	}
	learner = json_pack("{s:o, s:[i, i, i]}", "learner", learner, "version", 1, 7, 4);
	if (!learner)
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
out:
	ml_recipe_free(rc);
	return learner;
}

int ml_xgboost_save(const json_t *model_doc, const char *uri, struct ml_err *err)
{
	json_t *x = ml_xgboost_export(model_doc, err);
	if (!x)
		return ml_err_prefix(err, "writing %s for XGBoost", uri);
	/* floats: nine significant digits read back exactly */
	char *text = json_dumps(x, JSON_COMPACT | JSON_REAL_PRECISION(9));
	json_decref(x);
	if (!text)
		return ml_err_set(err, ML_ERR_INTERNAL, "cannot serialise %s", uri);
	size_t len = strlen(text);
	text[len] = '\n';	/* reuse the NUL's slot, as ml_json_save does */
	int rc = ml_write_all_atomic(uri, text, len + 1, err);
	free(text);
	return rc;
}
