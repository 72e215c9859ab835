/*
 * batch.c - records into columns, by a schema.
 *
 * A row is converted column by column into slot nrows; only when every
 * column converted does nrows advance, so a rejected row leaves nothing
 * behind.  Input columns the schema does not name, and IGNORE columns, are
 * never looked at: projection is what makes a wide file cheap to read.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mlpipe/num.h"
#include "mlpipe/uri.h"
#include "reader_int.h"

void ml_batch_init(struct ml_batch *b)
{
	memset(b, 0, sizeof *b);
	ml_buf_init(&b->text, (size_t)UINT32_MAX - 1);
	ml_buf_init(&b->raw, (size_t)UINT32_MAX - 1);
}

static void free_columns(struct ml_batch *b)
{
	for (size_t i = 0; i < b->ncols; i++) {
		free(b->cols[i].num);
		free(b->cols[i].cat);
		free(b->cols[i].text_off);
		free(b->cols[i].text_len);
	}
	free(b->cols);
	b->cols = NULL;
	b->ncols = 0;
}

void ml_batch_release(struct ml_batch *b)
{
	free_columns(b);
	free(b->line);
	free(b->row);
	free(b->raw_off);
	free(b->raw_len);
	ml_buf_release(&b->text);
	ml_buf_release(&b->raw);
	memset(b, 0, sizeof *b);
}

static void *copy_array(const void *src, size_t n, size_t size, int *failed, struct ml_err *err)
{
	if (!src || *failed)
		return NULL;
	void *dst = ml_malloc(n * size + 1, err);
	if (dst)
		memcpy(dst, src, n * size);
	else
		*failed = 1;
	return dst;
}

int ml_batch_copy(struct ml_batch *dst, const struct ml_batch *src, struct ml_err *err)
{
	int failed = 0;
	size_t n = src->nrows;
	ml_batch_init(dst);
	dst->nrows = dst->cap = n;
	dst->cols = ml_calloc(src->ncols + 1, sizeof *dst->cols, err);
	failed = !dst->cols;
	dst->ncols = failed ? 0 : src->ncols;
	for (size_t i = 0; i < dst->ncols; i++) {
		const struct ml_batch_col *c = &src->cols[i];
		struct ml_batch_col *d = &dst->cols[i];
		*d = *c;	/* type, role, name, dict and src are shared */
		d->num = copy_array(c->num, n, sizeof *c->num, &failed, err);
		d->cat = copy_array(c->cat, n, sizeof *c->cat, &failed, err);
		d->text_off = copy_array(c->text_off, n, sizeof *c->text_off, &failed, err);
		d->text_len = copy_array(c->text_len, n, sizeof *c->text_len, &failed, err);
	}
	dst->line = copy_array(src->line, n, sizeof *src->line, &failed, err);
	dst->row = copy_array(src->row, n, sizeof *src->row, &failed, err);
	if (!failed && src->text.len && ml_buf_add(&dst->text, src->text.data, src->text.len) < 0)
		failed = ml_err_set(err, ML_ERR_INTERNAL, "out of memory copying a batch") < 0;
	if (failed)
		ml_batch_release(dst);
	return failed ? -1 : 0;
}

int ml_reader_bind(struct ml_reader *r, const struct ml_schema *s, int allow_missing, struct ml_err *err)
{
	for (size_t i = 0; i < r->nbind; i++)
		ml_dict_free(r->bind[i].dict);
	free(r->bind);
	r->nbind = 0;
	r->bind = ml_calloc(s->n, sizeof *r->bind, err);
	if (!r->bind)
		return -1;
	r->schema = s;
	r->nbind = s->n;
	r->bind_ncols = r->ncols;
	for (size_t i = 0; i < s->n; i++) {
		const struct ml_column_def *c = &s->cols[i];
		struct bind_col *bc = &r->bind[i];
		bc->src = c->role == ML_ROLE_IGNORE ? -1 : ml_reader_find_column(r, c->name);
		if (bc->src < 0 && c->role != ML_ROLE_IGNORE && !allow_missing &&
		    r->format == ML_FMT_CSV)
			return ml_err_set(err, ML_ERR_DATA, "%s: no column \"%s\" in the input (it has %zu columns%s%s)",
					  r->name, c->name, r->ncols, r->ncols ? ", the first is " : "",
					  r->ncols ? r->colnames[0] : "");
		if (c->type == ML_TYPE_CATEGORICAL && !(bc->dict = ml_dict_new(MAX_CATEGORIES, err)))
			return -1;
	}
	return 0;
}

const struct ml_dict *ml_reader_dict(const struct ml_reader *r, size_t schema_col)
{
	return schema_col < r->nbind ? r->bind[schema_col].dict : NULL;
}

