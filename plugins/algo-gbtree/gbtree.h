/*
 * gbtree.h - what the gbtree plugin's files share.
 *
 *   objective.c  gradients, base score, link, evaluation metric, leaf refresh
 *   bins.c       quantile cuts and the binned row-major matrix
 *   grow.c       one tree, depth by depth, from gradient histograms
 *   forest.c     trees as arrays (docs/gbtree-model.md): JSON out, checked JSON in
 *   predict.c    the scoring kernel over a flattened forest
 *   gbtree.c     hyperparameters, the boosting loop, the plugin's entry
 */
#ifndef GBTREE_H
#define GBTREE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mlpipe/err.h"
#include "mlpipe/matrix.h"
#include "mlpipe/plugin.h"

extern const struct ml_host *gb_host;
#define gb_warn(...) (gb_host && gb_host->log ? gb_host->log(0, __VA_ARGS__) : (void)0)

/* ---- objectives ---- */

enum gb_objective_kind { GB_SQUARED, GB_ABSOLUTE, GB_PSEUDOHUBER, GB_QUANTILE, GB_TWEEDIE };

struct gb_objective {
	enum gb_objective_kind kind;
	double quantile_alpha;		/* reg:quantileerror */
	double huber_slope;		/* reg:pseudohubererror */
	double tweedie_power;		/* reg:tweedie, in (1, 2) */
};

/* A gradient pair per row; floats, as XGBoost keeps them. */
struct gb_gpair {
	float g, h;
};

int gb_objective_parse(const char *name, struct gb_objective *o, struct ml_err *err);
const char *gb_objective_name(enum gb_objective_kind kind);
/* Gradients of rows [0, n) at the current margins. */
void gb_gradients(const struct gb_objective *o, const double *margin, const double *y, size_t n,
		  struct gb_gpair *gp);
/* base_score (label units) to the margin every tree adds to, and back. */
double gb_base_margin(const struct gb_objective *o, double base_score);
double gb_link(const struct gb_objective *o, double margin);
/* The default base_score for the labels: their mean, median or quantile. */
int gb_estimate_base_score(const struct gb_objective *o, const double *y, size_t n, double *out,
			   struct ml_err *err);
/* Whether the objective sets each leaf to a quantile of its residuals (XGBoost's adaptive trees). */
int gb_objective_adaptive(const struct gb_objective *o);
/* The quantile of residuals y - margin over rows[0..n) (scratch holds n doubles). */
double gb_leaf_quantile(const struct gb_objective *o, const double *y, const double *margin,
			const uint32_t *rows, size_t n, double *scratch);
/* The objective's evaluation metric ("rmse", "mae", ...) over rows [0, n); lower is better. */
const char *gb_metric_name(const struct gb_objective *o);
double gb_metric(const struct gb_objective *o, const double *margin, const double *y, size_t n);

/* ---- binning ---- */

/*
 * Bin codes: code < ncuts[j] is a value bin, code == ncuts[j] is "missing".
 * A code is a uint8_t, or a uint16_t when wide (some feature has more than
 * 256 codes): read them with gb_code().
 */
struct gb_bins {
	size_t nrows, nfeatures;
	int wide;
	void *code;		/* nrows * nfeatures, row-major: histograms read a row's codes together */
	void *column;		/* the same, feature-major: partitioning reads one feature of many rows */
	float **cuts;		/* per feature: ascending upper bounds; bin b holds v < cuts[b] */
	uint32_t *ncuts;	/* per feature */
	uint32_t *offset;	/* per feature: first histogram slot; offset[nfeatures] = slots */
};

static inline uint32_t gb_code(const void *codes, int wide, size_t i)
{
	return wide ? ((const uint16_t *)codes)[i] : ((const uint8_t *)codes)[i];
}

static inline void gb_code_set(void *codes, int wide, size_t i, uint32_t code)
{
	if (wide)
		((uint16_t *)codes)[i] = (uint16_t)code;
	else
		((uint8_t *)codes)[i] = (uint8_t)code;
}

int gb_bins_build(const struct ml_matrix *x, long max_bin, struct gb_bins *b, struct ml_err *err);
void gb_bins_free(struct gb_bins *b);

