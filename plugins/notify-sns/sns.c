/*
 * notify-sns - publish ml-notify's messages to an Amazon SNS topic:
 * --to sns:arn:aws:sns:REGION:ACCOUNT:TOPIC.
 *
 * One SNS Query API call per message: POST Action=Publish, TopicArn,
 * Message (the body people read), Subject (one line, at most 100
 * characters, as SNS requires), signed with AWS Signature Version 4
 * (libcommon sigv4.c) for the ARN's region.  Credentials as for S3
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, profiles).
 * The endpoint is https://sns.REGION.amazonaws.com/ unless
 * MLPIPE_SNS_ENDPOINT (ml-notify --sns-endpoint) names another.
 * Throttling, 5xx and connection failures are retried 3 times with
 * backoff and jitter, then reported as temporary (exit 75); a refusal
 * (unknown topic, denied) is not retried (69); bad credentials are 78.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "mlpipe/artifact.h"
#include "mlpipe/buf.h"
#include "mlpipe/log.h"
#include "mlpipe/plugin.h"
#include "mlpipe/sigv4.h"

#define ATTEMPTS 4
#define MAX_MESSAGE (256 * 1024)	/* SNS's limit on a message */
#define MAX_SUBJECT 99			/* SNS: "less than 100 characters" */
#define MAX_ANSWER (64 * 1024)

static const struct ml_host *host_services;

static int sns_init(const struct ml_host *host, struct ml_err *err)
{
	host_services = host;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return ml_err_set(err, ML_ERR_INTERNAL, "libcurl could not start");
	return 0;
}

static void sns_fini(void)
{
	curl_global_cleanup();
}

/* The parts of "sns:arn:PARTITION:sns:REGION:ACCOUNT:TOPIC" a request needs. */
struct topic {
	const char *arn;	/* after "sns:" */
	char partition[32];
	char region[64];
};

