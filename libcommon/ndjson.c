/*
 * ndjson.c - one JSON object per line, into the reader's columns.
 *
 * Keys become columns in order of first appearance; values are kept as text
 * (numbers as their literal, strings unescaped, true/false as words, nested
 * objects and arrays as their raw JSON) so the batch layer converts them by
 * the schema's type, the same way as CSV fields.  JSON cannot hold a raw line
 * end inside a value, so a record is exactly one line.
 */
#include <stdint.h>
#include <string.h>

#include "reader_int.h"

#define MAX_NESTING 256

struct json_scan {
	struct ml_reader *r;
	const char *start;	/* the line */
	const char *p;
	const char *end;	/* the line end (excluding it) */
};

static enum parse_result fail_at(struct json_scan *js, const char *at, const char *msg)
{
	ml_reader_set_bad(js->r, (size_t)(at - js->start), "%s", msg);
	return PARSE_BAD;
}

static void skip_ws(struct json_scan *js)
{
	while (js->p < js->end && (*js->p == ' ' || *js->p == '\t' || *js->p == '\r'))
		js->p++;
}

static int hex4(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int put_utf8(struct ml_buf *b, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return ml_buf_add(b, u, n);
}

/* \uXXXX, with a surrogate pair when it takes two; s is on the 'u'. */
static const char *decode_unicode_escape(struct json_scan *js, const char *s)
{
	uint32_t cp, lo;
	if (js->end - s < 5 || hex4(s + 1, &cp) < 0)
		return NULL;
	s += 5;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return NULL;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (js->end - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &lo) < 0 ||
		    lo < 0xdc00 || lo > 0xdfff)
			return NULL;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		s += 6;
	}
	return put_utf8(&js->r->scratch, cp) < 0 ? NULL : s;
}

static const char simple_escapes[][2] = {
	{ '"', '"' }, { '\\', '\\' }, { '/', '/' }, { 'b', '\b' },
	{ 'f', '\f' }, { 'n', '\n' }, { 'r', '\r' }, { 't', '\t' },
};

/* Decode a string with escapes into scratch; s is after the opening quote. */
static enum parse_result decode_string(struct json_scan *js, const char *s, size_t *off, size_t *len)
{
	struct ml_buf *sc = &js->r->scratch;
	*off = sc->len;
	while (s < js->end && *s != '"') {
		if (*s != '\\') {
			if (ml_buf_addc(sc, *s++) < 0)
				return fail_at(js, s, "string too long");
			continue;
		}
		if (s + 1 >= js->end)
			return fail_at(js, s, "string is never closed");
		if (s[1] == 'u') {
			const char *next = decode_unicode_escape(js, s + 1);
			if (!next)
				return fail_at(js, s, "invalid \\u escape in a string");
			s = next;
			continue;
		}
		size_t i = 0, n = sizeof simple_escapes / sizeof simple_escapes[0];
		while (i < n && simple_escapes[i][0] != s[1])
			i++;
		if (i == n)
			return fail_at(js, s, "invalid escape in a string");
		if (ml_buf_addc(sc, simple_escapes[i][1]) < 0)
			return fail_at(js, s, "string too long");
		s += 2;
	}
	*len = sc->len - *off;
	js->p = s + 1;
	return PARSE_OK;
}

/*
 * A string at js->p (on the quote).  Plain strings point into the buffer;
 * strings with escapes are decoded to scratch (flag FIELD_IN_SCRATCH, ptr is
 * the offset).  Raw bytes must be valid UTF-8 with no control characters.
 */
