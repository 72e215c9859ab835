/*
 * csv.c - one RFC 4180 record from the reader's buffer.
 *
 * Fields point into the buffer wherever they can; only a quoted field with
 * "" escapes is copied (unescaped) to r->scratch.  Scans stop on a per-reader
 * table of bytes and rely on the NUL sentinel at buf[end], so the inner loops
 * test one table entry per byte and nothing else.
 *
 * Accepted beyond the RFC, as every CSV reader does: CRLF or LF line ends,
 * a final record without a line end, a quote inside an unquoted field (kept
 * literally).  Refused: text after a closing quote, a quote never closed,
 * NUL bytes.
 */
#include <stdint.h>
#include <string.h>

#include "reader_int.h"

struct csv_scan {
	struct ml_reader *r;
	const char *start;	/* the record's first byte */
	const char *end;	/* the end of buffered bytes */
	int quoted_newlines;	/* a quoted field held a line end */
};

static enum parse_result bad(struct csv_scan *cs, const char *at, const char *msg)
{
	struct ml_reader *r = cs->r;
	ml_reader_set_bad(r, (size_t)(at - cs->start), "%s", msg);
	/* Resume at the next line, so one bad record costs one record. */
	const char *nl = memchr(at, '\n', (size_t)(cs->end - at));
	const char *resume = nl ? nl + 1 : cs->end;
	r->pos += (size_t)(resume - cs->start);
	return PARSE_BAD;
}

static int add_field(struct ml_reader *r, size_t i, const char *ptr, size_t len, uint32_t flags,
		     size_t offset)
{
	if (i >= r->fields_alloc && ml_reader_ensure_fields(r, i + 1) < 0)
		return -1;
	struct ml_field *f = &r->fields[i];
	f->ptr = ptr;
	f->len = (uint32_t)len;
	f->flags = flags;
	f->offset = (uint32_t)offset;
	return 0;
}

/* Copy a quoted field's content with "" turned into ", into scratch. */
static int unescape_quoted(struct ml_reader *r, const char *p, const char *q, size_t *off, size_t *len)
{
	*off = r->scratch.len;
	for (const char *s = p; s < q; s++) {
		if (ml_buf_addc(&r->scratch, *s) < 0)
			return -1;
		if (*s == '"')
			s++;	/* the second quote of a "" pair */
	}
	*len = r->scratch.len - *off;
	return 0;
}

/*
 * A quoted field starting at p (on the opening quote).  On success *q is the
 * closing quote.  Returns PARSE_OK, PARSE_NEED_MORE or PARSE_BAD.
 */
static enum parse_result scan_quoted(struct csv_scan *cs, const char *p, const char **q, int *escaped)
{
	const struct ml_reader *r = cs->r;
	const char *s = p + 1;
	*escaped = 0;
	for (;;) {
		while (!r->csv_quote_stop[(unsigned char)*s])
			s++;
		if (s == cs->end)
			return r->at_eof ? bad(cs, p, "quoted field is never closed (a '\"' is missing)")
					 : PARSE_NEED_MORE;
		if (*s == '\0')
			return bad(cs, s, "NUL byte in the input (is it a binary file?)");
		if (s + 1 == cs->end && !r->at_eof)
			return PARSE_NEED_MORE;	/* can't tell "" from a closing quote yet */
		if (s + 1 < cs->end && s[1] == '"') {
			*escaped = 1;
			s += 2;
			continue;
		}
		*q = s;
		return PARSE_OK;
	}
}

static int has_newline(const char *p, const char *q)
{
	return memchr(p, '\n', (size_t)(q - p)) != NULL;
}

/* Finish the record at *p (just past the last field); fills rec. */
static enum parse_result finish(struct csv_scan *cs, struct ml_record *rec, size_t nfields,
				const char *after)
{
	struct ml_reader *r = cs->r;
	for (size_t i = 0; i < nfields; i++) {
		struct ml_field *f = &r->fields[i];
		if (f->flags & FIELD_IN_SCRATCH) {
			f->ptr = r->scratch.data + (uintptr_t)f->ptr;
			f->flags &= ~FIELD_IN_SCRATCH;
		}
	}
	rec->nfields = nfields;
	rec->fields = r->fields;
	rec->raw = cs->start;
	rec->raw_len = (size_t)(after - cs->start);
	rec->line = r->line;
	r->pos += rec->raw_len;
	if (cs->quoted_newlines)
		r->line += ml_count_lines(rec->raw, rec->raw_len);
	else
		r->line += after > cs->start && after[-1] == '\n';
	return PARSE_OK;
}

