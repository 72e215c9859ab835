/*
 * err.h - how libcommon and plugins report failure.
 *
 * Libraries report, commands exit: a function that can fail returns -1 (or
 * NULL) and fills a caller-provided struct ml_err with a class and a message
 * that is complete on its own ("cars.csv:12:7: expected a number ...").
 * Only a filter turns that into an exit code, with ml_exit_code().
 *
 *     struct ml_err err = ML_ERR_INIT;
 *     if (ml_reader_open(&r, path, &opts, &err) < 0)
 *             return ml_fail(&err);        // prints "ml-score: msg", returns 66
 */
#ifndef MLPIPE_ERR_H
#define MLPIPE_ERR_H

#include <stdarg.h>

/* Exit statuses, DESIGN.md section 6 (values of sysexits.h). */
enum ml_exit {
	ML_EXIT_OK = 0,
	ML_EXIT_FOUND = 1,		/* the question's answer is "yes": drift, gate rejected */
	ML_EXIT_USAGE = 64,
	ML_EXIT_DATAERR = 65,
	ML_EXIT_NOINPUT = 66,
	ML_EXIT_UNAVAILABLE = 69,
	ML_EXIT_SOFTWARE = 70,
	ML_EXIT_IOERR = 74,
	ML_EXIT_TEMPFAIL = 75,
	ML_EXIT_CONFIG = 78,
};

/* What went wrong, independent of how a command reports it. */
enum ml_errclass {
	ML_ERR_NONE = 0,
	ML_ERR_USAGE,		/* bad option or argument */
	ML_ERR_DATA,		/* input data or artifact is malformed */
	ML_ERR_NOINPUT,		/* input missing or unreadable */
	ML_ERR_UNAVAILABLE,	/* backend, plugin or feature not available */
	ML_ERR_INTERNAL,	/* a bug, or out of memory */
	ML_ERR_IO,		/* read/write failure (disk full, EIO) */
	ML_ERR_TEMPFAIL,	/* try again later (timeouts, 503, 429) */
	ML_ERR_CONFIG,		/* configuration file or plugin setup is wrong */
};

#define ML_ERR_MSG_MAX 1024

struct ml_err {
	enum ml_errclass class;
	char msg[ML_ERR_MSG_MAX];
};

#define ML_ERR_INIT { ML_ERR_NONE, { 0 } }

/* Fill err (if not NULL) and return -1, so callers can `return ml_err_set(...)`. */
int ml_err_set(struct ml_err *err, enum ml_errclass class, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ml_err_setv(struct ml_err *err, enum ml_errclass class, const char *fmt, va_list ap);

/*
 * Like ml_err_set() but classifies errnum (ENOENT -> NOINPUT, ENOSPC -> IO,
 * ENOMEM -> INTERNAL, ...) and appends ": strerror(errnum)".
 */
int ml_err_errno(struct ml_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix an existing message with more context: "loading model.json: <old>". */
int ml_err_prefix(struct ml_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void ml_err_clear(struct ml_err *err);

/* The one place that maps an error class to an exit status. */
int ml_exit_code(const struct ml_err *err);

/* A short name of the class, e.g. "data error"; for logs and JSON events. */
const char *ml_errclass_name(enum ml_errclass class);

#endif
