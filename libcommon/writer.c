/*
 * writer.c - rows out as CSV or NDJSON.
 *
 * Fields are appended to a fixed 256 KiB buffer that goes to the output
 * stream when full (or after every row when line-buffered, for co-processes),
 * so writing costs a copy and rarely a system call.  An I/O error is sticky:
 * it is reported by the call that met it and by every later call.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/dict.h"
#include "mlpipe/num.h"
#include "mlpipe/stream.h"
#include "mlpipe/threads.h"
#include "mlpipe/uri.h"

#define WRITE_BUF (256 * 1024)

struct ml_writer {
	struct ml_writer_opts opts;
	struct ml_ostream *out;
	char *buf;
	size_t len, cap;	/* cap: WRITE_BUF, or growing for a fork (out == NULL) */
	int borrowed_names;	/* a fork uses its parent's keys */
	char **names;		/* NDJSON keys, pre-escaped with quotes and colon */
	size_t *name_len;
	size_t ncols;
	size_t field;		/* index of the next field in the row */
	uint64_t rows;
	int failed;
	struct ml_writer *forks[ML_MAX_THREADS];	/* made on first parallel use */
};

void ml_writer_opts_init(struct ml_writer_opts *o)
{
	memset(o, 0, sizeof *o);
	o->format = ML_FMT_CSV;
	o->header = 1;
	o->delimiter = ',';
}

int ml_writer_flush(struct ml_writer *w, struct ml_err *err)
{
	if (!w->out)
		return 0;	/* a fork keeps its rows until appended */
	if (w->failed)
		return ml_err_set(err, ML_ERR_IO, "%s: an earlier write failed", w->out->name);
	if (w->len && ml_ostream_write(w->out, w->buf, w->len, err) < 0) {
		w->failed = 1;
		return -1;
	}
	w->len = 0;
	return 0;
}

/* A fork's buffer grows: it holds a share of a batch until appended. */
static int grow(struct ml_writer *w, size_t n, struct ml_err *err)
{
	size_t cap = w->cap;
	while (cap - w->len < n)
		cap *= 2;
	char *buf = realloc(w->buf, cap);
	if (!buf)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory formatting rows");
	w->buf = buf;
	w->cap = cap;
	return 0;
}

static int put(struct ml_writer *w, const char *s, size_t n, struct ml_err *err)
{
	if (n > w->cap - w->len) {
		if (!w->out)
			return grow(w, n, err) < 0 ? -1 : put(w, s, n, err);
		if (ml_writer_flush(w, err) < 0)
			return -1;
		if (n > w->cap) {	/* a huge field goes straight out */
			if (ml_ostream_write(w->out, s, n, err) < 0) {
				w->failed = 1;
				return -1;
			}
			return 0;
		}
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	return 0;
}

static int putc_(struct ml_writer *w, char c, struct ml_err *err)
{
	if (w->len == w->cap && (w->out ? ml_writer_flush(w, err) : grow(w, 1, err)) < 0)
		return -1;
	w->buf[w->len++] = c;
	return 0;
}

/* The JSON escape of c into esc, or 0 if c stands for itself. */
static size_t json_escape_char(unsigned char c, char esc[7])
{
	static const char hex[] = "0123456789abcdef";
	if (c >= 0x20 && c != '"' && c != '\\')
		return 0;
	esc[0] = '\\';
	switch (c) {
	case '\n': esc[1] = 'n'; return 2;
	case '\r': esc[1] = 'r'; return 2;
	case '\t': esc[1] = 't'; return 2;
	case '"':
	case '\\': esc[1] = (char)c; return 2;
	default:
		memcpy(esc, "\\u00", 4);
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 15];
		return 6;
	}
}

/* JSON string body (no quotes), copying unescaped runs whole. */
static int put_json_escaped(struct ml_writer *w, const char *s, size_t n, struct ml_err *err)
{
	size_t run = 0;
	char esc[7];
	for (size_t i = 0; i < n; i++) {
		size_t elen = json_escape_char((unsigned char)s[i], esc);
		if (!elen)
			continue;
		if (put(w, s + run, i - run, err) < 0 || put(w, esc, elen, err) < 0)
			return -1;
		run = i + 1;
	}
	return put(w, s + run, n - run, err);
}

