/* capture_read.c - decode data-capture records into rows (see capture_read.h). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "mlpipe/buf.h"
#include "mlpipe/capture_read.h"
#include "mlpipe/num.h"

#define SCRATCH_CAP ((size_t)256 << 20)	/* decoded payload text of one record */
#define MAX_DEPTH 32			/* directory levels walked */

struct cell {
	size_t off, len;
	int set;
};

struct ml_capture_dec {
	struct ml_capture_read_opts o;
	size_t *positions;		/* owned copy or the default order */
	struct cell *cells;		/* the record's rows, ncols cells each */
	size_t nrows, rows_alloc;	/* rows of the current record */
	struct ml_field *fields;
	uint8_t *seen;
	struct ml_buf text;		/* cell text of the current row */
	struct ml_buf payload;		/* decoded base64 */
	struct ml_buf outputs;		/* endpointOutput values, NUL-separated */
	size_t *out_off;
	size_t nout, out_alloc;
	size_t row_in_record;
	struct ml_capture_stats st;
	struct ml_buf event_id;		/* the record's inferenceId or eventId (opts.event_id) */
	int has_event_id;
};

void ml_capture_dec_free(struct ml_capture_dec *dec)
{
	if (!dec)
		return;
	free(dec->positions);
	free(dec->cells);
	free(dec->fields);
	free(dec->seen);
	free(dec->out_off);
	ml_buf_release(&dec->text);
	ml_buf_release(&dec->payload);
	ml_buf_release(&dec->outputs);
	ml_buf_release(&dec->event_id);
	free(dec);
}

struct ml_capture_dec *ml_capture_dec_new(const struct ml_capture_read_opts *opts, struct ml_err *err)
{
	struct ml_capture_dec *dec = ml_calloc(1, sizeof *dec, err);
	if (!dec)
		return NULL;
	dec->o = *opts;
	size_t n = opts->ncols + 1;
	if (!(dec->positions = ml_calloc(n, sizeof *dec->positions, err)) ||

	    !(dec->fields = ml_calloc(n, sizeof *dec->fields, err)) || !(dec->seen = ml_calloc(n, 1, err)))
		goto fail;
	if (opts->positions) {
		if (opts->npositions > opts->ncols) {
			ml_err_set(err, ML_ERR_USAGE, "more capture positions (%zu) than columns (%zu)", opts->npositions,
				   opts->ncols);
			goto fail;
		}
		for (size_t i = 0; i < opts->npositions; i++) {
			if (opts->positions[i] >= opts->ncols) {
				ml_err_set(err, ML_ERR_USAGE, "capture position %zu names no column", i);
				goto fail;
			}
			dec->positions[i] = opts->positions[i];
		}
		dec->o.npositions = opts->npositions;
	} else {
		dec->o.npositions = 0;
		for (size_t i = 0; i < opts->ncols; i++)
			if ((long)i != opts->output_col)
				dec->positions[dec->o.npositions++] = i;
	}
	ml_buf_init(&dec->text, SCRATCH_CAP);
	ml_buf_init(&dec->payload, SCRATCH_CAP);
	ml_buf_init(&dec->outputs, SCRATCH_CAP);
	ml_buf_init(&dec->event_id, SCRATCH_CAP);
	return dec;
fail:
	ml_capture_dec_free(dec);
	return NULL;
}

int ml_capture_detect(const struct ml_reader *r)
{
	return ml_reader_format(r) == ML_FMT_NDJSON && ml_reader_find_column(r, "captureData") >= 0;
}

void ml_capture_stats(const struct ml_capture_dec *dec, struct ml_capture_stats *st)
{
	*st = dec->st;
}

int ml_capture_seen(const struct ml_capture_dec *dec, size_t i)
{
	return i < dec->o.ncols && dec->seen[i];
}

/* ---- building a row ---- */

