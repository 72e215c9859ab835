/*
 * stream.h - the record stream every filter reads and writes (DESIGN.md 2).
 *
 * One reader serves every filter.  It takes CSV (RFC 4180: quoted fields,
 * "" escapes, separators and newlines inside quotes, CRLF, a UTF-8 BOM; with
 * a header, or --no-header where columns are named by position) or NDJSON
 * (one object per line), detected from the first byte.  It streams: memory
 * is bounded by the batch size and the longest record, never by the input.
 *
 * Two levels:
 *
 *   records  ml_reader_next() gives one record's fields as borrowed text,
 *            indexed by column, with the raw bytes and the line it began on.
 *
 *   batches  after ml_reader_bind() to a schema, ml_reader_read_batch()
 *            gives columns: numeric as double arrays (NaN = missing),
 *            categorical as interned ids (-1 = missing), text as bytes.
 *            Columns whose role is IGNORE, and input columns the schema does
 *            not name, are never parsed.
 *
 *     struct ml_reader *r = ml_reader_open(files, nfiles, &opts, &err);
 *     ml_schema_infer(r, &infer, &schema, &err);       // or a model's schema
 *     ml_reader_bind(r, &schema, &err);
 *     struct ml_batch b;
 *     ml_batch_init(&b);
 *     while ((n = ml_reader_read_batch(r, &b, &err)) > 0)
 *             use(b.cols[i].num, b.nrows);
 *     if (n < 0) return ml_fail(&err);
 *     ml_batch_release(&b);
 *     ml_reader_close(r);
 *
 * Bad input never crashes and never silently disappears.  A record that
 * cannot be read (unterminated quote, wrong number of fields, invalid JSON,
 * a value that is not a number in a numeric column) is an error naming
 * file:line:column, or with on_error = SKIP it is copied verbatim to the
 * rejects stream, counted, reported as a warning, and skipped.
 */
#ifndef MLPIPE_STREAM_H
#define MLPIPE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cli.h"
#include "err.h"
#include "schema.h"

enum ml_format { ML_FMT_AUTO = 0, ML_FMT_CSV, ML_FMT_NDJSON };
enum ml_on_error { ML_ON_ERROR_FAIL = 0, ML_ON_ERROR_SKIP };

const char *ml_format_name(enum ml_format f);	/* "auto", "csv", "ndjson" */

struct ml_reader_opts {
	enum ml_format format;		/* AUTO: '{' (after BOM/space) means NDJSON */
	int header;			/* CSV: first line names the columns (default 1) */
	char delimiter;			/* CSV: ',' by default */
	size_t batch_rows;		/* rows per batch; default 4096 */
	size_t max_record;		/* bytes in one record; default 64 MiB */
	enum ml_on_error on_error;
	const char *rejects;		/* URI that keeps skipped records verbatim, or NULL */
	int keep_raw;			/* batches keep each row's raw text */
};

void ml_reader_opts_init(struct ml_reader_opts *o);

/* ---- records ---- */

enum ml_field_flags {
	ML_FIELD_ABSENT = 1 << 0,	/* NDJSON key missing, or JSON null */
	ML_FIELD_QUOTED = 1 << 1,	/* CSV quoted, or JSON string */
	ML_FIELD_JSON_NUMBER = 1 << 2,	/* a JSON number literal */
	ML_FIELD_JSON_BOOL = 1 << 3,	/* "true" / "false" */
	ML_FIELD_JSON_NESTED = 1 << 4,	/* an object or array, as raw JSON text */
};

struct ml_field {
	const char *ptr;	/* unescaped text; not NUL-terminated */
	uint32_t len;
	uint32_t flags;		/* enum ml_field_flags */
	uint32_t offset;	/* byte offset of the field in the raw record (messages) */
};

/* Borrowed: valid until the next call on the reader. */
struct ml_record {
	size_t nfields;			/* == ml_reader_ncols() at the time */
	const struct ml_field *fields;	/* indexed by column */
	const char *raw;		/* the record's bytes as read, line end included */
	size_t raw_len;
	uint64_t line;			/* 1-based line the record starts on */
	uint64_t row;			/* 0-based data row number over all inputs */
};

struct ml_reader;