static int needs_csv_quotes(const struct ml_writer *w, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == w->opts.delimiter || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			return 1;
	return 0;
}

static int put_csv_quoted(struct ml_writer *w, const char *s, size_t n, struct ml_err *err)
{
	if (putc_(w, '"', err) < 0)
		return -1;
	for (const char *q; n && (q = memchr(s, '"', n)); n -= (size_t)(q + 1 - s), s = q + 1)
		if (put(w, s, (size_t)(q + 1 - s), err) < 0 || putc_(w, '"', err) < 0)
			return -1;
	if (put(w, s, n, err) < 0)
		return -1;
	return putc_(w, '"', err);
}

/* Separator or key before the next field of the row. */
static int begin_field(struct ml_writer *w, struct ml_err *err)
{
	size_t i = w->field++;
	if (w->opts.format == ML_FMT_NDJSON) {
		if (i >= w->ncols)
			return ml_err_set(err, ML_ERR_INTERNAL, "row has more fields than the %zu named columns",
					  w->ncols);
		if (putc_(w, i ? ',' : '{', err) < 0)
			return -1;
		return put(w, w->names[i], w->name_len[i], err);
	}
	return i ? putc_(w, w->opts.delimiter, err) : 0;
}

int ml_writer_num(struct ml_writer *w, double v, struct ml_err *err)
{
	char text[ML_NUM_BUFSZ];
	size_t n = ml_fmt_double(v, text);
	if (begin_field(w, err) < 0)
		return -1;
	if (n == 0 && w->opts.format == ML_FMT_NDJSON)
		return put(w, "null", 4, err);
	return put(w, text, n, err);
}

int ml_writer_str(struct ml_writer *w, const char *s, size_t len, struct ml_err *err)
{
	if (begin_field(w, err) < 0)
		return -1;
	if (w->opts.format == ML_FMT_NDJSON)
		return putc_(w, '"', err) < 0 || put_json_escaped(w, s, len, err) < 0 ? -1 : putc_(w, '"', err);
	if (needs_csv_quotes(w, s, len))
		return put_csv_quoted(w, s, len, err);
	return put(w, s, len, err);
}

int ml_writer_null(struct ml_writer *w, struct ml_err *err)
{
	if (begin_field(w, err) < 0)
		return -1;
	return w->opts.format == ML_FMT_NDJSON ? put(w, "null", 4, err) : 0;
}

int ml_writer_verbatim(struct ml_writer *w, const char *s, size_t len, struct ml_err *err)
{
	if (begin_field(w, err) < 0)
		return -1;
	return put(w, s, len, err);
}

int ml_writer_json(struct ml_writer *w, const char *s, size_t len, struct ml_err *err)
{
	return w->opts.format == ML_FMT_NDJSON ? ml_writer_verbatim(w, s, len, err) : ml_writer_str(w, s, len, err);
}

int ml_writer_cell(struct ml_writer *w, const struct ml_batch *b, size_t col, size_t row, struct ml_err *err)
{
	const struct ml_batch_col *c = &b->cols[col];
	size_t len;
	switch (c->type) {
	case ML_TYPE_NUMERIC:
		return ml_writer_num(w, c->num[row], err);
	case ML_TYPE_CATEGORICAL:
		if (c->cat[row] < 0)
			return ml_writer_null(w, err);
		const char *s = ml_dict_name(c->dict, c->cat[row], &len);
		return ml_writer_str(w, s, len, err);
	case ML_TYPE_TEXT:
		if (c->text_len[row] == ML_TEXT_MISSING)
			return ml_writer_null(w, err);
		len = ml_text_len(c->text_len[row]);
		if (c->text_len[row] & ML_TEXT_JSON)	/* 7, true, {...} */
			return ml_writer_json(w, b->text.data + c->text_off[row], len, err);
		return ml_writer_str(w, b->text.data + c->text_off[row], len, err);
	}
	return ml_err_set(err, ML_ERR_INTERNAL, "batch column %zu has an unknown type", col);
}

