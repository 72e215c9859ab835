/*
 * reader.c - inputs, buffering, columns and the bad-record policy of the
 * record stream.  The syntax of one record is csv.c's or ndjson.c's job.
 *
 * Buffering: bytes [pos, end) of one buffer are unparsed.  A parser that
 * needs more asks for it (PARSE_NEED_MORE); fill() then compacts the buffer
 * and reads at least as much again as the pending record, so a record that
 * spans many reads is rescanned a logarithmic number of times, while a short
 * record never waits for more than one read (a co-process sending one line
 * gets its answer).  A record longer than opts.max_record is an error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/log.h"
#include "reader_int.h"

#define READ_CHUNK (256 * 1024)
#define MAX_COLUMNS 100000
#define DEFAULT_BATCH_ROWS 4096
#define DEFAULT_MAX_RECORD (64u * 1024 * 1024)

static const char *const format_names[] = { "auto", "csv", "ndjson" };

const char *ml_format_name(enum ml_format f)
{
	return (unsigned)f < 3 ? format_names[f] : "unknown";
}

void ml_reader_opts_init(struct ml_reader_opts *o)
{
	memset(o, 0, sizeof *o);
	o->format = ML_FMT_AUTO;
	o->header = 1;
	o->delimiter = ',';
	o->batch_rows = DEFAULT_BATCH_ROWS;
	o->max_record = DEFAULT_MAX_RECORD;
	o->on_error = ML_ON_ERROR_FAIL;
}

void ml_reader_set_bad(struct ml_reader *r, size_t offset, const char *fmt, ...)
{
	va_list ap;
	r->bad_offset = offset;
	va_start(ap, fmt);
	vsnprintf(r->bad_msg, sizeof r->bad_msg, fmt, ap);
	va_end(ap);
}

int ml_reader_ensure_fields(struct ml_reader *r, size_t n)
{
	if (n <= r->fields_alloc)
		return 0;
	if (n > MAX_COLUMNS)
		return -1;
	size_t alloc = r->fields_alloc ? r->fields_alloc * 2 : 64;
	while (alloc < n)
		alloc *= 2;
	struct ml_field *f = realloc(r->fields, alloc * sizeof *f);
	if (!f)
		return -1;
	r->fields = f;
	r->fields_alloc = alloc;
	return 0;
}

int ml_reader_add_column(struct ml_reader *r, const char *name, size_t len)
{
	if (r->ncols == r->colalloc) {
		size_t alloc = r->colalloc ? r->colalloc * 2 : 32;
		char **names = realloc(r->colnames, alloc * sizeof *names);
		if (!names)
			return -1;
		r->colnames = names;
		r->colalloc = alloc;
	}
	if (ml_reader_ensure_fields(r, r->ncols + 1) < 0)
		return -1;
	char *copy = strndup(name, len);
	if (!copy)
		return -1;
	if (ml_dict_intern(r->colindex, name, len, NULL) != (int32_t)r->ncols) {
		free(copy);
		return -1;
	}
	r->colnames[r->ncols] = copy;
	r->fields[r->ncols] = (struct ml_field){ "", 0, ML_FIELD_ABSENT, 0 };
	r->ncols++;
	return 0;
}

/* ---- input ---- */

static void build_stop_tables(struct ml_reader *r)
{
	memset(r->csv_stop, 0, sizeof r->csv_stop);
	memset(r->csv_quote_stop, 0, sizeof r->csv_quote_stop);
	r->csv_stop[(unsigned char)r->opts.delimiter] = 1;
	r->csv_stop['\n'] = 1;
	r->csv_stop[0] = 1;
	r->csv_quote_stop['"'] = 1;
	r->csv_quote_stop[0] = 1;
}

/* Free bytes after end, keeping one for the NUL sentinel. */
static size_t room(const struct ml_reader *r)
{
	return r->alloc > r->end ? r->alloc - r->end - 1 : 0;
}

static int too_long(const struct ml_reader *r, uint64_t line, struct ml_err *err)
{
	return ml_err_set(err, ML_ERR_DATA,
			  "%s:%llu: a record is longer than %zu bytes (--max-record-size); is a quote left open?",
			  r->name, (unsigned long long)line, r->opts.max_record);
}

