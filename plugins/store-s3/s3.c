/*
 * store-s3 - s3://bucket/key wherever a tool takes a path.
 *
 * GET streams: the transfer runs in libcurl's multi interface and the
 * reader pulls from a bounded buffer (the transfer pauses while it is
 * full), so a 10 GB object is processed in constant memory; a connection
 * lost mid-object is resumed with a Range request pinned to the ETag.
 * PUT writes into an unlinked temporary file: an object up to the part size
 * (MLPIPE_S3_PART_SIZE, default 8 MiB, at least 5 MiB) is one PUT at
 * close(commit = 1); a larger one becomes a multipart upload whose parts go
 * out as they fill, each on a thread while the next one is written, so disk
 * use stays two parts; nothing is visible before
 * CompleteMultipartUpload, and abort (or any failure) calls
 * AbortMultipartUpload.  LIST is ListObjectsV2 with continuation tokens
 * (MLPIPE_S3_LIST_PAGE keys a page, default 1000), in S3's lexical order;
 * list_objects passes each key's Size and ETag from the same answer.
 *
 * Requests are signed with AWS Signature Version 4 (libcommon sigv4.c),
 * x-amz-content-sha256 carrying the payload's digest.  Endpoint:
 * MLPIPE_S3_ENDPOINT, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL with
 * path-style addressing (MinIO, Ceph, s3rver), else
 * https://BUCKET.s3.REGION.amazonaws.com.  Connection failures, timeouts,
 * 5xx and 429/SlowDown are retried (MLPIPE_S3_RETRIES more attempts,
 * default 3) with exponential backoff and jitter, then reported as
 * temporary failures; errors name the URI and S3's code and message.
 * Secrets never reach a message or a log line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "mlpipe/buf.h"
#include "mlpipe/log.h"
#include "mlpipe/plugin.h"
#include "mlpipe/sigv4.h"
#include "mlpipe/uri.h"

#define READ_BUFFER (1u << 20)		/* the most a GET holds before it pauses */
#define ERROR_BODY (64u << 10)		/* the most of an error document kept */
#define XML_BODY (16u << 20)		/* a ListObjectsV2 page, a Complete answer */
#define MIN_PART ((size_t)5 << 20)
#define DEFAULT_PART ((size_t)8 << 20)
#define MAX_PARTS 10000

static const struct ml_host *host_services;

static void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void debug(const char *fmt, ...)
{
	if (!host_services || host_services->verbosity < 2 || !host_services->log)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	host_services->log(ML_LOG_DEBUG, "%s", line);
}

/* ---- configuration and addressing ---- */

struct s3_conf {
	struct ml_aws_credentials creds;
	char region[64];
	char base[512];		/* "http://127.0.0.1:4569" (endpoint) or "" (AWS) */
	int retries;
};

static long env_long(const char *name, long dflt, long lo, long hi)
{
	const char *v = getenv(name);
	char *end;
	if (!v || !*v)
		return dflt;
	long n = strtol(v, &end, 10);
	return *end || n < lo || n > hi ? dflt : n;
}

static int conf_load(struct s3_conf *c, struct ml_err *err)
{
	memset(c, 0, sizeof *c);
	snprintf(c->region, sizeof c->region, "%s", ml_aws_region("us-east-1"));
	const char *names[] = { "MLPIPE_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL" };
	for (size_t i = 0; i < 3 && !c->base[0]; i++) {
		const char *v = getenv(names[i]);
		if (!v || !*v)
			continue;
		if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
			return ml_err_set(err, ML_ERR_CONFIG, "%s=%s: expected http://HOST[:PORT] or https://...",
					  names[i], v);
		if ((size_t)snprintf(c->base, sizeof c->base, "%s", v) >= sizeof c->base)
			return ml_err_set(err, ML_ERR_CONFIG, "%s is too long", names[i]);
		size_t n = strlen(c->base);
		while (n > 0 && c->base[n - 1] == '/')
			c->base[--n] = '\0';
	}
	c->retries = (int)env_long("MLPIPE_S3_RETRIES", 3, 0, 10);
	return ml_aws_credentials_find(&c->creds, err);
}

static void conf_release(struct s3_conf *c)
{
	ml_aws_credentials_release(&c->creds);
}

/* An s3:// URI taken apart. */
struct s3_loc {
	char *uri;
	char *bucket;
	char *key;		/* "" for a bucket (or a prefix's start) */
};

static void loc_release(struct s3_loc *l)
{
	free(l->uri);
	free(l->bucket);
	free(l->key);
	memset(l, 0, sizeof *l);
}