int ml_writer_end_row(struct ml_writer *w, struct ml_err *err)
{
	if (w->opts.format == ML_FMT_NDJSON && put(w, w->field ? "}" : "{}", w->field ? 1 : 2, err) < 0)
		return -1;
	if (putc_(w, '\n', err) < 0)
		return -1;
	w->field = 0;
	w->rows++;
	return w->opts.line_buffered ? ml_writer_flush(w, err) : 0;
}

int ml_writer_raw(struct ml_writer *w, const char *s, size_t len, struct ml_err *err)
{
	return put(w, s, len, err);
}

int ml_writer_row_raw(struct ml_writer *w, const char *s, size_t len, struct ml_err *err)
{
	if (put(w, s, len, err) < 0)
		return -1;
	w->rows++;
	return w->opts.line_buffered ? ml_writer_flush(w, err) : 0;
}

static int write_header(struct ml_writer *w, const char *const *names, size_t n, struct ml_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (i && putc_(w, w->opts.delimiter, err) < 0)
			return -1;
		size_t len = strlen(names[i]);
		if ((needs_csv_quotes(w, names[i], len) ? put_csv_quoted(w, names[i], len, err)
							: put(w, names[i], len, err)) < 0)
			return -1;
	}
	return putc_(w, '\n', err);
}

/* "name": as it will be written before every value, escaped once. */
static char *json_key(const char *name, size_t *len, struct ml_err *err)
{
	struct ml_buf b;
	char esc[7];
	ml_buf_init(&b, (size_t)1 << 30);
	ml_buf_addc(&b, '"');
	for (const char *p = name; *p; p++) {
		size_t elen = json_escape_char((unsigned char)*p, esc);
		if (elen ? ml_buf_add(&b, esc, elen) < 0 : ml_buf_addc(&b, *p) < 0)
			break;
	}
	if (ml_buf_add(&b, "\":", 2) < 0) {
		ml_buf_release(&b);
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory for column names");
		return NULL;
	}
	*len = b.len;
	return ml_buf_detach(&b);
}

static int prepare_keys(struct ml_writer *w, const char *const *names, size_t n, struct ml_err *err)
{
	w->names = ml_calloc(n, sizeof *w->names, err);
	w->name_len = ml_calloc(n, sizeof *w->name_len, err);
	if (!w->names || !w->name_len)
		return -1;
	w->ncols = n;
	for (size_t i = 0; i < n; i++)
		if (!(w->names[i] = json_key(names[i], &w->name_len[i], err)))
			return -1;
	return 0;
}

int ml_writer_set_columns(struct ml_writer *w, const char *const *names, size_t n, struct ml_err *err)
{
	if (w->opts.format == ML_FMT_NDJSON)
		return prepare_keys(w, names, n, err);
	w->ncols = n;
	return w->opts.header ? write_header(w, names, n, err) : 0;
}

struct ml_writer *ml_writer_open(const char *uri, const struct ml_writer_opts *opts, struct ml_err *err)
{
	struct ml_writer *w = ml_calloc(1, sizeof *w, err);
	if (!w)
		return NULL;
	w->opts = *opts;
	if (w->opts.format == ML_FMT_AUTO)
		w->opts.format = ML_FMT_CSV;
	w->cap = WRITE_BUF;
	w->buf = ml_malloc(WRITE_BUF, err);
	if (!w->buf || !(w->out = ml_open_write(uri, ML_WRITE_TRUNCATE, err))) {
		free(w->buf);
		free(w);
		return NULL;
	}
	return w;
}

struct ml_writer *ml_writer_open_mem(const struct ml_writer_opts *opts, struct ml_err *err)
{
	struct ml_writer *w = ml_calloc(1, sizeof *w, err);
	if (!w)
		return NULL;
	w->opts = *opts;
	if (w->opts.format == ML_FMT_AUTO)
		w->opts.format = ML_FMT_CSV;
	w->opts.line_buffered = 0;
	w->cap = 4096;	/* grows, as a fork's does (out == NULL) */
	if (!(w->buf = ml_malloc(w->cap, err))) {
		free(w);
		return NULL;
	}
	return w;
}

const char *ml_writer_mem_data(const struct ml_writer *w, size_t *len)
{
	*len = w->len;
	return w->buf;
}

