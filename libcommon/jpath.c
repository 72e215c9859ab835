/*
 * jpath.c - SageMaker's JSONPath subset for batch-transform filters.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/buf.h"
#include "mlpipe/jpath.h"

#define MAX_ITEMS 4096
#define MAX_MEMBERS 64

static int bad(struct ml_err *err, const char *text, size_t at, const char *why)
{
	return ml_err_set(err, ML_ERR_USAGE,
			  "JSONPath '%s': %s at character %zu (supported: $, $[1:], $[0,-1], $['a','b'], "
			  "$.a.b)", text, why, at + 1);
}

static int parse_long(const char **p, long *v)
{
	char *end;
	errno = 0;
	long x = strtol(*p, &end, 10);
	if (end == *p || errno)
		return -1;
	*v = x;
	*p = end;
	return 0;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

/* 'name' or "name", no escapes. */
static char *quoted(const char **p, struct ml_err *err)
{
	char q = **p;
	const char *end = strchr(*p + 1, q);
	if (!end)
		return NULL;
	size_t n = (size_t)(end - *p - 1);
	char *s = ml_malloc(n + 1, err);
	if (s) {
		memcpy(s, *p + 1, n);
		s[n] = '\0';
	}
	*p = end + 1;
	return s;
}

static int parse_item(const char **pp, struct ml_jitem *it, const char *text, struct ml_err *err)
{
	const char *p = skip_space(*pp);
	memset(it, 0, sizeof *it);
	if (*p == '\'' || *p == '"') {
		it->kind = ML_JITEM_NAME;
		if (!(it->name = quoted(&p, err)))
			return bad(err, text, (size_t)(p - text), "unterminated quoted name");
	} else {
		it->kind = ML_JITEM_INDEX;
		if (*p != ':') {
			if (parse_long(&p, &it->a) < 0)
				return bad(err, text, (size_t)(p - text), "expected an index, a slice or a quoted name");
			it->has_a = 1;
		}
		p = skip_space(p);
		if (*p == ':') {
			it->kind = ML_JITEM_SLICE;
			p = skip_space(p + 1);
			if (*p != ',' && *p != ']') {
				if (parse_long(&p, &it->b) < 0)
					return bad(err, text, (size_t)(p - text), "expected the end of a slice");
				it->has_b = 1;
			}
		}
	}
	*pp = skip_space(p);
	return 0;
}

static int parse_selector(const char **pp, struct ml_jpath *jp, const char *text, struct ml_err *err)
{
	const char *p = skip_space(*pp + 1);
	if (*p == '*') {
		p = skip_space(p + 1);
		if (*p != ']')
			return bad(err, text, (size_t)(p - text), "expected ']'");
		*pp = p + 1;
		return 0;
	}
	for (;;) {
		if (jp->nitems >= MAX_ITEMS)
			return bad(err, text, (size_t)(p - text), "too many items");
		struct ml_jitem *items = ml_realloc_array(jp->items, jp->nitems + 1, sizeof *items, err);
		if (!items)
			return -1;
		jp->items = items;
		if (parse_item(&p, &jp->items[jp->nitems], text, err) < 0)
			return -1;
		jp->nitems++;
		if (*p == ']')
			break;
		if (*p != ',')
			return bad(err, text, (size_t)(p - text), "expected ',' or ']'");
		p++;
	}
	*pp = p + 1;
	return 0;
}

static int add_member(struct ml_jpath *jp, const char *s, size_t n, struct ml_err *err)
{
	char **m = ml_realloc_array(jp->members, jp->nmembers + 1, sizeof *m, err);
	if (!m)
		return -1;
	jp->members = m;
	if (!(m[jp->nmembers] = ml_malloc(n + 1, err)))
		return -1;
	memcpy(m[jp->nmembers], s, n);
	m[jp->nmembers++][n] = '\0';
	return 0;
}

