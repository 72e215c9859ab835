/* log.c - diagnostics on stderr with the program name in front. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mlpipe/log.h"

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
	fprintf(stderr, "%s\n", line);
}

int ml_fail(const struct ml_err *err)
{
	ml_log(ML_LOG_ERROR, "%s", err && err->msg[0] ? err->msg : "failed (no detail)");
	return ml_exit_code(err);
}
