/*
 * predict.c - scoring rows with a flattened forest.
 *
 * Each tree of depth D is laid out as a perfect binary tree in heap order
 * (node k's children are 2k+1 and 2k+2): a leaf above depth D is repeated
 * in every slot below it, so every row takes exactly D steps and the next
 * node is arithmetic, not a branch:
 *
 *     k = 2k + 1 + !(x[feature[k]] < threshold[k])     (NaN: the default side)
 *
 * Rows are scored a block at a time, tree by tree, with the block's
 * features converted once to float (XGBoost compares in float, so the same
 * rows go the same way).  The step over a block's rows has no branch and no
 * dependency between rows.  Three kernels give the same bits: a portable
 * one the compiler vectorizes as it can, one with AVX2 gathers (eight rows
 * a step) and one with AVX-512 (sixteen rows a step, the top levels and
 * the leaves of a depth-6 tree looked up in registers); the best the CPU
 * has is chosen at load, and MLPIPE_KERNEL=portable|avx2|avx512 picks a
 * lower one, so tests can compare them.
 * Forests too deep to lay out this way (over MAX_PERFECT_DEPTH, or too
 * many slots) are walked node by node.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "gbtree.h"
#include "mlpipe/buf.h"

#define BLOCK_SHIFT 7
#define BLOCK (1 << BLOCK_SHIFT)	/* rows scored together: 128 rows of 20 features are 10 KB, at home in L1 */
#define MAX_PERFECT_DEPTH 12
#define MAX_PERFECT_SLOTS (1u << 23)	/* leaf slots over the whole forest */
#define DEFAULT_LEFT_BIT 0x80000000u

enum kernel { KERNEL_PORTABLE, KERNEL_AVX2, KERNEL_AVX512 };

struct gb_predictor {
	struct gb_forest forest;
	double base_margin;
	int perfect;
	enum kernel kernel;
	/* the perfect layout: per tree its depth and where its nodes and leaves start */
	uint32_t *depth;
	size_t *node_at, *leaf_at;
	uint32_t *code;		/* feature index | DEFAULT_LEFT_BIT (read as int32 by the kernel) */
	float *threshold;
	float *leaf;		/* leaf values; rows sum them in float, from the base margin, as XGBoost does */
};

static enum kernel chosen_kernel(void);

const struct gb_forest *gb_predictor_forest(const struct gb_predictor *p)
{
	return &p->forest;
}

void gb_predictor_free(struct gb_predictor *p)
{
	if (!p)
		return;
	gb_forest_free(&p->forest);
	free(p->depth);
	free(p->node_at);
	free(p->leaf_at);
	free(p->code);
	free(p->threshold);
	free(p->leaf);
	free(p);
}

/* Copy source node i of t into slot k (depth d) of the perfect layout of depth D. */
static void lay_out(const struct gb_tree *t, int32_t i, size_t k, uint32_t d, uint32_t D, uint32_t *code,
		    float *threshold, float *leaf)
{
	if (d == D) {
		leaf[k - (((size_t)1 << D) - 1)] = t->cond[i];
		return;
	}
	if (t->left[i] < 0) {	/* a leaf above the bottom: in both halves below */
		code[k] = 0;
		threshold[k] = 0;
		lay_out(t, i, 2 * k + 1, d + 1, D, code, threshold, leaf);
		lay_out(t, i, 2 * k + 2, d + 1, D, code, threshold, leaf);
		return;
	}
	code[k] = (uint32_t)t->feature[i] | (t->default_left[i] ? DEFAULT_LEFT_BIT : 0);
	threshold[k] = t->cond[i];
	lay_out(t, t->left[i], 2 * k + 1, d + 1, D, code, threshold, leaf);
	lay_out(t, t->right[i], 2 * k + 2, d + 1, D, code, threshold, leaf);
}