static int too_big(struct ml_err *err)
{
	return ml_err_set(err, ML_ERR_DATA, "a capture record's payload is larger than %zu MiB", SCRATCH_CAP >> 20);
}

/*
 * A record's rows are decoded whole before any is handed on, so a record
 * that turns out bad halfway is rejected whole, not counted in part.
 */
static int row_begin(struct ml_capture_dec *dec, struct ml_err *err)
{
	size_t n = dec->o.ncols ? dec->o.ncols : 1;
	if (dec->nrows == dec->rows_alloc) {
		size_t rows = dec->rows_alloc ? 2 * dec->rows_alloc : 16;
		if (rows > SCRATCH_CAP / n)
			return too_big(err);
		struct cell *c = ml_realloc_array(dec->cells, rows * n, sizeof *c, err);
		if (!c)
			return -1;
		dec->cells = c;
		dec->rows_alloc = rows;
	}
	memset(dec->cells + dec->nrows * n, 0, n * sizeof *dec->cells);
	return 0;
}

static int cell_set(struct ml_capture_dec *dec, size_t col, const char *s, size_t len, struct ml_err *err)
{
	struct cell *c = &dec->cells[dec->nrows * (dec->o.ncols ? dec->o.ncols : 1) + col];
	c->off = dec->text.len;
	c->len = len;
	c->set = 1;
	return ml_buf_add(&dec->text, s, len) < 0 || ml_buf_addc(&dec->text, 0) < 0 ? too_big(err) : 0;
}

/* A JSON value as cell text; null leaves the cell unset. */
static int cell_json(struct ml_capture_dec *dec, size_t col, const json_t *v, struct ml_err *err)
{
	char num[ML_NUM_BUFSZ];
	if (json_is_null(v))
		return 0;
	if (json_is_string(v))
		return cell_set(dec, col, json_string_value(v), json_string_length(v), err);
	if (json_is_integer(v)) {
		int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return cell_set(dec, col, num, (size_t)n, err);
	}
	if (json_is_real(v))
		return cell_set(dec, col, num, ml_fmt_double(json_real_value(v), num), err);
	if (json_is_boolean(v))
		return cell_set(dec, col, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5, err);
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	int rc = cell_set(dec, col, text, strlen(text), err);
	free(text);
	return rc;
}

static int row_end(struct ml_capture_dec *dec, struct ml_err *err)
{
	if (dec->o.output_col >= 0 && dec->row_in_record < dec->nout) {
		const char *v = dec->outputs.data + dec->out_off[dec->row_in_record];
		if (cell_set(dec, (size_t)dec->o.output_col, v, strlen(v), err) < 0)
			return -1;
	}
	dec->row_in_record++;
	dec->nrows++;
	return 0;
}

