/*
 * reader_int.h - the reader's state, shared by reader.c (buffering, inputs,
 * errors), csv.c and ndjson.c (record syntax) and batch.c (columns).
 * Not installed; filters use stream.h.
 */
#ifndef MLPIPE_READER_INT_H
#define MLPIPE_READER_INT_H

#include "mlpipe/dict.h"
#include "mlpipe/progress.h"
#include "mlpipe/stream.h"
#include "mlpipe/uri.h"

#define MAX_CATEGORIES (1u << 20)	/* distinct levels in one categorical column */

/* Result of trying to parse one record from the buffered bytes. */
enum parse_result {
	PARSE_OK = 0,		/* rec filled, r->pos advanced past it */
	PARSE_NEED_MORE,	/* the record may continue beyond the buffered bytes */
	PARSE_BAD,		/* malformed: r->bad_* say where and why; r->pos past it */
	PARSE_BLANK,		/* an empty line: skipped, r->pos advanced */
};

/* Internal field flags, above the public ones. */
#define FIELD_IN_SCRATCH (1u << 30)	/* ptr holds an offset into r->scratch */
#define FIELD_SEEN (1u << 29)		/* NDJSON: key already given in this object */

struct bind_col {
	long src;			/* input column, or -1 */
	struct ml_dict *dict;		/* categorical levels */
};

struct ml_reader {
	struct ml_reader_opts opts;
	char **uris;			/* copies; NULL-terminated */
	size_t nuris, cur;
	struct ml_istream *in;
	struct ml_istream *given;	/* ml_reader_open_stream's input, until opened */
	size_t chunk;			/* bytes read at a time (less for a small stream) */
	const char *name;		/* current input for messages */
	int at_eof;			/* current input fully buffered */

	/* CSV: bytes that end an unquoted field (delimiter, '\n', NUL) and a
	 * quoted one ('"', NUL); the NUL sentinel at buf[end] ends every scan. */
	unsigned char csv_stop[256];
	unsigned char csv_quote_stop[256];

	/* Bytes [pos, end) of buf are unparsed; buf[end] is a NUL sentinel. */
	char *buf;
	size_t alloc, pos, end;
	uint64_t line;			/* line number of buf[pos] */
	uint64_t row;			/* next data row number */
	int first_bytes_seen;		/* BOM check done for this input */

	enum ml_format format;
	char **colnames;
	size_t ncols, colalloc;
	struct ml_dict *colindex;	/* column name -> index */
	struct ml_buf header_raw;

	struct ml_field *fields;	/* current record, indexed by column */
	size_t fields_alloc;
	struct ml_buf scratch;		/* unescaped text of the current record */

	/* Where the last PARSE_BAD was, and why (message without location). */
	size_t bad_offset;		/* from the record start */
	char bad_msg[256];

	int marked;
	size_t mark_pos;
	uint64_t mark_line, mark_row;

	struct ml_ostream *rejects;
	struct ml_stream_stats stats;
	struct ml_progress progress;	/* "reading [###...] 45%", when enabled */
	int progress_started;
	int part;			/* reads a part of another reader's input (chunks.c) */

	/* After ml_reader_bind(). */
	const struct ml_schema *schema;
	struct bind_col *bind;
	size_t nbind;
	size_t bind_ncols;		/* ncols when bind[].src was last resolved */
};

/* Record parsers: look at buf[pos..end) (at_eof: nothing more will come). */
enum parse_result ml_csv_parse_record(struct ml_reader *r, struct ml_record *rec);
enum parse_result ml_ndjson_parse_record(struct ml_reader *r, struct ml_record *rec);

/* Helpers the parsers share with reader.c. */
int ml_reader_ensure_fields(struct ml_reader *r, size_t n);
int ml_reader_add_column(struct ml_reader *r, const char *name, size_t len);
void ml_reader_set_bad(struct ml_reader *r, size_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Line ends in p[0, n): how far the line number moves over those bytes. */
uint64_t ml_count_lines(const char *p, size_t n);

/* "reading [###...] 45%" on a terminal, by the bytes read so far. */
void ml_reader_show_progress(struct ml_reader *r);

/*
 * A reader of part of like's input: data[0, len) (malloc'd, alloc >= len + 1
 * bytes, taken over) holds whole records of like's format, the first on line
 * first_line; same columns, options and binding as like, without a header,
 * rejects or progress display.  For chunks.c.
 */
struct ml_reader *ml_reader_open_part(const struct ml_reader *like, char *data, size_t len, size_t alloc,
				      uint64_t first_line, struct ml_err *err);
/* Put data[0, len) back in front of r's unparsed bytes, its first byte on line. */
int ml_reader_unread(struct ml_reader *r, const char *data, size_t len, uint64_t line, struct ml_err *err);

/* Is s[0..len) valid UTF-8?  Returns the offset of the first bad byte or len. */
size_t ml_utf8_valid_prefix(const char *s, size_t len);

#endif