/* Make room for at least want more bytes after end, keeping [keep, end). */
static int make_room(struct ml_reader *r, size_t want, struct ml_err *err)
{
	size_t keep = r->marked ? r->mark_pos : r->pos;
	if (keep > 0 && room(r) < want) {
		memmove(r->buf, r->buf + keep, r->end - keep);
		r->end -= keep;
		r->pos -= keep;
		if (r->marked)
			r->mark_pos -= keep;
	}
	if (room(r) >= want)
		return 0;
	/* A mark keeps a sample buffered, so it may hold several records. */
	size_t limit = r->opts.max_record * (r->marked ? 4 : 1) + r->chunk;
	if (r->end >= limit)
		return too_long(r, r->line, err);
	if (want > limit - r->end)
		want = limit - r->end;
	if (room(r) >= want)
		return 0;
	size_t alloc = r->end + want + 1;
	char *buf = realloc(r->buf, alloc);
	if (!buf)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory buffering %s", r->name);
	r->buf = buf;
	r->alloc = alloc;
	return 0;
}

/*
 * Read more of the current input.  Reads at least as many bytes as are
 * pending (the incomplete record), so rescans stay geometric; one read is
 * enough for short records.  Sets at_eof at the end of the input.
 */
static int fill(struct ml_reader *r, struct ml_err *err)
{
	size_t pending = r->end - r->pos;
	size_t want = pending > r->chunk ? pending : r->chunk;
	if (make_room(r, want, err) < 0)
		return -1;
	size_t got = 0;
	do {
		ssize_t n = ml_istream_read(r->in, r->buf + r->end, room(r), err);
		if (n < 0)
			return -1;
		if (n == 0) {
			r->at_eof = 1;
			break;
		}
		r->end += (size_t)n;
		got += (size_t)n;
	} while (got < pending && room(r) > 0);
	r->buf[r->end] = '\0';
	r->stats.bytes_read += got;
	return 0;
}

/* Skip a UTF-8 byte order mark at the very start of an input. */
static int skip_bom(struct ml_reader *r, struct ml_err *err)
{
	while (r->end - r->pos < 3 && !r->at_eof)
		if (fill(r, err) < 0)
			return -1;
	if (r->end - r->pos >= 3 && !memcmp(r->buf + r->pos, "\xef\xbb\xbf", 3))
		r->pos += 3;
	return 0;
}

static int open_input(struct ml_reader *r, size_t i, struct ml_err *err)
{
	const char *uri = r->nuris ? r->uris[i] : "-";
	r->in = r->given ? r->given : ml_open_read(uri, err);
	r->given = NULL;
	if (!r->in)
		return -1;
	r->name = r->in->name;
	r->cur = i;
	r->at_eof = 0;
	r->line = 1;
	return skip_bom(r, err);
}