static int flatten(struct gb_predictor *p, struct ml_err *err)
{
	const struct gb_forest *f = &p->forest;
	size_t slots = 0;
	p->depth = ml_calloc(f->ntrees + 1, sizeof *p->depth, err);
	p->node_at = ml_calloc(f->ntrees + 1, sizeof *p->node_at, err);
	p->leaf_at = ml_calloc(f->ntrees + 1, sizeof *p->leaf_at, err);
	if (!p->depth || !p->node_at || !p->leaf_at)
		return -1;
	for (size_t k = 0; k < f->ntrees; k++) {
		size_t d = gb_tree_depth(&f->trees[k]);
		if (d > MAX_PERFECT_DEPTH)
			return 0;	/* walked node by node */
		p->depth[k] = (uint32_t)d;
		p->node_at[k + 1] = p->node_at[k] + ((size_t)1 << d) - 1;
		p->leaf_at[k + 1] = p->leaf_at[k] + ((size_t)1 << d);
		slots += (size_t)1 << d;
		if (slots > MAX_PERFECT_SLOTS)
			return 0;
	}
	size_t nodes = p->node_at[f->ntrees], leaves = p->leaf_at[f->ntrees];
	/* + 32: the vector kernels load a level's nodes, and a tree's leaves, up to 32 at a time */
	p->code = ml_calloc(nodes + 32, sizeof *p->code, err);
	p->threshold = ml_calloc(nodes + 32, sizeof *p->threshold, err);
	p->leaf = ml_calloc(leaves + 64, sizeof *p->leaf, err);
	if (!p->code || !p->threshold || !p->leaf)
		return -1;
	for (size_t k = 0; k < f->ntrees; k++)
		lay_out(&f->trees[k], 0, 0, 0, p->depth[k], p->code + p->node_at[k], p->threshold + p->node_at[k],
			p->leaf + p->leaf_at[k]);
	p->perfect = 1;
	return 0;
}

struct gb_predictor *gb_predictor_new(struct gb_forest *f, struct ml_err *err)
{
	struct gb_predictor *p = ml_calloc(1, sizeof *p, err);
	if (!p) {
		gb_forest_free(f);
		return NULL;
	}
	p->forest = *f;
	memset(f, 0, sizeof *f);
	p->base_margin = gb_base_margin(&p->forest.objective, p->forest.base_score);
	p->kernel = chosen_kernel();
	if (flatten(p, err) < 0) {
		gb_predictor_free(p);
		return NULL;
	}
	return p;
}

/* ---- the kernel ---- */

/*
 * Add each tree's leaf to acc[r] for the n (at most BLOCK) rows of xf (n x p floats,
 * row-major; rows past the data are zeros).  The portable kernel: indices
 * are 32-bit and the loops branch-free, so the compiler vectorizes what it
 * can; the steps of different rows are independent, so the CPU overlaps them.
 */
static void score_block(const struct gb_predictor *pr, const float *xf, const int32_t *row_at, int n,
			int has_nan, float *acc)
{
	int32_t idx[BLOCK];
	for (size_t k = 0; k < pr->forest.ntrees; k++) {
		const int32_t *code = (const int32_t *)pr->code + pr->node_at[k];
		const float *thr = pr->threshold + pr->node_at[k];
		uint32_t D = pr->depth[k];
		for (int r = 0; r < n; r++)
			idx[r] = 0;
		for (uint32_t d = 0; d < D; d++) {
			if (has_nan) {
				for (int r = 0; r < n; r++) {
					int32_t c = code[idx[r]];
					float v = xf[row_at[r] + (c & 0x7fffffff)];
					int32_t right = v < thr[idx[r]] ? 0 : 1;
					right ^= (v != v) & (int32_t)((uint32_t)c >> 31);	/* NaN: left if default_left */
					idx[r] = 2 * idx[r] + 1 + right;
				}
			} else {
				for (int r = 0; r < n; r++) {
					int32_t c = code[idx[r]] & 0x7fffffff;
					idx[r] = 2 * idx[r] + 1 + (xf[row_at[r] + c] < thr[idx[r]] ? 0 : 1);
				}
			}
		}
		const float *leaf = pr->leaf + pr->leaf_at[k] - (((size_t)1 << D) - 1);
		for (int r = 0; r < n; r++)
			acc[r] += leaf[idx[r]];
	}
}

#if defined(__x86_64__)
/*
 * The same steps eight rows at a time with AVX2: the node's code and
 * threshold (from registers for the top six depths, 32 nodes, by permutes
 * and blends; gathered below), then the row's feature, gathered.  Chosen at load when the CPU has
 * AVX2; gives the same bits as the portable kernel (same float compares,
 * same order of additions).
 */
/*
 * Entry rel (0 to 8 * tables - 1) of up to four 8-entry tables in registers:
 * permutes, then blends on rel's bits 3 (high8) and 4 (high16).
 */
