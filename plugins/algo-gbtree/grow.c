/*
 * grow.c - one regression tree from gradient histograms, depth by depth.
 *
 * The tree's rows live in one index array, partitioned in place so that
 * every node owns a contiguous range (XGBoost's row sets).  At each depth the
 * nodes find their best split from a histogram of gradient sums per bin;
 * only the smaller child's histogram is built from its rows, the larger
 * one's is its parent's minus the smaller's.  Threads take fixed shares of
 * each node's rows into private histograms that are then summed in thread
 * order, so a given thread count always gives the same tree.
 *
 * Gains and weights are XGBoost's: with T(G) = sign(G) max(|G| - alpha, 0),
 * a node's score is T(G)^2 / (H + lambda) and its weight -T(G) / (H + lambda);
 * a split's loss change is left + right - parent.  Splits are made while the
 * change is positive; afterwards those below gamma are pruned bottom-up,
 * as XGBoost's pruner does.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gbtree.h"
#include "mlpipe/buf.h"
#include "mlpipe/threads.h"

#define RT_EPS 1e-6			/* XGBoost's kRtEps: the least useful loss change */
#define HIST_BUDGET (4ull << 30)	/* bytes of histograms one depth may take */

/* ---- tree arrays ---- */

int gb_tree_reserve(struct gb_tree *t, size_t n, struct ml_err *err)
{
	if (n <= t->cap)
		return 0;
	size_t cap = t->cap ? t->cap : 64;
	while (cap < n)
		cap *= 2;
#define GROW(field)                                                                    \
	do {                                                                           \
		void *p_ = ml_realloc_array(t->field, cap, sizeof *t->field, err);      \
		if (!p_)                                                               \
			return -1;                                                     \
		t->field = p_;                                                         \
	} while (0)
	GROW(left);
	GROW(right);
	GROW(feature);
	GROW(cond);
	GROW(default_left);
	GROW(loss_change);
	GROW(sum_hessian);
	GROW(weight);
#undef GROW
	t->cap = cap;
	return 0;
}

int32_t gb_tree_add_leaf(struct gb_tree *t, double weight, double hessian)
{
	size_t i = t->n++;
	t->left[i] = t->right[i] = -1;
	t->feature[i] = 0;
	t->cond[i] = (float)weight;
	t->default_left[i] = 0;
	t->loss_change[i] = 0;
	t->sum_hessian[i] = hessian;
	t->weight[i] = weight;
	return (int32_t)i;
}

void gb_tree_free(struct gb_tree *t)
{
	free(t->left);
	free(t->right);
	free(t->feature);
	free(t->cond);
	free(t->default_left);
	free(t->loss_change);
	free(t->sum_hessian);
	free(t->weight);
	memset(t, 0, sizeof *t);
}

/* ---- the grower ---- */

void gb_grower_free(struct gb_grower *g)
{
	free(g->rows);
	free(g->scratch);
	free(g->node_begin);
	free(g->node_end);
	free(g->pool[0]);
	free(g->pool[1]);
	free(g->thread_hist);
	free(g->split_bin);
	memset(g, 0, sizeof *g);
}

int gb_grower_init(struct gb_grower *g, const struct gb_bins *bins, size_t threads, struct ml_err *err)
{
	memset(g, 0, sizeof *g);
	g->bins = bins;
	g->threads = threads ? threads : 1;
	g->hist_slots = bins->offset[bins->nfeatures];
	g->rows = ml_malloc((bins->nrows + 1) * sizeof *g->rows, err);
	g->scratch = ml_malloc((bins->nrows + 1) * sizeof *g->scratch, err);
	if (!g->rows || !g->scratch) {
		gb_grower_free(g);
		return -1;
	}
	return 0;
}

static int reserve_nodes(struct gb_grower *g, size_t n, struct ml_err *err)
{
	if (n <= g->node_cap)
		return 0;
	size_t cap = g->node_cap ? g->node_cap : 128;
	while (cap < n)
		cap *= 2;
	uint32_t *b = ml_realloc_array(g->node_begin, cap, sizeof *b, err);
	if (!b)
		return -1;
	g->node_begin = b;
	uint32_t *e = ml_realloc_array(g->node_end, cap, sizeof *e, err);
	if (!e)
		return -1;
	g->node_end = e;
	uint16_t *s = ml_realloc_array(g->split_bin, cap, sizeof *s, err);
	if (!s)
		return -1;
	g->split_bin = s;
	g->node_cap = cap;
	return 0;
}