/* Hand the record's rows on, once all of them decoded. */
static int rows_flush(struct ml_capture_dec *dec, ml_capture_row_fn fn, void *arg, struct ml_err *err)
{
	size_t n = dec->o.ncols ? dec->o.ncols : 1;
	for (size_t r = 0; r < dec->nrows; r++) {
		for (size_t i = 0; i < dec->o.ncols; i++) {
			const struct cell *c = &dec->cells[r * n + i];
			dec->fields[i] = (struct ml_field){ c->set ? dec->text.data + c->off : "", (uint32_t)c->len,
							    c->set ? 0 : ML_FIELD_ABSENT, 0 };
			dec->seen[i] |= (uint8_t)c->set;
		}
		dec->st.rows++;
		if (fn(arg, dec->fields, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- CSV payloads ---- */

/*
 * Split the next CSV line of [*p, end) into fields; each field's text is
 * appended NUL-terminated to out and located by (offs[i], lens[i]).
 */
static long csv_line(const char **p, const char *end, struct ml_buf *out, size_t *offs, size_t *lens,
		     size_t maxf, struct ml_err *err)
{
	const char *s = *p;
	long n = 0;
	for (;;) {
		size_t off = out->len;
		int quoted = s < end && *s == '"';
		if (quoted) {
			s++;
			for (;;) {
				if (s >= end)
					return ml_err_set(err, ML_ERR_DATA, "unterminated quoted field in a CSV payload");
				if (*s == '"' && s + 1 < end && s[1] == '"') {
					if (ml_buf_addc(out, '"') < 0)
						return too_big(err);
					s += 2;
				} else if (*s == '"') {
					s++;
					break;
				} else if (ml_buf_addc(out, *s++) < 0) {
					return too_big(err);
				}
			}
		} else {
			const char *b = s;
			while (s < end && *s != ',' && *s != '\n' && *s != '\r')
				s++;
			if (ml_buf_add(out, b, (size_t)(s - b)) < 0)
				return too_big(err);
		}
		if (ml_buf_addc(out, 0) < 0)
			return too_big(err);
		if ((size_t)n < maxf) {
			offs[n] = off;
			lens[n] = out->len - 1 - off;
		}
		n++;
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		if (s < end && *s == '\r')
			s++;
		if (s < end && *s == '\n')
			s++;
		else if (s < end)
			return ml_err_set(err, ML_ERR_DATA, "unexpected text after a quoted field in a CSV payload");
		break;
	}
	*p = s;
	return n;
}

static int csv_rows(struct ml_capture_dec *dec, const char *s, size_t len, struct ml_err *err)
{
	const char *p = s, *end = s + len;
	size_t maxf = dec->o.npositions + 1;
	size_t *offs = ml_calloc(maxf, sizeof *offs, err), *lens = ml_calloc(maxf, sizeof *lens, err);
	struct ml_buf line;
	ml_buf_init(&line, SCRATCH_CAP);
	int rc = offs && lens ? 0 : -1;
	while (rc == 0 && p < end) {
		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {	/* blank line */
			p += *p == '\r' ? 2 : 1;
			continue;
		}
		ml_buf_reset(&line);
		long n = csv_line(&p, end, &line, offs, lens, maxf, err);
		if (n < 0) {
			rc = -1;
		} else if ((size_t)n < dec->o.npositions || ((size_t)n > dec->o.npositions && !dec->o.ignore_extra)) {
			if ((size_t)n > dec->o.npositions && (size_t)n - dec->o.npositions > dec->st.extra_fields)
				dec->st.extra_fields = (size_t)n - dec->o.npositions;
			rc = ml_err_set(err, ML_ERR_DATA,
					"a CSV payload row has %ld fields where %zu columns were expected "
					"(name them with --capture-columns)",
					n, dec->o.npositions);
		} else {
			rc = row_begin(dec, err);
			for (size_t i = 0; rc == 0 && i < dec->o.npositions; i++)
				rc = cell_set(dec, dec->positions[i], line.data + offs[i], lens[i], err);
			rc = rc ? rc : row_end(dec, err);
		}
	}
	ml_buf_release(&line);
	free(offs);
	free(lens);
	return rc;
}

/* ---- JSON payloads ---- */

static int json_row(struct ml_capture_dec *dec, const json_t *row, struct ml_err *err)
{
	if (row_begin(dec, err) < 0)
		return -1;
	const json_t *features = json_is_object(row) ? json_object_get(row, "features") : NULL;
	if (json_is_array(features))
		row = features;
	if (json_is_object(row)) {
		const char *key;
		const json_t *v;
		size_t extra = 0;
		json_object_foreach((json_t *)row, key, v) {
			size_t i = 0;
			while (i < dec->o.ncols && strcmp(dec->o.names[i], key))
				i++;
			if (i == dec->o.ncols)
				extra++;
			else if (cell_json(dec, i, v, err) < 0)
				return -1;
		}
		if (extra > dec->st.extra_fields)
			dec->st.extra_fields = extra;
	} else if (json_is_array(row)) {
		size_t n = json_array_size(row);
		if (n > dec->o.npositions && dec->o.ignore_extra)
			n = dec->o.npositions;
		if (n != dec->o.npositions)
			return ml_err_set(err, ML_ERR_DATA,
					  "a JSON payload row has %zu values where %zu columns were expected "
					  "(name them with --capture-columns)",
					  n, dec->o.npositions);
		for (size_t i = 0; i < n; i++)
			if (cell_json(dec, dec->positions[i], json_array_get(row, i), err) < 0)
				return -1;
	} else if (dec->o.npositions == 1) {
		if (cell_json(dec, dec->positions[0], row, err) < 0)
			return -1;
	} else if (dec->o.npositions || !dec->o.ignore_extra) {
		return ml_err_set(err, ML_ERR_DATA, "a JSON payload row is a single value where %zu columns were expected",
				  dec->o.npositions);
	}
	return row_end(dec, err);
}

static int is_container(const json_t *v)
{
	return json_is_array(v) || json_is_object(v);
}

static int json_rows(struct ml_capture_dec *dec, const json_t *doc, struct ml_err *err)
{
	if (json_is_object(doc)) {
		const json_t *inst = json_object_get(doc, "instances");
		if (!inst)
			inst = json_object_get(doc, "inputs");
		if (!json_is_array(inst))
			return json_row(dec, doc, err);
		doc = inst;
	}
	if (json_is_array(doc) && json_array_size(doc) > 0 && is_container(json_array_get(doc, 0))) {
		for (size_t i = 0; i < json_array_size(doc); i++)
			if (json_row(dec, json_array_get(doc, i), err) < 0)
				return -1;
		return 0;
	}
	return json_row(dec, doc, err);
}

/* Each JSON value of text: one document, or JSON Lines. */
static int json_each(const char *s, size_t len, int (*fn)(const json_t *v, void *ctx, struct ml_err *err), void *ctx,
		     struct ml_err *err)
{
	json_error_t je;
	json_t *doc = json_loadb(s, len, JSON_DECODE_ANY, &je);
	if (doc) {
		int rc = fn(doc, ctx, err);
		json_decref(doc);
		return rc;
	}
	size_t done = 0;
	int any = 0;
	while (done < len) {
		const char *nl = memchr(s + done, '\n', len - done);
		size_t n = nl ? (size_t)(nl - (s + done)) : len - done;
		size_t i = 0;
		while (i < n && (s[done + i] == ' ' || s[done + i] == '\t' || s[done + i] == '\r'))
			i++;
		if (i < n) {
			json_t *v = json_loadb(s + done, n, JSON_DECODE_ANY, &je);
			if (!v)
				return ml_err_set(err, ML_ERR_DATA, "a JSON payload does not parse: %s", je.text);
			int rc = fn(v, ctx, err);
			json_decref(v);
			if (rc < 0)
				return -1;
			any = 1;
		}
		done += n + (nl != NULL);
	}
	return any ? 0 : ml_err_set(err, ML_ERR_DATA, "an empty JSON payload");
}

static int json_rows_cb(const json_t *v, void *ctx, struct ml_err *err)
{
	return json_rows(ctx, v, err);
}

/* ---- outputs ---- */

static int output_add(struct ml_capture_dec *dec, const char *s, size_t len, struct ml_err *err)
{
	if (dec->nout == dec->out_alloc) {
		size_t n = dec->out_alloc ? 2 * dec->out_alloc : 64;
		size_t *o = ml_realloc_array(dec->out_off, n, sizeof *o, err);
		if (!o)
			return -1;
		dec->out_off = o;
		dec->out_alloc = n;
	}
	dec->out_off[dec->nout++] = dec->outputs.len;
	return ml_buf_add(&dec->outputs, s, len) < 0 || ml_buf_addc(&dec->outputs, 0) < 0 ? too_big(err) : 0;
}

static int output_json(struct ml_capture_dec *dec, const json_t *v, struct ml_err *err)
{
	char num[ML_NUM_BUFSZ];
	if (json_is_object(v)) {
		static const char *const keys[] = { "predictions", "score", "prediction", "predicted_label", NULL };
		for (const char *const *k = keys; *k; k++) {
			const json_t *m = json_object_get(v, *k);
			if (m)
				return output_json(dec, m, err);
		}
		return ml_err_set(err, ML_ERR_DATA, "endpointOutput: an object without \"predictions\" or \"score\"");
	}
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			if (output_json(dec, json_array_get(v, i), err) < 0)
				return -1;
		return 0;
	}
	if (json_is_string(v))
		return output_add(dec, json_string_value(v), json_string_length(v), err);
	if (json_is_integer(v))
		return output_add(dec, num, (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v)),
				  err);
	if (json_is_real(v))
		return output_add(dec, num, ml_fmt_double(json_real_value(v), num), err);
	return output_add(dec, "", 0, err);
}

static int output_json_cb(const json_t *v, void *ctx, struct ml_err *err)
{
	return output_json(ctx, v, err);
}

static int output_csv(struct ml_capture_dec *dec, const char *s, size_t len, struct ml_err *err)
{
	const char *p = s, *end = s + len;
	size_t off, flen;
	struct ml_buf line;
	ml_buf_init(&line, SCRATCH_CAP);
	int rc = 0;
	while (rc == 0 && p < end) {
		if (*p == '\n' || *p == '\r') {
			p++;
			continue;
		}
		ml_buf_reset(&line);
		long n = csv_line(&p, end, &line, &off, &flen, 1, err);
		rc = n < 0 ? -1 : output_add(dec, line.data + off, flen, err);
	}
	ml_buf_release(&line);
	return rc;
}

/* ---- one record ---- */

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int base64_decode(struct ml_buf *out, const char *s, size_t len, struct ml_err *err)
{
	uint32_t acc = 0;
	int bits = 0;
	ml_buf_reset(out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '=' || c == '\n' || c == '\r' || c == ' ')
			continue;
		int v = b64_value(c);
		if (v < 0)
			return ml_err_set(err, ML_ERR_DATA, "BASE64 data holds '%c'", c);
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (ml_buf_addc(out, (char)((acc >> bits) & 0xff)) < 0)
				return too_big(err);
		}
	}
	return 0;
}