__attribute__((target("avx2"))) static inline __m256i lookup(const __m256i *t, int tables, __m256i rel,
							    __m256i high8, __m256i high16)
{
	__m256i lo = _mm256_permutevar8x32_epi32(t[0], rel);
	if (tables == 1)
		return lo;
	lo = _mm256_blendv_epi8(lo, _mm256_permutevar8x32_epi32(t[1], rel), high8);
	if (tables == 2)
		return lo;
	__m256i hi = _mm256_blendv_epi8(_mm256_permutevar8x32_epi32(t[2], rel),
					_mm256_permutevar8x32_epi32(t[3], rel), high8);
	return _mm256_blendv_epi8(lo, hi, high16);
}

__attribute__((target("avx2"))) static inline __m256i bit_set(__m256i v, int bit)
{
	return _mm256_cmpgt_epi32(_mm256_and_si256(v, _mm256_set1_epi32(bit)), _mm256_setzero_si256());
}

__attribute__((target("avx2"))) static void score_block_avx2(const struct gb_predictor *pr, const float *xf,
								  const int32_t *row_at, int n, int has_nan, float *acc)
{
	int groups = (n + 7) / 8;	/* a short block (one request's rows) takes only its groups */
	__m256i idx[BLOCK / 8];
	__m256 sum[BLOCK / 8];
	for (int g = 0; g < groups; g++)
		sum[g] = _mm256_loadu_ps(acc + 8 * g);	/* acc holds BLOCK floats: whole groups are in it */
	const __m256i one = _mm256_set1_epi32(1), feature_bits = _mm256_set1_epi32(0x7fffffff);
	for (size_t k = 0; k < pr->forest.ntrees; k++) {
		const int *code = (const int *)pr->code + pr->node_at[k];
		const float *thr = pr->threshold + pr->node_at[k];
		uint32_t D = pr->depth[k];
		for (int g = 0; g < groups; g++)
			idx[g] = _mm256_setzero_si256();
		for (uint32_t d = 0; d < D; d++) {
			/* the top six depths have at most 32 nodes: four registers hold them, no gather */
			int tables = d <= 5 ? (d < 3 ? 1 : 1 << (d - 3)) : 0;
			int base = (1 << d) - 1;
			__m256i codes[4], thrs[4];
			for (int t = 0; t < tables; t++) {
				codes[t] = _mm256_loadu_si256((const __m256i *)(code + base + 8 * t));
				thrs[t] = _mm256_loadu_si256((const __m256i *)(thr + base + 8 * t));
			}
			__m256i first = _mm256_set1_epi32(base);
			for (int g = 0; g < groups; g++) {
				__m256i c;
				__m256 t;
				if (tables) {
					__m256i rel = _mm256_sub_epi32(idx[g], first);
					__m256i high8 = tables > 1 ? bit_set(rel, 8) : rel;
					__m256i high16 = tables > 2 ? bit_set(rel, 16) : rel;	/* unused below 3 tables */
					c = lookup(codes, tables, rel, high8, high16);
					t = _mm256_castsi256_ps(lookup(thrs, tables, rel, high8, high16));
				} else {
					c = _mm256_i32gather_epi32(code, idx[g], 4);
					t = _mm256_i32gather_ps(thr, idx[g], 4);
				}
				__m256i at = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(row_at + 8 * g)),
							      _mm256_and_si256(c, feature_bits));
				__m256 v = _mm256_i32gather_ps(xf, at, 4);
				__m256i right = _mm256_andnot_si256(_mm256_castps_si256(_mm256_cmp_ps(v, t, _CMP_LT_OQ)), one);
				if (has_nan) {
					__m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
					right = _mm256_xor_si256(right, _mm256_and_si256(nan, _mm256_srli_epi32(c, 31)));
				}
				idx[g] = _mm256_add_epi32(_mm256_add_epi32(_mm256_slli_epi32(idx[g], 1), one), right);
			}
		}
		/* each row's leaf, gathered, added in tree order as the portable kernel does */
		const float *leaf = pr->leaf + pr->leaf_at[k];
		__m256i leaf_first = _mm256_set1_epi32((1 << D) - 1);
		for (int g = 0; g < groups; g++)
			sum[g] = _mm256_add_ps(sum[g], _mm256_i32gather_ps(leaf, _mm256_sub_epi32(idx[g], leaf_first), 4));
	}
	for (int g = 0; g < groups; g++)
		_mm256_storeu_ps(acc + 8 * g, sum[g]);
}