/* n histograms' worth of doubles (2 per slot) in *buf, grown to fit. */
static double *hist_space(double **buf, size_t *cap, size_t nhist, size_t slots, struct ml_err *err)
{
	size_t want = nhist * slots * 2;
	if (want * sizeof(double) > HIST_BUDGET) {
		ml_err_set(err, ML_ERR_USAGE,
			   "%zu histograms of %zu bins need %.1f GB: lower max_depth or max_bin",
			   nhist, slots, (double)(want * sizeof(double)) / 1e9);
		return NULL;
	}
	if (want > *cap) {
		double *p = ml_realloc_array(*buf, want, sizeof *p, err);
		if (!p)
			return NULL;
		*buf = p;
		*cap = want;
	}
	return *buf;
}

static double threshold_l1(double g, double alpha)
{
	return g > alpha ? g - alpha : g < -alpha ? g + alpha : 0;
}

static double node_score(double g, double h, const struct gb_tree_params *p)
{
	double t = threshold_l1(g, p->alpha);
	return t * t / (h + p->lambda);
}

static double node_weight(double g, double h, const struct gb_tree_params *p)
{
	if (h < p->min_child_weight || h <= 0)
		return 0;
	return -threshold_l1(g, p->alpha) / (h + p->lambda);
}

/* ---- histograms ---- */

/* The nodes whose histograms one pass builds, each from its own rows. */
struct hist_job {
	const struct gb_grower *g;
	const struct gb_gpair *gp;
	const uint32_t *rows;	/* g->rows, or NULL when they are 0, 1, ... (the root of a full sample) */
	const int32_t *nodes;
	size_t nnodes;
	double *out;		/* nnodes histograms */
	double *priv;		/* (threads - 1) * nnodes private histograms */
	size_t nthreads;
};

/* A bin's gradient and hessian sums, added as one vector. */
typedef double pair __attribute__((vector_size(16)));

/*
 * The histogram kernel, inlined with wide and rows-or-NULL constant: each
 * variant is compiled on its own, so neither the code width nor the row
 * indirection is a test per value.
 */
static inline __attribute__((always_inline)) void accumulate(const struct gb_bins *b, const struct gb_gpair *gp,
							     const uint32_t *rows, size_t lo, size_t hi,
							     double *hist, int wide)
{
	size_t p = b->nfeatures, width = wide ? 2 : 1;
	const uint32_t *off = b->offset;
	pair *h = (pair *)hist;
	for (size_t i = lo; i < hi; i++) {
		size_t r = rows ? rows[i] : i;
		if (rows && i + 16 < hi) {	/* rows of a deep node are far apart: fetch ahead */
			const char *next = (const char *)b->code + (size_t)rows[i + 16] * p * width;
			__builtin_prefetch(next);
			__builtin_prefetch(next + p * width - 1);	/* a row may straddle two lines */
			__builtin_prefetch(gp + rows[i + 16]);
		}
		pair gh = { gp[r].g, gp[r].h };
#pragma GCC unroll 4	/* -O2 does not unroll; the loop's own counting cost a tenth of the time */
		for (size_t j = 0; j < p; j++)
			h[off[j] + gb_code(b->code, wide, r * p + j)] += gh;
	}
}

static void accumulate_rows(const struct gb_bins *b, const struct gb_gpair *gp, const uint32_t *rows,
			    size_t lo, size_t hi, double *hist)
{
	if (b->wide)
		rows ? accumulate(b, gp, rows, lo, hi, hist, 1) : accumulate(b, gp, NULL, lo, hi, hist, 1);
	else
		rows ? accumulate(b, gp, rows, lo, hi, hist, 0) : accumulate(b, gp, NULL, lo, hi, hist, 0);
}