enum payload { PAYLOAD_CSV, PAYLOAD_JSON };

/* The payload's text and kind: data decoded as its encoding says, its type from observedContentType. */
static int payload_of(struct ml_capture_dec *dec, const json_t *part, const char *which, const char **text,
		      size_t *len, enum payload *kind, struct ml_err *err)
{
	const json_t *data = json_object_get(part, "data");
	const char *enc = json_string_value(json_object_get(part, "encoding"));
	const char *type = json_string_value(json_object_get(part, "observedContentType"));
	if (!json_is_string(data))
		return ml_err_set(err, ML_ERR_DATA, "%s has no \"data\" string", which);
	*text = json_string_value(data);
	*len = json_string_length(data);
	if (enc && !strcasecmp(enc, "BASE64")) {
		if (base64_decode(&dec->payload, *text, *len, err) < 0)
			return -1;
		*text = dec->payload.data ? dec->payload.data : "";
		*len = dec->payload.len;
	} else if (enc && strcasecmp(enc, "CSV") && strcasecmp(enc, "JSON")) {
		return ml_err_set(err, ML_ERR_DATA, "%s: unknown encoding \"%s\" (CSV, JSON or BASE64)", which, enc);
	}
	if (type && (strstr(type, "json") || strstr(type, "JSON")))
		*kind = PAYLOAD_JSON;
	else if (type && strstr(type, "csv"))
		*kind = PAYLOAD_CSV;
	else if (enc && !strcasecmp(enc, "JSON"))
		*kind = PAYLOAD_JSON;
	else if (enc && !strcasecmp(enc, "CSV"))
		*kind = PAYLOAD_CSV;
	else
		return ml_err_set(err, ML_ERR_DATA, "%s: content type \"%s\" is neither CSV nor JSON", which,
				  type ? type : "(none)");
	return 0;
}