static enum ml_format sniff_format(struct ml_reader *r)
{
	for (size_t i = r->pos; i < r->end; i++) {
		char c = r->buf[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		return c == '{' ? ML_FMT_NDJSON : ML_FMT_CSV;
	}
	return ML_FMT_CSV;
}

/* ---- records ---- */

uint64_t ml_count_lines(const char *p, size_t n)
{
	uint64_t lines = 0;
	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
		lines++;
	return lines;
}

void ml_reader_where(const struct ml_reader *r, const struct ml_record *rec, long field, char *buf,
		     size_t bufsz)
{
	size_t offset = 0;
	if (field >= 0 && (size_t)field < rec->nfields && !(rec->fields[field].flags & ML_FIELD_ABSENT))
		offset = rec->fields[field].offset;
	if (offset > rec->raw_len)
		offset = rec->raw_len;
	uint64_t line = rec->line + ml_count_lines(rec->raw, offset);
	const char *line_start = rec->raw;
	for (size_t i = 0; i < offset; i++)
		if (rec->raw[i] == '\n')
			line_start = rec->raw + i + 1;
	snprintf(buf, bufsz, "%s:%llu:%zu", r->name, (unsigned long long)line,
		 (size_t)(rec->raw + offset - line_start) + 1);
}

static int write_rejected(struct ml_reader *r, const struct ml_record *rec, struct ml_err *err)
{
	if (!r->rejects)
		return 0;
	if (ml_ostream_write(r->rejects, rec->raw, rec->raw_len, err) < 0)
		return -1;
	/* Keep one record per line even if the last one had no line end. */
	if (rec->raw_len && rec->raw[rec->raw_len - 1] != '\n')
		return ml_ostream_write(r->rejects, "\n", 1, err);
	return 0;
}

/*
 * The one place a bad record is dealt with: an error (FAIL), or a warning, a
 * copy in --rejects and a skip (SKIP).  While a sample is being read under a
 * mark, bad records are passed over silently: the real pass reports them.
 */
static int dispose_bad(struct ml_reader *r, const struct ml_record *rec, long field, const char *why,
		       struct ml_err *err)
{
	char where[512];
	if (r->marked)
		return 0;
	ml_reader_where(r, rec, field, where, sizeof where);
	if (r->opts.on_error == ML_ON_ERROR_FAIL)
		return ml_err_set(err, ML_ERR_DATA, "%s: %s", where, why);
	r->stats.rows_rejected++;
	ml_warn("%s: %s (row skipped%s)", where, why, r->rejects ? ", kept in the rejects file" : "");
	return write_rejected(r, rec, err);
}

int ml_reader_reject(struct ml_reader *r, const struct ml_record *rec, long field, struct ml_err *why,
		     struct ml_err *err)
{
	return dispose_bad(r, rec, field, why->msg, err);
}

/* A record the parser refused: rebuild its extent so it can be reported. */
static int parser_refused(struct ml_reader *r, size_t pos0, uint64_t line0, struct ml_err *err)
{
	struct ml_field f = { "", 0, 0, (uint32_t)r->bad_offset };
	struct ml_record bad = { 1, &f, r->buf + pos0, r->pos - pos0, line0, r->row };
	r->line = line0 + ml_count_lines(bad.raw, bad.raw_len);
	return dispose_bad(r, &bad, 0, r->bad_msg, err);
}

/* --no-header: the first record says how many columns there are. */
static int name_columns_by_position(struct ml_reader *r, size_t n)
{
	char name[32];
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(name, sizeof name, "c%zu", i);
		if (ml_reader_add_column(r, name, (size_t)len) < 0)
			return -1;
	}
	return 0;
}

static int check_field_count(struct ml_reader *r, struct ml_record *rec, struct ml_err *err, int *ok)
{
	*ok = 1;
	if (r->format != ML_FMT_CSV)
		return 0;
	if (r->ncols == 0 && !r->opts.header) {
		if (name_columns_by_position(r, rec->nfields) < 0)
			return ml_err_set(err, ML_ERR_INTERNAL, "out of memory naming columns");
		return 0;
	}
	if (rec->nfields == r->ncols)
		return 0;
	*ok = 0;
	char why[160];
	snprintf(why, sizeof why, "expected %zu fields as in the header, found %zu", r->ncols, rec->nfields);
	long at = rec->nfields > r->ncols ? (long)r->ncols : (long)rec->nfields - 1;
	return dispose_bad(r, rec, at, why, err);
}

static enum parse_result parse_one(struct ml_reader *r, struct ml_record *rec)
{
	return r->format == ML_FMT_NDJSON ? ml_ndjson_parse_record(r, rec) : ml_csv_parse_record(r, rec);
}

static int read_header(struct ml_reader *r, struct ml_err *err);
static int next_input(struct ml_reader *r, struct ml_err *err);

/* 1 with a record, 0 at the end of the input (or of a marked sample), -1. */
static int next_record(struct ml_reader *r, struct ml_record *rec, struct ml_err *err)
{
	for (;;) {
		if (r->pos == r->end) {
			if (!r->at_eof) {
				if (fill(r, err) < 0)
					return -1;
				continue;
			}
			if (r->marked)
				return 0;	/* a sample stays within one input */
			int more = next_input(r, err);
			if (more <= 0)
				return more;
			continue;
		}
		size_t pos0 = r->pos;
		uint64_t line0 = r->line;
		switch (parse_one(r, rec)) {
		case PARSE_OK:
			if (rec->raw_len > r->opts.max_record)
				return too_long(r, line0, err);
			return 1;
		case PARSE_BLANK:
			continue;
		case PARSE_NEED_MORE:
			if (fill(r, err) < 0)
				return -1;
			continue;
		case PARSE_BAD:
			r->stats.rows_read++;
			r->row++;
			if (parser_refused(r, pos0, line0, err) < 0)
				return -1;
			continue;
		}
	}
}

