/*
 * kll.c - the KLL quantile sketch: a stack of compactors.
 *
 * Level h holds values of weight 2^h.  When the sketch holds more than its
 * capacity, the lowest full level is sorted and every other value (starting
 * at a random offset) moves up a level with double weight.  Capacities shrink
 * geometrically (factor 2/3) going down from the top level, which is what
 * bounds the error at about 1.65/k of the rank with total space ~3k, plus
 * level 0's buffer of k/2 (see capacity()).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/buf.h"
#include "mlpipe/kll.h"
#include "mlpipe/num.h"

#define MAX_LEVELS 64
#define MIN_K 8
#define MAX_K 65536

struct level {
	double *v;
	size_t n, alloc;
	int sorted;		/* levels above 0 stay sorted: compaction merges into them */
};

struct ml_kll {
	uint32_t k;
	uint64_t n;
	double min, max;
	size_t nlevels;
	struct level levels[MAX_LEVELS];
	uint64_t rng;
	int compacted;
	size_t caps[MAX_LEVELS];	/* capacity of each level, cached: they change only with nlevels */
	size_t cap0, total_cap;
	size_t held;			/* values held over all levels, kept up to date */
};

static void set_nlevels(struct ml_kll *s, size_t nlevels);

struct ml_kll *ml_kll_new(uint32_t k, struct ml_err *err)
{
	if (k < MIN_K || k > MAX_K) {
		ml_err_set(err, ML_ERR_USAGE, "KLL sketch size k must be %d..%d, got %u", MIN_K, MAX_K, k);
		return NULL;
	}
	struct ml_kll *s = ml_calloc(1, sizeof *s, err);
	if (!s)
		return NULL;
	s->k = k;
	s->min = INFINITY;
	s->max = -INFINITY;
	s->rng = 0x853c49e6748fea9bull;	/* fixed: same input, same sketch */
	set_nlevels(s, 1);
	return s;
}

void ml_kll_free(struct ml_kll *s)
{
	if (!s)
		return;
	for (size_t h = 0; h < MAX_LEVELS; h++)
		free(s->levels[h].v);
	free(s);
}

static int coin(struct ml_kll *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (int)(s->rng >> 63);
}

/*
 * Level 0 is a buffer of at least k/2 values: sorting values a thousand at a
 * time, rather than the few dozen that the geometric capacity leaves level 0
 * of a long stream, makes each value's share of a sort's fixed cost small,
 * and fewer compactions of weight 1 only lower the error.
 */
static size_t capacity(const struct ml_kll *s, size_t h)
{
	double c = s->k * pow(2.0 / 3.0, (double)(s->nlevels - 1 - h));	/* cached in caps[] */
	size_t cap = (size_t)ceil(c);
	if (h == 0 && cap < s->k / 2)
		cap = s->k / 2;
	return cap < 2 ? 2 : cap;
}

static void set_nlevels(struct ml_kll *s, size_t nlevels)
{
	s->nlevels = nlevels;
	s->total_cap = 0;
	for (size_t h = 0; h < nlevels; h++)
		s->total_cap += s->caps[h] = capacity(s, h);
	s->cap0 = s->caps[0];
}

static int reserve(struct level *l, size_t extra, struct ml_err *err)
{
	if (l->n + extra <= l->alloc)
		return 0;
	size_t alloc = l->alloc ? l->alloc : 16;
	while (alloc < l->n + extra)
		alloc *= 2;
	double *v = ml_realloc_array(l->v, alloc, sizeof *v, err);
	if (!v)
		return -1;
	l->v = v;
	l->alloc = alloc;
	return 0;
}

/*
 * Add count values src[offset], src[offset + 2], ... (ascending) to a
 * level: merged from the back when the level is sorted, which keeps it
 * sorted without a sort, else appended.
 */