static enum parse_result scan_string(struct json_scan *js, const char **ptr, size_t *len, uint32_t *flags)
{
	const char *open = js->p, *s = open + 1;
	int escaped = 0;
	while (s < js->end && *s != '"') {
		if ((unsigned char)*s < 0x20)
			return fail_at(js, s, "control character inside a string (escape it)");
		if (*s == '\\') {
			escaped = 1;
			s++;
		}
		s++;
	}
	if (s >= js->end)
		return fail_at(js, open, "string is never closed");
	size_t valid = ml_utf8_valid_prefix(open + 1, (size_t)(s - open - 1));
	if (valid != (size_t)(s - open - 1))
		return fail_at(js, open + 1 + valid, "invalid UTF-8 in a string");
	*flags = ML_FIELD_QUOTED;
	if (!escaped) {
		*ptr = open + 1;
		*len = (size_t)(s - open - 1);
		js->p = s + 1;
		return PARSE_OK;
	}
	size_t off;
	enum parse_result res = decode_string(js, open + 1, &off, len);
	*ptr = (const char *)(uintptr_t)off;
	*flags |= FIELD_IN_SCRATCH;
	return res;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static enum parse_result scan_number(struct json_scan *js)
{
	const char *s = js->p, *e = js->end;
	if (s < e && *s == '-')
		s++;
	if (s < e && *s == '0')
		s++;
	else if (s < e && is_digit(*s))
		while (s < e && is_digit(*s))
			s++;
	else
		return fail_at(js, js->p, "invalid value (expected a number, string, true, false, null, object or array)");
	if (s < e && *s == '.') {
		if (++s >= e || !is_digit(*s))
			return fail_at(js, s, "invalid number: digits must follow '.'");
		while (s < e && is_digit(*s))
			s++;
	}
	if (s < e && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < e && (*s == '+' || *s == '-'))
			s++;
		if (s >= e || !is_digit(*s))
			return fail_at(js, s, "invalid number: digits must follow the exponent");
		while (s < e && is_digit(*s))
			s++;
	}
	js->p = s;
	return PARSE_OK;
}

/* An object or array, kept as raw text: brackets balanced outside strings. */
static enum parse_result scan_nested(struct json_scan *js)
{
	char stack[MAX_NESTING];
	int depth = 0;
	const char *s = js->p;
	while (s < js->end) {
		char c = *s;
		if (c == '"') {
			js->p = s;
			const char *ptr;
			size_t len;
			uint32_t flags;
			size_t mark = js->r->scratch.len;
			if (scan_string(js, &ptr, &len, &flags) != PARSE_OK)
				return PARSE_BAD;
			js->r->scratch.len = mark;	/* only validated, not kept */
			s = js->p;
			continue;
		}
		if (c == '{' || c == '[') {
			if (depth == MAX_NESTING)
				return fail_at(js, s, "objects or arrays nested too deeply");
			stack[depth++] = c == '{' ? '}' : ']';
		} else if (c == '}' || c == ']') {
			if (depth == 0 || stack[depth - 1] != c)
				return fail_at(js, s, "mismatched bracket");
			if (--depth == 0) {
				js->p = s + 1;
				return PARSE_OK;
			}
		} else if ((unsigned char)c < 0x20 && c != '\t' && c != '\r') {
			return fail_at(js, s, "control character in JSON");
		}
		s++;
	}
	return fail_at(js, js->p, "object or array is never closed");
}

static enum parse_result scan_literal(struct json_scan *js, const char *word, uint32_t flags,
				      uint32_t *out_flags)
{
	size_t n = strlen(word);
	if ((size_t)(js->end - js->p) < n || memcmp(js->p, word, n))
		return fail_at(js, js->p, "invalid value (expected a number, string, true, false, null, object or array)");
	js->p += n;
	*out_flags = flags;
	return PARSE_OK;
}

static enum parse_result scan_value(struct json_scan *js, struct ml_field *f)
{
	const char *v = js->p;
	size_t len = 0;
	uint32_t flags = 0;
	enum parse_result res;
	switch (*v) {
	case '"':
		res = scan_string(js, &v, &len, &flags);
		break;
	case '{':
	case '[':
		res = scan_nested(js);
		flags = ML_FIELD_JSON_NESTED;
		break;
	case 't':
		res = scan_literal(js, "true", ML_FIELD_JSON_BOOL, &flags);
		break;
	case 'f':
		res = scan_literal(js, "false", ML_FIELD_JSON_BOOL, &flags);
		break;
	case 'n':
		res = scan_literal(js, "null", ML_FIELD_ABSENT, &flags);
		break;
	default:
		res = scan_number(js);
		flags = ML_FIELD_JSON_NUMBER;
		break;
	}
	if (res != PARSE_OK)
		return res;
	if (!(flags & ML_FIELD_QUOTED))
		len = (size_t)(js->p - v);	/* strings know their length */
	f->ptr = v;
	f->len = (uint32_t)len;
	f->flags = flags | FIELD_SEEN;
	f->offset = (uint32_t)(v - js->start);
	return PARSE_OK;
}