int ml_reader_next(struct ml_reader *r, struct ml_record *rec, struct ml_err *err)
{
	for (;;) {
		int rc = next_record(r, rec, err);
		if (rc <= 0)
			return rc;
		rec->row = r->row++;
		r->stats.rows_read++;
		int ok;
		if (check_field_count(r, rec, err, &ok) < 0)
			return -1;
		if (ok)
			return 1;
	}
}

/* ---- headers and inputs ---- */

static int header_names_match(struct ml_reader *r, const struct ml_record *rec)
{
	if (rec->nfields != r->ncols)
		return 0;
	for (size_t i = 0; i < r->ncols; i++)
		if (strlen(r->colnames[i]) != rec->fields[i].len ||
		    memcmp(r->colnames[i], rec->fields[i].ptr, rec->fields[i].len))
			return 0;
	return 1;
}

static int define_columns(struct ml_reader *r, const struct ml_record *rec, struct ml_err *err)
{
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct ml_field *f = &rec->fields[i];
		char where[512];
		ml_reader_where(r, rec, (long)i, where, sizeof where);
		if (ml_utf8_valid_prefix(f->ptr, f->len) != f->len)
			return ml_err_set(err, ML_ERR_DATA, "%s: column name is not valid UTF-8", where);
		if (ml_dict_find(r->colindex, f->ptr, f->len) >= 0)
			return ml_err_set(err, ML_ERR_DATA, "%s: duplicate column name \"%.*s\"", where,
					  (int)(f->len > 64 ? 64 : f->len), f->ptr);
		if (ml_reader_add_column(r, f->ptr, f->len) < 0)
			return ml_err_set(err, ML_ERR_DATA, "%s: too many columns (at most %d)", where,
					  MAX_COLUMNS);
	}
	if (ml_buf_add(&r->header_raw, rec->raw, rec->raw_len) < 0)
		return ml_err_set(err, ML_ERR_DATA, "%s: header line too long", r->name);
	return 0;
}

/* A CSV header: the first input's defines the columns; later ones must match. */
static int read_header(struct ml_reader *r, struct ml_err *err)
{
	struct ml_record rec;
	int saved = r->opts.on_error;
	r->opts.on_error = ML_ON_ERROR_FAIL;	/* a bad header is never skippable */
	int rc = next_record(r, &rec, err);
	r->opts.on_error = saved;
	if (rc <= 0)
		return rc;
	if (r->ncols == 0 && r->header_raw.len == 0)
		return define_columns(r, &rec, err);
	if (!header_names_match(r, &rec))
		return ml_err_set(err, ML_ERR_DATA,
				  "%s:%llu: header differs from the first input's; inputs read together "
				  "must have the same columns in the same order",
				  r->name, (unsigned long long)rec.line);
	return 1;
}

/* Move to the next input: 1 if there is one, 0 at the end of all, -1. */
static int next_input(struct ml_reader *r, struct ml_err *err)
{
	if (r->cur + 1 >= (r->nuris ? r->nuris : 1))
		return 0;
	ml_istream_close(r->in);
	r->in = NULL;
	r->pos = r->end = 0;
	if (open_input(r, r->cur + 1, err) < 0)
		return -1;
	if (r->format == ML_FMT_CSV && r->opts.header && read_header(r, err) < 0)
		return -1;
	return 1;
}

static int open_rejects(struct ml_reader *r, struct ml_err *err)
{
	if (!r->opts.rejects)
		return 0;
	r->rejects = ml_open_write(r->opts.rejects, ML_WRITE_TRUNCATE, err);
	if (!r->rejects)
		return -1;
	/* The header first, so a fixed rejects file can be fed back in. */
	if (r->header_raw.len)
		return ml_ostream_write(r->rejects, r->header_raw.data, r->header_raw.len, err);
	return 0;
}