/* The line end after a field: LF, CRLF, or the end of the input. */
static int at_line_end(const char *s, const char *end, int at_eof, const char **after)
{
	if (s == end && at_eof) {
		*after = s;
		return 1;
	}
	if (s < end && *s == '\n') {
		*after = s + 1;
		return 1;
	}
	if (s + 1 < end && s[0] == '\r' && s[1] == '\n') {
		*after = s + 2;
		return 1;
	}
	if (s + 1 == end && s[0] == '\r' && at_eof) {
		*after = end;
		return 1;
	}
	return 0;
}

static enum parse_result blank_line(struct ml_reader *r, const char *p, const char *end)
{
	const char *after;
	if (!at_line_end(p, end, r->at_eof, &after) || after == p)
		return PARSE_OK;
	r->pos += (size_t)(after - p);
	r->line++;
	return PARSE_BLANK;
}

enum parse_result ml_csv_parse_record(struct ml_reader *r, struct ml_record *rec)
{
	struct csv_scan cs = { r, r->buf + r->pos, r->buf + r->end, 0 };
	const char *p = cs.start, *after;
	const char delim = r->opts.delimiter;
	size_t nf = 0;

	if (p + 1 >= cs.end && !r->at_eof)
		return PARSE_NEED_MORE;
	if (blank_line(r, p, cs.end) == PARSE_BLANK)
		return PARSE_BLANK;
	ml_buf_reset(&r->scratch);
	for (;; nf++) {
		size_t offset = (size_t)(p - cs.start);
		if (*p == '"' && p < cs.end) {
			const char *q = NULL;
			int escaped = 0;
			enum parse_result res = scan_quoted(&cs, p, &q, &escaped);
			if (res != PARSE_OK)
				return res;
			cs.quoted_newlines |= has_newline(p, q);
			if (escaped) {
				size_t off, len;
				if (unescape_quoted(r, p + 1, q, &off, &len) < 0)
					return bad(&cs, p, "quoted field is too long");
				if (add_field(r, nf, (const char *)(uintptr_t)off, len,
					      ML_FIELD_QUOTED | FIELD_IN_SCRATCH, offset) < 0)
					return bad(&cs, p, "too many fields");
			} else if (add_field(r, nf, p + 1, (size_t)(q - p - 1), ML_FIELD_QUOTED, offset) < 0) {
				return bad(&cs, p, "too many fields");
			}
			p = q + 1;
			if (p < cs.end && *p == delim) {
				p++;
				continue;
			}
			if (at_line_end(p, cs.end, r->at_eof, &after))
				return finish(&cs, rec, nf + 1, after);
			if (!r->at_eof && (p == cs.end || (p + 1 == cs.end && *p == '\r')))
				return PARSE_NEED_MORE;
			return bad(&cs, p, "unexpected text after a closing quote (quote the whole field, "
					   "and double any '\"' inside it)");
		}
		const char *s = p;
		while (!r->csv_stop[(unsigned char)*s])
			s++;
		if (s == cs.end && !r->at_eof)
			return PARSE_NEED_MORE;
		if (*s == '\0' && s < cs.end)
			return bad(&cs, s, "NUL byte in the input (is it a binary file?)");
		size_t len = (size_t)(s - p);
		if (s < cs.end && *s == '\n' && len && s[-1] == '\r')
			len--;
		if (add_field(r, nf, p, len, 0, offset) < 0)
			return bad(&cs, p, "too many fields");
		if (s < cs.end && *s == delim) {
			p = s + 1;
			continue;
		}
		after = s < cs.end ? s + 1 : s;
		return finish(&cs, rec, nf + 1, after);
	}
}