static int loc_parse(const char *uri, int need_key, struct s3_loc *l, struct ml_err *err)
{
	memset(l, 0, sizeof *l);
	if (strncasecmp(uri, "s3://", 5) != 0)
		return ml_err_set(err, ML_ERR_USAGE, "%s: not an s3:// URI", uri);
	const char *b = uri + 5, *slash = strchr(b, '/');
	size_t blen = slash ? (size_t)(slash - b) : strlen(b);
	if (blen < 3 || blen > 63 || strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-_") < blen)
		return ml_err_set(err, ML_ERR_USAGE, "%s: \"%.*s\" is not a bucket name (3-63 of a-z 0-9 . -)", uri,
				  (int)(blen > 80 ? 80 : blen), b);
	const char *key = slash ? slash + 1 : "";
	if (need_key && !*key)
		return ml_err_set(err, ML_ERR_USAGE, "%s: no object key after the bucket (s3://BUCKET/KEY)", uri);
	if (strlen(key) > 1024)
		return ml_err_set(err, ML_ERR_USAGE, "%s: object keys are at most 1024 bytes", uri);
	l->uri = strdup(uri);
	l->bucket = strndup(b, blen);
	l->key = strdup(key);
	if (!l->uri || !l->bucket || !l->key) {
		loc_release(l);
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	}
	return 0;
}

/* URL, Host header and canonical path of an object (key may be ""). */
struct s3_addr {
	char url[4096];
	char host[512];
	char path[3200];
};

static int address(const struct s3_conf *c, const struct s3_loc *l, struct s3_addr *a, struct ml_err *err)
{
	char *key = ml_sigv4_uri_encode(l->key, 1);
	if (!key)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	int path_style = c->base[0] || strchr(l->bucket, '.') || getenv("MLPIPE_S3_PATH_STYLE");
	char base[512];
	if (c->base[0])
		snprintf(base, sizeof base, "%s", c->base);
	else if (path_style)
		snprintf(base, sizeof base, "https://s3.%s.amazonaws.com", c->region);
	else
		snprintf(base, sizeof base, "https://%s.s3.%s.amazonaws.com", l->bucket, c->region);
	const char *h = strstr(base, "://") + 3;
	size_t hlen = strcspn(h, "/");
	snprintf(a->host, sizeof a->host, "%.*s", (int)hlen, h);
	/* A bucket itself (LIST) is "/bucket" path-style: no trailing slash. */
	int n = path_style ? snprintf(a->path, sizeof a->path, "/%s%s%s", l->bucket, *key ? "/" : "", key)
			   : snprintf(a->path, sizeof a->path, "/%s", key);
	free(key);
	if (n < 0 || (size_t)n >= sizeof a->path)
		return ml_err_set(err, ML_ERR_USAGE, "%s: the key is too long", l->uri);
	snprintf(a->url, sizeof a->url, "%.*s%s", (int)(h + hlen - base), base, a->path);
	return 0;
}

/* ---- XML answers ---- */

/* The text of the first <tag>...</tag> in [p, end), entities decoded; NULL if absent. */
static char *xml_text(const char *p, const char *end, const char *tag, const char **after)
{
	char open[64], close[64];
	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	const char *s = memmem(p, (size_t)(end - p), open, strlen(open));
	if (!s)
		return NULL;
	s += strlen(open);
	const char *e = memmem(s, (size_t)(end - s), close, strlen(close));
	if (!e)
		return NULL;
	if (after)
		*after = e + strlen(close);
	char *out = malloc((size_t)(e - s) + 1), *o = out;
	if (!out)
		return NULL;
	static const struct {
		const char *name;
		char c;
	} ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' } };
	while (s < e) {
		size_t i = 0;
		if (*s == '&') {
			for (i = 0; i < 5; i++) {
				size_t n = strlen(ents[i].name);
				if ((size_t)(e - s) >= n && !memcmp(s, ents[i].name, n)) {
					*o++ = ents[i].c;
					s += n;
					break;
				}
			}
			if (i == 5 && s + 2 < e && s[1] == '#') {
				char *semi;
				int hexa = s[2] == 'x' || s[2] == 'X';
				unsigned long cp = strtoul(s + 2 + hexa, &semi, hexa ? 16 : 10);
				if (*semi == ';' && semi < e && cp > 0 && cp < 0x110000) {
					/* UTF-8 encode the code point. */
					if (cp < 0x80) {
						*o++ = (char)cp;
					} else if (cp < 0x800) {
						*o++ = (char)(0xc0 | (cp >> 6));
						*o++ = (char)(0x80 | (cp & 0x3f));
					} else if (cp < 0x10000) {
						*o++ = (char)(0xe0 | (cp >> 12));
						*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
						*o++ = (char)(0x80 | (cp & 0x3f));
					} else {
						*o++ = (char)(0xf0 | (cp >> 18));
						*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
						*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
						*o++ = (char)(0x80 | (cp & 0x3f));
					}
					s = semi + 1;
					continue;
				}
			}
			if (i < 5)
				continue;
		}
		*o++ = *s++;
	}
	*o = '\0';
	return out;
}

/* ---- requests ---- */

struct s3_call {
	const struct s3_conf *conf;
	const struct s3_loc *loc;
	const char *method;
	const char *query;		/* encoded, or NULL */
	const char *payload_sha256;	/* NULL: the empty body */
	const char *const *headers;	/* extra "Name: value" to sign and send */
	/* request body: memory, or a file descriptor's first body_len bytes */
	const char *body;
	int body_fd;
	curl_off_t body_len;
	curl_off_t body_pos;		/* (internal) read position */
	/* answer */
	long status;
	struct ml_buf resp;		/* body of an answer (capped) */
	char etag[128];
	char errbuf[CURL_ERROR_SIZE];
};

static size_t header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct s3_call *c = arg;
	size_t len = size * n;
	if (len > 5 && !strncasecmp(p, "ETag:", 5)) {
		const char *v = p + 5, *end = p + len;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
			end--;
		snprintf(c->etag, sizeof c->etag, "%.*s", (int)(end - v), v);
	} else if (len > 5 && !strncasecmp(p, "HTTP/", 5)) {
		c->etag[0] = '\0';	/* a new response (after 100 Continue, a redirect) */
	}
	return len;
}

static size_t body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct s3_call *c = arg;
	/* Past the cap the rest is dropped: an error's code comes first. */
	if (c->resp.len < c->resp.cap)
		ml_buf_add(&c->resp, p, size * n < c->resp.cap - c->resp.len ? size * n : c->resp.cap - c->resp.len);
	return size * n;
}

static size_t read_cb(char *p, size_t size, size_t n, void *arg)
{
	struct s3_call *c = arg;
	size_t want = size * n;
	if ((curl_off_t)want > c->body_len - c->body_pos)
		want = (size_t)(c->body_len - c->body_pos);
	if (want == 0)
		return 0;
	if (c->body) {
		memcpy(p, c->body + c->body_pos, want);
	} else {
		ssize_t got;
		do
			got = pread(c->body_fd, p, want, (off_t)c->body_pos);
		while (got < 0 && errno == EINTR);
		if (got <= 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)got;
	}
	c->body_pos += (curl_off_t)want;
	return want;
}

