/*
 * notify-smtp - e-mail over SMTP with libcurl.
 *
 *   --to smtp://HOST[:PORT][/RCPT]   plain SMTP, upgraded with STARTTLS when
 *                                    the server offers it
 *   --to smtps://HOST[:PORT][/RCPT]  SMTP over TLS from the first byte
 *
 * Recipients: the URI's path and every --rcpt; sender --from (default
 * mlpipe@localhost).  Credentials, when the server wants them, come from
 * MLPIPE_SMTP_USER and MLPIPE_SMTP_PASSWORD, never from the command line.
 * A failed connection or a 4xx reply is a temporary failure (exit 75); a
 * refused sender or recipient (5xx) is not (69).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "mlpipe/buf.h"
#include "mlpipe/plugin.h"

static int smtp_init(const struct ml_host *host, struct ml_err *err)
{
	(void)host;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return ml_err_set(err, ML_ERR_INTERNAL, "libcurl could not start");
	return 0;
}

static void smtp_fini(void)
{
	curl_global_cleanup();
}

/* "smtp://host:port/rcpt@x" -> server URL "smtp://host:port" and the recipient, if any. */
static int split_destination(const char *uri, char *server, size_t serversz, const char **rcpt)
{
	const char *hostpart = strstr(uri, "://");
	if (!hostpart)
		return -1;
	const char *slash = strchr(hostpart + 3, '/');
	size_t len = slash ? (size_t)(slash - uri) : strlen(uri);
	if (len >= serversz)
		return -1;
	memcpy(server, uri, len);
	server[len] = '\0';
	*rcpt = slash && slash[1] ? slash + 1 : NULL;
	return 0;
}

/* Header lines must not be split by text from the event: CR and LF become spaces. */
static void add_header(struct ml_buf *b, const char *name, const char *value)
{
	ml_buf_printf(b, "%s: ", name);
	for (const char *p = value; *p; p++)
		ml_buf_addc(b, *p == '\r' || *p == '\n' ? ' ' : *p);
	ml_buf_adds(b, "\r\n");
}

static char *message(const struct ml_notice *n, const char *from, struct curl_slist *rcpts)
{
	struct ml_buf b;
	char date[64], id[96];
	time_t now = time(NULL);
	struct tm tm;
	ml_buf_init(&b, (size_t)64 << 20);
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(id, sizeof id, "<%lld.%d@mlpipe>", (long long)now, rand());
	add_header(&b, "Date", date);
	add_header(&b, "From", from);
	for (struct curl_slist *r = rcpts; r; r = r->next)
		add_header(&b, "To", r->data);
	add_header(&b, "Subject", n->subject ? n->subject : "mlpipe");
	add_header(&b, "Message-ID", id);
	ml_buf_adds(&b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
	for (const char *p = n->body; *p; p++) {	/* bare LF -> CRLF, as SMTP wants */
		if (*p == '\n' && (p == n->body || p[-1] != '\r'))
			ml_buf_addc(&b, '\r');
		ml_buf_addc(&b, *p);
	}
	if (b.len < 2 || memcmp(b.data + b.len - 2, "\r\n", 2) != 0)
		ml_buf_adds(&b, "\r\n");
	return ml_buf_detach(&b);
}

struct upload {
	const char *data;
	size_t left;
};

static size_t read_payload(char *buf, size_t size, size_t nitems, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nitems < u->left ? size * nitems : u->left;
	memcpy(buf, u->data, n);
	u->data += n;
	u->left -= n;
	return n;
}

static struct curl_slist *recipients(const struct ml_notice *n, const char *in_uri)
{
	struct curl_slist *list = NULL;
	if (in_uri)
		list = curl_slist_append(list, in_uri);
	for (size_t i = 0; n->rcpt && n->rcpt[i]; i++)
		list = curl_slist_append(list, n->rcpt[i]);
	return list;
}

static int smtp_deliver(const struct ml_notice *n, struct ml_err *err)
{
	char server[1024];
	const char *in_uri;
	if (split_destination(n->destination, server, sizeof server, &in_uri) < 0)
		return ml_err_set(err, ML_ERR_USAGE, "--to %s: expected smtp://HOST[:PORT][/RECIPIENT]",
				  n->destination);
	struct curl_slist *rcpts = recipients(n, in_uri);
	if (!rcpts)
		return ml_err_set(err, ML_ERR_USAGE, "--to %s: no recipient: add one to the URI or give --rcpt",
				  n->destination);
	const char *from = n->from ? n->from : "mlpipe@localhost";
	char *text = message(n, from, rcpts);
	CURL *curl = text ? curl_easy_init() : NULL;
	if (!curl) {
		free(text);
		curl_slist_free_all(rcpts);
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	}
	struct upload u = { text, strlen(text) };
	char errbuf[CURL_ERROR_SIZE] = "";
	const char *user = getenv("MLPIPE_SMTP_USER"), *password = getenv("MLPIPE_SMTP_PASSWORD");
	curl_easy_setopt(curl, CURLOPT_URL, server);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_payload);
	curl_easy_setopt(curl, CURLOPT_READDATA, &u);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, n->timeout_ms > 0 ? n->timeout_ms : 30000L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	if (user && password) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, password);
	}
	CURLcode rc = curl_easy_perform(curl);
	long reply = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
	curl_easy_cleanup(curl);
	curl_slist_free_all(rcpts);
	free(text);
	if (rc == CURLE_OK)
		return 0;
	/* SMTP 4xx means "try again later"; 5xx and refused addresses do not. */
	int permanent = reply >= 500 || rc == CURLE_LOGIN_DENIED;
	return ml_err_set(err, permanent ? ML_ERR_UNAVAILABLE : ML_ERR_TEMPFAIL, "%s: %s%s", n->destination,
			  errbuf[0] ? errbuf : curl_easy_strerror(rc), permanent ? "" : " (try again later)");
}

static const struct ml_notify_ops smtp_ops = {
	.size = sizeof smtp_ops,
	.deliver = smtp_deliver,
};

static const struct ml_plugin plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof plugin,
	.kind = ML_PLUGIN_NOTIFIER,
	.name = "smtp",
	.version = "0.1.0",
	.description = "e-mail over SMTP (STARTTLS when offered) and SMTPS",
	.init = smtp_init,
	.fini = smtp_fini,
	.ops.notify = &smtp_ops,
};

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void)
{
	return &plugin;
}