/*
 * Open a reader over inputs read one after another (n == 0: standard input).
 * CSV inputs after the first must have the same header.  The header (or, for
 * NDJSON, the first record) is read here, so column names are known after
 * open.
 */
struct ml_reader *ml_reader_open(const char *const *uris, size_t n,
				 const struct ml_reader_opts *opts, struct ml_err *err);
void ml_reader_close(struct ml_reader *r);
/*
 * The same over one stream the reader owns (closes), e.g. ml_istream_mem();
 * size_hint, the bytes it holds if known (else 0), keeps the buffer of a
 * small stream small (one request's body).
 */
struct ml_istream;
struct ml_reader *ml_reader_open_stream(struct ml_istream *in, size_t size_hint, const struct ml_reader_opts *opts,
					struct ml_err *err);

enum ml_format ml_reader_format(const struct ml_reader *r);
/* Columns: the CSV header ("c0", "c1", ... with --no-header), or NDJSON keys
 * in order of first appearance (a later record may add columns). */
size_t ml_reader_ncols(const struct ml_reader *r);
const char *ml_reader_colname(const struct ml_reader *r, size_t i);
long ml_reader_find_column(const struct ml_reader *r, const char *name);
/* The header line as read (CSV with header), for passing it through. */
const char *ml_reader_header_raw(const struct ml_reader *r, size_t *len);

/* 1: *rec filled; 0: end of input; -1: error (err says where). */
int ml_reader_next(struct ml_reader *r, struct ml_record *rec, struct ml_err *err);

/*
 * Mark/reset: remember the position before reading a sample, then go back
 * to it so no row is lost (used by ml_schema_infer).  While a mark is set,
 * buffered input is kept (up to 4 * max_record bytes).
 */
int ml_reader_mark(struct ml_reader *r, struct ml_err *err);
int ml_reader_reset(struct ml_reader *r, struct ml_err *err);

/*
 * Reject the record just read (a filter found it bad): write it verbatim to
 * the rejects stream and warn with the message in why; with on_error = FAIL
 * this returns -1 and err holds why, with file:line:column.  field < 0 names
 * no particular field.
 */
int ml_reader_reject(struct ml_reader *r, const struct ml_record *rec, long field,
		     struct ml_err *why, struct ml_err *err);

/* "cars.csv:12:7" for a field of a record (field < 0: column 1). */
void ml_reader_where(const struct ml_reader *r, const struct ml_record *rec, long field,
		     char *buf, size_t bufsz);

/* ---- batches ---- */

struct ml_dict;

struct ml_batch_col {
	enum ml_type type;
	enum ml_role role;
	const char *name;		/* borrowed from the schema */
	double *num;			/* NUMERIC: NaN = missing */
	int32_t *cat;			/* CATEGORICAL: id in dict, -1 = missing */
	uint32_t *text_off;		/* TEXT: offset into batch text arena */
	uint32_t *text_len;		/*       ML_TEXT_MISSING, or the length | ML_TEXT_JSON */
	const struct ml_dict *dict;	/* CATEGORICAL: id <-> string, stable over the stream */
	long src;			/* input column feeding it, -1 if absent from input */
};

/*
 * A text cell's length: ML_TEXT_MISSING, or the length in bytes with
 * ML_TEXT_JSON set when the text is a JSON value other than a string (an
 * NDJSON number, true/false, object or array), which NDJSON output writes
 * back as that value rather than as a string.  ml_text_len() is the length.
 */
#define ML_TEXT_MISSING UINT32_MAX
#define ML_TEXT_JSON ((uint32_t)1 << 31)

static inline uint32_t ml_text_len(uint32_t v)
{
	return v == ML_TEXT_MISSING ? 0 : v & ~ML_TEXT_JSON;
}

struct ml_batch {
	size_t nrows;
	size_t cap;			/* rows allocated */
	size_t ncols;			/* == schema columns */
	struct ml_batch_col *cols;
	uint64_t *line;			/* source line of each row */
	uint64_t *row;			/* input row number of each row */
	struct ml_buf text;		/* TEXT arena */
	struct ml_buf raw;		/* raw row arena (keep_raw) */
	uint32_t *raw_off;
	uint32_t *raw_len;
};