static int hist_share(size_t t, void *ctx, struct ml_err *err)
{
	(void)err;
	struct hist_job *job = ctx;
	const struct gb_grower *g = job->g;
	size_t slots = g->hist_slots;
	for (size_t k = 0; k < job->nnodes; k++) {
		int32_t node = job->nodes[k];
		size_t begin = g->node_begin[node], n = g->node_end[node] - begin;
		size_t lo = begin + n * t / job->nthreads, hi = begin + n * (t + 1) / job->nthreads;
		double *h = t == 0 ? job->out + k * slots * 2 : job->priv + ((t - 1) * job->nnodes + k) * slots * 2;
		memset(h, 0, slots * 2 * sizeof *h);
		accumulate_rows(g->bins, job->gp, job->rows, lo, hi, h);
	}
	return 0;
}

/* Histograms of nodes[0..n) into out; rows as in struct hist_job. */
static int build_histograms(struct gb_grower *g, const struct gb_gpair *gp, const uint32_t *rows,
			    const int32_t *nodes, size_t n, double *out, struct ml_err *err)
{
	size_t total = 0;
	for (size_t k = 0; k < n; k++)
		total += g->node_end[nodes[k]] - g->node_begin[nodes[k]];
	size_t threads = g->threads;
	if (total < 4096 * threads)
		threads = 1;
	struct hist_job job = { g, gp, rows, nodes, n, out, NULL, threads };
	if (threads > 1 &&
	    !(job.priv = hist_space(&g->thread_hist, &g->thread_hist_cap, (threads - 1) * n, g->hist_slots, err)))
		return -1;
	if (ml_parallel_for(threads, total * g->bins->nfeatures * 16, hist_share, &job, err) < 0)
		return -1;
	size_t len = g->hist_slots * 2;
	for (size_t t = 1; t < threads; t++)	/* in thread order: the same sums every run */
		for (size_t k = 0; k < n; k++) {
			double *dst = out + k * len;
			const double *src = job.priv + ((t - 1) * n + k) * len;
			for (size_t s = 0; s < len; s++)
				dst[s] += src[s];
		}
	return 0;
}

/* ---- split finding ---- */

struct split {
	double loss_change;
	int32_t feature;
	uint16_t bin;
	uint8_t default_left;
	double gl, hl, gr, hr;
};

static void try_split(struct split *best, double gl, double hl, double g, double h, double parent,
		      const struct gb_tree_params *p, int32_t feature, uint32_t bin, int default_left)
{
	double gr = g - gl, hr = h - hl;
	if (hl < p->min_child_weight || hr < p->min_child_weight)
		return;
	double change = node_score(gl, hl, p) + node_score(gr, hr, p) - parent;
	if (change > best->loss_change) {
		*best = (struct split){ change, feature, (uint16_t)bin, (uint8_t)default_left, gl, hl, gr, hr };
	}
}

static void best_split(const struct gb_bins *b, const double *hist, double g, double h, const uint8_t *use,
		       const struct gb_tree_params *p, struct split *best)
{
	double parent = node_score(g, h, p);
	*best = (struct split){ .loss_change = RT_EPS, .feature = -1 };
	for (size_t j = 0; j < b->nfeatures; j++) {
		uint32_t nb = b->ncuts[j];
		if (!use[j] || nb == 0)
			continue;
		const double *s = hist + 2 * (size_t)b->offset[j];
		double gm = s[2 * nb], hm = s[2 * nb + 1], gl = 0, hl = 0;
		/* as XGBoost: missing values right (the last split: present left, missing right) ... */
		for (uint32_t k = 0; k < nb; k++) {
			gl += s[2 * k];
			hl += s[2 * k + 1];
			if (k + 1 < nb || hm > 0)
				try_split(best, gl, hl, g, h, parent, p, (int32_t)j, k, 0);
		}
		if (!(hm > 0))
			continue;
		/* ... then, when there are some, missing values left */
		gl = gm;
		hl = hm;
		for (uint32_t k = 0; k + 1 < nb; k++) {
			gl += s[2 * k];
			hl += s[2 * k + 1];
			try_split(best, gl, hl, g, h, parent, p, (int32_t)j, k, 1);
		}
	}
}

/* ---- partitioning rows between children ---- */

/*
 * Two passes over each split node's rows, each thread on its fixed share:
 * the first sends the share's rows to its own range of scratch[], left ones
 * from the front, right ones from the back; the second lays the shares out
 * in rows[], every left part in thread order, then every right part
 * (reversed back), so the partition is stable and the same on any thread
 * count.
 */
