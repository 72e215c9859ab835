/*
 * notify-webhook - POST an event as JSON to an http:// or https:// URL.
 *
 * The body is {"text": subject + "\n" + message, "subject": ..., "message":
 * ..., "event": {...}}: "text" is what Slack and Mattermost incoming
 * webhooks show, the rest is for programs.  A 5xx, 429 or a connection
 * failure is retried (3 attempts, 0.2 s then 0.8 s apart, with jitter);
 * what still fails is a temporary failure (exit 75), a 4xx is not (69).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "mlpipe/plugin.h"

#define ATTEMPTS 3

static int webhook_init(const struct ml_host *host, struct ml_err *err)
{
	(void)host;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return ml_err_set(err, ML_ERR_INTERNAL, "libcurl could not start");
	return 0;
}

static void webhook_fini(void)
{
	curl_global_cleanup();
}

static char *request_body(const struct ml_notice *n)
{
	json_t *event = n->json ? json_loads(n->json, 0, NULL) : NULL;
	char *text = NULL;
	size_t len = (n->subject ? strlen(n->subject) + 1 : 0) + strlen(n->body) + 1;
	if ((text = malloc(len)))
		snprintf(text, len, "%s%s%s", n->subject ? n->subject : "", n->subject ? "\n" : "", n->body);
	json_t *doc = json_pack("{s:s?, s:s?, s:s, s:o?}", "text", text, "subject", n->subject, "message", n->body,
				"event", event);
	free(text);
	char *out = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	return out;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* One POST; *status is the HTTP status, or 0 when none came back. */
static CURLcode post(const struct ml_notice *n, const char *body, struct curl_slist *headers, long *status,
		     char errbuf[CURL_ERROR_SIZE])
{
	CURL *curl = curl_easy_init();
	if (!curl)
		return CURLE_FAILED_INIT;
	errbuf[0] = '\0';
	curl_easy_setopt(curl, CURLOPT_URL, n->destination);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, n->timeout_ms > 0 ? n->timeout_ms : 30000L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "mlpipe-notify/0.1");
	CURLcode rc = curl_easy_perform(curl);
	*status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(curl);
	return rc;
}

static void backoff(int attempt)
{
	long ms = attempt == 1 ? 200 : 800;
	ms += rand() % (ms / 4 + 1);	/* jitter: many senders do not retry in step */
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static struct curl_slist *header_list(const struct ml_notice *n)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	for (size_t i = 0; h && n->headers && n->headers[i]; i++) {
		struct curl_slist *more = curl_slist_append(h, n->headers[i]);
		if (!more) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = more;
	}
	return h;
}

static int webhook_deliver(const struct ml_notice *n, struct ml_err *err)
{
	char *body = request_body(n);
	struct curl_slist *headers = body ? header_list(n) : NULL;
	if (!body || !headers) {
		free(body);
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	}
	char errbuf[CURL_ERROR_SIZE];
	long status = 0;
	CURLcode rc = CURLE_OK;
	for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
		rc = post(n, body, headers, &status, errbuf);
		int transient = rc != CURLE_OK || status >= 500 || status == 429;
		if (!transient || attempt == ATTEMPTS)
			break;
		backoff(attempt);
	}
	curl_slist_free_all(headers);
	free(body);
	if (rc != CURLE_OK)
		return ml_err_set(err, ML_ERR_TEMPFAIL, "%s: %s (after %d attempts)", n->destination,
				  errbuf[0] ? errbuf : curl_easy_strerror(rc), ATTEMPTS);
	if (status >= 500 || status == 429)
		return ml_err_set(err, ML_ERR_TEMPFAIL, "%s: HTTP %ld (after %d attempts)", n->destination, status,
				  ATTEMPTS);
	if (status < 200 || status >= 300)
		return ml_err_set(err, ML_ERR_UNAVAILABLE, "%s: HTTP %ld: the receiver refused the message",
				  n->destination, status);
	return 0;
}

static const struct ml_notify_ops webhook_ops = {
	.size = sizeof webhook_ops,
	.deliver = webhook_deliver,
};

static const struct ml_plugin plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof plugin,
	.kind = ML_PLUGIN_NOTIFIER,
	.name = "webhook",
	.version = "0.1.0",
	.description = "POST events as JSON to http:// and https:// webhooks (Slack-compatible text)",
	.init = webhook_init,
	.fini = webhook_fini,
	.ops.notify = &webhook_ops,
};

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void)
{
	return &plugin;
}