void ml_batch_init(struct ml_batch *b);
void ml_batch_release(struct ml_batch *b);
/*
 * A deep copy of src's rows (not the raw text); category ids keep pointing
 * into the reader's dictionaries, so the reader must stay open and unbound
 * again while the copy is used.
 */
int ml_batch_copy(struct ml_batch *dst, const struct ml_batch *src, struct ml_err *err);

/*
 * Bind the reader to a schema: batches then have one column per schema
 * column, filled from the input column of the same name.  A schema column
 * the input lacks is an error unless allow_missing (then it is all missing).
 * Columns are matched by name, so the input may have them in any order and
 * may have more (they are skipped unparsed).
 */
int ml_reader_bind(struct ml_reader *r, const struct ml_schema *s, int allow_missing,
		   struct ml_err *err);

/* Rows read into b (b is reset first); 0 at end of input; -1 on error. */
long ml_reader_read_batch(struct ml_reader *r, struct ml_batch *b, struct ml_err *err);

/*
 * Every batch of r (bound) to fn, in order, until the end of input (0) or an
 * error (-1: reading, or fn's).  With more than one thread (ml_threads()),
 * the next batch is read on a second thread while fn works on this one, so
 * parsing and the caller's work overlap; the batch is borrowed until fn
 * returns.  A schema with categorical columns is read in this thread: their
 * ids point into dictionaries the reader grows as it reads.
 */
typedef int (*ml_batch_fn)(const struct ml_batch *b, void *ctx, struct ml_err *err);
int ml_reader_each_batch(struct ml_reader *r, ml_batch_fn fn, void *ctx, struct ml_err *err);

/* A categorical column's dictionary, after bind; NULL for other types. */
const struct ml_dict *ml_reader_dict(const struct ml_reader *r, size_t schema_col);

/* Counters for the -v summary. */
struct ml_stream_stats {
	uint64_t rows_read;		/* records read, including rejected ones */
	uint64_t rows_rejected;
	uint64_t bytes_read;
};
void ml_reader_stats(const struct ml_reader *r, struct ml_stream_stats *st);

/* ---- writer ---- */

struct ml_writer_opts {
	enum ml_format format;		/* CSV or NDJSON (AUTO: CSV) */
	int header;			/* CSV: write the header line (default 1) */
	char delimiter;
	int line_buffered;		/* flush after every row */
};

void ml_writer_opts_init(struct ml_writer_opts *o);

struct ml_writer;

struct ml_writer *ml_writer_open(const char *uri, const struct ml_writer_opts *opts,
				 struct ml_err *err);
/* Name the output columns; writes the CSV header (NDJSON uses them as keys). */
int ml_writer_set_columns(struct ml_writer *w, const char *const *names, size_t n,
			  struct ml_err *err);
/* Append the next field of the current row. */
int ml_writer_num(struct ml_writer *w, double v, struct ml_err *err);	/* NaN: empty/null */
int ml_writer_str(struct ml_writer *w, const char *s, size_t len, struct ml_err *err);
int ml_writer_null(struct ml_writer *w, struct ml_err *err);
/* A field already in output syntax (a JSON value for NDJSON, CSV text as is). */
int ml_writer_verbatim(struct ml_writer *w, const char *s, size_t len, struct ml_err *err);
/* A JSON value's text (a number, true/false, an object or array): itself in NDJSON, a field's text in CSV. */
int ml_writer_json(struct ml_writer *w, const char *s, size_t len, struct ml_err *err);
/* A batch cell as its type says: number, category name or text; missing as null. */
int ml_writer_cell(struct ml_writer *w, const struct ml_batch *b, size_t col, size_t row, struct ml_err *err);
int ml_writer_end_row(struct ml_writer *w, struct ml_err *err);
/* Bytes written as they are, outside the row structure (passthrough). */
int ml_writer_raw(struct ml_writer *w, const char *s, size_t len, struct ml_err *err);
/* A whole row already in output syntax, line end included (a joined input record). */
int ml_writer_row_raw(struct ml_writer *w, const char *s, size_t len, struct ml_err *err);
int ml_writer_flush(struct ml_writer *w, struct ml_err *err);
/* Flush and close; commit = 0 discards (atomic outputs). Frees w. */
int ml_writer_close(struct ml_writer *w, int commit, struct ml_err *err);
/*
 * A writer into memory (a response body): ml_writer_mem_data() gives what
 * was written so far (borrowed, valid until the next write or close).
 */