struct partition_job {
	struct gb_grower *g;
	const struct gb_tree *t;
	const int32_t *nodes;	/* split nodes */
	size_t nnodes, nthreads;
	uint32_t *nleft;	/* per node and thread: rows going left */
};

/* Where a row goes at a split on feature f after bin `bin`; wide as in gb_code(). */
static inline __attribute__((always_inline)) int goes_left(const struct gb_bins *b, int wide, size_t row,
							   int32_t f, uint32_t bin, int default_left)
{
	uint32_t c = gb_code(b->column, wide, (size_t)f * b->nrows + row);
	return c == b->ncuts[f] ? default_left : c <= bin;
}

/* rows[lo..hi) to out[lo..hi): left ones from lo up, right ones from hi down; returns how many go left. */
static inline __attribute__((always_inline)) size_t split_rows(const struct gb_bins *b, const uint32_t *rows,
							       size_t lo, size_t hi, int32_t f, uint32_t bin,
							       int default_left, uint32_t *out, int wide)
{
	size_t left_at = lo, right_at = hi;
	for (size_t i = lo; i < hi; i++) {	/* branch-free: the side is data, not a jump */
		uint32_t r = rows[i];
		size_t l = (size_t)goes_left(b, wide, r, f, bin, default_left);
		out[l ? left_at : right_at - 1] = r;
		left_at += l;
		right_at -= 1 - l;
	}
	return left_at - lo;
}

static void share_range(const struct gb_grower *g, int32_t node, size_t t, size_t threads, size_t *lo,
			size_t *hi)
{
	size_t begin = g->node_begin[node], n = g->node_end[node] - begin;
	*lo = begin + n * t / threads;
	*hi = begin + n * (t + 1) / threads;
}

static int split_share(size_t t, void *ctx, struct ml_err *err)
{
	(void)err;
	struct partition_job *job = ctx;
	struct gb_grower *g = job->g;
	const struct gb_bins *b = g->bins;
	for (size_t k = 0; k < job->nnodes; k++) {
		int32_t node = job->nodes[k], f = job->t->feature[node];
		uint32_t bin = g->split_bin[node];
		int dl = job->t->default_left[node];
		size_t lo, hi;
		share_range(g, node, t, job->nthreads, &lo, &hi);
		size_t n = b->wide ? split_rows(b, g->rows, lo, hi, f, bin, dl, g->scratch, 1)
				   : split_rows(b, g->rows, lo, hi, f, bin, dl, g->scratch, 0);
		job->nleft[k * job->nthreads + t] = (uint32_t)n;
	}
	return 0;
}

static int lay_out_share(size_t t, void *ctx, struct ml_err *err)
{
	(void)err;
	struct partition_job *job = ctx;
	struct gb_grower *g = job->g;
	for (size_t k = 0; k < job->nnodes; k++) {
		int32_t node = job->nodes[k];
		const uint32_t *nl = job->nleft + k * job->nthreads;
		size_t begin = g->node_begin[node], lefts = 0, left_at = begin, right_at;
		for (size_t u = 0; u < job->nthreads; u++)
			lefts += nl[u];
		right_at = begin + lefts;
		size_t lo, hi;
		for (size_t u = 0; u < t; u++) {	/* where this thread's share starts on each side */
			share_range(g, node, u, job->nthreads, &lo, &hi);
			left_at += nl[u];
			right_at += (hi - lo) - nl[u];
		}
		share_range(g, node, t, job->nthreads, &lo, &hi);
		memcpy(g->rows + left_at, g->scratch + lo, nl[t] * sizeof *g->rows);
		for (size_t i = hi; i > lo + nl[t]; i--)
			g->rows[right_at++] = g->scratch[i - 1];
	}
	return 0;
}

