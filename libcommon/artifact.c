/*
 * artifact.c - JSON documents with a format name/version and a SHA-256 of
 * their canonical form, written atomically and checked on load.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "mlpipe/artifact.h"
#include "mlpipe/buf.h"
#include "mlpipe/num.h"
#include "mlpipe/uri.h"

/* Larger than any model we write (a 2,000-tree ensemble is ~40 MB). */
#define ARTIFACT_MAX_BYTES ((size_t)1 << 30)


int ml_sha256_hex(const void *data, size_t len, char out[ML_SHA256_HEX], struct ml_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return ml_err_set(err, ML_ERR_INTERNAL, "SHA-256 computation failed (OpenSSL)");
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

/* ---- the canonical text a digest covers ---- */

/*
 * What json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17))
 * writes with jansson 2.14, so the digests of files written before stay
 * valid, several times faster: printf's "%.17g" was most of json_dumps' time,
 * and a model's load spent a quarter of itself checking its digest.
 * tests/unit/test_artifact.c holds it to json_dumps.
 */
static int canon_value(const json_t *j, int top, struct ml_buf *out);

static int canon_string(const char *s, size_t len, struct ml_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = ml_buf_addc(out, '"');
	size_t plain = 0;	/* s[plain, i) goes out as it is, in one piece */
	for (size_t i = 0; i < len && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
				: c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
		char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };	/* jansson: \u00XX, upper-case hex */
		if (ml_buf_add(out, s + plain, i - plain) < 0 || (esc ? ml_buf_adds(out, esc) : ml_buf_add(out, u, sizeof u)) < 0)
			rc = -1;
		plain = i + 1;
	}
	if (rc == 0)
		rc = ml_buf_add(out, s + plain, len - plain);
	return rc < 0 ? -1 : ml_buf_addc(out, '"');
}

/* jansson's real: "%.17g", ".0" when that looks like an integer, the exponent without '+' or leading zeros. */
static int canon_real(double v, struct ml_buf *out)
{
	char buf[ML_NUM_BUFSZ + 2];
	size_t len = ml_fmt_g17(v, buf);
	char *e = strchr(buf, 'e');
	if (!e && !strchr(buf, '.')) {
		memcpy(buf + len, ".0", 3);
		len += 2;
	} else if (e) {
		char *digits = e + 1 + (e[1] == '-'), *from = e + 1 + (e[1] == '-' || e[1] == '+');
		while (*from == '0' && from[1])
			from++;
		memmove(digits, from, strlen(from) + 1);
		len = strlen(buf);
	}
	return ml_buf_add(out, buf, len);
}

struct key {
	const char *s;
	size_t len;
};

static int key_order(const void *a, const void *b)	/* jansson 2.14's: bytes, then length */
{
	const struct key *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int canon_object(const json_t *j, int top, struct ml_buf *out)
{
	size_t n = json_object_size(j), k = 0;
	struct key *keys = malloc((n ? n : 1) * sizeof *keys);
	if (!keys)
		return -1;
	for (void *it = json_object_iter((json_t *)j); it; it = json_object_iter_next((json_t *)j, it))
		if (!top || strcmp(json_object_iter_key(it), "sha256") != 0)	/* the digest leaves itself out */
			keys[k++] = (struct key){ json_object_iter_key(it), json_object_iter_key_len(it) };
	qsort(keys, k, sizeof *keys, key_order);
	int rc = ml_buf_addc(out, '{');
	for (size_t i = 0; i < k && rc == 0; i++) {
		if ((i && ml_buf_addc(out, ',') < 0) || canon_string(keys[i].s, keys[i].len, out) < 0 ||
		    ml_buf_addc(out, ':') < 0)
			rc = -1;
		else
			rc = canon_value(json_object_getn(j, keys[i].s, keys[i].len), 0, out);
	}
	free(keys);
	return rc < 0 ? -1 : ml_buf_addc(out, '}');
}

static int canon_value(const json_t *j, int top, struct ml_buf *out)
{
	char num[32];
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return canon_object(j, top, out);
	case JSON_ARRAY: {
		int rc = ml_buf_addc(out, '[');
		for (size_t i = 0; i < json_array_size(j) && rc == 0; i++)
			if ((i && ml_buf_addc(out, ',') < 0) || canon_value(json_array_get(j, i), 0, out) < 0)
				rc = -1;
		return rc < 0 ? -1 : ml_buf_addc(out, ']');
	}
	case JSON_STRING:
		return canon_string(json_string_value(j), json_string_length(j), out);
	case JSON_INTEGER:
		return ml_buf_add(out, num, ml_fmt_int64(json_integer_value(j), num));
	case JSON_REAL:
		return canon_real(json_real_value(j), out);
	case JSON_TRUE:
		return ml_buf_adds(out, "true");
	case JSON_FALSE:
		return ml_buf_adds(out, "false");
	case JSON_NULL:
		return ml_buf_adds(out, "null");
	}
	return -1;
}

int ml_artifact_canonical(const json_t *doc, struct ml_buf *out)
{
	return canon_value(doc, 1, out);
}

int ml_artifact_digest(const json_t *doc, char out[ML_SHA256_HEX], struct ml_err *err)
{
	struct ml_buf text;
	ml_buf_init(&text, ARTIFACT_MAX_BYTES);
	ml_buf_grow(&text, (size_t)1 << 20);	/* a model's size: no regrowing on the way */
	int rc = ml_artifact_canonical(doc, &text) < 0
			 ? ml_err_set(err, ML_ERR_INTERNAL, "cannot serialise the document (over 1 GiB, or out of memory)")
			 : ml_sha256_hex(text.data ? text.data : "", text.len, out, err);
	ml_buf_release(&text);
	return rc;
}