int ml_writer_close(struct ml_writer *w, int commit, struct ml_err *err)
{
	if (!w)
		return 0;
	int rc = commit && w->out ? ml_writer_flush(w, err) : 0;
	if (w->out && ml_ostream_close(w->out, commit && rc == 0, rc < 0 ? NULL : err) < 0)
		rc = -1;
	for (size_t t = 0; t < ML_MAX_THREADS; t++)
		ml_writer_close(w->forks[t], 0, NULL);
	if (!w->borrowed_names) {
		for (size_t i = 0; w->names && i < w->ncols; i++)
			free(w->names[i]);
		free(w->names);
		free(w->name_len);
	}
	free(w->buf);
	free(w);
	return rc;
}

int ml_writer_line_buffered(const struct ml_writer *w)
{
	return w->opts.line_buffered;
}

uint64_t ml_writer_rows(const struct ml_writer *w)
{
	return w->rows;
}

struct ml_writer *ml_writer_fork(const struct ml_writer *w, struct ml_err *err)
{
	struct ml_writer *f = ml_calloc(1, sizeof *f, err);
	if (!f)
		return NULL;
	f->opts = w->opts;
	f->opts.line_buffered = 0;
	f->names = w->names;
	f->name_len = w->name_len;
	f->ncols = w->ncols;
	f->borrowed_names = 1;
	f->cap = 64 * 1024;
	if (!(f->buf = ml_malloc(f->cap, err))) {
		free(f);
		return NULL;
	}
	return f;
}

int ml_writer_append(struct ml_writer *w, struct ml_writer *fork, struct ml_err *err)
{
	size_t len = fork->len;
	fork->len = 0;
	if (put(w, fork->buf, len, err) < 0)
		return -1;
	w->rows += fork->rows;
	fork->rows = 0;
	return w->opts.line_buffered ? ml_writer_flush(w, err) : 0;
}

struct row_job {
	struct ml_writer *w;
	size_t begin, end;
	ml_row_writer_fn fn;
	void *ctx;
	int rc;
	struct ml_err err;
};

static void *write_share(void *arg)
{
	struct row_job *job = arg;
	job->rc = job->fn(job->w, job->begin, job->end, job->ctx, &job->err);
	return NULL;
}

/* A thread is worth starting for 256 rows or more. */
static size_t writer_threads(size_t nrows)
{
	size_t n = ml_threads(), by_rows = nrows / 256;
	return by_rows < n ? (by_rows ? by_rows : 1) : n;
}

/*
 * Share 0 is written straight into w by this thread while the others fill
 * forks; the forks are then appended in order, so the output is the same
 * bytes as one thread would write.
 */
int ml_writer_rows_parallel(struct ml_writer *w, size_t nrows, ml_row_writer_fn fn, void *ctx,
			    struct ml_err *err)
{
	size_t n = writer_threads(nrows);
	if (n == 1)
		return fn(w, 0, nrows, ctx, err);
	struct row_job jobs[ML_MAX_THREADS];
	pthread_t tids[ML_MAX_THREADS];
	size_t started = 1;
	for (size_t t = 0; t < n; t++) {
		if (t && !w->forks[t] && !(w->forks[t] = ml_writer_fork(w, err)))
			return -1;
		jobs[t] = (struct row_job){ t ? w->forks[t] : w, nrows * t / n, nrows * (t + 1) / n, fn, ctx,
					    0, ML_ERR_INIT };
	}
	for (; started < n; started++)
		if (pthread_create(&tids[started], NULL, write_share, &jobs[started]) != 0)
			break;
	for (size_t t = started; t < n; t++)	/* threads that did not start: here */
		write_share(&jobs[t]);
	write_share(&jobs[0]);
	for (size_t t = 1; t < started; t++)
		pthread_join(tids[t], NULL);
	int rc = 0;
	for (size_t t = 0; t < n && rc == 0; t++) {
		if (jobs[t].rc < 0) {
			if (err)
				*err = jobs[t].err;
			rc = -1;
		} else if (t) {
			rc = ml_writer_append(w, w->forks[t], err);
		}
	}
	for (size_t t = 1; t < n; t++) {	/* after a failure, drop what forks hold */
		w->forks[t]->len = 0;
		w->forks[t]->rows = 0;
		w->forks[t]->field = 0;
	}
	return rc;
}