/* Partition every split node's rows; returns the number going left per node in nleft_total. */
static int partition(struct gb_grower *g, const struct gb_tree *t, const int32_t *nodes, size_t n,
		     uint32_t *nleft_total, struct ml_err *err)
{
	size_t rows = 0;
	for (size_t k = 0; k < n; k++)
		rows += g->node_end[nodes[k]] - g->node_begin[nodes[k]];
	size_t threads = rows < 8192 * g->threads ? 1 : g->threads;
	struct partition_job job = { g, t, nodes, n, threads, ml_calloc(n * threads + 1, sizeof(uint32_t), err) };
	if (!job.nleft)
		return -1;
	size_t work = rows * 64;
	int rc = ml_parallel_for(threads, work, split_share, &job, err) < 0 ||
			 ml_parallel_for(threads, work, lay_out_share, &job, err) < 0
		 ? -1
		 : 0;
	for (size_t k = 0; rc == 0 && k < n; k++) {
		nleft_total[k] = 0;
		for (size_t u = 0; u < threads; u++)
			nleft_total[k] += job.nleft[k * threads + u];
	}
	free(job.nleft);
	return rc;
}

/* ---- growing ---- */

/* The state of one depth: its nodes, their histograms and gradient sums. */
struct level {
	int32_t *nodes;
	size_t n;
	double *hist;		/* n histograms, in nodes' order */
	double *g, *h;
};

struct growth {
	struct gb_grower *g;
	const struct gb_gpair *gp;
	const uint8_t *use;
	const struct gb_tree_params *p;
	struct gb_tree *t;
	struct split *splits;
	int32_t *node_buf[2], *small;
	double *sums[2];	/* per node of a depth: g then h */
	uint32_t *nleft;
	size_t width;		/* most nodes a depth may have */
};

static int make_children(struct growth *gr, int32_t parent, const struct split *s, uint32_t nleft,
			 struct ml_err *err)
{
	struct gb_tree *t = gr->t;
	struct gb_grower *g = gr->g;
	if (gb_tree_reserve(t, t->n + 2, err) < 0 || reserve_nodes(g, t->n + 2, err) < 0)
		return -1;
	int32_t l = gb_tree_add_leaf(t, node_weight(s->gl, s->hl, gr->p), s->hl);
	int32_t r = gb_tree_add_leaf(t, node_weight(s->gr, s->hr, gr->p), s->hr);
	t->left[parent] = l;
	t->right[parent] = r;
	t->feature[parent] = s->feature;
	t->cond[parent] = g->bins->cuts[s->feature][s->bin];
	t->default_left[parent] = s->default_left;
	t->loss_change[parent] = s->loss_change;
	g->split_bin[parent] = s->bin;
	g->node_begin[l] = g->node_begin[parent];
	g->node_end[l] = g->node_begin[parent] + nleft;
	g->node_begin[r] = g->node_end[l];
	g->node_end[r] = g->node_end[parent];
	return 0;
}

/* Histograms of the children of the split nodes: the smaller built, the larger subtracted. */
static int child_histograms(struct growth *gr, const struct level *cur, const int32_t *split_idx, size_t nsplit,
			    struct level *next, struct ml_err *err)
{
	struct gb_grower *g = gr->g;
	size_t len = g->hist_slots * 2;
	for (size_t k = 0; k < nsplit; k++) {
		int32_t parent = cur->nodes[split_idx[k]];
		int32_t l = gr->t->left[parent], r = gr->t->right[parent];
		size_t nl = g->node_end[l] - g->node_begin[l], nr = g->node_end[r] - g->node_begin[r];
		gr->small[k] = nl <= nr ? l : r;
	}
	double *small_hist = hist_space(&g->pool[1], &g->pool_cap[1], 2 * nsplit, g->hist_slots, err);
	if (!small_hist)
		return -1;
	/* built into the second half, then laid out as (left, right) pairs in the first */
	double *built = small_hist + nsplit * len;
	if (build_histograms(g, gr->gp, g->rows, gr->small, nsplit, built, err) < 0)
		return -1;
	for (size_t k = 0; k < nsplit; k++) {
		int32_t parent = cur->nodes[split_idx[k]];
		const double *ph = cur->hist + (size_t)split_idx[k] * len, *sh = built + k * len;
		int small_is_left = gr->small[k] == gr->t->left[parent];
		double *lh = small_hist + (2 * k) * len, *rh = lh + len;
		double *dst_small = small_is_left ? lh : rh, *dst_large = small_is_left ? rh : lh;
		memmove(dst_small, sh, len * sizeof *sh);
		const double *small_src = dst_small;
		for (size_t s = 0; s < len; s++)
			dst_large[s] = ph[s] - small_src[s];
	}
	next->hist = small_hist;
	return 0;
}

