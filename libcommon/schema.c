/*
 * schema.c - column definitions, their JSON form, and type inference.
 */
#include <stdlib.h>
#include <string.h>

#include "mlpipe/buf.h"
#include "mlpipe/dict.h"
#include "mlpipe/num.h"
#include "mlpipe/schema.h"
#include "mlpipe/stream.h"

static const char *const type_names[] = { "numeric", "categorical", "text" };
static const char *const role_names[] = { "feature", "target", "id", "passthrough", "ignore" };

#define NTYPES (sizeof type_names / sizeof type_names[0])
#define NROLES (sizeof role_names / sizeof role_names[0])

const char *ml_type_name(enum ml_type t)
{
	return (size_t)t < NTYPES ? type_names[t] : "unknown";
}

const char *ml_role_name(enum ml_role r)
{
	return (size_t)r < NROLES ? role_names[r] : "unknown";
}

static int lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

int ml_type_parse(const char *s, enum ml_type *t)
{
	int i = lookup(type_names, NTYPES, s);
	if (i < 0)
		return -1;
	*t = (enum ml_type)i;
	return 0;
}

int ml_role_parse(const char *s, enum ml_role *r)
{
	int i = lookup(role_names, NROLES, s);
	if (i < 0)
		return -1;
	*r = (enum ml_role)i;
	return 0;
}

void ml_schema_init(struct ml_schema *s)
{
	memset(s, 0, sizeof *s);
}

void ml_schema_release(struct ml_schema *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->cols[i].name);
	free(s->cols);
	ml_schema_init(s);
}

int ml_schema_add_kept(struct ml_schema *s, char *const *names, size_t n, long *cols, struct ml_err *err)
{
	for (size_t i = 0; i < n; i++) {
		long at = ml_schema_find(s, names[i]);
		if (at >= 0 && s->cols[at].role == ML_ROLE_IGNORE) {
			s->cols[at].role = ML_ROLE_PASSTHROUGH;
			s->cols[at].type = ML_TYPE_TEXT;
		}
		if (at < 0 && ml_schema_add(s, names[i], ML_TYPE_TEXT, ML_ROLE_PASSTHROUGH, err) < 0)
			return -1;
		cols[i] = at >= 0 ? at : (long)s->n - 1;
	}
	return 0;
}

long ml_schema_find(const struct ml_schema *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->cols[i].name, name))
			return (long)i;
	return -1;
}

int ml_schema_add(struct ml_schema *s, const char *name, enum ml_type type, enum ml_role role,
		  struct ml_err *err)
{
	if (ml_schema_find(s, name) >= 0)
		return ml_err_set(err, ML_ERR_DATA, "column \"%s\" is defined twice", name);
	if (s->n == s->alloc) {
		size_t alloc = s->alloc ? s->alloc * 2 : 16;
		struct ml_column_def *cols = ml_realloc_array(s->cols, alloc, sizeof *cols, err);
		if (!cols)
			return -1;
		s->cols = cols;
		s->alloc = alloc;
	}
	char *copy = ml_strdup(name, err);
	if (!copy)
		return -1;
	s->cols[s->n++] = (struct ml_column_def){ copy, type, role };
	return 0;
}

int ml_schema_copy(struct ml_schema *dst, const struct ml_schema *src, struct ml_err *err)
{
	ml_schema_init(dst);
	for (size_t i = 0; i < src->n; i++)
		if (ml_schema_add(dst, src->cols[i].name, src->cols[i].type, src->cols[i].role, err) < 0) {
			ml_schema_release(dst);
			return -1;
		}
	return 0;
}

json_t *ml_schema_to_json(const struct ml_schema *s)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < s->n; i++) {
		const struct ml_column_def *c = &s->cols[i];
		json_t *o = json_pack("{s:s, s:s, s:s}", "name", c->name, "type", ml_type_name(c->type), "role",
				      ml_role_name(c->role));
		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static int column_from_json(struct ml_schema *s, const json_t *o, size_t i, const char *what,
			    struct ml_err *err)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *role = json_string_value(json_object_get(o, "role"));
	enum ml_type t;
	enum ml_role r = ML_ROLE_FEATURE;
	if (!json_is_object(o) || !name || !type)
		return ml_err_set(err, ML_ERR_DATA, "%s: schema column %zu needs a \"name\" and a \"type\" string",
				  what, i);
	if (ml_type_parse(type, &t) < 0)
		return ml_err_set(err, ML_ERR_DATA,
				  "%s: schema column \"%s\": unknown type \"%s\" (numeric, categorical or text)",
				  what, name, type);
	if (role && ml_role_parse(role, &r) < 0)
		return ml_err_set(err, ML_ERR_DATA,
				  "%s: schema column \"%s\": unknown role \"%s\" (feature, target, id, passthrough or ignore)",
				  what, name, role);
	if (ml_schema_add(s, name, t, r, err) < 0)
		return ml_err_prefix(err, "%s", what);
	return 0;
}