/* Size b for the bound schema and the batch row count. */
static int shape_batch(struct ml_reader *r, struct ml_batch *b, struct ml_err *err)
{
	size_t cap = r->opts.batch_rows;
	if (b->ncols == r->nbind && b->cap == cap && b->cols) {
		for (size_t i = 0; i < r->nbind; i++) {	/* the batch may come from another reader of the same schema */
			b->cols[i].dict = r->bind[i].dict;
			b->cols[i].src = r->bind[i].src;
		}
		return 0;
	}
	free_columns(b);
	b->cols = ml_calloc(r->nbind, sizeof *b->cols, err);
	if (!b->cols)
		return -1;
	b->ncols = r->nbind;
	b->cap = cap;
	if (!(b->line = ml_realloc_array(b->line, cap, sizeof *b->line, err)) ||
	    !(b->row = ml_realloc_array(b->row, cap, sizeof *b->row, err)) ||
	    !(b->raw_off = ml_realloc_array(b->raw_off, cap, sizeof *b->raw_off, err)) ||
	    !(b->raw_len = ml_realloc_array(b->raw_len, cap, sizeof *b->raw_len, err)))
		return -1;
	for (size_t i = 0; i < r->nbind; i++) {
		const struct ml_column_def *c = &r->schema->cols[i];
		struct ml_batch_col *col = &b->cols[i];
		col->type = c->type;
		col->role = c->role;
		col->name = c->name;
		col->dict = r->bind[i].dict;
		col->src = r->bind[i].src;
		if (c->type == ML_TYPE_NUMERIC && !(col->num = ml_malloc(cap * sizeof *col->num, err)))
			return -1;
		if (c->type == ML_TYPE_CATEGORICAL && !(col->cat = ml_malloc(cap * sizeof *col->cat, err)))
			return -1;
		if (c->type == ML_TYPE_TEXT && (!(col->text_off = ml_malloc(cap * sizeof(uint32_t), err)) ||
						!(col->text_len = ml_malloc(cap * sizeof(uint32_t), err))))
			return -1;
	}
	return 0;
}

