/*
 * bins.c - quantile cuts per feature and the binned training matrix.
 *
 * Values are rounded to float first, as XGBoost does and as scoring
 * compares them, so a threshold learned here sends a row the same way at
 * scoring time.  Each feature's cuts come from its exactly sorted values (a
 * radix sort of the float bits: a few milliseconds per million values):
 * every distinct value is a cut when there are at most max_bin of them,
 * otherwise the values at ranks i * n / max_bin.  A value's bin is the
 * number of cuts at or below it, so splitting after bin b sends v < cuts[b]
 * left; missing values get the code ncuts, a bin of their own, and so each
 * split can learn where they go.  A code is one byte when every feature has
 * at most 256 codes (missing's included), which halves what histograms and
 * partitioning read; otherwise two.
 */
#include <math.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "gbtree.h"
#include "mlpipe/buf.h"
#include "mlpipe/threads.h"

void gb_bins_free(struct gb_bins *b)
{
	if (b->cuts)
		for (size_t j = 0; j < b->nfeatures; j++)
			free(b->cuts[j]);
	free(b->cuts);
	free(b->ncuts);
	free(b->offset);
	free(b->code);
	free(b->column);
	memset(b, 0, sizeof *b);
}

/* Float bits mapped so that unsigned order is numeric order. */
static uint32_t float_key(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u & 0x80000000u ? ~u : u | 0x80000000u;
}

static float key_float(uint32_t u)
{
	u = u & 0x80000000u ? u & 0x7fffffffu : ~u;
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

/* LSD radix sort of n keys, 11 bits a pass; tmp holds n. */
static void radix_sort(uint32_t *keys, uint32_t *tmp, size_t n)
{
	for (int shift = 0; shift < 32; shift += 11) {
		size_t count[2049] = { 0 };
		for (size_t i = 0; i < n; i++)
			count[((keys[i] >> shift) & 2047) + 1]++;
		for (size_t d = 1; d <= 2048; d++)
			count[d] += count[d - 1];
		for (size_t i = 0; i < n; i++)
			tmp[count[(keys[i] >> shift) & 2047]++] = keys[i];
		uint32_t *t = keys;
		keys = tmp;
		tmp = t;
	}
	/* three passes: the sorted keys are in tmp's original buffer; copy back */
	memcpy(tmp, keys, n * sizeof *keys);
}

/* Cuts from sorted values s[0..m): see the top of the file. */
static int cuts_from_sorted(const float *s, size_t m, long max_bin, float **out, uint32_t *nout,
			    struct ml_err *err)
{
	*out = NULL;
	*nout = 0;
	if (m == 0)
		return 0;
	size_t distinct = 1;
	for (size_t i = 1; i < m; i++)
		distinct += s[i] != s[i - 1];
	size_t cap = (distinct < (size_t)max_bin ? distinct : (size_t)max_bin) + 1;
	float *c = ml_malloc(cap * sizeof *c, err);
	if (!c)
		return -1;
	size_t k = 0;
	if (distinct <= (size_t)max_bin) {
		for (size_t i = 1; i < m; i++)
			if (s[i] != s[i - 1])
				c[k++] = s[i];
	} else {
		for (long b = 1; b < max_bin; b++) {
			float v = s[(size_t)((double)b * (double)m / (double)max_bin)];
			if (v > s[0] && (k == 0 || v > c[k - 1]))
				c[k++] = v;
		}
	}
	double last = (double)s[m - 1] + fabs((double)s[m - 1]) + 1e-5;	/* above every value, as XGBoost's */
	c[k++] = last < FLT_MAX ? (float)last : FLT_MAX;
	*out = c;
	*nout = (uint32_t)k;
	return 0;
}

struct build {
	const struct ml_matrix *x;
	struct gb_bins *b;
	float *cols;		/* nfeatures * nrows, column-major */
	uint8_t *has_missing;	/* per feature */
	long max_bin;
	size_t chunk;
};

static int transpose_chunk(size_t c, void *ctx, struct ml_err *err)
{
	(void)err;
	struct build *bd = ctx;
	size_t n = bd->x->nrows, p = bd->x->ncols;
	size_t lo = c * bd->chunk, hi = lo + bd->chunk < n ? lo + bd->chunk : n;
	for (size_t j = 0; j < p; j++) {
		float *col = bd->cols + j * n;
		for (size_t i = lo; i < hi; i++)
			col[i] = (float)bd->x->v[i * p + j];
	}
	return 0;
}

static int feature_cuts(size_t j, void *ctx, struct ml_err *err)
{
	struct build *bd = ctx;
	size_t n = bd->x->nrows;
	uint32_t *keys = ml_malloc(2 * n * sizeof *keys + 1, err);
	if (!keys)
		return -1;
	const float *col = bd->cols + j * n;
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(col[i]))
			keys[m++] = float_key(col[i]);
	bd->has_missing[j] = m < n;
	radix_sort(keys, keys + n, m);
	float *sorted = (float *)(keys + n);	/* the second half is free again */
	for (size_t i = 0; i < m; i++)
		sorted[i] = key_float(keys[i]);
	int rc = cuts_from_sorted(sorted, m, bd->max_bin, &bd->b->cuts[j], &bd->b->ncuts[j], err);
	free(keys);
	return rc;
}

#define SEARCH_GROUP 16