/*
 * Sixteen rows a step with AVX-512, over the block stored feature-major
 * (xf[f * BLOCK + r]): at the root every row reads one feature, a plain
 * load; a level of up to 32 nodes is looked up in one or two registers
 * (vpermd, vpermt2d), deeper levels are gathered; a tree's leaves, up to 64,
 * come from registers too.  Same compares and order of additions as the
 * portable kernel, so the same bits.
 */
/* Rows go right unless v < t; a missing value goes to its default side. */
__attribute__((target("avx512f"))) static inline __m512i step_avx512(__m512i rel, __m512 v, __m512 t, __m512i c,
								     int has_nan)
{
	__mmask16 right = (__mmask16)~_mm512_cmp_ps_mask(v, t, _CMP_LT_OQ);
	if (has_nan)
		right ^= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) & _mm512_test_epi32_mask(c, _mm512_set1_epi32(INT32_MIN));
	__m512i twice = _mm512_add_epi32(rel, rel);
	return _mm512_mask_add_epi32(twice, right, twice, _mm512_set1_epi32(1));
}

/* The leaf of each row (rel: its leaf's number, under 2^D) of a tree of depth D. */
__attribute__((target("avx512f"))) static inline __m512 leaf_avx512(const float *leaf, uint32_t D, __m512i rel)
{
	if (D <= 4)
		return _mm512_permutexvar_ps(rel, _mm512_loadu_ps(leaf));
	__m512 lo = _mm512_permutex2var_ps(_mm512_loadu_ps(leaf), rel, _mm512_loadu_ps(leaf + 16));
	if (D == 5)
		return lo;
	if (D == 6) {
		__m512 hi = _mm512_permutex2var_ps(_mm512_loadu_ps(leaf + 32), rel, _mm512_loadu_ps(leaf + 48));
		return _mm512_mask_blend_ps(_mm512_test_epi32_mask(rel, _mm512_set1_epi32(32)), lo, hi);
	}
	return _mm512_i32gather_ps(rel, leaf, 4);
}

/*
 * A level of 2^d nodes, d <= LOADED_LEVELS: each node reads one feature, so
 * the 2^d columns are loaded whole and each row's value picked from them by
 * the bits of its node (blends): for up to 8 nodes cheaper than a gather
 * (kernel bench: 4.6M rows/s gathering below the root, 7.0M loading levels
 * 1 to 3, 6.9M also level 4).
 */
#define LOADED_LEVELS 3

__attribute__((target("avx512f"), always_inline)) static inline __m512 pick_loaded(const float *xf,
										     const int32_t *code, uint32_t d,
										     int g, __m512i rel)
{
	__m512 v[1 << LOADED_LEVELS];
	for (int k = 0; k < 1 << d; k++)
		v[k] = _mm512_loadu_ps(xf + ((size_t)(code[k] & 0x7fffffff) << BLOCK_SHIFT) + 16 * g);
	for (uint32_t bit = 0; bit < d; bit++) {
		__mmask16 right = _mm512_test_epi32_mask(rel, _mm512_set1_epi32(1 << bit));
		for (int k = 0; k < 1 << (d - bit - 1); k++)
			v[k] = _mm512_mask_blend_ps(right, v[2 * k], v[2 * k + 1]);
	}
	return v[0];
}

__attribute__((target("avx512f"))) static void level_by_loads(const int32_t *code, const float *thr, uint32_t d,
								  const float *xf, int groups, int has_nan, __m512i *rel)
{
	__m512i ct = _mm512_loadu_si512(code);
	__m512 tt = _mm512_loadu_ps(thr);
	for (int g = 0; g < groups; g++) {
		__m512 v = d == 1 ? pick_loaded(xf, code, 1, g, rel[g])
			 : d == 2 ? pick_loaded(xf, code, 2, g, rel[g])
				  : pick_loaded(xf, code, 3, g, rel[g]);	/* constant d: unrolled */
		rel[g] = step_avx512(rel[g], v, _mm512_permutexvar_ps(rel[g], tt), _mm512_permutexvar_epi32(rel[g], ct),
				     has_nan);
	}
}

