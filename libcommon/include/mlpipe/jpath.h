/*
 * jpath.h - the JSONPath subset of SageMaker batch transform's
 * DataProcessing (InputFilter, OutputFilter), over CSV and NDJSON records.
 *
 *     $                 the whole record
 *     $[1:]  $[:3]  $[1:3]   a slice of the fields (Python rules: end
 *                       excluded, negative counts from the end, clamped)
 *     $[0,-1]  $[0,2:4] a list of indexes and slices, in the order given
 *     $['id','price']   fields by name
 *     $.features        one member; when it holds an object or an array,
 *     $.a.b             that value is the record (a member of a member)
 *     $.a[1:]           a selection inside a member
 *
 * A CSV record is an array of fields that also have names (the header, or
 * c0, c1, ... with --no-header); an NDJSON record is an object whose keys
 * are in the order they were first seen.  Both can be selected by index and
 * by name.
 *
 *     struct ml_jpath p;
 *     if (ml_jpath_parse("$[1:]", &p, &err) < 0) ...
 *     size_t idx[n], k;
 *     ml_jpath_select(&p, names, n, idx, &k, &err);  // idx[0..k): fields picked
 *     ml_jpath_release(&p);
 */
#ifndef MLPIPE_JPATH_H
#define MLPIPE_JPATH_H

#include <stddef.h>

#include "err.h"

enum ml_jitem_kind { ML_JITEM_INDEX, ML_JITEM_SLICE, ML_JITEM_NAME };

struct ml_jitem {
	enum ml_jitem_kind kind;
	long a, b;		/* INDEX: a; SLICE: [a, b) */
	int has_a, has_b;	/* SLICE: which ends were given */
	char *name;		/* NAME */
};

struct ml_jpath {
	char *text;		/* as given, for messages */
	char **members;		/* $.a.b: "a", "b" (descend in order) */
	size_t nmembers;
	struct ml_jitem *items;	/* the final [...] selector; none: all */
	size_t nitems;
};

/* Parse text; an expression outside the subset is a usage error naming it. */
int ml_jpath_parse(const char *text, struct ml_jpath *p, struct ml_err *err);
void ml_jpath_release(struct ml_jpath *p);

/* "$" or "$[*]": everything, unchanged. */
int ml_jpath_is_all(const struct ml_jpath *p);

/*
 * Does the path stay at the top level of a flat record (no descent into a
 * member's object or array)?  $.name with no selector after it is a top-
 * level pick of one field.
 */
int ml_jpath_is_flat(const struct ml_jpath *p);

/*
 * The fields a flat path picks from a record of n fields named names[i]:
 * out[0..*nout) are indexes (out must hold n + the number of list items; a
 * field may be picked twice).  An index past the end or an unknown name is
 * a data error naming the expression.
 */
int ml_jpath_select(const struct ml_jpath *p, const char *const *names, size_t n, size_t *out,
		    size_t *nout, struct ml_err *err);

/* The same for the final [...] selector alone, whatever members lead to it (a path inside a member). */
int ml_jpath_select_items(const struct ml_jpath *p, const char *const *names, size_t n, size_t *out,
			  size_t *nout, struct ml_err *err);

/* How many indexes ml_jpath_select may return for n fields (size of out). */
size_t ml_jpath_max_select(const struct ml_jpath *p, size_t n);

#endif
