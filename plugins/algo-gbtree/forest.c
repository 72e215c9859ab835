/*
 * forest.c - the trees as JSON arrays (docs/gbtree-model.md), and back.
 *
 * Reading is where a hostile model file would strike, so every array's
 * type and length, every child and feature index and every number is
 * checked before a predictor sees the tree, and the walk that checks the
 * shape is iterative: a million-node chain cannot overflow the stack.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gbtree.h"
#include "mlpipe/buf.h"

#define MAX_FEATURES (1L << 24)
#define MAX_NODES (1L << 28)

int gb_forest_add(struct gb_forest *f, struct gb_tree *t, struct ml_err *err)
{
	if (f->ntrees == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct gb_tree *more = ml_realloc_array(f->trees, cap, sizeof *more, err);
		if (!more)
			return -1;
		f->trees = more;
		f->cap = cap;
	}
	f->trees[f->ntrees++] = *t;
	memset(t, 0, sizeof *t);
	return 0;
}

void gb_forest_truncate(struct gb_forest *f, size_t ntrees)
{
	while (f->ntrees > ntrees)
		gb_tree_free(&f->trees[--f->ntrees]);
}

void gb_forest_free(struct gb_forest *f)
{
	gb_forest_truncate(f, 0);
	free(f->trees);
	memset(f, 0, sizeof *f);
}

size_t gb_tree_depth(const struct gb_tree *t)
{
	if (!t->n)
		return 0;
	uint32_t *depth = malloc(t->n * sizeof *depth);
	if (!depth)
		return SIZE_MAX;
	size_t deepest = 0;
	depth[0] = 0;
	/* children follow their parent in breadth-first order once read (forest_from_json checks) */
	for (size_t i = 0; i < t->n; i++) {
		if (t->left[i] < 0)
			continue;
		depth[t->left[i]] = depth[t->right[i]] = depth[i] + 1;
		deepest = depth[i] + 1 > deepest ? depth[i] + 1 : deepest;
	}
	free(depth);
	return deepest;
}

/* ---- writing ---- */

static json_t *int_array(const int32_t *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

static json_t *float_array(const float *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i]));
	return a;
}

static json_t *double_array(const double *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_real(isfinite(v[i]) ? v[i] : 0));
	return a;
}

static json_t *tree_to_json(const struct gb_tree *t)
{
	json_t *dl = json_array(), *split = int_array(t->feature, t->n);
	for (size_t i = 0; i < t->n; i++)
		json_array_append_new(dl, json_integer(t->default_left[i]));
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "left_children", int_array(t->left, t->n),
			 "right_children", int_array(t->right, t->n), "split_indices", split, "split_conditions",
			 float_array(t->cond, t->n), "default_left", dl, "loss_changes",
			 double_array(t->loss_change, t->n), "sum_hessian", double_array(t->sum_hessian, t->n),
			 "base_weights", double_array(t->weight, t->n));
}

json_t *gb_forest_to_json(const struct gb_forest *f)
{
	const struct gb_objective *o = &f->objective;
	json_t *trees = json_array();
	for (size_t i = 0; i < f->ntrees; i++)
		json_array_append_new(trees, tree_to_json(&f->trees[i]));
	json_t *m = json_pack("{s:s, s:f, s:I, s:I}", "objective", gb_objective_name(o->kind), "base_score",
			      f->base_score, "num_feature", (json_int_t)f->num_feature, "best_iteration",
			      (json_int_t)f->best_iteration);
	if (o->kind == GB_QUANTILE)
		json_object_set_new(m, "quantile_alpha", json_real(o->quantile_alpha));
	if (o->kind == GB_PSEUDOHUBER)
		json_object_set_new(m, "huber_slope", json_real(o->huber_slope));
	if (o->kind == GB_TWEEDIE)
		json_object_set_new(m, "tweedie_variance_power", json_real(o->tweedie_power));
	json_object_set_new(m, "trees", trees);
	return m;
}

/* ---- reading, checked ---- */

/* The array member name of tree k, of length n (n == 0: take its length). */
static const json_t *member_array(const json_t *tree, const char *name, size_t k, size_t *n, struct ml_err *err)
{
	const json_t *a = json_object_get(tree, name);
	if (!json_is_array(a)) {
		ml_err_set(err, ML_ERR_DATA, "tree %zu: \"%s\" must be an array", k, name);
		return NULL;
	}
	if (*n == 0) {
		*n = json_array_size(a);
		if (*n == 0 || *n > (size_t)MAX_NODES) {
			ml_err_set(err, ML_ERR_DATA, "tree %zu: %zu nodes (1 to %ld)", k, *n, MAX_NODES);
			return NULL;
		}
	} else if (json_array_size(a) != *n) {
		ml_err_set(err, ML_ERR_DATA, "tree %zu: \"%s\" has %zu entries, \"left_children\" %zu", k, name,
			   json_array_size(a), *n);
		return NULL;
	}
	return a;
}