static int grow_level(struct growth *gr, struct level *cur, struct level *next, int last, struct ml_err *err)
{
	struct gb_tree *t = gr->t;
	int32_t *split_idx = gr->small + gr->width;	/* indexes into cur->nodes */
	int32_t *split_nodes = split_idx + gr->width;
	size_t nsplit = 0;
	for (size_t k = 0; k < cur->n; k++) {
		const double *hist = cur->hist + k * gr->g->hist_slots * 2;
		best_split(gr->g->bins, hist, cur->g[k], cur->h[k], gr->use, gr->p, &gr->splits[k]);
		if (gr->splits[k].feature >= 0) {
			split_idx[nsplit] = (int32_t)k;
			split_nodes[nsplit++] = cur->nodes[k];
		}
	}
	next->n = 0;
	if (nsplit == 0)
		return 0;
	for (size_t k = 0; k < nsplit; k++) {	/* the split is needed to partition */
		const struct split *s = &gr->splits[split_idx[k]];
		t->feature[split_nodes[k]] = s->feature;
		t->default_left[split_nodes[k]] = s->default_left;
		gr->g->split_bin[split_nodes[k]] = s->bin;
	}
	if (partition(gr->g, t, split_nodes, nsplit, gr->nleft, err) < 0)
		return -1;
	for (size_t k = 0; k < nsplit; k++) {
		const struct split *s = &gr->splits[split_idx[k]];
		if (make_children(gr, split_nodes[k], s, gr->nleft[k], err) < 0)
			return -1;
		int32_t parent = split_nodes[k];
		next->nodes[2 * k] = t->left[parent];
		next->nodes[2 * k + 1] = t->right[parent];
		next->g[2 * k] = s->gl;
		next->h[2 * k] = s->hl;
		next->g[2 * k + 1] = s->gr;
		next->h[2 * k + 1] = s->hr;
	}
	next->n = 2 * nsplit;
	if (last)
		return 0;
	return child_histograms(gr, cur, split_idx, nsplit, next, err);
}

/* Bottom-up: a split whose children are leaves and whose change is below gamma becomes a leaf. */
static int prune(struct gb_tree *t, int32_t i, double gamma)
{
	if (t->left[i] < 0)
		return 1;
	int l = prune(t, t->left[i], gamma), r = prune(t, t->right[i], gamma);
	if (l && r && t->loss_change[i] < gamma) {
		t->left[i] = t->right[i] = -1;
		t->feature[i] = 0;
		t->default_left[i] = 0;
		t->loss_change[i] = 0;
		return 1;
	}
	return 0;
}

/* Leaves' values: eta * weight, rounded to float as they are stored. */
static void finish_leaves(struct gb_tree *t, double eta)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->left[i] < 0)
			t->cond[i] = (float)(eta * t->weight[i]);
}

static void free_growth(struct growth *gr)
{
	free(gr->splits);
	free(gr->node_buf[0]);
	free(gr->node_buf[1]);
	free(gr->small);
	free(gr->sums[0]);
	free(gr->sums[1]);
	free(gr->nleft);
}

static int alloc_growth(struct growth *gr, long max_depth, struct ml_err *err)
{
	gr->width = (size_t)1 << (max_depth < 30 ? max_depth : 30);
	size_t w = gr->width;
	gr->splits = ml_calloc(w, sizeof *gr->splits, err);
	gr->node_buf[0] = ml_calloc(w, sizeof(int32_t), err);
	gr->node_buf[1] = ml_calloc(w, sizeof(int32_t), err);
	gr->small = ml_calloc(3 * w, sizeof(int32_t), err);
	gr->sums[0] = ml_calloc(2 * w, sizeof(double), err);
	gr->sums[1] = ml_calloc(2 * w, sizeof(double), err);
	gr->nleft = ml_calloc(w, sizeof(uint32_t), err);
	return gr->splits && gr->node_buf[0] && gr->node_buf[1] && gr->small && gr->sums[0] && gr->sums[1] &&
			       gr->nleft
		       ? 0
		       : -1;
}

static void set_level(struct level *lv, struct growth *gr, int which)
{
	lv->nodes = gr->node_buf[which];
	lv->g = gr->sums[which];
	lv->h = gr->sums[which] + gr->width;
}