struct ml_writer *ml_writer_open_mem(const struct ml_writer_opts *opts, struct ml_err *err);
const char *ml_writer_mem_data(const struct ml_writer *w, size_t *len);
uint64_t ml_writer_rows(const struct ml_writer *w);
int ml_writer_line_buffered(const struct ml_writer *w);	/* a co-process's: every row flushed */

/*
 * Format rows 0..nrows-1 on several threads: fn(w', begin, end, ctx, err)
 * writes rows [begin, end) with the ml_writer_* calls into w' (w itself for
 * the first share, an in-memory copy for the others; ml_threads() shares),
 * and the shares reach
 * the output in row order: the same bytes as fn(w, 0, nrows, ...).  fn must
 * only read shared data.  Formatting numbers is most of a filter's output
 * cost; this spreads it over the cores.
 */
typedef int (*ml_row_writer_fn)(struct ml_writer *w, size_t begin, size_t end, void *ctx,
				struct ml_err *err);
int ml_writer_rows_parallel(struct ml_writer *w, size_t nrows, ml_row_writer_fn fn, void *ctx,
			    struct ml_err *err);

/*
 * An in-memory writer with w's columns and options (ml_writer_close() frees
 * it), and its rows appended to w, which empties it: how output made on
 * other threads reaches w in order.
 */
struct ml_writer *ml_writer_fork(const struct ml_writer *w, struct ml_err *err);
int ml_writer_append(struct ml_writer *w, struct ml_writer *fork, struct ml_err *err);

/*
 * The rest of r's input on several threads (chunks.c).  The bytes are cut
 * into parts of whole lines; each part is read by a reader of its own (r's
 * columns, binding, options and line numbers, so messages name the same
 * file:line) and fn(part, out, workers[t], err) runs on worker thread t,
 * writing the part's rows into out, a fork of w; the parts reach w in input
 * order, so the output is the same bytes as one reader's.  ml_threads() is 1
 * inside fn.
 *
 * A cut at a line end is a record boundary while no record spans lines:
 * NDJSON always, CSV while no '"' appears.  From the first part holding a
 * '"' on, the bytes go back to r, and so does an input r cannot cut (rejects
 * or --on-error skip, which keep the input's order; several inputs; a
 * mark), or one a co-process feeds (w line-buffered: a part would wait for
 * a MiB of input): ml_reader_each_part() then returns 1 and the caller reads
 * the rest from r as usual.  Otherwise 0, or -1 with err: the first part's failure
 * in input order, after the parts before it reached w.
 */
typedef int (*ml_part_fn)(struct ml_reader *part, struct ml_writer *out, void *worker, struct ml_err *err);
int ml_reader_each_part(struct ml_reader *r, struct ml_writer *w, ml_part_fn fn, void *const *workers,
			size_t nworkers, struct ml_err *err);

/* "read 804 rows, wrote 804, rejected 0" at -v (w may be NULL). */
void ml_stream_log_summary(const struct ml_reader *r, const struct ml_writer *w);

/* ---- the options every stream-reading filter shares ---- */

struct ml_stream_cli {
	int input_format;	/* ML_OPT_CHOICE over "auto|csv|ndjson" */
	int output_format;	/* "auto|csv|ndjson"; auto follows the input */
	int no_header;
	int on_error;		/* "fail|skip" */
	char *rejects;
	long batch_size;
	char *delimiter;
	int line_buffered;
	long threads;		/* --threads: 0 = one per CPU (threads.h) */
};

void ml_stream_cli_init(struct ml_stream_cli *s);
/*
 * The option table for s: --input-format, --output-format, --no-header,
 * --on-error, --rejects, --batch-size, --delimiter, --line-buffered, --threads.
 * The table is static storage bound to s (one stream_cli per process).
 */
const struct ml_opt *ml_stream_cli_options(struct ml_stream_cli *s);
int ml_stream_cli_reader_opts(const struct ml_stream_cli *s, struct ml_reader_opts *o,
			      struct ml_err *err);
/* Writer options; input is the reader's detected format for "auto". */
int ml_stream_cli_writer_opts(const struct ml_stream_cli *s, enum ml_format input,
			      struct ml_writer_opts *o, struct ml_err *err);

#endif