static int decode_capture_data(struct ml_capture_dec *dec, const json_t *cd, ml_capture_row_fn fn, void *arg,
			       struct ml_err *err)
{
	const json_t *in = json_object_get(cd, "endpointInput"), *out = json_object_get(cd, "endpointOutput");
	const char *text;
	size_t len;
	enum payload kind;
	if (!json_is_object(in))
		return ml_err_set(err, ML_ERR_DATA, "captureData has no endpointInput");
	dec->nout = 0;
	dec->row_in_record = 0;
	dec->nrows = 0;
	ml_buf_reset(&dec->outputs);
	ml_buf_reset(&dec->text);
	if (dec->o.output_col >= 0 && json_is_object(out)) {
		if (payload_of(dec, out, "endpointOutput", &text, &len, &kind, err) < 0)
			return -1;
		struct ml_err ignored = ML_ERR_INIT;
		if ((kind == PAYLOAD_CSV ? output_csv(dec, text, len, err)
					 : json_each(text, len, output_json_cb, dec, &ignored)) < 0)
			return kind == PAYLOAD_CSV ? -1 : ml_err_set(err, ML_ERR_DATA, "endpointOutput: %s", ignored.msg);
	}
	if (payload_of(dec, in, "endpointInput", &text, &len, &kind, err) < 0)
		return -1;
	if ((kind == PAYLOAD_CSV ? csv_rows(dec, text, len, err) : json_each(text, len, json_rows_cb, dec, err)) < 0)
		return -1;
	dec->st.records++;
	return rows_flush(dec, fn, arg, err);
}