static int seek_cb(void *arg, curl_off_t offset, int origin)
{
	struct s3_call *c = arg;
	if (origin != SEEK_SET || offset < 0 || offset > c->body_len)
		return CURL_SEEKFUNC_FAIL;
	c->body_pos = offset;
	return CURL_SEEKFUNC_OK;
}

static struct curl_slist *add_header(struct curl_slist *list, const char *h, int *bad)
{
	struct curl_slist *more = curl_slist_append(list, h);
	if (!more)
		*bad = 1;
	return more ? more : list;
}

/*
 * A handle for one attempt of a call, signed now.  Owns *headers (free with
 * curl_slist_free_all).  The caller sets the write function when it is not
 * collecting the answer in c->resp.
 */
static CURL *prepare(struct s3_call *c, const struct s3_addr *a, struct curl_slist **headers, struct ml_err *err)
{
	char date[17], line[4096];
	ml_sigv4_amz_date(time(NULL), date);
	const char *payload = c->payload_sha256 ? c->payload_sha256 : ML_SIGV4_EMPTY_SHA256;
	const char *sign[32];
	char hostline[600], hashline[100], dateline[40], tokline[4096];
	size_t n = 0;
	snprintf(hostline, sizeof hostline, "Host:%s", a->host);
	snprintf(hashline, sizeof hashline, "x-amz-content-sha256:%s", payload);
	snprintf(dateline, sizeof dateline, "x-amz-date:%s", date);
	sign[n++] = hostline;
	sign[n++] = hashline;
	sign[n++] = dateline;
	if (c->conf->creds.session_token) {
		snprintf(tokline, sizeof tokline, "x-amz-security-token:%s", c->conf->creds.session_token);
		sign[n++] = tokline;
	}
	for (size_t i = 0; c->headers && c->headers[i] && n < 31; i++)
		sign[n++] = c->headers[i];
	sign[n] = NULL;
	struct ml_sigv4_request r = { .method = c->method, .path = a->path, .query = c->query, .headers = sign,
				      .payload_sha256 = payload, .region = c->conf->region, .service = "s3",
				      .amz_date = date, .access_key = c->conf->creds.access_key,
				      .secret_key = c->conf->creds.secret_key };
	struct ml_sigv4 sig;
	if (ml_sigv4_sign(&r, &sig, err) < 0)
		return NULL;
	int bad = 0;
	struct curl_slist *h = NULL;
	for (size_t i = 0; i < n; i++)
		h = add_header(h, sign[i], &bad);
	snprintf(line, sizeof line, "Authorization: %s", sig.authorization);
	h = add_header(h, line, &bad);
	h = add_header(h, "Expect:", &bad);
	ml_sigv4_release(&sig);
	CURL *curl = bad ? NULL : curl_easy_init();
	if (!curl) {
		curl_slist_free_all(h);
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	*headers = h;
	char url[8192];
	snprintf(url, sizeof url, "%s%s%s", a->url, c->query && *c->query ? "?" : "", c->query ? c->query : "");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "mlpipe-s3/" MLPIPE_VERSION);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, env_long("MLPIPE_S3_CONNECT_TIMEOUT_MS", 10000, 100, 600000));
	/* A stalled transfer (under 1 byte/s for 60 s) is a failure to retry. */
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, c);
	c->errbuf[0] = '\0';
	c->etag[0] = '\0';
	if (!strcmp(c->method, "PUT")) {
		c->body_pos = 0;
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(curl, CURLOPT_READDATA, c);
		curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(curl, CURLOPT_SEEKDATA, c);
		curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, c->body_len);
	} else if (!strcmp(c->method, "POST")) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, c->body ? c->body : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, c->body ? c->body_len : (curl_off_t)0);
	} else if (strcmp(c->method, "GET") != 0) {
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, c->method);
	}
	return curl;
}