static int add_run(struct level *l, const double *src, size_t offset, size_t count, struct ml_err *err)
{
	if (reserve(l, count, err) < 0)
		return -1;
	if (l->n > 0 && !l->sorted) {
		for (size_t j = 0; j < count; j++)
			l->v[l->n + j] = src[2 * j + offset];
		l->n += count;
		return 0;
	}
	/* Branch-free while both runs last: which run gives the next value is a coin flip to the predictor. */
	size_t i = l->n, j = count, k = l->n + count;
	double *v = l->v;
	while (i > 0 && j > 0) {
		double a = v[i - 1], x = src[2 * (j - 1) + offset];
		size_t from_level = a > x;
		v[--k] = from_level ? a : x;
		i -= from_level;
		j -= 1 - from_level;
	}
	while (j > 0) {
		j--;
		v[--k] = src[2 * j + offset];
	}
	l->n += count;
	l->sorted = 1;
	return 0;
}

static int push(struct level *l, double x, struct ml_err *err)
{
	l->sorted = l->n == 0;
	if (l->n == l->alloc) {
		size_t alloc = l->alloc ? l->alloc * 2 : 16;
		double *v = ml_realloc_array(l->v, alloc, sizeof *v, err);
		if (!v)
			return -1;
		l->v = v;
		l->alloc = alloc;
	}
	l->v[l->n++] = x;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/*
 * A level's array grows to the most it held, and capacities shrink as levels
 * are added above: a long stream would leave every level as large as the top
 * one once was, memory growing with the log of the stream.  An emptied level
 * gives back what is far beyond its capacity.
 */
static void shrink(struct level *l, size_t cap)
{
	size_t want = 2 * cap > 16 ? 2 * cap : 16;
	if (l->alloc <= 2 * want)
		return;
	double *v = realloc(l->v, want * sizeof *v);
	if (v) {
		l->v = v;
		l->alloc = want;
	}
}

/* Halve level h into level h + 1; an odd value out stays at level h. */
static int compact(struct ml_kll *s, size_t h, struct ml_err *err)
{
	if (h + 1 == s->nlevels) {
		if (s->nlevels == MAX_LEVELS)
			return ml_err_set(err, ML_ERR_INTERNAL, "KLL sketch out of levels");
		set_nlevels(s, s->nlevels + 1);
	}
	struct level *l = &s->levels[h];
	if (!l->sorted)
		ml_sort_doubles(l->v, l->n);
	size_t pairs = l->n / 2, offset = (size_t)coin(s);
	if (add_run(&s->levels[h + 1], l->v, offset, pairs, err) < 0)
		return -1;
	if (l->n % 2) {
		l->v[0] = l->v[l->n - 1];
		l->n = 1;
	} else {
		l->n = 0;
	}
	l->sorted = 1;
	shrink(l, s->caps[h]);
	s->held -= pairs;	/* 2 * pairs values left level h, pairs arrived at h + 1 */
	s->compacted = 1;
	return 0;
}

static int compress(struct ml_kll *s, struct ml_err *err)
{
	while (s->held >= s->total_cap) {
		size_t h = 0;
		while (h < s->nlevels && s->levels[h].n < s->caps[h])
			h++;
		if (h == s->nlevels)
			h = 0;	/* capacities shifted with a new level: level 0 is always safe */
		if (compact(s, h, err) < 0)
			return -1;
	}
	return 0;
}

int ml_kll_add(struct ml_kll *s, double x, struct ml_err *err)
{
	if (isnan(x))
		return 0;
	if (push(&s->levels[0], x, err) < 0)
		return -1;
	s->n++;
	s->held++;
	if (x < s->min)
		s->min = x;
	if (x > s->max)
		s->max = x;
	/* Only level 0 grows between compressions, and compress() acts only when the sketch is full. */
	if (s->levels[0].n < s->cap0 || s->held < s->total_cap)
		return 0;
	return compress(s, err);
}

int ml_kll_add_n(struct ml_kll *s, const double *x, size_t n, struct ml_err *err)
{
	struct level *l0 = &s->levels[0];
	size_t i = 0;
	while (i < n) {
		/* Values that go in before ml_kll_add() would call compress(): at least one. */
		size_t room = s->cap0 > l0->n ? s->cap0 - l0->n : 0;
		if (s->total_cap > s->held && s->total_cap - s->held > room)
			room = s->total_cap - s->held;
		room = room ? room : 1;
		if (reserve(l0, room, err) < 0)
			return -1;
		size_t before = l0->n, added = 0;
		double lo = s->min, hi = s->max;
		for (; i < n && added < room; i++) {
			double v = x[i];
			if (isnan(v))
				continue;
			l0->v[before + added++] = v;
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
		if (!added)
			break;
		l0->n += added;
		l0->sorted = l0->n == 1;	/* as push() leaves it */
		s->min = lo;
		s->max = hi;
		s->n += added;
		s->held += added;
		if (l0->n >= s->cap0 && s->held >= s->total_cap && compress(s, err) < 0)
			return -1;
	}
	return 0;
}

int ml_kll_merge(struct ml_kll *dst, const struct ml_kll *src, struct ml_err *err)
{
	if (dst->k != src->k)
		return ml_err_set(err, ML_ERR_DATA, "cannot merge KLL sketches of different sizes (k %u and %u)",
				  dst->k, src->k);
	if (src->nlevels > dst->nlevels)
		set_nlevels(dst, src->nlevels);
	for (size_t h = 0; h < src->nlevels; h++)
		for (size_t i = 0; i < src->levels[h].n; i++)
			if (push(&dst->levels[h], src->levels[h].v[i], err) < 0)
				return -1;
	dst->held += src->held;
	dst->n += src->n;
	dst->compacted |= src->compacted;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	return compress(dst, err);
}

uint64_t ml_kll_count(const struct ml_kll *s)
{
	return s->n;
}

double ml_kll_min(const struct ml_kll *s)
{
	return s->n ? s->min : NAN;
}

double ml_kll_max(const struct ml_kll *s)
{
	return s->n ? s->max : NAN;
}

int ml_kll_is_exact(const struct ml_kll *s)
{
	return !s->compacted;
}

struct weighted {
	double v;
	uint64_t w;
};

static int cmp_weighted(const void *a, const void *b)
{
	return cmp_double(&((const struct weighted *)a)->v, &((const struct weighted *)b)->v);
}

/* All held values with their weights, sorted; caller frees. */
static struct weighted *sorted_items(const struct ml_kll *s, size_t *n)
{
	struct weighted *items = malloc((s->held ? s->held : 1) * sizeof *items);
	if (!items)
		return NULL;
	*n = 0;
	for (size_t h = 0; h < s->nlevels; h++)
		for (size_t i = 0; i < s->levels[h].n; i++)
			items[(*n)++] = (struct weighted){ s->levels[h].v[i], (uint64_t)1 << h };
	qsort(items, *n, sizeof *items, cmp_weighted);
	return items;
}

static double exact_quantile(const struct weighted *items, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t lo = (size_t)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
	double frac = pos - (double)lo;
	return items[lo].v + (items[hi].v - items[lo].v) * frac;
}

double ml_kll_quantile(const struct ml_kll *s, double q)
{
	size_t n;
	if (!s->n || isnan(q))
		return NAN;
	q = q < 0 ? 0 : q > 1 ? 1 : q;
	if (q == 0)
		return s->min;
	if (q == 1)
		return s->max;
	struct weighted *items = sorted_items(s, &n);
	if (!items)
		return NAN;
	double result;
	if (!s->compacted) {
		result = exact_quantile(items, n, q);
	} else {
		uint64_t total = 0, cum = 0;
		for (size_t i = 0; i < n; i++)
			total += items[i].w;
		double target = q * (double)total;
		size_t i = 0;
		while (i + 1 < n && (double)(cum + items[i].w) < target)
			cum += items[i++].w;
		result = items[i].v;
	}
	free(items);
	return result;
}

double ml_kll_cdf(const struct ml_kll *s, double x)
{
	uint64_t total = 0, below = 0;
	if (!s->n)
		return NAN;
	for (size_t h = 0; h < s->nlevels; h++)
		for (size_t i = 0; i < s->levels[h].n; i++) {
			total += (uint64_t)1 << h;
			if (s->levels[h].v[i] <= x)
				below += (uint64_t)1 << h;
		}
	return (double)below / (double)total;
}

void ml_kll_visit(const struct ml_kll *s, void (*fn)(double v, uint64_t w, void *arg), void *arg)
{
	for (size_t h = 0; h < s->nlevels; h++)
		for (size_t i = 0; i < s->levels[h].n; i++)
			fn(s->levels[h].v[i], (uint64_t)1 << h, arg);
}

json_t *ml_kll_to_json(const struct ml_kll *s)
{
	json_t *levels = json_array();
	for (size_t h = 0; levels && h < s->nlevels; h++) {
		json_t *arr = json_array();
		for (size_t i = 0; arr && i < s->levels[h].n; i++)
			json_array_append_new(arr, json_real(s->levels[h].v[i]));
		json_array_append_new(levels, arr);
	}
	return json_pack("{s:i, s:I, s:f, s:f, s:b, s:o}", "k", (json_int_t)s->k, "n", (json_int_t)s->n, "min",
			 s->n ? s->min : 0.0, "max", s->n ? s->max : 0.0, "exact", !s->compacted, "levels", levels);
}

static int level_from_json(struct ml_kll *s, size_t h, const json_t *arr, const char *what, struct ml_err *err)
{
	if (!json_is_array(arr))
		return ml_err_set(err, ML_ERR_DATA, "%s: KLL level %zu is not an array", what, h);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *v = json_array_get(arr, i);
		if (!json_is_number(v) || !isfinite(json_number_value(v)))
			return ml_err_set(err, ML_ERR_DATA, "%s: KLL level %zu holds a non-number", what, h);
		if (push(&s->levels[h], json_number_value(v), err) < 0)
			return -1;
	}
	return 0;
}

struct ml_kll *ml_kll_from_json(const json_t *j, const char *what, struct ml_err *err)
{
	json_int_t k = 0, n = 0;
	double min = 0, max = 0;
	int exact = 1;
	json_t *levels = NULL;
	json_error_t je;
	if (json_unpack_ex((json_t *)j, &je, 0, "{s:I, s:I, s:F, s:F, s?b, s:o}", "k", &k, "n", &n, "min", &min,
			   "max", &max, "exact", &exact, "levels", &levels) < 0 ||
	    n < 0 || !json_is_array(levels) || json_array_size(levels) == 0 ||
	    json_array_size(levels) > MAX_LEVELS || k < MIN_K || k > MAX_K) {
		ml_err_set(err, ML_ERR_DATA, "%s: malformed KLL sketch", what);
		return NULL;
	}
	struct ml_kll *s = ml_kll_new((uint32_t)k, err);
	if (!s)
		return NULL;
	set_nlevels(s, json_array_size(levels));
	s->n = (uint64_t)n;
	s->min = n ? min : INFINITY;
	s->max = n ? max : -INFINITY;
	s->compacted = !exact;
	uint64_t weight = 0;
	for (size_t h = 0; h < s->nlevels; h++) {
		if (level_from_json(s, h, json_array_get(levels, h), what, err) < 0)
			goto fail;
		weight += (uint64_t)s->levels[h].n << h;
		s->held += s->levels[h].n;
	}
	if (weight != s->n) {
		ml_err_set(err, ML_ERR_DATA, "%s: KLL sketch weights add up to %llu, not n = %llu", what,
			   (unsigned long long)weight, (unsigned long long)s->n);
		goto fail;
	}
	return s;
fail:
	ml_kll_free(s);
	return NULL;
}