/* NDJSON and headerless CSV: read one record ahead so the columns are known. */
static int peek_columns(struct ml_reader *r, struct ml_err *err)
{
	struct ml_record rec;
	if (ml_reader_mark(r, err) < 0)
		return -1;
	int rc = ml_reader_next(r, &rec, err);
	if (rc < 0)
		return -1;
	return ml_reader_reset(r, err);
}

static int copy_uris(struct ml_reader *r, const char *const *uris, size_t n)
{
	r->uris = calloc(n + 1, sizeof *r->uris);
	if (!r->uris)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!(r->uris[i] = strdup(uris[i])))
			return -1;
	r->nuris = n;
	return 0;
}

static struct ml_reader *reader_open(const char *const *uris, size_t n, struct ml_istream *given,
				     size_t size_hint, const struct ml_reader_opts *opts, struct ml_err *err)
{
	struct ml_reader *r = ml_calloc(1, sizeof *r, err);
	if (!r) {
		ml_istream_close(given);
		return NULL;
	}
	r->given = given;
	r->chunk = size_hint && size_hint < READ_CHUNK ? size_hint + 1 : READ_CHUNK;
	r->opts = *opts;
	if (!r->opts.batch_rows)
		r->opts.batch_rows = DEFAULT_BATCH_ROWS;
	if (!r->opts.max_record)
		r->opts.max_record = DEFAULT_MAX_RECORD;
	build_stop_tables(r);
	ml_buf_init(&r->scratch, r->opts.max_record);
	ml_buf_init(&r->header_raw, r->opts.max_record);
	r->colindex = ml_dict_new(MAX_COLUMNS, err);
	if (!r->colindex || copy_uris(r, uris, n) < 0 || make_room(r, r->chunk, err) < 0)
		goto fail;
	if (open_input(r, 0, err) < 0)
		goto fail;
	r->format = opts->format != ML_FMT_AUTO ? opts->format : sniff_format(r);
	if (r->format == ML_FMT_CSV && r->opts.header) {
		if (read_header(r, err) < 0)
			goto fail;
	} else if (peek_columns(r, err) < 0) {
		goto fail;
	}
	if (open_rejects(r, err) < 0)
		goto fail;
	return r;
fail:
	if (err && err->class == ML_ERR_NONE)
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory opening the reader");
	ml_reader_close(r);
	return NULL;
}

struct ml_reader *ml_reader_open(const char *const *uris, size_t n, const struct ml_reader_opts *opts,
				 struct ml_err *err)
{
	return reader_open(uris, n, NULL, 0, opts, err);
}

struct ml_reader *ml_reader_open_stream(struct ml_istream *in, size_t size_hint, const struct ml_reader_opts *opts,
					struct ml_err *err)
{
	return reader_open(NULL, 0, in, size_hint, opts, err);
}

/* ---- parts (chunks.c) ---- */

static int copy_binding(struct ml_reader *r, const struct ml_reader *like, struct ml_err *err)
{
	for (size_t i = 0; i < like->ncols; i++)
		if (ml_reader_add_column(r, like->colnames[i], strlen(like->colnames[i])) < 0)
			return ml_err_set(err, ML_ERR_INTERNAL, "out of memory copying the columns");
	if (!like->schema)
		return 0;
	if (!(r->bind = ml_calloc(like->nbind, sizeof *r->bind, err)))
		return -1;
	r->schema = like->schema;
	r->nbind = like->nbind;
	r->bind_ncols = like->bind_ncols;
	for (size_t i = 0; i < like->nbind; i++) {
		r->bind[i].src = like->bind[i].src;
		if (like->bind[i].dict && !(r->bind[i].dict = ml_dict_new(MAX_CATEGORIES, err)))
			return -1;
	}
	return 0;
}

