/*
 * ml-notify - deliver events (ml-drift's violations, a pipeline's status
 * line, plain text) to every --to destination: a file, standard output, a
 * webhook, e-mail (notify-smtp) or an SNS topic (notify-sns).
 *
 * Input is one JSON document (constraint_violations.json), NDJSON (one event
 * per line) or plain text (one event {"text": ...}).  Each event becomes a
 * subject (--subject, "{{field}}" filled from the event) and a body.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mlpipe/artifact.h"
#include "mlpipe/buf.h"
#include "mlpipe/cli.h"
#include "mlpipe/log.h"
#include "mlpipe/plugin.h"
#include "mlpipe/uri.h"

#define MAX_INPUT ((size_t)64 << 20)

static struct {
	struct ml_strlist to, headers, rcpt;
	char *subject, *from, *sns_endpoint;
	int on_drift_only;
	long timeout;
} N = { .timeout = 30 };

static const struct ml_opt notify_opts[] = {
	{ "to", 0, ML_OPT_LIST, &N.to, "URI",
	  "file:PATH (appends NDJSON), - (standard output), https://hook, smtp://host:port, sns:ARN (repeatable)",
	  NULL, ML_OPTF_NO_SPLIT },
	{ "subject", 0, ML_OPT_STRING, &N.subject, "TEMPLATE",
	  "subject line; {{field}} is the event's field (default: the number of violations)" },
	{ "header", 'H', ML_OPT_LIST, &N.headers, "'NAME: VALUE'", "an extra HTTP header for webhooks (repeatable)",
	  NULL, ML_OPTF_NO_SPLIT },
	{ "from", 0, ML_OPT_STRING, &N.from, "ADDR", "sender address for e-mail" },
	{ "rcpt", 0, ML_OPT_LIST, &N.rcpt, "ADDR", "e-mail recipient (repeatable)", NULL, ML_OPTF_NO_SPLIT },
	{ "sns-endpoint", 0, ML_OPT_STRING, &N.sns_endpoint, "URL", "SNS API endpoint (tests, regions)" },
	{ "on-drift-only", 0, ML_OPT_FLAG, &N.on_drift_only, NULL,
	  "send only events that report violations or drift; exit 0 quietly otherwise" },
	{ "timeout", 0, ML_OPT_INT, &N.timeout, "SECONDS", "give up on a destination after this long (default 30)",
	  NULL, 0, NULL, 1, 3600 },
	ML_OPT_END,
};

/* ---- events ---- */

/* One JSON document, else NDJSON lines, else the whole text as one event. */
static json_t *parse_events(const char *text, size_t len)
{
	json_t *events = json_array();
	json_t *doc = json_loadb(text, len, 0, NULL);
	if (json_is_object(doc)) {
		json_array_append_new(events, doc);
		return events;
	}
	json_decref(doc);
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (strspn(p, " \t\r") < n) {
			json_t *line = json_loadb(p, n, 0, NULL);
			if (!json_is_object(line)) {	/* not NDJSON after all: plain text */
				json_decref(line);
				json_array_clear(events);
				json_array_append_new(events, json_pack("{s:s, s:s%}", "event", "message", "text", text,
									len));
				return events;
			}
			json_array_append_new(events, line);
		}
		p += n + 1;
	}
	return events;
}

static int reports_drift(const json_t *e)
{
	const json_t *v = json_object_get(e, "violations");
	return (json_is_array(v) && json_array_size(v) > 0) || json_is_true(json_object_get(e, "drifted"));
}

/* The event's field as text, for a template: strings as they are, other values as JSON. */
static void add_field(struct ml_buf *b, const json_t *e, const char *name, size_t len)
{
	char key[128];
	snprintf(key, sizeof key, "%.*s", (int)(len < 127 ? len : 127), name);
	const json_t *v = json_object_get(e, key);
	if (json_is_string(v)) {
		ml_buf_add(b, json_string_value(v), json_string_length(v));
	} else if (v && !json_is_null(v)) {
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text)
			ml_buf_adds(b, text);
		free(text);
	}
}