static int transient_status(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

static int transient_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* Sleep before attempt number `attempt` (1 = the first retry): 0.2 s, 0.8 s, 3.2 s ... with jitter. */
static void backoff(int attempt)
{
	long ms = 200;
	for (int i = 1; i < attempt && ms < 20000; i++)
		ms *= 4;
	ms += rand() % (ms / 2 + 1);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* An S3 error answer as a message and a class. */
static int s3_error(const struct s3_call *c, const char *uri, const char *body, size_t len, struct ml_err *err)
{
	const char *end = body ? body + len : NULL;
	char *code = body ? xml_text(body, end, "Code", NULL) : NULL;
	char *msg = body ? xml_text(body, end, "Message", NULL) : NULL;
	long status = c->status;
	enum ml_errclass cls = ML_ERR_UNAVAILABLE;
	const char *hint = "";
	const char *k = code ? code : "";
	if (!strcmp(k, "NoSuchKey") || !strcmp(k, "NoSuchBucket") || !strcmp(k, "NoSuchUpload") ||
	    (!code && status == 404)) {
		cls = ML_ERR_NOINPUT;
	} else if (!strcmp(k, "SignatureDoesNotMatch")) {
		cls = ML_ERR_CONFIG;
		hint = ": the secret key does not match the access key ID (check AWS_SECRET_ACCESS_KEY)";
	} else if (!strcmp(k, "InvalidAccessKeyId")) {
		cls = ML_ERR_CONFIG;
		hint = ": the store does not know this access key ID (check AWS_ACCESS_KEY_ID)";
	} else if (!strcmp(k, "ExpiredToken") || !strcmp(k, "InvalidToken") || !strcmp(k, "TokenRefreshRequired")) {
		cls = ML_ERR_CONFIG;
		hint = ": the session token is expired or invalid (check AWS_SESSION_TOKEN)";
	} else if (!strcmp(k, "AccessDenied") || !strcmp(k, "AllAccessDisabled") || (!code && status == 403)) {
		cls = ML_ERR_NOINPUT;
		hint = ": these credentials are not allowed to do this (check the bucket policy and IAM permissions)";
	} else if (!strcmp(k, "PermanentRedirect") || !strcmp(k, "AuthorizationHeaderMalformed") ||
		   (!code && status == 301)) {
		cls = ML_ERR_CONFIG;
		hint = ": the bucket is in another region (set AWS_REGION to it)";
	} else if (!strcmp(k, "RequestTimeTooSkewed")) {
		cls = ML_ERR_CONFIG;
		hint = ": this machine's clock is off by more than 15 minutes";
	} else if (transient_status(status) || !strcmp(k, "SlowDown") || !strcmp(k, "InternalError") ||
		   !strcmp(k, "RequestTimeout") || !strcmp(k, "ServiceUnavailable")) {
		cls = ML_ERR_TEMPFAIL;
	} else if (!strcmp(k, "InvalidBucketName") || !strcmp(k, "KeyTooLongError")) {
		cls = ML_ERR_USAGE;
	}
	if (code)
		ml_err_set(err, cls, "%s: %s: %s (HTTP %ld)%s", uri, code, msg ? msg : "no message", status, hint);
	else
		ml_err_set(err, cls, "%s: HTTP %ld from %s%s", uri, status, c->method, hint);
	free(code);
	free(msg);
	return -1;
}

static int is_error_document(const struct s3_call *c)
{
	return c->resp.data && strstr(c->resp.data, "<Error>") != NULL;
}

/* One call with retries; the answer (capped at cap) is in c->resp.  0 on 2xx. */
static int perform(struct s3_call *c, size_t cap, struct ml_err *err)
{
	struct s3_addr a;
	if (address(c->conf, c->loc, &a, err) < 0)
		return -1;
	ml_buf_init(&c->resp, cap);
	CURLcode rc = CURLE_OK;
	int attempt;
	for (attempt = 0;; attempt++) {
		if (attempt > 0)
			backoff(attempt);
		ml_buf_reset(&c->resp);
		struct curl_slist *headers = NULL;
		CURL *curl = prepare(c, &a, &headers, err);
		if (!curl)
			return -1;
		rc = curl_easy_perform(curl);
		c->status = 0;
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &c->status);
		curl_easy_cleanup(curl);
		curl_slist_free_all(headers);
		debug("%s %s%s%s -> %ld %s", c->method, c->loc->uri, c->query ? "?" : "", c->query ? c->query : "",
		      c->status, rc == CURLE_OK ? "" : curl_easy_strerror(rc));
		/* CompleteMultipartUpload may answer 200 with an error document. */
		int failed_200 = rc == CURLE_OK && c->status == 200 && !strcmp(c->method, "POST") && is_error_document(c);
		if (rc == CURLE_OK && c->status >= 200 && c->status < 300 && !failed_200)
			return 0;
		int again = rc != CURLE_OK ? transient_curl(rc)
					   : transient_status(c->status) ||
						     (c->resp.data && (strstr(c->resp.data, "<Code>SlowDown<") ||
								       strstr(c->resp.data, "<Code>InternalError<")));
		if (!again || attempt >= c->conf->retries)
			break;
	}
	if (rc != CURLE_OK)
		return ml_err_set(err, transient_curl(rc) ? ML_ERR_TEMPFAIL : ML_ERR_UNAVAILABLE,
				  "%s: %s %s: %s (%d attempt%s)", c->loc->uri, c->method, a.url,
				  c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc), attempt + 1, attempt ? "s" : "");
	return s3_error(c, c->loc->uri, c->resp.data, c->resp.len, err);
}

/* ---- GET: a stream pulled from a paused-and-resumed transfer ---- */

struct s3_get {
	struct s3_conf conf;
	struct s3_loc loc;
	struct s3_call call;
	struct s3_addr addr;
	CURLM *multi;
	CURL *curl;
	struct curl_slist *headers;
	char range[64], ifmatch[160];
	const char *extra[3];
	struct ml_buf buf;		/* received, not yet read: [pos, len) */
	size_t pos;
	int paused, done, resumes;
	CURLcode result;
	long status;
	curl_off_t delivered;		/* bytes handed to the reader */
	char etag[128];			/* of the first answer, to pin resumed ranges */
};

static size_t get_body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct s3_get *g = arg;
	size_t len = size * n;
	if (!g->status)
		curl_easy_getinfo(g->curl, CURLINFO_RESPONSE_CODE, &g->status);
	if (g->status < 200 || g->status >= 300)
		return body_cb(p, size, n, &g->call);	/* an error document */
	if (g->pos == g->buf.len) {
		g->pos = 0;
		ml_buf_reset(&g->buf);
	}
	if (g->buf.len - g->pos > 0 && g->buf.len + len > READ_BUFFER) {
		g->paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (g->pos > 0 && g->buf.len + len > READ_BUFFER) {
		memmove(g->buf.data, g->buf.data + g->pos, g->buf.len - g->pos);
		g->buf.len -= g->pos;
		g->pos = 0;
	}
	if (ml_buf_add(&g->buf, p, len) < 0)
		return 0;	/* out of memory: the transfer fails */
	return len;
}

static void get_stop(struct s3_get *g)
{
	if (g->curl) {
		curl_multi_remove_handle(g->multi, g->curl);
		curl_easy_cleanup(g->curl);
		g->curl = NULL;
	}
	curl_slist_free_all(g->headers);
	g->headers = NULL;
}