/*
 * The key ground truth is joined on (SageMaker's rule): eventMetadata's
 * inferenceId (the caller's), else its eventId.
 */
static int note_event_id(struct ml_capture_dec *dec, const json_t *meta, struct ml_err *err)
{
	dec->has_event_id = 0;
	if (!dec->o.event_id || !json_is_object(meta))
		return 0;
	const json_t *id = json_object_get(meta, "inferenceId");
	if (!json_is_string(id) || !json_string_length(id))
		id = json_object_get(meta, "eventId");
	if (!json_is_string(id))
		return 0;
	ml_buf_reset(&dec->event_id);
	if (ml_buf_add(&dec->event_id, json_string_value(id), json_string_length(id)) < 0)
		return ml_err_set(err, ML_ERR_DATA, "an eventMetadata id longer than %zu bytes", (size_t)SCRATCH_CAP);
	dec->has_event_id = 1;
	return 0;
}

const char *ml_capture_event_id(const struct ml_capture_dec *dec, size_t *len)
{
	*len = dec->has_event_id ? dec->event_id.len : 0;
	return dec->has_event_id ? dec->event_id.data : NULL;
}

int ml_capture_decode(struct ml_capture_dec *dec, const char *json, size_t len, ml_capture_row_fn fn, void *arg,
		      struct ml_err *err)
{
	json_error_t je;
	json_t *doc = json_loadb(json, len, 0, &je);
	if (!doc)
		return ml_err_set(err, ML_ERR_DATA, "a capture record does not parse: %s", je.text);
	const json_t *cd = json_object_get(doc, "captureData");
	int rc = !json_is_object(cd) ? ml_err_set(err, ML_ERR_DATA, "a capture record has no \"captureData\" object")
	       : note_event_id(dec, json_object_get(doc, "eventMetadata"), err) < 0 ? -1
										: decode_capture_data(dec, cd, fn, arg, err);
	json_decref(doc);
	return rc;
}

