/*
 * log.h - diagnostics on stderr, prefixed with the program name.
 *
 * Verbosity: -q gives -1 (errors only), default 0 (errors and warnings),
 * -v gives 1 (info: summaries), -vv gives 2 (debug).  Data never goes here.
 */
#ifndef MLPIPE_LOG_H
#define MLPIPE_LOG_H

#include "err.h"

enum ml_loglevel { ML_LOG_ERROR = -1, ML_LOG_WARN = 0, ML_LOG_INFO = 1, ML_LOG_DEBUG = 2 };

void ml_set_progname(const char *argv0);	/* keeps the basename */
const char *ml_progname(void);

void ml_set_verbosity(int level);
int ml_verbosity(void);

void ml_log(enum ml_loglevel level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define ml_error(...) ml_log(ML_LOG_ERROR, __VA_ARGS__)
#define ml_warn(...) ml_log(ML_LOG_WARN, __VA_ARGS__)
#define ml_info(...) ml_log(ML_LOG_INFO, __VA_ARGS__)
#define ml_debug(...) ml_log(ML_LOG_DEBUG, __VA_ARGS__)

struct json_t;

/*
 * Event records (per-round metrics, a gate's decision) for programs and
 * people: one compact JSON object per line on stderr (the default), or with
 * ml_set_event_format(1) a line "prog: round 3: train-rmse 1.5, ..." made
 * of the "event" member and the others in order.  Quiet (-q) hides them.
 */
void ml_set_event_format(int text);
void ml_log_event(const struct json_t *event);

/* Print err as "prog: message" and return its exit status. */
int ml_fail(const struct ml_err *err);

#endif