/* Start (or restart from g->delivered) the transfer. */
static int get_start(struct s3_get *g, struct ml_err *err)
{
	get_stop(g);
	size_t n = 0;
	if (g->delivered > 0) {
		snprintf(g->range, sizeof g->range, "Range:bytes=%lld-", (long long)g->delivered);
		g->extra[n++] = g->range;
		if (g->etag[0]) {
			snprintf(g->ifmatch, sizeof g->ifmatch, "If-Match:%s", g->etag);
			g->extra[n++] = g->ifmatch;
		}
	}
	g->extra[n] = NULL;
	g->call.headers = g->extra;
	ml_buf_reset(&g->call.resp);
	g->status = 0;
	g->done = 0;
	g->paused = 0;
	g->result = CURLE_OK;
	if (!(g->curl = prepare(&g->call, &g->addr, &g->headers, err)))
		return -1;
	curl_easy_setopt(g->curl, CURLOPT_WRITEFUNCTION, get_body_cb);
	curl_easy_setopt(g->curl, CURLOPT_WRITEDATA, g);
	if (curl_multi_add_handle(g->multi, g->curl) != CURLM_OK)
		return ml_err_set(err, ML_ERR_INTERNAL, "%s: libcurl could not start the transfer", g->loc.uri);
	return 0;
}

/* Run the transfer until there is data to read or it has ended. */
static void get_pump(struct s3_get *g)
{
	while (g->pos == g->buf.len && !g->done) {
		if (g->paused) {
			g->paused = 0;
			curl_easy_pause(g->curl, CURLPAUSE_CONT);
			if (g->pos < g->buf.len)
				break;
		}
		int running = 0;
		curl_multi_perform(g->multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(g->multi, &left)))
			if (m->msg == CURLMSG_DONE && m->easy_handle == g->curl) {
				g->done = 1;
				g->result = m->data.result;
			}
		if (!running && !g->done) {
			g->done = 1;	/* ended without a message: treat as a lost connection */
			g->result = CURLE_RECV_ERROR;
		}
		if (g->done || g->pos < g->buf.len || g->paused)
			continue;
		curl_multi_poll(g->multi, NULL, 0, 1000, NULL);
	}
	if (g->done && !g->status)
		curl_easy_getinfo(g->curl, CURLINFO_RESPONSE_CODE, &g->status);
}

/*
 * Drive the (re)started transfer to its first byte or its end, retrying
 * failures that a retry may cure.  0 when data (or a clean end) is ready.
 */
static int get_settle(struct s3_get *g, struct ml_err *err)
{
	for (int attempt = 0;; attempt++) {
		if (attempt > 0) {
			backoff(attempt);
			if (get_start(g, err) < 0)
				return -1;
		}
		get_pump(g);
		long want = g->delivered > 0 ? 206 : 200;
		int ok_status = g->status == want || (g->status >= 200 && g->status < 300 && g->delivered == 0);
		debug("GET %s%s -> %ld %s", g->loc.uri, g->delivered ? " (resumed)" : "", g->status,
		      g->result == CURLE_OK ? "" : curl_easy_strerror(g->result));
		if (ok_status && (g->pos < g->buf.len || g->result == CURLE_OK)) {
			if (!g->etag[0])
				snprintf(g->etag, sizeof g->etag, "%s", g->call.etag);
			return 0;
		}
		int again = (g->status == 0 || ok_status) ? transient_curl(g->result) : transient_status(g->status);
		if (!again || attempt >= g->conf.retries) {
			g->call.status = g->status;
			if (g->status == 0 || (ok_status && g->result != CURLE_OK))
				return ml_err_set(err, again ? ML_ERR_TEMPFAIL : ML_ERR_UNAVAILABLE,
						  "%s: GET %s: %s (%d attempt%s)", g->loc.uri, g->addr.url,
						  g->call.errbuf[0] ? g->call.errbuf : curl_easy_strerror(g->result),
						  attempt + 1, attempt ? "s" : "");
			if (g->status == 412)
				return ml_err_set(err, ML_ERR_TEMPFAIL,
						  "%s: the object changed while it was being read; read it again", g->loc.uri);
			return s3_error(&g->call, g->loc.uri, g->call.resp.data, g->call.resp.len, err);
		}
	}
}

static void get_free(struct s3_get *g)
{
	get_stop(g);
	if (g->multi)
		curl_multi_cleanup(g->multi);
	ml_buf_release(&g->buf);
	ml_buf_release(&g->call.resp);
	conf_release(&g->conf);
	loc_release(&g->loc);
	free(g);
}

static ssize_t s3_read(struct ml_istream *s, void *out, size_t n, struct ml_err *err)
{
	struct s3_get *g = s->ctx;
	for (;;) {
		if (g->pos < g->buf.len) {
			size_t k = g->buf.len - g->pos < n ? g->buf.len - g->pos : n;
			memcpy(out, g->buf.data + g->pos, k);
			g->pos += k;
			g->delivered += (curl_off_t)k;
			return (ssize_t)k;
		}
		if (!g->done) {
			get_pump(g);
			continue;
		}
		if (g->result == CURLE_OK)
			return 0;
		/* Lost mid-object: resume where the reader is. */
		if (g->resumes++ >= 3 * (g->conf.retries + 1))
			return ml_err_set(err, ML_ERR_TEMPFAIL, "%s: the transfer kept failing: %s", g->loc.uri,
					  curl_easy_strerror(g->result));
		debug("GET %s: %s at byte %lld; resuming", g->loc.uri, curl_easy_strerror(g->result),
		      (long long)g->delivered);
		backoff(1);
		if (get_start(g, err) < 0 || get_settle(g, err) < 0)
			return -1;
	}
}

static void s3_close_read(struct ml_istream *s)
{
	get_free(s->ctx);
}