/* "key": the column it names, added on first sight. */
static long scan_key(struct json_scan *js)
{
	struct ml_reader *r = js->r;
	const char *ptr;
	size_t len;
	uint32_t flags;
	if (*js->p != '"') {
		fail_at(js, js->p, "expected a quoted key");
		return -1;
	}
	size_t mark = r->scratch.len;
	if (scan_string(js, &ptr, &len, &flags) != PARSE_OK)
		return -1;
	if (flags & FIELD_IN_SCRATCH)
		ptr = r->scratch.data + (uintptr_t)ptr;
	int32_t col = ml_dict_find(r->colindex, ptr, len);
	if (col < 0) {
		if (ml_reader_add_column(r, ptr, len) < 0) {
			fail_at(js, js->p, "too many keys");
			return -1;
		}
		col = (int32_t)r->ncols - 1;
	}
	r->scratch.len = mark;
	return col;
}

static enum parse_result scan_members(struct json_scan *js)
{
	struct ml_reader *r = js->r;
	skip_ws(js);
	if (js->p < js->end && *js->p == '}') {
		js->p++;
		return PARSE_OK;
	}
	for (;;) {
		skip_ws(js);
		const char *key_at = js->p;
		long col = scan_key(js);
		if (col < 0)
			return PARSE_BAD;
		if (r->fields[col].flags & FIELD_SEEN)
			return fail_at(js, key_at, "duplicate key in an object");
		skip_ws(js);
		if (js->p >= js->end || *js->p != ':')
			return fail_at(js, js->p, "expected ':' after a key");
		js->p++;
		skip_ws(js);
		if (js->p >= js->end)
			return fail_at(js, js->p, "expected a value");
		if (scan_value(js, &r->fields[col]) != PARSE_OK)
			return PARSE_BAD;
		skip_ws(js);
		if (js->p < js->end && *js->p == ',') {
			js->p++;
			continue;
		}
		if (js->p < js->end && *js->p == '}') {
			js->p++;
			return PARSE_OK;
		}
		return fail_at(js, js->p, "expected ',' or '}'");
	}
}

static void clear_fields(struct ml_reader *r)
{
	for (size_t i = 0; i < r->ncols; i++)
		r->fields[i] = (struct ml_field){ "", 0, ML_FIELD_ABSENT, 0 };
}

static void fix_scratch_pointers(struct ml_reader *r)
{
	for (size_t i = 0; i < r->ncols; i++) {
		struct ml_field *f = &r->fields[i];
		if (f->flags & FIELD_IN_SCRATCH)
			f->ptr = r->scratch.data + (uintptr_t)f->ptr;
		f->flags &= ~(FIELD_IN_SCRATCH | FIELD_SEEN);
	}
}

enum parse_result ml_ndjson_parse_record(struct ml_reader *r, struct ml_record *rec)
{
	const char *start = r->buf + r->pos, *bufend = r->buf + r->end;
	const char *nl = memchr(start, '\n', (size_t)(bufend - start));
	if (!nl && !r->at_eof)
		return PARSE_NEED_MORE;
	const char *line_end = nl ? nl : bufend;
	const char *after = nl ? nl + 1 : bufend;
	struct json_scan js = { r, start, start, line_end };
	enum parse_result res;

	skip_ws(&js);
	if (js.p == line_end) {
		r->pos += (size_t)(after - start);
		r->line += nl != NULL;
		return PARSE_BLANK;
	}
	ml_buf_reset(&r->scratch);
	clear_fields(r);
	if (memchr(start, '\0', (size_t)(line_end - start)))
		res = fail_at(&js, memchr(start, '\0', (size_t)(line_end - start)),
			      "NUL byte in the input (is it a binary file?)");
	else if (*js.p != '{')
		res = fail_at(&js, js.p, "expected a JSON object ('{') at the start of the line");
	else {
		js.p++;
		res = scan_members(&js);
	}
	if (res == PARSE_OK) {
		skip_ws(&js);
		if (js.p != line_end)
			res = fail_at(&js, js.p, "unexpected text after the object (one object per line)");
	}
	r->pos += (size_t)(after - start);
	if (res != PARSE_OK) {
		clear_fields(r);
		return res;
	}
	fix_scratch_pointers(r);
	rec->nfields = r->ncols;
	rec->fields = r->fields;
	rec->raw = start;
	rec->raw_len = (size_t)(after - start);
	rec->line = r->line;
	r->line += nl != NULL;
	return PARSE_OK;
}