/*
 * out[k] = the number of cuts at or below v[k], at most ncuts - 1, and ncuts
 * for a missing value, for k < n <= SEARCH_GROUP.  The binary searches
 * (branch-free) run in lockstep: each is a chain of dependent loads, and
 * interleaving them lets the loads of one overlap the others'.
 */
static void bins_of(const float *cuts, uint32_t ncuts, const float *v, size_t n, uint32_t *out)
{
	if (ncuts == 0) {	/* a feature with no values: all missing */
		memset(out, 0, n * sizeof *out);
		return;
	}
	uint32_t at[SEARCH_GROUP] = { 0 };
	for (uint32_t len = ncuts; len > 1; len -= len / 2) {
		uint32_t half = len / 2;
		for (size_t k = 0; k < n; k++)
			at[k] = cuts[at[k] + half] <= v[k] ? at[k] + half : at[k];
	}
	for (size_t k = 0; k < n; k++) {
		uint32_t b = at[k] + (cuts[at[k]] <= v[k]);
		out[k] = isnan(v[k]) ? ncuts : b < ncuts ? b : ncuts - 1;
	}
}

static int code_chunk(size_t c, void *ctx, struct ml_err *err)
{
	(void)err;
	struct build *bd = ctx;
	struct gb_bins *b = bd->b;
	size_t n = b->nrows;
	size_t lo = c * bd->chunk, hi = lo + bd->chunk < n ? lo + bd->chunk : n;
	uint32_t code[SEARCH_GROUP];
	for (size_t j = 0; j < b->nfeatures; j++) {
		const float *col = bd->cols + j * n;
		for (size_t i = lo; i < hi; i += SEARCH_GROUP) {
			size_t m = hi - i < SEARCH_GROUP ? hi - i : SEARCH_GROUP;
			bins_of(b->cuts[j], b->ncuts[j], col + i, m, code);
			for (size_t k = 0; k < m; k++) {
				gb_code_set(b->column, b->wide, j * n + i + k, code[k]);
				gb_code_set(b->code, b->wide, (i + k) * b->nfeatures + j, code[k]);
			}
		}
	}
	return 0;
}

/* Whether some feature's codes, its missing code included, need two bytes. */
static int needs_wide(const struct gb_bins *b, const uint8_t *has_missing)
{
	for (size_t j = 0; j < b->nfeatures; j++)
		if (b->ncuts[j] + has_missing[j] > 256)	/* codes 0 .. ncuts - 1, and ncuts if missing */
			return 1;
	return 0;
}

/* The code arrays, one or two bytes a code. */
static int allocate_codes(struct gb_bins *b, struct ml_err *err)
{
	size_t width = b->wide ? sizeof(uint16_t) : sizeof(uint8_t);
	b->code = ml_malloc(b->nrows * b->nfeatures * width + 1, err);
	b->column = ml_malloc(b->nrows * b->nfeatures * width + 1, err);
	return b->code && b->column ? 0 : -1;
}

static int allocate(struct gb_bins *b, size_t n, size_t p, struct ml_err *err)
{
	memset(b, 0, sizeof *b);
	b->nrows = n;
	b->nfeatures = p;
	if (p && n > SIZE_MAX / sizeof(uint16_t) / p)
		return ml_err_set(err, ML_ERR_INTERNAL, "%zu rows of %zu features do not fit in memory", n, p);
	b->cuts = ml_calloc(p + 1, sizeof *b->cuts, err);
	b->ncuts = ml_calloc(p + 1, sizeof *b->ncuts, err);
	b->offset = ml_calloc(p + 1, sizeof *b->offset, err);
	return b->cuts && b->ncuts && b->offset ? 0 : -1;
}

/* The cuts (from a float copy of the features, feature-major), then the codes. */
static int cut_and_code(struct build *bd, struct ml_err *err)
{
	struct gb_bins *b = bd->b;
	size_t n = b->nrows, p = b->nfeatures, chunks = (n + bd->chunk - 1) / bd->chunk;
	if (ml_parallel_for(chunks, n * p, transpose_chunk, bd, err) < 0 ||
	    ml_parallel_for(p, n * p * 8, feature_cuts, bd, err) < 0)
		return -1;
	b->wide = needs_wide(b, bd->has_missing);
	if (allocate_codes(b, err) < 0)
		return -1;
	return ml_parallel_for(chunks, n * p * 8, code_chunk, bd, err);
}

int gb_bins_build(const struct ml_matrix *x, long max_bin, struct gb_bins *b, struct ml_err *err)
{
	size_t n = x->nrows, p = x->ncols;
	if (allocate(b, n, p, err) < 0)
		goto fail;
	struct build bd = { x, b, ml_malloc(n * p * sizeof(float) + 1, err), ml_calloc(p + 1, 1, err), max_bin,
			    65536 };
	int rc = bd.cols && bd.has_missing ? cut_and_code(&bd, err) : -1;
	free(bd.cols);
	free(bd.has_missing);
	if (rc < 0)
		goto fail;
	for (size_t j = 0; j < p; j++) {
		uint64_t next = (uint64_t)b->offset[j] + b->ncuts[j] + 1;	/* + the missing bin */
		if (next > UINT32_MAX)
			return ml_err_set(err, ML_ERR_INTERNAL, "too many histogram bins");
		b->offset[j + 1] = (uint32_t)next;
	}
	return 0;
fail:
	gb_bins_free(b);
	return -1;
}