static struct ml_istream *s3_open_read(const char *uri, struct ml_err *err)
{
	struct s3_get *g = calloc(1, sizeof *g);
	struct ml_istream *s = NULL;
	if (!g) {
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	ml_buf_init(&g->buf, READ_BUFFER + CURL_MAX_WRITE_SIZE);
	ml_buf_init(&g->call.resp, ERROR_BODY);
	if (loc_parse(uri, 1, &g->loc, err) < 0 || conf_load(&g->conf, err) < 0 ||
	    address(&g->conf, &g->loc, &g->addr, err) < 0)
		goto fail;
	g->call = (struct s3_call){ .conf = &g->conf, .loc = &g->loc, .method = "GET" };
	ml_buf_init(&g->call.resp, ERROR_BODY);
	if (!(g->multi = curl_multi_init())) {
		ml_err_set(err, ML_ERR_INTERNAL, "libcurl could not start");
		goto fail;
	}
	if (get_start(g, err) < 0 || get_settle(g, err) < 0)
		goto fail;
	if (!(s = calloc(1, sizeof *s)) || !(s->name = strdup(uri))) {
		free(s);
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
		goto fail;
	}
	s->fd = -1;
	s->ctx = g;
	s->read = s3_read;
	s->close = s3_close_read;
	return s;
fail:
	get_free(g);
	return NULL;
}

/* ---- PUT: a temp file, one PUT or a multipart upload ---- */

/*
 * Two temporary files take turns: while a full part goes up on a thread of
 * its own, the writer fills the other one, so producing the output and
 * uploading it overlap.  A part's failure is reported by the next write or
 * by close, and the upload is aborted.
 */
struct s3_put {
	struct s3_conf conf;
	struct s3_loc loc;
	int fd[2];		/* unlinked temp files; fd[cur] holds the part being written */
	int cur;
	curl_off_t len;		/* bytes in fd[cur] */
	size_t part_size;
	EVP_MD_CTX *sha;	/* digest of the part being written */
	char *upload_id;	/* once a multipart upload has begun */
	char **etags;		/* one per part handed off; filled in as each is stored */
	int nparts;
	int failed;
	/* the part on its way (the other file), while sending */
	int sending;
	pthread_t sender;
	int send_fd, send_number, send_rc;
	curl_off_t send_len;
	char send_digest[65];
	struct ml_err send_err;
};

static void hexdigest(EVP_MD_CTX *sha, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_DigestFinal_ex(sha, md, &n);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
}

static int begin_multipart(struct s3_put *p, struct ml_err *err)
{
	struct s3_call c = { .conf = &p->conf, .loc = &p->loc, .method = "POST", .query = "uploads" };
	int rc = perform(&c, XML_BODY, err);
	if (rc == 0) {
		p->upload_id = c.resp.data ? xml_text(c.resp.data, c.resp.data + c.resp.len, "UploadId", NULL) : NULL;
		if (!p->upload_id)
			rc = ml_err_set(err, ML_ERR_UNAVAILABLE, "%s: the store did not start a multipart upload",
					p->loc.uri);
	}
	ml_buf_release(&c.resp);
	return rc;
}

/* UploadPart of the part handed off (send_*); its ETag into etags[send_number - 1]. */
static int send_part(struct s3_put *p, struct ml_err *err)
{
	char *id = ml_sigv4_uri_encode(p->upload_id, 0), query[1024];
	if (!id)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	snprintf(query, sizeof query, "partNumber=%d&uploadId=%s", p->send_number, id);
	free(id);
	struct s3_call c = { .conf = &p->conf, .loc = &p->loc, .method = "PUT", .query = query,
			     .payload_sha256 = p->send_digest, .body_fd = p->send_fd, .body_len = p->send_len };
	int rc = perform(&c, ERROR_BODY, err);
	ml_buf_release(&c.resp);
	if (rc == 0 && !(p->etags[p->send_number - 1] = strdup(c.etag)))
		rc = ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	return rc;
}

static void *sender(void *arg)
{
	struct s3_put *p = arg;
	p->send_rc = send_part(p, &p->send_err);
	return NULL;
}

/* Wait for the part on its way; its failure, if it failed. */
static int part_sent(struct s3_put *p, struct ml_err *err)
{
	if (!p->sending)
		return 0;
	pthread_join(p->sender, NULL);
	p->sending = 0;
	if (p->send_rc == 0)
		return 0;
	if (err)
		*err = p->send_err;
	return -1;
}

/* The part in fd[cur] goes up (on a thread when one starts); the writer moves to the other file. */
static int upload_part(struct s3_put *p, struct ml_err *err)
{
	if (part_sent(p, err) < 0)
		return -1;
	if (p->nparts == MAX_PARTS)
		return ml_err_set(err, ML_ERR_USAGE, "%s: more than %d parts; raise MLPIPE_S3_PART_SIZE", p->loc.uri,
				  MAX_PARTS);
	if (!p->upload_id && begin_multipart(p, err) < 0)
		return -1;
	char **more = realloc(p->etags, (size_t)(p->nparts + 1) * sizeof *more);
	if (!more)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	p->etags = more;
	p->etags[p->nparts++] = NULL;
	hexdigest(p->sha, p->send_digest);
	p->send_fd = p->fd[p->cur];
	p->send_len = p->len;
	p->send_number = p->nparts;
	if (pthread_create(&p->sender, NULL, sender, p) == 0)
		p->sending = 1;
	else if (send_part(p, err) < 0)	/* no thread to be had: here */
		return -1;
	p->cur ^= 1;
	p->len = 0;
	if (ftruncate(p->fd[p->cur], 0) < 0 || lseek(p->fd[p->cur], 0, SEEK_SET) < 0)
		return ml_err_errno(err, errno, "%s: cannot reuse the temporary file", p->loc.uri);
	return 0;
}

static int complete_multipart(struct s3_put *p, struct ml_err *err)
{
	struct ml_buf xml;
	ml_buf_init(&xml, (size_t)MAX_PARTS * 256);
	ml_buf_adds(&xml, "<CompleteMultipartUpload>");
	for (int i = 0; i < p->nparts; i++)
		ml_buf_printf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i + 1, p->etags[i]);
	if (ml_buf_adds(&xml, "</CompleteMultipartUpload>") < 0) {
		ml_buf_release(&xml);
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	}
	char digest[65], query[1024];
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_Digest(xml.data, xml.len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(digest + 2 * i, 3, "%02x", md[i]);
	char *id = ml_sigv4_uri_encode(p->upload_id, 0);
	snprintf(query, sizeof query, "uploadId=%s", id ? id : "");
	free(id);
	const char *headers[] = { "Content-Type:application/xml", NULL };
	struct s3_call c = { .conf = &p->conf, .loc = &p->loc, .method = "POST", .query = query,
			     .payload_sha256 = digest, .headers = headers, .body = xml.data,
			     .body_len = (curl_off_t)xml.len };
	int rc = perform(&c, XML_BODY, err);
	ml_buf_release(&c.resp);
	ml_buf_release(&xml);
	return rc;
}

static void abort_multipart(struct s3_put *p)
{
	char query[1024];
	char *id = ml_sigv4_uri_encode(p->upload_id, 0);
	if (!id)
		return;
	snprintf(query, sizeof query, "uploadId=%s", id);
	free(id);
	struct s3_call c = { .conf = &p->conf, .loc = &p->loc, .method = "DELETE", .query = query };
	struct ml_err ignored = ML_ERR_INIT;
	if (perform(&c, ERROR_BODY, &ignored) < 0)
		debug("%s: AbortMultipartUpload failed: %s", p->loc.uri, ignored.msg);
	ml_buf_release(&c.resp);
}

static int put_single(struct s3_put *p, struct ml_err *err)
{
	char digest[65];
	hexdigest(p->sha, digest);
	struct s3_call c = { .conf = &p->conf, .loc = &p->loc, .method = "PUT", .payload_sha256 = digest,
			     .body_fd = p->fd[p->cur], .body_len = p->len };
	int rc = perform(&c, ERROR_BODY, err);
	ml_buf_release(&c.resp);
	return rc;
}

static int s3_write(struct ml_ostream *s, const void *buf, size_t n, struct ml_err *err)
{
	struct s3_put *p = s->ctx;
	const char *q = buf;
	if (p->failed)
		return ml_err_set(err, ML_ERR_IO, "%s: an earlier write failed", p->loc.uri);
	while (n > 0) {
		size_t room = p->part_size - (size_t)p->len, k = n < room ? n : room;
		ssize_t put = write(p->fd[p->cur], q, k);
		if (put < 0) {
			if (errno == EINTR)
				continue;
			p->failed = 1;
			return ml_err_errno(err, errno, "%s: cannot write the temporary copy", p->loc.uri);
		}
		EVP_DigestUpdate(p->sha, q, (size_t)put);
		p->len += put;
		q += put;
		n -= (size_t)put;
		if ((size_t)p->len == p->part_size && upload_part(p, err) < 0) {
			p->failed = 1;
			return -1;
		}
	}
	return 0;
}

static void put_free(struct s3_put *p)
{
	part_sent(p, NULL);
	for (int i = 0; i < 2; i++)
		if (p->fd[i] >= 0)
			close(p->fd[i]);
	EVP_MD_CTX_free(p->sha);
	for (int i = 0; i < p->nparts; i++)
		free(p->etags[i]);
	free(p->etags);
	free(p->upload_id);
	conf_release(&p->conf);
	loc_release(&p->loc);
	free(p);
}

static int s3_close_write(struct ml_ostream *s, int commit, struct ml_err *err)
{
	struct s3_put *p = s->ctx;
	int rc = 0;
	if (commit && !p->failed) {
		if (!p->upload_id)
			rc = put_single(p, err);
		else if ((p->len > 0 && upload_part(p, err) < 0) || part_sent(p, err) < 0 ||
			 complete_multipart(p, err) < 0)
			rc = -1;
		if (rc == 0)
			debug("%s: written (%d part%s)", p->loc.uri, p->nparts ? p->nparts : 1, p->nparts > 1 ? "s" : "");
	} else if (commit) {
		rc = ml_err_set(err, ML_ERR_IO, "%s: not written: an earlier write failed", p->loc.uri);
	}
	if (p->upload_id && (rc < 0 || !commit || p->failed)) {
		part_sent(p, NULL);	/* a part still going up would outlive the abort */
		abort_multipart(p);
	}
	put_free(p);
	return rc;
}

static int temp_fd(struct ml_err *err)
{
	const char *dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	char path[4096];
	snprintf(path, sizeof path, "%s/mlpipe-s3.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return ml_err_errno(err, errno, "%s: cannot make a temporary file for an S3 upload", dir);
	unlink(path);
	return fd;
}

static struct ml_ostream *s3_open_write(const char *uri, int mode, struct ml_err *err)
{
	if (mode == ML_WRITE_APPEND) {
		ml_err_set(err, ML_ERR_UNAVAILABLE, "%s: appending to an S3 object is not supported yet", uri);
		return NULL;
	}
	struct s3_put *p = calloc(1, sizeof *p);
	struct ml_ostream *s = NULL;
	if (!p) {
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	p->fd[0] = p->fd[1] = -1;
	if (loc_parse(uri, 1, &p->loc, err) < 0 || conf_load(&p->conf, err) < 0)
		goto fail;
	long mib = env_long("MLPIPE_S3_PART_SIZE", (long)(DEFAULT_PART >> 20), 5, 5120);
	p->part_size = (size_t)mib << 20;
	if (p->part_size < MIN_PART)
		p->part_size = MIN_PART;
	if ((p->fd[0] = temp_fd(err)) < 0 || (p->fd[1] = temp_fd(err)) < 0)
		goto fail;
	if (!(p->sha = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(p->sha, EVP_sha256(), NULL) ||
	    !(s = calloc(1, sizeof *s)) || !(s->name = strdup(uri))) {
		free(s);
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
		goto fail;
	}
	s->fd = -1;
	s->ctx = p;
	s->write = s3_write;
	s->close = s3_close_write;
	return s;
fail:
	put_free(p);
	return NULL;
}

/* ---- LIST and DELETE ---- */

/* One <Contents> of a ListObjectsV2 page as an object: its key, Size and ETag. */
static int list_entry(const char *bucket, const char *contents, const char *stop, struct ml_buf *uri,
		      int (*fn)(const struct ml_store_object *o, void *arg), void *arg)
{
	char *key = xml_text(contents, stop, "Key", NULL);
	char *size = xml_text(contents, stop, "Size", NULL);
	char *etag = xml_text(contents, stop, "ETag", NULL);
	char *end = NULL;
	unsigned long long bytes = size ? strtoull(size, &end, 10) : 0;
	int rc = 0;
	if (key) {
		ml_buf_reset(uri);
		ml_buf_printf(uri, "s3://%s/%s", bucket, key);
		struct ml_store_object o = { sizeof o, uri->data, ML_OBJECT_BYTES_UNKNOWN, etag };
		if (size && end != size && !*end)
			o.bytes = bytes;
		rc = fn(&o, arg);
	}
	free(key);
	free(size);
	free(etag);
	return rc;
}

static int s3_list_objects(const char *prefix, int (*fn)(const struct ml_store_object *o, void *arg), void *arg,
			   struct ml_err *err)
{
	struct s3_loc bucket = { 0 }, loc;
	struct s3_conf conf;
	if (loc_parse(prefix, 0, &loc, err) < 0)
		return -1;
	if (conf_load(&conf, err) < 0) {
		loc_release(&loc);
		return -1;
	}
	bucket.uri = loc.uri;
	bucket.bucket = loc.bucket;
	bucket.key = "";
	long page = env_long("MLPIPE_S3_LIST_PAGE", 1000, 1, 1000);
	char *pfx = ml_sigv4_uri_encode(loc.key, 0), *token = NULL;
	int rc = pfx ? 0 : ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	struct ml_buf query, uri;
	ml_buf_init(&query, 1 << 16);
	ml_buf_init(&uri, 1 << 12);
	while (rc == 0) {
		ml_buf_reset(&query);
		char *tok = token ? ml_sigv4_uri_encode(token, 0) : NULL;
		ml_buf_printf(&query, "list-type=2&max-keys=%ld&prefix=%s%s%s", page, pfx, tok ? "&continuation-token=" : "",
			      tok ? tok : "");
		free(tok);
		struct s3_call c = { .conf = &conf, .loc = &bucket, .method = "GET", .query = query.data };
		if ((rc = perform(&c, XML_BODY, err)) < 0) {
			ml_buf_release(&c.resp);
			break;
		}
		const char *p = c.resp.data ? c.resp.data : "", *end = p + c.resp.len;
		const char *contents;
		while (rc == 0 && (contents = memmem(p, (size_t)(end - p), "<Contents>", 10))) {
			const char *stop = memmem(contents, (size_t)(end - contents), "</Contents>", 11);
			if (!stop)
				break;
			rc = list_entry(loc.bucket, contents, stop, &uri, fn, arg);
			p = stop + 11;
		}
		char *trunc = xml_text(c.resp.data ? c.resp.data : "", end, "IsTruncated", NULL);
		free(token);
		token = trunc && !strcmp(trunc, "true")
				? xml_text(c.resp.data, end, "NextContinuationToken", NULL)
				: NULL;
		free(trunc);
		ml_buf_release(&c.resp);
		if (!token)
			break;
	}
	free(token);
	free(pfx);
	ml_buf_release(&query);
	ml_buf_release(&uri);
	conf_release(&conf);
	loc_release(&loc);
	return rc;
}

struct uri_only {
	int (*fn)(const char *uri, void *arg);
	void *arg;
};

static int uri_only(const struct ml_store_object *o, void *arg)
{
	const struct uri_only *u = arg;
	return u->fn(o->uri, u->arg);
}

static int s3_list(const char *prefix, int (*fn)(const char *uri, void *arg), void *arg, struct ml_err *err)
{
	struct uri_only u = { fn, arg };
	return s3_list_objects(prefix, uri_only, &u, err);
}

static int s3_remove(const char *uri, struct ml_err *err)
{
	struct s3_loc loc;
	struct s3_conf conf;
	if (loc_parse(uri, 1, &loc, err) < 0)
		return -1;
	int rc = conf_load(&conf, err);
	if (rc == 0) {
		struct s3_call c = { .conf = &conf, .loc = &loc, .method = "DELETE" };
		rc = perform(&c, ERROR_BODY, err);
		ml_buf_release(&c.resp);
		conf_release(&conf);
	}
	loc_release(&loc);
	return rc;
}

/* ---- the plugin ---- */

static int s3_init(const struct ml_host *host, struct ml_err *err)
{
	host_services = host;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return ml_err_set(err, ML_ERR_INTERNAL, "libcurl could not start");
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	return 0;
}

static void s3_fini(void)
{
	curl_global_cleanup();
}

static const struct ml_store_ops s3_ops = {
	.size = sizeof s3_ops,
	.open_read = s3_open_read,
	.open_write = s3_open_write,
	.list = s3_list,
	.remove = s3_remove,
	.list_objects = s3_list_objects,
};

static const struct ml_plugin plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof plugin,
	.kind = ML_PLUGIN_STORE,
	.name = "s3",
	.version = "0.1.0",
	.description = "s3:// objects in Amazon S3 and S3-compatible stores (SigV4, multipart, ListObjectsV2)",
	.init = s3_init,
	.fini = s3_fini,
	.ops.store = &s3_ops,
};

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void)
{
	return &plugin;
}