struct ml_reader *ml_reader_open_part(const struct ml_reader *like, char *data, size_t len, size_t alloc,
				      uint64_t first_line, struct ml_err *err)
{
	struct ml_reader *r = ml_calloc(1, sizeof *r, err);
	if (!r) {
		free(data);
		return NULL;
	}
	r->opts = like->opts;
	r->opts.rejects = NULL;
	r->chunk = READ_CHUNK;
	r->name = like->name;
	r->format = like->format;
	r->part = 1;
	r->buf = data;
	r->alloc = alloc;
	r->end = len;
	r->buf[len] = '\0';
	r->at_eof = 1;		/* no input stream: the bytes are all there is */
	r->first_bytes_seen = 1;
	r->line = first_line;
	build_stop_tables(r);
	ml_buf_init(&r->scratch, r->opts.max_record);
	ml_buf_init(&r->header_raw, r->opts.max_record);
	r->colindex = ml_dict_new(MAX_COLUMNS, err);
	if (!r->colindex || copy_binding(r, like, err) < 0) {
		if (err && err->class == ML_ERR_NONE)
			ml_err_set(err, ML_ERR_INTERNAL, "out of memory opening a part of %s", like->name);
		ml_reader_close(r);
		return NULL;
	}
	return r;
}

int ml_reader_unread(struct ml_reader *r, const char *data, size_t len, uint64_t line, struct ml_err *err)
{
	size_t pending = r->end - r->pos, need = len + pending + 1;
	if (need > r->alloc) {
		char *buf = realloc(r->buf, need);
		if (!buf)
			return ml_err_set(err, ML_ERR_INTERNAL, "out of memory buffering %s", r->name);
		r->buf = buf;
		r->alloc = need;
	}
	memmove(r->buf + len, r->buf + r->pos, pending);
	memcpy(r->buf, data, len);
	r->pos = 0;
	r->end = len + pending;
	r->buf[r->end] = '\0';
	r->line = line;
	return 0;
}

/* ---- mark / reset ---- */

int ml_reader_mark(struct ml_reader *r, struct ml_err *err)
{
	if (r->marked)
		return ml_err_set(err, ML_ERR_INTERNAL, "reader is already marked");
	r->marked = 1;
	r->mark_pos = r->pos;
	r->mark_line = r->line;
	r->mark_row = r->row;
	return 0;
}

int ml_reader_reset(struct ml_reader *r, struct ml_err *err)
{
	if (!r->marked)
		return ml_err_set(err, ML_ERR_INTERNAL, "reader reset without a mark");
	r->marked = 0;
	r->pos = r->mark_pos;
	r->line = r->mark_line;
	r->stats.rows_read -= r->row - r->mark_row;
	r->row = r->mark_row;
	return 0;
}

/* ---- accessors ---- */

enum ml_format ml_reader_format(const struct ml_reader *r)
{
	return r->format;
}

size_t ml_reader_ncols(const struct ml_reader *r)
{
	return r->ncols;
}

const char *ml_reader_colname(const struct ml_reader *r, size_t i)
{
	return i < r->ncols ? r->colnames[i] : NULL;
}

long ml_reader_find_column(const struct ml_reader *r, const char *name)
{
	return ml_dict_find(r->colindex, name, strlen(name));
}

const char *ml_reader_header_raw(const struct ml_reader *r, size_t *len)
{
	*len = r->header_raw.len;
	return r->header_raw.data;
}

void ml_reader_stats(const struct ml_reader *r, struct ml_stream_stats *st)
{
	*st = r->stats;
}

void ml_reader_close(struct ml_reader *r)
{
	if (!r)
		return;
	if (r->progress_started)
		ml_progress_finish(&r->progress);
	if (r->in)
		ml_istream_close(r->in);
	ml_istream_close(r->given);
	if (r->rejects)
		ml_ostream_close(r->rejects, 1, NULL);
	for (size_t i = 0; r->uris && i < r->nuris; i++)
		free(r->uris[i]);
	free(r->uris);
	for (size_t i = 0; i < r->ncols; i++)
		free(r->colnames[i]);
	free(r->colnames);
	ml_dict_free(r->colindex);
	for (size_t i = 0; i < r->nbind; i++)
		ml_dict_free(r->bind[i].dict);
	free(r->bind);
	free(r->fields);
	free(r->buf);
	ml_buf_release(&r->scratch);
	ml_buf_release(&r->header_raw);
	free(r);
}