/* Quote a bad value for a message: at most 40 bytes, control bytes as '?'. */
static void show_value(const struct ml_field *f, char *out, size_t outsz)
{
	size_t n = f->len < 40 ? f->len : 40, j = 0;
	for (size_t i = 0; i < n && j + 4 < outsz; i++) {
		unsigned char c = (unsigned char)f->ptr[i];
		out[j++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (f->len > n && j + 4 < outsz) {
		memcpy(out + j, "...", 3);
		j += 3;
	}
	out[j] = '\0';
}

/* Why f is not a number, for the message (cold: kept out of convert_numeric's frame). */
static __attribute__((noinline, cold)) int not_a_number(const struct ml_field *f, const char *name,
							  enum ml_num_status st, struct ml_err *why)
{
	char shown[64];
	show_value(f, shown, sizeof shown);
	if (st == ML_NUM_RANGE)
		return ml_err_set(why, ML_ERR_DATA, "number out of range in column \"%s\": \"%s\"", name, shown);
	return ml_err_set(why, ML_ERR_DATA, "expected a number in column \"%s\", got \"%s\"", name, shown);
}

static int convert_numeric(const struct ml_field *f, const char *name, double *out, struct ml_err *why)
{
	if (!f || (f->flags & ML_FIELD_ABSENT)) {
		*out = NAN;
		return 0;
	}
	if (f->flags & ML_FIELD_JSON_BOOL) {
		*out = f->ptr[0] == 't';
		return 0;
	}
	enum ml_num_status st = ml_parse_double(f->ptr, f->len, out);
	return st == ML_NUM_OK || st == ML_NUM_MISSING ? 0 : not_a_number(f, name, st, why);
}

static int check_utf8(const struct ml_field *f, const char *name, struct ml_err *why)
{
	size_t ok = ml_utf8_valid_prefix(f->ptr, f->len);
	if (ok == f->len)
		return 0;
	return ml_err_set(why, ML_ERR_DATA, "invalid UTF-8 in column \"%s\" (byte %zu of the value)", name,
			  ok + 1);
}

/* Empty text (and JSON null or a missing key) is a missing category. */
static int convert_categorical(const struct ml_field *f, const char *name, struct ml_dict *d,
			       int32_t *out, struct ml_err *why)
{
	if (!f || (f->flags & ML_FIELD_ABSENT) || f->len == 0) {
		*out = -1;
		return 0;
	}
	if (check_utf8(f, name, why) < 0)
		return -1;
	struct ml_err e;	/* not ML_ERR_INIT: clearing 1 KB per value costs more than the lookup */
	e.class = ML_ERR_NONE;
	e.msg[0] = '\0';
	*out = ml_dict_intern(d, f->ptr, f->len, &e);
	if (*out < 0)
		return ml_err_set(why, ML_ERR_DATA, "categorical column \"%s\": %s; declare it as text", name,
				  e.msg);
	return 0;
}

static int convert_text(const struct ml_field *f, const char *name, struct ml_batch *b, size_t row,
			struct ml_batch_col *col, struct ml_err *why)
{
	if (!f || (f->flags & ML_FIELD_ABSENT)) {
		col->text_off[row] = 0;
		col->text_len[row] = ML_TEXT_MISSING;
		return 0;
	}
	if (check_utf8(f, name, why) < 0)
		return -1;
	if (f->len >= ML_TEXT_JSON)
		return ml_err_set(why, ML_ERR_DATA, "text column \"%s\": a value of 2 GiB or more", name);
	col->text_off[row] = (uint32_t)b->text.len;
	col->text_len[row] = (uint32_t)f->len |
			     (f->flags & (ML_FIELD_JSON_NUMBER | ML_FIELD_JSON_BOOL | ML_FIELD_JSON_NESTED) ? ML_TEXT_JSON : 0);
	if (ml_buf_add(&b->text, f->ptr, f->len) < 0)
		return ml_err_set(why, ML_ERR_INTERNAL, "text of one batch exceeds 4 GiB; use a smaller --batch-size");
	return 0;
}

/* Convert rec into row b->nrows; -1 with why set if a value is bad. */
static int convert_row(struct ml_reader *r, struct ml_batch *b, const struct ml_record *rec,
		       long *bad_field, struct ml_err *why)
{
	size_t row = b->nrows, text_mark = b->text.len;
	for (size_t i = 0; i < b->ncols; i++) {
		struct ml_batch_col *col = &b->cols[i];
		long src = r->bind[i].src;
		const struct ml_field *f = src >= 0 && (size_t)src < rec->nfields ? &rec->fields[src] : NULL;
		int rc = 0;
		if (col->role == ML_ROLE_IGNORE)
			continue;
		if (f && (f->flags & ML_FIELD_JSON_NESTED) && col->type != ML_TYPE_TEXT)
			rc = ml_err_set(why, ML_ERR_DATA, "column \"%s\" holds an object or array, not a value",
					col->name);
		else if (col->type == ML_TYPE_NUMERIC)
			rc = convert_numeric(f, col->name, &col->num[row], why);
		else if (col->type == ML_TYPE_CATEGORICAL)
			rc = convert_categorical(f, col->name, r->bind[i].dict, &col->cat[row], why);
		else
			rc = convert_text(f, col->name, b, row, col, why);
		if (rc < 0) {
			b->text.len = text_mark;
			*bad_field = src;
			return -1;
		}
	}
	return 0;
}

static int keep_raw(struct ml_batch *b, const struct ml_record *rec, struct ml_err *err)
{
	b->raw_off[b->nrows] = (uint32_t)b->raw.len;
	b->raw_len[b->nrows] = (uint32_t)rec->raw_len;
	if (ml_buf_add(&b->raw, rec->raw, rec->raw_len) < 0)
		return ml_err_set(err, ML_ERR_INTERNAL, "raw rows of one batch exceed 4 GiB; use a smaller --batch-size");
	return 0;
}

/* NDJSON records may bring keys the schema named but earlier records lacked. */
static void resolve_new_columns(struct ml_reader *r, struct ml_batch *b)
{
	for (size_t i = 0; i < r->nbind; i++) {
		const struct ml_column_def *c = &r->schema->cols[i];
		if (r->bind[i].src < 0 && c->role != ML_ROLE_IGNORE)
			r->bind[i].src = ml_reader_find_column(r, c->name);
		b->cols[i].src = r->bind[i].src;
	}
	r->bind_ncols = r->ncols;
}

/* Sizes of the inputs that are local regular files, in KiB; 0 when unknown (pipes). */
static uint64_t input_kib(const struct ml_reader *r)
{
	uint64_t bytes = 0;
	for (size_t i = 0; i < r->nuris; i++) {
		const char *path = ml_uri_local_path(r->uris[i]);
		struct stat st;
		if (!path || !strcmp(path, "-") || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			return 0;
		bytes += (uint64_t)st.st_size;
	}
	return bytes >> 10;
}

void ml_reader_show_progress(struct ml_reader *r)
{
	if (r->part)
		return;	/* the whole input's reader shows it */
	if (!r->progress_started) {
		ml_progress_start(&r->progress, "reading", input_kib(r), "KiB");
		r->progress_started = 1;
	}
	ml_progress_update(&r->progress, r->stats.bytes_read >> 10);
}

long ml_reader_read_batch(struct ml_reader *r, struct ml_batch *b, struct ml_err *err)
{
	ml_reader_show_progress(r);
	struct ml_record rec;
	if (!r->schema)
		return ml_err_set(err, ML_ERR_INTERNAL, "ml_reader_read_batch before ml_reader_bind");
	if (shape_batch(r, b, err) < 0)
		return -1;
	b->nrows = 0;
	ml_buf_reset(&b->text);
	ml_buf_reset(&b->raw);
	struct ml_err why = ML_ERR_INIT;	/* written only for a bad row: not cleared per row (1 KB) */
	while (b->nrows < b->cap) {
		int rc = ml_reader_next(r, &rec, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		long bad_field = -1;
		if (r->ncols != r->bind_ncols)
			resolve_new_columns(r, b);
		if (convert_row(r, b, &rec, &bad_field, &why) < 0) {
			if (ml_reader_reject(r, &rec, bad_field, &why, err) < 0)
				return -1;
			continue;
		}
		if (r->opts.keep_raw && keep_raw(b, &rec, err) < 0)
			return -1;
		b->line[b->nrows] = rec.line;
		b->row[b->nrows] = rec.row;
		b->nrows++;
	}
	return (long)b->nrows;
}