static int parse_destination(const char *dest, struct topic *t, struct ml_err *err)
{
	static const char usage[] = "expected sns:arn:aws:sns:REGION:ACCOUNT:TOPIC";
	if (strncmp(dest, "sns:", 4) != 0)
		return ml_err_set(err, ML_ERR_USAGE, "--to %s: %s", dest, usage);
	t->arn = dest + 4;
	char part[6][300];	/* arn, partition, sns, region, account, topic */
	size_t n = 0;
	for (const char *p = t->arn; n < 6; n++) {
		const char *colon = n < 5 ? strchr(p, ':') : p + strlen(p);
		if (!colon || (size_t)(colon - p) >= sizeof part[0])
			return ml_err_set(err, ML_ERR_USAGE, "--to %s: %s", dest, usage);
		snprintf(part[n], sizeof part[n], "%.*s", (int)(colon - p), p);
		p = *colon ? colon + 1 : colon;
	}
	const char *topic = part[5];
	int ok = !strcmp(part[0], "arn") && !strncmp(part[1], "aws", 3) && !strcmp(part[2], "sns") && part[3][0] &&
		 strlen(part[3]) < sizeof t->region && strspn(part[3], "abcdefghijklmnopqrstuvwxyz0123456789-") ==
								 strlen(part[3]) &&
		 strlen(part[4]) == 12 && strspn(part[4], "0123456789") == 12 && topic[0] && strlen(topic) <= 256 &&
		 strspn(topic, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") == strlen(topic) &&
		 strlen(part[1]) < sizeof t->partition;
	if (!ok)
		return ml_err_set(err, ML_ERR_USAGE, "--to %s: %s (12-digit account, topic of A-Z a-z 0-9 _ -)", dest,
				  usage);
	snprintf(t->partition, sizeof t->partition, "%s", part[1]);
	snprintf(t->region, sizeof t->region, "%s", part[3]);
	return 0;
}

/* SNS subjects are one line of printable text under 100 characters. */
static char *subject_line(const char *s)
{
	char *out = malloc(MAX_SUBJECT * 4 + 1);
	if (!out)
		return NULL;
	size_t n = 0, chars = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p && chars < MAX_SUBJECT) {
		size_t len = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 1;
		if (*p < 0x20 || *p == 0x7f) {
			if (n == 0 || out[n - 1] != ' ')
				out[n++] = ' ', chars++;
			p++;
			continue;
		}
		for (size_t i = 0; i < len && p[i]; i++)
			out[n++] = (char)p[i];
		p += len;
		chars++;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return out;
}

/* "k=v&..." with AWS's encoding. */
static int add_param(struct ml_buf *b, const char *key, const char *value)
{
	char *v = ml_sigv4_uri_encode(value, 0);
	if (!v)
		return -1;
	int rc = ml_buf_printf(b, "%s%s=%s", b->len ? "&" : "", key, v);
	free(v);
	return rc;
}

struct endpoint {
	char url[1024];
	char host[512];
	char path[512];
};

static int endpoint_of(const struct topic *t, struct endpoint *e, struct ml_err *err)
{
	const char *env = getenv("MLPIPE_SNS_ENDPOINT");
	char base[1024];
	if (env && *env) {
		if (strncmp(env, "http://", 7) != 0 && strncmp(env, "https://", 8) != 0)
			return ml_err_set(err, ML_ERR_CONFIG, "SNS endpoint %s: expected http:// or https://", env);
		snprintf(base, sizeof base, "%s", env);
	} else {
		snprintf(base, sizeof base, "https://sns.%s.amazonaws.com%s/", t->region,
			 !strcmp(t->partition, "aws-cn") ? ".cn" : "");
	}
	const char *h = strstr(base, "://") + 3;
	size_t hlen = strcspn(h, "/?#");
	snprintf(e->host, sizeof e->host, "%.*s", (int)hlen, h);
	snprintf(e->path, sizeof e->path, "%s", h[hlen] == '/' ? h + hlen : "/");
	snprintf(e->url, sizeof e->url, "%.*s%s", (int)(h + hlen - base), base, e->path);
	return 0;
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct ml_buf *b = arg;
	size_t len = size * n;
	if (b->len < b->cap)
		ml_buf_add(b, p, len < b->cap - b->len ? len : b->cap - b->len);
	return len;
}

/* One signed POST; *status is the HTTP status, or 0 when none came back. */
static CURLcode post(const struct endpoint *e, const struct topic *t, const struct ml_aws_credentials *c,
		     const char *body, long timeout_ms, struct ml_buf *answer, long *status, char errbuf[CURL_ERROR_SIZE],
		     struct ml_err *err)
{
	char date[17], digest[ML_SHA256_HEX];
	ml_sigv4_amz_date(time(NULL), date);
	if (ml_sha256_hex(body, strlen(body), digest, err) < 0)
		return CURLE_FAILED_INIT;
	char hostline[600], dateline[40], tokline[4096];
	const char *sign[6];
	size_t n = 0;
	snprintf(hostline, sizeof hostline, "Host:%s", e->host);
	snprintf(dateline, sizeof dateline, "X-Amz-Date:%s", date);
	sign[n++] = hostline;
	sign[n++] = "Content-Type:application/x-www-form-urlencoded; charset=utf-8";
	sign[n++] = dateline;
	if (c->session_token) {
		snprintf(tokline, sizeof tokline, "X-Amz-Security-Token:%s", c->session_token);
		sign[n++] = tokline;
	}
	sign[n] = NULL;
	struct ml_sigv4_request r = { .method = "POST", .path = e->path, .query = "", .headers = sign,
				      .payload_sha256 = digest, .region = t->region, .service = "sns",
				      .amz_date = date, .access_key = c->access_key, .secret_key = c->secret_key };
	struct ml_sigv4 sig;
	if (ml_sigv4_sign(&r, &sig, err) < 0)
		return CURLE_FAILED_INIT;
	struct curl_slist *h = NULL, *more;
	char auth[1024];
	snprintf(auth, sizeof auth, "Authorization: %s", sig.authorization);
	ml_sigv4_release(&sig);
	for (size_t i = 0; i <= n; i++) {
		more = curl_slist_append(h, i < n ? sign[i] : auth);
		if (!more) {
			curl_slist_free_all(h);
			ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
			return CURLE_OUT_OF_MEMORY;
		}
		h = more;
	}
	CURL *curl = curl_easy_init();
	if (!curl) {
		curl_slist_free_all(h);
		ml_err_set(err, ML_ERR_INTERNAL, "libcurl could not start");
		return CURLE_FAILED_INIT;
	}
	errbuf[0] = '\0';
	ml_buf_reset(answer);
	curl_easy_setopt(curl, CURLOPT_URL, e->url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 30000L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "mlpipe-notify/" MLPIPE_VERSION);
	CURLcode rc = curl_easy_perform(curl);
	*status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(h);
	return rc;
}

static void backoff(int attempt)
{
	long ms = 200;
	for (int i = 1; i < attempt; i++)
		ms *= 4;
	ms += rand() % (ms / 2 + 1);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The text of <tag>...</tag> in an answer, into out (entities left as they are). */
static void xml_field(const char *xml, const char *tag, char *out, size_t outsz)
{
	char open[64], close[64];
	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	const char *s = xml ? strstr(xml, open) : NULL, *e = s ? strstr(s, close) : NULL;
	out[0] = '\0';
	if (s && e)
		snprintf(out, outsz, "%.*s", (int)(e - s - strlen(open)), s + strlen(open));
}

static int refused(const struct ml_notice *n, long status, const char *xml, struct ml_err *err)
{
	char code[128], msg[512];
	xml_field(xml, "Code", code, sizeof code);
	xml_field(xml, "Message", msg, sizeof msg);
	enum ml_errclass cls = ML_ERR_UNAVAILABLE;
	const char *hint = "";
	if (!strcmp(code, "SignatureDoesNotMatch")) {
		cls = ML_ERR_CONFIG;
		hint = ": the secret key does not match the access key ID (check AWS_SECRET_ACCESS_KEY)";
	} else if (!strcmp(code, "InvalidClientTokenId") || !strcmp(code, "UnrecognizedClientException")) {
		cls = ML_ERR_CONFIG;
		hint = ": SNS does not know this access key ID (check AWS_ACCESS_KEY_ID)";
	} else if (!strcmp(code, "ExpiredToken")) {
		cls = ML_ERR_CONFIG;
		hint = ": the session token has expired (AWS_SESSION_TOKEN)";
	} else if (!strcmp(code, "AuthorizationError")) {
		hint = ": these credentials may not publish to this topic (check its access policy)";
	}
	if (code[0])
		return ml_err_set(err, cls, "%s: %s: %s (HTTP %ld)%s", n->destination, code, msg[0] ? msg : "no message",
				  status, hint);
	return ml_err_set(err, cls, "%s: HTTP %ld: SNS refused the message", n->destination, status);
}

static int transient(CURLcode rc, long status, const char *xml)
{
	if (rc != CURLE_OK)
		return rc != CURLE_FAILED_INIT && rc != CURLE_OUT_OF_MEMORY && rc != CURLE_UNSUPPORTED_PROTOCOL &&
		       rc != CURLE_URL_MALFORMAT;
	return status >= 500 || status == 429 || (xml && (strstr(xml, "<Code>Throttling</Code>") ||
							  strstr(xml, "<Code>ThrottlingException</Code>")));
}

static int sns_deliver(const struct ml_notice *n, struct ml_err *err)
{
	struct topic t;
	struct endpoint e;
	if (parse_destination(n->destination, &t, err) < 0 || endpoint_of(&t, &e, err) < 0)
		return -1;
	if (strlen(n->body) > MAX_MESSAGE)
		return ml_err_set(err, ML_ERR_DATA, "%s: the message is %zu bytes; SNS takes at most %d", n->destination,
				  strlen(n->body), MAX_MESSAGE);
	struct ml_aws_credentials c;
	if (ml_aws_credentials_find(&c, err) < 0)
		return ml_err_prefix(err, "%s", n->destination);
	char *subject = n->subject ? subject_line(n->subject) : NULL;
	struct ml_buf body, answer;
	ml_buf_init(&body, 4 * MAX_MESSAGE + 4096);
	ml_buf_init(&answer, MAX_ANSWER);
	int rc = -1;
	if ((n->subject && !subject) || add_param(&body, "Action", "Publish") < 0 ||
	    add_param(&body, "TopicArn", t.arn) < 0 || add_param(&body, "Message", n->body) < 0 ||
	    (subject && *subject && add_param(&body, "Subject", subject) < 0) ||
	    add_param(&body, "Version", "2010-03-31") < 0) {
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
		goto out;
	}
	char errbuf[CURL_ERROR_SIZE];
	long status = 0;
	CURLcode cr = CURLE_OK;
	for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
		cr = post(&e, &t, &c, body.data, n->timeout_ms, &answer, &status, errbuf, err);
		if (cr == CURLE_FAILED_INIT || cr == CURLE_OUT_OF_MEMORY)
			goto out;
		if (!transient(cr, status, answer.data) || attempt == ATTEMPTS)
			break;
		backoff(attempt);
	}
	if (cr != CURLE_OK) {
		ml_err_set(err, transient(cr, 0, NULL) ? ML_ERR_TEMPFAIL : ML_ERR_UNAVAILABLE, "%s: %s: %s (after %d attempts)",
			   n->destination, e.url, errbuf[0] ? errbuf : curl_easy_strerror(cr), ATTEMPTS);
	} else if (transient(cr, status, answer.data)) {
		char code[128];
		xml_field(answer.data, "Code", code, sizeof code);
		ml_err_set(err, ML_ERR_TEMPFAIL, "%s: %s%sHTTP %ld (after %d attempts)", n->destination, code,
			   code[0] ? ", " : "", status, ATTEMPTS);
	} else if (status < 200 || status >= 300) {
		refused(n, status, answer.data, err);
	} else {
		char id[128];
		xml_field(answer.data, "MessageId", id, sizeof id);
		if (host_services && host_services->log)
			host_services->log(ML_LOG_INFO, "%s: published (MessageId %s)", n->destination, id[0] ? id : "?");
		rc = 0;
	}
out:
	free(subject);
	ml_buf_release(&body);
	ml_buf_release(&answer);
	ml_aws_credentials_release(&c);
	return rc;
}

static const struct ml_notify_ops sns_ops = {
	.size = sizeof sns_ops,
	.deliver = sns_deliver,
};

static const struct ml_plugin plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof plugin,
	.kind = ML_PLUGIN_NOTIFIER,
	.name = "sns",
	.version = "0.1.0",
	.description = "publish events to Amazon SNS topics (sns:arn:aws:sns:REGION:ACCOUNT:TOPIC), SigV4-signed",
	.init = sns_init,
	.fini = sns_fini,
	.ops.notify = &sns_ops,
};

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void)
{
	return &plugin;
}