int ml_schema_from_json(struct ml_schema *s, const json_t *j, const char *what, struct ml_err *err)
{
	ml_schema_init(s);
	if (!json_is_array(j))
		return ml_err_set(err, ML_ERR_DATA, "%s: the schema must be an array of columns", what);
	for (size_t i = 0; i < json_array_size(j); i++)
		if (column_from_json(s, json_array_get(j, i), i, what, err) < 0) {
			ml_schema_release(s);
			return -1;
		}
	return 0;
}

/* ---- inference ---- */

struct column_evidence {
	size_t present;
	int all_numeric;
	struct ml_dict *distinct;	/* capped at max_categories + 1 */
	int too_many;
};

static void observe(struct column_evidence *ev, const struct ml_field *f)
{
	double v;
	if (f->flags & ML_FIELD_ABSENT)
		return;
	enum ml_num_status st = f->flags & ML_FIELD_JSON_BOOL ? ML_NUM_OK : ml_parse_double(f->ptr, f->len, &v);
	if (st == ML_NUM_MISSING)
		return;
	ev->present++;
	if (st != ML_NUM_OK || (f->flags & ML_FIELD_JSON_NESTED))
		ev->all_numeric = 0;
	if (!ev->too_many && ml_dict_intern(ev->distinct, f->ptr, f->len, NULL) < 0)
		ev->too_many = 1;	/* the dictionary's cap is max_categories + 1 */
}

static enum ml_type decide(const struct column_evidence *ev, const struct ml_infer_opts *o)
{
	if (ev->all_numeric)
		return ML_TYPE_NUMERIC;
	size_t distinct = ml_dict_size(ev->distinct);
	if (ev->too_many || distinct > o->max_categories)
		return ML_TYPE_TEXT;
	if (distinct > 20 && (double)distinct > o->max_category_ratio * (double)ev->present)
		return ML_TYPE_TEXT;
	return ML_TYPE_CATEGORICAL;
}

static void free_evidence(struct column_evidence *ev, size_t n)
{
	for (size_t i = 0; ev && i < n; i++)
		ml_dict_free(ev[i].distinct);
	free(ev);
}

/* Grow the evidence array when NDJSON records bring new keys. */
static int track_columns(struct column_evidence **ev, size_t *n, size_t want, size_t cap, struct ml_err *err)
{
	if (want <= *n)
		return 0;
	struct column_evidence *grown = ml_realloc_array(*ev, want, sizeof **ev, err);
	if (!grown)
		return -1;
	*ev = grown;
	for (size_t i = *n; i < want; i++) {
		grown[i] = (struct column_evidence){ 0, 1, ml_dict_new(cap, err), 0 };
		if (!grown[i].distinct)
			return -1;
		*n = i + 1;
	}
	return 0;
}

static int sample(struct ml_reader *r, const struct ml_infer_opts *o, struct column_evidence **ev,
		  size_t *nev, struct ml_err *err)
{
	struct ml_record rec;
	for (size_t rows = 0; rows < o->sample_rows; rows++) {
		int rc = ml_reader_next(r, &rec, err);
		if (rc <= 0)
			return rc;
		if (track_columns(ev, nev, rec.nfields, o->max_categories + 1, err) < 0)
			return -1;
		for (size_t i = 0; i < rec.nfields; i++)
			observe(&(*ev)[i], &rec.fields[i]);
	}
	return 0;
}

int ml_schema_infer(struct ml_reader *r, const struct ml_infer_opts *opts, struct ml_schema *out,
		    struct ml_err *err)
{
	struct ml_infer_opts o = ML_INFER_DEFAULTS;
	struct column_evidence *ev = NULL;
	size_t nev = 0;
	int rc = -1;
	if (opts)
		o = *opts;
	ml_schema_init(out);
	if (ml_reader_mark(r, err) < 0)
		return -1;
	int sampled = track_columns(&ev, &nev, ml_reader_ncols(r), o.max_categories + 1, err) < 0
			      ? -1
			      : sample(r, &o, &ev, &nev, err);
	if (ml_reader_reset(r, sampled < 0 ? NULL : err) < 0 || sampled < 0)
		goto out_free_evidence;
	for (size_t i = 0; i < ml_reader_ncols(r); i++)
		if (ml_schema_add(out, ml_reader_colname(r, i), i < nev ? decide(&ev[i], &o) : ML_TYPE_NUMERIC,
				  ML_ROLE_FEATURE, err) < 0)
			goto out_free_evidence;
	rc = 0;
out_free_evidence:
	free_evidence(ev, nev);
	if (rc < 0)
		ml_schema_release(out);
	return rc;
}