static int read_index(const json_t *a, size_t i, long lo, long hi, int32_t *out)
{
	const json_t *v = json_array_get(a, i);
	json_int_t x;
	if (json_is_integer(v))
		x = json_integer_value(v);
	else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
		 fabs(json_real_value(v)) < 1e15)
		x = (json_int_t)json_real_value(v);
	else
		return -1;
	if (x < lo || x > hi)
		return -1;
	*out = (int32_t)x;
	return 0;
}

static int read_number(const json_t *a, size_t i, double *out)
{
	const json_t *v = json_array_get(a, i);
	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return -1;
	*out = json_number_value(v);
	return 0;
}

static int read_flag(const json_t *a, size_t i, uint8_t *out)
{
	const json_t *v = json_array_get(a, i);
	if (json_is_boolean(v))
		return *out = json_is_true(v), 0;
	int32_t x;
	if (read_index(a, i, 0, 1, &x) < 0)
		return -1;
	*out = (uint8_t)x;
	return 0;
}

static int read_nodes(const json_t *tree, size_t k, size_t nfeat, struct gb_tree *t, struct ml_err *err)
{
	size_t n = 0;
	const json_t *left = member_array(tree, "left_children", k, &n, err), *right, *split, *cond, *dl;
	if (!left || !(right = member_array(tree, "right_children", k, &n, err)) ||
	    !(split = member_array(tree, "split_indices", k, &n, err)) ||
	    !(cond = member_array(tree, "split_conditions", k, &n, err)) ||
	    !(dl = member_array(tree, "default_left", k, &n, err)) || gb_tree_reserve(t, n, err) < 0)
		return -1;
	const json_t *loss = NULL, *hess = NULL, *weight = NULL;
	if ((json_object_get(tree, "loss_changes") && !(loss = member_array(tree, "loss_changes", k, &n, err))) ||
	    (json_object_get(tree, "sum_hessian") && !(hess = member_array(tree, "sum_hessian", k, &n, err))) ||
	    (json_object_get(tree, "base_weights") && !(weight = member_array(tree, "base_weights", k, &n, err))))
		return -1;
	t->n = n;
	for (size_t i = 0; i < n; i++) {
		double c;
		if (read_index(left, i, -1, (long)n - 1, &t->left[i]) < 0 ||
		    read_index(right, i, -1, (long)n - 1, &t->right[i]) < 0)
			return ml_err_set(err, ML_ERR_DATA, "tree %zu, node %zu: a child index is not -1 or a node "
					  "of the tree (%zu nodes)", k, i, n);
		if ((t->left[i] < 0) != (t->right[i] < 0))
			return ml_err_set(err, ML_ERR_DATA, "tree %zu, node %zu: one child only", k, i);
		if (read_number(cond, i, &c) < 0 || fabs(c) > FLT_MAX)
			return ml_err_set(err, ML_ERR_DATA, "tree %zu, node %zu: split_conditions is not a finite "
					  "float", k, i);
		t->cond[i] = (float)c;
		t->feature[i] = 0;
		if (t->left[i] >= 0 && (nfeat == 0 || read_index(split, i, 0, (long)nfeat - 1, &t->feature[i]) < 0))
			return ml_err_set(err, ML_ERR_DATA, "tree %zu, node %zu: split_indices is not a feature "
					  "index below num_feature %zu", k, i, nfeat);
		if (read_flag(dl, i, &t->default_left[i]) < 0)
			return ml_err_set(err, ML_ERR_DATA, "tree %zu, node %zu: default_left is not 0 or 1", k, i);
		t->loss_change[i] = t->sum_hessian[i] = 0;
		t->weight[i] = t->left[i] < 0 ? c : 0;
		if ((loss && read_number(loss, i, &t->loss_change[i]) < 0) ||
		    (hess && read_number(hess, i, &t->sum_hessian[i]) < 0) ||
		    (weight && read_number(weight, i, &t->weight[i]) < 0))
			return ml_err_set(err, ML_ERR_DATA, "tree %zu, node %zu: a statistic is not a finite number",
					  k, i);
	}
	return 0;
}

/* One tree rooted at node 0, no node reached twice; then renumbered breadth-first. */
static int check_shape(struct gb_tree *t, size_t k, struct ml_err *err)
{
	uint8_t *seen = calloc(t->n, 1);
	int32_t *queue = malloc(t->n * sizeof *queue);
	int rc = 0;
	if (!seen || !queue) {
		rc = ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
		goto out;
	}
	size_t head = 0, tail = 0;
	queue[tail++] = 0;
	seen[0] = 1;
	while (head < tail && rc == 0) {
		int32_t i = queue[head++];
		if (t->left[i] < 0)
			continue;
		int32_t c[2] = { t->left[i], t->right[i] };
		for (int s = 0; s < 2; s++) {
			if (seen[c[s]]) {
				rc = ml_err_set(err, ML_ERR_DATA, "tree %zu: node %d is reached twice (from node %d): "
						"not a tree", k, c[s], i);
				break;
			}
			seen[c[s]] = 1;
			queue[tail++] = c[s];
		}
	}
out:
	free(seen);
	free(queue);
	return rc < 0 ? -1 : gb_tree_compact(t, err);
}

