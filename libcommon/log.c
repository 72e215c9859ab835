/* log.c - diagnostics on stderr with the program name in front. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mlpipe/log.h"
#include "mlpipe/progress.h"

static char progname[64] = "mlpipe";
static int verbosity;

void ml_set_progname(const char *argv0)
{
	if (!argv0 || !*argv0)
		return;
	const char *slash = strrchr(argv0, '/');
	if (slash && !slash[1])
		return;	/* "dir/": no name to take */
	snprintf(progname, sizeof progname, "%s", slash ? slash + 1 : argv0);
}

const char *ml_progname(void)
{
	return progname;
}

void ml_set_verbosity(int level)
{
	verbosity = level;
}

int ml_verbosity(void)
{
	return verbosity;
}

void ml_log(enum ml_loglevel level, const char *fmt, ...)
{
	if ((int)level > verbosity)
		return;
	/* One fprintf per message, so lines from threads do not interleave. */
	char line[2048];
	int n = snprintf(line, sizeof line, "%s: %s", progname,
			 level == ML_LOG_WARN ? "warning: " : "");
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof line)
		vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	ml_progress_clear();
	fprintf(stderr, "%s\n", line);
}

static int event_text;

void ml_set_event_format(int text)
{
	event_text = text;
}

/* "name value" for one member of an event, appended to line. */
static void append_member(char *line, size_t size, const char *key, const json_t *v)
{
	size_t n = strlen(line);
	char *text = NULL;
	if (json_is_integer(v))
		snprintf(line + n, size - n, "%s %" JSON_INTEGER_FORMAT, key, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(line + n, size - n, "%s %.6g", key, json_real_value(v));
	else if (json_is_string(v))
		snprintf(line + n, size - n, "%s %s", key, json_string_value(v));
	else if ((text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) != NULL)
		snprintf(line + n, size - n, "%s %s", key, text);
	free(text);
}

void ml_log_event(const json_t *event)
{
	if (verbosity < 0 || !json_is_object(event))
		return;
	if (!event_text) {
		char *text = json_dumps(event, JSON_COMPACT | JSON_REAL_PRECISION(10));
		ml_progress_clear();
		if (text)
			fprintf(stderr, "%s\n", text);
		free(text);
		return;
	}
	char line[2048];
	const char *name = json_string_value(json_object_get(event, "event"));
	snprintf(line, sizeof line, "%s: %s:", progname, name ? name : "event");
	const char *key;
	json_t *v;
	int first = 1;
	json_object_foreach((json_t *)event, key, v) {
		if (!strcmp(key, "event"))
			continue;
		strncat(line, first ? " " : ", ", sizeof line - strlen(line) - 1);
		append_member(line, sizeof line, key, v);
		first = 0;
	}
	ml_progress_clear();
	fprintf(stderr, "%s\n", line);
}

int ml_fail(const struct ml_err *err)
{
	ml_log(ML_LOG_ERROR, "%s", err && err->msg[0] ? err->msg : "failed (no detail)");
	return ml_exit_code(err);
}
