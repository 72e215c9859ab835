/* err.c - error reports and the one mapping from error class to exit status. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mlpipe/err.h"

int ml_err_setv(struct ml_err *err, enum ml_errclass class, const char *fmt, va_list ap)
{
	if (err) {
		err->class = class;
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	}
	return -1;
}

int ml_err_set(struct ml_err *err, enum ml_errclass class, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ml_err_setv(err, class, fmt, ap);
	va_end(ap);
	return -1;
}

static enum ml_errclass class_of_errno(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ENOTDIR:
	case EACCES:
	case EPERM:
	case EISDIR:
	case ELOOP:
	case ENAMETOOLONG:
		return ML_ERR_NOINPUT;
	case ENOMEM:
		return ML_ERR_INTERNAL;
	case EAGAIN:
	case ETIMEDOUT:
	case EINTR:
		return ML_ERR_TEMPFAIL;
	case E2BIG:
	case EINVAL:
	case EILSEQ:
		return ML_ERR_DATA;
	default:
		return ML_ERR_IO;
	}
}

int ml_err_errno(struct ml_err *err, int errnum, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	ml_err_setv(err, class_of_errno(errnum), fmt, ap);
	va_end(ap);
	size_t used = strlen(err->msg);
	snprintf(err->msg + used, sizeof err->msg - used, ": %s", strerror(errnum));
	return -1;
}

int ml_err_prefix(struct ml_err *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	char old[ML_ERR_MSG_MAX];
	memcpy(old, err->msg, sizeof old);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof err->msg)
		return -1;
	/* Append ": old", cut to fit; spelled out because snprintf("%s") of a
	 * full-size buffer trips -Wformat-truncation. */
	size_t used = (size_t)n, room = sizeof err->msg - 1 - used;
	const char sep[] = ": ";
	size_t k = room < 2 ? room : 2;
	memcpy(err->msg + used, sep, k);
	used += k;
	room -= k;
	size_t oldlen = strnlen(old, sizeof old - 1);
	if (oldlen > room)
		oldlen = room;
	memcpy(err->msg + used, old, oldlen);
	err->msg[used + oldlen] = '\0';
	return -1;
}

void ml_err_clear(struct ml_err *err)
{
	if (err) {
		err->class = ML_ERR_NONE;
		err->msg[0] = '\0';
	}
}

static const struct {
	int status;
	const char *name;
} class_table[] = {
	[ML_ERR_NONE] = { ML_EXIT_OK, "no error" },
	[ML_ERR_USAGE] = { ML_EXIT_USAGE, "usage error" },
	[ML_ERR_DATA] = { ML_EXIT_DATAERR, "data error" },
	[ML_ERR_NOINPUT] = { ML_EXIT_NOINPUT, "cannot open input" },
	[ML_ERR_UNAVAILABLE] = { ML_EXIT_UNAVAILABLE, "unavailable" },
	[ML_ERR_INTERNAL] = { ML_EXIT_SOFTWARE, "internal error" },
	[ML_ERR_IO] = { ML_EXIT_IOERR, "I/O error" },
	[ML_ERR_TEMPFAIL] = { ML_EXIT_TEMPFAIL, "temporary failure" },
	[ML_ERR_CONFIG] = { ML_EXIT_CONFIG, "configuration error" },
};

int ml_exit_code(const struct ml_err *err)
{
	if (!err)
		return ML_EXIT_SOFTWARE;
	if ((unsigned)err->class >= sizeof class_table / sizeof class_table[0])
		return ML_EXIT_SOFTWARE;
	/* A failure reported without a class is still a failure. */
	if (err->class == ML_ERR_NONE)
		return err->msg[0] ? ML_EXIT_SOFTWARE : ML_EXIT_OK;
	return class_table[err->class].status;
}

const char *ml_errclass_name(enum ml_errclass class)
{
	if ((unsigned)class >= sizeof class_table / sizeof class_table[0])
		return "unknown error";
	return class_table[class].name;
}