__attribute__((target("avx512f"))) static void score_block_avx512(const struct gb_predictor *pr, const float *xf,
								      int n, int has_nan, float *acc)
{
	enum { GROUPS = BLOCK / 16 };
	int groups = (n + 15) / 16;	/* a short block (one request's rows) takes only its groups */
	__m512i rel[GROUPS], lane[GROUPS];	/* rel: the row's node within its level */
	__m512 sum[GROUPS];
	const __m512i feature_bits = _mm512_set1_epi32(0x7fffffff);
	for (int g = 0; g < groups; g++) {
		sum[g] = _mm512_loadu_ps(acc + 16 * g);	/* acc holds BLOCK floats: whole groups are in it */
		lane[g] = _mm512_add_epi32(_mm512_set1_epi32(16 * g),
					   _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
	}
	for (size_t k = 0; k < pr->forest.ntrees; k++) {
		const int32_t *code = (const int32_t *)pr->code + pr->node_at[k];
		const float *thr = pr->threshold + pr->node_at[k];
		uint32_t D = pr->depth[k];
		if (D > 0) {	/* the root: one feature for every row */
			__m512i c = _mm512_set1_epi32(code[0]);
			__m512 t = _mm512_set1_ps(thr[0]);
			const float *column = xf + ((size_t)(code[0] & 0x7fffffff) << BLOCK_SHIFT);
			for (int g = 0; g < groups; g++)
				rel[g] = step_avx512(_mm512_setzero_si512(), _mm512_loadu_ps(column + 16 * g), t, c, has_nan);
		} else {
			for (int g = 0; g < groups; g++)
				rel[g] = _mm512_setzero_si512();
		}
		uint32_t d = 1;
		for (; d < D && d <= LOADED_LEVELS; d++)
			level_by_loads(code + ((1 << d) - 1), thr + ((1 << d) - 1), d, xf, groups, has_nan, rel);
		for (; d < D; d++) {
			const int32_t *level_code = code + ((1 << d) - 1);
			const float *level_thr = thr + ((1 << d) - 1);
			__m512i c0 = _mm512_loadu_si512(level_code), c1 = _mm512_loadu_si512(level_code + 16);
			__m512 t0 = _mm512_loadu_ps(level_thr), t1 = _mm512_loadu_ps(level_thr + 16);
			for (int g = 0; g < groups; g++) {
				__m512i c;
				__m512 t;
				if (d <= 4) {	/* up to 16 nodes: one register */
					c = _mm512_permutexvar_epi32(rel[g], c0);
					t = _mm512_permutexvar_ps(rel[g], t0);
				} else if (d == 5) {	/* 32 nodes: two */
					c = _mm512_permutex2var_epi32(c0, rel[g], c1);
					t = _mm512_permutex2var_ps(t0, rel[g], t1);
				} else {
					c = _mm512_i32gather_epi32(rel[g], level_code, 4);
					t = _mm512_i32gather_ps(rel[g], level_thr, 4);
				}
				__m512i at = _mm512_add_epi32(_mm512_slli_epi32(_mm512_and_si512(c, feature_bits), BLOCK_SHIFT),
							      lane[g]);
				rel[g] = step_avx512(rel[g], _mm512_i32gather_ps(at, xf, 4), t, c, has_nan);
			}
		}
		const float *leaf = pr->leaf + pr->leaf_at[k];
		for (int g = 0; g < groups; g++)
			sum[g] = _mm512_add_ps(sum[g], leaf_avx512(leaf, D, rel[g]));
	}
	for (int g = 0; g < groups; g++)
		_mm512_storeu_ps(acc + 16 * g, sum[g]);
}

static enum kernel best_kernel(void)
{
	if (__builtin_cpu_supports("avx512f"))
		return KERNEL_AVX512;
	return __builtin_cpu_supports("avx2") ? KERNEL_AVX2 : KERNEL_PORTABLE;
}
#else
static void score_block_avx2(const struct gb_predictor *pr, const float *xf, const int32_t *row_at, int n,
			     int has_nan, float *acc)
{
	score_block(pr, xf, row_at, n, has_nan, acc);
}

static void score_block_avx512(const struct gb_predictor *pr, const float *xf, int n, int has_nan, float *acc)
{
	(void)pr, (void)xf, (void)n, (void)has_nan, (void)acc;
}

static enum kernel best_kernel(void)
{
	return KERNEL_PORTABLE;
}
#endif

/* The best kernel the CPU has, or a lower one named by MLPIPE_KERNEL (tests compare them). */
static enum kernel chosen_kernel(void)
{
	enum kernel best = best_kernel(), want = best;
	const char *name = getenv("MLPIPE_KERNEL");
	if (name && strcmp(name, "portable") == 0)
		want = KERNEL_PORTABLE;
	else if (name && strcmp(name, "avx2") == 0)
		want = KERNEL_AVX2;
	return want < best ? want : best;
}

/* Node by node, for forests too deep to flatten. */
static double walk_tree(const struct gb_tree *t, const float *row)
{
	int32_t i = 0;
	while (t->left[i] >= 0) {
		float v = row[t->feature[i]];
		i = isnan(v) ? (t->default_left[i] ? t->left[i] : t->right[i])
			     : v < t->cond[i] ? t->left[i] : t->right[i];
	}
	return t->cond[i];
}

static void walk_block(const struct gb_predictor *pr, const float *xf, size_t p, size_t n, float *acc)
{
	for (size_t k = 0; k < pr->forest.ntrees; k++)
		for (size_t r = 0; r < n; r++)
			acc[r] += (float)walk_tree(&pr->forest.trees[k], xf + r * p);
}

/* Rows [r0, r0 + n) of x to float, zeros after them up to the next 8 (the AVX2 kernel's width); whether any is missing. */
static int to_float(const struct ml_matrix *x, size_t r0, size_t n, float *xf)
{
	size_t len = n * x->ncols;
	const double *v = x->v + r0 * x->ncols;
	int nan = 0;
	for (size_t i = 0; i < len; i++) {
		xf[i] = (float)v[i];
		nan |= xf[i] != xf[i];
	}
	size_t padded = (n + 7) / 8 * 8;
	memset(xf + len, 0, (padded - n) * x->ncols * sizeof *xf);
	return nan;
}

/* The same, feature-major (xf[f * BLOCK + r]), for the AVX-512 kernel; zeros up to the next 16 rows. */
static int to_float_by_feature(const struct ml_matrix *x, size_t r0, size_t n, float *xf)
{
	size_t p = x->ncols, padded = (n + 15) / 16 * 16;
	const double *v = x->v + r0 * p;
	int nan = 0;
	for (size_t j = 0; j < p; j++) {
		float *column = xf + j * BLOCK;
		for (size_t r = 0; r < n; r++) {
			column[r] = (float)v[r * p + j];
			nan |= column[r] != column[r];
		}
		for (size_t r = n; r < padded; r++)
			column[r] = 0;
	}
	return nan;
}

/* Adds each tree's leaf to acc[r], r < n (at most BLOCK), for rows [r0, r0 + n) of x. */
static void score_rows(const struct gb_predictor *pr, const struct ml_matrix *x, size_t r0, size_t n, float *xf,
		       const int32_t *row_at, float *acc)
{
	if (!pr->perfect) {
		to_float(x, r0, n, xf);
		walk_block(pr, xf, x->ncols, n, acc);
	} else if (pr->kernel == KERNEL_AVX512) {
		int nan = to_float_by_feature(x, r0, n, xf);
		score_block_avx512(pr, xf, (int)n, nan, acc);
	} else {
		int nan = to_float(x, r0, n, xf);
		if (pr->kernel == KERNEL_AVX2)
			score_block_avx2(pr, xf, row_at, (int)n, nan, acc);
		else
			score_block(pr, xf, row_at, (int)n, nan, acc);
	}
}

int gb_predict(const struct gb_predictor *pr, const struct ml_matrix *x, double *out, struct ml_err *err)
{
	if (x->ncols < pr->forest.num_feature)
		return ml_err_set(err, ML_ERR_DATA, "the model uses %zu features, the data has %zu",
				  pr->forest.num_feature, x->ncols);
	if ((uint64_t)BLOCK * x->ncols > INT32_MAX)
		return ml_err_set(err, ML_ERR_DATA, "%zu features are too many to score", x->ncols);
	float *xf = ml_malloc(BLOCK * (x->ncols ? x->ncols : 1) * sizeof *xf, err);
	if (!xf)
		return -1;
	int32_t row_at[BLOCK];
	float acc[BLOCK];
	for (int r = 0; r < BLOCK; r++)
		row_at[r] = r * (int32_t)x->ncols;
	for (size_t r0 = 0; r0 < x->nrows; r0 += BLOCK) {
		size_t n = x->nrows - r0 < BLOCK ? x->nrows - r0 : BLOCK;
		for (size_t r = 0; r < n; r++)
			acc[r] = (float)pr->base_margin;
		score_rows(pr, x, r0, n, xf, row_at, acc);
		for (size_t r = 0; r < n; r++)
			out[r0 + r] = gb_link(&pr->forest.objective, acc[r]);
	}
	free(xf);
	return 0;
}

double gb_walk_tree(const struct gb_tree *t, const float *row)
{
	return walk_tree(t, row);
}