void ml_utc_now_iso8601(char out[32])
{
	/* SOURCE_DATE_EPOCH makes artifacts byte-reproducible (reproducible-builds.org). */
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t now = time(NULL);
	if (sde && *sde) {
		char *end;
		errno = 0;
		long long v = strtoll(sde, &end, 10);
		if (!errno && !*end && v >= 0)
			now = (time_t)v;
	}
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int ml_format_parse(const char *format, char *name, size_t namesz, int *major)
{
	const char *slash = strrchr(format, '/');
	if (!slash || slash == format || (size_t)(slash - format) >= namesz)
		return -1;
	const char *p = slash + 1;
	if (!isdigit((unsigned char)*p) || *p == '0')
		return -1;
	long v = 0;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > 1000000)
			return -1;
	}
	if (*p)
		return -1;
	memcpy(name, format, (size_t)(slash - format));
	name[slash - format] = '\0';
	*major = (int)v;
	return 0;
}

int ml_artifact_save(json_t *doc, const char *name, int major, const char *uri,
		     struct ml_err *err)
{
	char format[256], digest[ML_SHA256_HEX];
	snprintf(format, sizeof format, "%s/%d", name, major);
	if (json_object_set_new(doc, "format", json_string(format)) < 0)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	if (!json_object_get(doc, "created")) {
		char now[32];
		ml_utc_now_iso8601(now);
		if (json_object_set_new(doc, "created", json_string(now)) < 0)
			return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	}
	if (ml_artifact_digest(doc, digest, err) < 0)
		return -1;
	if (json_object_set_new(doc, "sha256", json_string(digest)) < 0)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	return ml_json_save(doc, uri, 17, err);
}

int ml_json_save(const json_t *doc, const char *uri, int precision, struct ml_err *err)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(precision));
	if (!text)
		return ml_err_set(err, ML_ERR_INTERNAL, "cannot serialise %s", uri);
	size_t len = strlen(text);
	text[len] = '\n';	/* json_dumps leaves no newline; reuse the NUL's slot */
	int rc = ml_write_all_atomic(uri, text, len + 1, err);
	free(text);
	return rc;
}

static int check_format(const json_t *doc, const char *uri, const char *name, int max_major,
			int *major, struct ml_err *err)
{
	const char *format = json_string_value(json_object_get(doc, "format"));
	char found[256];
	int v;
	if (!format)
		return ml_err_set(err, ML_ERR_DATA,
				  "%s: no \"format\" member; expected a %s/%d document", uri, name,
				  max_major);
	if (ml_format_parse(format, found, sizeof found, &v) < 0 || strcmp(found, name) != 0)
		return ml_err_set(err, ML_ERR_DATA, "%s: is a \"%s\" document, expected %s/%d", uri,
				  format, name, max_major);
	if (v > max_major)
		return ml_err_set(err, ML_ERR_DATA,
				  "%s: format %s was written by a newer mlpipe (this one reads up "
				  "to %s/%d); upgrade mlpipe",
				  uri, format, name, max_major);
	if (major)
		*major = v;
	return 0;
}

static int check_digest(const json_t *doc, const char *uri, int require, struct ml_err *err)
{
	const json_t *member = json_object_get(doc, "sha256");
	if (!member)
		return require ? ml_err_set(err, ML_ERR_DATA,
					    "%s: no \"sha256\" member; the file is not an "
					    "mlpipe artifact or was stripped",
					    uri)
			       : 0;
	const char *want = json_string_value(member);
	char got[ML_SHA256_HEX];
	if (!want || strlen(want) != 64)
		return ml_err_set(err, ML_ERR_DATA, "%s: \"sha256\" must be 64 hex digits", uri);
	if (ml_artifact_digest(doc, got, err) < 0)
		return -1;
	if (strcasecmp(want, got) != 0)
		return ml_err_set(err, ML_ERR_DATA,
				  "%s: SHA-256 mismatch (recorded %.12s..., content %.12s...): the "
				  "file was modified or corrupted; regenerate it",
				  uri, want, got);
	return 0;
}

json_t *ml_json_load(const char *uri, struct ml_err *err)
{
	size_t len;
	char *text = ml_read_all(uri, ARTIFACT_MAX_BYTES, &len, err);
	if (!text)
		return NULL;
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!doc)
		ml_err_set(err, ML_ERR_DATA, "%s:%d:%d: %s", uri, jerr.line, jerr.column, jerr.text);
	return doc;
}

json_t *ml_artifact_load(const char *uri, const char *name, int max_major, int require_digest,
			 int *major, struct ml_err *err)
{
	json_t *doc = ml_json_load(uri, err);
	if (!doc)
		return NULL;
	if (!json_is_object(doc)) {
		ml_err_set(err, ML_ERR_DATA, "%s: expected a JSON object, found a %s", uri,
			   json_is_array(doc) ? "list" : "scalar");
		goto fail;
	}
	if (check_format(doc, uri, name, max_major, major, err) < 0 ||
	    check_digest(doc, uri, require_digest, err) < 0)
		goto fail;
	return doc;
fail:
	json_decref(doc);
	return NULL;
}