int ml_jpath_parse(const char *text, struct ml_jpath *jp, struct ml_err *err)
{
	memset(jp, 0, sizeof *jp);
	if (!(jp->text = ml_strdup(text, err)))
		return -1;
	const char *p = skip_space(text);
	if (*p != '$')
		return bad(err, text, (size_t)(p - text), "a path starts with '$'");
	p++;
	while (*p && *p != ' ') {
		if (jp->nitems)
			return bad(err, text, (size_t)(p - text), "nothing may follow a [...] selector");
		if (*p == '[') {
			if (parse_selector(&p, jp, text, err) < 0)
				return -1;
		} else if (*p == '.') {
			const char *s = ++p;
			if (*p == '*') {
				p++;
				continue;
			}
			while (*p && *p != '.' && *p != '[' && *p != ' ')
				p++;
			if (p == s)
				return bad(err, text, (size_t)(p - text), "expected a member name after '.'");
			if (jp->nmembers >= MAX_MEMBERS)
				return bad(err, text, (size_t)(p - text), "path too deep");
			if (add_member(jp, s, (size_t)(p - s), err) < 0)
				return -1;
		} else {
			return bad(err, text, (size_t)(p - text), "expected '.' or '['");
		}
	}
	if (*skip_space(p))
		return bad(err, text, (size_t)(p - text), "unexpected text");
	return 0;
}

void ml_jpath_release(struct ml_jpath *jp)
{
	for (size_t i = 0; i < jp->nitems; i++)
		free(jp->items[i].name);
	for (size_t i = 0; i < jp->nmembers; i++)
		free(jp->members[i]);
	free(jp->items);
	free(jp->members);
	free(jp->text);
	memset(jp, 0, sizeof *jp);
}

int ml_jpath_is_all(const struct ml_jpath *jp)
{
	return jp->nmembers == 0 && jp->nitems == 0;
}

int ml_jpath_is_flat(const struct ml_jpath *jp)
{
	return jp->nmembers == 0 || (jp->nmembers == 1 && jp->nitems == 0);
}

size_t ml_jpath_max_select(const struct ml_jpath *jp, size_t n)
{
	size_t k = 1;
	for (size_t i = 0; i < jp->nitems; i++)
		k += jp->items[i].kind == ML_JITEM_SLICE ? n : 1;
	return k + n;
}

/* Python's slice bounds for n fields. */
static long clamp_end(long v, int given, long dflt, long n)
{
	if (!given)
		return dflt;
	if (v < 0)
		v += n;
	return v < 0 ? 0 : v > n ? n : v;
}

static int find_name(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return (int)i;
	return -1;
}

int ml_jpath_select(const struct ml_jpath *jp, const char *const *names, size_t n, size_t *out,
		    size_t *nout, struct ml_err *err)
{
	*nout = 0;
	if (!ml_jpath_is_flat(jp))
		return ml_err_set(err, ML_ERR_USAGE, "JSONPath '%s' selects inside a member, not fields of a flat record",
				  jp->text);
	if (jp->nmembers == 1) {
		int at = find_name(names, n, jp->members[0]);
		if (at < 0)
			return ml_err_set(err, ML_ERR_DATA, "JSONPath '%s': no field \"%s\"", jp->text, jp->members[0]);
		out[(*nout)++] = (size_t)at;
		return 0;
	}
	return ml_jpath_select_items(jp, names, n, out, nout, err);
}

int ml_jpath_select_items(const struct ml_jpath *jp, const char *const *names, size_t n, size_t *out, size_t *nout,
			  struct ml_err *err)
{
	*nout = 0;
	if (jp->nitems == 0) {
		for (size_t i = 0; i < n; i++)
			out[(*nout)++] = i;
		return 0;
	}
	for (size_t i = 0; i < jp->nitems; i++) {
		const struct ml_jitem *it = &jp->items[i];
		if (it->kind == ML_JITEM_NAME) {
			int at = find_name(names, n, it->name);
			if (at < 0)
				return ml_err_set(err, ML_ERR_DATA, "JSONPath '%s': no field \"%s\"", jp->text, it->name);
			out[(*nout)++] = (size_t)at;
		} else if (it->kind == ML_JITEM_INDEX) {
			long at = it->a < 0 ? it->a + (long)n : it->a;
			if (at < 0 || at >= (long)n)
				return ml_err_set(err, ML_ERR_DATA, "JSONPath '%s': index %ld is outside the %zu fields",
						  jp->text, it->a, n);
			out[(*nout)++] = (size_t)at;
		} else {
			long a = clamp_end(it->a, it->has_a, 0, (long)n);
			long b = clamp_end(it->b, it->has_b, (long)n, (long)n);
			for (long k = a; k < b; k++)
				out[(*nout)++] = (size_t)k;
		}
	}
	return 0;
}