static int model_objective(const json_t *m, struct gb_objective *o, struct ml_err *err)
{
	const char *name = json_string_value(json_object_get(m, "objective"));
	*o = (struct gb_objective){ GB_SQUARED, 0.5, 1.0, 1.5 };
	if (!name)
		return ml_err_set(err, ML_ERR_DATA, "gbtree model: no \"objective\"");
	if (gb_objective_parse(name, o, err) < 0) {
		if (err && err->class == ML_ERR_USAGE)
			err->class = ML_ERR_DATA;
		return -1;
	}
	const json_t *a = json_object_get(m, "quantile_alpha"), *s = json_object_get(m, "huber_slope"),
		     *p = json_object_get(m, "tweedie_variance_power");
	if (a)
		o->quantile_alpha = json_is_number(a) ? json_number_value(a) : NAN;
	if (s)
		o->huber_slope = json_is_number(s) ? json_number_value(s) : NAN;
	if (p)
		o->tweedie_power = json_is_number(p) ? json_number_value(p) : NAN;
	if (!(o->quantile_alpha > 0 && o->quantile_alpha < 1) || !(o->huber_slope > 0) ||
	    !(o->tweedie_power > 1 && o->tweedie_power < 2))
		return ml_err_set(err, ML_ERR_DATA, "gbtree model: an objective parameter is out of range");
	return 0;
}

int gb_forest_from_json(const json_t *m, struct gb_forest *f, struct ml_err *err)
{
	memset(f, 0, sizeof *f);
	const json_t *base = json_object_get(m, "base_score"), *nf = json_object_get(m, "num_feature");
	const json_t *trees = json_object_get(m, "trees"), *best = json_object_get(m, "best_iteration");
	if (model_objective(m, &f->objective, err) < 0)
		return -1;
	if (!json_is_number(base) || !isfinite(json_number_value(base)) ||
	    (f->objective.kind == GB_TWEEDIE && !(json_number_value(base) > 0)))
		return ml_err_set(err, ML_ERR_DATA, "gbtree model: \"base_score\" must be a finite number%s",
				  f->objective.kind == GB_TWEEDIE ? " above 0 (reg:tweedie)" : "");
	if (!json_is_integer(nf) || json_integer_value(nf) < 0 || json_integer_value(nf) > MAX_FEATURES)
		return ml_err_set(err, ML_ERR_DATA, "gbtree model: \"num_feature\" must be 0 to %ld", MAX_FEATURES);
	if (!json_is_array(trees))
		return ml_err_set(err, ML_ERR_DATA, "gbtree model: \"trees\" must be an array");
	f->base_score = json_number_value(base);
	f->num_feature = (size_t)json_integer_value(nf);
	f->best_iteration = json_is_integer(best) ? (long)json_integer_value(best) : (long)json_array_size(trees) - 1;
	for (size_t k = 0; k < json_array_size(trees); k++) {
		struct gb_tree t = { 0 };
		const json_t *tree = json_array_get(trees, k);
		if (!json_is_object(tree)) {
			gb_forest_free(f);
			return ml_err_set(err, ML_ERR_DATA, "tree %zu: not an object", k);
		}
		if (read_nodes(tree, k, f->num_feature, &t, err) < 0 || check_shape(&t, k, err) < 0 ||
		    gb_forest_add(f, &t, err) < 0) {
			gb_tree_free(&t);
			gb_forest_free(f);
			return ml_err_prefix(err, "gbtree model");
		}
	}
	return 0;
}

/* ---- feature importance, as XGBoost's get_score() ---- */

json_t *gb_forest_importance(const struct gb_forest *f)
{
	size_t p = f->num_feature;
	double *acc = calloc(3 * (p + 1), sizeof *acc);	/* weight, total gain, total cover */
	if (!acc)
		return NULL;
	for (size_t k = 0; k < f->ntrees; k++) {
		const struct gb_tree *t = &f->trees[k];
		for (size_t i = 0; i < t->n; i++)
			if (t->left[i] >= 0) {
				size_t j = (size_t)t->feature[i];
				acc[3 * j] += 1;
				acc[3 * j + 1] += t->loss_change[i];
				acc[3 * j + 2] += t->sum_hessian[i];
			}
	}
	json_t *w = json_array(), *g = json_array(), *c = json_array(), *tg = json_array(), *tc = json_array();
	for (size_t j = 0; j < p; j++) {
		double n = acc[3 * j];
		json_array_append_new(w, json_integer((json_int_t)n));
		json_array_append_new(g, json_real(n ? acc[3 * j + 1] / n : 0));
		json_array_append_new(c, json_real(n ? acc[3 * j + 2] / n : 0));
		json_array_append_new(tg, json_real(acc[3 * j + 1]));
		json_array_append_new(tc, json_real(acc[3 * j + 2]));
	}
	free(acc);
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "weight", w, "gain", g, "cover", c, "total_gain", tg,
			 "total_cover", tc);
}