int gb_grow(struct gb_grower *g, const struct gb_gpair *gp, const uint8_t *use, const struct gb_tree_params *p,
	    struct gb_tree *t, struct ml_err *err)
{
	struct growth gr = { .g = g, .gp = gp, .use = use, .p = p, .t = t };
	struct level lv[2];
	int rc = -1;
	t->n = 0;
	if (alloc_growth(&gr, p->max_depth, err) < 0 || gb_tree_reserve(t, 1, err) < 0 || reserve_nodes(g, 1, err) < 0)
		goto out;
	set_level(&lv[0], &gr, 0);
	set_level(&lv[1], &gr, 1);
	g->node_begin[0] = 0;
	g->node_end[0] = (uint32_t)g->nrows;
	lv[0].nodes[0] = 0;
	lv[0].n = 1;
	lv[0].hist = hist_space(&g->pool[0], &g->pool_cap[0], 1, g->hist_slots, err);
	/* a full sample's rows are 0, 1, ... (rows[] is ascending): the root reads them in place */
	const uint32_t *root_rows = g->nrows == g->bins->nrows ? NULL : g->rows;
	if (!lv[0].hist || build_histograms(g, gp, root_rows, lv[0].nodes, 1, lv[0].hist, err) < 0)
		goto out;
	double g0 = 0, h0 = 0;
	for (size_t i = 0; i < g->nrows; i++) {
		g0 += gp[g->rows[i]].g;
		h0 += gp[g->rows[i]].h;
	}
	lv[0].g[0] = g0;
	lv[0].h[0] = h0;
	gb_tree_add_leaf(t, node_weight(g0, h0, p), h0);
	for (long depth = 0; depth < p->max_depth && lv[depth & 1].n; depth++) {
		struct level *cur = &lv[depth & 1], *next = &lv[(depth + 1) & 1];
		if (grow_level(&gr, cur, next, depth + 1 == p->max_depth, err) < 0)
			goto out;
		/* the children's histograms were built in pool[1]: swap pools so it becomes current */
		double *tmp = g->pool[0];
		size_t tcap = g->pool_cap[0];
		g->pool[0] = g->pool[1];
		g->pool_cap[0] = g->pool_cap[1];
		g->pool[1] = tmp;
		g->pool_cap[1] = tcap;
	}
	prune(t, 0, p->gamma);
	finish_leaves(t, p->eta);
	rc = 0;	/* pruned nodes stay until gb_tree_compact(): their rows are their parent's */
out:
	free_growth(&gr);
	return rc;
}

int32_t gb_binned_leaf(const struct gb_grower *g, const struct gb_tree *t, size_t row)
{
	int32_t i = 0;
	while (t->left[i] >= 0)
		i = goes_left(g->bins, g->bins->wide, row, t->feature[i], g->split_bin[i], t->default_left[i])
			    ? t->left[i]
			    : t->right[i];
	return i;
}

/* Renumber the nodes reachable from the root breadth-first, dropping pruned ones. */
int gb_tree_compact(struct gb_tree *t, struct ml_err *err)
{
	struct gb_tree c = { 0 };
	int32_t *queue = ml_malloc((t->n + 1) * sizeof *queue, err);
	if (!queue || gb_tree_reserve(&c, t->n, err) < 0) {
		free(queue);
		gb_tree_free(&c);
		return -1;
	}
	size_t head = 0, tail = 0;
	queue[tail++] = 0;
	while (head < tail) {
		int32_t i = queue[head], k = (int32_t)head++;
		c.n++;
		c.feature[k] = t->feature[i];
		c.cond[k] = t->cond[i];
		c.default_left[k] = t->default_left[i];
		c.loss_change[k] = t->loss_change[i];
		c.sum_hessian[k] = t->sum_hessian[i];
		c.weight[k] = t->weight[i];
		c.left[k] = c.right[k] = -1;
		if (t->left[i] >= 0) {
			c.left[k] = (int32_t)tail;
			queue[tail++] = t->left[i];
			c.right[k] = (int32_t)tail;
			queue[tail++] = t->right[i];
		}
	}
	free(queue);
	gb_tree_free(t);
	*t = c;
	return 0;
}