/* "{{field}}" replaced by the event's field; an unknown field is empty. */
static char *expand(const char *tmpl, const json_t *e)
{
	struct ml_buf b;
	ml_buf_init(&b, 1 << 20);
	for (const char *p = tmpl; *p;) {
		const char *open = strstr(p, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
		if (!close) {
			ml_buf_adds(&b, p);
			break;
		}
		ml_buf_add(&b, p, (size_t)(open - p));
		add_field(&b, e, open + 2, (size_t)(close - open - 2));
		p = close + 2;
	}
	return ml_buf_detach(&b);
}

static const char *member(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* What a person reads: the text, or one line per violation, or the event itself. */
static char *body_of(const json_t *e)
{
	const json_t *text = json_object_get(e, "text");
	if (json_is_string(text))
		return strdup(json_string_value(text));
	const json_t *violations = json_object_get(e, "violations");
	if (json_is_array(violations)) {
		struct ml_buf b;
		ml_buf_init(&b, 1 << 24);
		ml_buf_printf(&b, "%zu constraint violation%s:\n", json_array_size(violations),
			      json_array_size(violations) == 1 ? "" : "s");
		size_t i;
		const json_t *v;
		json_array_foreach(violations, i, v)
			ml_buf_printf(&b, "- %s: %s: %s\n", member(v, "feature_name"), member(v, "constraint_check_type"),
				      member(v, "description"));
		return ml_buf_detach(&b);
	}
	return json_dumps(e, JSON_INDENT(2) | JSON_SORT_KEYS);
}

/* ---- destinations ---- */

static int deliver_file(const struct ml_notice *n, const char *path, struct ml_err *err)
{
	char now[32];
	ml_utc_now_iso8601(now);
	json_t *event = n->json ? json_loads(n->json, 0, NULL) : NULL;
	json_t *line = json_pack("{s:s, s:s?, s:s, s:o?}", "time", now, "subject", n->subject, "message", n->body,
				 "event", event);
	char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
	json_decref(line);
	if (!text)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	struct ml_ostream *out = ml_open_write(path, ML_WRITE_APPEND, err);
	int rc = out && ml_ostream_write(out, text, strlen(text), err) == 0 && ml_ostream_write(out, "\n", 1, err) == 0
			 ? 0
			 : -1;
	if (out && ml_ostream_close(out, rc == 0, rc < 0 ? NULL : err) < 0)
		rc = -1;
	free(text);
	return rc;
}

static int deliver_stdout(const struct ml_notice *n)
{
	printf("%s%s%s\n", n->subject ? n->subject : "", n->subject ? "\n\n" : "", n->body);
	return 0;
}

/* The notifier plugin for a URI scheme. */
static const char *plugin_for(const char *scheme)
{
	static const char *const map[][2] = { { "http", "webhook" }, { "https", "webhook" }, { "smtp", "smtp" },
					      { "smtps", "smtp" },   { "sns", "sns" } };
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(scheme, map[i][0]))
			return map[i][1];
	return NULL;
}

static int deliver(const struct ml_notice *n, struct ml_err *err)
{
	char scheme[32];
	if (!strcmp(n->destination, "-"))
		return deliver_stdout(n);
	if (!ml_uri_scheme(n->destination, scheme, sizeof scheme) || !strcmp(scheme, "file"))
		return deliver_file(n, n->destination, err);
	const char *name = plugin_for(scheme);
	if (!name)
		return ml_err_set(err, ML_ERR_USAGE, "--to %s: no notifier for \"%s:\" destinations", n->destination,
				  scheme);
	const struct ml_plugin *p = ml_plugin_load(ML_PLUGIN_NOTIFIER, name, err);
	if (!p && err && err->class == ML_ERR_UNAVAILABLE && strcmp(name, "webhook") != 0)
		return ml_err_set(err, ML_ERR_UNAVAILABLE,
				  "--to %s: sending to %s: is not supported yet in mlpipe %s (no ml-notify-%s plugin)",
				  n->destination, scheme, MLPIPE_VERSION, name);
	if (!p)
		return -1;
	const struct ml_notify_ops *ops = p->ops.notify;
	if (ops->size >= offsetof(struct ml_notify_ops, deliver) + sizeof ops->deliver && ops->deliver)
		return ops->deliver(n, err);
	if (ops->send)
		return ops->send(n->destination, n->subject, n->body, n->json ? "application/json" : "text/plain", err);
	return ml_err_set(err, ML_ERR_UNAVAILABLE, "the %s notifier cannot send", name);
}

/* A list option as the NULL-terminated array a notice carries (borrowed strings). */
static const char **terminated(const struct ml_strlist *l, struct ml_err *err)
{
	const char **a = ml_calloc(l->n + 1, sizeof *a, err);
	for (size_t i = 0; a && i < l->n; i++)
		a[i] = l->items[i];
	return a;
}

/* Without --subject: the number of violations, or the event's name. */
static char *default_subject(const json_t *e)
{
	const json_t *v = json_object_get(e, "violations");
	char text[128];
	if (json_is_array(v))
		snprintf(text, sizeof text, "mlpipe: %zu constraint violation%s", json_array_size(v),
			 json_array_size(v) == 1 ? "" : "s");
	else
		snprintf(text, sizeof text, "mlpipe: %s", json_is_string(json_object_get(e, "event")) ? member(e, "event")
												     : "notification");
	return strdup(text);
}

/*
 * Every event to every destination; a failure is reported with its
 * destination and the rest are still tried.  The exit status is 75 when a
 * retry later may work for any of them, else the last failure's (69 for a
 * refusal or a missing notifier, 64 for a malformed destination).
 */
static int notify_all(const json_t *events, const char **headers, const char **rcpt)
{
	int status = 0;
	size_t i;
	const json_t *e;
	json_array_foreach(events, i, e) {
		if (N.on_drift_only && !reports_drift(e))
			continue;
		char *subject = N.subject ? expand(N.subject, e) : default_subject(e);
		char *body = body_of(e);
		int plain = json_object_size(e) == 2 && json_is_string(json_object_get(e, "text"));
		char *json = plain ? NULL : json_dumps(e, JSON_COMPACT);
		for (size_t t = 0; t < N.to.n; t++) {
			struct ml_err err = ML_ERR_INIT;
			struct ml_notice n = { sizeof n, N.to.items[t], subject, body ? body : "", json, N.from,
					       rcpt, headers, N.timeout * 1000 };
			if (deliver(&n, &err) < 0) {
				int code = ml_fail(&err);
				status = status == ML_EXIT_TEMPFAIL || code == ML_EXIT_TEMPFAIL ? ML_EXIT_TEMPFAIL : code;
			}
		}
		free(subject);
		free(body);
		free(json);
	}
	return status;
}

static int cmd_notify(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	const struct ml_opt *tables[] = { notify_opts, NULL };
	static const char summary[] =
		"Deliver the events read from standard input (or FILE) to every --to destination:\n"
		"a JSON document such as ml-drift's constraint_violations.json, NDJSON (one event\n"
		"per line), or plain text.";
	static const char epilog[] =
		"Example:\n"
		"  ml-drift -b baseline/ -o today/ new.csv > /dev/null ||\n"
		"      ml-notify --to https://hooks.example/drift --subject 'drift in {{feature_name}}' \\\n"
		"          < today/constraint_violations.json\n";
	static const char exit_status[] = "  0   every event was delivered (or none needed sending)\n";
	const struct ml_cli cli = { .tool = "ml-notify", .section = "notify",
				    .synopsis = "ml-notify [OPTION]... --to URI [FILE]", .summary = summary,
				    .tables = tables, .epilog = epilog, .exit_status = exit_status };
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	if (N.to.n == 0)
		return ml_usage_error("a destination is required: --to URI");
	if (argc - first > 1)
		return ml_usage_error("one input at most (or standard input)");
	/* The SNS notifier reads its endpoint from the environment. */
	if (N.sns_endpoint && setenv("MLPIPE_SNS_ENDPOINT", N.sns_endpoint, 1) < 0)
		return ml_usage_error("--sns-endpoint: %s", strerror(errno));
	size_t len;
	char *text = ml_read_all(first < argc ? argv[first] : "-", MAX_INPUT, &len, &err);
	const char **headers = text ? terminated(&N.headers, &err) : NULL;
	const char **rcpt = headers ? terminated(&N.rcpt, &err) : NULL;
	json_t *events = rcpt ? parse_events(text, len) : NULL;
	int rc = events ? notify_all(events, headers, rcpt) : ml_fail(&err);
	free(text);
	free(headers);
	free(rcpt);
	json_decref(events);
	return rc;
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_notify);
}