/* The same from a record's eventMetadata column (looked up each time: NDJSON may add it late). */
static int record_event_id(struct ml_capture_dec *dec, struct ml_reader *r, const struct ml_record *rec,
			   struct ml_err *err)
{
	dec->has_event_id = 0;
	if (!dec->o.event_id)
		return 0;
	long col = ml_reader_find_column(r, "eventMetadata");
	const struct ml_field *f = col >= 0 && (size_t)col < rec->nfields ? &rec->fields[col] : NULL;
	if (!f || !(f->flags & ML_FIELD_JSON_NESTED))
		return 0;
	json_error_t je;
	json_t *meta = json_loadb(f->ptr, f->len, 0, &je);
	int rc = note_event_id(dec, meta, err);
	json_decref(meta);
	return rc;
}

int ml_capture_read(struct ml_capture_dec *dec, struct ml_reader *r, ml_capture_row_fn fn, void *arg,
		    struct ml_err *err)
{
	long col = ml_reader_find_column(r, "captureData");
	struct ml_record rec;
	int rc;
	while ((rc = ml_reader_next(r, &rec, err)) > 0) {
		struct ml_err why = ML_ERR_INIT;
		const struct ml_field *f = col >= 0 && (size_t)col < rec.nfields ? &rec.fields[col] : NULL;
		json_error_t je;
		json_t *cd = f && (f->flags & ML_FIELD_JSON_NESTED) ? json_loadb(f->ptr, f->len, 0, &je) : NULL;
		if (!cd)
			ml_err_set(&why, ML_ERR_DATA, "not a capture record: no \"captureData\" object");
		else if (!json_is_object(cd))
			ml_err_set(&why, ML_ERR_DATA, "\"captureData\" is not an object");
		else if (record_event_id(dec, r, &rec, &why) == 0 && decode_capture_data(dec, cd, fn, arg, &why) == 0)
			why.class = ML_ERR_NONE;
		json_decref(cd);
		if (why.class == ML_ERR_INTERNAL) {	/* not the data's fault */
			*err = why;
			return -1;
		}
		if (why.class != ML_ERR_NONE && ml_reader_reject(r, &rec, col, &why, err) < 0)
			return -1;
	}
	return rc < 0 ? -1 : 0;
}

/* ---- directories ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(const char *dir, int depth, struct ml_strlist *out, struct ml_err *err)
{
	if (depth > MAX_DEPTH)
		return ml_err_set(err, ML_ERR_DATA, "%s: capture folders nested deeper than %d levels", dir, MAX_DEPTH);
	DIR *d = opendir(dir);
	if (!d)
		return ml_err_errno(err, errno, "%s", dir);
	struct ml_strlist names = { 0 };
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d)))
		if (e->d_name[0] != '.')
			rc = ml_strlist_push(&names, e->d_name, err);
	closedir(d);
	if (rc == 0 && names.n)
		qsort(names.items, names.n, sizeof *names.items, cmp_str);
	for (size_t i = 0; rc == 0 && i < names.n; i++) {
		size_t len = strlen(dir) + strlen(names.items[i]) + 2;
		char *path = ml_malloc(len, err);
		struct stat st;
		if (!path) {
			rc = -1;
			break;
		}
		snprintf(path, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names.items[i]);
		size_t nl = strlen(names.items[i]);
		if (stat(path, &st) < 0)
			rc = ml_err_errno(err, errno, "%s", path);
		else if (S_ISDIR(st.st_mode))
			rc = walk(path, depth + 1, out, err);
		else if (S_ISREG(st.st_mode) && st.st_size > 0 && nl > 6 && !strcmp(names.items[i] + nl - 6, ".jsonl"))
			rc = ml_strlist_push(out, path, err);
		free(path);
	}
	ml_strlist_clear(&names);
	return rc;
}

int ml_capture_list_dir(const char *dir, struct ml_strlist *out, struct ml_err *err)
{
	return walk(dir, 0, out, err);
}