/* ---- trees ---- */

/* One tree in XGBoost's array layout (docs/gbtree-model.md). */
struct gb_tree {
	size_t n, cap;
	int32_t *left, *right, *feature;
	float *cond;			/* threshold, or a leaf's value */
	uint8_t *default_left;
	double *loss_change, *sum_hessian, *weight;
};

int gb_tree_reserve(struct gb_tree *t, size_t n, struct ml_err *err);
/* Append a leaf; returns its index. */
int32_t gb_tree_add_leaf(struct gb_tree *t, double weight, double hessian);
void gb_tree_free(struct gb_tree *t);
/* Depth of a breadth-first numbered tree (as read and as grown once compacted); SIZE_MAX without memory. */
size_t gb_tree_depth(const struct gb_tree *t);

struct gb_forest {
	struct gb_objective objective;
	double base_score;
	size_t num_feature;
	long best_iteration;
	struct gb_tree *trees;
	size_t ntrees, cap;
};

int gb_forest_add(struct gb_forest *f, struct gb_tree *t, struct ml_err *err);	/* takes t */
void gb_forest_truncate(struct gb_forest *f, size_t ntrees);
void gb_forest_free(struct gb_forest *f);
json_t *gb_forest_to_json(const struct gb_forest *f);
/* Parse and check a model (untrusted): ML_ERR_DATA naming the tree and node on any fault. */
int gb_forest_from_json(const json_t *model, struct gb_forest *f, struct ml_err *err);
/* Feature importance per feature index: weight, gain, cover, total_gain, total_cover. */
json_t *gb_forest_importance(const struct gb_forest *f);

/* ---- growing ---- */

struct gb_tree_params {
	long max_depth;
	double eta, lambda, alpha, gamma, min_child_weight;
};

/* Workspace kept across rounds; rows end partitioned by leaf. */
struct gb_grower {
	const struct gb_bins *bins;
	size_t threads;
	uint32_t *rows, *scratch;	/* row indices of the tree's sample, partitioned by node; scratch as long */
	size_t nrows;
	uint32_t *node_begin, *node_end;	/* per tree node: its rows in rows[] */
	size_t node_cap;
	double *pool[2];		/* histograms of the nodes of one depth and of the next */
	size_t pool_cap[2];		/* (kept across trees: allocated once, not per tree) */
	size_t hist_slots;
	double *thread_hist;		/* per thread, per node being built */
	size_t thread_hist_cap;
	uint16_t *split_bin;		/* per node: left when code <= split_bin */
};

int gb_grower_init(struct gb_grower *g, const struct gb_bins *bins, size_t threads, struct ml_err *err);
void gb_grower_free(struct gb_grower *g);
/*
 * Grow one tree on the rows rows[0..nrows), in ascending order (set g->rows
 * and g->nrows first), with the features whose use[j] is nonzero.  Leaves
 * get eta * weight.
 */
int gb_grow(struct gb_grower *g, const struct gb_gpair *gp, const uint8_t *use, const struct gb_tree_params *p,
	    struct gb_tree *t, struct ml_err *err);
/* Drop the nodes pruning cut off (after the rows' leaves are used). */
int gb_tree_compact(struct gb_tree *t, struct ml_err *err);
/* The leaf a binned row reaches (for rows outside the sample), before compaction. */
int32_t gb_binned_leaf(const struct gb_grower *g, const struct gb_tree *t, size_t row);

/* ---- scoring ---- */

struct gb_predictor;
struct gb_predictor *gb_predictor_new(struct gb_forest *f, struct ml_err *err);	/* takes f */
const struct gb_forest *gb_predictor_forest(const struct gb_predictor *p);
/* out[i] = link(base margin + the leaves row i reaches), summed in float in tree order as XGBoost does. */
int gb_predict(const struct gb_predictor *p, const struct ml_matrix *x, double *out, struct ml_err *err);
void gb_predictor_free(struct gb_predictor *p);
/* One tree's output for a row of float features (validation during training). */
double gb_walk_tree(const struct gb_tree *t, const float *row);

#endif
